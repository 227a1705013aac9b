// Package app is Baton's object graph: from a validated Config to the pools, the queue, the
// knowledge base, the intents catalog, the bot and the HTTP server. cmd/baton wires flags to it;
// tests, the sandbox and the benchmarks build one with an injected clock and decider.
package app

import (
	"context"
	"fmt"
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
	"github.com/batonhq/baton/handoff"
	"github.com/batonhq/baton/intents"
	"github.com/batonhq/baton/internal/channel"
	"github.com/batonhq/baton/internal/config"
	"github.com/batonhq/baton/internal/console"
	"github.com/batonhq/baton/internal/events"
	"github.com/batonhq/baton/internal/llm"
	"github.com/batonhq/baton/internal/postgres"
	"github.com/batonhq/baton/internal/queue"
	"github.com/batonhq/baton/internal/ratelimit"
	"github.com/batonhq/baton/internal/web"
	"github.com/batonhq/baton/internal/widget"
	"github.com/batonhq/baton/knowledge"
	"github.com/batonhq/baton/prompts"
)

// Options are what a caller may inject; zero values mean the production choice.
type Options struct {
	// Clock rules every comparison with stored times (nil = the system clock).
	Clock baton.Clock
	// Decider replaces the bot's brain (nil = the brain built from the configuration).
	Decider bot.Decider
	// Tracer observes every query on the pool (benchmarks count writes with it).
	Tracer pgx.QueryTracer
}

// App is the object graph shared by the long-running commands.
type App struct {
	Config    *config.Config
	Log       *slog.Logger
	Clock     baton.Clock
	DB        *postgres.DB
	RedisOpt  asynq.RedisConnOpt
	Redis     redis.UniversalClient
	Client    *asynq.Client
	Queues    queue.Queues
	Channels  channel.Registry
	Registry  *prometheus.Registry
	Intents   *intents.Catalog
	Prompts   *prompts.Live // the defaults with the admins' active overrides
	LLM       *llm.Client   // nil: the offline engine
	Knowledge *knowledge.Service
	KBQueue   *queue.KnowledgeEnqueuer
	Hub       *events.Hub       // live events for the SSE streams; runs in Serve
	Events    *events.Publisher // events no trigger sees (turn processing)

	decider    bot.Decider
	delivery   *queue.DeliveryMetrics
	llmMetrics *llmMetrics // with an LLM: token use and outcomes of the turn calls
	limiter    *ratelimit.Limiter
	switches   *loopSwitches // pause, mute and loop detection
}

