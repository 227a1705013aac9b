package intents

import (
	"math"
	"slices"
	"sync"
	"testing"
)

// smallIntents is a fixture small enough to reason about: three intents, a few examples each.
func smallIntents(tb testing.TB) []Intent {
	tb.Helper()
	return []Intent{
		{Name: "order_status", Action: ActionAnswer, Examples: []string{
			"where is my order", "has my order shipped", "when will my package arrive", "track my parcel",
			"my order has not arrived yet", "what is the status of my order", "is my package on its way",
			"when does my delivery come", "i am still waiting for my order", "tracking number for my order"}},
		{Name: "refund", Action: ActionAnswer, Examples: []string{
			"i want my money back", "how do i get a refund", "refund my purchase please", "can i return this for a refund",
			"i returned it but got no refund", "where is my refund", "please refund the broken item",
			"give me a refund", "how long do refunds take", "refund to my credit card"}},
		{Name: "greeting", Action: ActionReply, Reply: "Hi!", Examples: []string{
			"hi", "hello", "hey there", "good morning", "hello there", "hi team", "good evening", "hey", "hiya", "greetings"}},
	}
}

func trainSmall(tb testing.TB) *Classifier {
	tb.Helper()
	c, err := Train(smallIntents(tb), Options{OutOfScope: []string{
		"what is the weather tomorrow", "tell me a joke", "who won the football game",
		"how tall is mount everest", "play some music", "what is the capital of peru"}})
	if err != nil {
		tb.Fatalf("Train: %v", err)
	}
	return c
}

func TestClassifierSmallFixture(t *testing.T) {
	t.Parallel()
	c := trainSmall(t)
	tests := []struct {
		name string
		text string
		want string
	}{
		{name: "order status paraphrase", text: "where's my parcel, has it shipped?", want: "order_status"},
		{name: "refund paraphrase", text: "I would like a refund for my purchase", want: "refund"},
		{name: "greeting", text: "hello!", want: "greeting"},
		{name: "typo", text: "whre is my ordr", want: "order_status"},
		{name: "out of scope", text: "recommend me a good pizza recipe with basil", want: OutOfScope},
		{name: "empty", text: "   ", want: OutOfScope},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p := c.Classify(tt.text)
			if p.Intent != tt.want {
				t.Errorf("Classify(%q) = %s (%.2f, top %v), want %s", tt.text, p.Intent, p.Score, p.Top, tt.want)
			}
			if len(p.Top) != 3 {
				t.Fatalf("Top has %d entries, want 3", len(p.Top))
			}
			sum := 0.0
			for i, s := range p.Top {
				if s.Score < 0 || s.Score > 1 {
					t.Errorf("score %v outside [0,1]", s.Score)
				}
				if i > 0 && s.Score > p.Top[i-1].Score {
					t.Errorf("Top not sorted: %v", p.Top)
				}
				sum += s.Score
			}
			if sum > 1+1e-9 {
				t.Errorf("top scores sum to %v > 1", sum)
			}
			if p.OutOfScope != (p.Intent == OutOfScope) {
				t.Errorf("OutOfScope %v disagrees with intent %q", p.OutOfScope, p.Intent)
			}
		})
	}
}

func TestClassifierDeterministic(t *testing.T) {
	t.Parallel()
	a, b := trainSmall(t), trainSmall(t)
	for _, text := range []string{"where is my order", "refund please", "hi", "tell me about the moon"} {
		pa, pb := a.Classify(text), b.Classify(text)
		if pa.Intent != pb.Intent || math.Abs(pa.Score-pb.Score) > 1e-12 {
			t.Errorf("two trainings disagree on %q: %+v vs %+v", text, pa, pb)
		}
	}
	if a.Threshold() != b.Threshold() {
		t.Errorf("thresholds differ: %v vs %v", a.Threshold(), b.Threshold())
	}
}

func TestTrainErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		list []Intent
	}{
		{name: "no intents", list: nil},
		{name: "no examples", list: []Intent{{Name: "a", Examples: []string{"  "}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if _, err := Train(tt.list, Options{}); err == nil {
				t.Error("Train succeeded, want an error")
			}
		})
	}
}

func TestThresholdChosenOnDevNotTraining(t *testing.T) {
	t.Parallel()
	// A fixed threshold is honoured exactly; a chosen one comes from the dev rows.
	c, err := Train(smallIntents(t), Options{Threshold: 0.99})
	if err != nil {
		t.Fatal(err)
	}
	if c.Threshold() != 0.99 {
		t.Errorf("Threshold() = %v, want 0.99", c.Threshold())
	}
	st := trainSmall(t).Stats()
	if st.DevOOS != 6 {
		t.Errorf("DevOOS = %d, want the 6 out-of-scope dev rows", st.DevOOS)
	}
	if st.DevExamples <= st.DevOOS {
		t.Errorf("no in-scope rows were held out for dev: %+v", st)
	}
}

