package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/batonhq/baton"
)

// The delivery state machine of a public reply, all in PostgreSQL so that no queue outage
// loses or doubles a reply:
//
//	pending ──claim──▶ sending ──▶ sent ▶ delivered ▶ read
//	   ▲                  │  ╰───▶ failed (refused, or retried for too long)
//	   ╰──── retry ───────┤
//	unknown ◀─────────────╯ (the request may have arrived)
//
// A claim is a conditional UPDATE that counts the attempt and leases the reply for one send
// (delivery_next_at = end of lease); only the claim's holder may record pending or unknown, and
// a reply in sending is claimed again only once its lease has run out. The turn commit claims
// its inline replies itself, so the common path costs no extra commit.

// DeliveryTimes are the durations of the delivery state machine.
type DeliveryTimes struct {
	// SendLease is how long a claim keeps a reply to itself; it must outlast one send.
	SendLease time.Duration
	// OrderWait bounds how long a reply waits for an earlier undelivered reply of its
	// conversation before it is sent anyway.
	OrderWait time.Duration
}

func (t DeliveryTimes) withDefaults() DeliveryTimes {
	if t.SendLease <= 0 {
		t.SendLease = 30 * time.Second
	}
	if t.OrderWait <= 0 {
		t.OrderWait = time.Minute
	}
	return t
}

// Claim outcomes other than a claimed reply.
var (
	// ErrNotDue: the reply is settled, in another claim's lease, not yet due, or not a
	// public reply; there is nothing to send now.
	ErrNotDue = errors.New("delivery not due")
	// ErrHeld: an earlier reply of the conversation is still undelivered; try again shortly.
	ErrHeld = errors.New("delivery held for an earlier reply")
)

// Claimed is a reply claimed for one send attempt.
type Claimed struct {
	baton.Outbound           // Attempts is this attempt's number
	Created        time.Time // when the reply was written: retries are bounded from it
}

// inPlaySQL is true when an earlier reply of message m's conversation is still to be delivered.
const inPlaySQL = `EXISTS (SELECT FROM messages e WHERE e.conversation_id = m.conversation_id AND e.id < m.id
	AND e.delivery_next_at IS NOT NULL)`

// ClaimDelivery claims reply msgID for one send if it is due: pending or unknown and due, or
// sending past its lease; and not behind an earlier undelivered reply (for OrderWait at most).
// Errors: baton.ErrNotFound, ErrNotDue, ErrHeld.
func (db *DB) ClaimDelivery(ctx context.Context, msgID int64) (Claimed, error) {
	t := db.Delivery.withDefaults()
	now := db.Clock.Now()
	var c Claimed
	var citations []byte
	var state string
	err := db.Pool.QueryRow(ctx, `UPDATE messages m SET delivery_state = 'sending', delivery_attempts = m.delivery_attempts + 1,
			delivery_next_at = $2
		FROM conversations c JOIN customers cu ON cu.id = c.customer_id
		WHERE m.id = $1 AND c.id = m.conversation_id AND m.visibility = 'public'
			AND m.delivery_state IN ('pending', 'sending', 'unknown') AND m.delivery_next_at <= $3
			AND NOT (m.received_at > $4 AND `+inPlaySQL+`)
		RETURNING m.id, m.conversation_id, m.channel, cu.external_id, m.body, m.author, m.citations, m.visibility,
			m.delivery_state, m.delivery_attempts, m.received_at`,
		msgID, now.Add(t.SendLease), now, now.Add(-t.OrderWait)).Scan(&c.MessageID, &c.ConversationID, &c.Channel,
		&c.RecipientID, &c.Text, &c.Author, &citations, &c.Visibility, &state, &c.Attempts, &c.Created)
	if errors.Is(err, pgx.ErrNoRows) {
		return c, db.whyNotClaimed(ctx, msgID, now, t)
	}
	if err != nil {
		return c, fmt.Errorf("claim delivery %d: %w", msgID, err)
	}
	c.State = baton.DeliveryState(state)
	if err := json.Unmarshal(citations, &c.Citations); err != nil {
		return c, fmt.Errorf("decode citations of %d: %w", msgID, err)
	}
	return c, nil
}

