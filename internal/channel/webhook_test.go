package channel

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
)

func TestVerifyAcceptsCurrentAndPreviousSecret(t *testing.T) {
	t.Parallel()
	body := []byte(`{"a":1}`)
	tests := []struct {
		name, sig string
		want      bool
	}{
		{"current", Sign("new", body), true},
		{"previous during rotation", Sign("old", body), true},
		{"unknown secret", Sign("other", body), false},
		{"no prefix", strings.TrimPrefix(Sign("new", body), "sha256="), false},
		{"not hex", "sha256=zz", false},
		{"empty", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := Verify([]string{"new", "old"}, body, tt.sig); got != tt.want {
				t.Errorf("Verify = %v; want %v", got, tt.want)
			}
		})
	}
	if Verify([]string{"", ""}, body, Sign("", body)) {
		t.Error("an empty secret must never verify")
	}
}

func TestDecodeWebhookNormalises(t *testing.T) {
	t.Parallel()
	in, err := DecodeWebhook([]byte(`{"sender":{"id":" c1 ","name":"Ana","email":"a@x.io"},"message":{"id":"m1","text":" hi ","sent_at":"2026-11-25T10:00:00Z"}}`))
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
			w := &Webhook{Secrets: []string{"s"}, OutboundURL: srv.URL}
			err := w.Send(context.Background(), baton.Outbound{MessageID: 42, ConversationID: 1, Text: "hi"})
			if (err == nil) != tt.ok || IsPermanent(err) != tt.permanent {
				t.Errorf("err %v (permanent %v); want ok=%v permanent=%v", err, IsPermanent(err), tt.ok, tt.permanent)
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
	w := &Webhook{Secrets: []string{"s"}, OutboundURL: srv.URL}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	err := w.Send(ctx, baton.Outbound{MessageID: 1})
	var se *SendError
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
		in, err := DecodeWebhook(body)
		if err != nil {
			var be *baton.Error
			if !errors.As(err, &be) || !errors.Is(err, baton.ErrInvalid) || be.Message == "" {
				t.Fatalf("error %v is not an ErrInvalid client error", err)
			}
			return
		}
		if in.Sender.ID == "" || in.ExternalID == "" || in.Text == "" || !utf8.ValidString(in.Text) ||
			len(in.Text) > maxTextLen || strings.ContainsRune(in.Text, 0) {
			t.Fatalf("accepted an invalid message: %+v", in)
		}
		if _, err := json.Marshal(in.Sender); err != nil {
			t.Fatal(err)
		}
	})
}
