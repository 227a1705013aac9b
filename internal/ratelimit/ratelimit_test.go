package ratelimit_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"

	"github.com/batonhq/baton/internal/dbtest"
	"github.com/batonhq/baton/internal/ratelimit"
)

func newLimiter(t *testing.T, reg prometheus.Registerer) *ratelimit.Limiter {
	t.Helper()
	opt, err := redis.ParseURL(dbtest.RedisURL())
	if err != nil {
		t.Fatal(err)
	}
	rdb := redis.NewClient(opt)
	t.Cleanup(func() { rdb.Close() })
	return ratelimit.New(rdb, dbtest.QueuePrefix(t, dbtest.RedisURL()), nil, reg)
}

func TestBurstThenLimited(t *testing.T) {
	t.Parallel()
	l := newLimiter(t, nil)
	r := ratelimit.Rate{Limit: 3, Per: time.Minute}
	for i := range 3 {
		if d := l.Allow(t.Context(), "ip", "203.0.113.7", r); !d.Allowed {
			t.Fatalf("event %d of a burst of 3 refused", i+1)
		}
	}
	d := l.Allow(t.Context(), "ip", "203.0.113.7", r)
	if d.Allowed {
		t.Fatal("4th event within a minute allowed at 3/min")
	}
	// One more event is allowed one emission interval (20 s) after the burst began.
	if d.RetryAfter <= 15*time.Second || d.RetryAfter > 20*time.Second {
		t.Fatalf("RetryAfter = %s, want about 20s", d.RetryAfter)
	}
	if d := l.Allow(t.Context(), "ip", "203.0.113.8", r); !d.Allowed {
		t.Fatal("another subject is limited by the first one's events")
	}
	if d := l.Allow(t.Context(), "sender", "203.0.113.7", r); !d.Allowed {
		t.Fatal("another scope is limited by the first one's events")
	}
}

func TestEventsSpreadOverThePeriod(t *testing.T) {
	t.Parallel()
	l := newLimiter(t, nil)
	r := ratelimit.Rate{Limit: 2, Per: 200 * time.Millisecond} // one every 100 ms after the burst
	allowed := 0
	deadline := time.Now().Add(450 * time.Millisecond)
	for time.Now().Before(deadline) {
		if l.Allow(t.Context(), "ip", "x", r).Allowed {
			allowed++
		}
		time.Sleep(5 * time.Millisecond) // pacing the events, not synchronisation
	}
	// Burst of 2, then ~one per 100 ms over 450 ms: 5 or 6.
	if allowed < 4 || allowed > 7 {
		t.Fatalf("allowed %d events in 450ms at 2/200ms, want 5 or 6", allowed)
	}
}

func TestFailsOpenWhenRedisIsDown(t *testing.T) {
	t.Parallel()
	reg := prometheus.NewRegistry()
	down := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1", MaxRetries: -1})
	t.Cleanup(func() { down.Close() })
	l := ratelimit.New(down, "x", nil, reg)
	r := ratelimit.Rate{Limit: 1, Per: time.Hour}
	for range 3 {
		if d := l.Allow(t.Context(), "ip", "a", r); !d.Allowed {
			t.Fatal("refused while Redis is down; want fail open")
		}
	}
	if got := counter(t, reg, "baton_ratelimit_decisions_total", "outcome", "error"); got != 3 {
		t.Fatalf("error decisions counted %v, want 3", got)
	}
}

// counter sums the samples of a counter whose label has the value.
func counter(t *testing.T, reg *prometheus.Registry, name, label, value string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var sum float64
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			for _, lp := range m.GetLabel() {
				if lp.GetName() == label && lp.GetValue() == value {
					sum += m.GetCounter().GetValue()
				}
			}
		}
	}
	return sum
}

func TestOffAllowsEverything(t *testing.T) {
	t.Parallel()
	var nilLimiter *ratelimit.Limiter
	if !nilLimiter.Allow(t.Context(), "ip", "a", ratelimit.Rate{Limit: 1, Per: time.Hour}).Allowed {
		t.Fatal("a nil limiter refused")
	}
	l := newLimiter(t, nil)
	for range 5 {
		if !l.Allow(t.Context(), "ip", "a", ratelimit.Rate{}).Allowed {
			t.Fatal("the zero rate refused")
		}
	}
}

func TestParseRate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   string
		want ratelimit.Rate
		err  bool
	}{
		{"60/min", ratelimit.Rate{Limit: 60, Per: time.Minute}, false},
		{"5/s", ratelimit.Rate{Limit: 5, Per: time.Second}, false},
		{"1000/h", ratelimit.Rate{Limit: 1000, Per: time.Hour}, false},
		{"10/30s", ratelimit.Rate{Limit: 10, Per: 30 * time.Second}, false},
		{"0", ratelimit.Rate{}, false},
		{"60", ratelimit.Rate{}, true},
		{"-1/min", ratelimit.Rate{}, true},
		{"5/fortnight", ratelimit.Rate{}, true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ratelimit.ParseRate(tt.in)
			if (err != nil) != tt.err || got != tt.want {
				t.Fatalf("ParseRate(%q) = %v, %v; want %v, error %v", tt.in, got, err, tt.want, tt.err)
			}
			if err == nil && got.String() != tt.in && fmt.Sprint(got) != "10/30s" {
				t.Fatalf("String() = %q, want %q", got.String(), tt.in)
			}
		})
	}
}
