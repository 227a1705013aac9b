package postgres

import (
	"context"
	"fmt"
	"time"
)

// Retention is how long each kind of data is kept; 0 keeps it for ever.
type Retention struct {
	Messages time.Duration // messages (and their failures) after they arrived; undelivered and unanswered ones stay
	Traces   time.Duration // turn traces after the turn
	Outbox   time.Duration // outbox rows after they were relayed to the queue
	Audit    time.Duration // audit log entries
	Sessions time.Duration // browser sessions after they expired
}

// RetentionBatch bounds one delete, so that a first run over a large backlog neither holds
// long locks nor writes one huge transaction.
const RetentionBatch = 5000

// retentionBatches bounds the batches of one kind in one run; the next run goes on.
const retentionBatches = 200

// Retention deletes of each kind, oldest first. The inner SELECT walks the primary key (or
// the sessions' expiry index) from the oldest row and stops after a batch, so a run costs the
// rows it deletes, not a scan of the table.
var retentionSQL = []struct {
	kind string
	sql  string
	pick func(Retention) time.Duration
}{
	{"messages", `DELETE FROM messages WHERE id IN (SELECT id FROM messages WHERE received_at < $1
		AND delivery_next_at IS NULL AND (processed_at IS NOT NULL OR author <> 'customer') ORDER BY id LIMIT $2)`,
		func(r Retention) time.Duration { return r.Messages }},
	{"traces", `DELETE FROM turn_traces WHERE id IN (SELECT id FROM turn_traces WHERE finished_at < $1 ORDER BY id LIMIT $2)`,
		func(r Retention) time.Duration { return r.Traces }},
	{"outbox", `DELETE FROM outbox WHERE id IN (SELECT id FROM outbox WHERE dispatched_at < $1 ORDER BY id LIMIT $2)`,
		func(r Retention) time.Duration { return r.Outbox }},
	{"audit", `DELETE FROM audit_log WHERE id IN (SELECT id FROM audit_log WHERE created_at < $1 ORDER BY id LIMIT $2)`,
		func(r Retention) time.Duration { return r.Audit }},
	{"sessions", `DELETE FROM sessions WHERE id_hash IN (SELECT id_hash FROM sessions WHERE expires_at < $1 ORDER BY expires_at LIMIT $2)`,
		func(r Retention) time.Duration { return r.Sessions }},
}

// EnforceRetention deletes what r no longer keeps and returns the rows deleted per kind.
func (db *DB) EnforceRetention(ctx context.Context, r Retention) (map[string]int64, error) {
	now := db.Clock.Now()
	deleted := map[string]int64{}
	for _, k := range retentionSQL {
		keep := k.pick(r)
		if keep <= 0 {
			continue
		}
		for range retentionBatches {
			tag, err := db.Pool.Exec(ctx, k.sql, now.Add(-keep), RetentionBatch)
			if err != nil {
				return deleted, fmt.Errorf("delete old %s: %w", k.kind, err)
			}
			deleted[k.kind] += tag.RowsAffected()
			if tag.RowsAffected() < RetentionBatch {
				break
			}
		}
	}
	return deleted, nil
}

// RetentionJob enforces r once per period across all workers (the first worker to claim the
// period runs it). ran is false when another worker had the period.
func (db *DB) RetentionJob(ctx context.Context, r Retention, period time.Duration) (deleted map[string]int64, ran bool, err error) {
	won, err := db.ClaimPeriod(ctx, "retention", period)
	if err != nil || !won {
		return nil, false, err
	}
	deleted, err = db.EnforceRetention(ctx, r)
	return deleted, true, err
}

// OutboxBacklog counts the outbox rows not yet relayed (through the outbox_pending index).
func (db *DB) OutboxBacklog(ctx context.Context) (int64, error) {
	var n int64
	if err := db.Pool.QueryRow(ctx, `SELECT count(*) FROM outbox WHERE dispatched_at IS NULL`).Scan(&n); err != nil {
		return 0, fmt.Errorf("count the outbox backlog: %w", err)
	}
	return n, nil
}
