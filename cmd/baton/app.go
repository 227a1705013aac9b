package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"time"

	"github.com/hibiken/asynq"
	"github.com/jackc/pgx/v5"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/redis/go-redis/v9"
	"golang.org/x/sync/errgroup"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/bot"
	"github.com/batonhq/baton/intents"
	"github.com/batonhq/baton/internal/channel"
	"github.com/batonhq/baton/internal/config"
	"github.com/batonhq/baton/internal/llm"
	"github.com/batonhq/baton/internal/postgres"
	"github.com/batonhq/baton/internal/queue"
	"github.com/batonhq/baton/internal/web"
	"github.com/batonhq/baton/knowledge"
	"github.com/batonhq/baton/prompts"
)

// loadConfig parses a command's flags over the environment.
func loadConfig(name string, args []string, stdout io.Writer, extra func(fs *flag.FlagSet)) (*config.Config, []string, error) {
	fs := flag.NewFlagSet("baton "+name, flag.ContinueOnError)
	fs.SetOutput(stdout)
	if extra != nil {
		extra(fs)
	}
	fs.Usage = func() {
		fmt.Fprintf(stdout, "Usage: baton %s [flags]\n\nFlags (each overrides its environment variable):\n", name)
		fs.PrintDefaults()
	}
	cfg, rest, err := config.Load(fs, args, config.Getenv)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil, nil, err
		}
		return nil, nil, fmt.Errorf("configuration: %w", err)
	}
	return cfg, rest, nil
}

func newLogger(cfg *config.Config, w io.Writer) *slog.Logger {
	level, _ := config.ParseLevel(cfg.LogLevel)
	return slog.New(slog.NewJSONHandler(w, &slog.HandlerOptions{Level: level}))
}

// app is the object graph shared by the long-running commands.
type app struct {
	cfg      *config.Config
	log      *slog.Logger
	db       *postgres.DB
	redisOpt asynq.RedisConnOpt
	redis    redis.UniversalClient
	client   *asynq.Client
	queues   queue.Queues
	channels channel.Registry
	registry *prometheus.Registry
	clock    baton.Clock
	brain    bot.Decider // set by tests; nil = chosen from the configuration
	intents  *intents.Catalog
	llm      *llm.Client // nil: the offline engine
	kb       *knowledge.Service
	kbQueue  *queue.KnowledgeEnqueuer
}

