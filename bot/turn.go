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
	// Failures counts failed attempts (nil: a failed turn is only retried); after MaxAttempts
	// (default DefaultMaxAttempts) the conversation goes to people. OnFailure observes each.
	Failures    Failures
	MaxAttempts int
	OnFailure   func(handedOff bool)
	// Switches pause or mute the bot (nil: never).
	Switches Switches
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
	out, err := e.decide(ctx, st) // the operators' switches, then the Decider
	if err != nil {
		// A turn that keeps failing is handed to people instead (see failed).
		if out, err = e.failed(ctx, st, fmt.Errorf("decide turn of conversation %d: %w", convID, err)); err != nil {
			e.release(l)
			return Result{}, err
		}
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
	held := map[int64]bool{}
	for _, id := range c.Held {
		held[id] = true
	}
	for i, id := range c.Replies {
		r := out.Replies[i]
		if r.Visibility != baton.Public {
			continue
		}
		// The commit claimed the reply for its first send, unless it waits for an earlier one.
		state, attempt := baton.DeliverySending, 1
		if held[id] {
			state, attempt = baton.DeliveryPending, 0
		}
		res.Outbound = append(res.Outbound, baton.Outbound{MessageID: id, ConversationID: convID,
			Channel: st.Conversation.Channel, RecipientID: st.Conversation.Customer.ExternalID, Text: r.Text,
			Author: r.Author, Citations: r.Citations, Visibility: r.Visibility, State: state, Attempts: attempt})
	}
	return res, nil
}
