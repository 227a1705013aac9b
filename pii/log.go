package pii

import (
	"context"
	"log/slog"
	"strings"
	"unicode/utf8"
)

// LogHandler wraps next so that emails, phone numbers and card numbers in the message and in
// string (and error) attribute values, nested groups included, are masked before next sees
// them: "a***@example.com", "***58", "****4242". Values without a digit or an '@' pass through
// without a copy.
func LogHandler(next slog.Handler) slog.Handler {
	return &logHandler{next: next}
}

type logHandler struct{ next slog.Handler }

func (h *logHandler) Enabled(ctx context.Context, l slog.Level) bool { return h.next.Enabled(ctx, l) }

func (h *logHandler) Handle(ctx context.Context, r slog.Record) error {
	dirty := mayHold(r.Message)
	if !dirty {
		r.Attrs(func(a slog.Attr) bool {
			dirty = attrMayHold(a)
			return !dirty
		})
	}
	if !dirty {
		return h.next.Handle(ctx, r)
	}
	// Digits are common (ids, timestamps): rebuild the record only when something was masked.
	msg := MaskLog(r.Message)
	changed := msg != r.Message
	var buf [8]slog.Attr
	attrs := buf[:0]
	r.Attrs(func(a slog.Attr) bool {
		m := maskAttr(a)
		changed = changed || !m.Equal(a)
		attrs = append(attrs, m)
		return true
	})
	if !changed {
		return h.next.Handle(ctx, r)
	}
	out := slog.NewRecord(r.Time, r.Level, msg, r.PC)
	out.AddAttrs(attrs...)
	return h.next.Handle(ctx, out)
}

func (h *logHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	masked := make([]slog.Attr, len(attrs))
	for i, a := range attrs {
		masked[i] = maskAttr(a)
	}
	return &logHandler{next: h.next.WithAttrs(masked)}
}

func (h *logHandler) WithGroup(name string) slog.Handler {
	return &logHandler{next: h.next.WithGroup(name)}
}

// mayHold is the fast path: no digit and no '@', no personal data we mask.
func mayHold(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c == '@' || c >= '0' && c <= '9' {
			return true
		}
	}
	return false
}

func attrMayHold(a slog.Attr) bool {
	v := a.Value
	switch v.Kind() {
	case slog.KindString:
		return mayHold(v.String())
	case slog.KindGroup:
		for _, g := range v.Group() {
			if attrMayHold(g) {
				return true
			}
		}
	case slog.KindLogValuer:
		return true // resolved (and checked) on the slow path
	case slog.KindAny:
		if err, ok := v.Any().(error); ok && err != nil {
			return mayHold(err.Error())
		}
	}
	return false
}

func maskAttr(a slog.Attr) slog.Attr {
	v := a.Value.Resolve()
	switch v.Kind() {
	case slog.KindString:
		if s := v.String(); mayHold(s) {
			return slog.String(a.Key, MaskLog(s))
		}
	case slog.KindGroup:
		g := v.Group()
		out := make([]slog.Attr, len(g))
		for i, x := range g {
			out[i] = maskAttr(x)
		}
		return slog.Attr{Key: a.Key, Value: slog.GroupValue(out...)}
	case slog.KindAny:
		if err, ok := v.Any().(error); ok && err != nil {
			if s := err.Error(); mayHold(s) {
				if m := MaskLog(s); m != s {
					return slog.String(a.Key, m)
				}
			}
		}
	}
	return slog.Attr{Key: a.Key, Value: v}
}

// MaskLog masks the emails, phone numbers and card numbers in s for a log line, keeping enough
// to tell values apart when debugging: "a***@example.com", "***58", "****4242".
func MaskLog(s string) string {
	if !mayHold(s) {
		return s
	}
	return replace(s, defaultMasker.Find(s), func(sp Span) string {
		v := s[sp.Start:sp.End]
		switch sp.Kind {
		case KindEmail:
			at := strings.LastIndexByte(v, '@')
			_, n := utf8.DecodeRuneInString(v)
			return v[:n] + "***" + v[at:]
		case KindCard:
			return "****" + lastDigits(v, 4)
		default:
			return "***" + lastDigits(v, 2)
		}
	})
}
