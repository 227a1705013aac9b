// Package sandbox runs Baton against throwaway state on the configured servers: a scratch
// database (baton_sandbox_<random>) on the server of BATON_DATABASE_URL, migrated and seeded
// once as a template and cloned per run, a random queue prefix on the configured Redis, and
// an in-process delivery sink instead of BATON_OUTBOUND_URL. Close drops every database it
// made and deletes its queues (never flushing Redis), so it is safe next to production data.
// `baton test conversations` and `baton eval answers` run in it.
package sandbox

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/hibiken/asynq"
	"github.com/jackc/pgx/v5"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/bot"
	"github.com/batonhq/baton/internal/app"
	"github.com/batonhq/baton/internal/config"
	"github.com/batonhq/baton/internal/postgres"
	"github.com/batonhq/baton/internal/queue"
)

// Prefix starts the name of every database a sandbox creates.
const Prefix = "baton_sandbox_"

// Options configure a sandbox.
type Options struct {
	// Getenv reads the base configuration (config.Getenv in the binary). Only the database
	// and Redis URLs are needed; the sandbox overrides everything that could reach the outside.
	Getenv func(string) string
	// KeepLLM keeps the configured LLM settings; otherwise the offline engine runs.
	KeepLLM bool
	// Seed loads the demo intents and the demo help centre into the template.
	Seed bool
	// Prepare, if set, runs on an app over the template after seeding (e.g. importing a
	// help centre), so that every clone starts with its result.
	Prepare func(ctx context.Context, a *app.App) error
	// Log receives the apps' logs (nil = discarded).
	Log *slog.Logger
}

// Sandbox owns a template database and its clones, and a queue prefix.
type Sandbox struct {
	o        Options
	admin    string // maintenance database URL
	server   url.URL
	id       string
	template string
	redisURL string

	mu      sync.Mutex
	n       int
	dbs     []string
	queues  []string
	running []*Baton
}