func newApp(ctx context.Context, cfg *config.Config, log *slog.Logger, tracer pgx.QueryTracer) (*app, error) {
	pool, err := postgres.Open(ctx, cfg.DatabaseURL, tracer)
	if err != nil {
		return nil, err
	}
	redisOpt, err := asynq.ParseRedisURI(cfg.RedisURL)
	if err != nil {
		pool.Close()
		return nil, fmt.Errorf("BATON_REDIS_URL: %w", err)
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	clock := baton.SystemClock{}
	a := &app{
		cfg: cfg, log: log, db: postgres.New(pool, clock), redisOpt: redisOpt,
		redis:  redisOpt.MakeRedisClient().(redis.UniversalClient),
		client: asynq.NewClient(redisOpt), queues: queue.NewQueues(cfg.QueuePrefix), registry: reg, clock: clock,
	}
	if cfg.LLMConfigured() {
		a.llm = llm.New(llm.Config{BaseURL: cfg.LLMBaseURL, APIKey: cfg.LLMAPIKey, ChatModel: cfg.ChatModel,
			EmbeddingModel: cfg.EmbeddingModel, EmbeddingDim: cfg.EmbeddingDim, Timeout: cfg.LLMTimeout, Logger: log})
	}
	if a.intents, err = intents.NewCatalog(ctx, a.db, log); err != nil {
		pool.Close()
		return nil, fmt.Errorf("load intents (is the database migrated? run baton migrate): %w", err)
	}
	a.kbQueue = &queue.KnowledgeEnqueuer{Client: a.client, Queues: a.queues}
	if a.kb, err = newKnowledge(cfg, a.db, a.llm, a.kbQueue, log); err != nil {
		pool.Close()
		return nil, err
	}
	if _, err := a.kb.Start(ctx); err != nil {
		// Redis may be down: the model is registered, its build is queued by the next start.
		log.Warn("start knowledge base", "err", err)
	}
	a.channels = channel.Registry{"webhook": &channel.Webhook{
		Secrets:     []string{cfg.WebhookSecret, cfg.WebhookSecretPrev},
		OutboundURL: cfg.OutboundURL,
		Client:      &http.Client{Timeout: 15 * time.Second},
	}}
	return a, nil
}

func (a *app) Close() {
	a.client.Close()
	a.redis.Close()
	a.db.Pool.Close()
}

type redisPinger struct{ c redis.UniversalClient }

func (p redisPinger) Ping(ctx context.Context) error { return p.c.Ping(ctx).Err() }

// server builds the HTTP handler with every feature mounted.
func (a *app) server() *web.Server {
	s := web.New(web.Options{Log: a.log, Auth: a.db, PublicURL: a.cfg.PublicURL, SessionTTL: a.cfg.SessionTTL,
		DB: a.db, Redis: redisPinger{a.redis}, Registry: a.registry})
	s.MountChannels(a.channels, a.db, a.cfg.BurstWindow, a.cfg.IdleResolve)
	s.MountConversations(a.db)
	s.MountUsers(a.db)
	s.MountIntents(a.intents, a.clock)
	s.MountKnowledge(a.kb)
	return s
}

// decider picks the bot's brain.
func (a *app) decider() bot.Decider {
	if a.brain != nil {
		return a.brain
	}
	s := bot.DefaultSettings()
	s.QueuedAckInterval = a.cfg.QueuedAckInterval
	b := &bot.Brain{Intents: a.intents.Model(), Prompts: prompts.Default(), Clock: a.clock, Log: a.log,
		Knowledge: kbAnswerer{a.kb}, Settings: s}
	if a.llm != nil {
		b.LLM = &llmUnderstander{client: a.llm, prompts: b.Prompts}
	}
	return b
}

// serveHTTP serves until ctx is done, then drains requests within the shutdown grace.
func (a *app) serveHTTP(ctx context.Context, ln net.Listener) error {
	srv := &http.Server{Handler: a.server().Handler(), ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout: 30 * time.Second, WriteTimeout: 60 * time.Second, IdleTimeout: 2 * time.Minute}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	a.log.Info("http listening", "addr", ln.Addr().String())
	select {
	case err := <-errc:
		return fmt.Errorf("serve http: %w", err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), a.cfg.ShutdownGrace)
	defer cancel()
	return srv.Shutdown(sctx)
}

// work runs the relay, the sweeper and the asynq server until ctx is done.
func (a *app) work(ctx context.Context) error {
	host, _ := os.Hostname()
	owner := fmt.Sprintf("%s-%d-%d", host, os.Getpid(), time.Now().UnixNano()%1e6)
	engine := &bot.Engine{
		Store: a.db, Scheduler: &queue.Scheduler{Client: a.client, Queues: a.queues}, Decider: a.decider(),
		Clock: a.clock, Log: a.log, Owner: owner, Window: a.cfg.BurstWindow, LeaseTTL: a.cfg.LeaseTTL,
		// The offline engine decides in milliseconds; an LLM call is worth a lease.
		Optimistic: a.llm == nil && a.cfg.TurnLease == "llm",
	}
	w := &queue.Worker{DB: a.db, Engine: engine, Channels: a.channels, Log: a.log,
		Recorder: &queue.Recorder{DB: a.db}, Client: a.client, Queues: a.queues, SendTimeout: 15 * time.Second}
	srv := asynq.NewServer(a.redisOpt, queue.ServerConfig(a.queues, a.cfg.Concurrency, a.log, a.cfg.ShutdownGrace))
	mux := w.Mux()
	queue.RegisterKnowledge(mux, a.kb, a.kbQueue)
	if err := srv.Start(mux); err != nil {
		return fmt.Errorf("start workers: %w", err)
	}
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error { a.intents.Watch(gctx, 5*time.Second); return nil })
	g.Go(func() error {
		return (&queue.Relay{DB: a.db, Client: a.client, Queues: a.queues, Log: a.log, Clock: a.clock}).Run(gctx)
	})
	g.Go(func() error {
		return (&queue.Sweeper{DB: a.db, Client: a.client, Queues: a.queues, Log: a.log, Clock: a.clock,
			Grace: a.cfg.BurstWindow + a.cfg.LeaseTTL}).Run(gctx)
	})
	a.log.Info("workers running", "owner", owner, "concurrency", a.cfg.Concurrency, "queue", a.queues.Chat)
	err := g.Wait()
	// Shutdown stops taking tasks and waits for in-flight ones up to the grace period; an
	// unfinished turn's lease expires and the sweeper of another worker picks it up.
	srv.Shutdown()
	return err
}

