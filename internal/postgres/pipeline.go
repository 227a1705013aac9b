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

// ingestSQL stores an inbound message in one statement, hence one implicit transaction, since
// commits are the scarce resource under load. A retried message (its channel and external id
// already stored) changes nothing; one racing the original at most touches the conversation's
// timestamps before its insert finds the original. The conversation's episode moves on when the previous one
// was resolved, explicitly or by idling after a bot answer; the new episode's row is inserted,
// and an earlier one still open is closed as idle, dated idle after the last bot answer.
// The SET expressions see the conversation's row as it was, under its row lock. A satisfaction
// score ($16, read by baton.CSATScore) within baton.CSATWindow of a resolve that asked for one
// is recorded on that episode and answers it: the conversation stays resolved, and the message is
// stored already processed, with no turn task.
const ingestSQL = `WITH dup AS (
		SELECT conversation_id, id FROM messages WHERE channel = $1 AND external_id = $7),
	cu AS (
		INSERT INTO customers (channel, external_id, name, email, phone, created_at, updated_at)
		SELECT $1, $2, $3, $4, $5, $6, $6 WHERE NOT EXISTS (SELECT FROM dup)
		ON CONFLICT (channel, external_id) DO UPDATE SET
			name = CASE WHEN excluded.name <> '' THEN excluded.name ELSE customers.name END,
			email = CASE WHEN excluded.email <> '' THEN excluded.email ELSE customers.email END,
			phone = CASE WHEN excluded.phone <> '' THEN excluded.phone ELSE customers.phone END,
			updated_at = excluded.updated_at
		RETURNING id),
	c AS (
		INSERT INTO conversations AS c (customer_id, channel, created_at, updated_at, last_customer_at)
		SELECT id, $1, $6, $6, $6 FROM cu
		ON CONFLICT (customer_id) DO UPDATE SET updated_at = excluded.updated_at, last_customer_at = excluded.last_customer_at,
			episode = c.episode + CASE WHEN ` + reopensSQL + ` THEN 1 ELSE 0 END,
			status = CASE WHEN ` + reopensSQL + ` THEN 'bot' ELSE c.status END,
			assigned_user_id = CASE WHEN ` + reopensSQL + ` THEN NULL ELSE c.assigned_user_id END
		RETURNING id, episode, last_reply_at, status = 'resolved' AS csat, status = 'agent' AND inactive_since IS NOT NULL AS wake),
	score AS (
		UPDATE episodes SET csat_score = $16, csat_at = $6 FROM c
		WHERE c.csat AND episodes.conversation_id = c.id AND episodes.number = c.episode),
	e AS (
		INSERT INTO episodes (conversation_id, number, opened_at) SELECT id, episode, $6 FROM c
		ON CONFLICT (conversation_id, number) DO NOTHING),
	idle AS (
		UPDATE episodes SET resolved_at = c.last_reply_at + $11::interval, resolution = 'idle' FROM c
		WHERE episodes.conversation_id = c.id AND episodes.number < c.episode AND episodes.resolved_at IS NULL),
	m AS (
		INSERT INTO messages (conversation_id, episode, channel, external_id, author, visibility, body, sent_at, received_at, sort_at,
			processed_at, meta)
		SELECT id, episode, $1, $7, 'customer', 'public', $8, $9, $6, $10,
			CASE WHEN csat THEN $6::timestamptz END, CASE WHEN csat THEN jsonb_build_object('csat', $16::int) ELSE '{}' END FROM c
		ON CONFLICT (channel, external_id) WHERE external_id IS NOT NULL DO NOTHING
		RETURNING id, conversation_id, processed_at IS NULL AS turn),
	o AS (
		INSERT INTO outbox (kind, payload, task_id, run_at, created_at)
		SELECT $12, jsonb_build_object('conversation_id', conversation_id, 'message_id', id)
			|| CASE WHEN $1 = '` + LiveChannel + `' THEN '{"live": true}'::jsonb ELSE '{}' END, $13 || id, $14, $6 FROM m WHERE turn),
	n AS (SELECT pg_notify($15, '') FROM m WHERE turn)
	SELECT conversation_id, id, false, NOT turn, (SELECT wake FROM c) FROM m LEFT JOIN n ON true
	UNION ALL SELECT conversation_id, id, true, false, false FROM dup`

// LiveChannel is the channel whose customers watch their conversation live (the web chat):
// its turn tasks carry TaskPayload.Live.
const LiveChannel = "web"

// reopensSQL is true when a customer message opens a new episode of conversation c: the last
// one was resolved, or the bot answered last and the conversation has idled since ($11).
const reopensSQL = `(c.status = 'resolved' AND NOT ` + csatReplySQL + ` OR c.status = 'bot' AND c.last_reply_at IS NOT NULL
	AND (c.last_customer_at IS NULL OR c.last_reply_at >= c.last_customer_at) AND excluded.updated_at - c.last_reply_at >= $11::interval)`

// csatReplySQL is true when the message is a score ($16) for the resolved episode of
// conversation c, which asked for one no longer than $17 ago.
const csatReplySQL = `($16::int IS NOT NULL AND EXISTS (SELECT FROM episodes e WHERE e.conversation_id = c.id AND e.number = c.episode
	AND e.csat_asked_at >= excluded.updated_at - $17::interval))`

