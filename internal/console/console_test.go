package console_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/internal/testkit"
)

var seq atomic.Int64

// client is one browser or API caller of a test Baton.
type client struct {
	t      testing.TB
	base   string
	bearer string
	cookie *http.Cookie
	csrf   string
}

type reply struct {
	status int
	header http.Header
	body   []byte
}

func (r reply) json(t testing.TB) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.body, &m); err != nil {
		t.Fatalf("decode %s: %v", r.body, err)
	}
	return m
}

func (c *client) do(method, path string, body any, withCSRF bool) reply {
	c.t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, c.base+path, rd)
	if err != nil {
		c.t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.bearer != "" {
		req.Header.Set("Authorization", "Bearer "+c.bearer)
	}
	if c.cookie != nil {
		req.AddCookie(c.cookie)
		if withCSRF {
			req.Header.Set("X-CSRF-Token", c.csrf)
		}
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return reply{status: res.StatusCode, header: res.Header, body: b}
}

// user creates a user and returns its API token.
func user(t testing.TB, b *testkit.Baton, role baton.Role, teams ...string) string {
	t.Helper()
	_, token, err := b.DB.CreateUser(context.Background(), 0, baton.NewUser{
		Email: fmt.Sprintf("%s%d@example.com", role, seq.Add(1)), Name: "Test " + string(role), Role: role, Teams: teams})
	if err != nil {
		t.Fatal(err)
	}
	return token
}

// browser signs in like the page's form does: the token for a session cookie and CSRF token.
func browser(t testing.TB, b *testkit.Baton, token string) *client {
	t.Helper()
	c := &client{t: t, base: b.URL}
	r := c.do("POST", "/v1/auth/session", map[string]string{"token": token}, false)
	if r.status != http.StatusCreated {
		t.Fatalf("sign in: %d %s", r.status, r.body)
	}
	c.csrf, _ = r.json(t)["csrf_token"].(string)
	for _, ck := range (&http.Response{Header: r.header}).Cookies() {
		if ck.Name == "baton_session" {
			c.cookie = ck
		}
	}
	if c.cookie == nil || c.csrf == "" {
		t.Fatalf("sign in gave no session cookie or CSRF token: %v", r.header)
	}
	return c
}

// handoff makes a customer ask for a person and waits until the conversation is queued.
func handoff(t testing.TB, b *testkit.Baton, sender string) int64 {
	t.Helper()
	status, body := b.Post(t, testkit.Message(sender, "Nora Quinn", sender+"-1", "can I speak to a real person please"))
	if status != http.StatusAccepted && status != http.StatusOK && status != http.StatusCreated {
		t.Fatalf("post: %d %v", status, body)
	}
	conv := testkit.ID(body["conversation_id"])
	testkit.WaitFor(t, 20*time.Second, "the handoff", func() bool {
		return b.Count(t, `SELECT count(*) FROM conversations WHERE id = $1 AND status = 'queued'`, conv) == 1
	})
	return conv
}

func TestPagesAnswerWithTheSignInForm(t *testing.T) {
	t.Parallel()
	b := testkit.Start(t, testkit.Options{NoWork: true})
	anon := &client{t: t, base: b.URL}
	for _, path := range []string{"/agent", "/admin"} {
		r := anon.do("GET", path, nil, false)
		if r.status != http.StatusOK || !strings.HasPrefix(r.header.Get("Content-Type"), "text/html") {
			t.Fatalf("GET %s: %d %s", path, r.status, r.header.Get("Content-Type"))
		}
		for _, want := range []string{`<form id="signin"`, `<label for="token">`, `/console/common.js`} {
			if !bytes.Contains(r.body, []byte(want)) {
				t.Errorf("GET %s lacks %s", path, want)
			}
		}
		if csp := r.header.Get("Content-Security-Policy"); !strings.Contains(csp, "script-src 'self'") {
			t.Errorf("GET %s: Content-Security-Policy %q allows scripts from elsewhere", path, csp)
		}
	}
	for _, path := range []string{"/console/common.js", "/console/agent.js", "/console/admin.js", "/console/console.css"} {
		r := anon.do("GET", path, nil, false)
		if r.status != http.StatusOK || len(r.body) < 500 {
			t.Errorf("GET %s: %d, %d bytes", path, r.status, len(r.body))
		}
	}
	for _, path := range []string{"/console/agent.html", "/console/nope.js", "/console/..%2fconsole.go"} {
		if r := anon.do("GET", path, nil, false); r.status != http.StatusNotFound {
			t.Errorf("GET %s: %d, want 404", path, r.status)
		}
	}
}

func TestInboxListsTheQueueAndMine(t *testing.T) {
	t.Parallel()
	b := testkit.Start(t, testkit.Options{RealBot: true, Seed: true})
	conv := handoff(t, b, fmt.Sprintf("inbox-%d", time.Now().UnixNano()))
	agent := browser(t, b, user(t, b, baton.RoleAgent, "support"))
	other := browser(t, b, user(t, b, baton.RoleAgent, "elsewhere"))

	find := func(list []any) map[string]any {
		for _, it := range list {
			if m := it.(map[string]any); testkit.ID(m["id"]) == conv {
				return m
			}
		}
		return nil
	}
	in := agent.do("GET", "/v1/agent/inbox", nil, false)
	if in.status != http.StatusOK {
		t.Fatalf("inbox: %d %s", in.status, in.body)
	}
	item := find(in.json(t)["queue"].([]any))
	if item == nil {
		t.Fatalf("conversation %d is not in the queue: %s", conv, in.body)
	}
	if item["reason"] != "customer_request" || item["status"] != "queued" || item["last_message_at"] == nil {
		t.Errorf("queue item = %v", item)
	}
	if _, ok := item["sentiment"].(float64); !ok {
		t.Errorf("queue item has no sentiment: %v", item)
	}
	if find(other.do("GET", "/v1/agent/inbox", nil, false).json(t)["queue"].([]any)) != nil {
		t.Error("an agent of another team sees the conversation in the queue")
	}

	if r := agent.do("POST", fmt.Sprintf("/v1/conversations/%d/claim", conv), nil, true); r.status != http.StatusOK {
		t.Fatalf("claim: %d %s", r.status, r.body)
	}
	in = agent.do("GET", "/v1/agent/inbox", nil, false)
	if find(in.json(t)["queue"].([]any)) != nil || find(in.json(t)["mine"].([]any)) == nil {
		t.Errorf("after the claim the conversation is not (only) in mine: %s", in.body)
	}
}

func TestCookieWritesNeedTheCSRFToken(t *testing.T) {
	t.Parallel()
	b := testkit.Start(t, testkit.Options{RealBot: true, Seed: true})
	conv := handoff(t, b, fmt.Sprintf("csrf-%d", time.Now().UnixNano()))
	agent := browser(t, b, user(t, b, baton.RoleAgent, "support"))
	before := b.Count(t, `SELECT count(*) FROM messages WHERE conversation_id = $1`, conv)
	r := agent.do("POST", fmt.Sprintf("/v1/conversations/%d/messages", conv), map[string]string{"text": "forged"}, false)
	if r.status != http.StatusForbidden || r.json(t)["error"].(map[string]any)["code"] != "csrf" {
		t.Fatalf("cookie POST without the CSRF token: %d %s, want 403 csrf", r.status, r.body)
	}
	if r := agent.do("POST", fmt.Sprintf("/v1/conversations/%d/claim", conv), nil, false); r.status != http.StatusForbidden {
		t.Errorf("claim without the CSRF token: %d", r.status)
	}
	if n := b.Count(t, `SELECT count(*) FROM messages WHERE conversation_id = $1`, conv); n != before {
		t.Errorf("messages %d → %d: the refused write stored something", before, n)
	}
	if n := b.Count(t, `SELECT count(*) FROM conversations WHERE id = $1 AND status = 'queued'`, conv); n != 1 {
		t.Error("the refused claim changed the conversation")
	}
}

func TestTracesAreForAdmins(t *testing.T) {
	t.Parallel()
	b := testkit.Start(t, testkit.Options{RealBot: true, Seed: true})
	conv := handoff(t, b, fmt.Sprintf("traces-%d", time.Now().UnixNano()))
	admin := &client{t: t, base: b.URL, bearer: user(t, b, baton.RoleAdmin)}
	agent := &client{t: t, base: b.URL, bearer: user(t, b, baton.RoleAgent, "support")}

	path := fmt.Sprintf("/v1/conversations/%d/traces", conv)
	r := admin.do("GET", path, nil, false)
	if r.status != http.StatusOK {
		t.Fatalf("traces: %d %s", r.status, r.body)
	}
	traces := r.json(t)["traces"].([]any)
	if len(traces) == 0 {
		t.Fatalf("no traces for a conversation that had a turn: %s", r.body)
	}
	data := traces[len(traces)-1].(map[string]any)["data"].(map[string]any)
	if data["handoff_reason"] != "customer_request" {
		t.Errorf("last trace = %v, want the handoff's reason", data)
	}
	if r := agent.do("GET", path, nil, false); r.status != http.StatusForbidden {
		t.Errorf("agent reading traces: %d, want 403", r.status)
	}
	if r := admin.do("GET", "/v1/conversations/999999999/traces", nil, false); r.status != http.StatusNotFound {
		t.Errorf("traces of an unknown conversation: %d, want 404", r.status)
	}
	if r := admin.do("GET", path+"?limit=0", nil, false); r.status != http.StatusBadRequest {
		t.Errorf("limit=0: %d, want 400", r.status)
	}
	s := admin.do("GET", "/v1/admin/settings", nil, false)
	if s.status != http.StatusOK || !bytes.Contains(s.body, []byte("BATON_ANSWER_MIN_CONFIDENCE")) {
		t.Errorf("settings: %d %s", s.status, s.body)
	}
}

func TestChartsAreForAdmins(t *testing.T) {
	t.Parallel()
	b := testkit.Start(t, testkit.Options{NoWork: true})
	admin := &client{t: t, base: b.URL, bearer: user(t, b, baton.RoleAdmin)}
	agent := &client{t: t, base: b.URL, bearer: user(t, b, baton.RoleAgent, "support")}
	stats := admin.do("GET", "/v1/stats", nil, false).status
	r := admin.do("GET", "/console/charts/conversations.svg", nil, false)
	if r.status != http.StatusOK || r.header.Get("Content-Type") != "image/svg+xml" || !bytes.HasPrefix(r.body, []byte("<svg")) {
		t.Fatalf("chart: %d %s %.200s", r.status, r.header.Get("Content-Type"), r.body)
	}
	want := "Conversations per day"
	if stats == http.StatusNotFound {
		want = "no /v1/stats"
	}
	if !bytes.Contains(r.body, []byte(want)) {
		t.Errorf("chart (stats %d) lacks %q: %.300s", stats, want, r.body)
	}
	if r := agent.do("GET", "/console/charts/conversations.svg", nil, false); r.status != http.StatusForbidden {
		t.Errorf("agent: %d, want 403", r.status)
	}
	if stats == http.StatusOK {
		if r := admin.do("GET", "/console/charts/nope.svg", nil, false); r.status != http.StatusNotFound {
			t.Errorf("unknown chart: %d, want 404", r.status)
		}
		if r := admin.do("GET", "/console/charts/csat.svg?from=nonsense", nil, false); r.status != http.StatusBadRequest {
			t.Errorf("bad range: %d, want 400", r.status)
		}
	}
}
