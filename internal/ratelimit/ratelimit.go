// Package ratelimit limits request rates across every Baton process with one Redis key per
// subject (an IP address, a sender), using the generic cell rate algorithm in one Lua script.
// Redis may lose or refuse anything: the limiter then lets requests through (fails open), logs
// and counts it, because refusing customers is worse than serving a burst.
package ratelimit

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"
)

// Rate is Limit events per Per, allowed as a burst of Limit and then evenly spread.
// The zero Rate means no limit.
type Rate struct {
	Limit int
	Per   time.Duration
}

// Off reports whether r limits nothing.
func (r Rate) Off() bool { return r.Limit <= 0 || r.Per <= 0 }

func (r Rate) String() string {
	if r.Off() {
		return "0"
	}
	switch r.Per {
	case time.Second:
		return fmt.Sprintf("%d/s", r.Limit)
	case time.Minute:
		return fmt.Sprintf("%d/min", r.Limit)
	case time.Hour:
		return fmt.Sprintf("%d/h", r.Limit)
	}
	return fmt.Sprintf("%d/%s", r.Limit, r.Per)
}

// ParseRate reads "60/min", "5/s", "1000/h", "10/30s" or "0" (no limit).
func ParseRate(s string) (Rate, error) {
	s = strings.TrimSpace(s)
	if s == "0" || s == "" {
		return Rate{}, nil
	}
	n, per, ok := strings.Cut(s, "/")
	limit, err := strconv.Atoi(strings.TrimSpace(n))
	if !ok || err != nil || limit < 1 {
		return Rate{}, fmt.Errorf("want N/s, N/min, N/h, N/<duration> or 0, got %q", s)
	}
	var d time.Duration
	switch per = strings.TrimSpace(per); per {
	case "s", "sec", "second":
		d = time.Second
	case "m", "min", "minute":
		d = time.Minute
	case "h", "hour":
		d = time.Hour
	default:
		if d, err = time.ParseDuration(per); err != nil || d < time.Millisecond {
			return Rate{}, fmt.Errorf("want N/s, N/min, N/h, N/<duration> or 0, got %q", s)
		}
	}
	return Rate{Limit: limit, Per: d}, nil
}

// Decision is the outcome of one Allow.
type Decision struct {
	Allowed    bool
	RetryAfter time.Duration // when not allowed: how long until one more event is
}

// gcra keeps, per key, the theoretical arrival time (TAT, ms on the Redis clock) of the next
// event. An event is allowed when it arrives no earlier than TAT minus the burst tolerance; it
// then moves TAT one emission interval on. The key expires when the subject is idle again.
// Redis's own clock is the one all processes share.
var gcra = redis.NewScript(`
local emission = tonumber(ARGV[1])
local tolerance = tonumber(ARGV[2])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local tat = tonumber(redis.call('GET', KEYS[1]) or now)
if tat < now then tat = now end
local next = tat + emission
local allow_at = next - tolerance
if now < allow_at then
	return {0, allow_at - now}
end
redis.call('SET', KEYS[1], next, 'PX', next - now)
return {1, 0}
`)

// Limiter decides events against Redis. Its zero value (nil Redis) allows everything.
type Limiter struct {
	Redis  redis.Scripter
	Prefix string // key prefix, e.g. the deployment's queue prefix
	Log    *slog.Logger
	// Timeout bounds one decision; past it the event is allowed (default 100ms).
	Timeout time.Duration

	decisions *prometheus.CounterVec
	warned    atomic.Int64 // unix seconds of the last fail-open warning, to log once a minute
}

// New builds a limiter and registers its metric (baton_ratelimit_decisions_total) on reg
// when reg is not nil.
func New(rdb redis.Scripter, prefix string, log *slog.Logger, reg prometheus.Registerer) *Limiter {
	l := &Limiter{Redis: rdb, Prefix: prefix, Log: log,
		decisions: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "baton_ratelimit_decisions_total",
			Help: "Rate limit decisions by scope and outcome (allowed, limited, error: Redis failed and the request was let through)."},
			[]string{"scope", "outcome"})}
	if reg != nil {
		reg.MustRegister(l.decisions)
	}
	return l
}

// Allow takes one event of subject in scope (e.g. "ip", "sender") at rate r.
func (l *Limiter) Allow(ctx context.Context, scope, subject string, r Rate) Decision {
	if l == nil || l.Redis == nil || r.Off() {
		return Decision{Allowed: true}
	}
	timeout := l.Timeout
	if timeout <= 0 {
		timeout = 100 * time.Millisecond
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	emission := r.Per.Milliseconds() / int64(r.Limit)
	if emission < 1 {
		emission = 1
	}
	key := fmt.Sprintf("%s:ratelimit:%s:%s", l.Prefix, scope, subject)
	res, err := gcra.Run(ctx, l.Redis, []string{key}, emission, emission*int64(r.Limit)).Int64Slice()
	if err == nil && len(res) != 2 {
		err = errors.New("unexpected script result")
	}
	if err != nil {
		l.count(scope, "error")
		l.warn(ctx, scope, err)
		return Decision{Allowed: true}
	}
	if res[0] == 1 {
		l.count(scope, "allowed")
		return Decision{Allowed: true}
	}
	l.count(scope, "limited")
	return Decision{RetryAfter: time.Duration(res[1]) * time.Millisecond}
}

func (l *Limiter) count(scope, outcome string) {
	if l.decisions != nil {
		l.decisions.WithLabelValues(scope, outcome).Inc()
	}
}

// warn logs a fail-open at most once a minute: a Redis outage would otherwise log every request.
func (l *Limiter) warn(ctx context.Context, scope string, err error) {
	if l.Log == nil {
		return
	}
	now := time.Now().Unix() // rate of a log line, not domain time
	last := l.warned.Load()
	if now-last < 60 || !l.warned.CompareAndSwap(last, now) {
		return
	}
	l.Log.WarnContext(ctx, "rate limiter unavailable, allowing requests", "scope", scope, "err", err)
}
