package queue

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/hibiken/asynq"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/internal/channel"
	"github.com/batonhq/baton/internal/postgres"
)

// Deliverer sends replies. A send runs in a bounded pool, apart from the task that asked for
// it: the task waits a moment (most sends take milliseconds) and then goes back to work, so a
// slow receiver never holds the workers that run turns. Every result is recorded in PostgreSQL
// through the group-committed Recorder, with the next attempt's time when it must be retried;
// the attempt is also queued, and the Redeliverer queues it again if Redis loses it.
type Deliverer struct {
	DB       *postgres.DB
	Channels channel.Registry
	Recorder *Recorder
	Client   *asynq.Client
	Queues   Queues
	Log      *slog.Logger
	Clock    baton.Clock
	Metrics  *DeliveryMetrics // nil: not counted

	SendTimeout time.Duration // one send (default 15s); the send lease is twice as long
	InFlight    int           // sends in flight at once (default 64)
	RetryFor    time.Duration // how long a reply is retried before it is failed (default 24h)
	Wait        time.Duration // how long a task waits for its sends (default 2s)

	once  sync.Once
	slots chan struct{}
	wg    sync.WaitGroup
}

// SendLease is the lease a claim takes for a deliverer with send timeout t: a send must start
// within t/2 of its claim, so it ends well inside the lease.
func SendLease(t time.Duration) time.Duration { return 2 * t }

func (d *Deliverer) init() {
	d.once.Do(func() {
		if d.SendTimeout <= 0 {
			d.SendTimeout = 15 * time.Second
		}
		if d.InFlight <= 0 {
			d.InFlight = 64
		}
		if d.RetryFor <= 0 {
			d.RetryFor = 24 * time.Hour
		}
		if d.Wait <= 0 {
			d.Wait = 2 * time.Second
		}
		d.slots = make(chan struct{}, d.InFlight)
	})
}

// send is one claimed reply waiting for its attempt.
type send struct {
	c       postgres.Claimed
	startBy time.Time // past this, the claim's lease may end before the send does: hand it back
}

// claimedAt makes a send of a reply claimed now.
func (d *Deliverer) claimedAt(c postgres.Claimed, now time.Time) send {
	return send{c: c, startBy: now.Add(d.SendTimeout / 2)}
}

// Deliver sends the replies, in order, in the pool, and waits for them at most d.Wait (or until
// ctx ends); the sends go on without the caller. Replies the pool cannot start in time are
// handed back (pending, due now) for another attempt.
func (d *Deliverer) Deliver(ctx context.Context, sends []send) {
	d.init()
	if len(sends) == 0 {
		return
	}
	done := make(chan struct{})
	d.wg.Add(1)
	go func() {
		defer d.wg.Done()
		defer close(done)
		d.run(context.WithoutCancel(ctx), sends)
	}()
	t := time.NewTimer(d.Wait)
	defer t.Stop()
	select {
	case <-done:
	case <-t.C:
	case <-ctx.Done():
	}
}

// Drain waits until the sends in flight end, at most timeout.
func (d *Deliverer) Drain(timeout time.Duration) {
	done := make(chan struct{})
	go func() { d.wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(timeout):
	}
}

func (d *Deliverer) run(ctx context.Context, sends []send) {
	wait := sends[0].startBy.Sub(d.Clock.Now())
	t := time.NewTimer(max(wait, 0))
	defer t.Stop()
	select {
	case d.slots <- struct{}{}:
	case <-t.C:
		d.handBack(ctx, sends)
		return
	}
	defer func() { <-d.slots }()
	for i, s := range sends {
		if d.Clock.Now().After(s.startBy) {
			d.handBack(ctx, sends[i:])
			return
		}
		if !d.attempt(ctx, s) && i+1 < len(sends) {
			// The later replies must not overtake this one: they wait for it.
			d.handBack(ctx, sends[i+1:])
			return
		}
	}
}

