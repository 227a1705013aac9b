package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net"
	"net/http"
	"net/url"
	"os"
	"runtime/pprof"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"text/tabwriter"
	"time"

	"github.com/hibiken/asynq"
	"github.com/jackc/pgx/v5"
	"github.com/redis/go-redis/v9"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/bot"
	"github.com/batonhq/baton/internal/app"
	"github.com/batonhq/baton/internal/channel"
	"github.com/batonhq/baton/internal/config"
	"github.com/batonhq/baton/internal/eval"
	"github.com/batonhq/baton/internal/postgres"
)

// writeCounter counts write transactions on Baton's pool: commits of transactions that wrote,
// and writes in autocommit mode (a batch outside a transaction is one implicit transaction).
type writeCounter struct {
	mu      sync.Mutex
	wrote   map[*pgx.Conn]bool
	writes  atomic.Int64
	queries atomic.Int64 // every statement, for the statements-per-message figure
}

func newWriteCounter() *writeCounter { return &writeCounter{wrote: map[*pgx.Conn]bool{}} }

func isWriteSQL(sql string) bool {
	s := strings.ToLower(strings.TrimSpace(sql))
	return strings.HasPrefix(s, "insert") || strings.HasPrefix(s, "update") || strings.HasPrefix(s, "delete") ||
		strings.HasPrefix(s, "with") && (strings.Contains(s, "insert") || strings.Contains(s, "update")) || strings.Contains(s, "pg_notify(")
}

type writeKey struct{}

func (w *writeCounter) TraceQueryStart(ctx context.Context, _ *pgx.Conn, d pgx.TraceQueryStartData) context.Context {
	w.queries.Add(1)
	return context.WithValue(ctx, writeKey{}, d.SQL)
}

func (w *writeCounter) TraceQueryEnd(ctx context.Context, conn *pgx.Conn, d pgx.TraceQueryEndData) {
	sql, _ := ctx.Value(writeKey{}).(string)
	w.after(conn, strings.EqualFold(strings.TrimSpace(sql), "commit"), isWriteSQL(sql) && d.Err == nil)
}

func (w *writeCounter) TraceBatchStart(ctx context.Context, _ *pgx.Conn, _ pgx.TraceBatchStartData) context.Context {
	return context.WithValue(ctx, writeKey{}, new(bool))
}

func (w *writeCounter) TraceBatchQuery(ctx context.Context, _ *pgx.Conn, d pgx.TraceBatchQueryData) {
	w.queries.Add(1)
	if p, ok := ctx.Value(writeKey{}).(*bool); ok && isWriteSQL(d.SQL) && d.Err == nil {
		*p = true
	}
}

func (w *writeCounter) TraceBatchEnd(ctx context.Context, conn *pgx.Conn, _ pgx.TraceBatchEndData) {
	p, _ := ctx.Value(writeKey{}).(*bool)
	w.after(conn, false, p != nil && *p)
}

func (w *writeCounter) after(conn *pgx.Conn, commit, write bool) {
	inTx := conn.PgConn().TxStatus() != 'I'
	w.mu.Lock()
	defer w.mu.Unlock()
	switch {
	case commit:
		if w.wrote[conn] {
			w.writes.Add(1)
		}
		delete(w.wrote, conn)
	case write && inTx:
		w.wrote[conn] = true
	case write:
		w.writes.Add(1)
	}
}

type benchPipelineResult struct {
	Messages            int     `json:"messages"`
	MaxMsgsPerSec       float64 `json:"max_msgs_per_sec"`
	P50Ms               float64 `json:"p50_ms"`
	P99Ms               float64 `json:"p99_ms"`
	P99MsAtHalfLoad     float64 `json:"p99_ms_at_half_load"`
	PgWriteTxPerMsg     float64 `json:"pg_write_tx_per_msg"`
	RedisCmdsPerMsg     float64 `json:"redis_cmds_per_msg"`
	AsynqNoopTasksPerSc float64 `json:"asynq_noop_tasks_per_sec"`
	Errors              int     `json:"errors"`
	BurstWindowMs       float64 `json:"burst_window_ms"`
	GapMs               float64 `json:"gap_ms"`
	RSSIdleMB           float64 `json:"rss_idle_mb"`
	RSSPeakMB           float64 `json:"rss_peak_mb"`
	BotP99Ms            float64 `json:"bot_p99_ms"` // p99 of the turns' decide_ms (the bot's own time) at half load
	Steps               []step  `json:"steps"`
}

