package handoff_test

import (
	"math"
	"testing"
	"time"

	"github.com/batonhq/baton/handoff"
)

func TestPriority(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		in   handoff.PriorityInput
		want int
	}{
		{name: "calm, just arrived, no urgency", in: handoff.PriorityInput{}, want: 0},
		{name: "positive sentiment counts as calm", in: handoff.PriorityInput{Sentiment: 0.8, Earlier: 0.8}, want: 0},
		{name: "furious and getting worse from neutral", in: handoff.PriorityInput{Sentiment: -1, Earlier: 0}, want: 40},
		{name: "furious all along", in: handoff.PriorityInput{Sentiment: -1, Earlier: -1}, want: 30},
		{name: "half the wait cap", in: handoff.PriorityInput{Waiting: handoff.WaitCap / 2}, want: 13},
		{name: "wait beyond the cap is capped", in: handoff.PriorityInput{Waiting: 10 * handoff.WaitCap}, want: 25},
		{name: "urgent intent", in: handoff.PriorityInput{Urgency: 1}, want: 15},
		{name: "VIP", in: handoff.PriorityInput{VIP: true}, want: 10},
		{name: "one repeat", in: handoff.PriorityInput{Repeats: 1}, want: 3},
		{name: "many repeats are capped", in: handoff.PriorityInput{Repeats: 50}, want: 10},
		{name: "everything at maximum", in: handoff.PriorityInput{Sentiment: -1, Earlier: 1, Waiting: 24 * time.Hour, Urgency: 1, VIP: true, Repeats: 9}, want: 100},
		{name: "out of range inputs are bounded", in: handoff.PriorityInput{Sentiment: -7, Earlier: 9, Waiting: -time.Hour, Urgency: 3, Repeats: -4}, want: 55},
		{name: "NaN counts as neutral", in: handoff.PriorityInput{Sentiment: math.NaN(), Earlier: math.NaN(), Urgency: math.NaN()}, want: 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := handoff.Priority(tt.in); got != tt.want {
				t.Errorf("Priority(%+v) = %d, want %d", tt.in, got, tt.want)
			}
		})
	}
}

// grid walks many combinations of the inputs, so the properties below hold across the space,
// not only at hand-picked points.
func grid(yield func(handoff.PriorityInput)) {
	sentiments := []float64{-1.5, -1, -0.6, -0.2, 0, 0.3, 1, 2}
	waits := []time.Duration{-time.Minute, 0, time.Minute, 30 * time.Minute, 2 * time.Hour, 48 * time.Hour}
	for _, s := range sentiments {
		for _, e := range sentiments {
			for _, w := range waits {
				for _, u := range []float64{-1, 0, 0.4, 1, 2} {
					for _, vip := range []bool{false, true} {
						for _, r := range []int{-1, 0, 1, 3, 10} {
							yield(handoff.PriorityInput{Sentiment: s, Earlier: e, Waiting: w, Urgency: u, VIP: vip, Repeats: r})
						}
					}
				}
			}
		}
	}
}

func TestPriorityProperties(t *testing.T) {
	t.Parallel()
	properties := []struct {
		name string
		// more returns the same input with one thing made worse for the customer.
		more func(handoff.PriorityInput) handoff.PriorityInput
	}{
		{name: "angrier now never lowers priority", more: func(in handoff.PriorityInput) handoff.PriorityInput { in.Sentiment -= 0.25; return in }},
		{name: "a calmer start then the same anger never lowers priority", more: func(in handoff.PriorityInput) handoff.PriorityInput { in.Earlier += 0.25; return in }},
		{name: "longer wait never lowers priority", more: func(in handoff.PriorityInput) handoff.PriorityInput { in.Waiting += 10 * time.Minute; return in }},
		{name: "more urgency never lowers priority", more: func(in handoff.PriorityInput) handoff.PriorityInput { in.Urgency += 0.2; return in }},
		{name: "VIP never lowers priority", more: func(in handoff.PriorityInput) handoff.PriorityInput { in.VIP = true; return in }},
		{name: "another repeat never lowers priority", more: func(in handoff.PriorityInput) handoff.PriorityInput { in.Repeats++; return in }},
	}
	for _, p := range properties {
		t.Run(p.name, func(t *testing.T) {
			t.Parallel()
			n := 0
			grid(func(in handoff.PriorityInput) {
				n++
				before, after := handoff.Priority(in), handoff.Priority(p.more(in))
				if after < before {
					t.Errorf("%+v: %d, then %+v: %d", in, before, p.more(in), after)
				}
				if before < 0 || before > 100 || after < 0 || after > 100 {
					t.Errorf("out of bounds: %d, %d for %+v", before, after, in)
				}
			})
			if n < 1000 {
				t.Fatalf("grid walked only %d inputs", n)
			}
		})
	}
}

// TestPriorityRisesWhileAngerGrows is the story the queue needs: the same customer, waiting and
// getting angrier, moves up at every recompute.
func TestPriorityRisesWhileAngerGrows(t *testing.T) {
	t.Parallel()
	in := handoff.PriorityInput{Sentiment: 0, Earlier: 0, Urgency: handoff.Urgency("order_status", nil)}
	prev := handoff.Priority(in)
	for step := range 5 {
		in.Waiting += 15 * time.Minute
		in.Sentiment -= 0.2
		got := handoff.Priority(in)
		if got <= prev {
			t.Fatalf("step %d: priority %d did not rise above %d", step, got, prev)
		}
		prev = got
	}
}

func TestUrgency(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		intent    string
		overrides map[string]float64
		want      float64
	}{
		{name: "shipped intent", intent: "billing_problem", want: 0.8},
		{name: "question", intent: "faq", want: 0.1},
		{name: "unknown intent", intent: "warranty_claim", want: handoff.UnknownUrgency},
		{name: "no intent", intent: "", want: handoff.UnknownUrgency},
		{name: "admin override wins", intent: "faq", overrides: map[string]float64{"faq": 0.9}, want: 0.9},
		{name: "admin override is bounded", intent: "warranty_claim", overrides: map[string]float64{"warranty_claim": 7}, want: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := handoff.Urgency(tt.intent, tt.overrides); got != tt.want {
				t.Errorf("Urgency(%q) = %v, want %v", tt.intent, got, tt.want)
			}
		})
	}
}
