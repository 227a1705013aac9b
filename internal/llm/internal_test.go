package llm

import (
	"slices"
	"testing"
	"time"
)

func TestParseRetryAfter(t *testing.T) {
	t.Parallel()
	now := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		name   string
		value  string
		want   time.Duration
		wantOK bool
	}{
		{name: "seconds", value: "5", want: 5 * time.Second, wantOK: true},
		{name: "fractional seconds", value: "0.5", want: 500 * time.Millisecond, wantOK: true},
		{name: "spaces", value: " 2 ", want: 2 * time.Second, wantOK: true},
		{name: "http date", value: "Sat, 01 Mar 2025 12:00:09 GMT", want: 9 * time.Second, wantOK: true},
		{name: "date in the past", value: "Sat, 01 Mar 2025 11:00:00 GMT", want: 0, wantOK: true},
		{name: "negative", value: "-3", wantOK: false},
		{name: "garbage", value: "soon", wantOK: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, ok := parseRetryAfter(tt.value, now)
			if got != tt.want || ok != tt.wantOK {
				t.Errorf("parseRetryAfter(%q) = %v, %v; want %v, %v", tt.value, got, ok, tt.want, tt.wantOK)
			}
		})
	}
}

func TestBackoff(t *testing.T) {
	t.Parallel()
	want := []time.Duration{200 * time.Millisecond, 400 * time.Millisecond, 800 * time.Millisecond}
	for i, w := range want {
		if got := backoff(i + 1); got != w {
			t.Errorf("backoff(%d) = %v, want %v", i+1, got, w)
		}
	}
	if got := backoff(30); got != 10*time.Second {
		t.Errorf("backoff(30) = %v, want the 10s cap", got)
	}
	for range 100 {
		if d := equalJitter(time.Second); d < 500*time.Millisecond || d > time.Second {
			t.Fatalf("equalJitter(1s) = %v, want within [500ms, 1s]", d)
		}
	}
}

func TestExtractJSONObject(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		in     string
		want   string
		wantOK bool
	}{
		{name: "bare", in: `{"a":1}`, want: `{"a":1}`, wantOK: true},
		{name: "code fence", in: "```json\n{\"a\": {\"b\": 2}}\n```", want: `{"a": {"b": 2}}`, wantOK: true},
		{name: "braces inside strings", in: `Answer: {"a":"}{\"}"} trailing }`, want: `{"a":"}{\"}"}`, wantOK: true},
		{name: "skips invalid first candidate", in: `{oops} then {"ok":true}`, want: `{"ok":true}`, wantOK: true},
		{name: "unbalanced", in: `{"a": 1`, wantOK: false},
		{name: "none", in: `no json here`, wantOK: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, ok := extractJSONObject(tt.in)
			if got != tt.want || ok != tt.wantOK {
				t.Errorf("extractJSONObject(%q) = %q, %v; want %q, %v", tt.in, got, ok, tt.want, tt.wantOK)
			}
		})
	}
}

func TestBatches(t *testing.T) {
	t.Parallel()
	in := make([]string, 600)
	got := batches(in)
	want := []span{{0, 256}, {256, 512}, {512, 600}}
	if !slices.Equal(got, want) {
		t.Errorf("batches(600 empty) = %v, want %v", got, want)
	}
	if got := batches(nil); len(got) != 0 {
		t.Errorf("batches(nil) = %v, want none", got)
	}
}
