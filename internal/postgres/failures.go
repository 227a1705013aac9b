package postgres

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/batonhq/baton"
)

// TurnFailed records a failed attempt at a conversation's unanswered messages, msgID being the
// oldest, and returns how many attempts at them have failed (bot.Failures). The count is kept
// per oldest unanswered message: it moves on only when a turn succeeds, so a success starts
// the next failure's count afresh without the turn commit having to reset anything.
func (db *DB) TurnFailed(ctx context.Context, convID, msgID int64, reason string) (int, error) {
	var n int
	err := db.Pool.QueryRow(ctx, `INSERT INTO turn_failures AS f (conversation_id, message_id, attempts, last_error, first_failed_at, last_failed_at)
		VALUES ($1, $2, 1, $3, $4, $4)
		ON CONFLICT (conversation_id, message_id) DO UPDATE SET attempts = f.attempts + 1,
			last_error = excluded.last_error, last_failed_at = excluded.last_failed_at
		RETURNING attempts`, convID, msgID, clipError(reason, 1000), db.Clock.Now()).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("record failed turn of conversation %d: %w", convID, err)
	}
	return n, nil
}

// StalledTurns lists conversations whose customer messages wait longer than olderThan with no
// live lease (their turn task was lost), except those whose turn has already failed
// maxAttempts times: they were handed to people, or are dead letters for an operator.
func (db *DB) StalledTurns(ctx context.Context, olderThan time.Duration, maxAttempts, limit int) ([]baton.TaskPayload, error) {
	now := db.Clock.Now()
	rows, err := db.Pool.Query(ctx, `SELECT m.conversation_id, max(m.id) FROM messages m
		JOIN conversations c ON c.id = m.conversation_id
		WHERE m.author = 'customer' AND m.processed_at IS NULL AND m.received_at < $1
		  AND (c.lease_expires_at IS NULL OR c.lease_expires_at <= $2)
		GROUP BY m.conversation_id
		HAVING NOT EXISTS (SELECT FROM turn_failures f WHERE f.conversation_id = m.conversation_id
			AND f.message_id = min(m.id) AND f.attempts >= $3)
		ORDER BY min(m.id) LIMIT $4`, now.Add(-olderThan), now, maxAttempts, limit)
	if err != nil {
		return nil, fmt.Errorf("find stalled conversations: %w", err)
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (baton.TaskPayload, error) {
		var p baton.TaskPayload
		return p, r.Scan(&p.ConversationID, &p.MessageID)
	})
}

// FailedTurn is a turn that failed its last allowed attempt.
type FailedTurn struct {
	ID             int64     `json:"id"`
	ConversationID int64     `json:"conversation_id"`
	MessageID      int64     `json:"message_id"` // the oldest message it could not answer
	Attempts       int       `json:"attempts"`
	Error          string    `json:"error"`
	FirstFailedAt  time.Time `json:"first_failed_at"`
	LastFailedAt   time.Time `json:"last_failed_at"`
	// HandedOff: the conversation went to people (the message is answered); otherwise even
	// that failed and the messages wait for an operator's retry.
	HandedOff bool `json:"handed_off"`
}

const failedTurnColumns = `f.id, f.conversation_id, f.message_id, f.attempts, f.last_error, f.first_failed_at, f.last_failed_at,
	m.processed_at IS NOT NULL`

func scanFailedTurn(r pgx.Row) (FailedTurn, error) {
	var f FailedTurn
	err := r.Scan(&f.ID, &f.ConversationID, &f.MessageID, &f.Attempts, &f.Error, &f.FirstFailedAt, &f.LastFailedAt, &f.HandedOff)
	return f, err
}

// FailedTurns lists turns that failed maxAttempts times and were not dismissed, newest first.
func (db *DB) FailedTurns(ctx context.Context, maxAttempts, limit int) ([]FailedTurn, error) {
	rows, err := db.Pool.Query(ctx, `SELECT `+failedTurnColumns+` FROM turn_failures f JOIN messages m ON m.id = f.message_id
		WHERE f.dismissed_at IS NULL AND f.attempts >= $1 ORDER BY f.id DESC LIMIT $2`, maxAttempts, limit)
	if err != nil {
		return nil, fmt.Errorf("list failed turns: %w", err)
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (FailedTurn, error) { return scanFailedTurn(r) })
}

// FailedTurn reads one listed failed turn; ErrNotFound when there is none with that id.
func (db *DB) FailedTurn(ctx context.Context, id int64, maxAttempts int) (FailedTurn, error) {
	f, err := scanFailedTurn(db.Pool.QueryRow(ctx, `SELECT `+failedTurnColumns+` FROM turn_failures f
		JOIN messages m ON m.id = f.message_id WHERE f.id = $1 AND f.dismissed_at IS NULL AND f.attempts >= $2`, id, maxAttempts))
	if errors.Is(err, pgx.ErrNoRows) {
		return f, baton.Errorf(baton.ErrNotFound, "not_found", "failed turn %d not found", id)
	}
	if err != nil {
		return f, fmt.Errorf("read failed turn %d: %w", id, err)
	}
	return f, nil
}

