package handoff

import (
	"encoding/json"
	"fmt"
	"maps"
	"math"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/batonhq/baton"
)

// SummaryInput is what a handoff package is made from: the conversation as the turn that
// decided the handoff sees it. The customer messages' Meta carries what the bot understood
// ("intent", "sentiment": {"score"}, "details": [{"type","value","text","valid","problem"}],
// "language"); the bot's messages carry their citations and Meta "actions" and "requested".
type SummaryInput struct {
	Reason baton.HandoffReason
	// Intent is the intent being served; empty means State.OpenIntent, else the intent of the
	// newest trigger message.
	Intent string
	// Trigger holds the customer messages of the turn that decided the handoff, oldest first.
	Trigger []baton.Message
	// History holds the episode's earlier messages (customer, bot, agent), oldest first.
	History []baton.Message
	// Details are the validated details (the conversation's gathered details).
	Details map[string]string
	// Required lists the detail types the intent needs, so a missing one can be named.
	Required []string
	// Labels names detail types for people ("order_number" → "order number"); a type without
	// a label is shown with spaces for underscores.
	Labels map[string]string
	// State is the bot's state: awaited and invalid details, attempts, answered articles,
	// language.
	State baton.ConversationState
	// Sentiment is the conversation's sentiment trend now, in [-1, 1].
	Sentiment float64
}

// Package is what an agent reads instead of the transcript.
type Package struct {
	Reason baton.HandoffReason `json:"reason"`
	Intent string              `json:"intent,omitempty"`
	// Issue is the customer's problem in one or two sentences of their own words, after the
	// intent's name.
	Issue string `json:"issue"`
	// Tried lists what the bot did: answers with their articles, questions asked, offers.
	Tried     []string        `json:"tried"`
	Details   []Detail        `json:"details"`
	Sentiment SentimentReport `json:"sentiment"`
	Language  string          `json:"language,omitempty"`
	NextStep  string          `json:"next_step"`
	// Source says who wrote Issue, Tried and NextStep: "local" (extractive) or "llm".
	Source string `json:"source"`
}

// Detail is one detail of the package: a validated value, a value that did not validate, or
// a required one that is still missing (Value empty).
type Detail struct {
	Type    string `json:"type"`
	Label   string `json:"label"`
	Value   string `json:"value,omitempty"`
	Valid   bool   `json:"valid"`
	Problem string `json:"problem,omitempty"`
}

// SentimentReport is how the customer feels now and which way it is going.
type SentimentReport struct {
	Score float64 `json:"score"`
	Label string  `json:"label"` // negative | neutral | positive
	Trend string  `json:"trend"` // worsening | steady | improving
}

// Sentiment labels and trends.
const (
	Negative  = "negative"
	Neutral   = "neutral"
	Positive  = "positive"
	Worsening = "worsening"
	Steady    = "steady"
	Improving = "improving"
)

// Package sources.
const (
	SourceLocal = "local"
	SourceLLM   = "llm"
)

// Text renders the package for a plain-text view (the conversation's summary field, a
// notification): one line per part.
func (p Package) Text() string {
	var b strings.Builder
	b.WriteString("Issue: " + p.Issue)
	if len(p.Tried) > 0 {
		b.WriteString("\nTried: " + strings.Join(p.Tried, "; "))
	}
	if len(p.Details) > 0 {
		parts := make([]string, 0, len(p.Details))
		for _, d := range p.Details {
			parts = append(parts, d.String())
		}
		b.WriteString("\nDetails: " + strings.Join(parts, "; "))
	}
	fmt.Fprintf(&b, "\nSentiment: %s, %s (%.2f)", p.Sentiment.Label, p.Sentiment.Trend, p.Sentiment.Score)
	if p.Language != "" {
		b.WriteString("\nLanguage: " + p.Language)
	}
	b.WriteString("\nReason: " + humanise(string(p.Reason)))
	b.WriteString("\nNext step: " + p.NextStep)
	return b.String()
}

// String renders one detail: "order number A-1234", "email “ana@” (not valid: …)",
// "order number missing".
func (d Detail) String() string {
	switch {
	case d.Value == "":
		return d.Label + " missing"
	case d.Valid:
		return d.Label + " " + d.Value
	case d.Problem != "":
		return fmt.Sprintf("%s “%s” (not valid: %s)", d.Label, d.Value, d.Problem)
	}
	return fmt.Sprintf("%s “%s” (not valid)", d.Label, d.Value)
}

// maxIssue bounds the issue's length in runes; a longer message is cut at a word.
const maxIssue = 400

