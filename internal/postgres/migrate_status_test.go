package postgres_test

import (
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/batonhq/baton/internal/dbtest"
	"github.com/batonhq/baton/internal/postgres"
)

func TestMigrationStatus(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	conn, err := pgx.Connect(ctx, dbtest.Empty(t).URL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	all, _ := postgres.Migrations()
	count := func() (applied, pending, unknown int) {
		t.Helper()
		states, err := postgres.MigrationStatus(ctx, conn)
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range states {
			switch {
			case s.Unknown:
				unknown++
			case s.AppliedAt != nil:
				applied++
			default:
				pending++
			}
		}
		return
	}
	if a, p, u := count(); a != 0 || p != len(all) || u != 0 {
		t.Fatalf("empty database: %d applied, %d pending, %d unknown; want all %d pending", a, p, u, len(all))
	}
	if _, err := postgres.Migrate(ctx, conn, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := conn.Exec(ctx, `DELETE FROM schema_migrations WHERE version = $1`, all[len(all)-1].Version); err != nil {
		t.Fatal(err)
	}
	if _, err := conn.Exec(ctx, `INSERT INTO schema_migrations (version, name) VALUES ('29990101000000', '29990101000000_future.sql')`); err != nil {
		t.Fatal(err)
	}
	if a, p, u := count(); a != len(all)-1 || p != 1 || u != 1 {
		t.Fatalf("%d applied, %d pending, %d unknown; want %d, 1, 1", a, p, u, len(all)-1)
	}
}
