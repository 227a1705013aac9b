// Package dbtest gives each test its own PostgreSQL database, cloned from a template that holds
// the migrated schema. Cloning is fast, and NOTIFY channels, advisory locks and statistics cannot
// leak between tests running in parallel (across packages too).
package dbtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/batonhq/baton/internal/postgres"
)

// AdminURL is the maintenance database used to create and drop test databases.
// BATON_TEST_DATABASE_URL overrides it.
func AdminURL() string {
	if u := os.Getenv("BATON_TEST_DATABASE_URL"); u != "" {
		return u
	}
	return "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"
}

// templateLock serialises template creation across test processes.
const templateLock = 7_420_002

var (
	templateOnce sync.Once
	templateName string
	templateErr  error
)

// template returns the name of the migrated template database, creating it once per schema.
func template(ctx context.Context) (string, error) {
	templateOnce.Do(func() {
		templateName, templateErr = ensureTemplate(ctx)
	})
	return templateName, templateErr
}

func ensureTemplate(ctx context.Context) (string, error) {
	hash, err := postgres.MigrationsHash()
	if err != nil {
		return "", err
	}
	name, admin, err := EnsureTemplate(ctx, "baton_tpl_"+hash, templateLock, func(ctx context.Context, dbURL string) error {
		conn, err := pgx.Connect(ctx, dbURL)
		if err != nil {
			return fmt.Errorf("connect to template: %w", err)
		}
		defer conn.Close(context.WithoutCancel(ctx))
		if _, err := postgres.Migrate(ctx, conn, nil); err != nil {
			return fmt.Errorf("migrate template: %w", err)
		}
		return nil
	})
	if admin != nil {
		dropStale(ctx, admin, name)
		admin.Close(context.WithoutCancel(ctx))
	}
	return name, err
}

