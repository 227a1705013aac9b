package sentiment

import (
	"math"
	"testing"
)

func TestScoreRules(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		text string
		want string
	}{
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
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := Score(tt.text)
			if r.Label != tt.want {
				t.Errorf("Score(%q) = %+v, want %s", tt.text, r, tt.want)
			}
			if r.Score < -1 || r.Score > 1 {
				t.Errorf("score %v outside [-1,1]", r.Score)
			}
		})
	}
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
