package sentiment

import (
	"bufio"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// Bounds for TestServiceFixture. Measured on the 440 messages: accuracy 0.986, macro-F1 0.986
// (the scorer before the customer-service contexts: 0.705 and 0.700). The bounds leave room for
// about six messages to change. The rules were written with the first 256 messages in view;
// the next 112 and then 72 were written before the rules were last changed and scored 0.786 and
// 0.833 when first measured, which is the better guess for unseen traffic.
const (
	fixtureMinAccuracy = 0.97
	fixtureMinMacroF1  = 0.97
)

// labelCase is a message and the label it must get.
type labelCase struct {
	name, text, want string
}

// checkLabels scores each case in a parallel subtest.
func checkLabels(t *testing.T, cases []labelCase) {
	t.Helper()
	for _, tt := range cases {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := Score(tt.text)
			if r.Label != tt.want {
				s, ctx := scoreContext(tt.text)
				t.Errorf("Score(%q) = %+v (context %d, score %.3f), want %s", tt.text, r, ctx, s, tt.want)
			}
			if r.Score < -1 || r.Score > 1 {
				t.Errorf("score %v outside [-1,1]", r.Score)
			}
		})
	}
}

func TestScoreRules(t *testing.T) {
	t.Parallel()
	checkLabels(t, []labelCase{
		{name: "plain positive", text: "Thank you, great service!", want: Positive},
		{name: "plain negative", text: "This is terrible.", want: Negative},
		{name: "neutral question", text: "What are your opening hours?", want: Neutral},
		{name: "negation not bad", text: "not bad", want: Positive},
		{name: "negated positive", text: "The support was not good", want: Negative},
		{name: "emoji positive", text: "got it 😍", want: Positive},
		{name: "emoji negative", text: "my parcel 😡", want: Negative},
		{name: "still waiting", text: "Still waiting for my parcel", want: Negative},
		{name: "hours late", text: "The courier is 3 hours late", want: Negative},
		{name: "charged twice", text: "I was charged twice for order 48213", want: Negative},
		{name: "nobody answers", text: "nobody answers the phone", want: Negative},
		{name: "thanks in a complaint", text: "Thanks for nothing, my refund never arrived", want: Negative},
		{name: "please help is a request", text: "Please help me change my address", want: Neutral},
		{name: "shouted request is not angry", text: "PLEASE HELP ME CHANGE MY ADDRESS", want: Neutral},
	})
}

// TestCustomerServiceContexts covers the reading of a message by its context: failure
// (praise is sarcasm or politeness), request (evaluative words describe the wanted outcome),
// resolved (thanks are genuine, the old problem fades) and mixed messages.
func TestCustomerServiceContexts(t *testing.T) {
	t.Parallel()
	checkLabels(t, []labelCase{
		// Sarcasm and politeness in complaints.
		{name: "sarcastic great", text: "@SkyLarkAir great, another delay. third one this month", want: Negative},
		{name: "sarcastic closing praise", text: "Chat closed on me before I got an answer. Brilliant.", want: Negative},
		{name: "sarcastic opening praise", text: "Wonderful customer service, transferred 4 times and then disconnected. Amazing.", want: Negative},
		{name: "thanks for a failure", text: "Thanks for losing my bag again 🙄", want: Negative},
		{name: "love waiting", text: "Love waiting 50 mins for a gate agent. Really great use of my Sunday", want: Negative},
		{name: "love how", text: "love how my parcel says delivered but it's nowhere to be found", want: Negative},
		{name: "ellipsis not", text: "great customer service as always... not", want: Negative},
		{name: "eye roll", text: "glad to see you care so much about your customers 🙄", want: Negative},
		{name: "polite thanks in a complaint", text: "Still no refund after 6 weeks. Thanks a lot.", want: Negative},
		{name: "polite request that is a complaint", text: "could you please tell me why my parcel is marked delivered when it isn't here?", want: Negative},
		{name: "got worse", text: "your customer service has gone downhill, used to be great", want: Negative},
		// Requests: evaluative words describe what is wanted.
		{name: "best way", text: "could you please tell me the best way to send documents for my mortgage application?", want: Neutral},
		{name: "love to know", text: "Hi, I'd love to know if you ship to Norway", want: Neutral},
		{name: "would love to", text: "Would love to get some info on your business accounts", want: Neutral},
		{name: "good router", text: "Can you recommend a good router for a big house?", want: Neutral},
		{name: "great offer", text: "Is the great offer on the website still valid in store?", want: Neutral},
		{name: "thanks in a request", text: "Just checking if my return was received, order 33018. Thanks!", want: Neutral},
		{name: "duration in a question", text: "Hello, is the lounge in terminal 2 open 24 hours?", want: Neutral},
		{name: "status question", text: "Is my flight tomorrow delayed?", want: Neutral},
		{name: "own mistake", text: "please cancel my order 44120, I ordered the wrong colour by mistake", want: Neutral},
		{name: "own mishap", text: "Hi, I lost my card, how do I freeze it?", want: Neutral},
		// Genuine thanks after a fix.
		{name: "refund arrived", text: "got my refund this morning, thanks for sorting it out", want: Positive},
		{name: "bag found", text: "Got my lost bag back today, thank you for tracking it down!", want: Positive},
		{name: "thanks for a fix", text: "Thank you for fixing the issue so fast", want: Positive},
		{name: "problem then fix", text: "had a problem with my order but your team fixed it quickly, thank you", want: Positive},
		{name: "thanks after a delay", text: "I was worried about the delay but you kept us informed, much appreciated", want: Positive},
		{name: "fee waived", text: "Appreciate you waiving the late fee this once", want: Positive},
		{name: "speed is praise", text: "Parcel arrived a day early, brilliant service!", want: Positive},
		{name: "delivered in days", text: "Delivered in 2 days, great service", want: Positive},
		// A denied fix is still a failure.
		{name: "fixed then again", text: "they told me the issue was resolved but it's happening again", want: Negative},
		{name: "still not fixed", text: "still not fixed. cheers.", want: Negative},
		// Negation and idioms.
		{name: "not bad at all", text: "not bad at all, the replacement arrived next day", want: Positive},
		{name: "not happy", text: "Not happy. The replacement phone has the same fault.", want: Negative},
		{name: "not impressed", text: "Not impressed with the 'priority' service at all", want: Negative},
		{name: "couldn't be happier", text: "Couldn't be happier with my order", want: Positive},
		// Mixed messages: the part after "but" decides, and a mixed one is a complaint.
		{name: "praise then failure", text: "the staff were lovely but the room was filthy and the AC didnt work", want: Negative},
		{name: "failure then praise", text: "The room was filthy but the staff were lovely", want: Negative},
		{name: "mixed without but", text: "great crew, shame about the 4 hour delay and the lost luggage", want: Negative},
	})
}

