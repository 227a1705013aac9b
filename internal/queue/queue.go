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
	"github.com/batonhq/baton/internal/postgres"
)

// Queues are the asynq queue names of one deployment (or one test): chat work (turns and
// deliveries) and background work (embeddings, imports).
type Queues struct {
	Chat       string
	Background string
	// inspector looks at a task whose id is taken (see Enqueue); nil: a taken id counts as
	// queued.
	inspector *asynq.Inspector
}

// NewQueues derives queue names from a prefix; tests pass a unique prefix.
func NewQueues(prefix string) Queues {
	return Queues{Chat: prefix + ":chat", Background: prefix + ":background"}
}

// WithInspector lets Enqueue check that a task whose id is taken will really run.
func (q Queues) WithInspector(i *asynq.Inspector) Queues {
	q.inspector = i
	return q
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

// maxRetry bounds asynq's retries; the sweeper covers turns whose retries run out. A deliver
// task retries only database errors: its schedule of attempts lives in PostgreSQL.
var maxRetry = map[string]int{TypeTurn: 12, TypeDeliver: 5}

// NewTask builds the asynq task for an outbox row.
func NewTask(q Queues, kind, taskID string, payload []byte, processIn time.Duration) (*asynq.Task, []asynq.Option) {
	opts := []asynq.Option{asynq.TaskID(taskID), asynq.Queue(q.For(kind)), asynq.MaxRetry(maxRetry[kind]), asynq.Timeout(2 * time.Minute)}
	if processIn > 0 {
		opts = append(opts, asynq.ProcessIn(processIn))
	}
	return asynq.NewTask(kind, payload), opts
}

// Enqueue puts a task on the queue. A task id already taken counts as success only if that
// task will run (with q's inspector): an archived or completed copy is replaced, and a copy
// scheduled for later runs now when the caller asks for now.
func Enqueue(ctx context.Context, c *asynq.Client, q Queues, kind, taskID string, payload []byte, processIn time.Duration) error {
	t, opts := NewTask(q, kind, taskID, payload, processIn)
	for range 3 {
		_, err := c.EnqueueContext(ctx, t, opts...)
		if err == nil {
			return nil
		}
		if !errors.Is(err, asynq.ErrTaskIDConflict) {
			return fmt.Errorf("enqueue %s: %w", taskID, err)
		}
		if q.inspector == nil {
			return nil
		}
		queued, err := settleConflict(q.inspector, q.For(kind), taskID, processIn)
		if err != nil || queued {
			return err
		}
	}
	return fmt.Errorf("enqueue %s: the task id stays taken by a task that will not run", taskID)
}

// settleConflict looks at the task holding taskID: true if it will run; false once a copy that
// will not run is removed (the caller enqueues again).
func settleConflict(insp *asynq.Inspector, queue, taskID string, processIn time.Duration) (bool, error) {
	info, err := insp.GetTaskInfo(queue, taskID)
	if errors.Is(err, asynq.ErrTaskNotFound) || errors.Is(err, asynq.ErrQueueNotFound) {
		return false, nil // it finished just now
	}
	if err != nil {
		return false, fmt.Errorf("inspect task %s: %w", taskID, err)
	}
	switch info.State {
	case asynq.TaskStatePending, asynq.TaskStateActive, asynq.TaskStateAggregating:
		return true, nil
	case asynq.TaskStateScheduled, asynq.TaskStateRetry:
		if processIn > 0 {
			return true, nil
		}
		// Due now by the caller's account (PostgreSQL's), whatever Redis planned.
		if err := insp.RunTask(queue, taskID); err != nil && !errors.Is(err, asynq.ErrTaskNotFound) {
			return false, fmt.Errorf("run task %s now: %w", taskID, err)
		}
		return true, nil
	}
	// Archived or completed: it will not run again.
	if err := insp.DeleteTask(queue, taskID); err != nil && !errors.Is(err, asynq.ErrTaskNotFound) {
		return false, fmt.Errorf("delete finished task %s: %w", taskID, err)
	}
	return false, nil
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
	if errors.Is(err, postgres.ErrHeld) {
		return time.Duration(300+rand.IntN(400)) * time.Millisecond
	}
	d := 200 * time.Millisecond << min(n, 6)
	if d > 10*time.Second {
		d = 10 * time.Second
	}
	return d/2 + time.Duration(rand.Int64N(int64(d/2)+1))
}

// IsFailure keeps waiting for a busy lease, a rate limit or an earlier reply from counting
// against retries.
func IsFailure(err error) bool {
	var ra *retryAfterError
	return !errors.Is(err, baton.ErrLeaseBusy) && !errors.Is(err, postgres.ErrHeld) && !errors.As(err, &ra)
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
