package knowledge

import (
	txt "github.com/batonhq/baton/text"
	"strings"
	"unicode"
	"unicode/utf8"
)

// terms returns the stemmed content words of text: what two texts must share to be about the
// same thing.
func terms(text string) []string {
	var out []string
	for _, w := range txt.Words(text) {
		if txt.IsStopword(w) || moreStopwords[w] || len(w) < 2 && !isDigits(w) {
			continue
		}
		out = append(out, txt.Stem(w))
	}
	return out
}

func termSet(text string) map[string]bool {
	m := map[string]bool{}
	for _, t := range terms(text) {
		m[t] = true
	}
	return m
}

func isDigits(s string) bool {
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return s != ""
}

// moreStopwords are words that, beyond the shared stopwords, say nothing about which article
// answers a question: question words, negation and filler.
var moreStopwords = txt.SetOf(
	"not", "what", "when", "where", "which", "who", "why", "how", "want", "know", "need", "way",
	"all", "no", "yes", "too", "very", "out", "up", "one",
)

// sentences splits text into sentences at ., ! or ? followed by white space, and at line
// breaks between list items; each keeps its punctuation.
func sentences(text string) []string {
	var out []string
	for _, line := range strings.Split(text, "\n") {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		start := 0
		for i := 0; i < len(line); i++ {
			c := line[i]
			if c != '.' && c != '!' && c != '?' {
				continue
			}
			// end of sentence: punctuation, then space and an upper-case letter, digit or opener
			j := i + 1
			for j < len(line) && (line[j] == '.' || line[j] == '!' || line[j] == '?' || line[j] == '"' || line[j] == ')') {
				j++
			}
			if j >= len(line) || line[j] != ' ' {
				continue
			}
			k := j
			for k < len(line) && line[k] == ' ' {
				k++
			}
			if k < len(line) {
				r, _ := utf8.DecodeRuneInString(line[k:])
				if !unicode.IsUpper(r) && !unicode.IsDigit(r) && r != '"' && r != '(' && r != '*' && r != '[' {
					continue
				}
			}
			if s := strings.TrimSpace(line[start:j]); s != "" {
				out = append(out, s)
			}
			start = k
			i = k - 1
		}
		if s := strings.TrimSpace(line[start:]); s != "" {
			out = append(out, s)
		}
	}
	return out
}

// clip shortens s to at most n runes at a word boundary, marking the cut with "…".
func clip(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	rs := []rune(s)[:n]
	cut := strings.LastIndexFunc(string(rs), unicode.IsSpace)
	if cut < n/2 {
		cut = len(string(rs))
	}
	return strings.TrimSpace(string(rs)[:cut]) + "…"
}
