package webhook

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/internal/channel"
)

func TestVerifyAcceptsCurrentAndPreviousSecret(t *testing.T) {
	t.Parallel()
	body := []byte(`{"a":1}`)
	tests := []struct {
		name, sig string
		want      bool
	}{
		{"current", channel.Sign("new", body), true},
		{"previous during rotation", channel.Sign("old", body), true},
		{"unknown secret", channel.Sign("other", body), false},
		{"no prefix", strings.TrimPrefix(channel.Sign("new", body), "sha256="), false},
		{"not hex", "sha256=zz", false},
		{"empty", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := channel.Verify([]string{"new", "old"}, body, tt.sig); got != tt.want {
				t.Errorf("Verify = %v; want %v", got, tt.want)
			}
		})
	}
	if channel.Verify([]string{"", ""}, body, channel.Sign("", body)) {
		t.Error("an empty secret must never verify")
	}
}

func TestDecodeWebhookNormalises(t *testing.T) {
	t.Parallel()
	in, err := channel.DecodeWebhook([]byte(`{"sender":{"id":" c1 ","name":"Ana","email":"a@x.io"},"message":{"id":"m1","text":" hi ","sent_at":"2026-11-25T10:00:00Z"}}`))
	if err != nil {
		t.Fatal(err)
	}
	if in.Sender.ID != "c1" || in.Text != "hi" || in.SentAt == nil || !in.SentAt.Equal(time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)) {
		t.Errorf("decoded %+v", in)
	}
}

func TestSendClassifiesResponses(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		status    int
		permanent bool
		ok        bool
	}{
		{"ok", 200, false, true},
		{"accepted", 202, false, true},
		{"bad request", 400, true, false},
		{"gone", 410, true, false},
		{"timeout status", 408, false, false},
		{"rate limited", 429, false, false},
		{"server error", 503, false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.Header.Get("Idempotency-Key") != "42" {
					t.Errorf("Idempotency-Key %q", r.Header.Get("Idempotency-Key"))
				}
				w.WriteHeader(tt.status)
			}))
			defer srv.Close()
			w := &Adapter{Secrets: []string{"s"}, OutboundURL: srv.URL}
			_, err := w.Send(context.Background(), baton.Outbound{MessageID: 42, ConversationID: 1, Text: "hi"})
			if (err == nil) != tt.ok || channel.IsPermanent(err) != tt.permanent {
				t.Errorf("err %v (permanent %v); want ok=%v permanent=%v", err, channel.IsPermanent(err), tt.ok, tt.permanent)
			}
		})
	}
}

func TestSendTimeoutIsUnknown(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(300 * time.Millisecond)
	}))
	defer srv.Close()
	w := &Adapter{Secrets: []string{"s"}, OutboundURL: srv.URL}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	_, err := w.Send(ctx, baton.Outbound{MessageID: 1})
	var se *channel.SendError
	if !errors.As(err, &se) || !se.AfterSend || se.Permanent {
		t.Fatalf("err %#v; want a retryable SendError with AfterSend", err)
	}
}

// FuzzDecodeWebhook: any input either decodes to a valid, bounded message or fails with an
// ErrInvalid error — never a panic, never a half-valid message.
func FuzzDecodeWebhook(f *testing.F) {
	for _, seed := range []string{
		`{"sender":{"id":"c"},"message":{"id":"m","text":"hi"}}`,
		`{"sender":{"id":"c","name":"Ana","email":"a@b.c","phone":"+4930"},"message":{"id":"m","text":"hi","sent_at":"2026-01-02T03:04:05Z"}}`,
		`{"sender":{"id":""},"message":{"id":"m","text":"hi"}}`,
		`{"sender":{"id":"c"},"message":{"id":"m","text":"\u0000"}}`,
		`{"sender":{"id":"c"},"message":{"id":"m","text":"hi"}} trailing`,
		`[]`, `null`, `{`, "\xff",
		`{"sender":{"id":"c"},"message":{"id":"m","text":"hi","sent_at":"yesterday"}}`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		in, err := channel.DecodeWebhook(body)
		if err != nil {
			var be *baton.Error
			if !errors.As(err, &be) || !errors.Is(err, baton.ErrInvalid) || be.Message == "" {
				t.Fatalf("error %v is not an ErrInvalid client error", err)
			}
			return
		}
		if in.Sender.ID == "" || in.ExternalID == "" || in.Text == "" || !utf8.ValidString(in.Text) ||
			len(in.Text) > channel.MaxTextLen || strings.ContainsRune(in.Text, 0) {
			t.Fatalf("accepted an invalid message: %+v", in)
		}
		if _, err := json.Marshal(in.Sender); err != nil {
			t.Fatal(err)
		}
	})
}