// Summarize builds the handoff package extractively: no model, the customer's own words.
//
// The issue is the intent's name and the trigger messages' sentences that carry the most
// content words, in their order, added until at least half the trigger's content words are
// kept (usually one or two sentences). What the customer said of the intent earlier is quoted
// first (the message that opened it; or, when the trigger is not about the intent — a reply
// to a question, "a person, please" — the last two); with no intent, a trigger without
// content borrows the customer's last words that had some.
func Summarize(in SummaryInput) Package {
	intent := servedIntent(in)
	line, quoted := issue(in, intent)
	p := Package{
		Reason:    in.Reason,
		Intent:    intent,
		Issue:     line,
		Tried:     tried(in),
		Details:   details(in, intent),
		Sentiment: sentimentReport(in),
		Language:  language(in),
		Source:    SourceLocal,
	}
	t := topic(intent, quoted)
	if intent == "" && in.Reason == baton.HandoffCustomerRequest {
		t = "" // the words of "I want a person NOW" name no topic
	}
	p.NextStep = nextStep(in.Reason, t, p.Details)
	return p
}

func servedIntent(in SummaryInput) string {
	if in.Intent != "" {
		return in.Intent
	}
	if in.State.OpenIntent != "" {
		return in.State.OpenIntent
	}
	// The newest intent the customer raised in the episode.
	for _, msgs := range [][]baton.Message{in.Trigger, in.History} {
		for _, m := range slices.Backward(msgs) {
			if it := metaString(m.Meta, "intent"); m.Author == baton.AuthorCustomer && it != "" && !chatter[it] && it != "out_of_scope" {
				return it
			}
		}
	}
	return ""
}

// chatter are intents that carry no issue of their own.
var chatter = map[string]bool{"greeting": true, "goodbye": true, "thanks": true, "are_you_a_bot": true, "talk_to_human": true}

// issue returns the issue line and the customer's words quoted in it.
func issue(in SummaryInput, intent string) (line, quoted string) {
	words := customerWords(in.Trigger)
	// What the customer said of the intent before the trigger (two content words at least:
	// "it's 12" answered a question, it did not state the issue). When the trigger is not
	// about the intent ("I already told you!", "a person, please"), the last two such
	// messages; otherwise the one that opened it.
	var said []baton.Message
	for _, m := range in.History {
		if intent != "" && m.Author == baton.AuthorCustomer && metaString(m.Meta, "intent") == intent && len(contentWords(m.Text)) >= 2 {
			said = append(said, m)
		}
	}
	if slices.ContainsFunc(in.Trigger, func(m baton.Message) bool { return metaString(m.Meta, "intent") == intent }) {
		said = said[:min(1, len(said))]
	} else {
		said = said[max(0, len(said)-2):]
	}
	origin := customerWords(said)
	if words == "" && origin == "" {
		// The trigger was only a request for a person and nothing opened an intent: the issue
		// is the customer's last words with content.
		var last []baton.Message
		for _, m := range in.History {
			if m.Author == baton.AuthorCustomer && len(contentWords(m.Text)) > 0 {
				last = append(last, m)
			}
		}
		words = customerWords(last[max(0, len(last)-2):])
	}
	var quote string
	switch {
	case origin != "" && words != "":
		quote = "“" + origin + "”, then: “" + words + "”"
	case origin != "":
		quote = "“" + origin + "”"
	case words != "":
		quote = "“" + words + "”"
	}
	name := ""
	if intent != "" && intent != "out_of_scope" {
		name = capitalise(humanise(intent))
	}
	switch {
	case name != "" && quote != "":
		return name + ": " + quote, origin + " " + words
	case quote != "":
		return quote, origin + " " + words
	case name != "":
		return name + " (the customer gave no further words)", ""
	}
	return "The customer asked for a person without saying why.", ""
}

// customerWords is the telling part of messages: their sentences with content, the richest
// first, until half their content words are kept, shown in the customer's order.
func customerWords(msgs []baton.Message) string {
	type sentence struct {
		text  string
		words []string
	}
	var all []sentence
	total := map[string]bool{}
	for _, m := range msgs {
		for _, s := range sentences(m.Text) {
			ws := contentWords(s)
			if len(ws) == 0 {
				continue // "Hi!", "Thanks", "a person please"
			}
			all = append(all, sentence{text: s, words: ws})
			for _, w := range ws {
				total[w] = true
			}
		}
	}
	if len(all) == 0 {
		return ""
	}
	// Greedy cover: each pick is the sentence that adds the most content words not yet kept.
	kept, covered := map[int]bool{}, map[string]bool{}
	size := 0
	for {
		best, gain := -1, 0
		for i, s := range all {
			if kept[i] {
				continue
			}
			g := 0
			for _, w := range s.words {
				if !covered[w] {
					g++
				}
			}
			if g > gain {
				best, gain = i, g
			}
		}
		if best < 0 {
			break
		}
		n := utf8.RuneCountInString(all[best].text)
		if len(covered)*2 >= len(total) && (len(kept) >= 2 || size+n > maxIssue/2) {
			break
		}
		kept[best] = true
		size += n + 1
		for _, w := range all[best].words {
			covered[w] = true
		}
	}
	var parts []string
	for i, s := range all {
		if kept[i] {
			parts = append(parts, s.text)
		}
	}
	return clip(strings.Join(parts, " "), maxIssue)
}

