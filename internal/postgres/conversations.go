package postgres

import (
	"context"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/batonhq/baton"
)

// ListConversations lists conversations newest first, without messages.
func (db *DB) ListConversations(ctx context.Context, f baton.ConversationFilter) ([]baton.Conversation, error) {
	var where []string
	var args []any
	add := func(cond string, v any) {
		args = append(args, v)
		where = append(where, fmt.Sprintf(cond, len(args)))
	}
	if f.Status != "" {
		add("c.status = $%d", string(f.Status))
	}
	if f.CustomerID != 0 {
		add("c.customer_id = $%d", f.CustomerID)
	}
	if f.Channel != "" {
		add("c.channel = $%d", f.Channel)
	}
	if f.After != 0 {
		add("c.id < $%d", f.After)
	}
	if !f.AllTeams {
		// A conversation without a team is the default team's until routing gives it one.
		add("(c.team_id = ANY($%[1]d) OR c.team_id IS NULL AND EXISTS (SELECT FROM teams WHERE is_default AND id = ANY($%[1]d)))", f.Teams)
	}
	q := `SELECT ` + conversationColumns + ` FROM conversations c JOIN customers cu ON cu.id = c.customer_id`
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	args = append(args, f.Limit)
	q += fmt.Sprintf(" ORDER BY c.id DESC LIMIT $%d", len(args))
	rows, err := db.Pool.Query(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("list conversations: %w", err)
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (baton.Conversation, error) { return scanConversation(r) })
}

// Conversation returns one conversation with all its messages in order.
func (db *DB) Conversation(ctx context.Context, id int64) (baton.Conversation, error) {
	c, err := scanConversation(db.Pool.QueryRow(ctx, `SELECT `+conversationColumns+`
		FROM conversations c JOIN customers cu ON cu.id = c.customer_id WHERE c.id = $1`, id))
	if err != nil {
		return c, notFound(err, "conversation")
	}
	rows, err := db.Pool.Query(ctx, `SELECT `+messageColumns+` FROM messages WHERE conversation_id = $1 ORDER BY sort_at, id`, id)
	if err != nil {
		return c, fmt.Errorf("list messages: %w", err)
	}
	c.Messages, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (baton.Message, error) { return scanMessage(r) })
	if err != nil {
		return c, fmt.Errorf("list messages: %w", err)
	}
	return c, nil
}

// ConversationOf returns the id of a customer's conversation on a channel.
func (db *DB) ConversationOf(ctx context.Context, channel, externalID string) (int64, error) {
	var id int64
	err := db.Pool.QueryRow(ctx, `SELECT c.id FROM conversations c JOIN customers cu ON cu.id = c.customer_id
		WHERE cu.channel = $1 AND cu.external_id = $2`, channel, externalID).Scan(&id)
	return id, notFound(err, "conversation")
}
