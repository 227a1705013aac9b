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
	LoadTurn(ctx context.Context, convID int64) (baton.TurnState, error)
	// Debounce is a cheap re-check while another turn of the conversation runs.
	Debounce(ctx context.Context, convID, msgID int64, window time.Duration) (baton.Debounce, error)
	ClaimLease(ctx context.Context, convID int64, owner string, ttl time.Duration) (baton.Lease, error)
	ExtendLease(ctx context.Context, l baton.Lease, ttl time.Duration) error
	ReleaseLease(ctx context.Context, l baton.Lease) error
	CommitTurn(ctx context.Context, l baton.Lease, out baton.TurnOutcome) (baton.TurnCommit, error)
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
	// Optimistic decides before taking the conversation: a turn is then one read and one
	// write, and a concurrent turn makes the commit fail and the turn run again. Right for a
	// fast local decider; with a slow one (an LLM) a lease is claimed first, so that work is
	// neither wasted nor done twice.
	Optimistic bool
}

// Result says what a turn did.
type Result struct {
	Skipped  string           // why nothing ran: "answered", "debounced", "empty", "gone"
	Replies  []int64          // stored reply ids
	Answered []int64          // customer messages answered
	Outbound []baton.Outbound // the public replies, ready to deliver
}

// busyWait bounds how long a task waits in-process for another turn of its conversation
// before handing back to the queue (whose retry clock has one-second resolution).
const busyWait = 3 * time.Second

// Turn runs the turn that message msgID of conversation convID asked for. It is safe to run
// twice for the same message: the second run finds the message answered and does nothing.
func (e *Engine) Turn(ctx context.Context, convID, msgID int64) (Result, error) {
	deadline := time.Now().Add(busyWait)
	for {
		st, fence, skipped, err := e.claim(ctx, convID, msgID, deadline)
		if err != nil || skipped != "" {
			return Result{Skipped: skipped}, err
		}
		res, err := e.run(ctx, st, fence)
		if errors.Is(err, baton.ErrLeaseLost) && fence.Owner == "" {
			// Another turn committed first: look again, or leave it to the queue's retry.
			if time.Now().Before(deadline) {
				continue
			}
			err = baton.ErrLeaseBusy
		}
		return res, err
	}
}

// claim waits out the burst window and any running turn of the conversation, then returns
// the state to decide on and the fence to commit with: a claimed lease, or when optimistic
// the token read with the state.
func (e *Engine) claim(ctx context.Context, convID, msgID int64, deadline time.Time) (baton.TurnState, baton.Lease, string, error) {
	for {
		st, err := e.Store.LoadTurn(ctx, convID)
		if errors.Is(err, baton.ErrNotFound) {
			return st, baton.Lease{}, "gone", nil // the conversation was deleted
		}
		if err != nil {
			return st, baton.Lease{}, "", err
		}
		d := st.Debounce(msgID, e.Window, e.Clock.Now())
		switch {
		case d.Answered:
			return st, baton.Lease{}, "answered", nil
		case d.Newer:
			// A newer message inside the window: its task runs the turn.
			return st, baton.Lease{}, "debounced", nil
		case d.Early > 0:
			// The queue ran the task before the window closed; wait it out, then look again.
			if err := sleep(ctx, d.Early); err != nil {
				return st, baton.Lease{}, "", err
			}
			continue
		case !d.LeaseFree:
			if err := e.awaitLease(ctx, convID, msgID, deadline); err != nil {
				return st, baton.Lease{}, "", err
			}
			continue
		case e.Optimistic:
			return st, baton.Lease{ConversationID: convID, Token: st.Token}, "", nil
		}
		lease, err := e.Store.ClaimLease(ctx, convID, e.Owner, e.LeaseTTL)
		if errors.Is(err, baton.ErrLeaseBusy) {
			continue
		}
		if err != nil {
			return st, lease, "", err
		}
		// Read again under the lease: another turn may have committed since.
		if st, err = e.Store.LoadTurn(ctx, convID); err != nil {
			e.release(lease)
			return st, lease, "", err
		}
		return st, lease, "", nil
	}
}

// awaitLease polls with a cheap read until the conversation's running turn ends (it often
// answers this message too) or the deadline passes.
func (e *Engine) awaitLease(ctx context.Context, convID, msgID int64, deadline time.Time) error {
	for {
		if time.Now().After(deadline) {
			return baton.ErrLeaseBusy
		}
		if err := sleep(ctx, 15*time.Millisecond); err != nil {
			return err
		}
		d, err := e.Store.Debounce(ctx, convID, msgID, e.Window)
		if err != nil || d.Answered || d.LeaseFree {
			return err
		}
	}
}

// run decides and commits a turn on state st, fenced by l.
func (e *Engine) run(ctx context.Context, st baton.TurnState, l baton.Lease) (Result, error) {
	convID := st.Conversation.ID
	if l.Owner != "" {
		var stop func()
		ctx, stop = e.heartbeat(ctx, l)
		defer stop()
	}
	if len(st.Pending) == 0 {
		e.release(l)
		return Result{Skipped: "empty"}, nil
	}
	started := e.Clock.Now() // stored with the turn: the injected clock
	t0 := time.Now()         // the bot's own time, measured on the wall clock
	// Understand and decide (may call models); no transaction or connection is held.
	out, err := e.Decider.Decide(ctx, st)
	if err != nil {
		e.release(l)
		return Result{}, fmt.Errorf("decide turn of conversation %d: %w", convID, err)
	}
	out.StartedAt = started
	if out.Trace == nil {
		out.Trace = map[string]any{}
	}
	out.Trace["decide_ms"] = float64(time.Since(t0).Microseconds()) / 1000
	for _, m := range st.Pending {
		out.Processed = append(out.Processed, m.ID)
	}
	// Write it all at once, only if the fence still holds.
	c, err := e.Store.CommitTurn(ctx, l, out)
	if err != nil {
		if !errors.Is(err, baton.ErrLeaseLost) {
			e.release(l)
		}
		return Result{}, err
	}
	// A message that arrived during the turn gets the next one.
	if c.Pending != 0 {
		if err := e.Scheduler.ScheduleTurn(ctx, convID, c.Pending); err != nil {
			e.Log.WarnContext(ctx, "schedule follow-up turn", "conversation_id", convID, "err", err)
		}
	}
	res := Result{Replies: c.Replies, Answered: out.Processed}
	for i, id := range c.Replies {
		r := out.Replies[i]
		if r.Visibility != baton.Public {
			continue
		}
		res.Outbound = append(res.Outbound, baton.Outbound{MessageID: id, ConversationID: convID,
			Channel: st.Conversation.Channel, RecipientID: st.Conversation.Customer.ExternalID, Text: r.Text,
			Author: r.Author, Citations: r.Citations, Visibility: r.Visibility, State: baton.DeliveryPending})
	}
	return res, nil
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
	if l.Owner == "" {
		return // an optimistic turn holds nothing
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := e.Store.ReleaseLease(ctx, l); err != nil {
		e.Log.Warn("release turn lease", "conversation_id", l.ConversationID, "err", err)
	}
}
