package postgres

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/batonhq/baton"
)

// EventsChannel is the NOTIFY channel of live events (see the events migration's triggers
// and internal/events).
const EventsChannel = "baton_events"

// EventScope is who may see a conversation's events: its team (0 = none yet) and assigned
// agent (0 = none), with the status and priority an inbox shows.
type EventScope struct {
	Status         baton.ConversationStatus
	Priority       int
	TeamID         int64
	AssignedUserID int64
}

// EventMessage returns one message with the scope of its conversation.
func (db *DB) EventMessage(ctx context.Context, id int64) (baton.Message, EventScope, error) {
	var sc EventScope
	m, err := scanMessage(db.Pool.QueryRow(ctx, `SELECT c.status, c.priority, coalesce(c.team_id, 0), coalesce(c.assigned_user_id, 0),
		m.* FROM (SELECT `+messageColumns+` FROM messages WHERE id = $1) m JOIN conversations c ON c.id = m.conversation_id`, id),
		&sc.Status, &sc.Priority, &sc.TeamID, &sc.AssignedUserID)
	if err != nil {
		return m, sc, notFound(err, "message")
	}
	return m, sc, nil
}

// EventConversation returns the scope of one conversation.
func (db *DB) EventConversation(ctx context.Context, id int64) (EventScope, error) {
	var sc EventScope
	err := db.Pool.QueryRow(ctx, `SELECT status, priority, coalesce(team_id, 0), coalesce(assigned_user_id, 0)
		FROM conversations WHERE id = $1`, id).Scan(&sc.Status, &sc.Priority, &sc.TeamID, &sc.AssignedUserID)
	return sc, notFound(err, "conversation")
}

// TeamNames maps team ids to names.
func (db *DB) TeamNames(ctx context.Context) (map[int64]string, error) {
	rows, err := db.Pool.Query(ctx, `SELECT id, name FROM teams`)
	if err != nil {
		return nil, fmt.Errorf("list team names: %w", err)
	}
	out := map[int64]string{}
	var id int64
	var name string
	_, err = pgx.ForEachRow(rows, []any{&id, &name}, func() error { out[id] = name; return nil })
	if err != nil {
		return nil, fmt.Errorf("list team names: %w", err)
	}
	return out, nil
}

// MessagesAfter lists messages with an id above after, in id order, for a stream resuming
// from its Last-Event-ID: of one conversation (conversationID > 0), else of the conversations
// f lets an agent see. publicOnly leaves internal notes out.
func (db *DB) MessagesAfter(ctx context.Context, conversationID int64, f baton.ConversationFilter, after int64, publicOnly bool, limit int) ([]baton.Message, []EventScope, error) {
	args := []any{after, limit}
	where := "true"
	if conversationID > 0 {
		args = append(args, conversationID)
		where += " AND m.conversation_id = $3"
	} else if !f.AllTeams {
		args = append(args, f.Teams)
		where += " AND (c.team_id = ANY($3) OR c.team_id IS NULL AND EXISTS (SELECT FROM teams WHERE is_default AND id = ANY($3)))"
	}
	if publicOnly {
		where += " AND m.visibility = 'public'"
	}
	rows, err := db.Pool.Query(ctx, `SELECT c.status, c.priority, coalesce(c.team_id, 0), coalesce(c.assigned_user_id, 0),
		m.* FROM (SELECT `+messageColumns+` FROM messages WHERE id > $1) m JOIN conversations c ON c.id = m.conversation_id
		WHERE `+where+` ORDER BY m.id LIMIT $2`, args...)
	if err != nil {
		return nil, nil, fmt.Errorf("list messages after %d: %w", after, err)
	}
	var ms []baton.Message
	var scs []EventScope
	for rows.Next() {
		var sc EventScope
		m, err := scanMessage(rows, &sc.Status, &sc.Priority, &sc.TeamID, &sc.AssignedUserID)
		if err != nil {
			rows.Close()
			return nil, nil, fmt.Errorf("scan message: %w", err)
		}
		ms, scs = append(ms, m), append(scs, sc)
	}
	if err := rows.Err(); err != nil {
		return nil, nil, fmt.Errorf("list messages after %d: %w", after, err)
	}
	return ms, scs, nil
}

// Notify publishes payloads on a NOTIFY channel in one statement. The commit is asynchronous:
// a lost event on a crash costs an indicator, never data.
func (db *DB) Notify(ctx context.Context, channel string, payloads []string) error {
	tx, err := db.Pool.Begin(ctx)
	if err != nil {
		return fmt.Errorf("notify %s: %w", channel, err)
	}
	defer tx.Rollback(ctx) //nolint:errcheck
	b := &pgx.Batch{}
	b.Queue(`SET LOCAL synchronous_commit = off`)
	b.Queue(`SELECT pg_notify($1, p) FROM unnest($2::text[]) p`, channel, payloads)
	if err := tx.SendBatch(ctx, b).Close(); err != nil {
		return fmt.Errorf("notify %s: %w", channel, err)
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("notify %s: %w", channel, err)
	}
	return nil
}
