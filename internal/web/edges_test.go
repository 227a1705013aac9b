package web_test

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/internal/channel"
	"github.com/batonhq/baton/internal/channel/webhook"
	"github.com/batonhq/baton/internal/postgres"
	"github.com/batonhq/baton/internal/web"
	"github.com/batonhq/baton/knowledge"
)

func TestTrailingDataAfterJSONIsRefused(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	_, admin := ts.user(t, baton.RoleAdmin)
	msg := webhookBody("ada", "m1", "hi")
	team := `{"name":"sales"}`
	tests := []struct {
		name string
		call call
	}{
		{"webhook, closing bracket", signed(webhookPath, msg+"]")},
		{"webhook, closing brace", signed(webhookPath, msg+"}")},
		{"webhook, bracket after a newline", signed(webhookPath, msg+"\n]")},
		{"webhook, a second object", signed(webhookPath, msg+msg)},
		{"webhook, a word", signed(webhookPath, msg+" x")},
		{"api, closing bracket", call{method: "POST", path: "/v1/admin/teams", token: admin, body: team + "]"}},
		{"api, closing brace", call{method: "POST", path: "/v1/admin/teams", token: admin, body: team + "}"}},
		{"api, a second object", call{method: "POST", path: "/v1/admin/teams", token: admin, body: team + team}},
		{"api, a number", call{method: "POST", path: "/v1/admin/teams", token: admin, body: team + " 7"}},
	}
	t.Run("refused", func(t *testing.T) {
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				t.Parallel()
				ts.do(t, tt.call).wantError(t, http.StatusBadRequest, "invalid_request")
			})
		}
	})
	if n := ts.count(t, `SELECT count(*) FROM messages`) + ts.count(t, `SELECT count(*) FROM teams WHERE NOT is_default`); n != 0 {
		t.Errorf("refused requests stored %d rows, want 0", n)
	}
	// Trailing whitespace is still fine.
	ts.do(t, signed(webhookPath, msg+" \r\n")).wantStatus(t, http.StatusAccepted)
	ts.do(t, call{method: "POST", path: "/v1/admin/teams", token: admin, body: team + "\n"}).wantStatus(t, http.StatusCreated)
}

// rawRequest writes a request on a raw TCP connection, optionally closes the write side, and
// reads the response.
func rawRequest(t testing.TB, addr, request string, closeWrite bool) response {
	t.Helper()
	r, err := rawSend(addr, request, closeWrite)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// rawSend is rawRequest for any goroutine.
func rawSend(addr, request string, closeWrite bool) (response, error) {
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		return response{}, err
	}
	defer conn.Close()
	// A safety net, not synchronisation: a hung server fails the test instead of the run.
	conn.SetDeadline(time.Now().Add(30 * time.Second)) //nolint:errcheck
	if _, err := io.WriteString(conn, request); err != nil {
		return response{}, err
	}
	if closeWrite {
		if err := conn.(*net.TCPConn).CloseWrite(); err != nil {
			return response{}, err
		}
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		return response{}, fmt.Errorf("read response: %w", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return response{}, fmt.Errorf("read response body: %w", err)
	}
	return response{status: resp.StatusCode, header: resp.Header, body: body}, nil
}

func TestUnreadableBodiesAre400AndStoreNothing(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	_, admin := ts.user(t, baton.RoleAdmin)
	addr := ts.Listener.Addr().String()
	msg := webhookBody("ada", "m1", "hi")
	team := `{"name":"sales"}`
	head := func(path, auth, framing string) string {
		return "POST " + path + " HTTP/1.1\r\nHost: baton\r\nContent-Type: application/json\r\n" + auth + framing + "\r\n"
	}
	sig := channel.SignatureHeader + ": " + channel.Sign(webhookSecret, []byte(msg)) + "\r\n"
	bearer := "Authorization: Bearer " + admin + "\r\n"
	const chunked = "Transfer-Encoding: chunked\r\n"
	tests := []struct {
		name       string
		request    string
		closeWrite bool
	}{
		{"webhook, bad chunk length", head(webhookPath, sig, chunked) + "zz\r\n" + msg + "\r\n0\r\n\r\n", false},
		{"webhook, chunk longer than sent, then half-closed", head(webhookPath, sig, chunked) + fmt.Sprintf("%x\r\n", len(msg)+50) + msg, true},
		{"webhook, chunk without its CRLF", head(webhookPath, sig, chunked) + fmt.Sprintf("%x\r\n", len(msg)) + msg + "XX0\r\n\r\n", false},
		{"webhook, body shorter than Content-Length, then half-closed", head(webhookPath, sig, fmt.Sprintf("Content-Length: %d\r\n", len(msg)+50)) + msg, true},
		{"api, bad chunk length", head("/v1/admin/teams", bearer, chunked) + "-1\r\n" + team + "\r\n0\r\n\r\n", false},
		{"api, body shorter than Content-Length, then half-closed", head("/v1/admin/teams", bearer, fmt.Sprintf("Content-Length: %d\r\n", len(team)+50)) + team, true},
	}
	t.Run("refused", func(t *testing.T) {
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				t.Parallel()
				rawRequest(t, addr, tt.request, tt.closeWrite).wantError(t, http.StatusBadRequest, "invalid_body")
			})
		}
	})
	if n := ts.count(t, `SELECT count(*) FROM messages`) + ts.count(t, `SELECT count(*) FROM teams WHERE NOT is_default`); n != 0 {
		t.Errorf("unreadable requests stored %d rows, want 0", n)
	}
	// The same bodies, complete, are accepted.
	rawRequest(t, addr, head(webhookPath, sig, fmt.Sprintf("Content-Length: %d\r\nConnection: close\r\n", len(msg)))+msg, false).
		wantStatus(t, http.StatusAccepted)
}