// Ingest stores an inbound message (see ingestSQL): the customer (upserted), the conversation
// (a returning customer continues it), the message, and a turn task in the outbox due after
// window. A retried message stores nothing and returns the first ids.
func (db *DB) Ingest(ctx context.Context, in baton.Inbound, window, idle time.Duration) (baton.IngestResult, error) {
	now := db.Clock.Now()
	sortAt := now
	if in.SentAt != nil {
		sortAt = *in.SentAt
	}
	var ext *string
	if in.ExternalID != "" {
		ext = &in.ExternalID
	}
	var score *int
	if s, ok := baton.CSATScore(in.Text); ok {
		score = &s
	}
	var res baton.IngestResult
	var wake bool
	err := db.Pool.QueryRow(ctx, ingestSQL, in.Channel, in.Sender.ID, in.Sender.Name, in.Sender.Email, in.Sender.Phone, now,
		ext, in.Text, in.SentAt, sortAt, idle, baton.TaskTurn, taskIDPrefix(baton.TaskTurn), now.Add(window), OutboxChannel,
		score, baton.CSATWindow).
		Scan(&res.ConversationID, &res.MessageID, &res.Duplicate, &res.CSAT, &wake)
	if errors.Is(err, pgx.ErrNoRows) {
		// A concurrent retry of the same message was stored first.
		res, _, err = db.findMessage(ctx, in.Channel, in.ExternalID)
		return res, err
	}
	if err != nil {
		return res, fmt.Errorf("store inbound message: %w", err)
	}
	if wake {
		// The customer answered a conversation whose agent's slot was freed. Should this fail,
		// the message is stored and the agents job reactivates the conversation.
		if _, err := db.Reactivate(ctx, res.ConversationID); err != nil {
			return res, err
		}
	}
	return res, nil
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

// TaskID derives a queue task id from the domain ids, so a relayed task is enqueued once.
func TaskID(kind string, messageID int64) string {
	return taskIDPrefix(kind) + strconv.FormatInt(messageID, 10)
}

// taskIDPrefix is TaskID without the message id, for SQL that appends it.
func taskIDPrefix(kind string) string { return kind + ":" }

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
	// Rows are locked in id order, as the turn commit locks them: two orders would deadlock.
	if _, err := db.Pool.Exec(ctx, `UPDATE outbox SET dispatched_at = $2 FROM (
			SELECT id FROM outbox WHERE id = ANY($1) AND dispatched_at IS NULL ORDER BY id FOR UPDATE) AS l
		WHERE outbox.id = l.id AND outbox.dispatched_at IS NULL`,
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

// scanMessage scans first, then messageColumns.
func scanMessage(r pgx.Row, first ...any) (baton.Message, error) {
	var m baton.Message
	var state *string
	var attempts int
	var lastErr string
	var citations, meta []byte
	err := r.Scan(append(first, &m.ID, &m.ConversationID, &m.Episode, &m.Author, &m.Visibility, &m.Text, &m.ExternalID, &m.SentAt, &m.CreatedAt,
		&state, &attempts, &lastErr, &citations, &meta)...)
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
	c.details, c.summary, c.state, c.episode, c.created_at, c.updated_at,
	cu.id, cu.channel, cu.external_id, cu.name, cu.email, cu.phone, cu.timezone, cu.locale, cu.attributes, cu.created_at`

// scanConversation scans conversationColumns, then extra.
func scanConversation(r pgx.Row, extra ...any) (baton.Conversation, error) {
	var c baton.Conversation
	var details, attrs, state []byte
	err := r.Scan(append([]any{&c.ID, &c.Status, &c.Channel, &c.TeamID, &c.AssignedUserID, &c.Priority, &c.SentimentTrend,
		&details, &c.Summary, &state, &c.Episode, &c.CreatedAt, &c.UpdatedAt,
		&c.Customer.ID, &c.Customer.Channel, &c.Customer.ExternalID, &c.Customer.Name, &c.Customer.Email,
		&c.Customer.Phone, &c.Customer.Timezone, &c.Customer.Locale, &attrs, &c.Customer.CreatedAt}, extra...)...)
	if err != nil {
		return c, err
	}
	if err := json.Unmarshal(details, &c.Details); err != nil {
		return c, fmt.Errorf("decode details: %w", err)
	}
	if err := json.Unmarshal(state, &c.State); err != nil {
		return c, fmt.Errorf("decode conversation state: %w", err)
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
	batch.Queue(`SELECT `+conversationColumns+`, c.lease_token, c.lease_expires_at
		FROM conversations c JOIN customers cu ON cu.id = c.customer_id WHERE c.id = $1`, convID).
		QueryRow(func(r pgx.Row) error {
			var err error
			st.Conversation, err = scanConversation(r, &st.Token, &st.LeaseUntil)
			return notFound(err, "conversation")
		})
	// Unanswered customer messages and recent history in one statement; the first column says which.
	batch.Queue(`SELECT * FROM (SELECT true AS pending, sort_at AS k, `+messageColumns+` FROM messages WHERE conversation_id = $1
			AND author = 'customer' AND processed_at IS NULL
		UNION ALL
		(SELECT false, sort_at, `+messageColumns+` FROM messages WHERE conversation_id = $1
			AND (processed_at IS NOT NULL OR author <> 'customer') ORDER BY sort_at DESC, id DESC LIMIT $2)) m
		ORDER BY pending, k, id`,
		convID, historyLimit).Query(func(rows pgx.Rows) error {
		for rows.Next() {
			var pending bool
			var at time.Time
			m, err := scanMessage(rows, &pending, &at)
			if err != nil {
				return err
			}
			if pending {
				st.Pending = append(st.Pending, m)
			} else {
				st.History = append(st.History, m)
			}
		}
		return rows.Err()
	})
	if err := db.Pool.SendBatch(ctx, batch).Close(); err != nil {
		return st, fmt.Errorf("load turn %d: %w", convID, err)
	}
	return st, nil
}

func turnTaskIDs(msgIDs []int64) []string {
	out := make([]string, len(msgIDs))
	for i, id := range msgIDs {
		out[i] = TaskID(baton.TaskTurn, id)
	}
	return out
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
