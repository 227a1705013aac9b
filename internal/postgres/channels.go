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

// IngestSilent stores an inbound message as answered, without a turn: an opt-out keyword, a
// message of an opted-out or blocked sender, a message while the provider's agents own the
// conversation. It is ingestSQL in a transaction that then marks the message processed and
// drops its turn task, so the relay never sees the task. A retried message stores nothing.
func (db *DB) IngestSilent(ctx context.Context, in baton.Inbound, idle time.Duration) (baton.IngestResult, error) {
	now := db.Clock.Now()
	sortAt := now
	if in.SentAt != nil {
		sortAt = *in.SentAt
	}
	var ext *string
	if in.ExternalID != "" {
		ext = &in.ExternalID
	}
	var res baton.IngestResult
	err := pgx.BeginFunc(ctx, db.Pool, func(tx pgx.Tx) error {
		err := tx.QueryRow(ctx, ingestSQL, in.Channel, in.Sender.ID, in.Sender.Name, in.Sender.Email, in.Sender.Phone, now,
			ext, in.Text, in.SentAt, sortAt, idle, baton.TaskTurn, taskIDPrefix(baton.TaskTurn), now, OutboxChannel,
			nil, baton.CSATWindow). // a message stored silently is never a survey score
			Scan(&res.ConversationID, &res.MessageID, &res.Duplicate, &res.CSAT, new(bool))
		if err != nil || res.Duplicate {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE messages SET processed_at = $2 WHERE id = $1`, res.MessageID, now); err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `DELETE FROM outbox WHERE task_id = $1 AND dispatched_at IS NULL`, TaskID(baton.TaskTurn, res.MessageID))
		return err
	})
	if errors.Is(err, pgx.ErrNoRows) {
		res, _, err = db.findMessage(ctx, in.Channel, in.ExternalID)
		return res, err
	}
	if err != nil {
		return res, fmt.Errorf("store inbound message silently: %w", err)
	}
	return res, nil
}

// RecordReceipt stores the provider's ids of a sent reply; the first becomes the reply's
// external id. Recording the same receipt twice changes nothing.
func (db *DB) RecordReceipt(ctx context.Context, channel string, msgID int64, r baton.Receipt) error {
	if len(r.ProviderIDs) == 0 {
		return nil
	}
	_, err := db.Pool.Exec(ctx, `WITH r AS (
			INSERT INTO channel_receipts (channel, provider_id, message_id, created_at)
			SELECT $1, p, $2, $4 FROM unnest($3::text[]) AS p
			ON CONFLICT (channel, provider_id) DO NOTHING)
		UPDATE messages SET external_id = $3[1] WHERE id = $2 AND external_id IS NULL
			AND NOT EXISTS (SELECT FROM messages WHERE channel = $1 AND external_id = $3[1])`,
		channel, msgID, r.ProviderIDs, db.Clock.Now())
	if err != nil {
		return fmt.Errorf("record receipt of message %d: %w", msgID, err)
	}
	return nil
}

// ApplyStatus moves a reply's delivery state forward from a provider's status callback: by
// Baton's id when the provider echoes it (and the reply is of this channel), else by the
// provider's message id. A status of an unknown message changes nothing (found = false);
// one that would move the state backwards (callbacks arrive out of order) is ignored.
func (db *DB) ApplyStatus(ctx context.Context, channel string, st baton.StatusUpdate) (found bool, err error) {
	var id int64
	err = db.Pool.QueryRow(ctx, `SELECT coalesce(
			(SELECT id FROM messages WHERE id = $2 AND channel = $1 AND author <> 'customer'),
			(SELECT message_id FROM channel_receipts WHERE channel = $1 AND provider_id = $3), 0)`,
		channel, st.MessageID, st.ProviderID).Scan(&id)
	if err != nil {
		return false, fmt.Errorf("find the reply of a status: %w", err)
	}
	if id == 0 {
		return false, nil
	}
	if baton.DeliveryRank(st.State) < 3 {
		return true, nil // queued, accepted, sending: nothing Baton does not know
	}
	if err := db.RecordDeliveries(ctx, []baton.DeliveryUpdate{{MessageID: id, State: st.State, Error: st.Error}}); err != nil {
		return true, err
	}
	return true, nil
}

// OptedOut reports whether a channel identity must not be messaged (opted out or blocked).
func (db *DB) OptedOut(ctx context.Context, channel, externalID string) (bool, error) {
	var out bool
	err := db.Pool.QueryRow(ctx, `SELECT EXISTS (SELECT FROM channel_opt_outs WHERE channel = $1 AND external_id = $2)`,
		channel, externalID).Scan(&out)
	if err != nil {
		return false, fmt.Errorf("read opt-out: %w", err)
	}
	return out, nil
}

// SetOptOut records STOP (out) or START (not out); a blocked identity stays blocked.
func (db *DB) SetOptOut(ctx context.Context, channel, externalID string, out bool) error {
	var err error
	if out {
		_, err = db.Pool.Exec(ctx, `INSERT INTO channel_opt_outs (channel, external_id, reason, created_at)
			VALUES ($1, $2, 'stop', $3) ON CONFLICT (channel, external_id) DO NOTHING`, channel, externalID, db.Clock.Now())
	} else {
		_, err = db.Pool.Exec(ctx, `DELETE FROM channel_opt_outs WHERE channel = $1 AND external_id = $2 AND reason = 'stop'`,
			channel, externalID)
	}
	if err != nil {
		return fmt.Errorf("record opt-out: %w", err)
	}
	return nil
}

// Block adds identities to the blocked sender list: stored, never answered, never messaged.
func (db *DB) Block(ctx context.Context, channel string, externalIDs []string) error {
	_, err := db.Pool.Exec(ctx, `INSERT INTO channel_opt_outs (channel, external_id, reason, created_at)
		SELECT $1, e, 'blocked', $3 FROM unnest($2::text[]) AS e
		ON CONFLICT (channel, external_id) DO UPDATE SET reason = 'blocked'`, channel, externalIDs, db.Clock.Now())
	if err != nil {
		return fmt.Errorf("block senders: %w", err)
	}
	return nil
}

// SetBlocked makes the blocked sender list exactly list ("channel:external_id" entries): the
// ones not in it are unblocked, the new ones blocked. Opt-outs by STOP are untouched.
func (db *DB) SetBlocked(ctx context.Context, list []string) error {
	err := pgx.BeginFunc(ctx, db.Pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `DELETE FROM channel_opt_outs WHERE reason = 'blocked' AND channel || ':' || external_id <> ALL($1::text[])`, list); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `INSERT INTO channel_opt_outs (channel, external_id, reason, created_at)
			SELECT split_part(e, ':', 1), substr(e, strpos(e, ':') + 1), 'blocked', $2 FROM unnest($1::text[]) AS e
			ON CONFLICT (channel, external_id) DO UPDATE SET reason = 'blocked'`, list, db.Clock.Now())
		return err
	})
	if err != nil {
		return fmt.Errorf("set blocked senders: %w", err)
	}
	return nil
}

// BackToBot gives a conversation back to the bot when the provider's own inbox says so (a
// Chatwoot conversation pending again): queued or agent → bot, as the lifecycle's return.
func (db *DB) BackToBot(ctx context.Context, channel, externalID string) error {
	to, err := baton.Transition(baton.StatusQueued, baton.EventReturn)
	if err != nil {
		return err
	}
	_, err = db.Pool.Exec(ctx, `UPDATE conversations c SET status = $3, updated_at = $4
		FROM customers cu WHERE cu.id = c.customer_id AND cu.channel = $1 AND cu.external_id = $2
			AND c.status IN ('queued', 'agent')`, channel, externalID, string(to), db.Clock.Now())
	if err != nil {
		return fmt.Errorf("give conversation back to the bot: %w", err)
	}
	return nil
}

// PauseForHuman mutes the bot in the conversation of a channel identity because a person of
// the business answered from the business's own phone or app (a loop guard: the bot never
// talks over them). An agent or admin unmutes it. Unknown identities change nothing.
func (db *DB) PauseForHuman(ctx context.Context, channel, externalID string) error {
	_, err := db.Pool.Exec(ctx, `UPDATE conversations c SET bot_muted_at = coalesce(c.bot_muted_at, $3),
			pause_reason = coalesce(c.pause_reason, $4)
		FROM customers cu WHERE cu.id = c.customer_id AND cu.channel = $1 AND cu.external_id = $2`,
		channel, externalID, db.Clock.Now(), string(baton.PauseEcho))
	if err != nil {
		return fmt.Errorf("pause the bot for a human reply: %w", err)
	}
	return nil
}

// LastCustomerAt is when the customer of a conversation last wrote (zero if never).
func (db *DB) LastCustomerAt(ctx context.Context, convID int64) (time.Time, error) {
	var at *time.Time
	err := db.Pool.QueryRow(ctx, `SELECT last_customer_at FROM conversations WHERE id = $1`, convID).Scan(&at)
	if err != nil {
		return time.Time{}, notFound(err, "conversation")
	}
	if at == nil {
		return time.Time{}, nil
	}
	return *at, nil
}

// MessageMeta is a message's meta (a channel reads what the turn left for it, e.g. a handoff).
func (db *DB) MessageMeta(ctx context.Context, msgID int64) (map[string]any, error) {
	var raw []byte
	if err := db.Pool.QueryRow(ctx, `SELECT meta FROM messages WHERE id = $1`, msgID).Scan(&raw); err != nil {
		return nil, notFound(err, "message")
	}
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, fmt.Errorf("decode meta of message %d: %w", msgID, err)
	}
	return m, nil
}
