package web_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/intents"
	"github.com/batonhq/baton/internal/channel"
	"github.com/batonhq/baton/internal/console"
	"github.com/batonhq/baton/internal/dbtest"
	"github.com/batonhq/baton/internal/llm"
	"github.com/batonhq/baton/internal/postgres"
	"github.com/batonhq/baton/internal/web"
	"github.com/batonhq/baton/internal/widget"
	"github.com/batonhq/baton/knowledge"
	"github.com/batonhq/baton/prompts"
)

// webhookSecret signs inbound webhook requests in tests.
const webhookSecret = "test-webhook-secret"

// epoch is where every test server's clock starts.
var epoch = time.Date(2026, 11, 25, 9, 0, 0, 0, time.UTC)

// testServer is Baton's HTTP server on a private database, wired like cmd/baton's app.server
// (the core features, or all of them with withEveryFeature), behind an httptest.Server.
// Its clock moves only when the test says so.
type testServer struct {
	*httptest.Server
	web   *web.Server
	db    *postgres.DB
	clock *baton.ManualClock
}

type serverOptions struct {
	publicURL  string
	sessionTTL time.Duration
	everything bool
}

type serverOption func(*serverOptions)

func withPublicURL(u string) serverOption         { return func(o *serverOptions) { o.publicURL = u } }
func withSessionTTL(d time.Duration) serverOption { return func(o *serverOptions) { o.sessionTTL = d } }

// withEveryFeature mounts every feature (mountAll), not only the core ones most tests need.
func withEveryFeature() serverOption { return func(o *serverOptions) { o.everything = true } }

func newTestServer(t testing.TB, opts ...serverOption) *testServer {
	t.Helper()
	o := serverOptions{publicURL: "http://127.0.0.1:8080", sessionTTL: time.Hour}
	for _, opt := range opts {
		opt(&o)
	}
	clock := baton.NewManualClock(epoch)
	db := postgres.New(dbtest.New(t).Pool, clock)
	s := web.New(web.Options{
		Log: slog.New(slog.NewTextHandler(t.Output(), nil)), Auth: db, PublicURL: o.publicURL,
		SessionTTL: o.sessionTTL, DB: db,
	})
	if o.everything {
		mountAll(t, s, db, clock)
	} else {
		mountCore(s, db)
	}
	hs := httptest.NewServer(s.Handler())
	t.Cleanup(hs.Close)
	return &testServer{Server: hs, web: s, db: db, clock: clock}
}

// mountCore mounts the channels, conversations and users APIs with real stores.
func mountCore(s *web.Server, db *postgres.DB) {
	s.MountChannels(testChannels(db.Clock), db, 0, 24*time.Hour)
	s.MountConversations(db)
	s.MountAgent(db)
	s.MountUsers(db)
}

// mountAll mounts every feature with real stores, as cmd/baton's app.server does. Add new
// Mount calls here and to mounted; TestOpenAPICoversEveryRoute checks both.
func mountAll(t testing.TB, s *web.Server, db *postgres.DB, clock baton.Clock) {
	t.Helper()
	mountCore(s, db)
	catalog, err := intents.NewCatalog(t.Context(), db, nil)
	if err != nil {
		t.Fatalf("load intents: %v", err)
	}
	s.MountIntents(catalog, clock)
	emb, err := llm.NewLocalEmbedder(64)
	if err != nil {
		t.Fatal(err)
	}
	s.MountKnowledge(knowledge.New(db, knowledge.Options{Embedder: emb, Clock: clock}))
	live, err := prompts.NewLive(t.Context(), db, nil)
	if err != nil {
		t.Fatalf("load prompts: %v", err)
	}
	s.MountPrompts(live)
	s.MountOps(&fakeDeadLetters{})
	s.MountSwitches(db)
	s.MountStats(db, clock)
	s.MountChat(web.ChatOptions{Store: db, Tokens: web.ChatTokens{Secret: []byte("chat-secret")}, Clock: clock})
	s.MountAgentEvents(nil, db, 0) // no hub: the stream answers 503 instead of streaming forever
	wh, err := widget.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	s.MountWidget(wh)
	s.MountConsole(console.Store{DB: db}, web.ConsoleSettings{"BATON_BOT_TONE": "friendly"})
	s.MountLoops(db)
	s.MountCustomers(db)
}

// mounted names the *web.Server methods mountAll calls.
var mounted = []string{"MountChannels", "MountConversations", "MountAgent", "MountUsers", "MountIntents", "MountKnowledge", "MountPrompts", "MountOps", "MountSwitches", "MountStats", "MountChat", "MountAgentEvents", "MountWidget", "MountConsole", "MountLoops", "MountCustomers"}

var userSeq atomic.Int64

