package bot

import (
	"regexp"
	"strings"
	"unicode"

	"github.com/batonhq/baton/intents"
)

var (
	yesReplies = set("yes", "yes please", "yeah", "yea", "yep", "yup", "sure", "ok", "okay", "ok please", "please",
		"please do", "go ahead", "y", "absolutely", "yes thanks", "yes thank you", "that would be great", "sounds good",
		"definitely", "of course", "yes pls", "pls", "ja", "si", "oui")
	noReplies = set("no", "no thanks", "no thank you", "nope", "nah", "not now", "n", "no need", "i'm fine", "im fine",
		"not yet", "no it's fine", "no its fine", "maybe later", "all good", "no that's all")
	questionStart = regexp.MustCompile(`(?i)^\s*(what|what's|whats|when|where|why|how|who|which|can|could|do|does|did|is|are|was|were|will|would|should|may|might|have|has|any|wat|wen|hw)\b`)
	// A message about the customer's own case: possessives, requests and things that happened
	// to them. A general question ("can I return shoes?") is not.
	personal = []*regexp.Regexp{
		regexp.MustCompile(`(?i)\b(my|our)\s+\p{L}`),
		regexp.MustCompile(`(?i)\b(i|we)\s*(really\s+|just\s+)?(want|need|would like|'d like|wanna|have to|must)\b`),
		regexp.MustCompile(`(?i)\b(i'd|id|we'd)\s+like\b`),
		regexp.MustCompile(`(?i)^\s*(please\s+)?(cancel|change|update|refund|return|track|send|fix|stop|close|delete|resend|check)\b`),
		regexp.MustCompile(`(?i)\b(i|we)\s+(have\s+|haven't\s+|havent\s+|had\s+|just\s+|never\s+|still\s+|already\s+)?(ordered|paid|bought|received|got|was charged|were charged|returned|sent|placed|booked|lost|broke)\b`),
		regexp.MustCompile(`(?i)\b(hasn't|hasnt|has not|didn't|didnt|never|still not|not yet)\s+(arrived|come|came|shipped|been|received|delivered)`),
		// A request put as a question: "can you call me back?", not "can you tell me …?".
		regexp.MustCompile(`(?i)\b(can|could|would|will)\s+(you|someone|somebody|anyone)\s+(please\s+)?(call|phone|ring|email|text|contact|cancel|change|send|refund|check|update|fix|help)\b`),
	}
	// A request to act on the customer's own case, as opposed to a question about it.
	requests = []*regexp.Regexp{
		regexp.MustCompile(`(?i)\bwhere('s|s| is| are)\s+(my|our)\b`),
		regexp.MustCompile(`(?i)\b(i|we)\s*(really\s+|just\s+)?(want|need|would like|'d like|wanna)\s+(to\s+)?(a\s+|an\s+|my\s+)?(cancel|change|return|refund|update|track|speak|talk|report|close|delete|move|send|get my|have my|know where|replacement|exchange)`),
		regexp.MustCompile(`(?i)^\s*(please\s+)?(cancel|change|update|refund|track|fix|stop|close|delete|resend|check)\b`),
		regexp.MustCompile(`(?i)\b(can|could|would|will)\s+(you|someone|somebody|anyone)\s+(please\s+)?(call|phone|ring|email|text|contact|cancel|change|send|refund|check|update|fix)\b`),
		regexp.MustCompile(`(?i)\b(hasn't|hasnt|has not|didn't|didnt|never|still not|not yet)\s+(arrived|come|came|shipped|been delivered|received|delivered)`),
	}
	whyAsked      = regexp.MustCompile(`(?i)\bwhy\s+(do|would|should|d)\s*(you|u|ya)\s+(need|want|ask)|\bwhat\s+do\s+you\s+need\s+(it|that|this|my\s+\w+)\s+for\b`)
	backReference = regexp.MustCompile(`(?i)\b(that|it|this|those|them|they|there)\b`)
	// Words that say nothing beyond the details a message carries ("my email is …").
	detailFiller = set("my", "it", "its", "it's", "is", "the", "number", "no", "nr", "order", "email", "e-mail", "mail",
		"address", "phone", "mobile", "name", "here", "you", "go", "sure", "ok", "okay", "yes", "thanks", "thank",
		"this", "that", "and", "a", "an", "i", "am", "i'm", "im", "oh", "sorry", "of", "for", "was", "are", "in", "on",
		"there", "please", "pls", "id", "code", "zip", "postcode", "sorry,", "hi", "hey", "hello")
)

func set(items ...string) map[string]bool {
	m := make(map[string]bool, len(items))
	for _, s := range items {
		m[s] = true
	}
	return m
}

// normalise lower-cases a short reply and drops punctuation and emoji around words.
func normalise(s string) string {
	s = strings.ToLower(strings.TrimSpace(s))
	s = strings.Map(func(r rune) rune {
		if unicode.IsLetter(r) || unicode.IsDigit(r) || r == '\'' || r == ' ' {
			return r
		}
		if r == '’' {
			return '\''
		}
		return ' '
	}, s)
	return strings.Join(strings.Fields(s), " ")
}

// kindOf tells what a customer message is, from its text and what was understood of it.
func kindOf(text string, a intents.Analysis) MessageKind {
	n := normalise(text)
	switch {
	case yesReplies[n]:
		return KindYes
	case noReplies[n]:
		return KindNo
	}
	if len(a.Details) > 0 && !strings.Contains(text, "?") && detailOnly(text, a.Details) {
		return KindDetail
	}
	words := len(strings.Fields(n))
	question := strings.Contains(text, "?") || questionStart.MatchString(text)
	// Small talk is short; a longer question goes to the knowledge base even when the
	// classifier leans to small talk ("do you take apple pay?" is not a goodbye).
	if !a.OutOfScope && isBuiltinTalk(a.Intent) && (words <= 2 || a.Score >= 0.5 && (a.Intent == "are_you_a_bot" || !question && words <= 8)) {
		return KindSmallTalk
	}
	if question {
		return KindQuestion
	}
	return KindStatement
}

