package postgres

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/batonhq/baton"
)

// notifyPayloadSQL is a handoff's notification body: ids and routing, never the customer's words. A
// handoff not yet routed is the default team's.
const notifyPayloadSQL = `jsonb_build_object('event', $EVENT, 'handoff_id', h.id, 'conversation_id', h.conversation_id,
	'reason', h.reason, 'priority', h.priority, 'team', t.name, 'created_at', h.created_at, 'sla_due_at', h.sla_due_at)`

// announceSQL queues a handoff.created notification for every handoff not yet announced; those
// older than $2 (before notifications were configured) are marked without one.
const announceSQL = `WITH a AS (
		UPDATE handoffs SET notified_at = $1 WHERE id IN (
			SELECT id FROM handoffs WHERE notified_at IS NULL ORDER BY id LIMIT 1000 FOR UPDATE SKIP LOCKED)
		RETURNING id),
	n AS (
		INSERT INTO notifications (event, handoff_id, payload, created_at, next_attempt_at)
		SELECT 'handoff.created', h.id, ` + notifyPayloadSQL + `, $1, $1
		FROM a JOIN handoffs h ON h.id = a.id LEFT JOIN teams t ON t.id = coalesce(h.team_id, (SELECT id FROM teams WHERE is_default)) WHERE h.created_at >= $2
		ON CONFLICT (event, handoff_id) DO NOTHING RETURNING id)
	SELECT count(*) FROM n`

// breachSQL marks open handoffs past their SLA due time without an agent's first response on
// time as breached, once, and queues a handoff.sla_breached notification when $2.
const breachSQL = `WITH b AS (
		UPDATE handoffs h SET sla_breached_at = $1 WHERE h.id IN (
			SELECT id FROM handoffs WHERE sla_due_at IS NOT NULL AND sla_breached_at IS NULL AND resolved_at IS NULL
			  AND sla_due_at <= $1 AND (first_response_at IS NULL OR first_response_at > sla_due_at)
			ORDER BY sla_due_at LIMIT 1000 FOR UPDATE SKIP LOCKED)
		RETURNING h.*),
	n AS (
		INSERT INTO notifications (event, handoff_id, payload, created_at, next_attempt_at)
		SELECT 'handoff.sla_breached', h.id, ` + notifyPayloadSQL + ` || jsonb_build_object('breached_at', $1::timestamptz), $1, $1
		FROM b h LEFT JOIN teams t ON t.id = coalesce(h.team_id, (SELECT id FROM teams WHERE is_default)) WHERE $2
		ON CONFLICT (event, handoff_id) DO NOTHING)
	SELECT count(*) FROM b`

// SweepHandoffEvents marks SLA breaches (always) and, with notify, writes the notification
// rows of new handoffs and of the breaches. It returns the breaches marked.
func (db *DB) SweepHandoffEvents(ctx context.Context, notify bool) (breaches int64, err error) {
	now := db.Clock.Now()
	if err := db.Pool.QueryRow(ctx, strings.ReplaceAll(breachSQL, "$EVENT", "'handoff.sla_breached'"), now, notify).Scan(&breaches); err != nil {
		return 0, fmt.Errorf("mark sla breaches: %w", err)
	}
	if notify {
		var n int64
		// A handoff older than an hour when first seen was made before notifications were on.
		if err := db.Pool.QueryRow(ctx, strings.ReplaceAll(announceSQL, "$EVENT", "'handoff.created'"), now, now.Add(-time.Hour)).Scan(&n); err != nil {
			return breaches, fmt.Errorf("queue handoff notifications: %w", err)
		}
	}
	return breaches, nil
}

// ClaimNotifications leases up to limit due notifications for one send attempt each (their
// next attempt moves to the lease's end, so a crashed sender's rows come due again).
func (db *DB) ClaimNotifications(ctx context.Context, limit int, lease time.Duration) ([]baton.Notification, error) {
	now := db.Clock.Now()
	rows, err := db.Pool.Query(ctx, `UPDATE notifications n SET attempts = n.attempts + 1, next_attempt_at = $2
		FROM (SELECT id FROM notifications WHERE next_attempt_at <= $1 ORDER BY next_attempt_at, id LIMIT $3 FOR UPDATE SKIP LOCKED) d
		WHERE n.id = d.id
		RETURNING n.id, n.event, n.payload, n.attempts, n.created_at`, now, now.Add(lease), limit)
	if err != nil {
		return nil, fmt.Errorf("claim notifications: %w", err)
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (baton.Notification, error) {
		var n baton.Notification
		var payload []byte
		err := r.Scan(&n.ID, &n.Event, &payload, &n.Attempts, &n.CreatedAt)
		n.Payload = json.RawMessage(payload)
		return n, err
	})
}

// RecordNotification settles one send attempt: sent (sendErr nil), retried at next, or given up
// (next zero).
func (db *DB) RecordNotification(ctx context.Context, id int64, attempt int, sendErr error, next time.Time) error {
	now := db.Clock.Now()
	var err error
	switch {
	case sendErr == nil:
		_, err = db.Pool.Exec(ctx, `UPDATE notifications SET sent_at = $3, next_attempt_at = NULL, last_error = ''
			WHERE id = $1 AND attempts = $2`, id, attempt, now)
	case next.IsZero():
		_, err = db.Pool.Exec(ctx, `UPDATE notifications SET failed_at = $3, next_attempt_at = NULL, last_error = $4
			WHERE id = $1 AND attempts = $2`, id, attempt, now, truncate(sendErr.Error(), 500))
	default:
		_, err = db.Pool.Exec(ctx, `UPDATE notifications SET next_attempt_at = $3, last_error = $4
			WHERE id = $1 AND attempts = $2`, id, attempt, next, truncate(sendErr.Error(), 500))
	}
	if err != nil {
		return fmt.Errorf("record notification %d: %w", id, err)
	}
	return nil
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}
