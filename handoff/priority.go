package handoff

import (
	"math"
	"time"
)

// PriorityInput is what a waiting handoff's priority is computed from. Recompute it whenever
// one of these changes (a new customer message, or time passing in the queue).
type PriorityInput struct {
	// Sentiment is the conversation's sentiment now, in [-1, 1] (the trend after the newest
	// customer message).
	Sentiment float64
	// Earlier is the sentiment when the handoff was decided (or the last recompute); a fall
	// from Earlier to Sentiment means the customer is getting angrier.
	Earlier float64
	// Waiting is how long the customer has waited for a person so far.
	Waiting time.Duration
	// Urgency is the intent's urgency in [0, 1]; see Urgency.
	Urgency float64
	// VIP is a customer attribute the business sets.
	VIP bool
	// Repeats counts the customer's earlier episodes in the recent past (say 30 days): someone
	// who has to write again is served sooner.
	Repeats int
}

// Weights of the priority components; they sum to 100, so a customer at the maximum of every
// component scores exactly 100.
const (
	weightAnger   = 30
	weightWorse   = 10
	weightWait    = 25
	weightUrgency = 15
	weightVIP     = 10
	weightRepeats = 10
)

// WaitCap is the wait at which the waiting component is full: beyond it everyone who waited
// that long is equally late, and sentiment and urgency decide the order among them.
const WaitCap = 2 * time.Hour

// RepeatCap is the number of recent episodes at which the repeat component is full.
const RepeatCap = 3

// Priority scores a waiting handoff from 0 (can wait) to 100 (serve first):
//
//	30 × anger        anger = max(0, −Sentiment): only negative feeling raises priority
//	10 × worsening    worsening = min(1, max(0, Earlier − Sentiment)): a fall of 1.0 counts fully
//	25 × wait         wait = min(1, Waiting / WaitCap), linear
//	15 × urgency      the intent's urgency, clamped to [0, 1]
//	10 × VIP          1 for a VIP customer
//	10 × repeats      min(1, Repeats / RepeatCap)
//
// rounded to the nearest integer. Every component is non-decreasing in what it measures, so a
// customer getting angrier (a lower Sentiment) or waiting longer never moves down. Out-of-range
// or NaN inputs count as their nearest bound (NaN as 0).
func Priority(in PriorityInput) int {
	sentiment := clamp(in.Sentiment, -1, 1)
	earlier := clamp(in.Earlier, -1, 1)
	score := weightAnger*max(0, -sentiment) +
		weightWorse*clamp(earlier-sentiment, 0, 1) +
		weightWait*clamp(float64(in.Waiting)/float64(WaitCap), 0, 1) +
		weightUrgency*clamp(in.Urgency, 0, 1) +
		weightRepeats*clamp(float64(in.Repeats)/RepeatCap, 0, 1)
	if in.VIP {
		score += weightVIP
	}
	return int(clamp(math.Round(score), 0, 100))
}

// clamp bounds x to [lo, hi]; NaN becomes 0 bounded to [lo, hi].
func clamp(x, lo, hi float64) float64 {
	if math.IsNaN(x) {
		x = 0
	}
	return max(lo, min(hi, x))
}

// defaultUrgency rates the shipped intents: money and access problems first, questions last.
var defaultUrgency = map[string]float64{
	"account_access":   0.8,
	"billing_problem":  0.8,
	"complaint":        0.6,
	"cancel_order":     0.6,
	"return_or_refund": 0.5,
	"talk_to_human":    0.5,
	"order_status":     0.4,
	"shipping_info":    0.2,
	"faq":              0.1,
}

// UnknownUrgency is the urgency of an intent that has no rating (an admin's own intent, or
// none understood): in the middle, so it neither jumps nor starves the queue.
const UnknownUrgency = 0.4

// Urgency returns the urgency in [0, 1] of an intent by name: the admin's rating from
// overrides if it has one, else the shipped intents' default, else UnknownUrgency.
func Urgency(intent string, overrides map[string]float64) float64 {
	if u, ok := overrides[intent]; ok {
		return clamp(u, 0, 1)
	}
	if u, ok := defaultUrgency[intent]; ok {
		return u
	}
	return UnknownUrgency
}