// detailOnly reports whether a message is little more than its details.
func detailOnly(text string, ds []intents.Detail) bool {
	rest := []byte(text)
	for i := len(ds) - 1; i >= 0; i-- {
		d := ds[i]
		if d.Start >= 0 && d.End <= len(rest) && d.Start <= d.End {
			rest = append(rest[:d.Start:d.Start], rest[d.End:]...)
		}
	}
	n := 0
	for _, w := range strings.Fields(normalise(string(rest))) {
		if !detailFiller[w] {
			n++
		}
	}
	return n == 0
}

// isRequest reports whether a message asks Baton to act on the customer's own case.
func isRequest(text string, _ intents.Analysis) bool {
	for _, re := range requests {
		if re.MatchString(text) {
			return true
		}
	}
	return false
}

// isPersonal reports whether a message is about the customer's own case.
func isPersonal(text string, a intents.Analysis) bool {
	for _, re := range personal {
		if re.MatchString(text) {
			return true
		}
	}
	for _, d := range a.Details {
		if d.Type != intents.DetailName && d.Type != intents.DetailDate && d.Type != intents.DetailTime && d.Type != intents.DetailMoney {
			return true
		}
	}
	return false
}

// joinedQuestion is where a second question joined by "and" starts: "who's your insurer and
// what's the deadline for a claim".
var joinedQuestion = regexp.MustCompile(`(?i),?\s+and\s+(what|what's|whats|how|when|where|who|who's|which|why|can i|can you|do i|do you|is there|are there|is it|does it)\b`)

// startsQuestion is a question's first words.
var startsQuestion = regexp.MustCompile(`(?i)^(what|what's|whats|how|when|where|who|who's|whos|which|why|can|could|do|does|did|is|are|will|would|should|may)\b`)

// asksToKnow starts a request for information that is not worded as a question ("also tell me
// the price"); other words after the last question mark are its context ("…on new year's eve?
// we want to ride to the fireworks"), not a question of their own.
var asksToKnow = regexp.MustCompile(`(?i)^(also,?\s+|and\s+|plus\s+)?(please\s+)?(tell me|let me know|explain|i('d| would) like to know|i (want|need) to know|i('m| am) wondering|i wonder)\b`)

// WithoutStory returns a question without the story told after it ("what's the range of your
// e-scooters? I want to ride to Eastfield and back, about 30 km"), and whether there was one:
// four or more words after the last question mark. The story may help ("…?? it says
// reservations are disabled") or drown the question, so both are looked up.
func WithoutStory(q string) (string, bool) {
	i := strings.LastIndexByte(q, '?')
	if i < 0 || len(strings.Fields(q[i+1:])) < 4 || len(strings.Fields(q[:i])) < 3 {
		return q, false
	}
	return strings.TrimSpace(q[:i+1]), true
}

// splitJoined splits one sentence that asks two questions joined by "and" — only when it
// starts as a question itself and both halves have at least three words.
func splitJoined(p string) []string {
	if !startsQuestion.MatchString(p) {
		return []string{p}
	}
	loc := joinedQuestion.FindStringIndex(p)
	if loc == nil {
		return []string{p}
	}
	first, second := strings.TrimSpace(p[:loc[0]]), strings.TrimSpace(p[loc[0]:])
	second = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(strings.TrimPrefix(second, ",")), "and"))
	if len(strings.Fields(first)) < 3 || len(strings.Fields(second)) < 3 {
		return []string{p}
	}
	return []string{first, second}
}

// Questions splits a message into the questions it asks, so "how long does shipping take?
// and can I pay by invoice?" gets both answered. A message that is one question (or none
// marked) is returned whole.
func Questions(text string) []string {
	var parts []string
	start := 0
	for i, r := range text {
		if r == '?' {
			// "??" ends one question; a part without letters belongs to the one before.
			if p := strings.TrimSpace(text[start : i+1]); strings.IndexFunc(p, unicode.IsLetter) >= 0 {
				parts = append(parts, p)
				start = i + 1
			} else if len(parts) > 0 {
				parts[len(parts)-1] += p
				start = i + 1
			}
		}
	}
	if rest := strings.TrimSpace(text[start:]); rest != "" {
		if len(parts) > 0 && len(strings.Fields(rest)) >= 4 && (startsQuestion.MatchString(rest) || asksToKnow.MatchString(rest)) {
			parts = append(parts, rest)
		} else if len(parts) > 0 {
			parts[len(parts)-1] += " " + rest
		} else {
			parts = append(parts, rest)
		}
	}
	var real []string
	for _, p := range parts {
		for _, q := range splitJoined(p) {
			if len(strings.Fields(q)) >= 3 {
				real = append(real, q)
			}
		}
	}
	if len(real) < 2 {
		return []string{text}
	}
	// "… before my contract ends? do you charge for that?": a short follow-up that points back
	// is asked together with the question it points to.
	for i := len(real) - 1; i > 0; i-- {
		if len(strings.Fields(real[i])) <= 8 && backReference.MatchString(real[i]) {
			real[i-1] += " " + real[i]
			real = append(real[:i], real[i+1:]...)
		}
	}
	if len(real) < 2 {
		return []string{text}
	}
	// Context before the first question belongs to it ("I'm moving house. How much notice…?").
	return real
}