func TestDecodeWebhookRefusesTrailingData(t *testing.T) {
	t.Parallel()
	const valid = `{"sender":{"id":"c"},"message":{"id":"m","text":"hi"}}`
	tests := []struct {
		name, body string
		ok         bool
	}{
		{name: "nothing after", body: valid, ok: true},
		{name: "whitespace after", body: valid + " \n\t\r\n", ok: true},
		{name: "closing bracket", body: valid + "]"},
		{name: "closing brace", body: valid + "}"},
		{name: "bracket after whitespace", body: valid + "\n]"},
		{name: "second object", body: valid + valid},
		{name: "comma", body: valid + ","},
		{name: "word", body: valid + " x"},
		{name: "number", body: valid + " 1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := channel.DecodeWebhook([]byte(tt.body))
			if tt.ok && err != nil {
				t.Fatalf("channel.DecodeWebhook(%q) = %v; want it accepted", tt.body, err)
			}
			if !tt.ok && (!errors.Is(err, baton.ErrInvalid) || !strings.Contains(err.Error(), "trailing data")) {
				t.Fatalf("channel.DecodeWebhook(%q) = %v; want a trailing-data error", tt.body, err)
			}
		})
	}
}

func TestSentAtOrdersOnlyNearArrival(t *testing.T) {
	t.Parallel()
	received := time.Date(2026, 11, 25, 9, 0, 0, 0, time.UTC)
	tests := []struct {
		name    string
		sentAt  time.Time
		ordered bool // kept for ordering; else ordered by arrival
	}{
		{name: "at arrival", sentAt: received, ordered: true},
		{name: "a second earlier", sentAt: received.Add(-time.Second), ordered: true},
		{name: "at the future edge", sentAt: received.Add(channel.MaxSentAtAhead), ordered: true},
		{name: "just past the future edge", sentAt: received.Add(channel.MaxSentAtAhead + time.Nanosecond)},
		{name: "at the past edge", sentAt: received.Add(-channel.MaxSentAtBehind), ordered: true},
		{name: "just past the past edge", sentAt: received.Add(-channel.MaxSentAtBehind - time.Nanosecond)},
		{name: "year 9999", sentAt: time.Date(9999, 12, 31, 0, 0, 0, 0, time.UTC)},
		{name: "year 1", sentAt: time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC)},
	}
	w := &Adapter{Secrets: []string{"s"}, Clock: baton.NewManualClock(received)}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			body := []byte(`{"sender":{"id":"c"},"message":{"id":"m","text":"hi","sent_at":"` + tt.sentAt.Format(time.RFC3339Nano) + `"}}`)
			in, err := w.Parse(http.Header{channel.SignatureHeader: {channel.Sign("s", body)}}, body)
			if err != nil {
				t.Fatalf("parse: %v; an odd sent_at must not refuse the message (the channel would retry it forever)", err)
			}
			if got := in.SentAt != nil && in.SentAt.Equal(tt.sentAt); got != tt.ordered {
				t.Errorf("sent_at %s kept for ordering = %v; want %v", tt.sentAt, got, tt.ordered)
			}
		})
	}
}
