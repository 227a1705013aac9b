package postgres_test

import (
	"context"
	"testing"
	"time"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/internal/dbtest"
	"github.com/batonhq/baton/internal/postgres"
)

func setup(t *testing.T) (*postgres.DB, *baton.ManualClock) {
	t.Helper()
	clock := baton.NewManualClock(time.Date(2026, 11, 25, 9, 0, 0, 0, time.UTC))
	return postgres.New(dbtest.New(t).Pool, clock), clock
}

func inbound(sender, id, text string) baton.Inbound {
	return baton.Inbound{Channel: "webhook", Sender: baton.Sender{ID: sender}, ExternalID: id, Text: text}
}

// answer runs a turn that replies once, as the bot would.
func answer(t *testing.T, db *postgres.DB, conv int64) {
	t.Helper()
	ctx := context.Background()
	l, err := db.ClaimLease(ctx, conv, "test", time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	st, err := db.LoadTurn(ctx, conv)
	if err != nil {
		t.Fatal(err)
	}
	var ids []int64
	for _, m := range st.Pending {
		ids = append(ids, m.ID)
	}
	if _, err := db.CommitTurn(ctx, l, baton.TurnOutcome{Processed: ids, StartedAt: db.Clock.Now(),
		Replies: []baton.Reply{{Author: baton.AuthorBot, Visibility: baton.Public, Text: "ok"}}}); err != nil {
		t.Fatal(err)
	}
}

func TestEpisodes(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	const idle = 24 * time.Hour
	tests := []struct {
		name        string
		between     func(db *postgres.DB, clock *baton.ManualClock, conv int64)
		wantEpisode int
		resolution  string
	}{
		{"continuing conversation", func(db *postgres.DB, c *baton.ManualClock, _ int64) { c.Advance(time.Hour) }, 1, ""},
		{"explicit resolve", func(db *postgres.DB, c *baton.ManualClock, conv int64) {
			db.Resolve(ctx, 0, conv) //nolint:errcheck
			c.Advance(time.Minute)
		}, 2, "explicit"},
		{"idle after a bot answer", func(db *postgres.DB, c *baton.ManualClock, _ int64) { c.Advance(idle + time.Minute) }, 2, "idle"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			db, clock := setup(t)
			res, err := db.Ingest(ctx, inbound("c1", "m1", "hello"), 0, idle)
			if err != nil {
				t.Fatal(err)
			}
			answer(t, db, res.ConversationID)
			tt.between(db, clock, res.ConversationID)
			res2, err := db.Ingest(ctx, inbound("c1", "m2", "me again"), 0, idle)
			if err != nil {
				t.Fatal(err)
			}
			if res2.ConversationID != res.ConversationID {
				t.Fatal("a returning customer got a new conversation")
			}
			c, err := db.Conversation(ctx, res.ConversationID)
			if err != nil {
				t.Fatal(err)
			}
			if c.Episode != tt.wantEpisode || c.Status != baton.StatusBot {
				t.Errorf("episode %d status %s; want episode %d, status bot", c.Episode, c.Status, tt.wantEpisode)
			}
			var resolution *string
			db.Pool.QueryRow(ctx, `SELECT resolution FROM episodes WHERE conversation_id = $1 AND number = 1`, c.ID).Scan(&resolution) //nolint:errcheck
			got := ""
			if resolution != nil {
				got = *resolution
			}
			if got != tt.resolution {
				t.Errorf("first episode resolution %q; want %q", got, tt.resolution)
			}
		})
	}
}