// New connects to PostgreSQL and Redis and builds the graph. The database must be migrated.
func New(ctx context.Context, cfg *config.Config, log *slog.Logger, o Options) (*App, error) {
	if o.Clock == nil {
		o.Clock = baton.SystemClock{}
	}
	pool, err := postgres.Open(ctx, cfg.DatabaseURL, o.Tracer)
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
	a := &App{
		Config: cfg, Log: log, Clock: o.Clock, DB: postgres.New(pool, o.Clock), RedisOpt: redisOpt,
		Redis:  redisOpt.MakeRedisClient().(redis.UniversalClient),
		Client: asynq.NewClient(redisOpt), Queues: queue.NewQueues(cfg.QueuePrefix), Registry: reg,
	}
	// Shares the Redis client: closing a.Redis closes it.
	a.Queues = a.Queues.WithInspector(asynq.NewInspectorFromRedisClient(a.Redis))
	a.DB.Delivery = postgres.DeliveryTimes{SendLease: queue.SendLease(cfg.DeliveryTimeout), OrderWait: cfg.DeliveryOrderWait}
	a.DB.AgentInactiveAfter = cfg.AgentInactiveAfter
	a.DB.NotifyHandoffs = cfg.NotifyURL != ""
	a.delivery = queue.NewDeliveryMetrics(reg)
	registerQueueGauges(reg, a.DB, log)
	a.limiter = ratelimit.New(a.Redis, cfg.QueuePrefix, log, reg)
	reg.MustRegister(newBacklogCollector(a))
	a.switches = newLoopSwitches(a.DB, postgres.LoopRule{Messages: cfg.LoopMessages, Window: cfg.LoopWindow,
		Repeats: cfg.LoopRepeats, RepeatWindow: cfg.LoopRepeatWindow}, reg, log)
	fail := func(err error) (*App, error) {
		a.Close()
		return nil, err
	}
	if cfg.LLMConfigured() {
		a.LLM = llm.New(llm.Config{BaseURL: cfg.LLMBaseURL, APIKey: cfg.LLMAPIKey, ChatModel: cfg.ChatModel,
			EmbeddingModel: cfg.EmbeddingModel, EmbeddingDim: cfg.EmbeddingDim, Timeout: cfg.LLMTimeout, Logger: log})
		a.llmMetrics = newLLMMetrics(reg)
	}
	if a.Intents, err = intents.NewCatalog(ctx, a.DB, log); err != nil {
		return fail(fmt.Errorf("load intents (is the database migrated? run baton migrate): %w", err))
	}
	if a.Prompts, err = prompts.NewLive(ctx, a.DB, log); err != nil {
		return fail(fmt.Errorf("load prompts (is the database migrated? run baton migrate): %w", err))
	}
	a.KBQueue = &queue.KnowledgeEnqueuer{Client: a.Client, Queues: a.Queues}
	if a.Knowledge, err = NewKnowledge(cfg, a.DB, a.LLM, a.KBQueue, a.Prompts, log); err != nil {
		return fail(err)
	}
	if _, err := a.Knowledge.Start(ctx); err != nil {
		// Redis may be down: the model is registered, its build is queued by the next start.
		log.Warn("start knowledge base", "err", err)
	}
	a.Channels = channels(cfg, a.DB, a.Clock, log)
	if err := blockSenders(ctx, cfg, a.DB); err != nil {
		return fail(err)
	}
	a.Channels[web.ChatChannel] = widget.Channel{}
	a.Hub = events.New(pool, a.DB, log)
	a.Events = &events.Publisher{DB: a.DB, Log: log}
	a.decider = o.Decider
	if a.decider == nil {
		a.decider = a.Brain()
	}
	a.decider = a.channelBot(a.decider)
	return a, nil
}

// Close releases the pools.
func (a *App) Close() {
	a.Client.Close()
	a.Redis.Close()
	a.DB.Pool.Close()
}

type redisPinger struct{ c redis.UniversalClient }

func (p redisPinger) Ping(ctx context.Context) error { return p.c.Ping(ctx).Err() }

// Server builds the HTTP handler with every feature mounted.
func (a *App) Server() *web.Server {
	s := web.New(web.Options{Log: a.Log, Auth: a.DB, PublicURL: a.Config.PublicURL, SessionTTL: a.Config.SessionTTL,
		DB: a.DB, Redis: redisPinger{a.Redis}, Registry: a.Registry,
		MetricsToken: a.Config.MetricsToken, MetricsElsewhere: a.Config.MetricsAddr != "",
		Limiter: a.limiter, Limits: web.Limits{PerIP: config.Rate(a.Config.RatePerIP), SignIn: config.Rate(a.Config.RateSignIn),
			PerSender: config.Rate(a.Config.RatePerSender), ClientIPHeader: a.Config.ClientIPHeader}})
	s.MountChannels(a.Channels, a.DB, a.Config.BurstWindow, a.Config.IdleResolve)
	s.MountConversations(a.DB)
	s.MountAgent(a.DB)
	s.MountUsers(a.DB)
	s.MountIntents(a.Intents, a.Clock)
	s.MountKnowledge(a.Knowledge)
	s.MountPrompts(a.Prompts)
	s.MountOps(a.DeadLetters())
	s.MountSwitches(a.DB)
	s.MountStats(a.DB, a.DB.Clock)
	s.MountChat(web.ChatOptions{Store: a.DB, Hub: a.Hub, Feedback: a.Knowledge,
		Tokens:         web.ChatTokens{Secret: web.ChatSecret(a.Config.ChatTokenSecret, a.Config.WebhookSecret)},
		IdentitySecret: a.Config.ChatIdentitySecret, Origins: a.Config.ChatOrigins, PublicURL: a.Config.PublicURL,
		TokenTTL: a.Config.ChatTokenTTL, Window: a.Config.BurstWindow, Idle: a.Config.IdleResolve, Clock: a.Clock})
	s.MountAgentEvents(a.Hub, a.DB, 0)
	if wh, err := widget.New(a.Config.ChatOrigins); err != nil {
		a.Log.Error("chat widget", "err", err)
	} else {
		s.MountWidget(wh)
	}
	s.MountConsole(console.Store{DB: a.DB}, a.ConsoleSettings())
	console.Mount(s)
	s.MountLoops(a.DB)
	s.MountCustomers(a.DB)
	return s
}

