// Package web is Baton's HTTP surface: channel webhooks, the agent and admin APIs, auth,
// health and metrics. Handlers return errors; one function maps them to statuses and JSON.
package web

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/batonhq/baton"
)

// Access is who may call a route.
type Access int

const (
	Public Access = iota // no user; the handler checks its own credentials (e.g. a webhook signature)
	Agent                // an agent or an admin
	Admin                // admins only
)

// HandlerFunc is an HTTP handler that returns its error for central mapping.
type HandlerFunc func(w http.ResponseWriter, r *http.Request) error

// Auth resolves credentials to users.
type Auth interface {
	UserByToken(ctx context.Context, token string) (baton.User, error)
	UserBySession(ctx context.Context, sid string) (baton.User, string, error)
	CreateSession(ctx context.Context, userID int64, ttl time.Duration) (sid, csrf string, expires time.Time, err error)
	DeleteSession(ctx context.Context, sid string) error
}

// Pinger reports whether a dependency answers.
type Pinger interface {
	Ping(ctx context.Context) error
}

// Server routes requests. Create it with New, add features with Handle, serve Handler().
type Server struct {
	mux        *http.ServeMux
	log        *slog.Logger
	auth       Auth
	secure     bool // cookies get Secure when the public URL is https
	sessionTTL time.Duration
	routes     []string
	db, redis  Pinger
	registry   *prometheus.Registry
	requests   *prometheus.HistogramVec
	metricsKey string // bearer token /metrics requires; "" = none
	limiter    RateLimiter
	limits     Limits
}

// Options configure a Server.
type Options struct {
	Log        *slog.Logger
	Auth       Auth
	PublicURL  string
	SessionTTL time.Duration
	DB         Pinger // /readyz fails without it
	Redis      Pinger // /readyz reports it but stays ready: ingest keeps accepting when Redis is down
	Registry   *prometheus.Registry
	// MetricsToken, when set, is the bearer token /metrics requires (BATON_METRICS_TOKEN).
	MetricsToken string
	// MetricsElsewhere leaves /metrics off this server's routes: the app serves
	// MetricsHandler on its own listener instead (BATON_METRICS_ADDR).
	MetricsElsewhere bool
	// Limiter enforces Limits (nil: no rate limits).
	Limiter RateLimiter
	Limits  Limits
}

// New builds a server with the health, metrics and auth routes registered.
func New(o Options) *Server {
	if o.Registry == nil {
		o.Registry = prometheus.NewRegistry()
	}
	s := &Server{
		mux: http.NewServeMux(), log: o.Log, auth: o.Auth,
		secure:     strings.HasPrefix(o.PublicURL, "https://"),
		sessionTTL: o.SessionTTL, db: o.DB, redis: o.Redis, registry: o.Registry, metricsKey: o.MetricsToken,
		limiter: o.Limiter, limits: o.Limits,
		requests: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "baton_http_request_duration_seconds", Help: "HTTP request latency by route and status.",
			Buckets: []float64{.001, .005, .01, .025, .05, .1, .25, .5, 1, 2.5},
		}, []string{"route", "status"}),
	}
	if s.sessionTTL == 0 {
		s.sessionTTL = 12 * time.Hour
	}
	o.Registry.MustRegister(s.requests)
	s.Handle("GET /livez", Public, 0, s.livez)
	s.Handle("GET /readyz", Public, 0, s.readyz)
	if !o.MetricsElsewhere {
		s.mux.Handle("GET /metrics", s.MetricsHandler())
		s.routes = append(s.routes, "GET /metrics")
	}
	s.Handle("POST /v1/auth/session", Public, 4<<10, s.createSession, limitIP("signin"))
	s.Handle("DELETE /v1/auth/session", Agent, 0, s.deleteSession)
	s.Handle("GET /v1/auth/me", Agent, 0, s.me)
	return s
}

// Registry is where features register their Prometheus metrics.
func (s *Server) Registry() *prometheus.Registry { return s.registry }

// MetricsHandler serves the registry in the Prometheus text format, behind the metrics token
// when one is set. New mounts it at GET /metrics unless Options.MetricsElsewhere.
func (s *Server) MetricsHandler() http.Handler {
	h := promhttp.HandlerFor(s.registry, promhttp.HandlerOpts{})
	if s.metricsKey == "" {
		return h
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := s.checkMetricsToken(r); err != nil {
			s.writeError(w, r, err)
			return
		}
		h.ServeHTTP(w, r)
	})
}

// Handle registers h for pattern ("METHOD /path") behind the access check, with a request body
// limit (0 = 1 MiB). Options mark routes for rate limiting, e.g. Browser.
func (s *Server) Handle(pattern string, access Access, maxBody int64, h HandlerFunc, opts ...RouteOption) {
	if maxBody == 0 {
		maxBody = 1 << 20
	}
	var ro routeOptions
	for _, o := range opts {
		o(&ro)
	}
	if ro.ipScope != "" {
		h = s.limitByIP(ro.ipScope, h)
	}
	s.routes = append(s.routes, pattern)
	s.mux.Handle(pattern, s.wrap(pattern, access, maxBody, h))
}