func TestOrderFollowsProviderTimestamps(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db, clock := setup(t)
	base := clock.Now()
	// The provider's second message arrives first.
	for _, m := range []struct {
		id   string
		sent time.Duration
	}{{"m2", 2 * time.Second}, {"m1", time.Second}, {"m3", 3 * time.Second}} {
		in := inbound("c", m.id, m.id)
		sent := base.Add(m.sent)
		in.SentAt = &sent
		if _, err := db.Ingest(ctx, in, 0, time.Hour); err != nil {
			t.Fatal(err)
		}
		clock.Advance(10 * time.Millisecond)
	}
	id, _ := db.ConversationOf(ctx, "webhook", "c")
	c, err := db.Conversation(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, m := range c.Messages {
		got = append(got, m.Text)
	}
	if len(got) != 3 || got[0] != "m1" || got[1] != "m2" || got[2] != "m3" {
		t.Errorf("order %v; want the provider's order m1 m2 m3", got)
	}
	st, _ := db.LoadTurn(ctx, id)
	if st.Pending[0].Text != "m1" {
		t.Errorf("the turn reads %q first; want m1", st.Pending[0].Text)
	}
}

// A turn without a lease commits only on the state it read: a second commit on the same
// token, or one while another turn holds the lease, writes nothing.
func TestOptimisticCommitIsFenced(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db, clock := setup(t)
	res, err := db.Ingest(ctx, inbound("opt", "opt-1", "hello"), 0, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	conv := res.ConversationID
	st, err := db.LoadTurn(ctx, conv)
	if err != nil {
		t.Fatal(err)
	}
	if d := st.Debounce(res.MessageID, 0, clock.Now()); d.Answered || d.Newer || !d.LeaseFree {
		t.Fatalf("debounce %+v; want the message to run now", d)
	}
	// A message arriving during the turn is reported back for the next turn.
	late, err := db.Ingest(ctx, inbound("opt", "opt-2", "one more thing"), 0, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	out := baton.TurnOutcome{Processed: []int64{res.MessageID}, StartedAt: clock.Now(),
		Replies: []baton.Reply{{Author: baton.AuthorBot, Visibility: baton.Public, Text: "hi"}}}
	fence := baton.Lease{ConversationID: conv, Token: st.Token}
	c, err := db.CommitTurn(ctx, fence, out)
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Replies) != 1 || c.Pending != late.MessageID {
		t.Errorf("commit %+v; want one reply and message %d pending", c, late.MessageID)
	}
	if _, err := db.CommitTurn(ctx, fence, out); err != baton.ErrLeaseLost {
		t.Errorf("second commit on the same token: %v; want ErrLeaseLost", err)
	}
	st, _ = db.LoadTurn(ctx, conv)
	if _, err := db.ClaimLease(ctx, conv, "other", time.Minute); err != nil {
		t.Fatal(err)
	}
	out.Processed = []int64{late.MessageID}
	if _, err := db.CommitTurn(ctx, baton.Lease{ConversationID: conv, Token: st.Token}, out); err != baton.ErrLeaseLost {
		t.Errorf("commit under another turn's lease: %v; want ErrLeaseLost", err)
	}
	var replies, traces, unanswered int
	if err := db.Pool.QueryRow(ctx, `SELECT count(*) FILTER (WHERE author = 'bot'), (SELECT count(*) FROM turn_traces),
		count(*) FILTER (WHERE author = 'customer' AND processed_at IS NULL) FROM messages`).Scan(&replies, &traces, &unanswered); err != nil {
		t.Fatal(err)
	}
	if replies != 1 || traces != 1 || unanswered != 1 {
		t.Errorf("stored %d replies, %d traces, %d unanswered; want 1, 1, 1", replies, traces, unanswered)
	}
}

func TestTurnCommitPartsAreAllOrNothing(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db, clock := setup(t)
	res, err := db.Ingest(ctx, inbound("parts", "parts-1", "a person please"), 0, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	conv := res.ConversationID
	st, err := db.LoadTurn(ctx, conv)
	if err != nil {
		t.Fatal(err)
	}
	summary := "Issue: wants a person"
	out := baton.TurnOutcome{Processed: []int64{res.MessageID}, StartedAt: clock.Now(), Status: baton.StatusQueued,
		State:   &baton.ConversationState{Stage: baton.StageHandedOff, Topic: "order A-1"},
		Summary: &summary, Handoff: &baton.Handoff{Reason: baton.HandoffCustomerRequest},
		Tasks:   []baton.TaskRequest{{Kind: "handoff:assign", TaskID: "handoff:assign:1", Payload: []byte(`{"conversation_id":1}`)}},
		Replies: []baton.Reply{{Author: baton.AuthorBot, Visibility: baton.Public, Text: "passed on"}}}
	fence := baton.Lease{ConversationID: conv, Token: st.Token}
	if _, err := db.CommitTurn(ctx, fence, out); err != nil {
		t.Fatal(err)
	}
	// The same token again is fenced out: the whole commit, not only its first part.
	if _, err := db.CommitTurn(ctx, fence, out); err != baton.ErrLeaseLost {
		t.Fatalf("second commit: %v; want ErrLeaseLost", err)
	}
	after, err := db.LoadTurn(ctx, conv)
	if err != nil {
		t.Fatal(err)
	}
	c := after.Conversation
	if c.Status != baton.StatusQueued || c.State.Stage != baton.StageHandedOff || c.State.Topic != "order A-1" || c.Summary != summary {
		t.Errorf("conversation %s %+v %q; want queued, handed off, the topic and the summary", c.Status, c.State, c.Summary)
	}
	var handoffs, tasks, replies, traces int
	if err := db.Pool.QueryRow(ctx, `SELECT (SELECT count(*) FROM handoffs WHERE reason = 'customer_request'),
		(SELECT count(*) FROM outbox WHERE kind = 'handoff:assign'),
		(SELECT count(*) FROM messages WHERE author = 'bot'), (SELECT count(*) FROM turn_traces)`).Scan(&handoffs, &tasks, &replies, &traces); err != nil {
		t.Fatal(err)
	}
	if handoffs != 1 || tasks != 1 || replies != 1 || traces != 1 {
		t.Errorf("stored %d handoffs, %d tasks, %d replies, %d traces; want one of each", handoffs, tasks, replies, traces)
	}
}