// handBack gives claims up unsent: the replies are pending and due now, and queued again.
func (d *Deliverer) handBack(ctx context.Context, sends []send) {
	now := d.Clock.Now()
	for _, s := range sends {
		up := baton.DeliveryUpdate{MessageID: s.c.MessageID, State: baton.DeliveryPending, Attempt: s.c.Attempts, NextAttemptAt: now}
		if err := d.Recorder.Record(ctx, up); err != nil {
			d.Log.WarnContext(ctx, "hand back delivery", "message_id", s.c.MessageID, "err", err)
			continue // its lease ends and the redelivery sweep takes it
		}
		d.enqueue(ctx, s.c.ConversationID, s.c.MessageID, s.c.Attempts+1, 0)
	}
	d.Log.DebugContext(ctx, "deliveries handed back", "count", len(sends))
}

// attempt sends one claimed reply and records the result; it reports whether the reply is sent.
func (d *Deliverer) attempt(ctx context.Context, s send) bool {
	o := s.c
	up := baton.DeliveryUpdate{MessageID: o.MessageID, Attempt: o.Attempts, State: baton.DeliverySent}
	ch, err := d.Channels.Get(o.Channel)
	var receipt baton.Receipt
	if err == nil {
		sctx, cancel := context.WithTimeout(ctx, d.SendTimeout)
		receipt, err = ch.Send(sctx, o.Outbound)
		cancel()
	} else {
		err = &channel.SendError{Permanent: true, Err: err}
	}
	if len(receipt.ProviderIDs) > 0 { // also the parts sent before a failure
		// The provider's ids map its status callbacks back to the reply.
		if rerr := d.DB.RecordReceipt(ctx, o.Channel, o.MessageID, receipt); rerr != nil {
			d.Log.WarnContext(ctx, "record receipt", "message_id", o.MessageID, "err", rerr)
		}
	}
	outcome := "sent"
	var retryIn time.Duration
	if err != nil {
		up.Error = truncate(err.Error(), 500)
		var se *channel.SendError
		unknown := errors.As(err, &se) && se.AfterSend
		switch {
		case channel.IsPermanent(err):
			up.State, outcome = baton.DeliveryFailed, "failed"
		default:
			now := d.Clock.Now()
			retryIn = Backoff(o.Attempts, err)
			up.State, outcome = baton.DeliveryPending, "retry"
			if unknown {
				up.State, outcome = baton.DeliveryUnknown, "unknown"
			}
			if unknown && !ch.Caps().Idempotent {
				// The provider cannot recognise a resend (no idempotency key): the reply is never
				// sent twice. It stays unknown until a status callback settles it.
				retryIn, outcome = 0, "given_up"
				d.Log.WarnContext(ctx, "delivery result unknown; not resent (the provider has no idempotency key)",
					"message_id", o.MessageID, "channel", o.Channel, "err", err)
			} else if next := now.Add(retryIn); next.Before(o.Created.Add(d.RetryFor)) {
				up.NextAttemptAt = next
			} else {
				// Retried long enough. An unknown reply may have arrived: it stays unknown.
				retryIn, outcome = 0, "given_up"
				if !unknown {
					up.State = baton.DeliveryFailed
				}
			}
		}
	}
	rctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	rerr := d.Recorder.Record(rctx, up)
	cancel()
	if rerr != nil {
		// The claim's lease ends and the redelivery sweep retries the reply.
		d.Log.WarnContext(ctx, "record delivery", "message_id", o.MessageID, "err", rerr)
	}
	d.Metrics.count(outcome)
	switch outcome {
	case "sent":
		return true
	case "given_up", "failed":
		d.Log.WarnContext(ctx, "delivery failed for good", "message_id", o.MessageID, "conversation_id", o.ConversationID,
			"state", up.State, "attempts", o.Attempts, "err", err)
	default:
		d.Log.InfoContext(ctx, "delivery failed; will retry", "message_id", o.MessageID, "conversation_id", o.ConversationID,
			"state", up.State, "attempt", o.Attempts, "retry_in", retryIn, "err", err)
		if rerr == nil {
			d.enqueue(ctx, o.ConversationID, o.MessageID, o.Attempts+1, retryIn)
		}
	}
	return false
}

