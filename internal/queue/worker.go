package queue

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/hibiken/asynq"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/bot"
	"github.com/batonhq/baton/internal/postgres"
)

// Worker runs turn and deliver tasks.
type Worker struct {
	Engine    *bot.Engine
	Deliverer *Deliverer
	Log       *slog.Logger
	// Processing, when set, hears when a turn starts and ends (the live indicator); it must
	// return quickly.
	Processing func(convID int64, start bool)
}

// ServerConfig is asynq's configuration tuned for chat latency.
func ServerConfig(q Queues, concurrency int, log *slog.Logger, grace time.Duration) asynq.Config {
	return asynq.Config{
		Concurrency:              concurrency,
		Queues:                   map[string]int{q.Chat: 8, q.Background: 1},
		TaskCheckInterval:        20 * time.Millisecond, // default 1s: too slow for chat
		DelayedTaskCheckInterval: 50 * time.Millisecond, // default 5s: debounce windows are ~2s
		RetryDelayFunc:           RetryDelay,
		IsFailure:                IsFailure,
		ShutdownTimeout:          grace,
		Logger:                   asynqLogger{log},
		LogLevel:                 asynq.WarnLevel,
		HealthCheckInterval:      5 * time.Second,
	}
}

// Mux routes task types to handlers.
func (w *Worker) Mux() *asynq.ServeMux {
	mux := asynq.NewServeMux()
	mux.HandleFunc(TypeTurn, w.handleTurn)
	mux.HandleFunc(TypeDeliver, w.Deliverer.handleDeliver)
	return mux
}

// decode reads a turn or deliver payload of any version this build knows (DecodeTask).
func decode(t *asynq.Task) (baton.TaskPayload, error) { return DecodeTask(t) }

func (w *Worker) handleTurn(ctx context.Context, t *asynq.Task) error {
	p, err := decode(t)
	if err != nil {
		return err
	}
	if w.Processing != nil && p.Live {
		w.Processing(p.ConversationID, true)
		defer w.Processing(p.ConversationID, false) // on every path, so the indicator always ends
	}
	res, err := w.Engine.Turn(ctx, p.ConversationID, p.MessageID)
	if err != nil {
		if !errors.Is(err, baton.ErrLeaseBusy) {
			w.Log.WarnContext(ctx, "turn failed", "conversation_id", p.ConversationID, "message_id", p.MessageID, "err", err)
		}
		return err
	}
	if res.Skipped == "" {
		w.Log.DebugContext(ctx, "turn done", "conversation_id", p.ConversationID, "replies", len(res.Replies), "answered", len(res.Answered))
	}
	// The commit claimed the replies for sending: send them now, in the pool. Held ones wait
	// for an earlier reply of the conversation on the delivery path.
	d := w.Deliverer
	d.init()
	now := d.Clock.Now()
	var sends []send
	for _, o := range res.Outbound {
		if o.State != baton.DeliverySending {
			d.enqueue(ctx, o.ConversationID, o.MessageID, o.Attempts+1, 0)
			continue
		}
		sends = append(sends, d.claimedAt(postgres.Claimed{Outbound: o, Created: now}, now))
	}
	d.Deliver(ctx, sends)
	return nil
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}

// Recorder writes delivery results in group commits: whoever arrives while a write is in
// flight joins the next one, so under load many results share one transaction and when idle
// a result is written at once.
type Recorder struct {
	DB *postgres.DB

	mu      sync.Mutex
	pending []recordReq
	running bool
}

type recordReq struct {
	up   baton.DeliveryUpdate
	done chan error
}

// Record stores one result and returns once it is committed.
func (r *Recorder) Record(ctx context.Context, up baton.DeliveryUpdate) error {
	req := recordReq{up: up, done: make(chan error, 1)}
	r.mu.Lock()
	r.pending = append(r.pending, req)
	if !r.running {
		r.running = true
		go r.flush()
	}
	r.mu.Unlock()
	select {
	case err := <-req.done:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (r *Recorder) flush() {
	for {
		r.mu.Lock()
		batch := r.pending
		r.pending = nil
		if len(batch) == 0 {
			r.running = false
			r.mu.Unlock()
			return
		}
		r.mu.Unlock()
		ups := make([]baton.DeliveryUpdate, len(batch))
		for i, b := range batch {
			ups[i] = b.up
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		err := r.DB.RecordDeliveries(ctx, ups)
		cancel()
		for _, b := range batch {
			b.done <- err
		}
	}
}

// asynqLogger adapts slog to asynq's logger.
type asynqLogger struct{ l *slog.Logger }

func (a asynqLogger) Debug(args ...any) { a.l.Debug(fmt.Sprint(args...)) }
func (a asynqLogger) Info(args ...any)  { a.l.Info(fmt.Sprint(args...)) }
func (a asynqLogger) Warn(args ...any)  { a.l.Warn(fmt.Sprint(args...)) }
func (a asynqLogger) Error(args ...any) { a.l.Error(fmt.Sprint(args...)) }
func (a asynqLogger) Fatal(args ...any) { a.l.Error(fmt.Sprint(args...)) }