// DeadLetters is the failed work of this deployment (archived tasks, failed deliveries and
// turns); it shares the app's Redis client, closed with the app.
func (a *App) DeadLetters() *queue.DeadLetters {
	return &queue.DeadLetters{DB: a.DB, Inspector: asynq.NewInspectorFromRedisClient(a.Redis), Queues: a.Queues,
		MaxAttempts: a.Config.TurnMaxAttempts}
}

// Decider is the bot's decider: the injected one, or the configured brain.
func (a *App) Decider() bot.Decider { return a.decider }

// Brain is the bot's brain as the configuration asks for it: offline, or with an LLM that
// writes each turn's reply in one structured call (understanding, retrieval and the policy
// stay local; the local reply is the fallback).
func (a *App) Brain() *bot.Brain {
	settings := bot.DefaultSettings()
	settings.QueuedAckInterval = a.Config.QueuedAckInterval
	settings.HandoffSLA = a.Config.HandoffSLA
	b := &bot.Brain{Intents: a.Intents.Model(), Prompts: a.Prompts, Clock: a.Clock, Log: a.Log, Staff: a.DB,
		Knowledge: kbAnswerer{kb: a.Knowledge, extractive: a.LLM != nil}, Settings: settings}
	if a.LLM != nil {
		cfg := a.Config
		b.Model = &bot.ModelOptions{
			Composer: &llm.TurnComposer{Client: a.LLM, Prompts: a.Prompts,
				Brand: prompts.BrandInput{BotName: cfg.BotName, Company: cfg.CompanyName, Tone: cfg.BotTone}},
			Budget: a.DB, TokensPerConversation: int64(cfg.LLMTokensPerConversation), TokensPerDay: int64(cfg.LLMTokensPerDay),
			MaskPII: cfg.LLMMaskPII == "on", Observe: a.llmMetrics.observe,
		}
	}
	return b
}

// Serve serves HTTP on ln until ctx is done, then drains requests within the shutdown grace.
func (a *App) Serve(ctx context.Context, ln net.Listener) error {
	s := a.Server()
	srv := &http.Server{Handler: s.Handler(), ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout: 30 * time.Second, WriteTimeout: 60 * time.Second, IdleTimeout: 2 * time.Minute}
	errc := make(chan error, 2)
	// The event hub ends its streams when ctx is done, so they do not hold up the shutdown.
	go a.Hub.Run(ctx) //nolint:errcheck // returns when ctx is done
	go func() { errc <- srv.Serve(ln) }()
	a.Log.Info("http listening", "addr", ln.Addr().String())
	var metrics *http.Server
	if addr := a.Config.MetricsAddr; addr != "" {
		// /metrics on its own listener (BATON_METRICS_ADDR), e.g. reachable only internally.
		mln, err := net.Listen("tcp", addr)
		if err != nil {
			srv.Close()
			return fmt.Errorf("listen on BATON_METRICS_ADDR %s: %w", addr, err)
		}
		metrics = &http.Server{Handler: s.MetricsHandler(), ReadHeaderTimeout: 10 * time.Second}
		go func() { errc <- metrics.Serve(mln) }()
		a.Log.Info("metrics listening", "addr", mln.Addr().String())
	}
	select {
	case err := <-errc:
		srv.Close()
		if metrics != nil {
			metrics.Close()
		}
		return fmt.Errorf("serve http: %w", err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), a.Config.ShutdownGrace)
	defer cancel()
	if metrics != nil {
		metrics.Shutdown(sctx) //nolint:errcheck // the main server's result is the one that matters
	}
	return srv.Shutdown(sctx)
}