type step struct {
	Rate        float64 `json:"rate"`
	Messages    int     `json:"messages"`
	Errors      int     `json:"errors"`
	Achieved    float64 `json:"achieved_msgs_per_sec"`
	P50Ms       float64 `json:"p50_ms"`
	P99Ms       float64 `json:"p99_ms"`
	WriteTxPer  float64 `json:"pg_write_tx_per_msg"`
	QueriesPer  float64 `json:"pg_statements_per_msg"`
	RedisPer    float64 `json:"redis_cmds_per_msg"`
	Sustainable bool    `json:"sustainable"`
}

func benchPipeline(ctx context.Context, args []string, stdout io.Writer) error {
	var (
		convs, msgs int
		gapS        string
		rate        float64
		asJSON      bool
		maxRate     float64
		keep        bool
		cpuProfile  string
		botName     string
	)
	cfg, _, err := loadConfig("bench pipeline", args, stdout, func(fs *flag.FlagSet) {
		fs.IntVar(&convs, "conversations", 200, "conversations per load step")
		fs.IntVar(&msgs, "messages", 5, "messages per conversation")
		fs.StringVar(&gapS, "gap", "2x", "spacing of one conversation's messages: a duration, or a multiple of the burst window like 2x (with window 0, 2x means 0)")
		fs.Float64Var(&rate, "rate", 0, "offered load in messages/s; 0 searches for the highest sustainable rate")
		fs.Float64Var(&maxRate, "max-rate", 3000, "upper bound of the search")
		fs.BoolVar(&asJSON, "json", false, "print JSON")
		fs.BoolVar(&keep, "keep-db", false, "keep the benchmark database for inspection (its name is printed)")
		fs.StringVar(&cpuProfile, "cpuprofile", "", "write a CPU profile of the whole run to this file")
		fs.StringVar(&botName, "bot", "minimal", "minimal (measures the pipeline) or full (the configured brain with the demo intents and help centre, FAQ-style questions)")
	})
	if err != nil {
		return err
	}
	if convs < 1 || msgs < 1 {
		return usageError{"bench pipeline: --conversations and --messages must be positive"}
	}
	if botName != "minimal" && botName != "full" {
		return usageError{"bench pipeline: --bot must be minimal or full"}
	}
	gap, err := parseGap(gapS, cfg.BurstWindow)
	if err != nil {
		return usageError{"bench pipeline: " + err.Error()}
	}
	progress := io.Writer(os.Stderr)
	if cpuProfile != "" {
		f, err := os.Create(cpuProfile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	b, err := newPipelineBench(ctx, cfg, keep, botName == "full")
	if err != nil {
		return err
	}
	defer b.close()
	res := benchPipelineResult{BurstWindowMs: ms(cfg.BurstWindow), GapMs: ms(gap)}
	time.Sleep(time.Second)
	res.RSSIdleMB = rssMB()
	idleRate, err := b.idleRedisRate(ctx, 3*time.Second)
	if err != nil {
		return err
	}
	rates := []float64{rate}
	if rate == 0 {
		rates = nil
		for r := 100.0; r <= maxRate; r *= 1.5 {
			rates = append(rates, math.Round(r))
		}
	}
	var best *step
	var lastGood step
	var halfTurns int64 // turn traces before the half-load run
	for i, r := range rates {
		st, err := b.run(ctx, fmt.Sprintf("s%d", i), r, convs, msgs, gap, idleRate)
		if err != nil {
			return err
		}
		res.RSSPeakMB = math.Max(res.RSSPeakMB, rssMB())
		fmt.Fprintf(progress, "bench: offered %.0f msg/s → achieved %.0f, p99 %.0f ms, errors %d, %.2f write tx/msg, %.1f statements/msg, %.1f redis cmds/msg, sustainable %v\n",
			st.Rate, st.Achieved, st.P99Ms, st.Errors, st.WriteTxPer, st.QueriesPer, st.RedisPer, st.Sustainable)
		res.Steps = append(res.Steps, st)
		if !st.Sustainable {
			break
		}
		lastGood = st
		best = &lastGood
	}
	if best != nil {
		res.MaxMsgsPerSec = best.Achieved
		res.PgWriteTxPerMsg = best.WriteTxPer
		res.RedisCmdsPerMsg = best.RedisPer
		// Latency at half the sustainable rate.
		// The bot's time is read at half load too: at saturation it would measure CPU queueing.
		if halfTurns, err = b.lastTurn(ctx); err != nil {
			return err
		}
		half, err := b.run(ctx, "half", best.Rate/2, convs, msgs, gap, idleRate)
		if err != nil {
			return err
		}
		res.P50Ms, res.P99Ms, res.P99MsAtHalfLoad = half.P50Ms, half.P99Ms, half.P99Ms
		res.Steps = append(res.Steps, half)
	}
	for _, s := range res.Steps {
		res.Messages += s.Messages
		res.Errors += s.Errors
	}
	if res.BotP99Ms, err = b.botP99(ctx, halfTurns); err != nil {
		return err
	}
	res.AsynqNoopTasksPerSc, err = asynqNoop(ctx, b.app.RedisOpt, cfg.QueuePrefix+"-noop", 20000)
	if err != nil {
		return err
	}
	if asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(res)
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "max sustainable\t%.0f msg/s\n", res.MaxMsgsPerSec)
	fmt.Fprintf(tw, "latency at half load (p50 / p99)\t%.0f / %.0f ms (burst window %s excluded)\n", res.P50Ms, res.P99Ms, cfg.BurstWindow)
	fmt.Fprintf(tw, "postgres write tx per message\t%.2f\n", res.PgWriteTxPerMsg)
	fmt.Fprintf(tw, "redis commands per message\t%.1f\n", res.RedisCmdsPerMsg)
	fmt.Fprintf(tw, "asynq no-op throughput\t%.0f tasks/s\n", res.AsynqNoopTasksPerSc)
	fmt.Fprintf(tw, "bot time per turn p99 (%s)\t%.1f ms\n", botName, res.BotP99Ms)
	fmt.Fprintf(tw, "errors\t%d of %d messages\n", res.Errors, res.Messages)
	fmt.Fprintf(tw, "RSS idle / peak\t%.0f / %.0f MB\n", res.RSSIdleMB, res.RSSPeakMB)
	return tw.Flush()
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

func parseGap(s string, window time.Duration) (time.Duration, error) {
	if f, ok := strings.CutSuffix(s, "x"); ok {
		m, err := strconv.ParseFloat(f, 64)
		if err != nil || m < 0 {
			return 0, fmt.Errorf("--gap %q: want a duration or a multiple like 2x", s)
		}
		return time.Duration(m * float64(window)), nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d < 0 {
		return 0, fmt.Errorf("--gap %q: want a duration or a multiple like 2x", s)
	}
	return d, nil
}

func rssMB() float64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if f, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, _ := strconv.ParseFloat(strings.Fields(f)[0], 64)
			return kb / 1024
		}
	}
	return 0
}

