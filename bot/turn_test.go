package bot_test

import (
	"context"
	"io"
	"log/slog"
	"slices"
	"testing"
	"time"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/bot"
	"github.com/batonhq/baton/internal/dbtest"
	"github.com/batonhq/baton/internal/postgres"
)

type noScheduler struct{}

func (noScheduler) ScheduleTurn(context.Context, int64, int64) error { return nil }

func engine(db *postgres.DB, d bot.Decider) *bot.Engine {
	return &bot.Engine{Store: db, Scheduler: noScheduler{}, Decider: d, Clock: db.Clock,
		Log: slog.New(slog.NewTextHandler(io.Discard, nil)), Owner: "test", LeaseTTL: 10 * time.Second, Optimistic: true}
}

func ingest(t *testing.T, db *postgres.DB, id, text string) baton.IngestResult {
	t.Helper()
	res, err := db.Ingest(context.Background(), baton.Inbound{Channel: "webhook", Sender: baton.Sender{ID: "c1"},
		ExternalID: id, Text: text}, 0, 24*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// racer is a decider whose first decision is overtaken: meanwhile another worker's turn
// answers the oldest pending message.
type racer struct {
	db    *postgres.DB
	calls int
}

func (r *racer) Decide(ctx context.Context, st baton.TurnState) (baton.TurnOutcome, error) {
	r.calls++
	if r.calls == 1 {
		other, err := r.db.LoadTurn(ctx, st.Conversation.ID)
		if err != nil {
			return baton.TurnOutcome{}, err
		}
		if _, err := r.db.CommitTurn(ctx, baton.Lease{ConversationID: st.Conversation.ID, Token: other.Token},
			baton.TurnOutcome{Processed: []int64{other.Pending[0].ID}, StartedAt: time.Now(),
				Replies: []baton.Reply{{Author: baton.AuthorBot, Visibility: baton.Public, Text: "from the other worker"}}}); err != nil {
			return baton.TurnOutcome{}, err
		}
	}
	return bot.Minimal{}.Decide(ctx, st)
}

// An optimistic turn that loses the race re-reads and answers only what is still unanswered.
func TestOptimisticTurnThatLosesRereads(t *testing.T) {
	t.Parallel()
	db := postgres.New(dbtest.New(t).Pool, baton.SystemClock{})
	first := ingest(t, db, "m1", "hello")
	second := ingest(t, db, "m2", "where is my order?")
	r := &racer{db: db}
	res, err := engine(db, r).Turn(context.Background(), second.ConversationID, second.MessageID)
	if err != nil {
		t.Fatal(err)
	}
	if r.calls != 2 || !slices.Equal(res.Answered, []int64{second.MessageID}) || len(res.Outbound) != 1 {
		t.Errorf("decided %d times, answered %v, %d to deliver; want 2, [%d], 1", r.calls, res.Answered, len(res.Outbound), second.MessageID)
	}
	var traces, twice int
	if err := db.Pool.QueryRow(context.Background(), `SELECT count(*), count(*) FILTER (WHERE $1 = ANY(message_ids) AND $2 = ANY(message_ids))
		FROM turn_traces`, first.MessageID, second.MessageID).Scan(&traces, &twice); err != nil {
		t.Fatal(err)
	}
	if traces != 2 || twice != 0 {
		t.Errorf("%d turns stored, %d answering both messages; want 2 and 0", traces, twice)
	}
}

// A turn for a conversation that no longer exists does nothing and is not retried.
func TestTurnOfDeletedConversationIsSkipped(t *testing.T) {
	t.Parallel()
	db := postgres.New(dbtest.New(t).Pool, baton.SystemClock{})
	m := ingest(t, db, "gone-1", "hello")
	if _, err := db.Pool.Exec(context.Background(), `DELETE FROM customers`); err != nil {
		t.Fatal(err)
	}
	res, err := engine(db, bot.Minimal{}).Turn(context.Background(), m.ConversationID, m.MessageID)
	if err != nil || res.Skipped != "gone" {
		t.Errorf("turn = %+v, %v; want skipped as gone", res, err)
	}
}