func TestIntensifiersAndEmphasis(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name           string
		weaker, strong string
	}{
		{name: "intensifier", weaker: "the delivery was good", strong: "the delivery was extremely good"},
		{name: "exclamation", weaker: "the delivery was good", strong: "the delivery was good!!!"},
		{name: "capitals", weaker: "this is bad and slow", strong: "this is BAD and slow"},
		{name: "complaint phrase adds to a negative word", weaker: "this is bad", strong: "this is bad, still waiting"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			w, s := Score(tt.weaker).Score, Score(tt.strong).Score
			if math.Abs(s) <= math.Abs(w) {
				t.Errorf("|%q| = %.3f is not stronger than |%q| = %.3f", tt.strong, s, tt.weaker, w)
			}
			if w*s < 0 {
				t.Errorf("emphasis flipped the sign: %.3f vs %.3f", w, s)
			}
		})
	}
}

func TestEmptyAndDeterministic(t *testing.T) {
	t.Parallel()
	if r := Score("   "); r.Score != 0 || r.Label != Neutral {
		t.Errorf("empty text = %+v, want neutral 0", r)
	}
	a, b := Score("I was charged twice!!"), Score("I was charged twice!!")
	if a != b {
		t.Errorf("not deterministic: %+v vs %+v", a, b)
	}
}

func TestTrend(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		scores []float64
		check  func(float64) bool
		desc   string
	}{
		{name: "first message sets trend", scores: []float64{-0.8}, check: func(v float64) bool { return v == -0.8 }, desc: "== -0.8"},
		{name: "recovering customer", scores: []float64{-0.9, -0.9, 0.5, 0.6, 0.7}, check: func(v float64) bool { return v > 0 }, desc: "> 0"},
		{name: "one bad message dents a good trend", scores: []float64{0.8, 0.8, 0.8, -0.9}, check: func(v float64) bool { return v > 0 && v < 0.8 }, desc: "in (0, 0.8)"},
		{name: "bounded", scores: []float64{5, 5}, check: func(v float64) bool { return v <= 1 }, desc: "<= 1"},
		{name: "empty", scores: nil, check: func(v float64) bool { return v == 0 }, desc: "== 0"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := Trend(tt.scores); !tt.check(got) {
				t.Errorf("Trend(%v) = %v, want %s", tt.scores, got, tt.desc)
			}
		})
	}
	if got, want := Update(0.5, 3, -0.5), Alpha*-0.5+(1-Alpha)*0.5; math.Abs(got-want) > 1e-12 {
		t.Errorf("Update = %v, want %v", got, want)
	}
}