// sentences splits text at sentence ends and line breaks, keeping the punctuation.
func sentences(text string) []string {
	var out []string
	var cur strings.Builder
	flush := func() {
		if s := strings.Join(strings.Fields(cur.String()), " "); s != "" {
			out = append(out, s)
		}
		cur.Reset()
	}
	rs := []rune(text)
	for i, r := range rs {
		if r == '\n' {
			flush()
			continue
		}
		cur.WriteRune(r)
		if (r == '.' || r == '!' || r == '?') && (i+1 == len(rs) || unicode.IsSpace(rs[i+1])) {
			flush()
		}
	}
	flush()
	return out
}

// contentWords are the words of s that say something: lower-cased, without stopwords, the
// words of asking for a person, or greetings. Numbers and codes count ("A-1234").
func contentWords(s string) []string {
	var out []string
	for _, w := range words(s) {
		if !stopwords[w] && !filler[w] {
			out = append(out, w)
		}
	}
	return out
}

// ContentWords returns the distinct content words of s, lower-cased: the words a summary must
// keep (the share kept is how the package is evaluated).
func ContentWords(s string) []string {
	var out []string
	for _, w := range contentWords(s) {
		if !slices.Contains(out, w) {
			out = append(out, w)
		}
	}
	return out
}

// words splits s into lower-cased words; an email address, an order code ("A-1234") or a
// contraction stays one word.
func words(s string) []string {
	var out []string
	for _, w := range strings.FieldsFunc(strings.ToLower(s), func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsDigit(r) && !strings.ContainsRune("-'’@._", r)
	}) {
		if w = strings.Trim(w, "-'’._"); w != "" {
			out = append(out, strings.ReplaceAll(w, "’", "'"))
		}
	}
	return out
}

// filler are words of talking to the bot rather than of the issue.
var filler = setOf(`hi hello hey hiya thanks thank thx cheers please pls plz ok okay yes yeah no nope
	human person people agent someone somebody real representative rep operator staff talk speak
	chat connect transfer bot`)

// stopwords are English function words.
var stopwords = setOf(`a about above after again against all am an and any are aren't as at be because been
	before being below between both but by can can't cannot could couldn't did didn't do does
	doesn't doing don't down during each few for from further had hadn't has hasn't have haven't
	having he her here hers herself him himself his how i i'd i'll i'm i've if in into is isn't it
	it's its itself just let's me more most mustn't my myself nor not of off on once only or other
	ought our ours ourselves out over own same she should shouldn't so some such than that that's
	the their theirs them themselves then there there's these they this those through to too under
	until up very was wasn't we we're were weren't what what's when where which while who whom why
	will with won't would wouldn't you you're your yours yourself yourselves im ive dont cant wont
	get got also still already really want need like`)

func setOf(s string) map[string]bool {
	m := map[string]bool{}
	for _, w := range strings.Fields(s) {
		m[w] = true
	}
	return m
}

