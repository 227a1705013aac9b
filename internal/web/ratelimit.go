package web

import (
	"context"
	"fmt"
	"math"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/internal/ratelimit"
)

// RateLimiter decides whether one more event of subject in scope is allowed at rate r
// (ratelimit.Limiter). It never fails: when it cannot decide, it allows.
type RateLimiter interface {
	Allow(ctx context.Context, scope, subject string, r ratelimit.Rate) ratelimit.Decision
}

// Limits are the request rates the server enforces (zero Rate: no limit).
type Limits struct {
	PerIP     ratelimit.Rate // each client IP on browser endpoints (routes marked Browser)
	SignIn    ratelimit.Rate // each client IP on POST /v1/auth/session
	PerSender ratelimit.Rate // each sender of a signed webhook, per channel
	// ClientIPHeader names the header a trusted reverse proxy puts the client's address in
	// (e.g. X-Forwarded-For: its last entry is taken); "" = the connection's peer address.
	ClientIPHeader string
}

// RouteOption marks a route when it is registered with Handle.
type RouteOption func(*routeOptions)

type routeOptions struct{ ipScope string }

// Browser marks an unauthenticated endpoint that browsers call (the web chat): each client
// IP is limited to Limits.PerIP, answered 429 with Retry-After beyond it.
func Browser(o *routeOptions) { o.ipScope = "ip" }

func limitIP(scope string) RouteOption { return func(o *routeOptions) { o.ipScope = scope } }

// RateLimitedError answers 429 with Retry-After.
type RateLimitedError struct {
	Scope      string
	RetryAfter time.Duration
}

func (e *RateLimitedError) Error() string {
	return fmt.Sprintf("too many requests; retry in %d seconds", e.retryAfterSeconds())
}

func (e *RateLimitedError) retryAfterSeconds() int {
	return max(1, int(math.Ceil(e.RetryAfter.Seconds())))
}

// Unwrap gives StatusOf the client-safe code and message.
func (e *RateLimitedError) Unwrap() error {
	return baton.Errorf(errRateLimited, "rate_limited", "%s", e.Error())
}

var errRateLimited = fmt.Errorf("rate limited")

func (s *Server) rate(scope string) ratelimit.Rate {
	switch scope {
	case "signin":
		return s.limits.SignIn
	case "sender":
		return s.limits.PerSender
	}
	return s.limits.PerIP
}

func (s *Server) limitByIP(scope string, h HandlerFunc) HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		if err := s.allow(r.Context(), scope, s.clientIP(r)); err != nil {
			return err
		}
		return h(w, r)
	}
}

// LimitSender takes one message of a signed webhook's sender; RateLimitedError beyond
// Limits.PerSender. Call it after the signature is verified, so that nobody can spend another
// sender's allowance.
func (s *Server) LimitSender(ctx context.Context, channel, sender string) error {
	return s.allow(ctx, "sender", channel+":"+sender)
}

func (s *Server) allow(ctx context.Context, scope, subject string) error {
	if s.limiter == nil {
		return nil
	}
	d := s.limiter.Allow(ctx, scope, subject, s.rate(scope))
	if d.Allowed {
		return nil
	}
	return &RateLimitedError{Scope: scope, RetryAfter: d.RetryAfter}
}

// clientIP is the address a limit per IP counts: the trusted proxy's header when configured,
// else the peer address.
func (s *Server) clientIP(r *http.Request) string {
	if h := s.limits.ClientIPHeader; h != "" {
		if v := r.Header.Values(h); len(v) > 0 {
			parts := strings.Split(v[len(v)-1], ",")
			if ip := net.ParseIP(strings.TrimSpace(parts[len(parts)-1])); ip != nil {
				return ip.String()
			}
		}
	}
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}
