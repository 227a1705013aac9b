package postgres

import (
	"context"
	"fmt"
	"sort"
	"time"

	"github.com/jackc/pgx/v5"
)

// MigrationState is one migration as a database sees it: applied (with when) or pending.
// Unknown marks a version the database applied that this build does not embed (a newer
// build migrated it: roll this one forward, never back).
type MigrationState struct {
	Version   string     `json:"version"`
	Name      string     `json:"name"`
	AppliedAt *time.Time `json:"applied_at"` // nil: pending
	Unknown   bool       `json:"unknown,omitempty"`
}

// MigrationStatus lists the embedded migrations with their state in the database, and the
// applied ones this build does not know, in version order. It changes nothing.
func MigrationStatus(ctx context.Context, conn *pgx.Conn) ([]MigrationState, error) {
	ms, err := Migrations()
	if err != nil {
		return nil, err
	}
	applied := map[string]MigrationState{}
	var exists bool
	if err := conn.QueryRow(ctx, `SELECT to_regclass('schema_migrations') IS NOT NULL`).Scan(&exists); err != nil {
		return nil, fmt.Errorf("look for schema_migrations: %w", err)
	}
	if exists {
		rows, err := conn.Query(ctx, `SELECT version, name, applied_at FROM schema_migrations ORDER BY version`)
		if err != nil {
			return nil, fmt.Errorf("list applied migrations: %w", err)
		}
		for rows.Next() {
			var s MigrationState
			var at time.Time
			if err := rows.Scan(&s.Version, &s.Name, &at); err != nil {
				rows.Close()
				return nil, fmt.Errorf("list applied migrations: %w", err)
			}
			s.AppliedAt = &at
			applied[s.Version] = s
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, fmt.Errorf("list applied migrations: %w", err)
		}
	}
	var out []MigrationState
	for _, m := range ms {
		s := MigrationState{Version: m.Version, Name: m.Name}
		if a, ok := applied[m.Version]; ok {
			s.AppliedAt = a.AppliedAt
			delete(applied, m.Version)
		}
		out = append(out, s)
	}
	for _, a := range applied {
		a.Unknown = true
		out = append(out, a)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Version < out[j].Version })
	return out, nil
}