// Routes lists the registered patterns, for the OpenAPI drift test.
func (s *Server) Routes() []string {
	out := append([]string(nil), s.routes...)
	sort.Strings(out)
	return out
}

// Handler is the root handler. Unknown paths and methods get the JSON error shape too.
func (s *Server) Handler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, pattern := s.mux.Handler(r); pattern != "" {
			s.mux.ServeHTTP(w, r)
			return
		}
		// Let the mux decide between 404 and 405 (with its Allow header), then answer in JSON.
		rec := &headerRecorder{header: http.Header{}}
		s.mux.ServeHTTP(rec, r)
		if allow := rec.header.Get("Allow"); allow != "" {
			w.Header().Set("Allow", allow)
		}
		status := rec.status
		if status == 0 || status == http.StatusOK {
			status = http.StatusNotFound
		}
		var body ErrorBody
		body.Error.Code = strings.ToLower(strings.ReplaceAll(http.StatusText(status), " ", "_"))
		body.Error.Message = fmt.Sprintf("no route for %s %s", r.Method, r.URL.Path)
		WriteJSON(w, status, body) //nolint:errcheck
	})
}

// headerRecorder captures the status and headers the mux would send for an unmatched request.
type headerRecorder struct {
	header http.Header
	status int
}

func (h *headerRecorder) Header() http.Header         { return h.header }
func (h *headerRecorder) Write(b []byte) (int, error) { return len(b), nil }
func (h *headerRecorder) WriteHeader(code int)        { h.status = code }

type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

// Unwrap lets http.ResponseController reach the connection (event streams flush and move
// their write deadline).
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

func (s *Server) wrap(pattern string, access Access, maxBody int64, h HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w}
		// The original writer, so the server knows to close the connection after a 413.
		r.Body = &bodyReader{http.MaxBytesReader(w, r.Body, maxBody)}
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			// A write is carried out even when the client half-closes its connection after
			// sending it: the server cancels the request's context on reading EOF, which made the
			// outcome a race (stored, or not, behind the same 500). Finishing it is
			// deterministic, and a channel's retry of a stored message is answered as a
			// duplicate. A body that cannot be read still ends the request with 400 or 408.
			r = r.WithContext(context.WithoutCancel(r.Context()))
		}
		ctx, err := s.authorize(r, access)
		if err == nil {
			err = h(sw, r.WithContext(ctx))
		}
		if err != nil && sw.status == 0 {
			s.writeError(sw, r, err)
		} else if err != nil && s.log != nil {
			s.log.WarnContext(r.Context(), "request failed after the response started", "method", r.Method, "path", r.URL.Path, "err", err)
		}
		s.requests.WithLabelValues(pattern, strconv.Itoa(sw.status)).Observe(time.Since(start).Seconds())
	})
}

// WriteJSON writes v as JSON with status.
func WriteJSON(w http.ResponseWriter, status int, v any) error {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	return json.NewEncoder(w).Encode(v)
}

// ErrorBody is the one error shape of the API.
type ErrorBody struct {
	Error struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}

// bodyReader marks errors reading a request body (a malformed chunk, a body cut short, a read
// timeout) as the client's, so they answer 400 or 408 rather than 500.
type bodyReader struct{ io.ReadCloser }

func (b *bodyReader) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	var maxErr *http.MaxBytesError
	if err != nil && err != io.EOF && !errors.As(err, &maxErr) {
		err = &BodyError{Err: err}
	}
	return n, err
}

// BodyError is a failure to read the request body: the client sent a malformed or short one,
// or was too slow.
type BodyError struct{ Err error }

func (e *BodyError) Error() string { return "read request body: " + e.Err.Error() }
func (e *BodyError) Unwrap() error { return e.Err }

// RetryAfter is how long clients are asked to wait after a 503.
const RetryAfter = 5 * time.Second

// unavailable reports whether err means the database (or another dependency) cannot be
// reached right now: worth a retry, not a 500. Connection errors are recognised here because
// the store passes pgx's errors through.
func unavailable(err error) bool {
	var connErr *pgconn.ConnectError
	var opErr *net.OpError
	return errors.Is(err, baton.ErrUnavailable) || errors.As(err, &connErr) ||
		errors.Is(err, context.DeadlineExceeded) || // e.g. waiting for a pool connection
		(errors.As(err, &opErr) && opErr.Op == "dial")
}

