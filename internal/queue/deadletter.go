package queue

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/hibiken/asynq"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/bot"
	"github.com/batonhq/baton/internal/postgres"
)

// DeadLetters lists, retries and discards failed work: archived tasks of the deployment's
// queues, failed deliveries and failed turns (both from PostgreSQL).
type DeadLetters struct {
	DB          *postgres.DB
	Inspector   *asynq.Inspector
	Queues      Queues
	MaxAttempts int // a turn's attempts before it is handed off; default bot.DefaultMaxAttempts
}

func (d *DeadLetters) maxAttempts() int {
	if d.MaxAttempts <= 0 {
		return bot.DefaultMaxAttempts
	}
	return d.MaxAttempts
}

// roles maps the queue roles used in ids to queue names.
func (d *DeadLetters) roles() map[string]string {
	return map[string]string{"chat": d.Queues.Chat, "background": d.Queues.Background}
}

// List returns up to limit dead letters, most recent failure first.
func (d *DeadLetters) List(ctx context.Context, limit int) ([]baton.DeadLetter, error) {
	var out []baton.DeadLetter
	turns, err := d.DB.FailedTurns(ctx, d.maxAttempts(), limit)
	if err != nil {
		return nil, err
	}
	for _, f := range turns {
		out = append(out, baton.DeadLetter{ID: baton.DeadTurn + ":" + strconv.FormatInt(f.ID, 10), Kind: baton.DeadTurn, Error: f.Error,
			Attempts: f.Attempts, FailedAt: f.LastFailedAt, ConversationID: f.ConversationID, MessageID: f.MessageID, HandedOff: f.HandedOff})
	}
	dels, err := d.DB.FailedDeliveries(ctx, limit)
	if err != nil {
		return nil, err
	}
	failed := map[string]bool{}
	for _, f := range dels {
		failed[postgres.TaskID(baton.TaskDeliver, f.MessageID)] = true
		out = append(out, baton.DeadLetter{ID: baton.DeadDelivery + ":" + strconv.FormatInt(f.MessageID, 10), Kind: baton.DeadDelivery, Error: f.Error,
			Attempts: f.Attempts, FailedAt: f.CreatedAt, ConversationID: f.ConversationID, MessageID: f.MessageID})
	}
	for role, q := range d.roles() {
		tasks, err := d.Inspector.ListArchivedTasks(q, asynq.PageSize(limit))
		if errors.Is(err, asynq.ErrQueueNotFound) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("list archived tasks of %s: %w", q, err)
		}
		for _, t := range tasks {
			if failed[t.ID] {
				continue // listed once, as the failed delivery it is
			}
			dl := baton.DeadLetter{ID: baton.DeadTask + ":" + role + ":" + t.ID, Kind: baton.DeadTask, Error: t.LastErr, Attempts: t.Retried + 1,
				FailedAt: t.LastFailedAt, Queue: q, TaskType: t.Type}
			var p baton.TaskPayload
			if json.Unmarshal(t.Payload, &p) == nil {
				dl.ConversationID, dl.MessageID = p.ConversationID, p.MessageID
			}
			out = append(out, dl)
		}
	}
	slices.SortStableFunc(out, func(a, b baton.DeadLetter) int {
		if c := b.FailedAt.Compare(a.FailedAt); c != 0 {
			return c
		}
		return cmp.Compare(a.ID, b.ID)
	})
	if len(out) > limit {
		out = out[:limit]
	}
	return out, nil
}

// parsed is a dead letter's id taken apart.
type parsed struct {
	kind  string
	num   int64  // delivery: message id; turn: failure id
	queue string // task
	task  string // task
}

func (d *DeadLetters) parse(id string) (parsed, error) {
	notFound := baton.Errorf(baton.ErrNotFound, "not_found", "dead letter %q not found", clipID(id))
	kind, rest, _ := strings.Cut(id, ":")
	switch kind {
	case baton.DeadTurn, baton.DeadDelivery:
		n, err := strconv.ParseInt(rest, 10, 64)
		if err != nil || n <= 0 {
			return parsed{}, notFound
		}
		return parsed{kind: kind, num: n}, nil
	case baton.DeadTask:
		role, task, ok := strings.Cut(rest, ":")
		q := d.roles()[role]
		if !ok || q == "" || task == "" {
			return parsed{}, notFound
		}
		return parsed{kind: kind, queue: q, task: task}, nil
	}
	return parsed{}, notFound
}

func clipID(id string) string {
	if len(id) > 80 {
		return id[:80] + "…"
	}
	return strings.ToValidUTF8(id, "")
}

// archived checks that a task is archived: other states are live work, never touched here.
func (d *DeadLetters) archived(p parsed, id string) error {
	info, err := d.Inspector.GetTaskInfo(p.queue, p.task)
	if errors.Is(err, asynq.ErrTaskNotFound) || errors.Is(err, asynq.ErrQueueNotFound) || err == nil && info.State != asynq.TaskStateArchived {
		return baton.Errorf(baton.ErrNotFound, "not_found", "dead letter %q not found", clipID(id))
	}
	if err != nil {
		return fmt.Errorf("read task %s: %w", p.task, err)
	}
	return nil
}