// pipelineBench is Baton running in this process on a fresh database, with a delivery sink.
type pipelineBench struct {
	app     *app.App
	writes  *writeCounter
	base    string
	secret  string
	window  time.Duration
	stop    func()
	dropDB  func()
	rdb     redis.UniversalClient
	client  *http.Client
	mu      sync.Mutex
	arrived map[int64][]time.Time // conversation → delivery times
	// questions are what customers ask, in turn (nil: "where is my order number N?").
	questions []string
}

// faqQuestions are what customers ask the full bot: the demo help centre answers them.
var faqQuestions = []string{
	"How long does standard delivery take?", "Do you ship to Switzerland?", "How can I track my parcel?",
	"How do I reset my password?", "What payment methods do you accept?", "Can I exchange shoes for another size?",
	"How long is the warranty on your products?", "Can I use two discount codes on one order?",
	"What does express delivery cost?", "How do I check my gift card balance?",
}

// text is message m of conversation c.
func (b *pipelineBench) text(c, m int) string {
	if b.questions == nil {
		return fmt.Sprintf("where is my order number %d?", m)
	}
	return b.questions[(c+m)%len(b.questions)]
}

// lastTurn is the id of the newest turn trace.
func (b *pipelineBench) lastTurn(ctx context.Context) (int64, error) {
	var id int64
	if err := b.app.DB.Pool.QueryRow(ctx, `SELECT coalesce(max(id), 0) FROM turn_traces`).Scan(&id); err != nil {
		return 0, fmt.Errorf("read turn traces: %w", err)
	}
	return id, nil
}

