package sandbox

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/internal/app"
	"github.com/batonhq/baton/internal/channel"
	"github.com/batonhq/baton/internal/config"
)

// Baton is Baton running in this process (HTTP on a loopback port, and the workers unless
// told not to), delivering to a Sink.
type Baton struct {
	*app.App
	URL    string // base URL of the HTTP server
	Sink   *Sink
	Secret string // the webhook secret inbound messages are signed with

	cancel context.CancelFunc
	done   chan error
}

// Run builds the app for cfg and runs it; cfg.OutboundURL should point at sink. Stop ends it.
func Run(ctx context.Context, cfg *config.Config, log *slog.Logger, o app.Options, sink *Sink, work bool) (*Baton, error) {
	a, err := app.New(ctx, cfg, log, o)
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		a.Close()
		return nil, fmt.Errorf("listen: %w", err)
	}
	runCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	b := &Baton{App: a, URL: "http://" + ln.Addr().String(), Sink: sink, Secret: cfg.WebhookSecret,
		cancel: cancel, done: make(chan error, 1)}
	go func() {
		if work {
			b.done <- a.Run(runCtx, ln)
		} else {
			b.done <- a.Serve(runCtx, ln)
		}
	}()
	return b, nil
}

// Stop stops the server and the workers (waiting up to 10 s) and closes the pools. It is safe
// to call twice.
func (b *Baton) Stop() {
	if b.cancel == nil {
		return
	}
	b.cancel()
	select {
	case <-b.done:
	case <-time.After(10 * time.Second):
	}
	b.cancel = nil
	b.App.Close()
}

// Webhook is the body of an inbound message on the generic webhook channel.
type Webhook struct {
	Sender  baton.Sender `json:"sender"`
	Message struct {
		ID     string     `json:"id"`
		Text   string     `json:"text"`
		SentAt *time.Time `json:"sent_at,omitempty"`
	} `json:"message"`
}

// Message builds a webhook message.
func Message(sender baton.Sender, id, text string) Webhook {
	var m Webhook
	m.Sender = sender
	m.Message.ID, m.Message.Text = id, text
	return m
}

// Post sends m (any JSON body) as a signed webhook and returns the status and decoded body.
func (b *Baton) Post(ctx context.Context, m any) (int, map[string]any, error) {
	raw, err := json.Marshal(m)
	if err != nil {
		return 0, nil, fmt.Errorf("encode webhook: %w", err)
	}
	return b.PostRaw(ctx, raw, channel.Sign(b.Secret, raw))
}

// PostRaw sends raw bytes with the given signature header (none when empty).
func (b *Baton) PostRaw(ctx context.Context, raw []byte, sig string) (int, map[string]any, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, b.URL+"/v1/channels/webhook/messages", bytes.NewReader(raw))
	if err != nil {
		return 0, nil, fmt.Errorf("build webhook request: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	if sig != "" {
		req.Header.Set(channel.SignatureHeader, sig)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, nil, fmt.Errorf("post webhook: %w", err)
	}
	defer resp.Body.Close()
	var out map[string]any
	json.NewDecoder(resp.Body).Decode(&out) //nolint:errcheck // error bodies may be empty
	return resp.StatusCode, out, nil
}

// Send posts one customer message and returns what ingest stored.
func (b *Baton) Send(ctx context.Context, sender baton.Sender, id, text string) (baton.IngestResult, error) {
	status, body, err := b.Post(ctx, Message(sender, id, text))
	if err != nil {
		return baton.IngestResult{}, err
	}
	if status != http.StatusAccepted && status != http.StatusOK {
		return baton.IngestResult{}, fmt.Errorf("post webhook: status %d: %v", status, body)
	}
	conv, _ := body["conversation_id"].(float64)
	msg, _ := body["message_id"].(float64)
	return baton.IngestResult{ConversationID: int64(conv), MessageID: int64(msg), Duplicate: status == http.StatusOK}, nil
}