// user creates an active user with an API token (through the CLI path: no actor).
// teams are names, created when missing.
func (ts *testServer) user(t testing.TB, role baton.Role, teams ...string) (baton.User, string) {
	t.Helper()
	email := fmt.Sprintf("%s%d@example.com", role, userSeq.Add(1))
	u, token, err := ts.db.CreateUser(t.Context(), 0, baton.NewUser{Email: email, Name: "Test " + string(role), Role: role, Teams: teams})
	if err != nil {
		t.Fatalf("create %s: %v", role, err)
	}
	return u, token
}

// session is a logged-in browser.
type session struct {
	cookie *http.Cookie
	csrf   string
}

// login exchanges token for a session cookie.
func (ts *testServer) login(t testing.TB, token string) session {
	t.Helper()
	r := ts.do(t, call{method: "POST", path: "/v1/auth/session", body: map[string]string{"token": token}})
	if r.status != http.StatusCreated {
		t.Fatalf("login: status %d, body %s", r.status, r.body)
	}
	var out struct {
		CSRF string `json:"csrf_token"`
	}
	r.decode(t, &out)
	for _, c := range r.cookies() {
		if c.Name == "baton_session" {
			return session{cookie: &http.Cookie{Name: c.Name, Value: c.Value}, csrf: out.CSRF}
		}
	}
	t.Fatalf("login: no baton_session cookie in %q", r.header.Values("Set-Cookie"))
	return session{}
}

// call is one request. body is JSON-encoded unless it is a string, which is sent as is.
type call struct {
	method, path string
	body         any
	token        string   // Authorization: Bearer <token>
	session      *session // the session cookie
	csrf         string   // X-CSRF-Token
	header       map[string]string
}

type response struct {
	status int
	header http.Header
	body   []byte
}

func (ts *testServer) do(t testing.TB, c call) response {
	t.Helper()
	return do(t, ts.URL, c)
}