// StatusOf maps an error to its HTTP status and client-safe code and message.
func StatusOf(err error) (int, string, string) {
	var maxErr *http.MaxBytesError
	if errors.As(err, &maxErr) {
		return http.StatusRequestEntityTooLarge, "too_large", fmt.Sprintf("request body exceeds %d bytes", maxErr.Limit)
	}
	var bodyErr *BodyError
	if errors.As(err, &bodyErr) {
		var ne net.Error
		if errors.As(bodyErr.Err, &ne) && ne.Timeout() {
			return http.StatusRequestTimeout, "request_timeout", "timed out reading the request body"
		}
		return http.StatusBadRequest, "invalid_body", "cannot read the request body: " + bodyErr.Err.Error()
	}
	var be *baton.Error
	code, msg := "", ""
	if errors.As(err, &be) {
		code, msg = be.Code, be.Message
	}
	status := http.StatusInternalServerError
	switch {
	case errors.Is(err, baton.ErrInvalid):
		status = http.StatusBadRequest
	case errors.Is(err, baton.ErrNotFound):
		status = http.StatusNotFound
	case errors.Is(err, baton.ErrConflict):
		status = http.StatusConflict
	case errors.Is(err, baton.ErrUnauthorized):
		status = http.StatusUnauthorized
	case errors.Is(err, baton.ErrForbidden):
		status = http.StatusForbidden
	case errors.Is(err, baton.ErrTooLarge):
		status = http.StatusRequestEntityTooLarge
	case errors.As(err, new(*RateLimitedError)):
		status = http.StatusTooManyRequests
	case unavailable(err):
		status = http.StatusServiceUnavailable
	}
	if status == http.StatusServiceUnavailable && be == nil {
		// Not a message for clients (it names hosts); say what to do instead.
		code, msg = "unavailable", fmt.Sprintf("temporarily unavailable; retry in %d seconds", int(RetryAfter.Seconds()))
	}
	if code == "" {
		code = strings.ToLower(strings.ReplaceAll(http.StatusText(status), " ", "_"))
	}
	if msg == "" || status == http.StatusInternalServerError {
		msg = http.StatusText(status)
		if status == http.StatusInternalServerError {
			code = "internal"
		}
	}
	return status, code, msg
}

// statusClientClosed is nginx's status for a request whose client went away first.
const statusClientClosed = 499

func (s *Server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	status, code, msg := StatusOf(err)
	if status == http.StatusInternalServerError && errors.Is(err, context.Canceled) && r.Context().Err() != nil {
		// A read whose client went away (writes are finished regardless, see wrap): not a
		// server fault, and nobody may be reading.
		status, code, msg = statusClientClosed, "client_closed_request", "the client closed the connection"
	}
	if status >= 500 && s.log != nil {
		s.log.ErrorContext(r.Context(), "request failed", "method", r.Method, "path", r.URL.Path, "err", err)
	}
	if status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Bearer realm="baton"`)
	}
	if status == http.StatusServiceUnavailable {
		w.Header().Set("Retry-After", strconv.Itoa(int(RetryAfter.Seconds())))
	}
	var limited *RateLimitedError
	if errors.As(err, &limited) {
		w.Header().Set("Retry-After", strconv.Itoa(limited.retryAfterSeconds()))
	}
	var body ErrorBody
	body.Error.Code, body.Error.Message = code, msg
	WriteJSON(w, status, body) //nolint:errcheck
}

// DecodeJSON reads a JSON body into v, rejecting unknown fields and trailing data. Errors
// reading the body itself (too large, malformed chunks, cut short, too slow) are returned as
// they are, for StatusOf.
func DecodeJSON(r *http.Request, v any) error {
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		if readErr := bodyReadError(err); readErr != nil {
			return readErr
		}
		if errors.Is(err, io.EOF) {
			return baton.Invalid("request body is empty")
		}
		return baton.Invalid("invalid JSON body: %v", err)
	}
	// Only the end of the body may follow. (dec.More is false before a stray ']' or '}', so
	// it let `{...}]` through.)
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		if readErr := bodyReadError(err); readErr != nil {
			return readErr
		}
		return baton.Invalid("invalid JSON body: trailing data after the JSON value")
	}
	return nil
}

// bodyReadError returns err if it is a failure to read the body rather than bad JSON.
func bodyReadError(err error) error {
	var maxErr *http.MaxBytesError
	var bodyErr *BodyError
	if errors.As(err, &maxErr) || errors.As(err, &bodyErr) {
		return err
	}
	return nil
}

// PathID parses a positive integer path value.
func PathID(r *http.Request, name string) (int64, error) {
	id, err := strconv.ParseInt(r.PathValue(name), 10, 64)
	if err != nil || id <= 0 {
		return 0, baton.Errorf(baton.ErrNotFound, "not_found", "%s not found", name)
	}
	return id, nil
}

func (s *Server) livez(w http.ResponseWriter, r *http.Request) error {
	return WriteJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

func (s *Server) readyz(w http.ResponseWriter, r *http.Request) error {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	out := map[string]string{"status": "ready", "postgres": "ok", "redis": "ok"}
	status := http.StatusOK
	if s.db == nil || s.db.Ping(ctx) != nil {
		out["postgres"], out["status"], status = "down", "not ready", http.StatusServiceUnavailable
	}
	if s.redis == nil {
		out["redis"] = "not configured"
	} else if err := s.redis.Ping(ctx); err != nil {
		out["redis"] = "down" // reported, not fatal: messages wait in the outbox
	}
	return WriteJSON(w, status, out)
}
