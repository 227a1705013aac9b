package queue

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/hibiken/asynq"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/bot"
	"github.com/batonhq/baton/internal/channel"
	"github.com/batonhq/baton/internal/postgres"
)

// Worker runs turn and deliver tasks.
type Worker struct {
	DB       *postgres.DB
	Engine   *bot.Engine
	Channels channel.Registry
	Log      *slog.Logger
	Recorder *Recorder
	Client   *asynq.Client // queues delivery retries after a failed inline delivery
	Queues   Queues
	// SendTimeout bounds one delivery attempt.
	SendTimeout time.Duration
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
	mux.HandleFunc(TypeDeliver, w.handleDeliver)
	return mux
}

func decode(t *asynq.Task) (baton.TaskPayload, error) {
	var p baton.TaskPayload
	if err := json.Unmarshal(t.Payload(), &p); err != nil || p.MessageID == 0 {
		return p, fmt.Errorf("decode %s payload: %v: %w", t.Type(), err, asynq.SkipRetry)
	}
	return p, nil
}

func (w *Worker) handleTurn(ctx context.Context, t *asynq.Task) error {
	p, err := decode(t)
	if err != nil {
		return err
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
	// Deliver the replies now; a failure hands the reply to its deliver task.
	for _, o := range res.Outbound {
		if err := w.send(ctx, o, false); err != nil && !channel.IsPermanent(err) {
			w.Log.DebugContext(ctx, "inline delivery failed; queued", "message_id", o.MessageID, "err", err)
			if qerr := w.enqueueDeliver(ctx, p.ConversationID, o.MessageID, RetryDelay(0, err, nil)); qerr != nil {
				w.Log.WarnContext(ctx, "queue delivery retry", "message_id", o.MessageID, "err", qerr)
			}
		}
	}
	return nil
}

func (w *Worker) enqueueDeliver(ctx context.Context, convID, msgID int64, in time.Duration) error {
	if w.Client == nil {
		return nil // the outbox fallback row covers it
	}
	payload, _ := json.Marshal(baton.TaskPayload{ConversationID: convID, MessageID: msgID})
	return Enqueue(ctx, w.Client, w.Queues, TypeDeliver, postgres.TaskID(baton.TaskDeliver, msgID), payload, in)
}

func (w *Worker) handleDeliver(ctx context.Context, t *asynq.Task) error {
	p, err := decode(t)
	if err != nil {
		return err
	}
	retried, _ := asynq.GetRetryCount(ctx)
	maxRetry, _ := asynq.GetMaxRetry(ctx)
	return w.deliver(ctx, p.MessageID, retried >= maxRetry)
}

// deliver is the deliver task's work: load the reply and send it.
func (w *Worker) deliver(ctx context.Context, msgID int64, lastAttempt bool) error {
	o, err := w.DB.Outbound(ctx, msgID)
	if errors.Is(err, baton.ErrNotFound) {
		return fmt.Errorf("deliver message %d: %w: %w", msgID, err, asynq.SkipRetry)
	}
	if err != nil {
		return err
	}
	return w.send(ctx, o, lastAttempt)
}

// send sends one reply through its channel and records the result.
func (w *Worker) send(ctx context.Context, o baton.Outbound, lastAttempt bool) error {
	// Internal notes never leave; sent (or later) states are done.
	if o.Visibility != baton.Public || o.State == "" || baton.DeliveryRank(o.State) >= baton.DeliveryRank(baton.DeliverySent) {
		return nil
	}
	ch, err := w.Channels.Get(o.Channel)
	if err != nil {
		return fmt.Errorf("deliver message %d: %w: %w", o.MessageID, err, asynq.SkipRetry)
	}
	sctx, cancel := context.WithTimeout(ctx, w.SendTimeout)
	err = ch.Send(sctx, o)
	cancel()
	up := baton.DeliveryUpdate{MessageID: o.MessageID, Attempted: true, State: baton.DeliverySent}
	if err != nil {
		up.State, up.Error = baton.DeliveryPending, truncate(err.Error(), 500)
		var se *channel.SendError
		if errors.As(err, &se) && se.AfterSend {
			up.State = baton.DeliveryUnknown
		}
		if channel.IsPermanent(err) || lastAttempt {
			up.State = baton.DeliveryFailed
		}
	}
	if rerr := w.Recorder.Record(ctx, up); rerr != nil {
		return rerr
	}
	if err != nil {
		w.Log.WarnContext(ctx, "delivery failed", "message_id", o.MessageID, "conversation_id", o.ConversationID, "state", up.State, "err", err)
		return classifyDelivery(err)
	}
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
