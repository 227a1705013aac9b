package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/bot"
	"github.com/batonhq/baton/internal/app"
	"github.com/batonhq/baton/internal/channel"
	"github.com/batonhq/baton/internal/config"
	"github.com/batonhq/baton/internal/dbtest"
)

const testSecret = "test-secret"

// sink is a local delivery endpoint that records what Baton sends.
type sink struct {
	srv *httptest.Server
	mu  sync.Mutex
	got []delivered
	// respond decides the status of each request (nil = 200).
	respond func(n int, body channel.OutboundBody) int
	n       int
}

type delivered struct {
	Body           channel.OutboundBody
	IdempotencyKey string
	SignatureOK    bool
	At             time.Time
}

func newSink(t testing.TB) *sink {
	s := &sink{}
	s.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		raw, _ := io.ReadAll(r.Body)
		var b channel.OutboundBody
		if err := json.Unmarshal(raw, &b); err != nil {
			http.Error(w, "bad json", 400)
			return
		}
		s.mu.Lock()
		s.n++
		status := 200
		if s.respond != nil {
			status = s.respond(s.n, b)
		}
		if status < 300 {
			s.got = append(s.got, delivered{Body: b, IdempotencyKey: r.Header.Get("Idempotency-Key"),
				SignatureOK: channel.Verify([]string{testSecret}, raw, r.Header.Get(channel.SignatureHeader)), At: time.Now()})
		}
		s.mu.Unlock()
		w.WriteHeader(status)
	}))
	t.Cleanup(s.srv.Close)
	return s
}

func (s *sink) deliveries() []delivered {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]delivered(nil), s.got...)
}

// forConversation returns the deliveries of one conversation.
func (s *sink) forConversation(id int64) []delivered {
	var out []delivered
	for _, d := range s.deliveries() {
		if d.Body.ConversationID == id {
			out = append(out, d)
		}
	}
	return out
}

// testBaton is a running Baton (HTTP + workers) on a private database and private queues.
type testBaton struct {
	*app.App
	URL    string
	sink   *sink
	cancel context.CancelFunc
	done   chan error
	dbURL  string
}

type testOptions struct {
	window   time.Duration
	leaseTTL time.Duration
	redisURL string
	brain    bot.Decider // nil: bot.Minimal, which answers every turn (pipeline tests)
	realBot  bool        // use the configured brain instead
	noWork   bool        // HTTP only, no workers
	// leaseTurns claims a lease before each turn (the LLM path) instead of committing optimistically.
	leaseTurns bool
	env        map[string]string
}

func testConfig(t testing.TB, dbURL string, o testOptions, sinkURL string) *config.Config {
	t.Helper()
	redisURL := o.redisURL
	if redisURL == "" {
		redisURL = dbtest.RedisURL()
	}
	env := map[string]string{
		"BATON_DATABASE_URL":   dbURL,
		"BATON_REDIS_URL":      redisURL,
		"BATON_QUEUE_PREFIX":   dbtest.QueuePrefix(t, redisURL),
		"BATON_WEBHOOK_SECRET": testSecret,
		"BATON_OUTBOUND_URL":   sinkURL,
		"BATON_BURST_WINDOW":   o.window.String(),
		"BATON_LOG_LEVEL":      "warn",
		"BATON_SHUTDOWN_GRACE": "2s",
	}
	if o.leaseTTL > 0 {
		env["BATON_LEASE_TTL"] = o.leaseTTL.String()
	}
	if o.leaseTurns {
		env["BATON_TURN_LEASE"] = "always"
	}
	for k, v := range o.env {
		env[k] = v
	}
	fs := flag.NewFlagSet("test", flag.ContinueOnError)
	cfg, _, err := config.Load(fs, nil, func(k string) string { return env[k] })
	if err != nil {
		t.Fatalf("config: %v", err)
	}
	return cfg
}

func startBaton(t testing.TB, o testOptions) *testBaton {
	t.Helper()
	db := dbtest.New(t)
	return startBatonOn(t, db.URL, o, newSink(t))
}

func startBatonOn(t testing.TB, dbURL string, o testOptions, snk *sink) *testBaton {
	t.Helper()
	cfg := testConfig(t, dbURL, o, snk.srv.URL)
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	ctx, cancel := context.WithCancel(context.Background())
	brain := o.brain
	if brain == nil && !o.realBot {
		brain = bot.Minimal{}
	}
	a, err := app.New(ctx, cfg, log, app.Options{Decider: brain})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	tb := &testBaton{App: a, URL: "http://" + ln.Addr().String(), sink: snk, cancel: cancel, done: make(chan error, 1), dbURL: dbURL}
	go func() {
		if o.noWork {
			tb.done <- a.Serve(ctx, ln)
		} else {
			tb.done <- a.Run(ctx, ln)
		}
	}()
	t.Cleanup(tb.stop)
	return tb
}

func (tb *testBaton) stop() {
	if tb.cancel == nil {
		return
	}
	tb.cancel()
	select {
	case <-tb.done:
	case <-time.After(10 * time.Second):
	}
	tb.cancel = nil
	tb.App.Close()
}

type webhookMsg struct {
	Sender  baton.Sender `json:"sender"`
	Message struct {
		ID     string     `json:"id"`
		Text   string     `json:"text"`
		SentAt *time.Time `json:"sent_at,omitempty"`
	} `json:"message"`
}

func msg(sender, name, id, text string) webhookMsg {
	var m webhookMsg
	m.Sender = baton.Sender{ID: sender, Name: name}
	m.Message.ID, m.Message.Text = id, text
	return m
}

// post sends a signed webhook and returns the status and decoded body.
func (tb *testBaton) post(t testing.TB, m any) (int, map[string]any) {
	t.Helper()
	raw, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return tb.postRaw(t, raw, channel.Sign(testSecret, raw))
}

func (tb *testBaton) postRaw(t testing.TB, raw []byte, sig string) (int, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, tb.URL+"/v1/channels/webhook/messages", bytes.NewReader(raw))
	req.Header.Set("Content-Type", "application/json")
	if sig != "" {
		req.Header.Set(channel.SignatureHeader, sig)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("post webhook: %v", err)
	}
	defer resp.Body.Close()
	var out map[string]any
	json.NewDecoder(resp.Body).Decode(&out) //nolint:errcheck
	return resp.StatusCode, out
}

func id(v any) int64 {
	f, _ := v.(float64)
	return int64(f)
}

// waitFor polls cond until it holds or the timeout passes.
func waitFor(t testing.TB, timeout time.Duration, what string, cond func() bool) {
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

// count runs a count(*) query on the test database.
func (tb *testBaton) count(t testing.TB, q string, args ...any) int {
	t.Helper()
	var n int
	if err := tb.DB.Pool.QueryRow(context.Background(), q, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return n
}

var _ = fmt.Sprint

func httpPost(url string, body []byte) (int, error) {
	resp, err := http.Post(url, "application/json", bytes.NewReader(body))
	if err != nil {
		return 0, err
	}
	resp.Body.Close()
	return resp.StatusCode, nil
}
