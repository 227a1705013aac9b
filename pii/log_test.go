package pii_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/batonhq/baton/pii"
)

func TestMaskLog(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		in   string
		want string
	}{
		{name: "email", in: "sent to ana.silva+x@example.com", want: "sent to a***@example.com"},
		{name: "phone", in: "phone +44 20 7946 0958 failed", want: "phone ***58 failed"},
		{name: "card", in: "card 4242-4242-4242-4242", want: "card ****4242"},
		{name: "ids and dates stay", in: "conversation 3f2a9c1e-1234-5678-9abc-def012345678 at 2024-05-01", want: "conversation 3f2a9c1e-1234-5678-9abc-def012345678 at 2024-05-01"},
		{name: "no digits", in: "turn done", want: "turn done"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := pii.MaskLog(tt.in); got != tt.want {
				t.Errorf("MaskLog(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

type valuer struct{}

func (valuer) LogValue() slog.Value { return slog.StringValue("lazy ana@example.com") }

func TestLogHandlerMasksMessageAndNestedAttrs(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	log := slog.New(pii.LogHandler(slog.NewJSONHandler(&buf, nil))).
		With("customer", "ana@example.com").WithGroup("turn").With("sender_phone", "+14155552671")
	log.Info("reply to ana@example.com failed",
		"conversation_id", "3f2a9c1e-1234-5678-9abc-def012345678",
		"attempt", 3,
		slog.Group("request", "card", "4242 4242 4242 4242", slog.Group("inner", "phone", "(555) 123-4567")),
		"err", errors.New("send to 555-123-4567: timeout"),
		"lazy", valuer{},
	)
	out := buf.String()
	for _, secret := range []string{"ana@example.com", "14155552671", "4242 4242 4242 4242", "123-4567"} {
		if strings.Contains(out, secret) {
			t.Errorf("%q leaks into the log: %s", secret, out)
		}
	}
	for _, want := range []string{`"msg":"reply to a***@example.com failed"`, `"customer":"a***@example.com"`,
		`"sender_phone":"***71"`, `"card":"****4242"`, `"inner":{"phone":"***67"}`, `"err":"send to ***67: timeout"`,
		`"conversation_id":"3f2a9c1e-1234-5678-9abc-def012345678"`, `"attempt":3`, `"lazy":"lazy a***@example.com"`} {
		if !strings.Contains(out, want) {
			t.Errorf("log lacks %s: %s", want, out)
		}
	}
}

func TestLogHandlerPassesCleanRecordsThrough(t *testing.T) {
	t.Parallel()
	var seen slog.Record
	h := pii.LogHandler(recordHandler{func(r slog.Record) { seen = r }})
	r := slog.NewRecord(time.Now(), slog.LevelInfo, "turn done", 0)
	r.AddAttrs(slog.String("intent", "refund"), slog.Int("messages", 2))
	if err := h.Handle(context.Background(), r); err != nil {
		t.Fatal(err)
	}
	if seen.Message != "turn done" || seen.NumAttrs() != 2 {
		t.Errorf("record changed: %v", seen)
	}
}

type recordHandler struct{ f func(slog.Record) }

func (h recordHandler) Enabled(context.Context, slog.Level) bool      { return true }
func (h recordHandler) Handle(_ context.Context, r slog.Record) error { h.f(r); return nil }
func (h recordHandler) WithAttrs([]slog.Attr) slog.Handler            { return h }
func (h recordHandler) WithGroup(string) slog.Handler                 { return h }

// BenchmarkLogHandler compares a JSON handler with and without the wrapper on three kinds of
// record: no digits (the fast path), ids and counts (scanned, nothing found), and PII.
func BenchmarkLogHandler(b *testing.B) {
	records := []struct {
		name  string
		msg   string
		attrs []any
	}{
		{name: "clean", msg: "turn done", attrs: []any{"intent", "refund", "status", "bot", "messages", 2}},
		{name: "ids", msg: "turn done", attrs: []any{"conversation_id", "3f2a9c1e-1234-5678-9abc-def012345678", "task_id", "turn:42:1700000000", "messages", 2}},
		{name: "pii", msg: "delivery to ana@example.com failed", attrs: []any{"conversation_id", "3f2a9c1e-1234-5678-9abc-def012345678", "phone", "+44 20 7946 0958", "messages", 2}},
	}
	for _, rec := range records {
		for _, wrapped := range []bool{false, true} {
			name := rec.name + "/plain"
			var h slog.Handler = slog.NewJSONHandler(io.Discard, nil)
			if wrapped {
				name, h = rec.name+"/masked", pii.LogHandler(h)
			}
			log := slog.New(h)
			b.Run(name, func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					log.Info(rec.msg, rec.attrs...)
				}
			})
		}
	}
}

// message300 is a 300-character customer message with an email, a phone, a card and an order.
func message300() string {
	s := "Hi, I ordered a blue jacket last week (order A-10293) and paid 129.99 with my card 4242 4242 4242 4242 " +
		"but it still hasn't arrived. Could you check on 2024-05-01 delivery? You can reach me at ana.silva+shop@example.com " +
		"or call +44 20 7946 0958 any time. Thanks a lot, Ana"
	return s + strings.Repeat(".", max(0, 300-len(s)))
}

func BenchmarkMask(b *testing.B) {
	msg := message300()
	m := pii.NewMasker(pii.Options{Patterns: []pii.Pattern{orderNumber}})
	b.Run(fmt.Sprintf("%dchars/builtin", len(msg)), func(b *testing.B) {
		m := pii.NewMasker(pii.Options{})
		b.ReportAllocs()
		for b.Loop() {
			masked, v := m.Mask(msg)
			_ = v.Unmask(masked)
		}
	})
	b.Run(fmt.Sprintf("%dchars/with_pattern", len(msg)), func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			masked, v := m.Mask(msg)
			_ = v.Unmask(masked)
		}
	})
	b.Run("MaskCards", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			_ = m.MaskCards(msg)
		}
	})
}