func startCommon(ctx context.Context, name string, args []string, stdout io.Writer) (*app, error) {
	cfg, _, err := loadConfig(name, args, stdout, nil)
	if err != nil {
		return nil, err
	}
	log := newLogger(cfg, os.Stderr)
	log.Info("starting", "command", name, "config", cfg)
	if !cfg.LLMConfigured() {
		log.Info("no LLM configured: using the offline engine")
	}
	return newApp(ctx, cfg, log, nil)
}

func cmdServe(ctx context.Context, args []string, stdout io.Writer) error {
	a, err := startCommon(ctx, "serve", args, stdout)
	if err != nil {
		return err
	}
	defer a.Close()
	ln, err := net.Listen("tcp", a.cfg.HTTPAddr)
	if err != nil {
		return fmt.Errorf("listen on BATON_HTTP_ADDR %s: %w", a.cfg.HTTPAddr, err)
	}
	return a.serveHTTP(ctx, ln)
}

func cmdWork(ctx context.Context, args []string, stdout io.Writer) error {
	a, err := startCommon(ctx, "work", args, stdout)
	if err != nil {
		return err
	}
	defer a.Close()
	return a.work(ctx)
}

func cmdRun(ctx context.Context, args []string, stdout io.Writer) error {
	a, err := startCommon(ctx, "run", args, stdout)
	if err != nil {
		return err
	}
	defer a.Close()
	ln, err := net.Listen("tcp", a.cfg.HTTPAddr)
	if err != nil {
		return fmt.Errorf("listen on BATON_HTTP_ADDR %s: %w", a.cfg.HTTPAddr, err)
	}
	return a.runBoth(ctx, ln)
}

func (a *app) runBoth(ctx context.Context, ln net.Listener) error {
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error { return a.serveHTTP(gctx, ln) })
	g.Go(func() error { return a.work(gctx) })
	return g.Wait()
}

func cmdMigrate(ctx context.Context, args []string, stdout io.Writer) error {
	cfg, _, err := loadConfig("migrate", args, stdout, nil)
	if err != nil {
		return err
	}
	conn, err := pgx.Connect(ctx, cfg.DatabaseURL)
	if err != nil {
		return fmt.Errorf("connect to BATON_DATABASE_URL: %w", err)
	}
	defer conn.Close(ctx)
	applied, err := postgres.Migrate(ctx, conn, nil)
	for _, name := range applied {
		fmt.Fprintln(stdout, "applied", name)
	}
	if err != nil {
		return err
	}
	if len(applied) == 0 {
		fmt.Fprintln(stdout, "database is up to date")
	}
	return nil
}

// kbAnswerer is bot.Answerer over the knowledge base.
type kbAnswerer struct{ kb *knowledge.Service }

func (k kbAnswerer) Answer(ctx context.Context, question, language string) (bot.Answer, error) {
	a, err := k.kb.Answer(ctx, question, knowledge.AnswerOptions{Language: language})
	if err != nil {
		return bot.Answer{}, err
	}
	ans := bot.Answer{Text: a.Text, Citations: a.Citations, Confidence: a.Confidence, NoAnswer: a.NoAnswer,
		Reason: a.Reason, Trace: a.Trace}
	if a.NoAnswer && a.Suggest != nil {
		ans.Suggestion = a.Suggest.Title
	}
	return ans, nil
}

func (k kbAnswerer) RecordGap(ctx context.Context, question string, conversationID, messageID int64, reason string) error {
	return k.kb.RecordGap(ctx, question, conversationID, messageID, reason)
}
