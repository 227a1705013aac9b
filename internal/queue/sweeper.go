package queue

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"time"

	"github.com/hibiken/asynq"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/bot"
	"github.com/batonhq/baton/internal/postgres"
)

// Sweeper re-enqueues turns of conversations that have unanswered messages and no live lease:
// a worker was killed mid-turn (asynq would wait 60–120 s) or a task ran out of retries. A turn
// that failed its last allowed attempt is not swept again.
type Sweeper struct {
	DB       *postgres.DB
	Client   *asynq.Client
	Queues   Queues
	Log      *slog.Logger
	Clock    baton.Clock
	Interval time.Duration // default 2s
	// Grace is how long a message may wait before it counts as stalled (beyond the window).
	Grace time.Duration
	// MaxAttempts (default bot.DefaultMaxAttempts) failed attempts end the sweeps of a turn:
	// it was handed to people, or waits among the dead letters for an operator.
	MaxAttempts int
	// Requeued counts re-enqueued turns (nil: not counted).
	Requeued prometheus.Counter
}

// Run sweeps until ctx is done.
func (s *Sweeper) Run(ctx context.Context) error {
	if s.Interval == 0 {
		s.Interval = 2 * time.Second
	}
	baton.Repeat(ctx, s.Interval, func(ctx context.Context) error {
		n, err := s.Once(ctx)
		if n > 0 {
			s.Log.InfoContext(ctx, "re-enqueued stalled turns", "count", n)
		}
		return err
	}, func(err error) { s.Log.WarnContext(ctx, "sweep stalled turns", "err", err) })
	return nil
}

// Once runs one sweep and returns how many turns it re-enqueued.
func (s *Sweeper) Once(ctx context.Context) (int, error) {
	maxAttempts := s.MaxAttempts
	if maxAttempts <= 0 {
		maxAttempts = bot.DefaultMaxAttempts
	}
	stalled, err := s.DB.StalledTurns(ctx, s.Grace, maxAttempts, 200)
	if err != nil {
		return 0, err
	}
	// One id per conversation, message and sweep period: copies from several workers collapse.
	bucket := s.Clock.Now().Unix() / int64(max(1, int(s.Interval.Seconds())))
	for _, p := range stalled {
		payload, _ := json.Marshal(p)
		id := fmt.Sprintf("sweep:%d:%d:%d", p.ConversationID, p.MessageID, bucket)
		if err := Enqueue(ctx, s.Client, s.Queues, TypeTurn, id, payload, 0); err != nil {
			return 0, err
		}
		if s.Requeued != nil {
			s.Requeued.Inc()
		}
	}
	return len(stalled), nil
}
