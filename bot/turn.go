// Package bot runs a conversation turn: claim the conversation, read it, understand the new
// customer messages, decide the replies, and write everything in one transaction.
package bot

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/batonhq/baton"
)

// Store is what a turn needs from the database. Errors: baton.ErrLeaseBusy from ClaimLease,
// baton.ErrLeaseLost from ExtendLease and CommitTurn; others are infrastructure errors.
type Store interface {
	Debounce(ctx context.Context, convID, msgID int64, window time.Duration) (baton.Debounce, error)
	ClaimLease(ctx context.Context, convID int64, owner string, ttl time.Duration) (baton.Lease, error)
	ExtendLease(ctx context.Context, l baton.Lease, ttl time.Duration) error
	ReleaseLease(ctx context.Context, l baton.Lease) error
	LoadTurn(ctx context.Context, convID int64) (baton.TurnState, error)
	CommitTurn(ctx context.Context, l baton.Lease, out baton.TurnOutcome) ([]int64, error)
	NewestPending(ctx context.Context, convID int64) (int64, bool, error)
}

// Scheduler queues another turn for a message that arrived while a turn was running.
type Scheduler interface {
	ScheduleTurn(ctx context.Context, convID, msgID int64) error
}

// Decider decides a turn's replies from its state. It does no I/O on the conversation store;
// it may call models.
type Decider interface {
	Decide(ctx context.Context, st baton.TurnState) (baton.TurnOutcome, error)
}

// Engine runs turns.
type Engine struct {
	Store     Store
	Scheduler Scheduler
	Decider   Decider
	Clock     baton.Clock
	Log       *slog.Logger
	Owner     string        // this worker's lease owner id
	Window    time.Duration // burst window
	LeaseTTL  time.Duration
}

// Result says what a turn did.
type Result struct {
	Skipped  string  // why nothing ran: "answered", "debounced", "empty"
	Replies  []int64 // stored reply ids
	Answered []int64 // customer messages answered
}

// Turn runs the turn that message msgID of conversation convID asked for. It is safe to run
// twice for the same message: the second run finds the message answered and does nothing.
func (e *Engine) Turn(ctx context.Context, convID, msgID int64) (Result, error) {
	// 1. Debounce on Postgres timestamps: a newer message inside the window runs the turn.
	lease, skipped, err := e.claim(ctx, convID, msgID)
	if err != nil || skipped != "" {
		return Result{Skipped: skipped}, err
	}
	ctx, stop := e.heartbeat(ctx, lease)
	defer stop()
	started := e.Clock.Now()
	// 3. Read the conversation; no transaction or connection is held from here on.
	st, err := e.Store.LoadTurn(ctx, convID)
	if err != nil {
		e.release(lease)
		return Result{}, err
	}
	if len(st.Pending) == 0 {
		e.release(lease)
		return Result{Skipped: "empty"}, nil
	}
	// 4. Understand and decide (may call models).
	out, err := e.Decider.Decide(ctx, st)
	if err != nil {
		e.release(lease)
		return Result{}, fmt.Errorf("decide turn of conversation %d: %w", convID, err)
	}
	out.StartedAt = started
	if out.Trace == nil {
		out.Trace = map[string]any{}
	}
	out.Trace["decide_ms"] = float64(e.Clock.Now().Sub(started).Microseconds()) / 1000
	for _, m := range st.Pending {
		out.Processed = append(out.Processed, m.ID)
	}
	// 5. Write it all at once, only if the lease is still ours.
	ids, err := e.Store.CommitTurn(ctx, lease, out)
	if err != nil {
		if !errors.Is(err, baton.ErrLeaseLost) {
			e.release(lease)
		}
		return Result{}, err
	}
	// 6. A message that arrived during the turn gets the next one.
	if next, ok, err := e.Store.NewestPending(ctx, convID); err == nil && ok {
		if err := e.Scheduler.ScheduleTurn(ctx, convID, next); err != nil {
			e.Log.WarnContext(ctx, "schedule follow-up turn", "conversation_id", convID, "err", err)
		}
	}
	return Result{Replies: ids, Answered: out.Processed}, nil
}

// busyWait bounds how long a task waits in-process for another turn of its conversation
// before handing back to the queue (whose retry clock has one-second resolution).
const busyWait = 3 * time.Second

// claim debounces and then claims the conversation's lease (step 1 and 2 of a turn). While
// another turn runs, it polls with reads, not writes; that turn often answers this message too.
func (e *Engine) claim(ctx context.Context, convID, msgID int64) (baton.Lease, string, error) {
	deadline := time.Now().Add(busyWait)
	for {
		d, err := e.Store.Debounce(ctx, convID, msgID, e.Window)
		switch {
		case err != nil:
			return baton.Lease{}, "", err
		case d.Answered:
			return baton.Lease{}, "answered", nil
		case d.Newer:
			return baton.Lease{}, "debounced", nil
		case d.Early > 0:
			// The queue ran the task before the window closed; wait it out, then look again.
			if err := sleep(ctx, d.Early); err != nil {
				return baton.Lease{}, "", err
			}
			continue
		case d.LeaseFree:
			lease, err := e.Store.ClaimLease(ctx, convID, e.Owner, e.LeaseTTL)
			if !errors.Is(err, baton.ErrLeaseBusy) {
				return lease, "", err
			}
		}
		if time.Now().After(deadline) {
			return baton.Lease{}, "", baton.ErrLeaseBusy
		}
		if err := sleep(ctx, 15*time.Millisecond); err != nil {
			return baton.Lease{}, "", err
		}
	}
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// heartbeat extends the lease every third of its TTL until stop is called. If the lease is
// lost, the returned context is cancelled so the turn stops early (its write would be refused).
func (e *Engine) heartbeat(ctx context.Context, l baton.Lease) (context.Context, func()) {
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		t := time.NewTicker(e.LeaseTTL / 3)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				if err := e.Store.ExtendLease(ctx, l, e.LeaseTTL); err != nil {
					if errors.Is(err, baton.ErrLeaseLost) {
						e.Log.WarnContext(ctx, "turn lease lost", "conversation_id", l.ConversationID)
						cancel()
						return
					}
					e.Log.WarnContext(ctx, "extend turn lease", "conversation_id", l.ConversationID, "err", err)
				}
			}
		}
	}()
	return ctx, func() { close(done); cancel() }
}

func (e *Engine) release(l baton.Lease) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := e.Store.ReleaseLease(ctx, l); err != nil {
		e.Log.Warn("release turn lease", "conversation_id", l.ConversationID, "err", err)
	}
}