// Work runs the relay, the sweeper and the asynq server until ctx is done.
func (a *App) Work(ctx context.Context) error {
	host, _ := os.Hostname()
	// The owner only has to be unique among live workers: wall time is right here.
	owner := fmt.Sprintf("%s-%d-%d", host, os.Getpid(), time.Now().UnixNano()%1e6)
	engine := &bot.Engine{
		Store: a.DB, Scheduler: &queue.Scheduler{Client: a.Client, Queues: a.Queues}, Decider: a.decider,
		Clock: a.Clock, Log: a.Log, Owner: owner, Window: a.Config.BurstWindow, LeaseTTL: a.Config.LeaseTTL,
		// The offline engine decides in milliseconds; an LLM call is worth a lease.
		Optimistic: a.LLM == nil && a.Config.TurnLease == "llm",
		Failures:   a.DB, MaxAttempts: a.Config.TurnMaxAttempts, Switches: a.switches,
	}
	failures := queue.NewFailureMetrics(a.Registry)
	engine.OnFailure = failures.TurnFailed
	deliverer := &queue.Deliverer{DB: a.DB, Channels: a.Channels, Recorder: &queue.Recorder{DB: a.DB}, Client: a.Client,
		Queues: a.Queues, Log: a.Log, Clock: a.Clock, Metrics: a.delivery, SendTimeout: a.Config.DeliveryTimeout,
		InFlight: a.Config.DeliveryInFlight, RetryFor: a.Config.DeliveryRetryFor}
	w := &queue.Worker{Engine: engine, Deliverer: deliverer, Log: a.Log, Processing: a.Events.Processing}
	srv := asynq.NewServer(a.RedisOpt, queue.ServerConfig(a.Queues, a.Config.Concurrency, a.Log, a.Config.ShutdownGrace))
	mux := w.Mux()
	queue.RegisterKnowledge(mux, a.Knowledge, a.KBQueue)
	if err := srv.Start(mux); err != nil {
		return fmt.Errorf("start workers: %w", err)
	}
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error { a.Intents.Watch(gctx, 5*time.Second); return nil })
	g.Go(func() error { a.Prompts.Watch(gctx, 5*time.Second); return nil })
	g.Go(func() error {
		return (&queue.Relay{DB: a.DB, Client: a.Client, Queues: a.Queues, Log: a.Log, Clock: a.Clock}).Run(gctx)
	})
	g.Go(func() error {
		return (&queue.Sweeper{DB: a.DB, Client: a.Client, Queues: a.Queues, Log: a.Log, Clock: a.Clock,
			Grace: a.Config.BurstWindow + a.Config.LeaseTTL, MaxAttempts: a.Config.TurnMaxAttempts, Requeued: failures.Swept()}).Run(gctx)
	})
	g.Go(func() error {
		// Presence timeouts and the assignment backlog; once per period across all workers.
		baton.Repeat(gctx, time.Second, a.DB.AgentsJob, func(err error) { a.Log.Warn("agents job", "err", err) })
		return nil
	})
	if a.Config.NotifyURL != "" {
		n := &handoff.Notifier{Store: a.DB, URL: a.Config.NotifyURL, Secret: a.Config.NotifySecret, Clock: a.Clock, Log: a.Log,
			Backoff: queue.BackoffBase}
		g.Go(func() error {
			// New handoffs and SLA breaches, from their outbox rows; retried with the delivery backoff.
			baton.Repeat(gctx, time.Second, func(ctx context.Context) error { _, err := n.Once(ctx); return err },
				func(err error) { a.Log.Warn("notifications", "err", err) })
			return nil
		})
	}
	g.Go(func() error {
		// Retention: once per period across all workers; checked every minute (or period).
		retention := a.Retention()
		baton.Repeat(gctx, min(time.Minute, a.Config.RetentionPeriod), func(ctx context.Context) error {
			deleted, ran, err := a.DB.RetentionJob(ctx, retention, a.Config.RetentionPeriod)
			if ran && err == nil {
				a.Log.Info("retention enforced", "deleted", deleted)
			}
			return err
		}, func(err error) { a.Log.Warn("retention job", "err", err) })
		return nil
	})
	g.Go(func() error {
		return (&queue.Redeliverer{DB: a.DB, Client: a.Client, Queues: a.Queues, Log: a.Log, Metrics: a.delivery,
			Interval: a.Config.DeliverySweep}).Run(gctx)
	})
	a.Log.Info("workers running", "owner", owner, "concurrency", a.Config.Concurrency, "queue", a.Queues.Chat)
	err := g.Wait()
	// Shutdown stops taking tasks and waits for in-flight ones up to the grace period; an
	// unfinished turn's lease expires and the sweeper of another worker picks it up.
	srv.Shutdown()
	// Sends in flight finish (each within its timeout); a reply still queued keeps its lease,
	// and another worker's sweep retries it when the lease ends.
	deliverer.Drain(a.Config.ShutdownGrace)
	return err
}