// RetryTurn gives a failed turn that could not even be handed off a fresh set of attempts and
// queues it again (through the outbox, so it survives a Redis outage). A turn that was handed
// to people is theirs: ErrConflict.
func (db *DB) RetryTurn(ctx context.Context, id int64, maxAttempts int) error {
	f, err := db.FailedTurn(ctx, id, maxAttempts)
	if err != nil {
		return err
	}
	if f.HandedOff {
		return baton.Errorf(baton.ErrConflict, "handed_off", "failed turn %d was handed to people: nothing to retry; discard it instead", id)
	}
	now := db.Clock.Now()
	tag, err := db.Pool.Exec(ctx, `WITH f AS (
			UPDATE turn_failures SET attempts = 0, dismissed_at = NULL WHERE id = $1 AND attempts >= $2
			RETURNING conversation_id, message_id),
		o AS (
			INSERT INTO outbox (kind, payload, task_id, run_at, created_at)
			SELECT $3, jsonb_build_object('conversation_id', conversation_id, 'message_id', message_id),
				$4 || message_id || ':retry:' || $5::bigint, $6, $6 FROM f)
		SELECT pg_notify($7, '') FROM f`, id, maxAttempts, baton.TaskTurn, taskIDPrefix(baton.TaskTurn), now.UnixNano(), now, OutboxChannel)
	if err != nil {
		return fmt.Errorf("retry failed turn %d: %w", id, err)
	}
	if tag.RowsAffected() == 0 {
		return baton.Errorf(baton.ErrNotFound, "not_found", "failed turn %d not found", id)
	}
	return nil
}

// DismissTurn takes a failed turn off the dead-letter list.
func (db *DB) DismissTurn(ctx context.Context, id int64, maxAttempts int) error {
	tag, err := db.Pool.Exec(ctx, `UPDATE turn_failures SET dismissed_at = $3
		WHERE id = $1 AND dismissed_at IS NULL AND attempts >= $2`, id, maxAttempts, db.Clock.Now())
	if err != nil {
		return fmt.Errorf("discard failed turn %d: %w", id, err)
	}
	if tag.RowsAffected() == 0 {
		return baton.Errorf(baton.ErrNotFound, "not_found", "failed turn %d not found", id)
	}
	return nil
}

// FailedDelivery is a reply whose delivery gave up.
type FailedDelivery struct {
	MessageID      int64     `json:"message_id"`
	ConversationID int64     `json:"conversation_id"`
	Channel        string    `json:"channel"`
	Attempts       int       `json:"attempts"`
	Error          string    `json:"error"`
	CreatedAt      time.Time `json:"created_at"`
}

// FailedDeliveries lists failed replies not dismissed, newest first.
func (db *DB) FailedDeliveries(ctx context.Context, limit int) ([]FailedDelivery, error) {
	rows, err := db.Pool.Query(ctx, `SELECT m.id, m.conversation_id, m.channel, m.delivery_attempts, m.delivery_error, m.received_at
		FROM messages m WHERE m.delivery_state = 'failed'
		  AND NOT EXISTS (SELECT FROM delivery_dismissals d WHERE d.message_id = m.id)
		ORDER BY m.id DESC LIMIT $1`, limit)
	if err != nil {
		return nil, fmt.Errorf("list failed deliveries: %w", err)
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (FailedDelivery, error) {
		var d FailedDelivery
		return d, r.Scan(&d.MessageID, &d.ConversationID, &d.Channel, &d.Attempts, &d.Error, &d.CreatedAt)
	})
}

// RetryDelivery puts a failed reply back to pending with a fresh count of attempts and queues
// its delivery through the outbox; ErrNotFound unless the reply's delivery failed.
func (db *DB) RetryDelivery(ctx context.Context, msgID int64) error {
	now := db.Clock.Now()
	tag, err := db.Pool.Exec(ctx, `WITH m AS (
			UPDATE messages SET delivery_state = 'pending', delivery_attempts = 0, delivery_next_at = $5
			WHERE id = $1 AND delivery_state = 'failed' RETURNING id, conversation_id),
		d AS (DELETE FROM delivery_dismissals WHERE message_id IN (SELECT id FROM m)),
		o AS (
			INSERT INTO outbox (kind, payload, task_id, run_at, created_at)
			SELECT $2, jsonb_build_object('conversation_id', conversation_id, 'message_id', id),
				$3 || id || ':retry:' || $4::bigint, $5, $5 FROM m)
		SELECT pg_notify($6, '') FROM m`, msgID, baton.TaskDeliver, taskIDPrefix(baton.TaskDeliver), now.UnixNano(), now, OutboxChannel)
	if err != nil {
		return fmt.Errorf("retry delivery of message %d: %w", msgID, err)
	}
	if tag.RowsAffected() == 0 {
		return baton.Errorf(baton.ErrNotFound, "not_found", "failed delivery %d not found", msgID)
	}
	return nil
}

// DismissDelivery takes a failed reply off the dead-letter list; ErrNotFound unless it is listed.
func (db *DB) DismissDelivery(ctx context.Context, msgID int64) error {
	tag, err := db.Pool.Exec(ctx, `INSERT INTO delivery_dismissals (message_id, dismissed_at)
		SELECT id, $2 FROM messages WHERE id = $1 AND delivery_state = 'failed'
		ON CONFLICT (message_id) DO NOTHING`, msgID, db.Clock.Now())
	if err != nil {
		return fmt.Errorf("discard failed delivery %d: %w", msgID, err)
	}
	if tag.RowsAffected() == 0 {
		return baton.Errorf(baton.ErrNotFound, "not_found", "failed delivery %d not found", msgID)
	}
	return nil
}

// clipError keeps an error text storable: at most n bytes of valid UTF-8, no NUL bytes.
func clipError(s string, n int) string {
	if len(s) > n {
		s = s[:n]
	}
	return strings.ReplaceAll(strings.ToValidUTF8(s, ""), "\x00", "")
}
