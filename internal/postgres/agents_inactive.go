package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/batonhq/baton"
)

// DefaultAgentInactiveAfter is how long an agent's conversation waits on the customer before it
// stops counting against the agent's capacity, unless DB.AgentInactiveAfter says otherwise.
const DefaultAgentInactiveAfter = 15 * time.Minute

func (db *DB) inactiveAfter() time.Duration {
	if db.AgentInactiveAfter > 0 {
		return db.AgentInactiveAfter
	}
	return DefaultAgentInactiveAfter
}

// sweepInactiveSQL marks agent conversations whose last word is the agent's public reply, older
// than $1, inactive, and frees their agents' slots. The conversations stay the agent's (status
// agent, assigned): when the customer writes, Reactivate gives them back. Conversation rows are
// locked before their agents' rows, the order every other path takes.
const sweepInactiveSQL = `WITH s AS (
		SELECT c.id, c.assigned_user_id FROM conversations c
		CROSS JOIN LATERAL (SELECT m.author, m.received_at FROM messages m
			WHERE m.conversation_id = c.id AND m.author IN ('agent', 'customer') AND m.visibility = 'public'
			ORDER BY m.id DESC LIMIT 1) last
		WHERE c.status = 'agent' AND c.assigned_user_id IS NOT NULL AND c.inactive_since IS NULL
		  AND last.author = 'agent' AND last.received_at <= $1
		ORDER BY c.id LIMIT 1000 FOR UPDATE OF c SKIP LOCKED),
	c AS (
		UPDATE conversations SET inactive_since = $2 FROM s
		WHERE conversations.id = s.id AND conversations.inactive_since IS NULL AND conversations.status = 'agent'
		RETURNING s.assigned_user_id),
	l AS (
		UPDATE users SET load = greatest(load - n.n, 0)
		FROM (SELECT assigned_user_id, count(*) AS n FROM c GROUP BY assigned_user_id ORDER BY assigned_user_id) n
		WHERE users.id = n.assigned_user_id)
	SELECT count(*) FROM c`

// SweepInactive frees the agents' slots of conversations waiting on the customer for longer than
// after (see sweepInactiveSQL), and gives back those the customer has written to since (a
// reactivation the ingest path did not finish). It returns how many went inactive.
func (db *DB) SweepInactive(ctx context.Context, after time.Duration) (int64, error) {
	now := db.Clock.Now()
	var n int64
	if err := db.Pool.QueryRow(ctx, sweepInactiveSQL, now.Add(-after), now).Scan(&n); err != nil {
		return 0, fmt.Errorf("sweep inactive conversations: %w", err)
	}
	rows, err := db.Pool.Query(ctx, `SELECT id FROM conversations WHERE status = 'agent' AND inactive_since IS NOT NULL
		AND last_customer_at > inactive_since ORDER BY id LIMIT 1000`)
	if err != nil {
		return n, fmt.Errorf("find conversations to reactivate: %w", err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		return n, fmt.Errorf("find conversations to reactivate: %w", err)
	}
	for _, id := range ids {
		if _, err := db.Reactivate(ctx, id); err != nil {
			return n, err
		}
	}
	return n, nil
}

// Reactivation is what happened to an inactive conversation the customer wrote to.
type Reactivation string

const (
	ReactivatedNone   Reactivation = ""       // it was not inactive
	ReactivatedAgent  Reactivation = "agent"  // back to its agent, who was online with a free slot
	ReactivatedQueued Reactivation = "queued" // back to its team's queue, with its priority and wait
)

// Reactivate gives an inactive conversation the customer wrote to back to its agent if they
// are online with a free slot, otherwise to the queue (baton.EventSlotFreed) with the handoff's
// original priority and waiting time.
func (db *DB) Reactivate(ctx context.Context, convID int64) (Reactivation, error) {
	out := ReactivatedNone
	err := db.inTx(ctx, func(tx pgx.Tx) error {
		c, err := lockConversation(ctx, tx, convID)
		if err != nil || !c.inactive || c.assigned == nil {
			return err
		}
		now := db.Clock.Now()
		// Under the agent's row lock, so the slot is counted once with any number of assigners.
		tag, err := tx.Exec(ctx, `UPDATE users SET load = load + 1 WHERE id = $1 AND status = 'active'
			AND presence = 'online' AND presence_at >= $2 AND load < capacity`, *c.assigned, now.Add(-PresenceTimeout))
		if err != nil {
			return fmt.Errorf("take the agent's slot: %w", err)
		}
		if tag.RowsAffected() == 1 {
			out = ReactivatedAgent
			if _, err := tx.Exec(ctx, `UPDATE conversations SET inactive_since = NULL, updated_at = $2 WHERE id = $1`, convID, now); err != nil {
				return fmt.Errorf("reactivate: %w", err)
			}
			return nil
		}
		to, err := transition(c, baton.EventSlotFreed)
		if err != nil {
			return err
		}
		out = ReactivatedQueued
		if _, err := tx.Exec(ctx, `WITH c AS (
				UPDATE conversations SET status = $2, assigned_user_id = NULL, inactive_since = NULL, updated_at = $3,
					bot_paused_until = CASE WHEN pause_reason = 'agent' THEN NULL ELSE bot_paused_until END,
					pause_reason = CASE WHEN pause_reason = 'agent' THEN NULL ELSE pause_reason END
				WHERE id = $1),
			h AS (UPDATE handoffs SET assigned_user_id = NULL, assigned_at = NULL WHERE conversation_id = $1 AND resolved_at IS NULL)
			UPDATE assignments SET ended_at = $3 WHERE conversation_id = $1 AND ended_at IS NULL`, convID, string(to), now); err != nil {
			return fmt.Errorf("requeue: %w", err)
		}
		return nil
	})
	if err != nil {
		return ReactivatedNone, fmt.Errorf("reactivate conversation %d: %w", convID, err)
	}
	return out, nil
}
