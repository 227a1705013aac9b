package sandbox

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/batonhq/baton/internal/channel"
)

// Delivery is one reply the sink received.
type Delivery struct {
	Body           channel.OutboundBody
	IdempotencyKey string
	SignatureOK    bool
	At             time.Time
}

// Sink is an in-process delivery endpoint that records what Baton sends, so that replies of a
// sandbox never reach a real channel.
type Sink struct {
	URL    string
	secret string
	srv    *http.Server

	mu      sync.Mutex
	got     []Delivery
	n       int
	respond func(n int, body channel.OutboundBody) int
	notify  chan struct{}
}

// NewSink starts a sink on a loopback port; secret checks the deliveries' signatures.
func NewSink(secret string) (*Sink, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("start delivery sink: %w", err)
	}
	s := &Sink{URL: "http://" + ln.Addr().String() + "/deliveries", secret: secret, notify: make(chan struct{})}
	s.srv = &http.Server{Handler: s, ReadHeaderTimeout: 5 * time.Second}
	go s.srv.Serve(ln) //nolint:errcheck // ends with Close
	return s, nil
}

// Close stops the sink.
func (s *Sink) Close() { s.srv.Close() }

// Respond sets the status of each delivery (n counts from 1); nil answers 200.
func (s *Sink) Respond(f func(n int, body channel.OutboundBody) int) {
	s.mu.Lock()
	s.respond = f
	s.mu.Unlock()
}

// ServeHTTP records one delivery.
func (s *Sink) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	raw, _ := io.ReadAll(r.Body)
	var b channel.OutboundBody
	if err := json.Unmarshal(raw, &b); err != nil {
		http.Error(w, "bad json", http.StatusBadRequest)
		return
	}
	s.mu.Lock()
	s.n++
	status := http.StatusOK
	if s.respond != nil {
		status = s.respond(s.n, b)
	}
	if status < 300 {
		s.got = append(s.got, Delivery{Body: b, IdempotencyKey: r.Header.Get("Idempotency-Key"),
			SignatureOK: channel.Verify([]string{s.secret}, raw, r.Header.Get(channel.SignatureHeader)), At: time.Now()})
		close(s.notify)
		s.notify = make(chan struct{})
	}
	s.mu.Unlock()
	w.WriteHeader(status)
}

// Deliveries returns every accepted delivery so far.
func (s *Sink) Deliveries() []Delivery {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Delivery(nil), s.got...)
}

// For returns the deliveries of one conversation.
func (s *Sink) For(conversationID int64) []Delivery {
	var out []Delivery
	for _, d := range s.Deliveries() {
		if d.Body.ConversationID == conversationID {
			out = append(out, d)
		}
	}
	return out
}

// Wait blocks until the next accepted delivery or until ctx is done.
func (s *Sink) Wait(ctx context.Context) error {
	s.mu.Lock()
	ch := s.notify
	s.mu.Unlock()
	select {
	case <-ch:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
