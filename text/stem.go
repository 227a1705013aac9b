package text

import "strings"

// Stem strips common English inflections from an ASCII word so "refunds", "refunded" and
// "refunding" meet. Deliberately light: over-stemming merges unrelated words.
func Stem(w string) string {
	for _, r := range w {
		if r < 'a' || r > 'z' {
			return w
		}
	}
	switch {
	case len(w) > 4 && strings.HasSuffix(w, "ies"):
		w = w[:len(w)-3] + "y"
	case len(w) > 4 && strings.HasSuffix(w, "sses"):
		w = w[:len(w)-2]
	case len(w) > 3 && (strings.HasSuffix(w, "xes") || strings.HasSuffix(w, "ches") ||
		strings.HasSuffix(w, "shes") || strings.HasSuffix(w, "zes")):
		w = w[:len(w)-2]
	case len(w) > 3 && strings.HasSuffix(w, "s") && !strings.HasSuffix(w, "ss") &&
		!strings.HasSuffix(w, "us") && !strings.HasSuffix(w, "is"):
		w = w[:len(w)-1]
	case len(w) > 5 && strings.HasSuffix(w, "ing") && hasVowel(w[:len(w)-3]):
		w = undouble(w[:len(w)-3])
	case len(w) > 4 && strings.HasSuffix(w, "ed") && !strings.HasSuffix(w, "eed") && hasVowel(w[:len(w)-2]):
		w = undouble(w[:len(w)-2])
	}
	// A final silent e: "change", "changed" and "changing" all become "chang".
	if len(w) > 4 && strings.HasSuffix(w, "e") && !strings.HasSuffix(w, "ee") {
		w = w[:len(w)-1]
	}
	return w
}

// hasVowel keeps "string" and "red" whole: a stem needs a vowel.
func hasVowel(w string) bool { return strings.ContainsAny(w, "aeiouy") }

// undouble turns "shipp" (from "shipping") into "ship".
func undouble(w string) string {
	n := len(w)
	if n >= 3 && w[n-1] == w[n-2] && !strings.ContainsRune("aeiouls", rune(w[n-1])) {
		return w[:n-1]
	}
	return w
}

// IsStopword reports function words and greetings that say nothing about a message's topic.
func IsStopword(w string) bool { return stopwords[w] }

var stopwords = SetOf(
	"a", "an", "the", "and", "or", "but", "if", "so", "of", "to", "in", "on", "at", "for", "with",
	"by", "from", "about", "into", "as", "is", "are", "was", "were", "be", "been", "being", "am",
	"do", "does", "did", "done", "have", "has", "had", "i", "me", "my", "mine", "you", "your",
	"yours", "we", "us", "our", "it", "its", "this", "that", "these", "those", "there", "here",
	"they", "them", "their", "he", "him", "his", "she", "her", "can", "could", "would", "should",
	"will", "shall", "may", "might", "must", "im", "ive", "id", "youre", "just", "also",
	"please", "hi", "hello", "hey", "thanks", "thank", "some", "any", "get", "got", "then", "than",
)

// SetOf returns the set of ws.
func SetOf(ws ...string) map[string]bool {
	m := make(map[string]bool, len(ws))
	for _, w := range ws {
		m[w] = true
	}
	return m
}
