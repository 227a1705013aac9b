package postgres

import (
	"context"
	"fmt"
)

// ChatSession returns the customer and conversation of a chat widget visitor, creating both
// on first sight (so the widget's token can name the conversation before the first
// message). name and email, when not empty, update the customer's.
func (db *DB) ChatSession(ctx context.Context, channel, externalID, name, email string) (customerID, conversationID int64, err error) {
	now := db.Clock.Now()
	err = db.Pool.QueryRow(ctx, `WITH cu AS (
		INSERT INTO customers (channel, external_id, name, email, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $5)
		ON CONFLICT (channel, external_id) DO UPDATE SET
			name = CASE WHEN excluded.name <> '' THEN excluded.name ELSE customers.name END,
			email = CASE WHEN excluded.email <> '' THEN excluded.email ELSE customers.email END,
			updated_at = excluded.updated_at
		RETURNING id),
	c AS (
		INSERT INTO conversations (customer_id, channel, created_at, updated_at)
		SELECT id, $1, $5, $5 FROM cu ON CONFLICT (customer_id) DO NOTHING RETURNING id)
	SELECT cu.id, coalesce((SELECT id FROM c), (SELECT v.id FROM conversations v WHERE v.customer_id = cu.id)) FROM cu`,
		channel, externalID, name, email, now).Scan(&customerID, &conversationID)
	if err != nil {
		return 0, 0, fmt.Errorf("open chat session: %w", err)
	}
	return customerID, conversationID, nil
}