// botP99 is the p99 of the bot's own time per turn (decide_ms of the turn traces after id).
func (b *pipelineBench) botP99(ctx context.Context, after int64) (float64, error) {
	var p *float64
	err := b.app.DB.Pool.QueryRow(ctx, `SELECT percentile_disc(0.99) WITHIN GROUP (ORDER BY (data->>'decide_ms')::float8)
		FROM turn_traces WHERE id > $1 AND data ? 'decide_ms'`, after).Scan(&p)
	if err != nil {
		return 0, fmt.Errorf("read turn times: %w", err)
	}
	if p == nil {
		return 0, nil
	}
	return math.Round(*p*10) / 10, nil
}

func newPipelineBench(ctx context.Context, cfg *config.Config, keep, full bool) (*pipelineBench, error) {
	dbURL, drop, err := freshDatabase(ctx, cfg.DatabaseURL, "baton_bench")
	if err != nil {
		return nil, err
	}
	if keep {
		fmt.Fprintln(os.Stderr, "bench: keeping database", dbURL)
		drop = func() {}
	}
	b := &pipelineBench{writes: newWriteCounter(), secret: "bench-secret", window: cfg.BurstWindow, dropDB: drop,
		arrived: map[int64][]time.Time{}, client: &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 512}}}
	sinkLn, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		drop()
		return nil, err
	}
	sink := &http.Server{Handler: http.HandlerFunc(b.deliver)}
	go sink.Serve(sinkLn) //nolint:errcheck
	c := *cfg
	c.DatabaseURL, c.WebhookSecret, c.OutboundURL = dbURL, b.secret, "http://"+sinkLn.Addr().String()
	c.QueuePrefix = fmt.Sprintf("bench-%d", time.Now().UnixNano())
	log := slog.New(slog.NewJSONHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError}))
	// The minimal bot measures the pipeline, not the models; the full one is the configured brain.
	o := app.Options{Decider: bot.Minimal{}, Tracer: b.writes}
	if full {
		o.Decider = nil
		b.questions = faqQuestions
	}
	a, err := app.New(ctx, &c, log, o)
	if err != nil {
		drop()
		return nil, err
	}
	if full {
		if _, _, err := a.SeedDemo(ctx); err != nil {
			a.Close()
			drop()
			return nil, err
		}
	}
	b.app = a
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	b.base = "http://" + ln.Addr().String()
	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- a.Run(runCtx, ln) }()
	b.stop = func() {
		cancel()
		<-done
		sink.Close()
	}
	b.rdb = a.RedisOpt.MakeRedisClient().(redis.UniversalClient)
	return b, nil
}

func (b *pipelineBench) close() {
	b.stop()
	deleteQueues(b.app.RedisOpt, b.app.Queues.Chat, b.app.Queues.Background)
	b.rdb.Close()
	b.app.Close()
	b.dropDB()
}

func (b *pipelineBench) deliver(w http.ResponseWriter, r *http.Request) {
	var body channel.OutboundBody
	json.NewDecoder(r.Body).Decode(&body) //nolint:errcheck
	now := time.Now()
	b.mu.Lock()
	b.arrived[body.ConversationID] = append(b.arrived[body.ConversationID], now)
	b.mu.Unlock()
	w.WriteHeader(http.StatusOK)
}

func (b *pipelineBench) redisCalls(ctx context.Context) (int64, error) {
	info, err := b.rdb.Info(ctx, "commandstats").Result()
	if err != nil {
		return 0, fmt.Errorf("read redis commandstats: %w", err)
	}
	var total int64
	for _, line := range strings.Split(info, "\n") {
		if !strings.HasPrefix(line, "cmdstat_") || strings.HasPrefix(line, "cmdstat_info:") {
			continue
		}
		if i := strings.Index(line, "calls="); i >= 0 {
			f := line[i+6:]
			n, _ := strconv.ParseInt(f[:strings.IndexByte(f, ',')], 10, 64)
			total += n
		}
	}
	return total, nil
}