// tried lists what the bot did in the episode, oldest first; repeats are counted.
func tried(in SummaryInput) []string {
	var out []string
	count := map[string]int{}
	add := func(s string) {
		if count[s] == 0 {
			out = append(out, s)
		}
		count[s]++
	}
	cited := map[string]bool{}
	for _, m := range append(slices.Clone(in.History), in.Trigger...) {
		if m.Author != baton.AuthorBot || m.Visibility == baton.Internal {
			continue
		}
		for _, c := range m.Citations {
			key := c.Title
			if key == "" {
				key = fmt.Sprintf("article %d", c.ArticleID)
			}
			if !cited[key] {
				cited[key] = true
				if c.URL != "" {
					add(fmt.Sprintf("answered from “%s” (%s)", key, c.URL))
				} else {
					add(fmt.Sprintf("answered from “%s”", key))
				}
			}
		}
		for _, a := range metaStrings(m.Meta, "actions") {
			switch a {
			case "answer":
				if len(m.Citations) == 0 {
					add("answered without an article: “" + clip(strings.Join(strings.Fields(m.Text), " "), 80) + "”")
				}
			case "ask_detail":
				if req := metaString(m.Meta, "requested"); req != "" {
					add("asked for the " + label(in, req))
				} else {
					add("asked for details")
				}
			case "clarify":
				add("asked the customer to rephrase")
			case "offer_person":
				add("offered a person")
			case "no_answer", "out_of_scope":
				add("found no answer in the help centre")
			}
		}
	}
	for _, title := range in.State.Answered {
		if !cited[title] {
			cited[title] = true
			add(fmt.Sprintf("answered from “%s”", title))
		}
	}
	for i, s := range out {
		if n := count[s]; n > 1 {
			out[i] = fmt.Sprintf("%s (%d×)", s, n)
		}
	}
	if out == nil {
		out = []string{}
	}
	return out
}

// metaDetail is a detail as a message's Meta records it (intents.Detail's JSON form).
type metaDetail struct {
	Type    string `json:"type"`
	Value   string `json:"value"`
	Text    string `json:"text"`
	Valid   bool   `json:"valid"`
	Problem string `json:"problem"`
}

// details lists the validated details, then the last value the customer typed for each detail
// the bot refused (State.Invalid) and has not had validly since, then required details still
// missing.
func details(in SummaryInput, intent string) []Detail {
	var out []Detail
	for _, t := range slices.Sorted(maps.Keys(in.Details)) {
		if v := strings.TrimSpace(in.Details[t]); v != "" {
			out = append(out, Detail{Type: t, Label: label(in, t), Value: v, Valid: true})
		}
	}
	has := func(t string) bool {
		return slices.ContainsFunc(out, func(d Detail) bool { return d.Type == t })
	}
	for _, m := range slices.Backward(append(slices.Clone(in.History), in.Trigger...)) {
		if m.Author != baton.AuthorCustomer {
			continue
		}
		for _, d := range metaDetails(m.Meta) {
			if d.Valid || has(d.Type) {
				continue
			}
			value := d.Text
			if value == "" {
				value = d.Value
			}
			// Only a value the bot refused counts: a number in passing ("it's been 10
			// days") was extracted too, but was no attempt at an order number.
			if problem := in.State.Invalid[d.Type]; value != "" && problem != "" {
				out = append(out, Detail{Type: d.Type, Label: label(in, d.Type), Value: value, Problem: problem})
			}
		}
	}
	for _, t := range in.Required {
		if !has(t) {
			out = append(out, Detail{Type: t, Label: label(in, t), Problem: in.State.Invalid[t]})
		}
	}
	if out == nil {
		out = []Detail{}
	}
	return out
}

func label(in SummaryInput, t string) string {
	if l := in.Labels[t]; l != "" {
		return l
	}
	return humanise(t)
}

// trendAlpha weighs the newest message in the trend, as the conversation's trend does.
const trendAlpha = 0.3

// trendMargin is how far the trend must move from where it stood before the trigger to count
// as worsening or improving.
const trendMargin = 0.15

func sentimentReport(in SummaryInput) SentimentReport {
	now := clamp(in.Sentiment, -1, 1)
	r := SentimentReport{Score: math.Round(now*100) / 100, Label: sentimentLabel(now), Trend: Steady}
	// Where the trend stood before the trigger: the history's scores folded the same way.
	before, n := 0.0, 0
	for _, m := range in.History {
		if s, ok := metaScore(m); ok && m.Author == baton.AuthorCustomer {
			if n == 0 {
				before = s
			} else {
				before = trendAlpha*s + (1-trendAlpha)*before
			}
			n++
		}
	}
	if n == 0 {
		// No history: the trigger alone, its first message against the newest.
		var scores []float64
		for _, m := range in.Trigger {
			if s, ok := metaScore(m); ok {
				scores = append(scores, s)
			}
		}
		if len(scores) < 2 {
			return r
		}
		before = scores[0]
	}
	switch {
	case now < before-trendMargin:
		r.Trend = Worsening
	case now > before+trendMargin:
		r.Trend = Improving
	}
	return r
}

// sentimentLabel uses the sentiment package's cut-offs on a trend, which moves more slowly
// than a single message.
func sentimentLabel(s float64) string {
	switch {
	case s < -0.10:
		return Negative
	case s > 0.10:
		return Positive
	}
	return Neutral
}

