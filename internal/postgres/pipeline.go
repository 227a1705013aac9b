package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/batonhq/baton"
)

// OutboxChannel is the NOTIFY channel that wakes the relay.
const OutboxChannel = "baton_outbox"

// errDuplicate rolls back an ingest whose message id was stored meanwhile.
var errDuplicate = errors.New("duplicate message")

// Ingest stores an inbound message in one transaction: the customer (upserted), the
// conversation (a returning customer continues it; a new episode opens after a resolve or an
// idle auto-resolve), the message, and a turn task in the outbox due after window.
// A retried message (same channel and external id) stores nothing and returns the first ids.
func (db *DB) Ingest(ctx context.Context, in baton.Inbound, window, idle time.Duration) (baton.IngestResult, error) {
	now := db.Clock.Now()
	sortAt := now
	if in.SentAt != nil {
		sortAt = *in.SentAt
	}
	var res baton.IngestResult
	err := db.inTx(ctx, func(tx pgx.Tx) error {
		var customerID int64
		err := tx.QueryRow(ctx, `INSERT INTO customers (channel, external_id, name, email, phone, created_at, updated_at)
			VALUES ($1, $2, $3, $4, $5, $6, $6)
			ON CONFLICT (channel, external_id) DO UPDATE SET
				name = CASE WHEN excluded.name <> '' THEN excluded.name ELSE customers.name END,
				email = CASE WHEN excluded.email <> '' THEN excluded.email ELSE customers.email END,
				phone = CASE WHEN excluded.phone <> '' THEN excluded.phone ELSE customers.phone END,
				updated_at = excluded.updated_at
			RETURNING id`, in.Channel, in.Sender.ID, in.Sender.Name, in.Sender.Email, in.Sender.Phone, now).Scan(&customerID)
		if err != nil {
			return fmt.Errorf("upsert customer: %w", err)
		}
		var (
			convID              int64
			status              string
			episode             int
			inserted            bool
			lastReply, lastCust *time.Time
		)
		err = tx.QueryRow(ctx, `INSERT INTO conversations (customer_id, channel, created_at, updated_at)
			VALUES ($1, $2, $3, $3)
			ON CONFLICT (customer_id) DO UPDATE SET updated_at = excluded.updated_at
			RETURNING id, status, episode, last_reply_at, last_customer_at, xmax = 0`, customerID, in.Channel, now).
			Scan(&convID, &status, &episode, &lastReply, &lastCust, &inserted)
		if err != nil {
			return fmt.Errorf("open conversation: %w", err)
		}
		batch := &pgx.Batch{}
		if inserted {
			batch.Queue(`INSERT INTO episodes (conversation_id, number, opened_at) VALUES ($1, 1, $2)`, convID, now)
		} else {
			idleDone := status == string(baton.StatusBot) && lastReply != nil &&
				(lastCust == nil || !lastReply.Before(*lastCust)) && now.Sub(*lastReply) >= idle
			if status == string(baton.StatusResolved) || idleDone {
				if idleDone {
					batch.Queue(`UPDATE episodes SET resolved_at = $3, resolution = 'idle'
						WHERE conversation_id = $1 AND number = $2 AND resolved_at IS NULL`, convID, episode, lastReply.Add(idle))
				}
				episode++
				batch.Queue(`INSERT INTO episodes (conversation_id, number, opened_at) VALUES ($1, $2, $3)`, convID, episode, now)
				batch.Queue(`UPDATE conversations SET episode = $2, status = 'bot', assigned_user_id = NULL WHERE id = $1`, convID, episode)
			}
		}
		batch.Queue(`UPDATE conversations SET last_customer_at = $2 WHERE id = $1`, convID, now)
		if err := tx.SendBatch(ctx, batch).Close(); err != nil {
			return fmt.Errorf("update episode: %w", err)
		}
		var ext *string
		if in.ExternalID != "" {
			ext = &in.ExternalID
		}
		err = tx.QueryRow(ctx, `INSERT INTO messages (conversation_id, episode, channel, external_id, author, visibility, body, sent_at, received_at, sort_at)
			VALUES ($1, $2, $3, $4, 'customer', 'public', $5, $6, $7, $8)
			ON CONFLICT (channel, external_id) WHERE external_id IS NOT NULL DO NOTHING
			RETURNING id`, convID, episode, in.Channel, ext, in.Text, in.SentAt, now, sortAt).Scan(&res.MessageID)
		if errors.Is(err, pgx.ErrNoRows) {
			return errDuplicate
		}
		if err != nil {
			return fmt.Errorf("insert message: %w", err)
		}
		res.ConversationID = convID
		return insertOutbox(ctx, tx, baton.TaskTurn, res.ConversationID, res.MessageID, now, now.Add(window))
	})
	if errors.Is(err, errDuplicate) {
		res, _, err = db.findMessage(ctx, in.Channel, in.ExternalID)
		return res, err
	}
	return res, err
}

