package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/batonhq/baton"
)

// LoopRule says when a conversation looks like another bot talking to ours: at least Messages
// customer messages within Window, or the same text (case and surrounding space ignored)
// Repeats times within RepeatWindow. Zero Messages or Repeats turns that half off.
type LoopRule struct {
	Messages     int
	Window       time.Duration
	Repeats      int
	RepeatWindow time.Duration
}

// loopLookback bounds the customer messages one check reads: the latest ones, through the
// conversation's message index, however long the conversation is.
const loopLookback = 100

// BotSwitchesLoop is BotSwitches with loop detection, in the same one statement: it reads the
// conversation's latest customer messages since the last loop, and when they break rule, mutes
// the conversation and flags it (bot_loop_at). looped is true only for the check that flagged it.
func (db *DB) BotSwitchesLoop(ctx context.Context, convID int64, rule LoopRule) (paused, muted, looped bool, err error) {
	now := db.Clock.Now()
	messages, repeats := rule.Messages, rule.Repeats
	if messages <= 0 || messages > loopLookback {
		messages = loopLookback + 1 // unreachable: off
	}
	if repeats <= 0 || repeats > loopLookback {
		repeats = loopLookback + 1
	}
	err = db.Pool.QueryRow(ctx, `WITH c AS (
			SELECT id, bot_muted_at, bot_loop_at FROM conversations WHERE id = $1),
		recent AS (
			SELECT m.body, m.received_at FROM messages m
			WHERE m.conversation_id = $1 AND m.author = 'customer'
			ORDER BY m.sort_at DESC, m.id DESC LIMIT $8),
		counted AS (
			SELECT r.* FROM recent r, c WHERE r.received_at > coalesce(c.bot_loop_at, '-infinity')),
		verdict AS (
			SELECT (SELECT count(*) FROM counted WHERE received_at > $3::timestamptz - $4::interval) >= $5
				OR coalesce((SELECT max(n) FROM (SELECT count(*) AS n FROM counted
					WHERE received_at > $3::timestamptz - $6::interval GROUP BY lower(btrim(body))) g), 0) >= $7 AS looped),
		flag AS (
			UPDATE conversations SET bot_loop_at = $3, bot_muted_at = $3
			WHERE id = $1 AND bot_muted_at IS NULL AND (SELECT looped FROM verdict)
			RETURNING id)
		SELECT
			coalesce((SELECT value = 'true'::jsonb FROM settings WHERE key = $2 AND team_id IS NULL), false),
			coalesce((SELECT bot_muted_at IS NOT NULL FROM c), false),
			EXISTS (SELECT 1 FROM flag)`,
		convID, settingBotPaused, now, rule.Window, messages, rule.RepeatWindow, repeats, loopLookback).Scan(&paused, &muted, &looped)
	if err != nil {
		return false, false, false, fmt.Errorf("read bot switches of conversation %d: %w", convID, err)
	}
	return paused, muted || looped, looped, nil
}

// ListLoops lists the conversations flagged as bot loops, latest first.
func (db *DB) ListLoops(ctx context.Context, limit int) ([]baton.LoopFlag, error) {
	rows, err := db.Pool.Query(ctx, `SELECT id, bot_loop_at, bot_muted_at IS NOT NULL, channel FROM conversations
		WHERE bot_loop_at IS NOT NULL ORDER BY bot_loop_at DESC, id DESC LIMIT $1`, limit)
	if err != nil {
		return nil, fmt.Errorf("list bot loops: %w", err)
	}
	defer rows.Close()
	out := []baton.LoopFlag{}
	for rows.Next() {
		var f baton.LoopFlag
		if err := rows.Scan(&f.ConversationID, &f.DetectedAt, &f.Muted, &f.Channel); err != nil {
			return nil, fmt.Errorf("list bot loops: %w", err)
		}
		out = append(out, f)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list bot loops: %w", err)
	}
	return out, nil
}
