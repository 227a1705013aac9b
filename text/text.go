// Package text holds the tokenisation shared by the offline engines: the local embedder and the
// knowledge base must split text the same way, or their vectors and term overlaps disagree.
package text

import (
	"strings"
	"unicode"
)

// Words lower-cases s and splits it into runs of letters and digits; apostrophes inside a word
// are dropped ("don't" -> "dont").
func Words(s string) []string {
	var out []string
	var b strings.Builder
	flush := func() {
		if b.Len() > 0 {
			out = append(out, b.String())
			b.Reset()
		}
	}
	for _, r := range strings.ToLower(s) {
		switch {
		case unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.Is(unicode.Mn, r):
			b.WriteRune(r)
		case r == '\'' || r == '’':
			// joins contractions
		default:
			flush()
		}
	}
	flush()
	return out
}