func TestChooseThreshold(t *testing.T) {
	t.Parallel()
	// Two in-scope rows (class 0, correct) with high scores and two OOS rows with low ones:
	// the threshold must separate them.
	probs := [][]float64{{0.9, 0.1}, {0.8, 0.2}, {0.55, 0.45}, {0.6, 0.4}}
	labels := []int{0, 0, -1, -1}
	th := chooseThreshold(probs, labels, 0.02)
	if th <= 0.6 || th >= 0.8 {
		t.Errorf("threshold %v does not separate in-scope (>=0.8) from OOS (<=0.6)", th)
	}
	if got := chooseThreshold(probs[:2], labels[:2], 0.02); got != 0 {
		t.Errorf("without OOS rows threshold = %v, want 0", got)
	}
}

func TestECE(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		conf    []float64
		correct []bool
		want    float64
	}{
		{name: "perfect", conf: []float64{1, 1}, correct: []bool{true, true}, want: 0},
		{name: "overconfident", conf: []float64{0.9, 0.9}, correct: []bool{false, false}, want: 0.9},
		{name: "calibrated bin", conf: []float64{0.5, 0.5}, correct: []bool{true, false}, want: 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := ECE(tt.conf, tt.correct, 10); math.Abs(got-tt.want) > 1e-9 {
				t.Errorf("ECE = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestModelRetrainSwapsAtomically(t *testing.T) {
	t.Parallel()
	list := smallIntents(t)
	m, err := NewModel(list, Options{})
	if err != nil {
		t.Fatal(err)
	}
	old := m.Load()
	if got := old.Classify("i want to cancel my subscription").Intent; got == "cancel" {
		t.Fatalf("old model knows an intent it was never given")
	}
	changed := append(slices.Clone(list), Intent{Name: "cancel", Action: ActionAnswer, Examples: []string{
		"cancel my order", "i want to cancel", "please cancel my subscription", "stop my order",
		"cancel the purchase", "i changed my mind, cancel it", "how do i cancel", "cancel everything"}})

	// Readers classify concurrently while the model retrains; each sees a whole classifier.
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				c := m.Load()
				p := c.Classify("please cancel my subscription")
				if !slices.Contains(append(c.Intents(), OutOfScope), p.Intent) {
					t.Errorf("prediction %q is not an intent of the classifier that made it", p.Intent)
					return
				}
			}
		}()
	}
	if err := m.Retrain(changed); err != nil {
		t.Fatal(err)
	}
	close(stop)
	wg.Wait()

	if m.Load() == old {
		t.Fatal("Retrain did not replace the classifier")
	}
	if got := m.Load().Classify("please cancel my subscription").Intent; got != "cancel" {
		t.Errorf("after retrain got %q, want cancel", got)
	}
	if got := old.Classify("please cancel my subscription").Intent; got == "cancel" {
		t.Errorf("the old classifier changed under its readers")
	}
	if _, ok := m.Intent("cancel"); !ok {
		t.Error("Intent(cancel) not found after retrain")
	}

	// A bad retrain keeps the current classifier.
	cur := m.Load()
	if err := m.Retrain([]Intent{{Name: "Bad Name"}}); err == nil {
		t.Error("Retrain accepted an invalid intent")
	}
	if m.Load() != cur {
		t.Error("a failed retrain replaced the classifier")
	}
}

func TestDefaultIntentsTrainAndClassify(t *testing.T) {
	t.Parallel()
	list := DefaultIntents()
	if err := ValidateAll(list); err != nil {
		t.Fatalf("default intents invalid: %v", err)
	}
	m, err := NewModel(list, Options{})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		text string
		want string
	}{
		{name: "order status", text: "Where is my package? Order 48213", want: "order_status"},
		{name: "refund", text: "I'd like to send these shoes back and get my money back", want: "return_or_refund"},
		{name: "human", text: "can I talk to a real person please", want: "talk_to_human"},
		{name: "billing", text: "you charged my card twice", want: "billing_problem"},
		{name: "off topic", text: "what's the tallest mountain on mars", want: OutOfScope},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if p := m.Load().Classify(tt.text); p.Intent != tt.want {
				t.Errorf("Classify(%q) = %s %.2f %v, want %s", tt.text, p.Intent, p.Score, p.Top, tt.want)
			}
		})
	}
}
