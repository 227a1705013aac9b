package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"github.com/batonhq/baton/pii"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/internal/app"
	"github.com/batonhq/baton/internal/channel"
	"github.com/batonhq/baton/internal/postgres"
)

// demoStep is one customer message of the scripted conversation; messages with pause 0 after
// the previous one form a burst.
type demoStep struct {
	sender, name, text string
	pause              time.Duration
}

func demoScript(window time.Duration) []demoStep {
	burst := window / 4
	return []demoStep{
		{"demo-ana", "Ana Lima", "Hi! How long does shipping to Germany take?", 0},
		{"demo-ana", "Ana Lima", "Also — can I return shoes that don't fit?", 0},
		{"demo-ben", "Ben Okafor", "hello", 0},
		{"demo-ben", "Ben Okafor", "my order still hasn't arrived", burst},
		{"demo-ben", "Ben Okafor", "it's been 10 days!!", burst},
	}
}

func cmdDemo(ctx context.Context, args []string, stdout io.Writer) error {
	var once bool
	cfg, _, err := loadConfig("demo", args, stdout, func(fs *flag.FlagSet) {
		fs.BoolVar(&once, "once", false, "exit after printing the transcript instead of serving")
	})
	if err != nil {
		return err
	}
	log := newLogger(cfg, os.Stderr)
	if cfg.LogLevel == "info" {
		log = slog.New(pii.LogHandler(slog.NewJSONHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})))
	}
	if cfg.WebhookSecret == "" {
		cfg.WebhookSecret = "demo-secret"
	}
	// 1. Migrate.
	conn, err := pgx.Connect(ctx, cfg.DatabaseURL)
	if err != nil {
		return fmt.Errorf("connect to BATON_DATABASE_URL (run scripts/setup.sh first): %w", err)
	}
	_, err = postgres.Migrate(ctx, conn, nil)
	conn.Close(ctx)
	if err != nil {
		return err
	}
	// 2. A local delivery sink stands in for the customer's channel.
	sink := &demoSink{}
	if cfg.OutboundURL == "" {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return fmt.Errorf("start the demo delivery sink: %w", err)
		}
		srv := &http.Server{Handler: sink, ReadHeaderTimeout: 5 * time.Second}
		go srv.Serve(ln) //nolint:errcheck
		defer srv.Close()
		cfg.OutboundURL = "http://" + ln.Addr().String() + "/deliveries"
	}
	a, err := app.New(ctx, cfg, log, app.Options{})
	if err != nil {
		return err
	}
	defer a.Close()
	// 3. Seed.
	token, err := demoUser(ctx, a.DB, "admin@demo.baton", baton.RoleAdmin, "")
	if err != nil {
		return err
	}
	agentToken, err := demoUser(ctx, a.DB, "agent@demo.baton", baton.RoleAgent, "support")
	if err != nil {
		return err
	}
	added, sum, err := a.SeedDemo(ctx)
	if err != nil {
		return err
	}
	if added > 0 {
		fmt.Fprintf(stdout, "Seeded %d web-shop intents.\n", added)
	}
	fmt.Fprintf(stdout, "Help centre: %d articles added, %d updated, %d unchanged.\n", sum.Added, sum.Updated, sum.Unchanged)
	// 4. Serve.
	ln, err := net.Listen("tcp", cfg.HTTPAddr)
	if err != nil {
		return fmt.Errorf("listen on BATON_HTTP_ADDR %s: %w", cfg.HTTPAddr, err)
	}
	runCtx, stop := context.WithCancel(ctx)
	defer stop()
	done := make(chan error, 1)
	go func() { done <- a.Run(runCtx, ln) }()
	base := "http://" + ln.Addr().String()
	fmt.Fprintf(stdout, "\nBaton is running.\n  API:        %s/v1/conversations\n  Health:     %s/readyz\n  Metrics:    %s/metrics\n  Webhook:    POST %s/v1/channels/webhook/messages (secret %q)\n  Admin token: %s\n  Agent token: %s\n",
		base, base, base, base, cfg.WebhookSecret, token, agentToken)
	// Sign-in links: the page exchanges the token in the fragment (never sent to the server)
	// for a session cookie and drops it from the address bar.
	fmt.Fprintf(stdout, "\nOpen in a browser (the links sign you in):\n  Customer chat: %s/chat\n  Agent inbox:   %s/agent#token=%s\n  Admin console: %s/admin#token=%s\n",
		base, base, agentToken, base, token)
	// 5. Replay the scripted conversation through the real pipeline.
	if err := replay(ctx, stdout, base, cfg.WebhookSecret, cfg.BurstWindow, a, sink); err != nil {
		stop()
		<-done
		return err
	}
	if once {
		stop()
		return <-done
	}
	fmt.Fprintf(stdout, "\nTry it:\n  curl -s -H 'Authorization: Bearer %s' %s/v1/conversations | head -c 600\n", token, base)
	fmt.Fprintf(stdout, "  Customer chat: %s/chat\n  Agent inbox:   %s/agent#token=%s\n  Admin console: %s/admin#token=%s\nCtrl-C stops Baton.\n",
		base, base, agentToken, base, token)
	err = <-done
	if errors.Is(err, context.Canceled) {
		return nil
	}
	return err
}

