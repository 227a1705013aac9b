package queue

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/hibiken/asynq"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/internal/postgres"
)

// Relay moves outbox rows to the queue. NOTIFY wakes it at once; a periodic sweep catches rows
// committed out of id order and rows that could not be enqueued (Redis down). Rows are marked
// dispatched in batches, so the relay adds a small fraction of a commit per message.
type Relay struct {
	DB     *postgres.DB
	Client *asynq.Client
	Queues Queues
	Log    *slog.Logger
	Clock  baton.Clock
	// Sweep is how often all undispatched rows are rescanned (default 1s).
	Sweep time.Duration
	// Batch is the most rows read per round trip (default 500).
	Batch int

	watermark int64               // highest id enqueued by the notify path
	gaps      map[int64]time.Time // ids below the watermark not seen yet: their transaction may still commit
	marks     []int64             // enqueued, not yet marked dispatched
	markedAt  time.Time           // when marks were last flushed
}

// gapWait is how long the notify path keeps looking for an id that was skipped (a transaction
// that committed after a later one, or rolled back); after it, the sweep takes over.
const gapWait = 3 * time.Second

// from returns the id after which the notify path reads: below the oldest open gap.
func (r *Relay) from() int64 {
	after := r.watermark
	now := r.Clock.Now()
	for id, seen := range r.gaps {
		if now.Sub(seen) > gapWait {
			delete(r.gaps, id)
			continue
		}
		after = min(after, id-1)
	}
	return after
}

// Run relays until ctx is done.
func (r *Relay) Run(ctx context.Context) error {
	if r.Sweep == 0 {
		r.Sweep = time.Second
	}
	if r.Batch == 0 {
		r.Batch = 500
	}
	wake := make(chan struct{}, 1)
	go r.listen(ctx, r.DB.Pool, wake)
	sweep := time.NewTicker(r.Sweep)
	defer sweep.Stop()
	backoff := time.Duration(0)
	for {
		if backoff > 0 {
			select {
			case <-ctx.Done():
				r.flushMarks(context.WithoutCancel(ctx))
				return nil
			case <-time.After(backoff):
			}
		}
		select {
		case <-ctx.Done():
			r.flushMarks(context.WithoutCancel(ctx))
			return nil
		case <-wake:
			if err := r.drain(ctx, r.from(), true); err != nil {
				backoff = r.fail(ctx, backoff, err)
				continue
			}
		case <-sweep.C:
			r.flushMarks(ctx)
			// Fresh rows first (a wake-up may have been lost to an outage), then rows committed
			// out of id order, old enough that the notify path must have missed them.
			err := r.drain(ctx, r.from(), true)
			if err == nil {
				err = r.drain(ctx, 0, false)
			}
			if err != nil {
				backoff = r.fail(ctx, backoff, err)
				continue
			}
		}
		backoff = 0
		if len(r.marks) >= 1000 || (len(r.marks) > 0 && r.Clock.Now().Sub(r.markedAt) > 500*time.Millisecond) {
			r.flushMarks(ctx)
		}
	}
}

func (r *Relay) fail(ctx context.Context, backoff time.Duration, err error) time.Duration {
	if ctx.Err() != nil {
		return 0
	}
	backoff = max(100*time.Millisecond, min(backoff*2, 5*time.Second))
	r.Log.WarnContext(ctx, "relay outbox", "err", err, "retry_in", backoff)
	return backoff
}

// drain enqueues undispatched rows after id `after`; fresh=false limits it to stale rows.
func (r *Relay) drain(ctx context.Context, after int64, fresh bool) error {
	for {
		rows, err := r.DB.PendingOutbox(ctx, after, r.Batch)
		if err != nil {
			return err
		}
		pending := map[int64]bool{}
		for _, id := range r.marks {
			pending[id] = true
		}
		now := r.Clock.Now()
		for _, row := range rows {
			after = row.ID
			if pending[row.ID] || (!fresh && now.Sub(row.RunAt) < 2*time.Second && row.ID > r.watermark) {
				continue
			}
			// A reply's deliver row is a fallback: the worker delivers at once and settles it.
			if row.Kind == baton.TaskDeliver && row.RunAt.After(now) {
				continue
			}
			if err := Enqueue(ctx, r.Client, r.Queues, row.Kind, row.TaskID, row.Payload, row.RunAt.Sub(now)); err != nil {
				return err
			}
			delete(r.gaps, row.ID)
			if fresh && row.ID > r.watermark {
				if r.gaps == nil {
					r.gaps = map[int64]time.Time{}
				}
				for id := r.watermark + 1; id < row.ID && r.watermark > 0 && row.ID-id < 10000; id++ {
					r.gaps[id] = now
				}
				r.watermark = row.ID
			}
			if len(r.marks) == 0 {
				r.markedAt = r.Clock.Now()
			}
			r.marks = append(r.marks, row.ID)
		}
		if len(rows) < r.Batch {
			return nil
		}
	}
}

func (r *Relay) flushMarks(ctx context.Context) {
	if len(r.marks) == 0 {
		return
	}
	if err := r.DB.MarkDispatched(ctx, r.marks); err != nil {
		r.Log.WarnContext(ctx, "mark outbox dispatched", "err", err)
		return
	}
	r.marks = r.marks[:0]
	r.markedAt = r.Clock.Now()
}

// listen turns NOTIFY on the outbox channel into wake-ups, reconnecting on failure.
func (r *Relay) listen(ctx context.Context, pool *pgxpool.Pool, wake chan<- struct{}) {
	signal := func() {
		select {
		case wake <- struct{}{}:
		default:
		}
	}
	for ctx.Err() == nil {
		conn, err := pool.Acquire(ctx)
		if err != nil {
			time.Sleep(500 * time.Millisecond)
			continue
		}
		_, err = conn.Exec(ctx, "LISTEN "+postgres.OutboxChannel)
		signal() // catch up on anything committed before LISTEN
		for err == nil {
			_, err = conn.Conn().WaitForNotification(ctx)
			if err == nil {
				signal()
			}
		}
		if ctx.Err() == nil && !errors.Is(err, context.Canceled) {
			r.Log.WarnContext(ctx, "outbox listener", "err", err)
		}
		// The connection may hold a LISTEN; don't return it to the pool.
		conn.Hijack().Close(context.WithoutCancel(ctx))
		if ctx.Err() == nil {
			time.Sleep(200 * time.Millisecond)
		}
	}
}