// whyNotClaimed tells a held reply from one with nothing to do.
func (db *DB) whyNotClaimed(ctx context.Context, msgID int64, now time.Time, t DeliveryTimes) error {
	var due, held bool
	err := db.Pool.QueryRow(ctx, `SELECT m.visibility = 'public' AND m.delivery_state IN ('pending', 'sending', 'unknown')
			AND m.delivery_next_at <= $2, m.received_at > $3 AND `+inPlaySQL+`
		FROM messages m WHERE m.id = $1`, msgID, now, now.Add(-t.OrderWait)).Scan(&due, &held)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return fmt.Errorf("claim delivery %d: %w", msgID, baton.ErrNotFound)
	case err != nil:
		return fmt.Errorf("claim delivery %d: %w", msgID, err)
	case due && held:
		return ErrHeld
	}
	return ErrNotDue
}

// DueDelivery is a reply the delivery path should be working on.
type DueDelivery struct {
	MessageID      int64
	ConversationID int64
	Attempts       int // attempts so far: the next claim is attempt Attempts+1
}

// DueDeliveries lists replies due for at least grace (a retry whose task was lost, a claim
// whose worker died), oldest due first.
func (db *DB) DueDeliveries(ctx context.Context, grace time.Duration, limit int) ([]DueDelivery, error) {
	rows, err := db.Pool.Query(ctx, `SELECT id, conversation_id, delivery_attempts FROM messages
		WHERE delivery_next_at <= $1 ORDER BY delivery_next_at LIMIT $2`, db.Clock.Now().Add(-grace), limit)
	if err != nil {
		return nil, fmt.Errorf("find due deliveries: %w", err)
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (DueDelivery, error) {
		var d DueDelivery
		return d, r.Scan(&d.MessageID, &d.ConversationID, &d.Attempts)
	})
}

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

// RecordDeliveries applies many delivery results in one statement. Sent and later states apply
// when they move forward (never out of a terminal state) and end the schedule; pending and
// unknown apply only to the attempt that holds the claim, with its next attempt time (a result
// of an attempt whose lease ran out and was claimed again changes nothing). The last error
// always applies. Internal messages have no delivery state and are never touched.
func (db *DB) RecordDeliveries(ctx context.Context, ups []baton.DeliveryUpdate) error {
	if len(ups) == 0 {
		return nil
	}
	ids := make([]int64, len(ups))
	states := make([]string, len(ups))
	attempts := make([]int32, len(ups))
	next := make([]*time.Time, len(ups))
	errs := make([]string, len(ups))
	for i, u := range ups {
		ids[i], states[i], attempts[i], errs[i] = u.MessageID, string(u.State), int32(u.Attempt), u.Error
		if !u.NextAttemptAt.IsZero() {
			next[i] = &ups[i].NextAttemptAt
		}
	}
	old := fmt.Sprintf(deliveryRankSQL, "m.delivery_state")
	nw := fmt.Sprintf(deliveryRankSQL, "v.state")
	settles := old + ` < 6 AND ` + nw + ` >= 3 AND ` + nw + ` > ` + old
	retries := nw + ` IN (0, 2) AND m.delivery_state = 'sending' AND m.delivery_attempts = v.attempt`
	if _, err := db.Pool.Exec(ctx, `UPDATE messages m SET
			delivery_state = CASE WHEN `+settles+` OR `+retries+` THEN v.state ELSE m.delivery_state END,
			delivery_next_at = CASE WHEN `+settles+` THEN NULL WHEN `+retries+` THEN v.next ELSE m.delivery_next_at END,
			delivery_error = CASE WHEN v.err <> '' THEN v.err ELSE m.delivery_error END
		FROM unnest($1::bigint[], $2::text[], $3::int[], $4::timestamptz[], $5::text[]) AS v(id, state, attempt, next, err)
		WHERE m.id = v.id AND m.visibility = 'public' AND m.delivery_state IS NOT NULL`,
		ids, states, attempts, next, errs); err != nil {
		return fmt.Errorf("record deliveries: %w", err)
	}
	return nil
}
