package knowledge

import (
	"regexp"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	txt "github.com/batonhq/baton/text"
)

// terms returns the stemmed content words of text: what two texts must share to be about the
// same thing.
func terms(text string) []string {
	var out []string
	for _, w := range txt.Words(text) {
		if txt.IsStopword(w) || moreStopwords[w] || len(w) < 2 && !isDigits(w) {
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

// fillerWords carry no topic: greetings, politeness and the scaffolding of a chatty question
// ("I was just wondering, could you maybe tell me a bit about…"). Confidence and answer
// extraction look at a question's content words only, so that the way a customer phrases it
// does not change how sure the bot is.
var fillerWords = txt.SetOf(
	"hi", "hello", "hey", "hiya", "howdy", "greetings", "morning", "afternoon", "evening", "dear",
	"team", "sir", "madam", "folks", "guys", "please", "pls", "plz", "thanks", "thank", "thx",
	"cheers", "regards", "kind", "kindly", "best", "wondering", "wonder", "wondered", "curious",
	"tell", "explain", "maybe", "perhaps", "bit", "little", "lot", "just", "quick", "question",
	"questions", "ask", "asking", "know", "want", "wanted", "need", "needed", "help", "like",
	"kinds", "sort", "sorts", "type", "types", "actually", "really", "basically", "ok", "okay",
	"sure", "anyone", "someone", "somebody", "something", "anything", "thing", "things", "info",
	"information", "details", "whats", "hows", "wheres", "whens", "dont", "doesnt", "didnt",
	"cant", "cannot", "wont", "isnt", "arent", "wasnt", "havent", "still", "now", "again",
	"already", "ever", "even", "possible", "able", "happen", "happens", "going", "go",
	"said", "say", "says", "get", "guess", "think", "well", "oh", "um", "hmm", "lol", "pretty",
	"sorry", "bother", "bothering", "usually", "normally", "generally", "typically", "exactly",
	"much", "many", "lots", "good", "great", "nice", "awesome", "hope", "hoping", "let", "asap",
	"wanna", "gonna", "appreciate", "appreciated", "anyway", "btw", "hopefully",
	// "where can I find…", "what should I do": the frame of a question, not its topic.
	"find", "wat", "wot", "u", "ur", "do", "does",
	// Particles and fillers any text uses in passing ("switch over", "looking for"): shared
	// with an article, they made an unrelated question look covered.
	"over", "looking", "look", "got", "right", "surely", "also", "too", "currently",
)

// situationTime is when something happens to the customer ("next month", "since Monday"): the
// story around a question, not what it asks about. "Ten days ago" is kept: it may be what a
// rule depends on.
var situationTime = regexp.MustCompile(`(?i)\b(next|last|this|past|coming) (week|weekend|month|year|night|morning|monday|tuesday|wednesday|thursday|friday|saturday|sunday)\b|` +
	`\bsince (yesterday|monday|tuesday|wednesday|thursday|friday|saturday|sunday|last \w+)\b`)

// questionFrame is the scaffolding of a question about a duration ("how long does … take"):
// it says what kind of fact is asked for (extraction's cues read it from the question), not
// what the fact is about, and matched "How long delivery takes abroad" for any "how long".
var questionFrame = regexp.MustCompile(`(?i)\bhow\s+long\b|\b(take|takes|taking|took)\b`)

var howLong = regexp.MustCompile(`(?i)\bhow\s+long\b`)

// stripFrame removes questionFrame from a question for retrieval and coverage.
func stripFrame(q string) string {
	if !howLong.MatchString(q) {
		return q
	}
	return questionFrame.ReplaceAllString(q, " ")
}

// reference is an account, order or ticket reference quoted in passing ("CB-448812",
// "FR-20931"): it identifies the customer's case, and no article is about it.
var reference = regexp.MustCompile(`\b[A-Za-z]{1,5}[-#]?\d{4,}\b`)

// qterm is a content word of a question: the word as typed and its stem.
type qterm struct {
	word, stem string
	also       []string // stems of synonyms the question also used
	// known: the articles use this word themselves, so its synonyms do not count for it — they
	// bridge a customer's word the articles never use, and otherwise only favour other passages.
	known bool
}

// knownTerms marks the terms whose stems the articles use (nil known: none).
func knownTerms(q []qterm, known map[string]bool) []qterm {
	for i := range q {
		q[i].known = known[q[i].stem]
	}
	return q
}

// questionTerms returns the distinct content words of a question: no stopwords, no filler.
func questionTerms(text string) []qterm {
	var out []qterm
	seen := map[string]bool{}
	text = situationTime.ReplaceAllString(stripFrame(text), " ")
	text = reference.ReplaceAllString(text, " ")
	for _, w := range txt.Words(text) {
		if txt.IsStopword(w) || moreStopwords[w] || fillerWords[w] || len(w) < 2 && !isDigits(w) {
			continue
		}
		s := stem(w)
		if seen[s] {
			continue
		}
		// "relocating … moving": one concept, counted once, matched by either word.
		if i := slices.IndexFunc(out, func(t qterm) bool { return slices.Contains(synonymsOf[t.stem], s) }); i >= 0 {
			out[i].also = append(out[i].also, s)
			seen[s] = true
			continue
		}
		seen[s] = true
		out = append(out, qterm{word: w, stem: s})
	}
	return out
}

// vocab is the words of a text, as typed and stemmed, for spelling-tolerant matching.
type vocab struct {
	stems map[string]bool
	words []string // distinct words of at least typoMinLen letters
}

// typoMinLen is the shortest word matched with one edit: shorter words are too often a
// different word one letter away ("cost", "cast").
const typoMinLen = 5

// TypoWeight is what a misspelled match (one edit away) counts, against 1 for an exact one.
const typoWeight = 0.7

func newVocab(text string) vocab {
	v := vocab{stems: map[string]bool{}}
	seen := map[string]bool{}
	words := txt.Words(text)
	// "pick-up" is also "pickup", "e-mail" also "email".
	if strings.Contains(text, "-") {
		for _, m := range hyphenated.FindAllString(text, -1) {
			words = append(words, strings.ToLower(strings.ReplaceAll(m, "-", "")))
		}
	}
	for _, w := range words {
		v.stems[stem(w)] = true
		if len(w) >= typoMinLen-1 && !seen[w] {
			seen[w] = true
			v.words = append(v.words, w)
		}
	}
	return v
}

var hyphenated = regexp.MustCompile(`\pL+-\pL+`)

// match says how well t occurs in v: 1 exactly (same stem), synonymWeight as a synonym,
// typoWeight one edit away (a word of at least typoMinLen letters), else 0.
func (v vocab) match(t qterm) float64 {
	if v.stems[t.stem] || slices.ContainsFunc(t.also, func(s string) bool { return v.stems[s] }) {
		return 1
	}
	for _, o := range synonymsOf[t.stem] {
		if v.stems[o] && !t.known {
			return synonymWeight
		}
	}
	if len(t.word) < typoMinLen || isDigits(t.word) {
		return 0
	}
	for _, w := range v.words {
		if oneEdit(t.word, w) {
			return typoWeight
		}
	}
	return 0
}

// oneEdit reports whether a and b differ by at most one insertion, deletion, substitution or
// transposition of adjacent letters (optimal string alignment distance ≤ 1), in linear time.
func oneEdit(a, b string) bool {
	la, lb := len(a), len(b)
	if la-lb > 1 || lb-la > 1 {
		return false
	}
	i := 0
	for i < la && i < lb && a[i] == b[i] {
		i++
	}
	if i == la && i == lb {
		return true
	}
	switch {
	case la == lb:
		if a[i+1:] == b[i+1:] {
			return true // substitution
		}
		return i+1 < la && a[i] == b[i+1] && a[i+1] == b[i] && a[i+2:] == b[i+2:] // transposition
	case la > lb:
		return a[i+1:] == b[i:]
	default:
		return a[i:] == b[i+1:]
	}
}