func TestSlowBodyIs408(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	s := httptest.NewUnstartedServer(ts.web.Handler())
	s.Config.ReadTimeout = 500 * time.Millisecond // the server's deadline is what the test waits for
	s.Start()
	t.Cleanup(s.Close)
	msg := webhookBody("ada", "m1", "hi")
	req := "POST " + webhookPath + " HTTP/1.1\r\nHost: baton\r\nContent-Type: application/json\r\n" +
		channel.SignatureHeader + ": " + channel.Sign(webhookSecret, []byte(msg)) + "\r\n" +
		fmt.Sprintf("Content-Length: %d\r\n\r\n", len(msg)) + msg[:10]
	rawRequest(t, s.Listener.Addr().String(), req, false).wantError(t, http.StatusRequestTimeout, "request_timeout")
	if n := ts.count(t, `SELECT count(*) FROM messages`); n != 0 {
		t.Errorf("a timed-out request stored %d messages", n)
	}
}

// deadDatabase is a store on a pool whose server refuses connections: a database outage.
func deadDatabase(t testing.TB) *postgres.DB {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close() // nothing listens there now
	pool, err := pgxpool.New(t.Context(), "postgres://postgres@"+addr+"/baton?sslmode=disable&connect_timeout=5")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	return postgres.New(pool, baton.NewManualClock(epoch))
}

func TestDatabaseOutageIs503WithRetryAfter(t *testing.T) {
	t.Parallel()
	db := deadDatabase(t)
	s := web.New(web.Options{Auth: db})
	s.MountChannels(channel.Registry{"webhook": &webhook.Adapter{Secrets: []string{webhookSecret}}}, db, 0, time.Hour)
	s.MountUsers(db)
	hs := httptest.NewServer(s.Handler())
	t.Cleanup(hs.Close)
	tests := []struct {
		name string
		call call
	}{
		{"webhook ingest", signed(webhookPath, webhookBody("ada", "m1", "hi"))},
		{"token lookup", call{method: "GET", path: "/v1/auth/me", token: "btn_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := do(t, hs.URL, tt.call)
			r.wantError(t, http.StatusServiceUnavailable, "unavailable")
			if got := r.header.Get("Retry-After"); got != "5" {
				t.Errorf("Retry-After = %q, want 5", got)
			}
			if strings.Contains(string(r.body), "127.0.0.1") {
				t.Errorf("the error body %s leaks the database address", r.body)
			}
		})
	}
}

func TestStatusOfUnavailableErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		err  error
		want int
	}{
		{"unavailable kind", fmt.Errorf("store: %w", baton.ErrUnavailable), http.StatusServiceUnavailable},
		{"deadline while acquiring", fmt.Errorf("acquire connection: %w", context.DeadlineExceeded), http.StatusServiceUnavailable},
		{"dial refused", fmt.Errorf("query: %w", &net.OpError{Op: "dial", Net: "tcp", Err: errors.New("connection refused")}), http.StatusServiceUnavailable},
		{"read error is not an outage", &net.OpError{Op: "read", Net: "tcp", Err: errors.New("reset")}, http.StatusInternalServerError},
		{"anything else", errors.New("boom"), http.StatusInternalServerError},
		{"body cut short", &web.BodyError{Err: io.ErrUnexpectedEOF}, http.StatusBadRequest},
		{"body too slow", &web.BodyError{Err: &net.OpError{Op: "read", Err: timeoutError{}}}, http.StatusRequestTimeout},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got, _, _ := web.StatusOf(tt.err); got != tt.want {
				t.Errorf("StatusOf(%v) = %d, want %d", tt.err, got, tt.want)
			}
		})
	}
}

type timeoutError struct{}

func (timeoutError) Error() string   { return "i/o timeout" }
func (timeoutError) Timeout() bool   { return true }
func (timeoutError) Temporary() bool { return true }

func TestMetricsToken(t *testing.T) {
	t.Parallel()
	const token = "metrics-secret"
	hs := httptest.NewServer(web.New(web.Options{MetricsToken: token}).Handler())
	t.Cleanup(hs.Close)
	do(t, hs.URL, call{method: "GET", path: "/livez"}).wantStatus(t, http.StatusOK) // something to report
	tests := []struct {
		name, authorization string
		want                int
	}{
		{"no token", "", http.StatusUnauthorized},
		{"wrong token", "Bearer nope", http.StatusUnauthorized},
		{"token as a prefix", "Bearer " + token + "x", http.StatusUnauthorized},
		{"basic scheme", "Basic " + token, http.StatusUnauthorized},
		{"the token", "Bearer " + token, http.StatusOK},
		{"the token, scheme in lower case", "bearer " + token, http.StatusOK},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := call{method: "GET", path: "/metrics"}
			if tt.authorization != "" {
				c.header = map[string]string{"Authorization": tt.authorization}
			}
			r := do(t, hs.URL, c)
			if tt.want == http.StatusUnauthorized {
				r.wantError(t, tt.want, "unauthorized")
				return
			}
			r.wantStatus(t, tt.want)
			if !strings.Contains(string(r.body), "baton_http_request_duration_seconds") {
				t.Errorf("metrics body lacks the request histogram:\n%s", r.body)
			}
		})
	}
}

func TestMetricsOnTheirOwnListener(t *testing.T) {
	t.Parallel()
	s := web.New(web.Options{MetricsElsewhere: true})
	api := httptest.NewServer(s.Handler())
	t.Cleanup(api.Close)
	metrics := httptest.NewServer(s.MetricsHandler())
	t.Cleanup(metrics.Close)
	do(t, api.URL, call{method: "GET", path: "/livez"}).wantStatus(t, http.StatusOK)
	do(t, api.URL, call{method: "GET", path: "/metrics"}).wantError(t, http.StatusNotFound, "not_found")
	r := do(t, metrics.URL, call{method: "GET", path: "/metrics"})
	r.wantStatus(t, http.StatusOK)
	if !strings.Contains(string(r.body), `route="GET /livez",status="200"`) {
		t.Errorf("the metrics listener does not report the API's requests:\n%s", r.body)
	}
}

