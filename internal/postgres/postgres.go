// Package postgres is Baton's PostgreSQL adapter: the connection pool, the embedded migrations
// and all SQL, including pgvector.
package postgres

import (
	"context"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"regexp"
	"sort"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	pgxvec "github.com/pgvector/pgvector-go/pgx"

	"github.com/batonhq/baton"
)

//go:embed migrations/*.sql
var migrationFS embed.FS

// Migration is one embedded schema change.
type Migration struct {
	Version string // the timestamp prefix, e.g. 20261125070000
	Name    string // the file name
	SQL     string
}

var migrationName = regexp.MustCompile(`^(\d{14})_[a-z0-9_]+\.sql$`)

// Migrations returns the embedded migrations in order. Names must be `<14-digit timestamp>_<name>.sql`
// and versions unique, so that parallel work cannot collide silently.
func Migrations() ([]Migration, error) {
	return readMigrations(migrationFS, "migrations")
}

func readMigrations(fsys fs.FS, dir string) ([]Migration, error) {
	entries, err := fs.ReadDir(fsys, dir)
	if err != nil {
		return nil, fmt.Errorf("read migrations: %w", err)
	}
	var ms []Migration
	seen := map[string]string{}
	for _, e := range entries {
		m := migrationName.FindStringSubmatch(e.Name())
		if m == nil {
			return nil, fmt.Errorf("migration %q: name must be <YYYYMMDDHHMMSS>_<snake_name>.sql", e.Name())
		}
		if prev, ok := seen[m[1]]; ok {
			return nil, fmt.Errorf("migrations %q and %q share version %s", prev, e.Name(), m[1])
		}
		seen[m[1]] = e.Name()
		b, err := fs.ReadFile(fsys, dir+"/"+e.Name())
		if err != nil {
			return nil, fmt.Errorf("read migration %s: %w", e.Name(), err)
		}
		ms = append(ms, Migration{Version: m[1], Name: e.Name(), SQL: string(b)})
	}
	sort.Slice(ms, func(i, j int) bool { return ms[i].Version < ms[j].Version })
	return ms, nil
}

// MigrationsHash identifies the embedded schema; test templates are keyed by it.
func MigrationsHash() (string, error) {
	ms, err := Migrations()
	if err != nil {
		return "", err
	}
	h := sha256.New()
	for _, m := range ms {
		h.Write([]byte(m.Name))
		h.Write([]byte(m.SQL))
	}
	return hex.EncodeToString(h.Sum(nil))[:12], nil
}

// migrateLock serialises concurrent `baton migrate` runs against one database.
const migrateLock = 7_420_001

// Migrate applies the embedded migrations not yet recorded in schema_migrations, each in its own
// transaction, and returns the names it applied.
func Migrate(ctx context.Context, conn *pgx.Conn, log *slog.Logger) ([]string, error) {
	ms, err := Migrations()
	if err != nil {
		return nil, err
	}
	if _, err := conn.Exec(ctx, `SELECT pg_advisory_lock($1)`, migrateLock); err != nil {
		return nil, fmt.Errorf("lock migrations: %w", err)
	}
	defer conn.Exec(context.WithoutCancel(ctx), `SELECT pg_advisory_unlock($1)`, migrateLock) //nolint:errcheck
	if _, err := conn.Exec(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version text PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`); err != nil {
		return nil, fmt.Errorf("create schema_migrations: %w", err)
	}
	rows, err := conn.Query(ctx, `SELECT version FROM schema_migrations`)
	if err != nil {
		return nil, fmt.Errorf("list applied migrations: %w", err)
	}
	applied, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("list applied migrations: %w", err)
	}
	done := map[string]bool{}
	for _, v := range applied {
		done[v] = true
	}
	var names []string
	for _, m := range ms {
		if done[m.Version] {
			continue
		}
		err := pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
			if _, err := tx.Exec(ctx, m.SQL); err != nil {
				return err
			}
			_, err := tx.Exec(ctx, `INSERT INTO schema_migrations (version, name) VALUES ($1, $2)`, m.Version, m.Name)
			return err
		})
		if err != nil {
			return names, fmt.Errorf("apply migration %s: %w", m.Name, err)
		}
		if log != nil {
			log.Info("migration applied", "name", m.Name)
		}
		names = append(names, m.Name)
	}
	return names, nil
}

// Open connects a pool to url and registers the pgvector types on every connection.
func Open(ctx context.Context, url string, tracer pgx.QueryTracer) (*pgxpool.Pool, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("parse database url: %w", err)
	}
	if tracer != nil {
		cfg.ConnConfig.Tracer = tracer
	}
	// pgxpool's default (max(4, CPUs)) starves the workers; pool_max_conns in the URL still wins.
	if !strings.Contains(url, "pool_max_conns") {
		cfg.MaxConns = 16
	}
	// Plan every execution with its parameters. A generic plan cached on a connection while
	// the tables were small (a fresh install, a new benchmark database) keeps sequential
	// scans of messages as they grow; planning costs far less than that.
	if _, ok := cfg.ConnConfig.RuntimeParams["plan_cache_mode"]; !ok {
		cfg.ConnConfig.RuntimeParams["plan_cache_mode"] = "force_custom_plan"
	}
	// JIT compiles a query whose estimated cost is high (a full-text search over many
	// candidates, a vector search): for Baton's short queries compiling costs more than it saves.
	if _, ok := cfg.ConnConfig.RuntimeParams["jit"]; !ok {
		cfg.ConnConfig.RuntimeParams["jit"] = "off"
	}
	cfg.AfterConnect = func(ctx context.Context, c *pgx.Conn) error {
		return pgxvec.RegisterTypes(ctx, c)
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("connect to database: %w", err)
	}
	return pool, nil
}

// isUniqueViolation reports a unique-constraint error, optionally on a named constraint/index.
func isUniqueViolation(err error, constraint string) bool {
	var pgErr *pgconn.PgError
	if !errors.As(err, &pgErr) || pgErr.Code != "23505" {
		return false
	}
	return constraint == "" || strings.EqualFold(pgErr.ConstraintName, constraint)
}

// notFound turns pgx.ErrNoRows into baton.ErrNotFound with what was looked up.
func notFound(err error, what string) error {
	if errors.Is(err, pgx.ErrNoRows) {
		return baton.Errorf(baton.ErrNotFound, "not_found", "%s not found", what)
	}
	return err
}
