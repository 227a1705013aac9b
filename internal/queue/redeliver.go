package queue

import (
	"context"
	"encoding/json"
	"log/slog"
	"time"

	"github.com/hibiken/asynq"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/internal/postgres"
)

// Redeliverer queues replies that PostgreSQL says are due but that no task is working on: a
// retry Redis lost, a claim whose worker died (its lease ran out), a reply handed back. Task
// ids name the attempt, so copies from several workers, and a task Redis still holds,
// collapse into one; the claim decides who sends.
type Redeliverer struct {
	DB       *postgres.DB
	Client   *asynq.Client
	Queues   Queues
	Log      *slog.Logger
	Metrics  *DeliveryMetrics
	Interval time.Duration // default 5s
	// Grace is how long a reply may be due before the sweep queues it (its own task is on the way).
	Grace time.Duration // default 1s
}

// Run sweeps until ctx is done.
func (r *Redeliverer) Run(ctx context.Context) error {
	if r.Interval <= 0 {
		r.Interval = 5 * time.Second
	}
	if r.Grace <= 0 {
		r.Grace = time.Second
	}
	baton.Repeat(ctx, r.Interval, func(ctx context.Context) error {
		n, err := r.Once(ctx)
		if n > 0 {
			r.Log.DebugContext(ctx, "queued due deliveries", "count", n)
		}
		return err
	}, func(err error) { r.Log.WarnContext(ctx, "sweep due deliveries", "err", err) })
	return nil
}

// Once queues every due reply (up to a batch) and returns how many it looked at.
func (r *Redeliverer) Once(ctx context.Context) (int, error) {
	due, err := r.DB.DueDeliveries(ctx, r.Grace, 500)
	if err != nil {
		return 0, err
	}
	for _, d := range due {
		payload, _ := json.Marshal(baton.TaskPayload{ConversationID: d.ConversationID, MessageID: d.MessageID})
		if err := Enqueue(ctx, r.Client, r.Queues, TypeDeliver, DeliverTaskID(d.MessageID, d.Attempts+1), payload, 0); err != nil {
			return 0, err
		}
	}
	r.Metrics.requeued(len(due))
	return len(due), nil
}
