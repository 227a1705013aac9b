package postgres_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/internal/postgres"
)

// replyOnce stores a customer message and a turn that answers it; it returns the reply and
// what the commit said about it.
func replyOnce(t *testing.T, db *postgres.DB, sender, extID string) (baton.TurnCommit, int64) {
	t.Helper()
	ctx := context.Background()
	res, err := db.Ingest(ctx, inbound(sender, extID, "hello"), 0, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	l, err := db.ClaimLease(ctx, res.ConversationID, "test", time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	c, err := db.CommitTurn(ctx, l, baton.TurnOutcome{Processed: []int64{res.MessageID}, StartedAt: db.Clock.Now(),
		Replies: []baton.Reply{{Author: baton.AuthorBot, Visibility: baton.Public, Text: "ok"}}})
	if err != nil {
		t.Fatal(err)
	}
	return c, c.Replies[0]
}

func delivery(t *testing.T, db *postgres.DB, id int64) (state string, attempts int, next *time.Time) {
	t.Helper()
	if err := db.Pool.QueryRow(context.Background(), `SELECT delivery_state, delivery_attempts, delivery_next_at
		FROM messages WHERE id = $1`, id).Scan(&state, &attempts, &next); err != nil {
		t.Fatal(err)
	}
	return state, attempts, next
}

// The turn commit claims its reply for one send; only the holder of a claim records a retry,
// a reply in its lease is not claimed again, and a reply waits for an earlier undelivered one.
func TestDeliveryClaimsAndFences(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db, clock := setup(t)
	db.Delivery = postgres.DeliveryTimes{SendLease: 30 * time.Second, OrderWait: time.Minute}
	c, first := replyOnce(t, db, "cust", "m-1")
	if len(c.Held) != 0 {
		t.Fatalf("held %v; want the first reply claimed at once", c.Held)
	}
	if s, n, next := delivery(t, db, first); s != "sending" || n != 1 || next == nil || !next.Equal(clock.Now().Add(30*time.Second)) {
		t.Fatalf("after the commit: %s, attempt %d, next %v; want sending, 1, the end of the lease", s, n, next)
	}
	if _, err := db.ClaimDelivery(ctx, first); !errors.Is(err, postgres.ErrNotDue) {
		t.Fatalf("claim inside the lease: %v; want ErrNotDue", err)
	}
	// A second turn answers while the first reply is undelivered: its reply is held.
	c2, second := replyOnce(t, db, "cust", "m-2")
	if len(c2.Held) != 1 || c2.Held[0] != second {
		t.Fatalf("held %v; want [%d]", c2.Held, second)
	}
	if _, err := db.ClaimDelivery(ctx, second); !errors.Is(err, postgres.ErrHeld) {
		t.Fatalf("claim behind an undelivered reply: %v; want ErrHeld", err)
	}
	// The first send fails; its claim records a retry in 5 s.
	retryAt := clock.Now().Add(5 * time.Second)
	steps := []struct {
		name     string
		up       baton.DeliveryUpdate
		advance  time.Duration
		state    string
		attempts int
	}{
		{name: "a result without the claim changes nothing",
			up:    baton.DeliveryUpdate{MessageID: first, Attempt: 7, State: baton.DeliveryPending, NextAttemptAt: retryAt},
			state: "sending", attempts: 1},
		{name: "the claim's result schedules a retry",
			up:    baton.DeliveryUpdate{MessageID: first, Attempt: 1, State: baton.DeliveryPending, NextAttemptAt: retryAt},
			state: "pending", attempts: 1},
		{name: "the same result again changes nothing",
			up:    baton.DeliveryUpdate{MessageID: first, Attempt: 1, State: baton.DeliveryUnknown, NextAttemptAt: retryAt},
			state: "pending", attempts: 1},
	}
	for _, s := range steps {
		if err := db.RecordDeliveries(ctx, []baton.DeliveryUpdate{s.up}); err != nil {
			t.Fatal(err)
		}
		if st, n, _ := delivery(t, db, first); st != s.state || n != s.attempts {
			t.Errorf("%s: %s, attempt %d; want %s, %d", s.name, st, n, s.state, s.attempts)
		}
	}
	if _, err := db.ClaimDelivery(ctx, first); !errors.Is(err, postgres.ErrNotDue) {
		t.Fatalf("claim before the retry is due: %v; want ErrNotDue", err)
	}
	due, err := db.DueDeliveries(ctx, 0, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(due) != 1 || due[0].MessageID != second {
		t.Fatalf("due %+v; want only the held reply", due)
	}
	clock.Advance(5 * time.Second)
	got, err := db.ClaimDelivery(ctx, first)
	if err != nil {
		t.Fatalf("claim of a due retry: %v", err)
	}
	if got.Attempts != 2 || got.RecipientID != "cust" || got.Text != "ok" || got.State != baton.DeliverySending {
		t.Errorf("claimed %+v; want attempt 2 to cust", got)
	}
	// Its worker dies: the lease runs out and the reply is claimed again.
	clock.Advance(31 * time.Second)
	if got, err = db.ClaimDelivery(ctx, first); err != nil || got.Attempts != 3 {
		t.Fatalf("claim after the lease: attempt %d, %v; want attempt 3", got.Attempts, err)
	}
	// The dead worker's late news of success still counts; the schedule ends.
	if err := db.RecordDeliveries(ctx, []baton.DeliveryUpdate{{MessageID: first, Attempt: 2, State: baton.DeliverySent}}); err != nil {
		t.Fatal(err)
	}
	if st, _, next := delivery(t, db, first); st != "sent" || next != nil {
		t.Errorf("after a late success: %s, next %v; want sent, none", st, next)
	}
	// With the first reply delivered, the second goes.
	if got, err = db.ClaimDelivery(ctx, second); err != nil || got.Attempts != 1 {
		t.Fatalf("claim of the held reply after the first was sent: attempt %d, %v", got.Attempts, err)
	}
}

// A reply waits for an earlier one only for OrderWait.
func TestHeldReplyGoesAfterOrderWait(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db, clock := setup(t)
	db.Delivery = postgres.DeliveryTimes{SendLease: time.Hour, OrderWait: time.Minute}
	replyOnce(t, db, "cust", "m-1")
	_, second := replyOnce(t, db, "cust", "m-2")
	if _, err := db.ClaimDelivery(ctx, second); !errors.Is(err, postgres.ErrHeld) {
		t.Fatalf("claim: %v; want ErrHeld", err)
	}
	clock.Advance(61 * time.Second)
	if _, err := db.ClaimDelivery(ctx, second); err != nil {
		t.Fatalf("claim after the order wait: %v", err)
	}
}