func do(t testing.TB, baseURL string, c call) response {
	t.Helper()
	r, err := send(t.Context(), baseURL, c)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// send makes one request; unlike do, it may run outside the test's goroutine.
func send(ctx context.Context, baseURL string, c call) (response, error) {
	var body io.Reader
	switch b := c.body.(type) {
	case nil:
	case string:
		body = strings.NewReader(b)
	default:
		raw, err := json.Marshal(b)
		if err != nil {
			return response{}, fmt.Errorf("encode body: %w", err)
		}
		body = bytes.NewReader(raw)
	}
	req, err := http.NewRequestWithContext(ctx, c.method, baseURL+c.path, body)
	if err != nil {
		return response{}, fmt.Errorf("build request: %w", err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	if c.session != nil {
		req.AddCookie(c.session.cookie)
	}
	if c.csrf != "" {
		req.Header.Set("X-CSRF-Token", c.csrf)
	}
	for k, v := range c.header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return response{}, fmt.Errorf("%s %s: %w", c.method, c.path, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return response{}, fmt.Errorf("%s %s: read body: %w", c.method, c.path, err)
	}
	return response{status: resp.StatusCode, header: resp.Header, body: raw}, nil
}

func (r response) cookies() []*http.Cookie {
	return (&http.Response{Header: r.header}).Cookies()
}

// decode decodes a JSON response body into v.
func (r response) decode(t testing.TB, v any) {
	t.Helper()
	if ct := r.header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type = %q, want application/json", ct)
	}
	if err := json.Unmarshal(r.body, v); err != nil {
		t.Fatalf("decode %s: %v", r.body, err)
	}
}

// wantStatus fails unless the response has status.
func (r response) wantStatus(t testing.TB, status int) {
	t.Helper()
	if r.status != status {
		t.Fatalf("status = %d, want %d; body %s", r.status, status, r.body)
	}
}

// wantError checks status and code, and that the body is exactly the API's one error shape,
// {"error":{"code":"…","message":"…"}}, with a message.
func (r response) wantError(t testing.TB, status int, code string) {
	t.Helper()
	if r.status != status {
		t.Errorf("status = %d, want %d; body %s", r.status, status, r.body)
	}
	if ct := r.header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type = %q, want application/json", ct)
	}
	var body struct {
		Error *struct {
			Code    string `json:"code"`
			Message string `json:"message"`
		} `json:"error"`
	}
	dec := json.NewDecoder(bytes.NewReader(r.body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&body); err != nil || dec.More() {
		t.Fatalf("error body %s is not {\"error\":{\"code\",\"message\"}}: %v", r.body, err)
	}
	if body.Error == nil {
		t.Fatalf("error body %s has no \"error\"", r.body)
	}
	if body.Error.Code != code {
		t.Errorf("error code = %q, want %q (message %q)", body.Error.Code, code, body.Error.Message)
	}
	if body.Error.Message == "" {
		t.Errorf("error body %s has an empty message", r.body)
	}
}

// errorMessage returns the message of an error body.
func (r response) errorMessage(t testing.TB) string {
	t.Helper()
	var body web.ErrorBody
	if err := json.Unmarshal(r.body, &body); err != nil {
		t.Fatalf("decode error body %s: %v", r.body, err)
	}
	return body.Error.Message
}

// count runs a COUNT query against the test database.
func (ts *testServer) count(t testing.TB, query string, args ...any) int {
	t.Helper()
	var n int
	if err := ts.db.Pool.QueryRow(t.Context(), query, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return n
}

// pingerFunc is a web.Pinger made of a function.
type pingerFunc func(ctx context.Context) error

func (f pingerFunc) Ping(ctx context.Context) error { return f(ctx) }

var (
	pingOK   = pingerFunc(func(context.Context) error { return nil })
	pingDown = pingerFunc(func(context.Context) error { return errors.New("connection refused") })
)

func TestLivez(t *testing.T) {
	t.Parallel()
	hs := httptest.NewServer(web.New(web.Options{}).Handler())
	t.Cleanup(hs.Close)
	r := do(t, hs.URL, call{method: "GET", path: "/livez"})
	r.wantStatus(t, http.StatusOK)
	var got map[string]string
	r.decode(t, &got)
	if got["status"] != "ok" || len(got) != 1 {
		t.Errorf("body = %v, want {status: ok}", got)
	}
}

func TestReadyz(t *testing.T) {
	t.Parallel()
	pg := postgres.New(dbtest.New(t).Pool, nil) // a real database answers the DB ping
	tests := []struct {
		name       string
		db, redis  web.Pinger
		wantStatus int
		want       map[string]string
	}{
		{"postgres up, redis not configured", pg, nil, http.StatusOK,
			map[string]string{"status": "ready", "postgres": "ok", "redis": "not configured"}},
		{"postgres and redis up", pg, pingOK, http.StatusOK,
			map[string]string{"status": "ready", "postgres": "ok", "redis": "ok"}},
		{"redis down stays ready", pg, pingDown, http.StatusOK,
			map[string]string{"status": "ready", "postgres": "ok", "redis": "down"}},
		{"postgres down", pingDown, pingOK, http.StatusServiceUnavailable,
			map[string]string{"status": "not ready", "postgres": "down", "redis": "ok"}},
		{"no postgres pinger", nil, pingOK, http.StatusServiceUnavailable,
			map[string]string{"status": "not ready", "postgres": "down", "redis": "ok"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			hs := httptest.NewServer(web.New(web.Options{DB: tt.db, Redis: tt.redis}).Handler())
			t.Cleanup(hs.Close)
			r := do(t, hs.URL, call{method: "GET", path: "/readyz"})
			r.wantStatus(t, tt.wantStatus)
			var got map[string]string
			r.decode(t, &got)
			if fmt.Sprint(got) != fmt.Sprint(tt.want) {
				t.Errorf("body = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestMetricsRecordRequests(t *testing.T) {
	t.Parallel()
	hs := httptest.NewServer(web.New(web.Options{}).Handler())
	t.Cleanup(hs.Close)
	do(t, hs.URL, call{method: "GET", path: "/livez"}).wantStatus(t, http.StatusOK)
	do(t, hs.URL, call{method: "GET", path: "/livez"}).wantStatus(t, http.StatusOK)
	do(t, hs.URL, call{method: "GET", path: "/v1/auth/me"}).wantStatus(t, http.StatusUnauthorized)

	r := do(t, hs.URL, call{method: "GET", path: "/metrics"})
	r.wantStatus(t, http.StatusOK)
	if ct := r.header.Get("Content-Type"); !strings.HasPrefix(ct, "text/plain") {
		t.Errorf("Content-Type = %q, want text/plain", ct)
	}
	for _, want := range []string{
		"# TYPE baton_http_request_duration_seconds histogram",
		`baton_http_request_duration_seconds_count{route="GET /livez",status="200"} 2`,
		`baton_http_request_duration_seconds_count{route="GET /v1/auth/me",status="401"} 1`,
	} {
		if !strings.Contains(string(r.body), want) {
			t.Errorf("metrics lack %q:\n%s", want, r.body)
		}
	}
}

// padded returns format (with one %s) filled so that the result is exactly size bytes.
func padded(t testing.TB, format string, size int) string {
	t.Helper()
	n := size - (len(format) - len("%s"))
	if n < 0 {
		t.Fatalf("format %q is longer than %d bytes", format, size)
	}
	s := fmt.Sprintf(format, strings.Repeat("x", n))
	if len(s) != size {
		t.Fatalf("padded body is %d bytes, want %d", len(s), size)
	}
	return s
}

func TestBodyLimits(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	admin, adminToken := ts.user(t, baton.RoleAdmin)
	tests := []struct {
		name    string
		method  string
		path    string
		format  string // a JSON body with one %s for the padding
		limit   int
		signed  bool
		atLimit int // status of a body of exactly limit bytes
	}{
		{"create session", "POST", "/v1/auth/session", `{"token":"%s"}`, 4 << 10, false, http.StatusUnauthorized},
		{"create team", "POST", "/v1/admin/teams", `{"name":"%s"}`, 4 << 10, false, http.StatusBadRequest},
		{"create user", "POST", "/v1/admin/users", `{"email":"big@example.com","role":"agent","name":"%s"}`, 16 << 10, false, http.StatusCreated},
		{"update user", "PATCH", fmt.Sprintf("/v1/admin/users/%d", admin.ID), `{"name":"%s"}`, 16 << 10, false, http.StatusOK},
		{"webhook", "POST", "/v1/channels/webhook/messages", `{"sender":{"id":"c1"},"message":{"id":"m1","text":"%s"}}`, 64 << 10, true, http.StatusBadRequest},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			send := func(body string) response {
				c := call{method: tt.method, path: tt.path, body: body, token: adminToken}
				if tt.signed {
					c.token, c.header = "", map[string]string{channel.SignatureHeader: channel.Sign(webhookSecret, []byte(body))}
				}
				return ts.do(t, c)
			}
			over := send(padded(t, tt.format, tt.limit+1))
			over.wantError(t, http.StatusRequestEntityTooLarge, "too_large")
			if msg, want := over.errorMessage(t), fmt.Sprintf("request body exceeds %d bytes", tt.limit); msg != want {
				t.Errorf("message = %q, want %q", msg, want)
			}
			if at := send(padded(t, tt.format, tt.limit)); at.status != tt.atLimit {
				t.Errorf("a body of exactly %d bytes: status %d, want %d; body %.200s", tt.limit, at.status, tt.atLimit, at.body)
			}
		})
	}
}

func TestUnknownJSONFieldIsRejected(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	agent, _ := ts.user(t, baton.RoleAgent)
	_, adminToken := ts.user(t, baton.RoleAdmin)
	tests := []struct {
		name         string
		method, path string
		body         string
		field        string
		unchanged    string // a COUNT query that must stay 0
	}{
		{"create session", "POST", "/v1/auth/session", `{"token":"btn_x","remember":true}`, "remember", ""},
		{"create user", "POST", "/v1/admin/users", `{"email":"sneaky@example.com","role":"agent","password":"x"}`, "password",
			`SELECT count(*) FROM users WHERE email = 'sneaky@example.com'`},
		{"update user", "PATCH", fmt.Sprintf("/v1/admin/users/%d", agent.ID), `{"role":"admin","superuser":true}`, "superuser",
			fmt.Sprintf(`SELECT count(*) FROM users WHERE id = %d AND role = 'admin'`, agent.ID)},
		{"create team", "POST", "/v1/admin/teams", `{"name":"ops","color":"red"}`, "color",
			`SELECT count(*) FROM teams WHERE name = 'ops'`},
		{"webhook", "POST", "/v1/channels/webhook/messages", `{"sender":{"id":"c1"},"message":{"id":"m1","text":"hi"},"priority":9}`, "priority",
			`SELECT count(*) FROM messages`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := call{method: tt.method, path: tt.path, body: tt.body, token: adminToken,
				header: map[string]string{channel.SignatureHeader: channel.Sign(webhookSecret, []byte(tt.body))}}
			r := ts.do(t, c)
			r.wantError(t, http.StatusBadRequest, "invalid_request")
			if msg := r.errorMessage(t); !strings.Contains(msg, tt.field) {
				t.Errorf("message %q does not name the field %q", msg, tt.field)
			}
			if tt.unchanged != "" {
				if n := ts.count(t, tt.unchanged); n != 0 {
					t.Errorf("%s = %d after a rejected request, want 0", tt.unchanged, n)
				}
			}
		})
	}
}

func TestMalformedJSONBodies(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	_, adminToken := ts.user(t, baton.RoleAdmin)
	tests := []struct {
		name string
		body string
	}{
		{"empty", ""},
		{"not JSON", "name=ops"},
		{"truncated", `{"name":"ops"`},
		{"trailing data", `{"name":"ops"} {"name":"dev"}`},
		{"wrong type", `{"name":42}`},
		{"array", `[{"name":"ops"}]`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ts.do(t, call{method: "POST", path: "/v1/admin/teams", body: tt.body, token: adminToken}).
				wantError(t, http.StatusBadRequest, "invalid_request")
			if n := ts.count(t, `SELECT count(*) FROM teams WHERE NOT is_default`); n != 0 {
				t.Errorf("%d teams created by malformed requests, want 0", n)
			}
		})
	}
}