// idleRedisRate measures the Redis commands per second of an idle Baton (queue polling).
func (b *pipelineBench) idleRedisRate(ctx context.Context, d time.Duration) (float64, error) {
	before, err := b.redisCalls(ctx)
	if err != nil {
		return 0, err
	}
	time.Sleep(d)
	after, err := b.redisCalls(ctx)
	if err != nil {
		return 0, err
	}
	return float64(after-before) / d.Seconds(), nil
}

// run offers rate msg/s of convs×msgs messages, open loop, and waits for every reply.
func (b *pipelineBench) run(ctx context.Context, tag string, rate float64, convs, msgs int, gap time.Duration, idleRedis float64) (step, error) {
	type event struct {
		at        time.Duration
		conv, msg int
	}
	var events []event
	per := time.Duration(float64(msgs) / rate * float64(time.Second))
	for c := range convs {
		for m := range msgs {
			events = append(events, event{time.Duration(c)*per + time.Duration(m)*gap, c, m})
		}
	}
	// Spread messages of a conversation evenly when they would all land at once.
	sort.SliceStable(events, func(i, j int) bool { return events[i].at < events[j].at })
	writes0, queries0 := b.writes.writes.Load(), b.writes.queries.Load()
	redis0, err := b.redisCalls(ctx)
	if err != nil {
		return step{}, err
	}
	var (
		mu     sync.Mutex
		accept = map[int64][]time.Time{}
		errs   atomic.Int64
		wg     sync.WaitGroup
		sem    = make(chan struct{}, 512)
	)
	start := time.Now()
	for _, e := range events {
		if d := time.Until(start.Add(e.at)); d > 0 {
			time.Sleep(d)
		}
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			text, _ := json.Marshal(b.text(e.conv, e.msg))
			body := fmt.Sprintf(`{"sender":{"id":"%s-%d"},"message":{"id":"%s-%d-%d","text":%s}}`, tag, e.conv, tag, e.conv, e.msg, text)
			req, _ := http.NewRequestWithContext(ctx, http.MethodPost, b.base+"/v1/channels/webhook/messages", strings.NewReader(body))
			req.Header.Set(channel.SignatureHeader, channel.Sign(b.secret, []byte(body)))
			resp, err := b.client.Do(req)
			if err != nil {
				errs.Add(1)
				return
			}
			var res baton.IngestResult
			json.NewDecoder(resp.Body).Decode(&res) //nolint:errcheck
			resp.Body.Close()
			if resp.StatusCode != http.StatusAccepted {
				errs.Add(1)
				return
			}
			mu.Lock()
			accept[res.ConversationID] = append(accept[res.ConversationID], time.Now())
			mu.Unlock()
		}()
	}
	wg.Wait()
	offeredFor := time.Since(start)
	// Wait for replies: every conversation answered for its last message.
	deadline := time.Now().Add(30*time.Second + b.window)
	var lastDelivery time.Time
	for time.Now().Before(deadline) {
		done := true
		mu.Lock()
		b.mu.Lock()
		for conv, ts := range accept {
			got := b.arrived[conv]
			if len(got) == 0 || got[len(got)-1].Before(ts[len(ts)-1]) {
				done = false
				break
			}
		}
		b.mu.Unlock()
		mu.Unlock()
		if done {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	elapsed := time.Since(start)
	writes := b.writes.writes.Load() - writes0
	redis1, err := b.redisCalls(ctx)
	if err != nil {
		return step{}, err
	}
	// Latency: for each reply, from the newest message it answered (minus the window).
	var lats []float64
	unanswered := 0
	b.mu.Lock()
	for conv, ts := range accept {
		got := b.arrived[conv]
		i := 0
		for _, d := range got {
			if d.After(lastDelivery) {
				lastDelivery = d
			}
			var newest time.Time
			for i < len(ts) && !ts[i].After(d) {
				newest = ts[i]
				i++
			}
			if !newest.IsZero() {
				lats = append(lats, ms(d.Sub(newest)-b.window))
			}
		}
		if i < len(ts) {
			unanswered++
		}
		delete(b.arrived, conv)
	}
	b.mu.Unlock()
	n := convs * msgs
	st := step{Rate: rate, Messages: n, Errors: int(errs.Load()) + unanswered}
	// The schedule's own rate (the gap stretches the tail of short runs), and what was achieved:
	// messages answered per second from the first send to the last delivery.
	schedule := events[len(events)-1].at.Seconds()
	st.Rate = math.Round(float64(n) / math.Max(schedule, 1e-3))
	st.Achieved = math.Round(float64(n-st.Errors) / math.Max(offeredFor.Seconds(), lastDelivery.Sub(start).Seconds()))
	st.P50Ms, st.P99Ms = eval.Percentile(lats, 50), eval.Percentile(lats, 99)
	st.WriteTxPer = float64(writes) / float64(n)
	st.QueriesPer = float64(b.writes.queries.Load()-queries0) / float64(n)
	st.RedisPer = (float64(redis1-redis0) - idleRedis*elapsed.Seconds()) / float64(n)
	// Sustainable: under 0.1 % errors, kept up with the offered rate, and bounded lag.
	st.Sustainable = float64(st.Errors) < 0.001*float64(n) && st.Achieved >= 0.9*st.Rate && st.P99Ms < 1000
	return st, nil
}

// asynqNoop measures plain asynq throughput with a no-op handler on the same Redis.
func asynqNoop(ctx context.Context, opt asynq.RedisConnOpt, queue string, n int) (float64, error) {
	client := asynq.NewClient(opt)
	defer client.Close()
	defer deleteQueues(opt, queue)
	for i := 0; i < n; i++ {
		if _, err := client.EnqueueContext(ctx, asynq.NewTask("noop", nil), asynq.Queue(queue)); err != nil {
			return 0, fmt.Errorf("enqueue no-op: %w", err)
		}
	}
	var done atomic.Int64
	finished := make(chan struct{})
	srv := asynq.NewServer(opt, asynq.Config{Concurrency: 64, Queues: map[string]int{queue: 1},
		TaskCheckInterval: 10 * time.Millisecond, LogLevel: asynq.ErrorLevel})
	start := time.Now()
	err := srv.Start(asynq.HandlerFunc(func(context.Context, *asynq.Task) error {
		if done.Add(1) == int64(n) {
			close(finished)
		}
		return nil
	}))
	if err != nil {
		return 0, fmt.Errorf("start no-op server: %w", err)
	}
	select {
	case <-finished:
	case <-time.After(2 * time.Minute):
	}
	elapsed := time.Since(start)
	srv.Shutdown()
	return math.Round(float64(done.Load()) / elapsed.Seconds()), nil
}

func deleteQueues(opt asynq.RedisConnOpt, queues ...string) {
	insp := asynq.NewInspector(opt)
	defer insp.Close()
	for _, q := range queues {
		insp.DeleteQueue(q, true) //nolint:errcheck
	}
}

// freshDatabase creates and migrates a new database on the server of dbURL; drop removes it.
func freshDatabase(ctx context.Context, dbURL, prefix string) (string, func(), error) {
	u, err := url.Parse(dbURL)
	if err != nil {
		return "", nil, fmt.Errorf("parse BATON_DATABASE_URL: %w", err)
	}
	name := fmt.Sprintf("%s_%d", prefix, time.Now().UnixNano())
	// pool_* parameters are pgxpool's; plain connections refuse them.
	plain := *u
	q := plain.Query()
	for k := range q {
		if strings.HasPrefix(k, "pool_") {
			q.Del(k)
		}
	}
	plain.RawQuery = q.Encode()
	admin := plain
	admin.Path = "/postgres"
	conn, err := pgx.Connect(ctx, admin.String())
	if err != nil {
		return "", nil, fmt.Errorf("connect to the postgres maintenance database: %w", err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		return "", nil, fmt.Errorf("create database %s: %w", name, err)
	}
	drop := func() {
		c, err := pgx.Connect(context.Background(), admin.String())
		if err != nil {
			return
		}
		defer c.Close(context.Background())
		c.Exec(context.Background(), "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)") //nolint:errcheck
	}
	fresh := *u
	fresh.Path = "/" + name
	plainFresh := plain
	plainFresh.Path = "/" + name
	mc, err := pgx.Connect(ctx, plainFresh.String())
	if err != nil {
		drop()
		return "", nil, err
	}
	_, err = postgres.Migrate(ctx, mc, nil)
	mc.Close(ctx)
	if err != nil {
		drop()
		return "", nil, err
	}
	return fresh.String(), drop, nil
}
