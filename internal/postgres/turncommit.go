package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/batonhq/baton"
)

// CommitTurn writes a turn's outcome, only if l still fences the conversation: the
// conversation's new state, the trace, what was understood of each answered message, the
// replies with their delivery outbox rows, a handoff. l.Owner is empty for a turn that claimed
// no lease; it then commits only if the token is unchanged and no lease is live, and bumps the
// token so a concurrent turn that read the same state cannot commit too. It releases the lease.
//
// The parts are queued as one pipeline: one round trip and, since a batch outside an explicit
// transaction runs as one implicit transaction, one commit (commits are the scarce resource).
// The first part aborts the transaction when the fence fails, so no later part writes.
func (db *DB) CommitTurn(ctx context.Context, l baton.Lease, out baton.TurnOutcome) (baton.TurnCommit, error) {
	tc := turnCommit{db: db, now: db.Clock.Now(), l: l, out: out, batch: &pgx.Batch{}}
	for _, part := range []func() error{tc.conversation, tc.trace, tc.processed, tc.replies, tc.handoff, tc.tasks, tc.pending} {
		if err := part(); err != nil {
			return tc.res, fmt.Errorf("write turn of conversation %d: %w", l.ConversationID, err)
		}
	}
	err := db.Pool.SendBatch(ctx, tc.batch).Close()
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == fenceLostCode {
		return baton.TurnCommit{}, baton.ErrLeaseLost
	}
	if err != nil {
		return baton.TurnCommit{}, fmt.Errorf("write turn of conversation %d: %w", l.ConversationID, err)
	}
	return tc.res, nil
}

// fenceLostCode is the SQLSTATE baton_fence_lost() raises (see the conversation_state migration).
const fenceLostCode = "BT001"

// turnCommit builds the statements of one turn commit; each method adds one part.
type turnCommit struct {
	db    *DB
	now   time.Time
	l     baton.Lease
	out   baton.TurnOutcome
	batch *pgx.Batch
	res   baton.TurnCommit
}

// turnIDSQL is the id of the trace row the turn inserted earlier in the same pipeline.
const turnIDSQL = `currval(pg_get_serial_sequence('turn_traces', 'id'))`

// conversation is the fence: it updates the conversation only if the turn still owns it, and
// otherwise raises, which aborts the whole commit.
func (tc *turnCommit) conversation() error {
	out := tc.out
	details := out.Details
	if details == nil {
		details = map[string]string{}
	}
	dj, err := json.Marshal(details)
	if err != nil {
		return fmt.Errorf("encode details: %w", err)
	}
	var state []byte
	if out.State != nil {
		if state, err = json.Marshal(out.State); err != nil {
			return fmt.Errorf("encode state: %w", err)
		}
	}
	var lastReply *time.Time
	for _, r := range out.Replies {
		if r.Visibility == baton.Public {
			lastReply = &tc.now
		}
	}
	tc.batch.Queue(`WITH f AS (
		UPDATE conversations SET lease_owner = NULL, lease_expires_at = NULL,
			lease_token = lease_token + CASE WHEN $2 = '' THEN 1 ELSE 0 END,
			details = details || $4::jsonb, status = coalesce(nullif($5, ''), status),
			sentiment_trend = coalesce($6, sentiment_trend), last_reply_at = coalesce($7, last_reply_at), updated_at = $8,
			state = coalesce($9::jsonb, state), summary = coalesce($10, summary)
		WHERE id = $1 AND lease_token = $3 AND CASE WHEN $2 = '' THEN lease_expires_at IS NULL OR lease_expires_at <= $8
			ELSE lease_owner = $2 END
		RETURNING id)
	SELECT CASE WHEN EXISTS (SELECT FROM f) THEN true ELSE baton_fence_lost() END`,
		tc.l.ConversationID, tc.l.Owner, tc.l.Token, dj, string(out.Status), out.Sentiment, lastReply, tc.now, state, out.Summary)
	return nil
}

func (tc *turnCommit) trace() error {
	trace, err := json.Marshal(tc.out.Trace)
	if err != nil {
		return fmt.Errorf("encode trace: %w", err)
	}
	tc.batch.Queue(`INSERT INTO turn_traces (conversation_id, message_ids, lease_token, started_at, finished_at, data)
		SELECT id, $2, lease_token, $3, $4, $5 FROM conversations WHERE id = $1`,
		tc.l.ConversationID, nonNilIDs(tc.out.Processed), tc.out.StartedAt, tc.now, trace)
	return nil
}

// processed marks the answered customer messages with what was understood, and consumes their
// turn tasks so the relay's sweep skips them.
func (tc *turnCommit) processed() error {
	ids := nonNilIDs(tc.out.Processed)
	metas := make([]string, len(ids))
	for i, id := range ids {
		metas[i] = "{}"
		if m, ok := tc.out.Meta[id]; ok {
			b, err := json.Marshal(m)
			if err != nil {
				return fmt.Errorf("encode meta: %w", err)
			}
			metas[i] = string(b)
		}
	}
	tc.batch.Queue(`UPDATE messages m SET processed_at = $1, turn_id = `+turnIDSQL+`, meta = m.meta || v.meta::jsonb
		FROM unnest($2::bigint[], $3::text[]) AS v(id, meta)
		WHERE m.id = v.id AND m.processed_at IS NULL`, tc.now, ids, metas)
	tc.batch.Queue(`UPDATE outbox SET dispatched_at = $1
		WHERE dispatched_at IS NULL AND kind = 'turn' AND task_id = ANY($2)`, tc.now, turnTaskIDs(ids))
	return nil
}

