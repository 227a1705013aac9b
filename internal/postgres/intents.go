package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/intents"
)

// ListIntents returns every intent, by name.
func (db *DB) ListIntents(ctx context.Context) ([]intents.Intent, error) {
	rows, err := db.Pool.Query(ctx, `SELECT name, description, examples, required_details, action, team, reply, order_pattern
		FROM intents ORDER BY name`)
	if err != nil {
		return nil, fmt.Errorf("list intents: %w", err)
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (intents.Intent, error) {
		var in intents.Intent
		var ex, req []byte
		if err := r.Scan(&in.Name, &in.Description, &ex, &req, &in.Action, &in.Team, &in.Reply, &in.OrderPattern); err != nil {
			return in, err
		}
		if err := json.Unmarshal(ex, &in.Examples); err != nil {
			return in, fmt.Errorf("decode examples of %s: %w", in.Name, err)
		}
		if err := json.Unmarshal(req, &in.RequiredDetails); err != nil {
			return in, fmt.Errorf("decode required details of %s: %w", in.Name, err)
		}
		return in, nil
	})
}

// SaveIntents upserts intents in one transaction, auditing each; create refuses existing names.
func (db *DB) SaveIntents(ctx context.Context, actorID int64, list []intents.Intent, create bool) (added, updated int, err error) {
	now := db.Clock.Now()
	err = db.inTx(ctx, func(tx pgx.Tx) error {
		added, updated = 0, 0
		for _, in := range list {
			ex, _ := json.Marshal(nonNil(in.Examples))
			req, _ := json.Marshal(nonNil(in.RequiredDetails))
			var before []byte
			err := tx.QueryRow(ctx, `SELECT to_jsonb(i) - 'updated_at' - 'revision' FROM intents i WHERE name = $1 FOR UPDATE`, in.Name).Scan(&before)
			exists := err == nil
			if err != nil && err != pgx.ErrNoRows {
				return fmt.Errorf("read intent %s: %w", in.Name, err)
			}
			if exists && create {
				return baton.Errorf(baton.ErrConflict, "conflict", "intent %q already exists", in.Name)
			}
			if _, err := tx.Exec(ctx, `INSERT INTO intents (name, description, examples, required_details, action, team, reply, order_pattern, updated_at)
				VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
				ON CONFLICT (name) DO UPDATE SET description = excluded.description, examples = excluded.examples,
					required_details = excluded.required_details, action = excluded.action, team = excluded.team,
					reply = excluded.reply, order_pattern = excluded.order_pattern, revision = intents.revision + 1,
					updated_at = excluded.updated_at`,
				in.Name, in.Description, ex, req, string(in.Action), in.Team, in.Reply, in.OrderPattern, now); err != nil {
				return fmt.Errorf("save intent %s: %w", in.Name, err)
			}
			action := "create"
			if exists {
				action, updated = "update", updated+1
			} else {
				added++
			}
			var b any
			if before != nil {
				b = json.RawMessage(before)
			}
			if err := Audit(ctx, tx, db, actorID, action, "intent", in.Name, b, in); err != nil {
				return err
			}
		}
		_, err := tx.Exec(ctx, `SELECT nextval('intents_version')`)
		return err
	})
	return added, updated, err
}

// DeleteIntent removes an intent and audits it.
func (db *DB) DeleteIntent(ctx context.Context, actorID int64, name string) error {
	return db.inTx(ctx, func(tx pgx.Tx) error {
		var before []byte
		if err := tx.QueryRow(ctx, `DELETE FROM intents i WHERE name = $1 RETURNING to_jsonb(i) - 'updated_at' - 'revision'`, name).Scan(&before); err != nil {
			return notFound(err, "intent "+name)
		}
		if _, err := tx.Exec(ctx, `SELECT nextval('intents_version')`); err != nil {
			return fmt.Errorf("bump intents version: %w", err)
		}
		return Audit(ctx, tx, db, actorID, "delete", "intent", name, json.RawMessage(before), nil)
	})
}

// ListDetailTypes returns the admin-defined detail types, by name.
func (db *DB) ListDetailTypes(ctx context.Context) ([]intents.DetailType, error) {
	rows, err := db.Pool.Query(ctx, `SELECT name, definition FROM detail_types ORDER BY name`)
	if err != nil {
		return nil, fmt.Errorf("list detail types: %w", err)
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (intents.DetailType, error) {
		var name string
		var def []byte
		var d intents.DetailType
		if err := r.Scan(&name, &def); err != nil {
			return d, err
		}
		if err := json.Unmarshal(def, &d); err != nil {
			return d, fmt.Errorf("decode detail type %s: %w", name, err)
		}
		d.Name, d.Builtin = name, false
		return d, nil
	})
}

// SaveDetailTypes upserts detail types in one transaction, auditing each, and bumps the
// intents version so other processes reload them.
func (db *DB) SaveDetailTypes(ctx context.Context, actorID int64, list []intents.DetailType) (created int, err error) {
	now := db.Clock.Now()
	err = db.inTx(ctx, func(tx pgx.Tx) error {
		created = 0
		for _, d := range list {
			def, err := json.Marshal(d)
			if err != nil {
				return fmt.Errorf("encode detail type %s: %w", d.Name, err)
			}
			var before []byte
			err = tx.QueryRow(ctx, `SELECT definition FROM detail_types WHERE name = $1 FOR UPDATE`, d.Name).Scan(&before)
			if err != nil && !errors.Is(err, pgx.ErrNoRows) {
				return fmt.Errorf("read detail type %s: %w", d.Name, err)
			}
			if _, err := tx.Exec(ctx, `INSERT INTO detail_types (name, definition, updated_at) VALUES ($1, $2, $3)
				ON CONFLICT (name) DO UPDATE SET definition = excluded.definition, updated_at = excluded.updated_at`,
				d.Name, def, now); err != nil {
				return fmt.Errorf("save detail type %s: %w", d.Name, err)
			}
			action := "update"
			var b any
			if before == nil {
				action, created = "create", created+1
			} else {
				b = json.RawMessage(before)
			}
			if err := Audit(ctx, tx, db, actorID, action, "detail_type", d.Name, b, d); err != nil {
				return err
			}
		}
		if _, err := tx.Exec(ctx, `SELECT nextval('intents_version')`); err != nil {
			return fmt.Errorf("bump intents version: %w", err)
		}
		return nil
	})
	return created, err
}

// DeleteDetailType removes a detail type and audits it.
func (db *DB) DeleteDetailType(ctx context.Context, actorID int64, name string) error {
	return db.inTx(ctx, func(tx pgx.Tx) error {
		var before []byte
		if err := tx.QueryRow(ctx, `DELETE FROM detail_types WHERE name = $1 RETURNING definition`, name).Scan(&before); err != nil {
			return notFound(err, "detail type "+name)
		}
		if _, err := tx.Exec(ctx, `SELECT nextval('intents_version')`); err != nil {
			return fmt.Errorf("bump intents version: %w", err)
		}
		return Audit(ctx, tx, db, actorID, "delete", "detail_type", name, json.RawMessage(before), nil)
	})
}

// IntentsVersion changes whenever an intent or a detail type is saved or deleted.
func (db *DB) IntentsVersion(ctx context.Context) (string, error) {
	var v int64
	var called bool
	if err := db.Pool.QueryRow(ctx, `SELECT last_value, is_called FROM intents_version`).Scan(&v, &called); err != nil {
		return "", fmt.Errorf("read intents version: %w", err)
	}
	if !called {
		v = 0
	}
	return fmt.Sprint(v), nil
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