// Retry runs a dead letter again. Errors: baton.ErrNotFound for an unknown id, baton.ErrConflict
// for a turn already handed to people.
func (d *DeadLetters) Retry(ctx context.Context, id string) error {
	p, err := d.parse(id)
	if err != nil {
		return err
	}
	switch p.kind {
	case baton.DeadTurn:
		return d.DB.RetryTurn(ctx, p.num, d.maxAttempts())
	case baton.DeadDelivery:
		if err := d.DB.RetryDelivery(ctx, p.num); err != nil {
			return err
		}
		d.forgetDeliverTask(p.num)
		return nil
	}
	if err := d.archived(p, id); err != nil {
		return err
	}
	if err := d.Inspector.RunTask(p.queue, p.task); err != nil {
		return fmt.Errorf("retry task %s: %w", p.task, err)
	}
	return nil
}

// Discard takes a dead letter off the list for good (baton.ErrNotFound for an unknown id).
func (d *DeadLetters) Discard(ctx context.Context, id string) error {
	p, err := d.parse(id)
	if err != nil {
		return err
	}
	switch p.kind {
	case baton.DeadTurn:
		return d.DB.DismissTurn(ctx, p.num, d.maxAttempts())
	case baton.DeadDelivery:
		if err := d.DB.DismissDelivery(ctx, p.num); err != nil {
			return err
		}
		d.forgetDeliverTask(p.num)
		return nil
	}
	if err := d.archived(p, id); err != nil {
		return err
	}
	if err := d.Inspector.DeleteTask(p.queue, p.task); err != nil {
		return fmt.Errorf("discard task %s: %w", p.task, err)
	}
	return nil
}

// forgetDeliverTask deletes the archived deliver task of a failed reply an operator dealt with;
// it is the same failure, listed as the delivery.
func (d *DeadLetters) forgetDeliverTask(msgID int64) {
	id := postgres.TaskID(baton.TaskDeliver, msgID)
	if info, err := d.Inspector.GetTaskInfo(d.Queues.Chat, id); err == nil && info.State == asynq.TaskStateArchived {
		d.Inspector.DeleteTask(d.Queues.Chat, id) //nolint:errcheck // best effort: it only hides a duplicate
	}
}

// bulkLimit bounds one "all" request.
const bulkLimit = 1000

// RetryMany retries the listed ids, or with all every dead letter that can be retried.
func (d *DeadLetters) RetryMany(ctx context.Context, ids []string, all bool) (baton.BulkResult, error) {
	return d.many(ctx, ids, all, true)
}

// DiscardMany discards the listed ids, or with all every dead letter.
func (d *DeadLetters) DiscardMany(ctx context.Context, ids []string, all bool) (baton.BulkResult, error) {
	return d.many(ctx, ids, all, false)
}

func (d *DeadLetters) many(ctx context.Context, ids []string, all, retry bool) (baton.BulkResult, error) {
	res := baton.BulkResult{Done: []string{}, Failed: map[string]string{}}
	op := d.Discard
	if retry {
		op = d.Retry
	}
	if all {
		list, err := d.List(ctx, bulkLimit)
		if err != nil {
			return res, err
		}
		ids = nil
		for _, dl := range list {
			if dl.HandedOff && retry {
				continue // people have it: nothing to retry
			}
			ids = append(ids, dl.ID)
		}
	}
	for _, id := range ids {
		err := op(ctx, id)
		var be *baton.Error
		switch {
		case err == nil:
			res.Done = append(res.Done, id)
		case errors.As(err, &be):
			res.Failed[id] = be.Message
		default:
			return res, err
		}
	}
	return res, nil
}

// FailureMetrics count failed turns and the sweeper's work.
type FailureMetrics struct {
	turns *prometheus.CounterVec
	swept prometheus.Counter
}

// NewFailureMetrics registers the metrics with reg (or reuses them if registered already).
func NewFailureMetrics(reg prometheus.Registerer) *FailureMetrics {
	m := &FailureMetrics{
		turns: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "baton_turn_failures_total",
			Help: "Failed turn attempts, by outcome: retry, or handed_off to people after the last allowed attempt."}, []string{"outcome"}),
		swept: prometheus.NewCounter(prometheus.CounterOpts{Name: "baton_sweeper_requeued_turns_total",
			Help: "Stalled turns the sweeper queued again."}),
	}
	m.turns = register(reg, m.turns)
	m.swept = register(reg, m.swept)
	return m
}

func register[C prometheus.Collector](reg prometheus.Registerer, c C) C {
	if err := reg.Register(c); err != nil {
		var are prometheus.AlreadyRegisteredError
		if errors.As(err, &are) {
			if prev, ok := are.ExistingCollector.(C); ok {
				return prev
			}
		}
		panic(err)
	}
	return c
}

// TurnFailed counts one failed attempt (bot.Engine.OnFailure).
func (m *FailureMetrics) TurnFailed(handedOff bool) {
	outcome := "retry"
	if handedOff {
		outcome = "handed_off"
	}
	m.turns.WithLabelValues(outcome).Inc()
}

// Swept is the sweeper's counter (Sweeper.Requeued).
func (m *FailureMetrics) Swept() prometheus.Counter { return m.swept }
