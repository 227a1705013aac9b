package postgres

import (
	"context"
	"fmt"
	"time"
)

// LLMTokensUsed returns the tokens conversation convID has spent on the LLM so far, and the
// tokens every conversation spent on day (UTC).
func (db *DB) LLMTokensUsed(ctx context.Context, convID int64, day time.Time) (conversation, total int64, err error) {
	err = db.Pool.QueryRow(ctx, `SELECT
			coalesce((SELECT tokens FROM llm_conversation_tokens WHERE conversation_id = $1), 0),
			coalesce((SELECT tokens FROM llm_daily_tokens WHERE day = $2), 0)`,
		convID, utcDay(day)).Scan(&conversation, &total)
	if err != nil {
		return 0, 0, fmt.Errorf("read llm tokens of conversation %d: %w", convID, err)
	}
	return conversation, total, nil
}

// SpendLLMTokens adds n tokens to conversation convID's count and to day's, in one statement.
func (db *DB) SpendLLMTokens(ctx context.Context, convID int64, day time.Time, n int64) error {
	if n <= 0 {
		return nil
	}
	_, err := db.Pool.Exec(ctx, `WITH c AS (
			INSERT INTO llm_conversation_tokens (conversation_id, tokens, updated_at) VALUES ($1, $3, $4)
			ON CONFLICT (conversation_id) DO UPDATE
				SET tokens = llm_conversation_tokens.tokens + EXCLUDED.tokens, updated_at = EXCLUDED.updated_at)
		INSERT INTO llm_daily_tokens (day, tokens, updated_at) VALUES ($2, $3, $4)
		ON CONFLICT (day) DO UPDATE SET tokens = llm_daily_tokens.tokens + EXCLUDED.tokens, updated_at = EXCLUDED.updated_at`,
		convID, utcDay(day), n, db.Clock.Now())
	if err != nil {
		return fmt.Errorf("spend %d llm tokens of conversation %d: %w", n, convID, err)
	}
	return nil
}

// utcDay is day's calendar date in UTC, as PostgreSQL's date type reads it.
func utcDay(t time.Time) time.Time {
	y, m, d := t.UTC().Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}
