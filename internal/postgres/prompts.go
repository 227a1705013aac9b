package postgres

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	"github.com/jackc/pgx/v5"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/prompts"
)

// The prompt store satisfies prompts.Store.
var _ prompts.Store = (*DB)(nil)

// SavePromptVersion stores body as name's next version, not active, and audits it. The
// prompts row hands out the number under its row lock, so concurrent saves get 1, 2, ….
func (db *DB) SavePromptVersion(ctx context.Context, actorID int64, name prompts.Name, body string) (prompts.Version, error) {
	now := db.Clock.Now()
	v := prompts.Version{Name: name, Body: body, CreatedBy: actorID, CreatedAt: now}
	var actor *int64
	if actorID > 0 {
		actor = &actorID
	}
	err := db.inTx(ctx, func(tx pgx.Tx) error {
		var active *int
		if err := tx.QueryRow(ctx, `INSERT INTO prompts (name, latest_version, updated_at) VALUES ($1, 1, $2)
			ON CONFLICT (name) DO UPDATE SET latest_version = prompts.latest_version + 1, updated_at = excluded.updated_at
			RETURNING latest_version, active_version`, name, now).Scan(&v.Version, &active); err != nil {
			return fmt.Errorf("number prompt version: %w", err)
		}
		if _, err := tx.Exec(ctx, `INSERT INTO prompt_versions (name, version, body, created_by, created_at)
			VALUES ($1, $2, $3, $4, $5)`, name, v.Version, body, actor, now); err != nil {
			return fmt.Errorf("insert prompt version: %w", err)
		}
		return Audit(ctx, tx, db, actorID, "prompt.save", "prompt", string(name), nil,
			map[string]any{"version": v.Version, "body": body})
	})
	if err != nil {
		return prompts.Version{}, fmt.Errorf("save prompt %s: %w", name, err)
	}
	return v, nil
}

const promptVersionCols = `v.name, v.version, v.body, coalesce(v.created_by, 0), v.created_at,
	p.active_version IS NOT DISTINCT FROM v.version`

func scanPromptVersion(r pgx.CollectableRow) (prompts.Version, error) {
	var v prompts.Version
	err := r.Scan(&v.Name, &v.Version, &v.Body, &v.CreatedBy, &v.CreatedAt, &v.Active)
	return v, err
}

// PromptVersions lists name's stored versions, newest first.
func (db *DB) PromptVersions(ctx context.Context, name prompts.Name) ([]prompts.Version, error) {
	rows, err := db.Pool.Query(ctx, `SELECT `+promptVersionCols+`
		FROM prompt_versions v JOIN prompts p USING (name) WHERE v.name = $1 ORDER BY v.version DESC`, name)
	if err != nil {
		return nil, fmt.Errorf("list prompt versions %s: %w", name, err)
	}
	list, err := pgx.CollectRows(rows, scanPromptVersion)
	if err != nil {
		return nil, fmt.Errorf("list prompt versions %s: %w", name, err)
	}
	return list, nil
}

// PromptVersion returns one stored version; baton.ErrNotFound when there is none.
func (db *DB) PromptVersion(ctx context.Context, name prompts.Name, version int) (prompts.Version, error) {
	rows, err := db.Pool.Query(ctx, `SELECT `+promptVersionCols+`
		FROM prompt_versions v JOIN prompts p USING (name) WHERE v.name = $1 AND v.version = $2`, name, version)
	if err != nil {
		return prompts.Version{}, fmt.Errorf("read prompt %s version %d: %w", name, version, err)
	}
	v, err := pgx.CollectExactlyOneRow(rows, scanPromptVersion)
	if errors.Is(err, pgx.ErrNoRows) {
		return prompts.Version{}, baton.Errorf(baton.ErrNotFound, "not_found", "prompt %s has no version %d", name, version)
	}
	if err != nil {
		return prompts.Version{}, fmt.Errorf("read prompt %s version %d: %w", name, version, err)
	}
	return v, nil
}

// ActivatePrompt makes version name's active one (0: the default), audits the change, and
// bumps prompts_version so other processes reload. Activating what is already active changes
// nothing. baton.ErrNotFound for a version that was never saved.
func (db *DB) ActivatePrompt(ctx context.Context, actorID int64, name prompts.Name, version int) error {
	now := db.Clock.Now()
	var next *int
	if version > 0 {
		next = &version
	}
	err := db.inTx(ctx, func(tx pgx.Tx) error {
		var before *int
		err := tx.QueryRow(ctx, `SELECT active_version FROM prompts WHERE name = $1 FOR UPDATE`, name).Scan(&before)
		switch {
		case errors.Is(err, pgx.ErrNoRows) && version == 0:
			return nil // never overridden: the default is active already
		case errors.Is(err, pgx.ErrNoRows):
			return baton.Errorf(baton.ErrNotFound, "not_found", "prompt %s has no version %d", name, version)
		case err != nil:
			return fmt.Errorf("read active prompt: %w", err)
		}
		if (before == nil && next == nil) || (before != nil && next != nil && *before == *next) {
			return nil
		}
		if version > 0 {
			var exists bool
			if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM prompt_versions WHERE name = $1 AND version = $2)`,
				name, version).Scan(&exists); err != nil {
				return fmt.Errorf("find prompt version: %w", err)
			}
			if !exists {
				return baton.Errorf(baton.ErrNotFound, "not_found", "prompt %s has no version %d", name, version)
			}
		}
		if _, err := tx.Exec(ctx, `UPDATE prompts SET active_version = $2, updated_at = $3 WHERE name = $1`, name, next, now); err != nil {
			return fmt.Errorf("set active prompt: %w", err)
		}
		if _, err := tx.Exec(ctx, `SELECT nextval('prompts_version')`); err != nil {
			return fmt.Errorf("bump prompts version: %w", err)
		}
		return Audit(ctx, tx, db, actorID, "prompt.activate", "prompt", string(name),
			map[string]any{"version": orZero(before)}, map[string]any{"version": version})
	})
	if err != nil {
		return fmt.Errorf("activate prompt %s version %d: %w", name, version, err)
	}
	return nil
}

func orZero(p *int) int {
	if p == nil {
		return 0
	}
	return *p
}

// ActivePrompts returns the active stored version of every template that has one.
func (db *DB) ActivePrompts(ctx context.Context) ([]prompts.Version, error) {
	rows, err := db.Pool.Query(ctx, `SELECT `+promptVersionCols+`
		FROM prompts p JOIN prompt_versions v ON v.name = p.name AND v.version = p.active_version ORDER BY v.name`)
	if err != nil {
		return nil, fmt.Errorf("list active prompts: %w", err)
	}
	list, err := pgx.CollectRows(rows, scanPromptVersion)
	if err != nil {
		return nil, fmt.Errorf("list active prompts: %w", err)
	}
	return list, nil
}

// PromptsVersion changes whenever an activation changes what is active.
func (db *DB) PromptsVersion(ctx context.Context) (string, error) {
	var v int64
	var called bool
	if err := db.Pool.QueryRow(ctx, `SELECT last_value, is_called FROM prompts_version`).Scan(&v, &called); err != nil {
		return "", fmt.Errorf("read prompts version: %w", err)
	}
	if !called {
		v = 0
	}
	return strconv.FormatInt(v, 10), nil
}