func (db *DB) findMessage(ctx context.Context, channel, externalID string) (baton.IngestResult, bool, error) {
	if externalID == "" {
		return baton.IngestResult{}, false, nil
	}
	var res baton.IngestResult
	err := db.Pool.QueryRow(ctx, `SELECT conversation_id, id FROM messages WHERE channel = $1 AND external_id = $2`,
		channel, externalID).Scan(&res.ConversationID, &res.MessageID)
	if errors.Is(err, pgx.ErrNoRows) {
		return res, false, nil
	}
	if err != nil {
		return res, false, fmt.Errorf("look up message: %w", err)
	}
	res.Duplicate = true
	return res, true, nil
}

// DeliverFallback is when a reply's deliver task is queued if the worker that wrote the reply
// has not recorded a delivery result by then (it died, or the channel failed).
const DeliverFallback = 10 * time.Second

// TaskID derives a queue task id from the domain ids, so a relayed task is enqueued once.
func TaskID(kind string, messageID int64) string {
	return kind + ":" + strconv.FormatInt(messageID, 10)
}

func insertOutbox(ctx context.Context, tx pgx.Tx, kind string, convID, msgID int64, now, runAt time.Time) error {
	payload, _ := json.Marshal(baton.TaskPayload{ConversationID: convID, MessageID: msgID})
	// One round trip: the row, and the wake-up the relay gets when the transaction commits.
	if _, err := tx.Exec(ctx, `WITH o AS (INSERT INTO outbox (kind, payload, task_id, run_at, created_at) VALUES ($1, $2, $3, $4, $5) RETURNING id)
		SELECT pg_notify($6, '') FROM o`, kind, payload, TaskID(kind, msgID), runAt, now, OutboxChannel); err != nil {
		return fmt.Errorf("insert outbox: %w", err)
	}
	return nil
}

// PendingOutbox returns undispatched outbox rows with id > after, oldest first.
func (db *DB) PendingOutbox(ctx context.Context, after int64, limit int) ([]baton.OutboxRow, error) {
	rows, err := db.Pool.Query(ctx, `SELECT id, kind, task_id, payload, run_at FROM outbox
		WHERE dispatched_at IS NULL AND id > $1 ORDER BY id LIMIT $2`, after, limit)
	if err != nil {
		return nil, fmt.Errorf("read outbox: %w", err)
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (baton.OutboxRow, error) {
		var o baton.OutboxRow
		return o, r.Scan(&o.ID, &o.Kind, &o.TaskID, &o.Payload, &o.RunAt)
	})
}

// MarkDispatched marks outbox rows as handed to the queue, in one statement.
func (db *DB) MarkDispatched(ctx context.Context, ids []int64) error {
	if len(ids) == 0 {
		return nil
	}
	if _, err := db.Pool.Exec(ctx, `UPDATE outbox SET dispatched_at = $2 WHERE id = ANY($1) AND dispatched_at IS NULL`,
		ids, db.Clock.Now()); err != nil {
		return fmt.Errorf("mark outbox dispatched: %w", err)
	}
	return nil
}

// Debounce reads what the turn task of message msgID needs to decide whether to run now (see
// baton.Debounce).
func (db *DB) Debounce(ctx context.Context, convID, msgID int64, window time.Duration) (baton.Debounce, error) {
	now := db.Clock.Now()
	var d baton.Debounce
	var received, leaseUntil *time.Time
	err := db.Pool.QueryRow(ctx, `SELECT
			coalesce((SELECT processed_at IS NOT NULL FROM messages WHERE id = $2), true),
			EXISTS (SELECT 1 FROM messages WHERE conversation_id = $1 AND author = 'customer'
				AND processed_at IS NULL AND id > $2 AND received_at > $3),
			(SELECT received_at FROM messages WHERE id = $2),
			(SELECT lease_expires_at FROM conversations WHERE id = $1)`,
		convID, msgID, now.Add(-window)).Scan(&d.Answered, &d.Newer, &received, &leaseUntil)
	if err != nil {
		return d, fmt.Errorf("check debounce: %w", err)
	}
	if received != nil {
		d.Early = max(0, received.Add(window).Sub(now))
	}
	d.LeaseFree = leaseUntil == nil || !leaseUntil.After(now)
	return d, nil
}

