// Package testkit runs Baton end to end inside any package's tests: the real app (HTTP,
// workers, relay, sweeper) on a private database (internal/dbtest) and private asynq queues,
// delivering to a recording sink, with an injected clock that tests can move.
//
//	b := testkit.Start(t, testkit.Options{RealBot: true})
//	status, body := b.Post(t, testkit.Message("cust-1", "Ana", "m-1", "hello"))
//	testkit.WaitFor(t, 10*time.Second, "a reply", func() bool { return len(b.DeliveriesTo(conv)) == 1 })
package testkit

import (
	"context"
	"encoding/json"
	"flag"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/bot"
	"github.com/batonhq/baton/internal/app"
	"github.com/batonhq/baton/internal/config"
	"github.com/batonhq/baton/internal/dbtest"
	"github.com/batonhq/baton/internal/sandbox"
)

// Secret signs inbound webhooks and outbound deliveries in tests.
const Secret = "test-secret"

// Options choose what runs. The zero value is the pipeline with the minimal bot, a burst
// window of 0 and an OffsetClock.
type Options struct {
	Window     time.Duration // burst window
	LeaseTTL   time.Duration // 0 = the default
	RedisURL   string        // "" = dbtest.RedisURL()
	Decider    bot.Decider   // nil: bot.Minimal, which answers every turn (pipeline tests)
	RealBot    bool          // use the configured brain instead
	NoWork     bool          // HTTP only, no workers
	LeaseTurns bool          // claim a lease before each turn (the LLM path) instead of committing optimistically
	Env        map[string]string
	// Clock rules stored times; nil = a fresh OffsetClock (Baton.Clock).
	Clock baton.Clock
	// DatabaseURL shares a database between two Batons (two processes); "" = a fresh one.
	DatabaseURL string
	// Sink shares a delivery sink; nil = a fresh one.
	Sink *sandbox.Sink
	// Seed loads the demo intents and the demo help centre before the first message.
	Seed bool
}

// Baton is a running Baton of one test.
type Baton struct {
	*sandbox.Baton
	Clock baton.Clock
	DBURL string
}

// Config builds the configuration of a test Baton.
func Config(t testing.TB, dbURL string, o Options, sinkURL string) *config.Config {
	t.Helper()
	redisURL := o.RedisURL
	if redisURL == "" {
		redisURL = dbtest.RedisURL()
	}
	env := map[string]string{
		"BATON_DATABASE_URL":   dbURL,
		"BATON_REDIS_URL":      redisURL,
		"BATON_QUEUE_PREFIX":   dbtest.QueuePrefix(t, redisURL),
		"BATON_WEBHOOK_SECRET": Secret,
		"BATON_OUTBOUND_URL":   sinkURL,
		"BATON_BURST_WINDOW":   o.Window.String(),
		"BATON_LOG_LEVEL":      "warn",
		"BATON_SHUTDOWN_GRACE": "2s",
	}
	if o.LeaseTTL > 0 {
		env["BATON_LEASE_TTL"] = o.LeaseTTL.String()
	}
	if o.LeaseTurns {
		env["BATON_TURN_LEASE"] = "always"
	}
	for k, v := range o.Env {
		env[k] = v
	}
	fs := flag.NewFlagSet("test", flag.ContinueOnError)
	cfg, _, err := config.Load(fs, nil, func(k string) string { return env[k] })
	if err != nil {
		t.Fatalf("testkit: config: %v", err)
	}
	return cfg
}

// defaults is the configuration from defaults alone (the seed's embedding settings).
func defaults(t testing.TB) *config.Config {
	t.Helper()
	cfg, _, err := config.Load(flag.NewFlagSet("defaults", flag.ContinueOnError), nil, func(string) string { return "" })
	if err != nil {
		t.Fatalf("testkit: default config: %v", err)
	}
	return cfg
}

// Advance moves the Baton's clock forward (an OffsetClock or a ManualClock).
func (b *Baton) Advance(t testing.TB, d time.Duration) {
	t.Helper()
	c, ok := b.Clock.(interface{ Advance(time.Duration) })
	if !ok {
		t.Fatalf("testkit: the clock %T cannot be advanced", b.Clock)
	}
	c.Advance(d)
}

// NewSink starts a delivery sink that stops when t ends.
func NewSink(t testing.TB) *sandbox.Sink {
	t.Helper()
	s, err := sandbox.NewSink(Secret)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return s
}