// fixtureMessage is one line of testdata/service_messages.jsonl: customer-service messages
// written and labelled by hand for this package (not taken from any dataset).
type fixtureMessage struct {
	Text  string `json:"text"`
	Label string `json:"label"`
}

func readFixture(t testing.TB) []fixtureMessage {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", "service_messages.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []fixtureMessage
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var m fixtureMessage
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("line %d: %v", len(out)+1, err)
		}
		out = append(out, m)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func TestServiceFixture(t *testing.T) {
	t.Parallel()
	msgs := readFixture(t)
	labels := []string{Negative, Neutral, Positive}
	conf := map[string]map[string]int{}
	for _, l := range labels {
		conf[l] = map[string]int{}
	}
	ok := 0
	for _, m := range msgs {
		r := Score(m.Text)
		conf[m.Label][r.Label]++
		if r.Label == m.Label {
			ok++
		} else {
			t.Logf("%-8s got %-8s %+.3f  %s", m.Label, r.Label, r.Score, m.Text)
		}
	}
	acc := float64(ok) / float64(len(msgs))
	f1 := 0.0
	for _, l := range labels {
		tp, fp, fn := conf[l][l], 0, 0
		for _, o := range labels {
			if o != l {
				fp += conf[o][l]
				fn += conf[l][o]
			}
		}
		if tp > 0 {
			p, r := float64(tp)/float64(tp+fp), float64(tp)/float64(tp+fn)
			f1 += 2 * p * r / (p + r) / 3
		}
	}
	t.Logf("%d messages: accuracy %.3f, macro-F1 %.3f, confusion (gold: predicted) %v", len(msgs), acc, f1, conf)
	if acc < fixtureMinAccuracy || f1 < fixtureMinMacroF1 {
		t.Errorf("fixture accuracy %.3f (want >= %.2f), macro-F1 %.3f (want >= %.2f)", acc, fixtureMinAccuracy, f1, fixtureMinMacroF1)
	}
}

// BenchmarkScore reports the per-message cost over the fixture: Score runs on every message
// (about 65 µs here; `go test -bench Score ./intents/sentiment/`).
func BenchmarkScore(b *testing.B) {
	msgs := readFixture(b)
	Score("warm up") // builds the analyzers
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		Score(msgs[i%len(msgs)].Text)
	}
}

// TestPrefilterIsSafe checks that no rule is skipped by its literal prefilter on a text it
// matches, over the fixture and a few texts that exercise classes, case folding and emoji.
func TestPrefilterIsSafe(t *testing.T) {
	t.Parallel()
	texts := []string{
		"I'D LIKE TO know the BEST WAY to pay", "charged me twice 😡", "los3 lost loste", "thx ty",
		"Couldn't Be Happier", "I accidentally ordered the wrong size", "3 hrs late", "why is it??",
	}
	for _, m := range readFixture(t) {
		texts = append(texts, m.Text)
	}
	rules := []rx{idioms, formulas, ownMistake, waiting, negatedPraise, failureWords, notFailure,
		requestWords, resolution, persisting, fixedAgain, gratitude, butRe}
	for _, ph := range csPhrases {
		rules = append(rules, ph.re)
	}
	for _, ph := range sarcasm {
		rules = append(rules, ph.re)
	}
	for _, r := range rules {
		for _, text := range texts {
			lower := strings.ToLower(text)
			if r.MatchString(lower) && !r.may(lower) {
				t.Errorf("%s matches %q in %q but its prefilter %q skips it", r, r.FindString(lower), lower, r.keys)
			}
		}
	}
}

func TestRequired(t *testing.T) {
	t.Parallel()
	tests := []struct {
		expr string
		want []string
	}{
		{`\bstill (waiting|not)\b`, []string{"still waiting", "still not"}},
		{`\b(thanks|thx|ty)\b`, []string{"thanks", "thx", "ty"}},
		{`(?i)\bGood (morning|day)`, []string{"good morning", "good day"}},
		{`\bdelay\w*`, []string{"delay"}},
		{`\d+ (hours?|days?)`, []string{" hours", " hour", " days", " day"}},
		{`a|\d+`, []string{"a", "0", "1", "2", "3", "4", "5", "6", "7", "8", "9"}},
		{`a|.`, nil},
		{`x*`, nil},
	}
	for _, tt := range tests {
		if got := mustRx(tt.expr).keys; !slices.Equal(got, tt.want) {
			t.Errorf("required(%s) = %q, want %q", tt.expr, got, tt.want)
		}
	}
}
