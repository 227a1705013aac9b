package handoff_test

import (
	"testing"
	"time"

	"github.com/batonhq/baton/handoff"
)

func TestExpectedWait(t *testing.T) {
	t.Parallel()
	minute := time.Minute
	recent := []time.Duration{10 * minute, 20 * minute, 12 * minute, 90 * minute, 14 * minute} // median 14
	tests := []struct {
		name                string
		ahead, free, agents int
		recent              []time.Duration
		want                time.Duration
		wantOK              bool
	}{
		{name: "nobody online", ahead: 0, free: 0, agents: 0, recent: recent, wantOK: false},
		{name: "nobody online even with a stale free count", ahead: 0, free: 3, agents: 0, recent: recent, wantOK: false},
		{name: "a free slot now", ahead: 0, free: 1, agents: 1, recent: recent, want: 0, wantOK: true},
		{name: "free slots for everyone ahead and this one", ahead: 2, free: 3, agents: 2, recent: recent, want: 0, wantOK: true},
		{name: "first in line, no free slot: one handling time", ahead: 0, free: 0, agents: 1, recent: recent, want: 14 * minute, wantOK: true},
		{name: "the slots ahead go first", ahead: 3, free: 3, agents: 2, recent: recent, want: 14 * minute, wantOK: true},
		{name: "a queue shared by two agents", ahead: 3, free: 0, agents: 2, recent: recent, want: 28 * minute, wantOK: true},
		{name: "a long queue for one agent", ahead: 9, free: 0, agents: 1, recent: recent, want: 140 * minute, wantOK: true},
		{name: "no history: the default handling time", ahead: 0, free: 0, agents: 1, recent: nil, want: handoff.DefaultHandling, wantOK: true},
		{name: "too little history: the default", ahead: 0, free: 0, agents: 1, recent: []time.Duration{time.Minute, time.Minute}, want: handoff.DefaultHandling, wantOK: true},
		{name: "bad samples are ignored", ahead: 0, free: 0, agents: 1, recent: []time.Duration{-minute, 0, 10 * minute, 20 * minute, 30 * minute}, want: 20 * minute, wantOK: true},
		{name: "even count: mean of the middle two", ahead: 0, free: 0, agents: 1, recent: []time.Duration{10 * minute, 20 * minute, 30 * minute, 40 * minute}, want: 25 * minute, wantOK: true},
		{name: "negative counts are nothing", ahead: -4, free: -1, agents: 1, recent: recent, want: 14 * minute, wantOK: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, ok := handoff.ExpectedWait(tt.ahead, tt.free, tt.agents, tt.recent)
			if ok != tt.wantOK || got != tt.want {
				t.Errorf("ExpectedWait(%d, %d, %d) = %s, %v; want %s, %v", tt.ahead, tt.free, tt.agents, got, ok, tt.want, tt.wantOK)
			}
		})
	}
}

func TestExpectedWaitProperties(t *testing.T) {
	t.Parallel()
	recent := []time.Duration{8 * time.Minute, 11 * time.Minute, 30 * time.Minute}
	for agents := 1; agents <= 5; agents++ {
		for free := 0; free <= 6; free++ {
			for ahead := 0; ahead <= 30; ahead++ {
				w, _ := handoff.ExpectedWait(ahead, free, agents, recent)
				if longer, _ := handoff.ExpectedWait(ahead+1, free, agents, recent); longer < w {
					t.Fatalf("one more ahead shortened the wait: %d ahead %s, %d ahead %s", ahead, w, ahead+1, longer)
				}
				if fewer, _ := handoff.ExpectedWait(ahead, free+1, agents, recent); fewer > w {
					t.Fatalf("a free slot more lengthened the wait (%d ahead, %d free)", ahead, free)
				}
				if more, _ := handoff.ExpectedWait(ahead, free, agents+1, recent); more > w {
					t.Fatalf("an agent more lengthened the wait (%d ahead, %d agents)", ahead, agents)
				}
			}
		}
	}
}

func TestWaitPhrase(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		d    time.Duration
		want string
	}{
		{"none", 0, "a few minutes"},
		{"under five", 4*time.Minute + 59*time.Second, "a few minutes"},
		{"five", 5 * time.Minute, "about 5 minutes"},
		{"rounded up, never down", 11 * time.Minute, "about 15 minutes"},
		{"just under an hour", 58 * time.Minute, "about 1 hour"},
		{"an hour", time.Hour, "about 1 hour"},
		{"a bit over an hour", 61 * time.Minute, "about 1.5 hours"},
		{"two hours", 2 * time.Hour, "about 2 hours"},
		{"eight hours", 8 * time.Hour, "about 8 hours"},
		{"beyond", 9 * time.Hour, "more than 8 hours"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := handoff.WaitPhrase(tt.d); got != tt.want {
				t.Errorf("WaitPhrase(%s) = %q, want %q", tt.d, got, tt.want)
			}
		})
	}
}
