package postgres

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"

	"github.com/jackc/pgx/v5"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/pii"
)

// exportSQL gathers, in one statement, everything held about customer $1: the customer, their
// conversation, its episodes, messages, handoffs, assignments, turn traces and failures, the
// knowledge gaps and feedback their messages left, and the audit entries about them.
const exportSQL = `WITH cu AS (SELECT * FROM customers WHERE id = $1),
	cv AS (SELECT * FROM conversations WHERE customer_id = $1),
	ms AS (SELECT * FROM messages WHERE conversation_id IN (SELECT id FROM cv))
SELECT jsonb_build_object(
	'customer', (SELECT to_jsonb(cu) FROM cu),
	'conversations', (SELECT coalesce(jsonb_agg(to_jsonb(cv) ORDER BY id), '[]') FROM cv),
	'episodes', (SELECT coalesce(jsonb_agg(to_jsonb(e) ORDER BY e.id), '[]') FROM episodes e WHERE e.conversation_id IN (SELECT id FROM cv)),
	'messages', (SELECT coalesce(jsonb_agg(to_jsonb(ms) ORDER BY sort_at, id), '[]') FROM ms),
	'handoffs', (SELECT coalesce(jsonb_agg(to_jsonb(h) ORDER BY h.id), '[]') FROM handoffs h WHERE h.conversation_id IN (SELECT id FROM cv)),
	'assignments', (SELECT coalesce(jsonb_agg(to_jsonb(a) ORDER BY a.id), '[]') FROM assignments a WHERE a.conversation_id IN (SELECT id FROM cv)),
	'turn_traces', (SELECT coalesce(jsonb_agg(to_jsonb(t) ORDER BY t.id), '[]') FROM turn_traces t WHERE t.conversation_id IN (SELECT id FROM cv)),
	'turn_failures', (SELECT coalesce(jsonb_agg(to_jsonb(f) ORDER BY f.id), '[]') FROM turn_failures f WHERE f.conversation_id IN (SELECT id FROM cv)),
	'knowledge_gaps', (SELECT coalesce(jsonb_agg(to_jsonb(g) ORDER BY g.id), '[]') FROM kb_gaps g WHERE g.conversation_id IN (SELECT id FROM cv)),
	'feedback', (SELECT coalesce(jsonb_agg(to_jsonb(k) ORDER BY k.id), '[]') FROM kb_feedback k WHERE k.message_id IN (SELECT id FROM ms)),
	'llm_tokens', (SELECT coalesce(jsonb_agg(to_jsonb(l)), '[]') FROM llm_conversation_tokens l WHERE l.conversation_id IN (SELECT id FROM cv)),
	'audit_log', (SELECT coalesce(jsonb_agg(to_jsonb(al) ORDER BY al.id), '[]') FROM audit_log al
		WHERE (al.entity = 'customer' AND al.entity_id = $1::text)
		   OR (al.entity = 'conversation' AND al.entity_id IN (SELECT id::text FROM cv)))
) FROM cu`

// ExportCustomer returns everything held about a customer as one JSON document;
// baton.ErrNotFound if there is no such customer.
func (db *DB) ExportCustomer(ctx context.Context, customerID int64) (json.RawMessage, error) {
	var doc json.RawMessage
	err := db.Pool.QueryRow(ctx, exportSQL, customerID).Scan(&doc)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, baton.Errorf(baton.ErrNotFound, "not_found", "customer not found")
	}
	if err != nil {
		return nil, fmt.Errorf("export customer %d: %w", customerID, err)
	}
	return doc, nil
}

