package postgres

import (
	"context"
	"fmt"
	"strconv"

	"github.com/jackc/pgx/v5"

	"github.com/batonhq/baton"
)

// settingBotPaused is the settings key of the global "pause the bot" switch.
const settingBotPaused = "bot_paused"

// BotSwitches reads, in one round trip, whether the bot is paused everywhere and whether it is
// muted in a conversation (bot.Switches).
func (db *DB) BotSwitches(ctx context.Context, convID int64) (paused, muted bool, err error) {
	err = db.Pool.QueryRow(ctx, `SELECT
			coalesce((SELECT value = 'true'::jsonb FROM settings WHERE key = $2 AND team_id IS NULL), false),
			coalesce((SELECT bot_muted_at IS NOT NULL FROM conversations WHERE id = $1), false)`,
		convID, settingBotPaused).Scan(&paused, &muted)
	if err != nil {
		return false, false, fmt.Errorf("read bot switches of conversation %d: %w", convID, err)
	}
	return paused, muted, nil
}

// BotPaused reports whether the bot is paused everywhere.
func (db *DB) BotPaused(ctx context.Context) (bool, error) {
	paused, _, err := db.BotSwitches(ctx, 0)
	return paused, err
}

// SetBotPaused turns the global pause on or off, audited.
func (db *DB) SetBotPaused(ctx context.Context, actorID int64, paused bool) error {
	return pgx.BeginFunc(ctx, db.Pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `INSERT INTO settings (key, team_id, value, updated_at, updated_by)
			VALUES ($1, NULL, $2::jsonb, $3, $4)
			ON CONFLICT (key, coalesce(team_id, 0)) DO UPDATE SET value = excluded.value,
				updated_at = excluded.updated_at, updated_by = excluded.updated_by`,
			settingBotPaused, strconv.FormatBool(paused), db.Clock.Now(), nullID(actorID)); err != nil {
			return fmt.Errorf("set %s: %w", settingBotPaused, err)
		}
		return Audit(ctx, tx, db, actorID, "update", "setting", settingBotPaused, nil, map[string]bool{"paused": paused})
	})
}

// SetMuted mutes or unmutes the bot in a conversation, audited; ErrNotFound if it does not exist.
func (db *DB) SetMuted(ctx context.Context, actorID, convID int64, muted bool) error {
	return pgx.BeginFunc(ctx, db.Pool, func(tx pgx.Tx) error {
		var at any
		if muted {
			at = db.Clock.Now()
		}
		tag, err := tx.Exec(ctx, `UPDATE conversations SET bot_muted_at = CASE WHEN $2::timestamptz IS NULL THEN NULL
			ELSE coalesce(bot_muted_at, $2) END WHERE id = $1`, convID, at)
		if err != nil {
			return fmt.Errorf("mute conversation %d: %w", convID, err)
		}
		if tag.RowsAffected() == 0 {
			return baton.Errorf(baton.ErrNotFound, "not_found", "conversation not found")
		}
		action := "unmute"
		if muted {
			action = "mute"
		}
		return Audit(ctx, tx, db, actorID, action, "conversation", strconv.FormatInt(convID, 10), nil, nil)
	})
}

func nullID(id int64) *int64 {
	if id <= 0 {
		return nil
	}
	return &id
}