// New creates the sandbox's template database: migrated, and seeded when asked.
func New(ctx context.Context, o Options) (*Sandbox, error) {
	if o.Getenv == nil {
		o.Getenv = config.Getenv
	}
	if o.Log == nil {
		o.Log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	base, err := loadConfig(o.Getenv, nil)
	if err != nil {
		return nil, err
	}
	u, err := url.Parse(base.DatabaseURL)
	if err != nil {
		return nil, fmt.Errorf("BATON_DATABASE_URL: %w", err)
	}
	// pool_* parameters are pgxpool's; plain connections refuse them.
	q := u.Query()
	for k := range q {
		if strings.HasPrefix(k, "pool_") {
			q.Del(k)
		}
	}
	u.RawQuery = q.Encode()
	admin := *u
	admin.Path = "/postgres"
	s := &Sandbox{o: o, admin: admin.String(), server: *u, id: randomHex(5), redisURL: base.RedisURL}
	s.template = Prefix + s.id + "_tpl"
	if err := s.createTemplate(ctx); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

func (s *Sandbox) urlOf(db string) string {
	u := s.server
	u.Path = "/" + db
	return u.String()
}

func (s *Sandbox) exec(ctx context.Context, sql string) error {
	conn, err := pgx.Connect(ctx, s.admin)
	if err != nil {
		return fmt.Errorf("connect to the server of BATON_DATABASE_URL: %w", err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	_, err = conn.Exec(ctx, sql)
	return err
}

func (s *Sandbox) createTemplate(ctx context.Context) error {
	s.dropStale(ctx)
	if err := s.exec(ctx, `CREATE DATABASE `+s.template); err != nil {
		return fmt.Errorf("create sandbox database: %w", err)
	}
	s.track(s.template)
	conn, err := pgx.Connect(ctx, s.urlOf(s.template))
	if err != nil {
		return fmt.Errorf("connect to sandbox database: %w", err)
	}
	_, err = postgres.Migrate(ctx, conn, nil)
	conn.Close(context.WithoutCancel(ctx))
	if err != nil {
		return fmt.Errorf("migrate sandbox database: %w", err)
	}
	if s.o.Seed || s.o.Prepare != nil {
		cfg, err := s.config(s.template, s.newPrefix(), "", nil)
		if err != nil {
			return err
		}
		a, err := app.New(ctx, cfg, s.o.Log, app.Options{Decider: bot.Minimal{}})
		if err != nil {
			return err
		}
		if s.o.Seed {
			_, _, err = a.SeedDemo(ctx)
		}
		if err == nil && s.o.Prepare != nil {
			err = s.o.Prepare(ctx, a)
		}
		a.Close()
		if err != nil {
			return err
		}
	}
	// No connection may stay on a template that is being cloned.
	return s.exec(ctx, `ALTER DATABASE `+s.template+` WITH ALLOW_CONNECTIONS false`)
}

// dropStale removes sandbox databases left by killed runs, once they are old.
func (s *Sandbox) dropStale(ctx context.Context) {
	conn, err := pgx.Connect(ctx, s.admin)
	if err != nil {
		return
	}
	defer conn.Close(context.WithoutCancel(ctx))
	rows, err := conn.Query(ctx, `SELECT datname FROM pg_database WHERE datname LIKE 'baton\_sandbox\_%'
		AND (pg_stat_file('base/'||oid||'/PG_VERSION', true)).modification < now() - interval '6 hours'`)
	if err != nil {
		return
	}
	names, _ := pgx.CollectRows(rows, pgx.RowTo[string])
	for _, n := range names {
		conn.Exec(ctx, `DROP DATABASE IF EXISTS `+pgx.Identifier{n}.Sanitize()+` WITH (FORCE)`) //nolint:errcheck
	}
}

func (s *Sandbox) track(db string) {
	s.mu.Lock()
	s.dbs = append(s.dbs, db)
	s.mu.Unlock()
}

// Clone creates a new database from the template and returns its URL.
func (s *Sandbox) Clone(ctx context.Context) (string, error) {
	s.mu.Lock()
	s.n++
	name := fmt.Sprintf("%s%s_%d", Prefix, s.id, s.n)
	s.mu.Unlock()
	var err error
	// Clones of one template may race for its lock; retry briefly.
	for attempt := 0; attempt < 20; attempt++ {
		if err = s.exec(ctx, `CREATE DATABASE `+name+` TEMPLATE `+s.template); err == nil {
			s.track(name)
			return s.urlOf(name), nil
		}
		if ctx.Err() != nil {
			break
		}
		time.Sleep(time.Duration(50+attempt*25) * time.Millisecond)
	}
	return "", fmt.Errorf("create sandbox database %s: %w", name, err)
}

// newPrefix returns a queue prefix that Close deletes.
func (s *Sandbox) newPrefix() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.n++
	prefix := fmt.Sprintf("sandbox-%s-%d", s.id, s.n)
	s.queues = append(s.queues, prefix)
	return prefix
}

// StartOptions configure one Baton of the sandbox.
type StartOptions struct {
	Env     map[string]string // configuration over the base (e.g. BATON_BURST_WINDOW)
	Clock   baton.Clock       // nil = an OffsetClock at real time
	Decider bot.Decider       // nil = the configured brain
	NoWork  bool              // HTTP only
}

// Start runs a Baton on a fresh clone, with its own queue prefix and sink.
func (s *Sandbox) Start(ctx context.Context, o StartOptions) (*Baton, error) {
	dbURL, err := s.Clone(ctx)
	if err != nil {
		return nil, err
	}
	sink, err := NewSink("sandbox-" + s.id)
	if err != nil {
		return nil, err
	}
	prefix := s.newPrefix()
	cfg, err := s.config(strings.TrimPrefix(mustPath(dbURL), "/"), prefix, sink.URL, o.Env)
	if err != nil {
		sink.Close()
		return nil, err
	}
	cfg.WebhookSecret = "sandbox-" + s.id
	if o.Clock == nil {
		o.Clock = baton.NewOffsetClock(0)
	}
	b, err := Run(ctx, cfg, s.o.Log, app.Options{Clock: o.Clock, Decider: o.Decider}, sink, !o.NoWork)
	if err != nil {
		sink.Close()
		return nil, err
	}
	s.mu.Lock()
	s.running = append(s.running, b)
	s.mu.Unlock()
	return b, nil
}

func mustPath(u string) string {
	p, _ := url.Parse(u)
	return p.Path
}

// config is the base configuration with everything that could reach the outside replaced.
func (s *Sandbox) config(db, prefix, outbound string, env map[string]string) (*config.Config, error) {
	over := map[string]string{
		"BATON_DATABASE_URL": s.urlOf(db), "BATON_QUEUE_PREFIX": prefix, "BATON_OUTBOUND_URL": outbound,
		"BATON_WEBHOOK_SECRET": "sandbox-" + s.id, "BATON_WEBHOOK_SECRET_PREVIOUS": "",
		"BATON_SHUTDOWN_GRACE": "2s",
	}
	if !s.o.KeepLLM {
		over["BATON_LLM_BASE_URL"], over["BATON_LLM_API_KEY"] = "", ""
	}
	getenv := func(k string) string {
		if v, ok := over[k]; ok {
			return v
		}
		if v, ok := env[k]; ok {
			return v
		}
		return s.o.Getenv(k)
	}
	return loadConfig(getenv, nil)
}

func loadConfig(getenv func(string) string, args []string) (*config.Config, error) {
	fs := flag.NewFlagSet("sandbox", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	cfg, _, err := config.Load(fs, args, getenv)
	if err != nil {
		return nil, fmt.Errorf("sandbox configuration: %w", err)
	}
	return cfg, nil
}

// Close stops every Baton it started, drops every database it made and deletes its queues.
// It uses its own deadline, so it also cleans up after an interrupt.
func (s *Sandbox) Close() error {
	s.mu.Lock()
	running, dbs, queues := s.running, s.dbs, s.queues
	s.running, s.dbs, s.queues = nil, nil, nil
	s.mu.Unlock()
	for _, b := range running {
		b.Stop()
		b.Sink.Close()
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var errs []error
	for i := len(dbs) - 1; i >= 0; i-- {
		if err := s.exec(ctx, `DROP DATABASE IF EXISTS `+dbs[i]+` WITH (FORCE)`); err != nil {
			errs = append(errs, fmt.Errorf("drop sandbox database %s: %w", dbs[i], err))
		}
	}
	if len(queues) > 0 {
		if opt, err := asynq.ParseRedisURI(s.redisURL); err == nil {
			queue.DeletePrefixed(opt, queues...)
		}
	}
	return errors.Join(errs...)
}
