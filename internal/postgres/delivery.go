package postgres

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/batonhq/baton"
)

// Outbound loads a reply for delivery, with its recipient.
func (db *DB) Outbound(ctx context.Context, msgID int64) (baton.Outbound, error) {
	var o baton.Outbound
	var state *string
	var citations []byte
	err := db.Pool.QueryRow(ctx, `SELECT m.id, m.conversation_id, m.channel, cu.external_id, m.body, m.author, m.citations,
			m.visibility, m.delivery_state, m.delivery_attempts
		FROM messages m JOIN conversations c ON c.id = m.conversation_id JOIN customers cu ON cu.id = c.customer_id
		WHERE m.id = $1`, msgID).Scan(&o.MessageID, &o.ConversationID, &o.Channel, &o.RecipientID, &o.Text, &o.Author,
		&citations, &o.Visibility, &state, &o.Attempts)
	if err != nil {
		return o, notFound(err, "message")
	}
	if state != nil {
		o.State = baton.DeliveryState(*state)
	}
	if err := json.Unmarshal(citations, &o.Citations); err != nil {
		return o, fmt.Errorf("decode citations: %w", err)
	}
	return o, nil
}

// deliveryRankSQL orders delivery states in SQL exactly as baton.DeliveryRank does.
const deliveryRankSQL = `CASE %s WHEN 'pending' THEN 0 WHEN 'sending' THEN 1 WHEN 'unknown' THEN 2 WHEN 'sent' THEN 3
	WHEN 'delivered' THEN 4 WHEN 'read' THEN 5 WHEN 'failed' THEN 6 WHEN 'undelivered' THEN 6 ELSE -1 END`

// RecordDeliveries applies many delivery results in one statement. A state is applied only when
// it moves forward (and never out of a terminal state); attempts and the last error always are.
// Internal messages have no delivery state and are never touched.
func (db *DB) RecordDeliveries(ctx context.Context, ups []baton.DeliveryUpdate) error {
	if len(ups) == 0 {
		return nil
	}
	ids := make([]int64, len(ups))
	states := make([]string, len(ups))
	incs := make([]int32, len(ups))
	errs := make([]string, len(ups))
	for i, u := range ups {
		ids[i], states[i], errs[i] = u.MessageID, string(u.State), u.Error
		if u.Attempted {
			incs[i] = 1
		}
	}
	old := fmt.Sprintf(deliveryRankSQL, "m.delivery_state")
	next := fmt.Sprintf(deliveryRankSQL, "v.state")
	var done []string // attempts that settled the delivery: their fallback tasks are not needed
	for _, u := range ups {
		if baton.DeliveryRank(u.State) >= baton.DeliveryRank(baton.DeliverySent) {
			done = append(done, TaskID(baton.TaskDeliver, u.MessageID))
		}
	}
	// One statement, so one implicit transaction for both tables.
	if _, err := db.Pool.Exec(ctx, `WITH o AS (
			UPDATE outbox SET dispatched_at = $6 WHERE kind = 'deliver' AND dispatched_at IS NULL AND task_id = ANY($5))
		UPDATE messages m SET
			delivery_state = CASE WHEN `+old+` < 6 AND `+next+` > `+old+` THEN v.state ELSE m.delivery_state END,
			delivery_attempts = m.delivery_attempts + v.inc,
			delivery_error = CASE WHEN v.err <> '' THEN v.err ELSE m.delivery_error END
		FROM unnest($1::bigint[], $2::text[], $3::int[], $4::text[]) AS v(id, state, inc, err)
		WHERE m.id = v.id AND m.visibility = 'public' AND m.delivery_state IS NOT NULL`,
		ids, states, incs, errs, done, db.Clock.Now()); err != nil {
		return fmt.Errorf("record deliveries: %w", err)
	}
	return nil
}
