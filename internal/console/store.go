package console

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/batonhq/baton"

	"github.com/batonhq/baton/internal/postgres"
	"github.com/batonhq/baton/internal/web"
)

// Store reads what the screens need beyond the agent and admin APIs.
type Store struct{ *postgres.DB }

var _ web.ConsoleStore = Store{}

// inboxLimit bounds each list of the inbox; the queue's head is what an agent acts on.
const inboxLimit = 200

// Inbox lists the waiting conversations of the teams (priority, then wait) and the ones userID
// holds, with their sentiment trend and the time of their last customer message.
func (s Store) Inbox(ctx context.Context, userID int64, teams []int64, allTeams bool) (queue, mine []web.InboxItem, err error) {
	if teams == nil {
		teams = []int64{}
	}
	rows, err := s.Pool.Query(ctx, `SELECT c.id, coalesce(h.id, 0), coalesce(h.priority, c.priority), coalesce(h.created_at, c.updated_at),
			coalesce(t.name, ''), coalesce(h.reason, ''),
			coalesce(h.summary->>'issue', h.summary->>'summary', nullif(c.summary, ''), ''), h.sla_due_at, c.channel, cu.name,
			c.status, c.sentiment_trend, c.assigned_user_id,
			(SELECT max(m.received_at) FROM messages m WHERE m.conversation_id = c.id AND m.author = 'customer')
		FROM conversations c JOIN customers cu ON cu.id = c.customer_id
		LEFT JOIN LATERAL (SELECT * FROM handoffs WHERE conversation_id = c.id AND resolved_at IS NULL
			ORDER BY id DESC LIMIT 1) h ON true
		LEFT JOIN teams t ON t.id = coalesce(h.team_id, c.team_id, (SELECT id FROM teams WHERE is_default))
		WHERE (c.status = 'queued' AND h.id IS NOT NULL AND ($1 OR coalesce(h.team_id, c.team_id, (SELECT id FROM teams WHERE is_default)) = ANY($2)))
			OR (c.status = 'agent' AND c.assigned_user_id = $3)
		ORDER BY coalesce(h.priority, c.priority) DESC, coalesce(h.created_at, c.updated_at), c.id LIMIT $4`,
		allTeams, teams, userID, 2*inboxLimit)
	if err != nil {
		return nil, nil, fmt.Errorf("list inbox: %w", err)
	}
	items, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (web.InboxItem, error) {
		var it web.InboxItem
		var reason string
		err := r.Scan(&it.ID, &it.HandoffID, &it.Priority, &it.WaitingSince, &it.Team, &reason, &it.Summary, &it.SLADueAt,
			&it.Channel, &it.CustomerName, &it.Status, &it.Sentiment, &it.AssignedUserID, &it.LastMessageAt)
		it.Reason = baton.HandoffReason(reason)
		return it, err
	})
	if err != nil {
		return nil, nil, fmt.Errorf("list inbox: %w", err)
	}
	for _, it := range items {
		if it.Status == baton.StatusQueued {
			queue = append(queue, it)
		} else {
			mine = append(mine, it)
		}
	}
	return queue, mine, nil
}

// TurnTraces lists a conversation's turn traces, oldest first, the newest limit of them.
func (s Store) TurnTraces(ctx context.Context, convID int64, limit int) ([]web.TurnTrace, error) {
	rows, err := s.Pool.Query(ctx, `SELECT id, message_ids, started_at, finished_at, data FROM (
			SELECT * FROM turn_traces WHERE conversation_id = $1 ORDER BY id DESC LIMIT $2) t ORDER BY id`, convID, limit)
	if err != nil {
		return nil, fmt.Errorf("list turn traces of conversation %d: %w", convID, err)
	}
	ts, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (web.TurnTrace, error) {
		var t web.TurnTrace
		return t, r.Scan(&t.ID, &t.MessageIDs, &t.StartedAt, &t.FinishedAt, &t.Data)
	})
	if err != nil {
		return nil, fmt.Errorf("list turn traces of conversation %d: %w", convID, err)
	}
	return ts, nil
}
