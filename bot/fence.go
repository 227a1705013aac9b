package bot

import (
	"context"
	"errors"
	"time"

	"github.com/batonhq/baton"
)

// The fencing protocol: a turn decides on a state it read and commits only if nothing changed
// it meanwhile — either optimistically (the token it read is unchanged and no lease is live) or
// under a claimed lease (owner and token) kept alive by a heartbeat.

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