// ClaimLease claims the turn lease of a conversation if it is free or expired.
func (db *DB) ClaimLease(ctx context.Context, convID int64, owner string, ttl time.Duration) (baton.Lease, error) {
	now := db.Clock.Now()
	l := baton.Lease{ConversationID: convID, Owner: owner}
	err := db.Pool.QueryRow(ctx, `UPDATE conversations SET lease_owner = $2, lease_token = lease_token + 1, lease_expires_at = $3
		WHERE id = $1 AND (lease_expires_at IS NULL OR lease_expires_at <= $4)
		RETURNING lease_token`, convID, owner, now.Add(ttl), now).Scan(&l.Token)
	if errors.Is(err, pgx.ErrNoRows) {
		return l, baton.ErrLeaseBusy
	}
	if err != nil {
		return l, fmt.Errorf("claim turn lease %d: %w", convID, err)
	}
	return l, nil
}

// ExtendLease pushes the lease's expiry forward; ErrLeaseLost if another turn took it.
func (db *DB) ExtendLease(ctx context.Context, l baton.Lease, ttl time.Duration) error {
	tag, err := db.Pool.Exec(ctx, `UPDATE conversations SET lease_expires_at = $4
		WHERE id = $1 AND lease_owner = $2 AND lease_token = $3`, l.ConversationID, l.Owner, l.Token, db.Clock.Now().Add(ttl))
	if err != nil {
		return fmt.Errorf("extend turn lease %d: %w", l.ConversationID, err)
	}
	if tag.RowsAffected() == 0 {
		return baton.ErrLeaseLost
	}
	return nil
}

// ReleaseLease gives the lease up without writing a turn (e.g. nothing to do).
func (db *DB) ReleaseLease(ctx context.Context, l baton.Lease) error {
	_, err := db.Pool.Exec(ctx, `UPDATE conversations SET lease_owner = NULL, lease_expires_at = NULL
		WHERE id = $1 AND lease_owner = $2 AND lease_token = $3`, l.ConversationID, l.Owner, l.Token)
	if err != nil {
		return fmt.Errorf("release turn lease %d: %w", l.ConversationID, err)
	}
	return nil
}

const messageColumns = `id, conversation_id, episode, author, visibility, body, coalesce(external_id, ''), sent_at, received_at,
	delivery_state, delivery_attempts, delivery_error, citations, meta`

func scanMessage(r pgx.Row) (baton.Message, error) {
	var m baton.Message
	var state *string
	var attempts int
	var lastErr string
	var citations, meta []byte
	err := r.Scan(&m.ID, &m.ConversationID, &m.Episode, &m.Author, &m.Visibility, &m.Text, &m.ExternalID, &m.SentAt, &m.CreatedAt,
		&state, &attempts, &lastErr, &citations, &meta)
	if err != nil {
		return m, err
	}
	if state != nil {
		m.Delivery = &baton.Delivery{State: baton.DeliveryState(*state), Attempts: attempts, LastError: lastErr}
	}
	if len(citations) > 2 {
		if err := json.Unmarshal(citations, &m.Citations); err != nil {
			return m, fmt.Errorf("decode citations: %w", err)
		}
	}
	if len(meta) > 2 {
		if err := json.Unmarshal(meta, &m.Meta); err != nil {
			return m, fmt.Errorf("decode meta: %w", err)
		}
	}
	return m, nil
}

const conversationColumns = `c.id, c.status, c.channel, c.team_id, c.assigned_user_id, c.priority, c.sentiment_trend,
	c.details, c.summary, c.episode, c.created_at, c.updated_at,
	cu.id, cu.channel, cu.external_id, cu.name, cu.email, cu.phone, cu.timezone, cu.locale, cu.attributes, cu.created_at`

func scanConversation(r pgx.Row) (baton.Conversation, error) {
	var c baton.Conversation
	var details, attrs []byte
	err := r.Scan(&c.ID, &c.Status, &c.Channel, &c.TeamID, &c.AssignedUserID, &c.Priority, &c.SentimentTrend,
		&details, &c.Summary, &c.Episode, &c.CreatedAt, &c.UpdatedAt,
		&c.Customer.ID, &c.Customer.Channel, &c.Customer.ExternalID, &c.Customer.Name, &c.Customer.Email,
		&c.Customer.Phone, &c.Customer.Timezone, &c.Customer.Locale, &attrs, &c.Customer.CreatedAt)
	if err != nil {
		return c, err
	}
	if err := json.Unmarshal(details, &c.Details); err != nil {
		return c, fmt.Errorf("decode details: %w", err)
	}
	if len(attrs) > 2 {
		if err := json.Unmarshal(attrs, &c.Customer.Attributes); err != nil {
			return c, fmt.Errorf("decode attributes: %w", err)
		}
	}
	return c, nil
}