// enqueue queues attempt n of a reply (best effort: PostgreSQL holds the schedule and the
// Redeliverer queues it again if this is lost).
func (d *Deliverer) enqueue(ctx context.Context, convID, msgID int64, n int, in time.Duration) {
	if d.Client == nil {
		return
	}
	payload, _ := json.Marshal(baton.TaskPayload{ConversationID: convID, MessageID: msgID})
	if err := Enqueue(ctx, d.Client, d.Queues, TypeDeliver, DeliverTaskID(msgID, n), payload, in); err != nil {
		d.Log.WarnContext(ctx, "queue delivery attempt", "message_id", msgID, "err", err)
	}
}

// DeliverTaskID names attempt n of a reply's delivery: each attempt is its own task, so a
// finished attempt never blocks the next, and copies of one attempt collapse.
func DeliverTaskID(msgID int64, n int) string {
	return fmt.Sprintf("%s:%d:%d", TypeDeliver, msgID, n)
}

// handleDeliver claims the reply and sends it through the pool.
func (d *Deliverer) handleDeliver(ctx context.Context, t *asynq.Task) error {
	d.init()
	p, err := decode(t)
	if err != nil {
		return err
	}
	c, err := d.DB.ClaimDelivery(ctx, p.MessageID)
	switch {
	case errors.Is(err, postgres.ErrNotDue), errors.Is(err, baton.ErrNotFound):
		return nil // sent, claimed by another attempt, not due yet, or gone
	case errors.Is(err, postgres.ErrHeld):
		return err // retried shortly, not counted as a failure
	case err != nil:
		return err
	}
	d.Deliver(ctx, []send{d.claimedAt(c, d.Clock.Now())})
	return nil
}

// Backoff is the wait after failed attempt n (1-based): a second, doubling to a cap of ten
// minutes, with ±20 % jitter; a receiver's Retry-After wins, up to an hour.
func Backoff(n int, err error) time.Duration {
	var se *channel.SendError
	if errors.As(err, &se) && se.RetryAfter > 0 {
		return min(se.RetryAfter, time.Hour)
	}
	d := BackoffBase(n)
	return d - d/5 + time.Duration(rand.Int64N(int64(2*d/5)+1))
}

// BackoffBase is Backoff without jitter: 1s, 2s, 4s, … 512s, then 10m.
func BackoffBase(n int) time.Duration {
	const limit = 10 * time.Minute
	if n < 1 {
		n = 1
	}
	if n > 10 {
		return limit
	}
	return min(time.Second<<(n-1), limit)
}

// DeliveryMetrics count delivery attempts by outcome.
type DeliveryMetrics struct {
	attempts    *prometheus.CounterVec
	redelivered prometheus.Counter
}

// NewDeliveryMetrics registers the delivery metrics on reg.
func NewDeliveryMetrics(reg prometheus.Registerer) *DeliveryMetrics {
	m := &DeliveryMetrics{
		attempts: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "baton_delivery_attempts_total",
			Help: "Reply delivery attempts by outcome: sent, retry, unknown (retried), failed (refused), given_up (retried for BATON_DELIVERY_RETRY_FOR)."},
			[]string{"outcome"}),
		redelivered: prometheus.NewCounter(prometheus.CounterOpts{Name: "baton_delivery_requeued_total",
			Help: "Due replies the redelivery sweep queued again (their task was lost or their worker died)."}),
	}
	reg.MustRegister(m.attempts, m.redelivered)
	return m
}

func (m *DeliveryMetrics) count(outcome string) {
	if m != nil {
		m.attempts.WithLabelValues(outcome).Inc()
	}
}

func (m *DeliveryMetrics) requeued(n int) {
	if m != nil {
		m.redelivered.Add(float64(n))
	}
}