// EnsureTemplate returns template database name, building it with build (given the database's
// URL) if it does not exist yet. lock is an advisory lock id that serialises the build across
// test processes; a half-built template is never published. The returned admin connection (nil
// on a connect error) is the caller's to close.
func EnsureTemplate(ctx context.Context, name string, lock int64, build func(ctx context.Context, dbURL string) error) (string, *pgx.Conn, error) {
	admin, err := pgx.Connect(ctx, AdminURL())
	if err != nil {
		return "", nil, fmt.Errorf("connect to admin database: %w", err)
	}
	if _, err := admin.Exec(ctx, `SELECT pg_advisory_lock($1)`, lock); err != nil {
		return "", admin, fmt.Errorf("lock template %s: %w", name, err)
	}
	defer admin.Exec(context.WithoutCancel(ctx), `SELECT pg_advisory_unlock($1)`, lock) //nolint:errcheck
	var exists bool
	if err := admin.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)`, name).Scan(&exists); err != nil {
		return "", admin, fmt.Errorf("look up template %s: %w", name, err)
	}
	if exists {
		return name, admin, nil
	}
	building := name + "_b"
	if _, err := admin.Exec(ctx, `DROP DATABASE IF EXISTS `+building+` WITH (FORCE)`); err != nil {
		return "", admin, fmt.Errorf("drop stale template %s: %w", building, err)
	}
	if _, err := admin.Exec(ctx, `CREATE DATABASE `+building); err != nil {
		return "", admin, fmt.Errorf("create template %s: %w", building, err)
	}
	if err := build(ctx, URL(building)); err != nil {
		admin.Exec(context.WithoutCancel(ctx), `DROP DATABASE IF EXISTS `+building+` WITH (FORCE)`) //nolint:errcheck
		return "", admin, err
	}
	if _, err := admin.Exec(ctx, `ALTER DATABASE `+building+` RENAME TO `+name); err != nil {
		return "", admin, fmt.Errorf("publish template %s: %w", name, err)
	}
	if _, err := admin.Exec(ctx, `ALTER DATABASE `+name+` WITH IS_TEMPLATE true`); err != nil {
		return "", admin, fmt.Errorf("mark template %s: %w", name, err)
	}
	return name, admin, nil
}

// dropStale removes templates of other schemas and test databases abandoned by killed runs,
// once they are old: another checkout may be testing a different schema right now.
func dropStale(ctx context.Context, admin *pgx.Conn, keep string) {
	rows, err := admin.Query(ctx, `SELECT datname FROM pg_database
		WHERE (datname LIKE 'baton_tpl_%' OR datname LIKE 'baton_test_%') AND datname <> $1
		  AND (pg_stat_file('base/'||oid||'/PG_VERSION', true)).modification < now() - interval '6 hours'`, keep)
	if err != nil {
		return
	}
	names, _ := pgx.CollectRows(rows, pgx.RowTo[string])
	for _, n := range names {
		admin.Exec(ctx, `ALTER DATABASE `+pgx.Identifier{n}.Sanitize()+` WITH IS_TEMPLATE false`) //nolint:errcheck
		admin.Exec(ctx, `DROP DATABASE IF EXISTS `+pgx.Identifier{n}.Sanitize()+` WITH (FORCE)`)  //nolint:errcheck
	}
}

// URL returns AdminURL with the database name replaced.
func URL(db string) string {
	u, err := url.Parse(AdminURL())
	if err != nil {
		panic(fmt.Sprintf("BATON_TEST_DATABASE_URL: %v", err))
	}
	u.Path = "/" + db
	return u.String()
}

// DB is one test's private database.
type DB struct {
	Name string
	URL  string
	Pool *pgxpool.Pool
}

// New creates a database for t, cloned from the migrated template, and drops it when t ends.
func New(t testing.TB) *DB {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	tpl, err := template(ctx)
	if err != nil {
		t.Fatalf("dbtest: %v", err)
	}
	name := Clone(ctx, t, tpl)
	db := &DB{Name: name, URL: URL(name)}
	pool, err := postgres.Open(ctx, db.URL, nil)
	if err != nil {
		t.Fatalf("dbtest: %v", err)
	}
	db.Pool = pool
	t.Cleanup(pool.Close) // runs before Clone's drop: cleanups run last first
	return db
}

// Clone creates a database for t from template tpl and drops it when t ends; it returns the
// database's name.
func Clone(ctx context.Context, t testing.TB, tpl string) string {
	t.Helper()
	b := make([]byte, 6)
	rand.Read(b)
	name := "baton_test_" + hex.EncodeToString(b)
	admin, err := pgx.Connect(ctx, AdminURL())
	if err != nil {
		t.Fatalf("dbtest: connect: %v", err)
	}
	defer admin.Close(ctx)
	// Clones of one template may race for its lock; retry briefly.
	for attempt := 0; ; attempt++ {
		_, err = admin.Exec(ctx, `CREATE DATABASE `+name+` TEMPLATE `+tpl)
		if err == nil || attempt == 20 {
			break
		}
		time.Sleep(time.Duration(50+attempt*25) * time.Millisecond)
	}
	if err != nil {
		t.Fatalf("dbtest: create database from %s: %v", tpl, err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		admin, err := pgx.Connect(ctx, AdminURL())
		if err != nil {
			t.Logf("dbtest: drop %s: %v", name, err)
			return
		}
		defer admin.Close(ctx)
		if _, err := admin.Exec(ctx, `DROP DATABASE IF EXISTS `+name+` WITH (FORCE)`); err != nil {
			t.Logf("dbtest: drop %s: %v", name, err)
		}
	})
	return name
}

// Empty creates an empty database (no schema) for t, for testing migrations themselves.
func Empty(t testing.TB) *DB {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	b := make([]byte, 6)
	rand.Read(b)
	name := "baton_test_" + hex.EncodeToString(b)
	admin, err := pgx.Connect(ctx, AdminURL())
	if err != nil {
		t.Fatalf("dbtest: connect: %v", err)
	}
	defer admin.Close(ctx)
	if _, err := admin.Exec(ctx, `CREATE DATABASE `+name+` TEMPLATE template0`); err != nil {
		t.Fatalf("dbtest: create database: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if admin, err := pgx.Connect(ctx, AdminURL()); err == nil {
			admin.Exec(ctx, `DROP DATABASE IF EXISTS `+name+` WITH (FORCE)`) //nolint:errcheck
			admin.Close(ctx)
		}
	})
	return &DB{Name: name, URL: URL(name)}
}
