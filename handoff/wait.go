package handoff

import (
	"fmt"
	"slices"
	"time"
)

// DefaultHandling stands in for the handling time until agents have resolved enough
// conversations to measure it.
const DefaultHandling = 15 * time.Minute

// minSamples is how many recent handling times make a median worth more than the default.
const minSamples = 3

// ExpectedWait estimates how long a customer who joins the queue now waits for a person, and
// reports false when nobody is online (no estimate is honest then: say when the team is back
// instead).
//
// queueAhead handoffs wait before this one (of the same team, higher priority or older);
// onlineFreeSlots is the free capacity of the team's online agents, onlineAgents their number,
// and recentHandling the times recent conversations took from assignment to resolve or
// release. If a free slot remains after those ahead take theirs, the wait is zero. Otherwise
// the customer needs the slots of the n = queueAhead − onlineFreeSlots + 1 conversations
// before them to free up; with the median handling time H (DefaultHandling with fewer than 3
// samples), each online agent is assumed to free one slot every H — pessimistic, since agents
// hold several conversations at once, so the estimate errs towards a longer wait rather than
// a broken promise:
//
//	wait = ceil(n / onlineAgents) × H
func ExpectedWait(queueAhead, onlineFreeSlots, onlineAgents int, recentHandling []time.Duration) (time.Duration, bool) {
	if onlineAgents <= 0 {
		return 0, false
	}
	need := max(0, queueAhead) - max(0, onlineFreeSlots) + 1
	if need <= 0 {
		return 0, true
	}
	rounds := (need + onlineAgents - 1) / onlineAgents
	return time.Duration(rounds) * medianHandling(recentHandling), true
}

func medianHandling(samples []time.Duration) time.Duration {
	var ds []time.Duration
	for _, d := range samples {
		if d > 0 {
			ds = append(ds, d)
		}
	}
	if len(ds) < minSamples {
		return DefaultHandling
	}
	slices.Sort(ds)
	if n := len(ds); n%2 == 0 {
		return (ds[n/2-1] + ds[n/2]) / 2
	}
	return ds[len(ds)/2]
}

// WaitPhrase says an expected wait the way a customer is told it, rounded up so it is not an
// underestimate: "a few minutes" (under 5), "about 20 minutes" (to 5 minutes), "about 2 hours"
// (to half hours from an hour on, "about 1.5 hours"), "more than 8 hours" beyond.
func WaitPhrase(d time.Duration) string {
	switch {
	case d < 5*time.Minute:
		return "a few minutes"
	case d < time.Hour:
		m := (d + 5*time.Minute - 1) / (5 * time.Minute) * 5
		if m < 60 {
			return fmt.Sprintf("about %d minutes", m)
		}
		return "about 1 hour"
	case d <= 8*time.Hour:
		halves := (d + 30*time.Minute - 1) / (30 * time.Minute)
		if halves == 2 {
			return "about 1 hour"
		}
		if halves%2 == 0 {
			return fmt.Sprintf("about %d hours", halves/2)
		}
		return fmt.Sprintf("about %d.5 hours", halves/2)
	}
	return "more than 8 hours"
}
