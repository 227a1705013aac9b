package llm

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/sashabaranov/go-openai"

	"github.com/batonhq/baton"
)

// Error classes. Every error a Client returns wraps at most one of them; check with errors.Is.
// The transient ones also match baton.ErrUnavailable.
var (
	// ErrRateLimited: the server answered 429 after all retries; see RetryAfter.
	ErrRateLimited = fmt.Errorf("llm rate limited: %w", baton.ErrUnavailable)
	// ErrUnavailable: 5xx, 408, network failure or per-call timeout after all retries.
	ErrUnavailable = fmt.Errorf("llm unavailable: %w", baton.ErrUnavailable)
	// ErrBadRequest: the server rejected the request (4xx other than 408/429); retrying won't help.
	ErrBadRequest = errors.New("llm rejected the request")
	// ErrMalformed: the reply could not be decoded or did not match the expected schema.
	ErrMalformed = errors.New("llm reply malformed")
)

// Retry tuning.
const (
	backoffBase   = 200 * time.Millisecond
	backoffCap    = 10 * time.Second
	maxRetryAfter = 30 * time.Second // longer server requests are shortened to this
)

// RetryAfter returns the delay the server asked for with its last Retry-After header, if any, so a
// queue can schedule its own retry no earlier than that.
func RetryAfter(err error) (time.Duration, bool) {
	var ce *callError
	if errors.As(err, &ce) && ce.hasRetryAfter {
		return ce.retryAfter, true
	}
	return 0, false
}

// StatusCode returns the HTTP status of the last failed attempt, or 0 if there was no response.
func StatusCode(err error) int {
	var ce *callError
	if errors.As(err, &ce) {
		return ce.status
	}
	return 0
}

// callError is what the retry loop returns: a class, the HTTP facts go-openai drops, and the
// underlying error.
type callError struct {
	kind          error // one of the Err* classes, or nil when unclassified
	status        int
	retryAfter    time.Duration
	hasRetryAfter bool
	attempts      int
	err           error
}

func (e *callError) Error() string {
	var b strings.Builder
	if e.kind != nil {
		b.WriteString(e.kind.Error())
	} else {
		b.WriteString("llm call failed")
	}
	if e.status != 0 {
		fmt.Fprintf(&b, " (status %d)", e.status)
	}
	if e.attempts > 1 {
		fmt.Fprintf(&b, " after %d attempts", e.attempts)
	}
	b.WriteString(": ")
	b.WriteString(e.err.Error())
	return b.String()
}

func (e *callError) Unwrap() []error {
	if e.kind == nil {
		return []error{e.err}
	}
	return []error{e.kind, e.err}
}

func (e *callError) retryable() bool {
	return e.kind == ErrRateLimited || e.kind == ErrUnavailable
}

// attemptInfo receives the response status and Retry-After header of one HTTP attempt; the
// transport finds it in the request context.
type attemptInfo struct {
	mu         sync.Mutex
	status     int
	retryAfter string
}

type attemptKey struct{}

func (a *attemptInfo) get() (int, string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.status, a.retryAfter
}

// headerCapture records response facts that go-openai's errors don't carry.
type headerCapture struct {
	base http.RoundTripper
}

func (h *headerCapture) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := h.base.RoundTrip(req)
	if err != nil {
		return resp, err
	}
	if info, ok := req.Context().Value(attemptKey{}).(*attemptInfo); ok {
		info.mu.Lock()
		info.status = resp.StatusCode
		info.retryAfter = resp.Header.Get("Retry-After")
		info.mu.Unlock()
	}
	return resp, nil
}

