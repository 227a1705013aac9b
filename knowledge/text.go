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
		if stopwords[w] || len(w) < 2 && !isDigits(w) {
			continue
		}
		out = append(out, stem(w))
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

// stem strips common English inflections so "refunds", "refunded" and "refunding" meet. Light on
// purpose: over-stemming merges unrelated words.
func stem(w string) string {
	for _, r := range w {
		if r < 'a' || r > 'z' {
			return w
		}
	}
	switch {
	case len(w) > 4 && strings.HasSuffix(w, "ies"):
		w = w[:len(w)-3] + "y"
	case len(w) > 3 && (strings.HasSuffix(w, "xes") || strings.HasSuffix(w, "ches") || strings.HasSuffix(w, "shes") || strings.HasSuffix(w, "sses")):
		w = w[:len(w)-2]
	case len(w) > 3 && strings.HasSuffix(w, "s") && !strings.HasSuffix(w, "ss") && !strings.HasSuffix(w, "us") && !strings.HasSuffix(w, "is"):
		w = w[:len(w)-1]
	case len(w) > 5 && strings.HasSuffix(w, "ing"):
		w = undouble(w[:len(w)-3])
	case len(w) > 4 && strings.HasSuffix(w, "ed") && !strings.HasSuffix(w, "eed"):
		w = undouble(w[:len(w)-2])
	}
	if len(w) > 4 && strings.HasSuffix(w, "e") && !strings.HasSuffix(w, "ee") {
		w = w[:len(w)-1]
	}
	return w
}

func undouble(w string) string {
	n := len(w)
	if n >= 3 && w[n-1] == w[n-2] && !strings.ContainsRune("aeiouls", rune(w[n-1])) {
		return w[:n-1]
	}
	return w
}

var stopwords = setOf(
	"a", "an", "the", "and", "or", "but", "if", "so", "of", "to", "in", "on", "at", "for", "with",
	"by", "from", "about", "into", "as", "is", "are", "was", "were", "be", "been", "being", "am",
	"do", "does", "did", "done", "have", "has", "had", "i", "me", "my", "mine", "you", "your",
	"yours", "we", "us", "our", "it", "its", "this", "that", "these", "those", "there", "here",
	"they", "them", "their", "he", "him", "his", "she", "her", "can", "could", "would", "should",
	"will", "shall", "may", "might", "must", "im", "ive", "id", "youre", "just", "also", "not",
	"please", "hi", "hello", "hey", "thanks", "thank", "some", "any", "get", "got", "then", "than",
	"what", "when", "where", "which", "who", "why", "how", "there", "want", "know", "need", "way",
	"there", "all", "no", "yes", "too", "very", "out", "up", "one",
)

func setOf(ws ...string) map[string]bool {
	m := make(map[string]bool, len(ws))
	for _, w := range ws {
		m[w] = true
	}
	return m
}

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
