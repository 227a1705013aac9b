package postgres_test

import (
	"context"
	"testing"
	"testing/fstest"

	"github.com/jackc/pgx/v5"

	"github.com/batonhq/baton/internal/dbtest"
	"github.com/batonhq/baton/internal/postgres"
)

func TestMigrationsApplyToEmptyDatabase(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := dbtest.Empty(t)
	conn, err := pgx.Connect(ctx, db.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	applied, err := postgres.Migrate(ctx, conn, nil)
	if err != nil {
		t.Fatalf("migrate: %v", err)
	}
	all, _ := postgres.Migrations()
	if len(applied) != len(all) || len(all) == 0 {
		t.Fatalf("applied %d of %d migrations", len(applied), len(all))
	}
	again, err := postgres.Migrate(ctx, conn, nil)
	if err != nil || len(again) != 0 {
		t.Fatalf("second migrate applied %v, err %v; want nothing", again, err)
	}
	for _, table := range []string{"customers", "conversations", "messages", "outbox", "users", "teams",
		"team_members", "sessions", "settings", "turn_traces", "audit_log", "episodes", "api_tokens"} {
		var ok bool
		if err := conn.QueryRow(ctx, `SELECT to_regclass($1) IS NOT NULL`, table).Scan(&ok); err != nil || !ok {
			t.Errorf("table %s missing after migrate (err %v)", table, err)
		}
	}
}

func TestMigrationNamesAreUniqueAndWellFormed(t *testing.T) {
	t.Parallel()
	if _, err := postgres.Migrations(); err != nil {
		t.Fatalf("embedded migrations: %v", err)
	}
	tests := []struct {
		name string
		fs   fstest.MapFS
	}{
		{"duplicate version", fstest.MapFS{
			"m/20260101000000_a.sql": {Data: []byte("SELECT 1")},
			"m/20260101000000_b.sql": {Data: []byte("SELECT 1")},
		}},
		{"no timestamp", fstest.MapFS{"m/001_init.sql": {Data: []byte("SELECT 1")}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := postgres.ReadMigrations(tt.fs, "m"); err == nil {
				t.Fatal("want an error")
			}
		})
	}
}

func TestTemplateDatabasesAreIsolated(t *testing.T) {
	t.Parallel()
	for i := range 4 {
		t.Run("clone", func(t *testing.T) {
			t.Parallel()
			db := dbtest.New(t)
			ctx := context.Background()
			if _, err := db.Pool.Exec(ctx, `INSERT INTO teams (name, created_at) VALUES ($1, now())`, "team"); err != nil {
				t.Fatalf("insert %d: %v", i, err)
			}
			var n int
			if err := db.Pool.QueryRow(ctx, `SELECT count(*) FROM teams WHERE NOT is_default`).Scan(&n); err != nil || n != 1 {
				t.Fatalf("clone %d sees %d teams (err %v); want only its own", i, n, err)
			}
		})
	}
}

// Pools plan each execution with its parameters unless the URL says otherwise.
func TestOpenPlansEachExecution(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := dbtest.New(t)
	for url, want := range map[string]string{
		db.URL:                           "force_custom_plan",
		db.URL + "&plan_cache_mode=auto": "auto",
	} {
		pool, err := postgres.Open(ctx, url, nil)
		if err != nil {
			t.Fatal(err)
		}
		var got string
		if err := pool.QueryRow(ctx, `SHOW plan_cache_mode`).Scan(&got); err != nil {
			t.Fatal(err)
		}
		pool.Close()
		if got != want {
			t.Errorf("%s: plan_cache_mode %q; want %q", url, got, want)
		}
	}
}
