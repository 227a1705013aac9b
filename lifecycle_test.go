package baton_test

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/batonhq/baton"
)

// TestTransition checks every status against every event: the allowed moves are exactly the
// ones the issue lists, and every other pair is refused as a conflict.
func TestTransition(t *testing.T) {
	t.Parallel()
	type key struct {
		from baton.ConversationStatus
		e    baton.Event
	}
	allowed := map[key]baton.ConversationStatus{
		{baton.StatusBot, baton.EventHandoff}:        baton.StatusQueued,
		{baton.StatusBot, baton.EventResolve}:        baton.StatusResolved,
		{baton.StatusQueued, baton.EventClaim}:       baton.StatusAgent,
		{baton.StatusQueued, baton.EventAssign}:      baton.StatusAgent,
		{baton.StatusQueued, baton.EventReturn}:      baton.StatusBot,
		{baton.StatusAgent, baton.EventReturn}:       baton.StatusBot,
		{baton.StatusQueued, baton.EventResolve}:     baton.StatusResolved,
		{baton.StatusAgent, baton.EventTransferTeam}: baton.StatusQueued,
		{baton.StatusAgent, baton.EventSlotFreed}:    baton.StatusQueued,
		{baton.StatusAgent, baton.EventResolve}:      baton.StatusResolved,
		{baton.StatusResolved, baton.EventReopen}:    baton.StatusBot,
		{baton.StatusResolved, baton.EventCSATReply}: baton.StatusResolved,
	}
	statuses := []baton.ConversationStatus{baton.StatusBot, baton.StatusQueued, baton.StatusAgent, baton.StatusResolved}
	for _, from := range statuses {
		for _, e := range baton.Events() {
			want, ok := allowed[key{from, e}]
			t.Run(fmt.Sprintf("%s %s", from, e), func(t *testing.T) {
				got, err := baton.Transition(from, e)
				if ok {
					if err != nil || got != want {
						t.Fatalf("Transition(%s, %s) = %s, %v; want %s", from, e, got, err, want)
					}
					return
				}
				if !errors.Is(err, baton.ErrConflict) {
					t.Fatalf("Transition(%s, %s) = %s, %v; want a conflict", from, e, got, err)
				}
				if got != from {
					t.Errorf("a refused move returned %s; want the status unchanged (%s)", got, from)
				}
			})
			inFrom := false
			for _, f := range baton.From(e) {
				inFrom = inFrom || f == from
			}
			if inFrom != ok {
				t.Errorf("From(%s) contains %s = %v; Transition allows it = %v", e, from, inFrom, ok)
			}
		}
	}
	if _, err := baton.Transition(baton.StatusBot, "teleport"); !errors.Is(err, baton.ErrInvalid) {
		t.Errorf("unknown event: err %v; want invalid", err)
	}
}

func TestCustomerWrites(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)
	asked := now.Add(-time.Hour)
	stale := now.Add(-baton.CSATWindow - time.Minute)
	tests := []struct {
		name      string
		status    baton.ConversationStatus
		asked     *time.Time
		text      string
		want      baton.Event
		wantScore int
		moves     bool
	}{
		{"score within the window is recorded", baton.StatusResolved, &asked, "5", baton.EventCSATReply, 5, true},
		{"score with stars", baton.StatusResolved, &asked, " 4 stars ", baton.EventCSATReply, 4, true},
		{"score out of five", baton.StatusResolved, &asked, "3/5", baton.EventCSATReply, 3, true},
		{"emoji stars", baton.StatusResolved, &asked, "⭐⭐", baton.EventCSATReply, 2, true},
		{"out of range reopens", baton.StatusResolved, &asked, "7", baton.EventReopen, 0, true},
		{"a sentence reopens", baton.StatusResolved, &asked, "5 more questions about my order", baton.EventReopen, 0, true},
		{"score after the window reopens", baton.StatusResolved, &stale, "5", baton.EventReopen, 0, true},
		{"no survey asked reopens", baton.StatusResolved, nil, "5", baton.EventReopen, 0, true},
		{"an open conversation moves nothing", baton.StatusAgent, &asked, "5", "", 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e, score, ok := baton.CustomerWrites(tt.status, tt.asked, now, tt.text)
			if e != tt.want || score != tt.wantScore || ok != tt.moves {
				t.Fatalf("CustomerWrites = %q, %d, %v; want %q, %d, %v", e, score, ok, tt.want, tt.wantScore, tt.moves)
			}
			if ok {
				if _, err := baton.Transition(tt.status, e); err != nil {
					t.Errorf("the event it returns is refused: %v", err)
				}
			}
		})
	}
}