func TestSentAtOutsideTheWindowDoesNotReorder(t *testing.T) {
	t.Parallel()
	withSentAt := func(id, text string, at time.Time) string {
		var b channel.WebhookBody
		b.Sender.ID, b.Message.ID, b.Message.Text, b.Message.SentAt = "ada", id, text, &at
		raw, _ := json.Marshal(b)
		return string(raw)
	}
	future := func(d time.Duration) func(time.Time) time.Time {
		return func(now time.Time) time.Time { return now.Add(d) }
	}
	tests := []struct {
		name        string
		stampSecond bool                          // sent_at on the second message, else on the first
		sentAt      func(now time.Time) time.Time // from the stamped message's arrival
		want        string                        // order of the texts
	}{
		{"far future", false, func(time.Time) time.Time { return time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC) }, "first,second"},
		{"just past the future edge", false, future(channel.MaxSentAtAhead + time.Second), "first,second"},
		{"at the future edge", false, future(channel.MaxSentAtAhead), "second,first"},
		{"far past", true, func(time.Time) time.Time { return time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC) }, "first,second"},
		{"just past the past edge", true, future(-channel.MaxSentAtBehind - time.Second), "first,second"},
		{"at the past edge", true, future(-channel.MaxSentAtBehind), "second,first"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ts := newTestServer(t)
			first, second := webhookBody("ada", "m1", "first"), webhookBody("ada", "m2", "second")
			if !tt.stampSecond {
				first = withSentAt("m1", "first", tt.sentAt(ts.clock.Now()))
			}
			ts.do(t, signed(webhookPath, first)).wantStatus(t, http.StatusAccepted)
			ts.clock.Advance(time.Minute)
			if tt.stampSecond {
				second = withSentAt("m2", "second", tt.sentAt(ts.clock.Now()))
			}
			ts.do(t, signed(webhookPath, second)).wantStatus(t, http.StatusAccepted)
			var order string
			if err := ts.db.Pool.QueryRow(t.Context(), `SELECT string_agg(body, ',' ORDER BY sort_at, id) FROM messages`).Scan(&order); err != nil {
				t.Fatal(err)
			}
			if order != tt.want {
				t.Errorf("order %s, want %s", order, tt.want)
			}
		})
	}
}

func TestHalfClosedCompleteRequestsAreAllStored(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	addr := ts.Listener.Addr().String()
	const n = 20
	type result struct {
		r   response
		err error
	}
	results := make(chan result, n)
	for i := range n {
		go func() {
			msg := webhookBody(fmt.Sprintf("c%d", i), fmt.Sprintf("m%d", i), "hello")
			req := "POST " + webhookPath + " HTTP/1.1\r\nHost: baton\r\nContent-Type: application/json\r\n" +
				channel.SignatureHeader + ": " + channel.Sign(webhookSecret, []byte(msg)) + "\r\n" +
				fmt.Sprintf("Content-Length: %d\r\n\r\n", len(msg)) + msg
			r, err := rawSend(addr, req, true)
			results <- result{r, err}
		}()
	}
	for range n {
		res := <-results
		if res.err != nil {
			t.Fatal(res.err)
		}
		res.r.wantStatus(t, http.StatusAccepted)
	}
	if got := ts.count(t, `SELECT count(*) FROM messages`); got != n {
		t.Errorf("%d of %d half-closed, complete requests stored; want all, each acknowledged", got, n)
	}
}

func TestImportFromAnInternalURLIsRefused(t *testing.T) {
	t.Parallel()
	var hits atomic.Int64
	internal := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		w.Header().Set("Content-Type", "text/html")
		fmt.Fprint(w, `<html><body><main><h1>Admin</h1><p>The internal password is hunter2.</p></main></body></html>`)
	}))
	t.Cleanup(internal.Close)
	ts, _ := newKnowledgeServer(t)
	_, admin := ts.user(t, baton.RoleAdmin)
	before := ts.count(t, `SELECT count(*) FROM kb_articles`)
	_, port, _ := net.SplitHostPort(internal.Listener.Addr().String())
	for _, u := range []string{internal.URL + "/", "http://localhost:" + port + "/", "http://[::ffff:127.0.0.1]:" + port + "/"} {
		r := ts.do(t, call{method: "POST", path: "/v1/knowledge/imports", token: admin, body: map[string]any{"url": u}})
		if r.status == http.StatusBadRequest {
			// Refused up front (the route calls knowledge.CheckURL).
			r.wantError(t, http.StatusBadRequest, "invalid_request")
			continue
		}
		r.wantStatus(t, http.StatusAccepted)
		var job knowledge.ImportJob
		r.decode(t, &job)
		ts.do(t, call{method: "GET", path: fmt.Sprintf("/v1/knowledge/imports/%d", job.ID), token: admin}).decode(t, &job)
		if job.Status != knowledge.JobFailed || !strings.Contains(job.Error, "loopback address") || !strings.Contains(job.Error, "not allowed") {
			t.Errorf("import of %s: job %+v; want failed, naming the loopback address as not allowed", u, job)
		}
	}
	if n := hits.Load(); n != 0 {
		t.Errorf("the internal server was fetched %d times", n)
	}
	if n := ts.count(t, `SELECT count(*) FROM kb_articles`); n != before {
		t.Errorf("%d articles imported from internal addresses", n-before)
	}
}
