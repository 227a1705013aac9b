// Package queue is Baton's asynq adapter: queue names and task types, the outbox relay, the
// worker server with its handlers, and the sweeper that recovers lost turns.
package queue

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/hibiken/asynq"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/internal/channel"
	"github.com/batonhq/baton/internal/postgres"
)

// Queues are the asynq queue names of one deployment (or one test): chat work (turns and
// deliveries) and background work (embeddings, imports).
type Queues struct {
	Chat       string
	Background string
}

// NewQueues derives queue names from a prefix; tests pass a unique prefix.
func NewQueues(prefix string) Queues {
	return Queues{Chat: prefix + ":chat", Background: prefix + ":background"}
}

// For returns the queue of a task kind.
func (q Queues) For(kind string) string {
	switch kind {
	case baton.TaskTurn, baton.TaskDeliver:
		return q.Chat
	}
	return q.Background
}

// Task type names.
const (
	TypeTurn    = "turn"
	TypeDeliver = "deliver"
)

// maxRetry bounds asynq's retries; the sweeper covers turns whose retries run out.
var maxRetry = map[string]int{TypeTurn: 12, TypeDeliver: 10}

// NewTask builds the asynq task for an outbox row.
func NewTask(q Queues, kind, taskID string, payload []byte, processIn time.Duration) (*asynq.Task, []asynq.Option) {
	opts := []asynq.Option{asynq.TaskID(taskID), asynq.Queue(q.For(kind)), asynq.MaxRetry(maxRetry[kind]), asynq.Timeout(2 * time.Minute)}
	if processIn > 0 {
		opts = append(opts, asynq.ProcessIn(processIn))
	}
	return asynq.NewTask(kind, payload), opts
}

// Enqueue puts a task on the queue; a task id already queued counts as success.
func Enqueue(ctx context.Context, c *asynq.Client, q Queues, kind, taskID string, payload []byte, processIn time.Duration) error {
	t, opts := NewTask(q, kind, taskID, payload, processIn)
	_, err := c.EnqueueContext(ctx, t, opts...)
	if err != nil && !errors.Is(err, asynq.ErrTaskIDConflict) {
		return fmt.Errorf("enqueue %s: %w", taskID, err)
	}
	return nil
}

// Scheduler enqueues follow-up and recovered turns directly (they are re-derivable from
// Postgres, so they need no outbox row).
type Scheduler struct {
	Client *asynq.Client
	Queues Queues
}

// ScheduleTurn implements bot.Scheduler.
func (s *Scheduler) ScheduleTurn(ctx context.Context, convID, msgID int64) error {
	payload, _ := json.Marshal(baton.TaskPayload{ConversationID: convID, MessageID: msgID})
	return Enqueue(ctx, s.Client, s.Queues, TypeTurn, postgres.TaskID(baton.TaskTurn, msgID), payload, 0)
}

// retryAfterError carries a delay asked for by a dependency.
type retryAfterError struct {
	d   time.Duration
	err error
}

func (e *retryAfterError) Error() string { return e.err.Error() }
func (e *retryAfterError) Unwrap() error { return e.err }

// RetryDelay is short and jittered, as chat needs (asynq's default starts at ~15 s); it honours
// a dependency's Retry-After and retries a busy lease almost at once.
func RetryDelay(n int, err error, _ *asynq.Task) time.Duration {
	var ra *retryAfterError
	if errors.As(err, &ra) && ra.d > 0 {
		return ra.d
	}
	if errors.Is(err, baton.ErrLeaseBusy) {
		return time.Duration(50+rand.IntN(150)) * time.Millisecond
	}
	d := 200 * time.Millisecond << min(n, 6)
	if d > 10*time.Second {
		d = 10 * time.Second
	}
	return d/2 + time.Duration(rand.Int64N(int64(d/2)+1))
}

// IsFailure keeps waiting for a busy lease or a rate limit from counting against retries.
func IsFailure(err error) bool {
	var ra *retryAfterError
	return !errors.Is(err, baton.ErrLeaseBusy) && !errors.As(err, &ra)
}

// classifyDelivery turns a channel error into what asynq should do.
func classifyDelivery(err error) error {
	var se *channel.SendError
	if errors.As(err, &se) {
		if se.Permanent {
			return fmt.Errorf("%w: %w", err, asynq.SkipRetry)
		}
		if se.RetryAfter > 0 {
			return &retryAfterError{d: min(se.RetryAfter, time.Minute), err: err}
		}
	}
	return err
}

// DeletePrefixed removes the queues whose names start with one of the prefixes (and only
// those): tests, sandboxes and benchmarks share a Redis and must never flush it.
func DeletePrefixed(opt asynq.RedisConnOpt, prefixes ...string) {
	insp := asynq.NewInspector(opt)
	defer insp.Close()
	qs, _ := insp.Queues()
	for _, q := range qs {
		for _, p := range prefixes {
			if strings.HasPrefix(q, p+":") {
				insp.DeleteQueue(q, true) //nolint:errcheck // best effort: the queue may be gone already
			}
		}
	}
}