// historyLimit bounds how much earlier conversation a turn reads.
const historyLimit = 20

// LoadTurn reads what a turn needs, in one round trip, without holding a transaction.
func (db *DB) LoadTurn(ctx context.Context, convID int64) (baton.TurnState, error) {
	var st baton.TurnState
	batch := &pgx.Batch{}
	batch.Queue(`SELECT `+conversationColumns+` FROM conversations c JOIN customers cu ON cu.id = c.customer_id WHERE c.id = $1`, convID).
		QueryRow(func(r pgx.Row) error {
			var err error
			st.Conversation, err = scanConversation(r)
			return notFound(err, "conversation")
		})
	batch.Queue(`SELECT `+messageColumns+` FROM messages WHERE conversation_id = $1 AND author = 'customer' AND processed_at IS NULL
		ORDER BY sort_at, id`, convID).Query(func(rows pgx.Rows) error {
		var err error
		st.Pending, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (baton.Message, error) { return scanMessage(r) })
		return err
	})
	batch.Queue(`SELECT `+messageColumns+` FROM (SELECT * FROM messages WHERE conversation_id = $1
		AND (processed_at IS NOT NULL OR author <> 'customer') ORDER BY sort_at DESC, id DESC LIMIT $2) m ORDER BY sort_at, id`,
		convID, historyLimit).Query(func(rows pgx.Rows) error {
		var err error
		st.History, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (baton.Message, error) { return scanMessage(r) })
		return err
	})
	if err := db.Pool.SendBatch(ctx, batch).Close(); err != nil {
		return st, fmt.Errorf("load turn %d: %w", convID, err)
	}
	return st, nil
}