// Run serves HTTP on ln and runs the workers until ctx is done.
func (a *App) Run(ctx context.Context, ln net.Listener) error {
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error { return a.Serve(gctx, ln) })
	g.Go(func() error { return a.Work(gctx) })
	return g.Wait()
}

// SeedDemo loads the demo content: the web-shop intents (when none are stored) and the demo
// help centre, embedded now so that vector search finds it at once.
func (a *App) SeedDemo(ctx context.Context) (intentsAdded int, kb knowledge.ImportSummary, err error) {
	stored, err := a.DB.ListIntents(ctx)
	if err != nil {
		return 0, kb, fmt.Errorf("list intents: %w", err)
	}
	if len(stored) == 0 {
		if intentsAdded, _, err = a.Intents.Save(ctx, 0, intents.DefaultIntents(), false); err != nil {
			return 0, kb, fmt.Errorf("seed intents: %w", err)
		}
	}
	if kb, err = a.Knowledge.Seed(ctx); err != nil {
		return intentsAdded, kb, fmt.Errorf("seed the help centre: %w", err)
	}
	if _, err := a.Knowledge.EmbedPending(ctx, nil); err != nil {
		return intentsAdded, kb, fmt.Errorf("embed the help centre: %w", err)
	}
	return intentsAdded, kb, nil
}

// ConsoleSettings are the thresholds and brand voice the admin console shows (read-only: they
// are set by BATON_* variables at start). No secrets.
func (a *App) ConsoleSettings() web.ConsoleSettings {
	c := a.Config
	llm := "offline engine"
	if c.LLMConfigured() {
		llm = c.ChatModel
	}
	return web.ConsoleSettings{
		"BATON_ANSWER_MIN_CONFIDENCE": fmt.Sprint(c.AnswerMinConfidence),
		"BATON_BURST_WINDOW":          c.BurstWindow.String(),
		"BATON_IDLE_RESOLVE":          c.IdleResolve.String(),
		"BATON_HANDOFF_SLA":           c.HandoffSLA.String(),
		"BATON_QUEUED_ACK_INTERVAL":   c.QueuedAckInterval.String(),
		"BATON_DEFAULT_TEAM":          c.DefaultTeam,
		"BATON_BOT_NAME":              c.BotName,
		"BATON_COMPANY_NAME":          c.CompanyName,
		"BATON_BOT_TONE":              c.BotTone,
		"chat model":                  llm,
	}
}