// language is the customer's language code; "und" (too little text to tell) is no language.
func language(in SummaryInput) string {
	if l := in.State.Language; l != "" && l != "und" {
		return l
	}
	for _, m := range slices.Backward(append(slices.Clone(in.History), in.Trigger...)) {
		if l := metaString(m.Meta, "language"); l != "" && l != "und" && m.Author == baton.AuthorCustomer {
			return l
		}
	}
	return ""
}

// topic is what the handoff is about, in a few words: the intent's name, else the first
// content words the customer wrote; empty when there are none.
func topic(intent, quoted string) string {
	if intent != "" && intent != "out_of_scope" {
		return humanise(intent)
	}
	ws := ContentWords(quoted)
	return strings.Join(ws[:min(4, len(ws))], " ")
}

// nextStep suggests what the agent does first, from the reason and what is missing.
func nextStep(reason baton.HandoffReason, topic string, details []Detail) string {
	var missing []string
	for _, d := range details {
		if !d.Valid {
			missing = append(missing, d.Label)
		}
	}
	askMissing := ""
	if len(missing) > 0 {
		askMissing = "ask for the missing " + joinAnd(missing)
	}
	// the reads "the order status request", or "the request" without a topic.
	the := func(noun string) string {
		switch {
		case topic == "":
			return "the " + noun
		case strings.HasSuffix(topic, " "+noun) || topic == noun: // "callback request"
			return "the " + topic
		}
		return "the " + topic + " " + noun
	}
	var step string
	switch reason {
	case baton.HandoffFailedGathering:
		if askMissing != "" {
			return capitalise(askMissing) + ", then handle " + the("request") + "."
		}
		step = "Check the details the bot gathered and handle " + the("request")
	case baton.HandoffMissingKnowledge:
		if topic == "" {
			step = "Answer the question and consider adding an article on it so the bot can answer it next time"
		} else {
			step = "Answer the question and consider adding an article on " + topic + " so the bot can answer it next time"
		}
	case baton.HandoffNegativeSentiment:
		step = "Acknowledge the customer's frustration first, then resolve " + the("issue")
	case baton.HandoffCustomerRequest:
		if topic == "" {
			step = "The customer asked for a person without saying why: greet them and ask how you can help"
		} else {
			step = "The customer asked for a person: greet them and take over " + the("request")
		}
	case baton.HandoffUnsupportedRequest:
		step = "Handle " + the("request") + " by hand: the bot cannot do it"
	case baton.HandoffPolicy:
		step = "Take over " + the("request") + ": it always goes to a person"
	case baton.HandoffError:
		step = "The bot failed with a technical error: reply to the customer's last message"
	default:
		step = "Read the issue and reply to the customer"
	}
	if askMissing != "" {
		step += "; " + askMissing
	}
	return step + "."
}

func joinAnd(xs []string) string {
	if len(xs) <= 1 {
		return strings.Join(xs, "")
	}
	return strings.Join(xs[:len(xs)-1], ", ") + " and " + xs[len(xs)-1]
}

func humanise(name string) string { return strings.ReplaceAll(name, "_", " ") }

func capitalise(s string) string {
	r, n := utf8.DecodeRuneInString(s)
	return string(unicode.ToUpper(r)) + s[n:]
}

func clip(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	cut := string(r[:n-1])
	if i := strings.LastIndexByte(cut, ' '); i > n/2 {
		cut = cut[:i]
	}
	return cut + "…"
}

func metaString(meta map[string]any, key string) string {
	s, _ := meta[key].(string)
	return s
}

// metaStrings reads a list of strings whether it was built in process ([]string) or decoded
// from JSON ([]any).
func metaStrings(meta map[string]any, key string) []string {
	switch v := meta[key].(type) {
	case []string:
		return v
	case []any:
		var out []string
		for _, x := range v {
			if s, ok := x.(string); ok {
				out = append(out, s)
			}
		}
		return out
	}
	return nil
}

// metaScore reads a customer message's sentiment score, as built in process or decoded.
func metaScore(m baton.Message) (float64, bool) {
	switch v := m.Meta["sentiment"].(type) {
	case map[string]any:
		s, ok := v["score"].(float64)
		return s, ok
	case float64:
		return v, true
	}
	return 0, false
}

// metaDetails reads a message's extracted details whatever their Go type (a round trip
// through JSON normalises them).
func metaDetails(meta map[string]any) []metaDetail {
	raw, ok := meta["details"]
	if !ok || raw == nil {
		return nil
	}
	b, err := json.Marshal(raw)
	if err != nil {
		return nil
	}
	var out []metaDetail
	if json.Unmarshal(b, &out) != nil {
		return nil
	}
	return out
}