// demoUser creates the demo user once and issues a fresh token on every run.
func demoUser(ctx context.Context, db *postgres.DB, email string, role baton.Role, team string) (string, error) {
	var teams []string
	if team != "" {
		teams = []string{team}
	}
	_, token, err := db.CreateUser(ctx, 0, baton.NewUser{Email: email, Name: strings.Split(email, "@")[0], Role: role, Teams: teams})
	if errors.Is(err, baton.ErrConflict) {
		return db.IssueToken(ctx, email)
	}
	return token, err
}

func replay(ctx context.Context, stdout io.Writer, base, secret string, window time.Duration, a *app.App, sink *demoSink) error {
	fmt.Fprintf(stdout, "\nReplaying a scripted conversation (burst window %s):\n\n", window)
	run := time.Now().UnixNano()
	// A rerun closes the previous demo's episodes, so customers come back as returning customers.
	for _, s := range demoScript(window) {
		if id, err := a.DB.ConversationOf(ctx, "webhook", s.sender); err == nil {
			a.DB.Resolve(ctx, 0, id) //nolint:errcheck
		}
	}
	convs := map[string]int64{}
	var order []string
	for i, s := range demoScript(window) {
		time.Sleep(s.pause)
		var m webhookBody
		m.Sender = baton.Sender{ID: s.sender, Name: s.name}
		m.Message.ID, m.Message.Text = fmt.Sprintf("demo-%d-%d", run, i), s.text
		raw, _ := json.Marshal(m)
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, base+"/v1/channels/webhook/messages", strings.NewReader(string(raw)))
		req.Header.Set(channel.SignatureHeader, channel.Sign(secret, raw))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return fmt.Errorf("post demo message: %w", err)
		}
		var res baton.IngestResult
		json.NewDecoder(resp.Body).Decode(&res) //nolint:errcheck
		resp.Body.Close()
		if resp.StatusCode != http.StatusAccepted {
			return fmt.Errorf("post demo message: status %d", resp.StatusCode)
		}
		if _, ok := convs[s.sender]; !ok {
			order = append(order, s.sender)
		}
		convs[s.sender] = res.ConversationID
	}
	// Wait until every customer message is answered and delivered.
	deadline := time.Now().Add(30*time.Second + window)
	for time.Now().Before(deadline) {
		var open int
		a.DB.Pool.QueryRow(ctx, `SELECT count(*) FROM messages m WHERE m.conversation_id = ANY($1) AND
			((m.author = 'customer' AND m.processed_at IS NULL) OR m.delivery_state IN ('pending', 'sending'))`, values(convs)).Scan(&open) //nolint:errcheck
		if open == 0 {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	for _, sender := range order {
		c, err := a.DB.Conversation(ctx, convs[sender])
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "── conversation %d with %s (episode %d, status %s)\n", c.ID, c.Customer.Name, c.Episode, c.Status)
		for _, m := range c.Messages {
			if m.CreatedAt.Before(time.Unix(0, run)) {
				continue // earlier demo runs
			}
			who := string(m.Author)
			if m.Author == baton.AuthorCustomer {
				who = c.Customer.Name
			}
			line := fmt.Sprintf("  %-10s %s", who+":", strings.ReplaceAll(strings.ReplaceAll(m.Text, "\n\n", "\n"), "\n", "\n             "))
			if m.Delivery != nil {
				line += fmt.Sprintf("   [%s]", m.Delivery.State)
			}
			fmt.Fprintln(stdout, line)
			for _, cit := range m.Citations {
				fmt.Fprintf(stdout, "             ↳ source: %s %s\n", cit.Title, cit.URL)
			}
			if in, ok := m.Meta["intent"]; ok && m.Author == baton.AuthorCustomer {
				sent, _ := m.Meta["sentiment"].(map[string]any)
				fmt.Fprintf(stdout, "             (intent %v, sentiment %v %.2f)\n", in, sent["label"], sent["score"])
			}
		}
		fmt.Fprintln(stdout)
	}
	fmt.Fprintf(stdout, "Delivery sink received %d replies.\n", sink.count())
	return nil
}

type webhookBody struct {
	Sender  baton.Sender `json:"sender"`
	Message struct {
		ID   string `json:"id"`
		Text string `json:"text"`
	} `json:"message"`
}

func values(m map[string]int64) []int64 {
	out := make([]int64, 0, len(m))
	for _, v := range m {
		out = append(out, v)
	}
	return out
}

// demoSink receives deliveries for the demo.
type demoSink struct {
	mu sync.Mutex
	n  int
}

func (s *demoSink) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	io.Copy(io.Discard, r.Body) //nolint:errcheck
	s.mu.Lock()
	s.n++
	s.mu.Unlock()
	w.WriteHeader(http.StatusOK)
}

func (s *demoSink) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.n
}
