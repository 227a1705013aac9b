package postgres

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/batonhq/baton"
)

// CommitTurn writes a turn's outcome, only if l still fences the conversation: the
// conversation's new state, the trace, what was understood of each answered message, the
// replies with their delivery outbox rows, a handoff, requested tasks. l.Owner is empty for a
// turn that claimed no lease; it then commits only if the token is unchanged and no lease is
// live, and bumps the token so a concurrent turn that read the same state cannot commit too.
// It releases the lease.
//
// Each part is written by its own method, but they form ONE statement (a chain of CTEs hanging
// off the fenced update f): one round trip, one implicit transaction, and nothing written when
// the fence fails. Commits and statements are the scarce resources under load.
func (db *DB) CommitTurn(ctx context.Context, l baton.Lease, out baton.TurnOutcome) (baton.TurnCommit, error) {
	tc := &turnCommit{now: db.Clock.Now(), l: l, out: out, delivery: db.Delivery.withDefaults()}
	for _, part := range []func() error{tc.conversation, tc.trace, tc.processed, tc.replies, tc.handoff, tc.tasks} {
		if err := part(); err != nil {
			return baton.TurnCommit{}, fmt.Errorf("write turn of conversation %d: %w", l.ConversationID, err)
		}
	}
	replies, held := "'{}'::bigint[]", "'{}'::bigint[]"
	if tc.hasReplies {
		replies = "array(SELECT id FROM r ORDER BY sort_at)"
		held = "array(SELECT id FROM r WHERE delivery_state = 'pending' ORDER BY sort_at)"
	}
	sql := "WITH " + strings.Join(tc.ctes, ",\n") + "\nSELECT EXISTS (SELECT FROM f), " + replies + ", " + held + `,
		coalesce((SELECT max(id) FROM messages WHERE conversation_id = ` + tc.arg(l.ConversationID) + ` AND author = 'customer'
			AND processed_at IS NULL AND id <> ALL(` + tc.arg(nonNilIDs(out.Processed)) + `)), 0)`
	var fenced bool
	var res baton.TurnCommit
	if err := db.Pool.QueryRow(ctx, sql, tc.args...).Scan(&fenced, &res.Replies, &res.Held, &res.Pending); err != nil {
		return baton.TurnCommit{}, fmt.Errorf("write turn of conversation %d: %w", l.ConversationID, err)
	}
	if !fenced {
		return baton.TurnCommit{}, baton.ErrLeaseLost
	}
	return res, nil
}

// turnCommit builds the one statement of a turn commit; each method adds one part (a CTE).
type turnCommit struct {
	now        time.Time
	l          baton.Lease
	out        baton.TurnOutcome
	ctes       []string
	args       []any
	hasReplies bool
	delivery   DeliveryTimes
}

// arg adds a parameter and returns its placeholder.
func (tc *turnCommit) arg(v any) string {
	tc.args = append(tc.args, v)
	return "$" + strconv.Itoa(len(tc.args))
}

func (tc *turnCommit) cte(name, body string) { tc.ctes = append(tc.ctes, name+" AS (\n"+body+")") }

// conversation is the fence: it updates the conversation only if the turn still owns it;
// every other part hangs off its row, so a failed fence writes nothing.
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
	var team *int64 // a handoff routes the conversation to its team
	if h := out.Handoff; h != nil && h.TeamID != 0 {
		team = &h.TeamID
	}
	id, owner, now := tc.arg(tc.l.ConversationID), tc.arg(tc.l.Owner), tc.arg(tc.now)
	tc.cte("f", `UPDATE conversations SET lease_owner = NULL, lease_expires_at = NULL,
			lease_token = lease_token + CASE WHEN `+owner+` = '' THEN 1 ELSE 0 END,
			details = details || `+tc.arg(dj)+`::jsonb, status = coalesce(nullif(`+tc.arg(string(out.Status))+`, ''), status),
			sentiment_trend = coalesce(`+tc.arg(out.Sentiment)+`, sentiment_trend),
			last_reply_at = coalesce(`+tc.arg(lastReply)+`::timestamptz, last_reply_at), updated_at = `+now+`,
			state = coalesce(`+tc.arg(state)+`::jsonb, state), summary = coalesce(`+tc.arg(out.Summary)+`, summary),
			team_id = coalesce(`+tc.arg(team)+`::bigint, team_id)
		WHERE id = `+id+` AND lease_token = `+tc.arg(tc.l.Token)+` AND CASE WHEN `+owner+` = ''
			THEN lease_expires_at IS NULL OR lease_expires_at <= `+now+` ELSE lease_owner = `+owner+` END
		RETURNING id, channel, episode, lease_token`)
	return nil
}

func (tc *turnCommit) trace() error {
	trace, err := maskTrace(tc.out.Trace) // personal data is masked at rest
	if err != nil {
		return fmt.Errorf("encode trace: %w", err)
	}
	tc.cte("t", `INSERT INTO turn_traces (conversation_id, message_ids, lease_token, started_at, finished_at, data)
		SELECT id, `+tc.arg(nonNilIDs(tc.out.Processed))+`, lease_token, `+tc.arg(tc.out.StartedAt)+`, `+tc.arg(tc.now)+`, `+tc.arg(trace)+` FROM f
		RETURNING id`)
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
	now := tc.arg(tc.now)
	tc.cte("p", `UPDATE messages m SET processed_at = `+now+`, turn_id = t.id, meta = m.meta || v.meta::jsonb
		FROM t, unnest(`+tc.arg(ids)+`::bigint[], `+tc.arg(metas)+`::text[]) AS v(id, meta)
		WHERE m.id = v.id AND m.processed_at IS NULL`)
	// Rows are locked in id order, as the relay's dispatch marks lock them (no deadlock).
	tc.cte("o", `UPDATE outbox SET dispatched_at = `+now+` FROM f, (SELECT id FROM outbox
			WHERE dispatched_at IS NULL AND kind = 'turn' AND task_id = ANY(`+tc.arg(turnTaskIDs(ids))+`) ORDER BY id FOR UPDATE) AS l
		WHERE outbox.id = l.id AND outbox.dispatched_at IS NULL`)
	return nil
}