// Logger logs warnings and errors to stderr.
func Logger() *slog.Logger {
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
}

// Start runs Baton for t; it stops when t ends.
func Start(t testing.TB, o Options) *Baton {
	t.Helper()
	seedInPlace := o.Seed
	if o.DatabaseURL == "" {
		if o.Seed && seedable(o.Env) {
			o.DatabaseURL = seededDatabase(t, defaults(t))
			seedInPlace = false
		} else {
			o.DatabaseURL = dbtest.New(t).URL
		}
	}
	if o.Sink == nil {
		o.Sink = NewSink(t)
	}
	if o.Clock == nil {
		o.Clock = baton.NewOffsetClock(0)
	}
	if o.Decider == nil && !o.RealBot {
		o.Decider = bot.Minimal{}
	}
	cfg := Config(t, o.DatabaseURL, o, o.Sink.URL)
	ctx := context.Background()
	if seedInPlace {
		// Seed before the workers run, so the first turn sees the demo intents.
		a, err := app.New(ctx, cfg, Logger(), app.Options{Clock: o.Clock, Decider: bot.Minimal{}})
		if err != nil {
			t.Fatalf("testkit: %v", err)
		}
		_, _, err = a.SeedDemo(ctx)
		a.Close()
		if err != nil {
			t.Fatalf("testkit: %v", err)
		}
	}
	sb, err := sandbox.Run(ctx, cfg, Logger(), app.Options{Clock: o.Clock, Decider: o.Decider}, o.Sink, !o.NoWork)
	if err != nil {
		t.Fatalf("testkit: %v", err)
	}
	t.Cleanup(sb.Stop)
	return &Baton{Baton: sb, Clock: o.Clock, DBURL: o.DatabaseURL}
}

// Message builds a webhook message from customer sender.
func Message(sender, name, id, text string) sandbox.Webhook {
	return sandbox.Message(baton.Sender{ID: sender, Name: name}, id, text)
}

// Post sends a signed webhook and returns the status and decoded body.
func (b *Baton) Post(t testing.TB, m any) (int, map[string]any) {
	t.Helper()
	status, body, err := b.Baton.Post(context.Background(), m)
	if err != nil {
		t.Fatal(err)
	}
	return status, body
}

// PostRaw sends raw bytes with a signature header (none when sig is "").
func (b *Baton) PostRaw(t testing.TB, raw []byte, sig string) (int, map[string]any) {
	t.Helper()
	status, body, err := b.Baton.PostRaw(context.Background(), raw, sig)
	if err != nil {
		t.Fatal(err)
	}
	return status, body
}

// ID reads a JSON number as an id.
func ID(v any) int64 {
	f, _ := v.(float64)
	return int64(f)
}

// WaitFor polls cond until it holds, failing t after timeout.
func WaitFor(t testing.TB, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		if cond() {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("timed out after %s waiting for %s", timeout, what)
}

// Count runs a count(*) query on the test database.
func (b *Baton) Count(t testing.TB, q string, args ...any) int {
	t.Helper()
	var n int
	if err := b.DB.Pool.QueryRow(context.Background(), q, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return n
}

// Deliveries returns every reply the sink accepted.
func (b *Baton) Deliveries() []sandbox.Delivery { return b.Sink.Deliveries() }

// DeliveriesTo returns the replies of one conversation.
func (b *Baton) DeliveriesTo(conversationID int64) []sandbox.Delivery {
	return b.Sink.For(conversationID)
}

// API calls the agent/admin API with a bearer token.
func (b *Baton) API(t testing.TB, method, path, token string, body any) (int, map[string]any) {
	t.Helper()
	var rd *strings.Reader
	if body != nil {
		raw, _ := json.Marshal(body)
		rd = strings.NewReader(string(raw))
	} else {
		rd = strings.NewReader("")
	}
	req, _ := http.NewRequest(method, b.URL+path, rd)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	var out map[string]any
	json.NewDecoder(resp.Body).Decode(&out) //nolint:errcheck
	return resp.StatusCode, out
}

// AdminToken creates an admin and returns its API token.
func (b *Baton) AdminToken(t testing.TB) string {
	t.Helper()
	_, token, err := b.DB.CreateUser(context.Background(), 0, baton.NewUser{Email: "admin@test.io", Role: baton.RoleAdmin})
	if err != nil {
		t.Fatal(err)
	}
	return token
}
