package postgres

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/batonhq/baton"
)

// DB is Baton's store. Every method takes its times from Clock, never from now() in SQL.
type DB struct {
	Pool  *pgxpool.Pool
	Clock baton.Clock
	// Delivery times the delivery state machine (zero values: the defaults).
	Delivery DeliveryTimes
	// AgentInactiveAfter frees an agent's slot in a conversation waiting this long on the
	// customer (zero: DefaultAgentInactiveAfter).
	AgentInactiveAfter time.Duration
	// NotifyHandoffs writes a notification row for every new handoff and SLA breach.
	NotifyHandoffs bool
}

// New wraps a pool.
func New(pool *pgxpool.Pool, clock baton.Clock) *DB {
	if clock == nil {
		clock = baton.SystemClock{}
	}
	return &DB{Pool: pool, Clock: clock}
}

// Ping checks that the database answers.
func (db *DB) Ping(ctx context.Context) error { return db.Pool.Ping(ctx) }

// Audit records an admin edit in the audit log within tx.
func Audit(ctx context.Context, tx pgx.Tx, db *DB, actorID int64, action, entity, entityID string, before, after any) error {
	var b, a []byte
	var err error
	if before != nil {
		if b, err = json.Marshal(before); err != nil {
			return fmt.Errorf("encode audit before: %w", err)
		}
	}
	if after != nil {
		if a, err = json.Marshal(after); err != nil {
			return fmt.Errorf("encode audit after: %w", err)
		}
	}
	var actor *int64
	if actorID > 0 {
		actor = &actorID
	}
	_, err = tx.Exec(ctx, `INSERT INTO audit_log (actor_id, action, entity, entity_id, before, after, created_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7)`, actor, action, entity, entityID, b, a, db.Clock.Now())
	if err != nil {
		return fmt.Errorf("write audit log: %w", err)
	}
	return nil
}

// AuditEntry is one row of the audit log.
type AuditEntry struct {
	ID       int64           `json:"id"`
	ActorID  *int64          `json:"actor_id"`
	Action   string          `json:"action"`
	Entity   string          `json:"entity"`
	EntityID string          `json:"entity_id"`
	Before   json.RawMessage `json:"before,omitempty"`
	After    json.RawMessage `json:"after,omitempty"`
}

// AuditLog lists the newest audit entries, optionally for one entity kind.
func (db *DB) AuditLog(ctx context.Context, entity string, limit int) ([]AuditEntry, error) {
	rows, err := db.Pool.Query(ctx, `SELECT id, actor_id, action, entity, entity_id, before, after FROM audit_log
		WHERE $1 = '' OR entity = $1 ORDER BY id DESC LIMIT $2`, entity, limit)
	if err != nil {
		return nil, fmt.Errorf("list audit log: %w", err)
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (AuditEntry, error) {
		var e AuditEntry
		err := r.Scan(&e.ID, &e.ActorID, &e.Action, &e.Entity, &e.EntityID, &e.Before, &e.After)
		return e, err
	})
}

// inTx runs fn in a transaction.
func (db *DB) inTx(ctx context.Context, fn func(tx pgx.Tx) error) error {
	return pgx.BeginFunc(ctx, db.Pool, fn)
}