// replies stores the replies in order. Public ones are claimed for sending at once (state
// sending, attempt 1, under a send lease), so the worker that ran the turn sends them without
// another commit; if an earlier reply of the conversation is still undelivered they are stored
// pending and due now instead, and the delivery path sends them after it.
func (tc *turnCommit) replies() error {
	n := len(tc.out.Replies)
	if n == 0 {
		return nil
	}
	authors, vis, bodies := make([]string, n), make([]string, n), make([]string, n)
	ats, cits, metas := make([]time.Time, n), make([]string, n), make([]string, n)
	for i, r := range tc.out.Replies {
		authors[i], vis[i], bodies[i] = string(r.Author), string(r.Visibility), r.Text
		// Replies sort just after now, in their order.
		ats[i] = tc.now.Add(time.Duration(i) * time.Microsecond)
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
	tc.hasReplies = true
	now, leaseEnd := tc.arg(tc.now), tc.arg(tc.now.Add(tc.delivery.SendLease))
	// Whether an earlier reply is still in play, read before this statement's own inserts.
	tc.cte("e", `SELECT EXISTS (SELECT FROM messages, f WHERE messages.conversation_id = f.id
		AND messages.delivery_next_at IS NOT NULL) AS held`)
	tc.cte("r", `INSERT INTO messages (conversation_id, episode, channel, author, visibility, body, received_at, sort_at,
			delivery_state, delivery_attempts, delivery_next_at, citations, meta, turn_id)
		SELECT f.id, f.episode, f.channel, v.author, v.visibility, v.body, v.at, v.at,
			CASE WHEN v.visibility <> 'public' THEN NULL WHEN e.held THEN 'pending' ELSE 'sending' END,
			CASE WHEN v.visibility = 'public' AND NOT e.held THEN 1 ELSE 0 END,
			CASE WHEN v.visibility <> 'public' THEN NULL WHEN e.held THEN `+now+`::timestamptz ELSE `+leaseEnd+`::timestamptz END,
			v.citations::jsonb, v.meta::jsonb, t.id
		FROM f, t, e, unnest(`+tc.arg(authors)+`::text[], `+tc.arg(vis)+`::text[], `+tc.arg(bodies)+`::text[], `+tc.arg(ats)+`::timestamptz[],
			`+tc.arg(cits)+`::text[], `+tc.arg(metas)+`::text[])
			AS v(author, visibility, body, at, citations, meta)
		RETURNING id, sort_at, delivery_state`)
	return nil
}

// handoff records the turn's decision to pass the conversation to people.
func (tc *turnCommit) handoff() error {
	if tc.out.Handoff == nil {
		return nil
	}
	h := tc.out.Handoff
	pkg := h.Package
	if len(pkg) == 0 {
		pkg = json.RawMessage(`{}`)
	}
	var team *int64
	if h.TeamID != 0 {
		team = &h.TeamID
	}
	tc.cte("h", `INSERT INTO handoffs (conversation_id, episode, reason, created_at, priority, team_id, summary, sla_due_at)
		SELECT id, episode, `+tc.arg(string(h.Reason))+`, `+tc.arg(tc.now)+`, `+tc.arg(min(max(h.Priority, 0), 100))+`,
			`+tc.arg(team)+`::bigint, `+tc.arg(string(pkg))+`::jsonb, `+tc.arg(h.SLADueAt)+`::timestamptz FROM f`)
	return nil
}

// tasks writes the turn's requested background tasks to the outbox; the relay enqueues them.
func (tc *turnCommit) tasks() error {
	n := len(tc.out.Tasks)
	if n == 0 {
		return nil
	}
	kinds, ids, payloads, ats := make([]string, n), make([]string, n), make([]string, n), make([]time.Time, n)
	for i, t := range tc.out.Tasks {
		if t.Kind == "" || t.TaskID == "" {
			return fmt.Errorf("task %q needs a kind and a task id", t.TaskID)
		}
		kinds[i], ids[i], payloads[i], ats[i] = t.Kind, t.TaskID, string(t.Payload), t.RunAt
		if len(t.Payload) == 0 {
			payloads[i] = "{}"
		}
		if t.RunAt.IsZero() {
			ats[i] = tc.now
		}
	}
	tc.cte("k", `INSERT INTO outbox (kind, payload, task_id, run_at, created_at)
		SELECT v.kind, v.payload::jsonb, v.task_id, v.at, `+tc.arg(tc.now)+`
		FROM f, unnest(`+tc.arg(kinds)+`::text[], `+tc.arg(payloads)+`::text[], `+tc.arg(ids)+`::text[], `+tc.arg(ats)+`::timestamptz[])
			AS v(kind, payload, task_id, at)
		RETURNING 1`)
	return nil // the relay's sweep picks them up within a second
}

func nonNilIDs(ids []int64) []int64 {
	if ids == nil {
		return []int64{}
	}
	return ids
}