// EraseCustomer deletes a customer and everything held about them (conversation, messages,
// details, traces, handoffs, their knowledge gaps and feedback, queued work, the audit
// entries' contents), keeping only anonymous counters (erasures) and an audit entry naming the
// customer id. baton.ErrNotFound if there is no such customer.
func (db *DB) EraseCustomer(ctx context.Context, actorID, customerID int64) (baton.Erasure, error) {
	e := baton.Erasure{CustomerID: customerID}
	err := pgx.BeginFunc(ctx, db.Pool, func(tx pgx.Tx) error {
		// Locks the customer and conversation rows first, like a turn commit does: a turn
		// running now loses its fence instead of writing into a half-erased conversation.
		err := tx.QueryRow(ctx, `WITH cu AS (SELECT id, channel, created_at FROM customers WHERE id = $1 FOR UPDATE),
				cv AS (SELECT id FROM conversations WHERE customer_id = $1 FOR UPDATE)
			SELECT cu.channel,
				(SELECT count(*) FROM cv),
				(SELECT count(*) FROM episodes WHERE conversation_id IN (SELECT id FROM cv)),
				(SELECT count(*) FROM messages WHERE conversation_id IN (SELECT id FROM cv)),
				(SELECT count(*) FROM handoffs WHERE conversation_id IN (SELECT id FROM cv))
			FROM cu`, customerID).Scan(&e.Channel, &e.Conversations, &e.Episodes, &e.Messages, &e.Handoffs)
		if errors.Is(err, pgx.ErrNoRows) {
			return baton.Errorf(baton.ErrNotFound, "not_found", "customer not found")
		}
		if err != nil {
			return fmt.Errorf("count what customer %d has: %w", customerID, err)
		}
		now := db.Clock.Now()
		// One statement: the rows without a foreign key to the customer first, then the
		// customer, whose delete cascades to the conversation and everything under it.
		_, err = tx.Exec(ctx, `WITH cv AS (SELECT id FROM conversations WHERE customer_id = $1),
				ms AS (SELECT id FROM messages WHERE conversation_id IN (SELECT id FROM cv)),
				gaps AS (DELETE FROM kb_gaps WHERE conversation_id IN (SELECT id FROM cv)),
				feedback AS (DELETE FROM kb_feedback WHERE message_id IN (SELECT id FROM ms)),
				queued AS (DELETE FROM outbox WHERE dispatched_at IS NULL AND kind IN ('turn', 'deliver')
					AND (payload->>'conversation_id')::bigint IN (SELECT id FROM cv)),
				audit AS (UPDATE audit_log SET before = NULL, after = NULL
					WHERE (entity = 'customer' AND entity_id = $1::text)
					   OR (entity = 'conversation' AND entity_id IN (SELECT id::text FROM cv))),
				kept AS (INSERT INTO erasures (channel, conversations, episodes, messages, handoffs, first_seen_at, erased_at)
					SELECT channel, $2, $3, $4, $5, created_at, $6 FROM customers WHERE id = $1)
			DELETE FROM customers WHERE id = $1`,
			customerID, e.Conversations, e.Episodes, e.Messages, e.Handoffs, now)
		if err != nil {
			return fmt.Errorf("erase customer %d: %w", customerID, err)
		}
		return Audit(ctx, tx, db, actorID, "erase", "customer", strconv.FormatInt(customerID, 10), nil, nil)
	})
	return e, err
}

// maskTrace hides the emails, phone numbers and card numbers in the string values of a turn
// trace before it is stored ("a***@example.com", "****4242"): traces explain decisions and
// are kept for months, the customer's data is not needed for that.
func maskTrace(trace map[string]any) ([]byte, error) {
	raw, err := json.Marshal(trace)
	if err != nil {
		return nil, err
	}
	if pii.MaskLog(string(raw)) == string(raw) {
		return raw, nil // nothing that looks personal, the common case
	}
	var v any
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	return json.Marshal(maskStrings(v))
}

func maskStrings(v any) any {
	switch x := v.(type) {
	case string:
		return pii.MaskLog(x)
	case map[string]any:
		for k, e := range x {
			x[k] = maskStrings(e)
		}
	case []any:
		for i, e := range x {
			x[i] = maskStrings(e)
		}
	}
	return v
}