// CommitTurn writes a turn's outcome in one transaction, only if l still owns the conversation
// (fencing): replies, delivery outbox rows, processed markers, details, trace; it releases the
// lease. It returns the ids of the stored replies.
func (db *DB) CommitTurn(ctx context.Context, l baton.Lease, out baton.TurnOutcome) ([]int64, error) {
	now := db.Clock.Now()
	var ids []int64
	if out.Processed == nil {
		out.Processed = []int64{}
	}
	if out.Details == nil {
		out.Details = map[string]string{}
	}
	err := db.inTx(ctx, func(tx pgx.Tx) error {
		details, err := json.Marshal(out.Details)
		if err != nil {
			return fmt.Errorf("encode details: %w", err)
		}
		var channel string
		var episode int
		lastReply := (*time.Time)(nil)
		for _, r := range out.Replies {
			if r.Visibility == baton.Public {
				lastReply = &now
			}
		}
		err = tx.QueryRow(ctx, `UPDATE conversations SET lease_owner = NULL, lease_expires_at = NULL,
				details = details || $4::jsonb, status = coalesce(nullif($5, ''), status),
				sentiment_trend = coalesce($6, sentiment_trend), last_reply_at = coalesce($7, last_reply_at), updated_at = $8
			WHERE id = $1 AND lease_owner = $2 AND lease_token = $3
			RETURNING channel, episode`, l.ConversationID, l.Owner, l.Token, details, string(out.Status), out.Sentiment, lastReply, now).
			Scan(&channel, &episode)
		if errors.Is(err, pgx.ErrNoRows) {
			return baton.ErrLeaseLost
		}
		if err != nil {
			return fmt.Errorf("fence turn: %w", err)
		}
		trace, err := json.Marshal(out.Trace)
		if err != nil {
			return fmt.Errorf("encode trace: %w", err)
		}
		var turnID int64
		if err := tx.QueryRow(ctx, `INSERT INTO turn_traces (conversation_id, message_ids, lease_token, started_at, finished_at, data)
			VALUES ($1, $2, $3, $4, $5, $6) RETURNING id`, l.ConversationID, out.Processed, l.Token, out.StartedAt, now, trace).Scan(&turnID); err != nil {
			return fmt.Errorf("insert trace: %w", err)
		}
		batch := &pgx.Batch{}
		batch.Queue(`UPDATE messages SET processed_at = $2, turn_id = $3 WHERE id = ANY($1) AND processed_at IS NULL`, out.Processed, now, turnID)
		if len(out.Meta) > 0 {
			ids := make([]int64, 0, len(out.Meta))
			metas := make([]string, 0, len(out.Meta))
			for id, meta := range out.Meta {
				b, err := json.Marshal(meta)
				if err != nil {
					return fmt.Errorf("encode meta: %w", err)
				}
				ids, metas = append(ids, id), append(metas, string(b))
			}
			batch.Queue(`UPDATE messages m SET meta = m.meta || v.meta::jsonb
				FROM (SELECT unnest($1::bigint[]) AS id, unnest($2::text[]) AS meta) v WHERE m.id = v.id`, ids, metas)
		}
		// The turn's own tasks are consumed: mark them so the relay's sweep skips them.
		batch.Queue(`UPDATE outbox SET dispatched_at = $2 WHERE dispatched_at IS NULL AND kind = 'turn' AND task_id = ANY($1)`,
			turnTaskIDs(out.Processed), now)
		for i, r := range out.Replies {
			citations, err := json.Marshal(r.Citations)
			if err != nil {
				return fmt.Errorf("encode citations: %w", err)
			}
			meta, _ := json.Marshal(r.Meta)
			if r.Meta == nil {
				meta = []byte("{}")
			}
			var state *string
			if r.Visibility == baton.Public {
				s := string(baton.DeliveryPending)
				state = &s
			}
			// Replies sort just after now, in their order.
			at := now.Add(time.Duration(i) * time.Microsecond)
			batch.Queue(`INSERT INTO messages (conversation_id, episode, channel, author, visibility, body, received_at, sort_at,
				delivery_state, citations, meta, turn_id) VALUES ($1, $2, $3, $4, $5, $6, $7, $7, $8, $9, $10, $11) RETURNING id`,
				l.ConversationID, episode, channel, r.Author, r.Visibility, r.Text, at, state, citations, meta, turnID).
				QueryRow(func(row pgx.Row) error {
					var id int64
					if err := row.Scan(&id); err != nil {
						return err
					}
					ids = append(ids, id)
					return nil
				})
		}
		if err := tx.SendBatch(ctx, batch).Close(); err != nil {
			return fmt.Errorf("write turn: %w", err)
		}
		if len(ids) > 0 {
			batch := &pgx.Batch{}
			for i, id := range ids {
				if out.Replies[i].Visibility != baton.Public {
					continue
				}
				payload, _ := json.Marshal(baton.TaskPayload{ConversationID: l.ConversationID, MessageID: id})
				// The worker that ran the turn delivers at once; this row is the fallback if it can't.
				batch.Queue(`INSERT INTO outbox (kind, payload, task_id, run_at, created_at) VALUES ('deliver', $1, $2, $3, $4)`,
					payload, TaskID(baton.TaskDeliver, id), now.Add(DeliverFallback), now)
			}
			if err := tx.SendBatch(ctx, batch).Close(); err != nil {
				return fmt.Errorf("queue deliveries: %w", err)
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return ids, nil
}

func turnTaskIDs(msgIDs []int64) []string {
	out := make([]string, len(msgIDs))
	for i, id := range msgIDs {
		out[i] = TaskID(baton.TaskTurn, id)
	}
	return out
}

// NewestPending returns the newest unanswered customer message of a conversation, if any.
func (db *DB) NewestPending(ctx context.Context, convID int64) (int64, bool, error) {
	var id int64
	err := db.Pool.QueryRow(ctx, `SELECT id FROM messages WHERE conversation_id = $1 AND author = 'customer'
		AND processed_at IS NULL ORDER BY id DESC LIMIT 1`, convID).Scan(&id)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, false, nil
	}
	if err != nil {
		return 0, false, fmt.Errorf("find pending message: %w", err)
	}
	return id, true, nil
}

// Stalled lists conversations with customer messages unanswered for longer than olderThan and
// no live lease: their turn task was lost (worker killed, task archived) and must be re-run.
func (db *DB) Stalled(ctx context.Context, olderThan time.Duration, limit int) ([]baton.TaskPayload, error) {
	now := db.Clock.Now()
	rows, err := db.Pool.Query(ctx, `SELECT m.conversation_id, max(m.id) FROM messages m
		JOIN conversations c ON c.id = m.conversation_id
		WHERE m.author = 'customer' AND m.processed_at IS NULL AND m.received_at < $1
		  AND (c.lease_expires_at IS NULL OR c.lease_expires_at <= $2)
		GROUP BY m.conversation_id ORDER BY min(m.id) LIMIT $3`, now.Add(-olderThan), now, limit)
	if err != nil {
		return nil, fmt.Errorf("find stalled conversations: %w", err)
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (baton.TaskPayload, error) {
		var p baton.TaskPayload
		return p, r.Scan(&p.ConversationID, &p.MessageID)
	})
}