// replies stores the replies in order, and for each public one a fallback deliver task: the
// worker that ran the turn delivers at once, the task covers it if it can't.
func (tc *turnCommit) replies() error {
	n := len(tc.out.Replies)
	authors, vis, bodies, states := make([]string, n), make([]string, n), make([]string, n), make([]*string, n)
	ats, cits, metas := make([]time.Time, n), make([]string, n), make([]string, n)
	for i, r := range tc.out.Replies {
		authors[i], vis[i], bodies[i] = string(r.Author), string(r.Visibility), r.Text
		// Replies sort just after now, in their order.
		ats[i] = tc.now.Add(time.Duration(i) * time.Microsecond)
		if r.Visibility == baton.Public {
			s := string(baton.DeliveryPending)
			states[i] = &s
		}
		if r.Citations == nil {
			r.Citations = []baton.Citation{}
		}
		c, err := json.Marshal(r.Citations)
		if err != nil {
			return fmt.Errorf("encode citations: %w", err)
		}
		m := []byte("{}")
		if r.Meta != nil {
			if m, err = json.Marshal(r.Meta); err != nil {
				return fmt.Errorf("encode reply meta: %w", err)
			}
		}
		cits[i], metas[i] = string(c), string(m)
	}
	if n == 0 {
		return nil
	}
	tc.batch.Queue(`WITH r AS (
		INSERT INTO messages (conversation_id, episode, channel, author, visibility, body, received_at, sort_at,
			delivery_state, citations, meta, turn_id)
		SELECT c.id, c.episode, c.channel, v.author, v.visibility, v.body, v.at, v.at, v.state, v.citations::jsonb, v.meta::jsonb, `+turnIDSQL+`
		FROM conversations c, unnest($2::text[], $3::text[], $4::text[], $5::timestamptz[], $6::text[], $7::text[], $8::text[])
			AS v(author, visibility, body, at, state, citations, meta)
		WHERE c.id = $1
		RETURNING id, sort_at, visibility),
	d AS (
		INSERT INTO outbox (kind, payload, task_id, run_at, created_at)
		SELECT $9, jsonb_build_object('conversation_id', $1::bigint, 'message_id', id), $10 || id, $11, $12
		FROM r WHERE visibility = 'public')
	SELECT array(SELECT id FROM r ORDER BY sort_at)`,
		tc.l.ConversationID, authors, vis, bodies, ats, states, cits, metas,
		baton.TaskDeliver, taskIDPrefix(baton.TaskDeliver), tc.now.Add(DeliverFallback), tc.now).
		QueryRow(func(r pgx.Row) error { return r.Scan(&tc.res.Replies) })
	return nil
}

// handoff records the turn's decision to pass the conversation to people.
func (tc *turnCommit) handoff() error {
	if tc.out.Handoff == nil {
		return nil
	}
	tc.batch.Queue(`INSERT INTO handoffs (conversation_id, episode, reason, created_at)
		SELECT id, episode, $2, $3 FROM conversations WHERE id = $1`,
		tc.l.ConversationID, string(tc.out.Handoff.Reason), tc.now)
	return nil
}

// tasks writes the turn's requested background tasks to the outbox; the relay enqueues them.
func (tc *turnCommit) tasks() error {
	for _, t := range tc.out.Tasks {
		if t.Kind == "" || t.TaskID == "" {
			return fmt.Errorf("task %q needs a kind and a task id", t.TaskID)
		}
		at := t.RunAt
		if at.IsZero() {
			at = tc.now
		}
		payload := t.Payload
		if len(payload) == 0 {
			payload = json.RawMessage("{}")
		}
		tc.batch.Queue(`INSERT INTO outbox (kind, payload, task_id, run_at, created_at) VALUES ($1, $2, $3, $4, $5)`,
			t.Kind, []byte(payload), t.TaskID, at, tc.now)
	}
	if len(tc.out.Tasks) > 0 {
		tc.batch.Queue(`SELECT pg_notify($1, '')`, OutboxChannel)
	}
	return nil
}

// pending finds the newest customer message still unanswered: it arrived during the turn.
func (tc *turnCommit) pending() error {
	tc.batch.Queue(`SELECT coalesce(max(id), 0) FROM messages WHERE conversation_id = $1 AND author = 'customer'
		AND processed_at IS NULL AND id <> ALL($2)`, tc.l.ConversationID, nonNilIDs(tc.out.Processed)).
		QueryRow(func(r pgx.Row) error { return r.Scan(&tc.res.Pending) })
	return nil
}

func nonNilIDs(ids []int64) []int64 {
	if ids == nil {
		return []int64{}
	}
	return ids
}