// call runs fn, giving each attempt its own deadline, and retries transient failures with
// jittered exponential backoff or the server's Retry-After. op names the operation in errors.
func (c *Client) call(ctx context.Context, op string, fn func(ctx context.Context) error) error {
	for attempt := 1; ; attempt++ {
		info := &attemptInfo{}
		actx, cancel := context.WithTimeout(context.WithValue(ctx, attemptKey{}, info), c.cfg.Timeout)
		err := fn(actx)
		// Only our own per-attempt deadline counts as a retryable timeout, not the caller's.
		timedOut := errors.Is(actx.Err(), context.DeadlineExceeded) && ctx.Err() == nil
		cancel()
		if err == nil {
			return nil
		}
		ce := c.classify(err, info, timedOut)
		ce.attempts = attempt
		if ctx.Err() != nil || !ce.retryable() || attempt > c.cfg.MaxRetries {
			return fmt.Errorf("%s: %w", op, ce)
		}

		wait := c.jitter(backoff(attempt))
		if ce.hasRetryAfter {
			wait = min(ce.retryAfter, maxRetryAfter)
		}
		if dl, ok := ctx.Deadline(); ok {
			// The server's wish (or our backoff) outlasts the caller: fail now, the caller's
			// queue can reschedule with RetryAfter(err).
			if remaining := time.Until(dl); ce.retryAfter > remaining || wait >= remaining {
				return fmt.Errorf("%s: %w", op, ce)
			}
		}
		c.log.WarnContext(ctx, "llm_retry",
			"op", op, "attempt", attempt, "status", ce.status, "class", className(ce.kind),
			"wait_ms", wait.Milliseconds())
		if serr := c.sleep(ctx, wait); serr != nil {
			return fmt.Errorf("%s: %w (waiting to retry: %w)", op, ce, serr)
		}
	}
}

func (c *Client) classify(err error, info *attemptInfo, timedOut bool) *callError {
	ce := &callError{err: err}
	status, ra := info.get()
	var (
		apiErr *openai.APIError
		reqErr *openai.RequestError
	)
	switch {
	case errors.As(err, &apiErr):
		ce.status = apiErr.HTTPStatusCode
	case errors.As(err, &reqErr):
		ce.status = reqErr.HTTPStatusCode
	case status >= http.StatusBadRequest:
		ce.status = status
	}

	switch {
	case ce.status == http.StatusTooManyRequests:
		ce.kind = ErrRateLimited
	case ce.status == http.StatusRequestTimeout || ce.status >= http.StatusInternalServerError:
		ce.kind = ErrUnavailable
	case ce.status >= http.StatusBadRequest:
		ce.kind = ErrBadRequest
	case errors.Is(err, ErrMalformed):
		ce.kind = ErrMalformed
	case timedOut:
		ce.kind = ErrUnavailable
	case errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded):
		// The caller's context ended: not ours to classify.
	case isNetworkError(err): // before decode errors: a dropped connection is a *url.Error wrapping io.EOF
		ce.kind = ErrUnavailable
	case isDecodeError(err):
		ce.kind = ErrMalformed
	}

	if ra != "" && ce.retryable() && ce.status != 0 {
		if d, ok := parseRetryAfter(ra, c.clock.Now()); ok {
			ce.retryAfter, ce.hasRetryAfter = d, true
		}
	}
	return ce
}

func isDecodeError(err error) bool {
	var (
		syn *json.SyntaxError
		typ *json.UnmarshalTypeError
	)
	// A 200 whose body ends early or is empty decodes to (Unexpected)EOF; transport failures
	// arrive as *url.Error instead, so these are the server's fault.
	return errors.As(err, &syn) || errors.As(err, &typ) ||
		errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF)
}

func isNetworkError(err error) bool {
	var (
		ue *url.Error
		ne net.Error
	)
	return errors.As(err, &ue) || errors.As(err, &ne)
}

// parseRetryAfter reads delay-seconds or an HTTP date (RFC 9110 §10.2.3).
func parseRetryAfter(v string, now time.Time) (time.Duration, bool) {
	v = strings.TrimSpace(v)
	if secs, err := strconv.ParseFloat(v, 64); err == nil {
		if secs < 0 || secs > 1e9 {
			return 0, false
		}
		return time.Duration(secs * float64(time.Second)), true
	}
	t, err := http.ParseTime(v)
	if err != nil {
		return 0, false
	}
	return max(t.Sub(now), 0), true
}

// backoff is the un-jittered delay before retry number attempt (1-based).
func backoff(attempt int) time.Duration {
	d := backoffBase
	for i := 1; i < attempt && d < backoffCap; i++ {
		d *= 2
	}
	return min(d, backoffCap)
}

// equalJitter picks uniformly in [d/2, d] so synchronized clients spread out but still back off.
func equalJitter(d time.Duration) time.Duration {
	if d <= 1 {
		return d
	}
	half := d / 2
	return half + rand.N(d-half+1)
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func className(kind error) string {
	switch kind {
	case ErrRateLimited:
		return "rate_limited"
	case ErrUnavailable:
		return "unavailable"
	case ErrBadRequest:
		return "bad_request"
	case ErrMalformed:
		return "malformed"
	default:
		return "other"
	}
}
