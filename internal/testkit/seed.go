package testkit

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"

	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/intents"
	"github.com/batonhq/baton/internal/app"
	"github.com/batonhq/baton/internal/config"
	"github.com/batonhq/baton/internal/dbtest"
	"github.com/batonhq/baton/internal/postgres"
)

// Seeding (training the intents, chunking and embedding the help centre) costs seconds, more
// under the race detector, and every conversation script needs it. So the seeded state is built
// once into a template database and each test clones it. The template's name carries a hash of
// the test binary: the seed is made by this code, so another build never reuses it. Its
// "baton_tpl_" prefix lets dbtest's stale-database sweep remove it in time.

// seedLock serialises building the seeded template across test processes.
const seedLock = 7_420_003

var (
	seedOnce sync.Once
	seedName string
	seedErr  error
)

// seededTemplate returns the name of the seeded template, building it once.
func seededTemplate(ctx context.Context, cfg *config.Config) (string, error) {
	seedOnce.Do(func() { seedName, seedErr = ensureSeeded(ctx, cfg) })
	return seedName, seedErr
}

func binaryHash() (string, error) {
	exe, err := os.Executable()
	if err != nil {
		return "", err
	}
	f, err := os.Open(exe)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil))[:16], nil
}

func ensureSeeded(ctx context.Context, cfg *config.Config) (string, error) {
	mh, err := postgres.MigrationsHash()
	if err != nil {
		return "", err
	}
	bh, err := binaryHash()
	if err != nil {
		return "", fmt.Errorf("hash the test binary: %w", err)
	}
	name, admin, err := dbtest.EnsureTemplate(ctx, "baton_tpl_seed_"+mh[:8]+"_"+bh, seedLock,
		func(ctx context.Context, dbURL string) error { return seed(ctx, dbURL, cfg) })
	if admin != nil {
		if err == nil {
			dropStaleSeeds(ctx, admin, name)
		}
		admin.Close(context.WithoutCancel(ctx))
	}
	return name, err
}

// dropStaleSeeds removes seeded templates of earlier builds. Test binaries of other packages
// may be using theirs right now, so only those older than an hour go.
func dropStaleSeeds(ctx context.Context, admin *pgx.Conn, keep string) {
	rows, err := admin.Query(ctx, `SELECT datname FROM pg_database WHERE datname LIKE 'baton\_tpl\_seed\_%' AND datname <> $1
		AND (pg_stat_file('base/'||oid||'/PG_VERSION', true)).modification < now() - interval '1 hour'`, keep)
	if err != nil {
		return
	}
	names, _ := pgx.CollectRows(rows, pgx.RowTo[string])
	for _, n := range names {
		admin.Exec(ctx, `ALTER DATABASE `+pgx.Identifier{n}.Sanitize()+` WITH IS_TEMPLATE false`) //nolint:errcheck
		admin.Exec(ctx, `DROP DATABASE IF EXISTS `+pgx.Identifier{n}.Sanitize()+` WITH (FORCE)`)  //nolint:errcheck
	}
}

// seed migrates the database at dbURL and loads the demo intents and help centre, embedded
// inline (no queue is involved, so nothing is left in Redis).
func seed(ctx context.Context, dbURL string, cfg *config.Config) error {
	conn, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		return fmt.Errorf("connect to seeded template: %w", err)
	}
	_, err = postgres.Migrate(ctx, conn, nil)
	conn.Close(context.WithoutCancel(ctx))
	if err != nil {
		return fmt.Errorf("migrate seeded template: %w", err)
	}
	pool, err := postgres.Open(ctx, dbURL, nil)
	if err != nil {
		return err
	}
	defer pool.Close()
	db := postgres.New(pool, baton.SystemClock{})
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	cat, err := intents.NewCatalog(ctx, db, log)
	if err != nil {
		return err
	}
	if _, _, err := cat.Save(ctx, 0, intents.DefaultIntents(), false); err != nil {
		return fmt.Errorf("seed intents: %w", err)
	}
	kb, err := app.NewKnowledge(cfg, db, nil, nil, nil, log)
	if err != nil {
		return err
	}
	if _, err := kb.Start(ctx); err != nil {
		return fmt.Errorf("start knowledge base: %w", err)
	}
	if _, err := kb.Seed(ctx); err != nil {
		return fmt.Errorf("seed the help centre: %w", err)
	}
	if _, err := kb.EmbedPending(ctx, nil); err != nil {
		return fmt.Errorf("embed the help centre: %w", err)
	}
	return nil
}

// seededDatabase creates a database for t cloned from the seeded template, dropped when t ends.
func seededDatabase(t testing.TB, cfg *config.Config) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	tpl, err := seededTemplate(ctx, cfg)
	if err != nil {
		t.Fatalf("testkit: seeded template: %v", err)
	}
	name := dbtest.Clone(ctx, t, tpl)
	return dbtest.URL(name)
}

// seedable reports whether the shared seeded template fits a test's configuration: the help
// centre's vectors depend on the embedding settings.
func seedable(env map[string]string) bool {
	for k := range env {
		if strings.HasPrefix(k, "BATON_EMBEDDING_") || strings.HasPrefix(k, "BATON_LLM_") {
			return false
		}
	}
	return true
}
