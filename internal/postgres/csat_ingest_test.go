package postgres_test

import (
	"context"
	"testing"
	"time"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/internal/postgres"
)

// A bare score after a resolve that asked for one is recorded by ingest and does not reopen the
// conversation; anything else, or a score after the window, opens a new episode.
func TestIngestCSATReply(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	tests := []struct {
		name      string
		askCSAT   bool
		after     time.Duration
		text      string
		wantCSAT  bool
		wantScore int // on the resolved episode; 0 = none
	}{
		{"bare score", true, time.Hour, "4", true, 4},
		{"stars", true, time.Hour, "⭐⭐⭐⭐⭐", true, 5},
		{"score out of five", true, time.Minute, "2/5", true, 2},
		{"a sentence is a new message", true, time.Hour, "4 but my parcel is still missing", false, 0},
		{"score after the window", true, baton.CSATWindow + time.Minute, "5", false, 0},
		{"no survey asked", false, time.Hour, "5", false, 0},
		{"out of range", true, time.Hour, "7", false, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			db, clock := setup(t)
			ann := agent(t, db, "ann@example.com", 5, "support")
			conv := handedOff(t, db, "c1")
			if _, err := db.Claim(ctx, ann.ID, conv); err != nil {
				t.Fatal(err)
			}
			if _, err := db.ResolveConversation(ctx, ann.ID, conv, tt.askCSAT); err != nil {
				t.Fatal(err)
			}
			clock.Advance(tt.after)
			res, err := db.Ingest(ctx, inbound("c1", "c1-2", tt.text), 0, 24*time.Hour)
			if err != nil {
				t.Fatal(err)
			}
			if res.CSAT != tt.wantCSAT {
				t.Errorf("CSAT %v; want %v", res.CSAT, tt.wantCSAT)
			}
			c, err := db.Conversation(ctx, conv)
			if err != nil {
				t.Fatal(err)
			}
			turns := count(t, db, `SELECT count(*) FROM outbox WHERE task_id = $1`, postgres.TaskID(baton.TaskTurn, res.MessageID))
			unprocessed := count(t, db, `SELECT count(*) FROM messages WHERE id = $1 AND processed_at IS NULL`, res.MessageID)
			score := count(t, db, `SELECT coalesce(max(csat_score), 0) FROM episodes WHERE conversation_id = $1 AND number = 1`, conv)
			if score != tt.wantScore {
				t.Errorf("episode 1 score %d; want %d", score, tt.wantScore)
			}
			if tt.wantCSAT {
				if c.Status != baton.StatusResolved || c.Episode != 1 || turns != 0 || unprocessed != 0 {
					t.Errorf("after a score: %s, episode %d, %d turn tasks, %d unprocessed; want resolved, 1, 0, 0",
						c.Status, c.Episode, turns, unprocessed)
				}
				// A retried webhook of the score changes nothing.
				again, err := db.Ingest(ctx, inbound("c1", "c1-2", tt.text), 0, 24*time.Hour)
				if err != nil || !again.Duplicate || again.MessageID != res.MessageID {
					t.Errorf("retry: %+v, %v; want the same message, a duplicate", again, err)
				}
				return
			}
			if c.Status != baton.StatusBot || c.Episode != 2 || turns != 1 || unprocessed != 1 {
				t.Errorf("after %q: %s, episode %d, %d turn tasks, %d unprocessed; want bot, 2, 1, 1",
					tt.text, c.Status, c.Episode, turns, unprocessed)
			}
		})
	}
}
