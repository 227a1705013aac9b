package web_test

import (
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/internal/dbtest"
	"github.com/batonhq/baton/internal/postgres"
	"github.com/batonhq/baton/internal/ratelimit"
	"github.com/batonhq/baton/internal/web"
)

// limitedServer is a server with a real Redis-backed limiter at two events a minute.
func limitedServer(t *testing.T) (*httptest.Server, *postgres.DB, *web.Server) {
	t.Helper()
	opt, err := redis.ParseURL(dbtest.RedisURL())
	if err != nil {
		t.Fatal(err)
	}
	rdb := redis.NewClient(opt)
	t.Cleanup(func() { rdb.Close() })
	two := ratelimit.Rate{Limit: 2, Per: time.Minute}
	db := postgres.New(dbtest.New(t).Pool, baton.NewManualClock(epoch))
	s := web.New(web.Options{Log: slog.New(slog.NewTextHandler(t.Output(), nil)), Auth: db, DB: db,
		Limiter: ratelimit.New(rdb, dbtest.QueuePrefix(t, dbtest.RedisURL()), nil, nil),
		Limits:  web.Limits{PerIP: two, SignIn: two, PerSender: two, ClientIPHeader: "X-Forwarded-For"}})
	mountCore(s, db)
	s.Handle("POST /v1/chat/ping", web.Public, 0, func(w http.ResponseWriter, r *http.Request) error {
		return web.WriteJSON(w, http.StatusOK, map[string]bool{"ok": true})
	}, web.Browser)
	hs := httptest.NewServer(s.Handler())
	t.Cleanup(hs.Close)
	return hs, db, s
}

func wantLimited(t *testing.T, r response) {
	t.Helper()
	r.wantStatus(t, http.StatusTooManyRequests)
	if s, err := strconv.Atoi(r.header.Get("Retry-After")); err != nil || s < 1 || s > 30 {
		t.Fatalf("Retry-After %q, want 1..30 seconds", r.header.Get("Retry-After"))
	}
	var body web.ErrorBody
	r.decode(t, &body)
	if body.Error.Code != "rate_limited" || body.Error.Message == "" {
		t.Fatalf("error body %s, want code rate_limited", r.body)
	}
}

func TestBrowserEndpointsAreLimitedPerIP(t *testing.T) {
	t.Parallel()
	hs, _, _ := limitedServer(t)
	from := func(ip string) call {
		return call{method: "POST", path: "/v1/chat/ping", body: "{}", header: map[string]string{"X-Forwarded-For": "198.51.100.1, " + ip}}
	}
	do(t, hs.URL, from("203.0.113.1")).wantStatus(t, http.StatusOK)
	do(t, hs.URL, from("203.0.113.1")).wantStatus(t, http.StatusOK)
	wantLimited(t, do(t, hs.URL, from("203.0.113.1")))
	do(t, hs.URL, from("203.0.113.2")).wantStatus(t, http.StatusOK)
	// Routes not marked Browser are not limited per IP.
	for range 3 {
		do(t, hs.URL, call{method: "GET", path: "/livez", header: map[string]string{"X-Forwarded-For": "203.0.113.1"}}).wantStatus(t, http.StatusOK)
	}
}

func TestSignInIsLimitedPerIP(t *testing.T) {
	t.Parallel()
	hs, _, _ := limitedServer(t)
	wrong := call{method: "POST", path: "/v1/auth/session", body: map[string]string{"token": "guess"},
		header: map[string]string{"X-Forwarded-For": "203.0.113.9"}}
	do(t, hs.URL, wrong).wantStatus(t, http.StatusUnauthorized)
	do(t, hs.URL, wrong).wantStatus(t, http.StatusUnauthorized)
	wantLimited(t, do(t, hs.URL, wrong))
}

func TestWebhookSendersAreLimited(t *testing.T) {
	t.Parallel()
	hs, db, _ := limitedServer(t)
	do(t, hs.URL, signed(webhookPath, webhookBody("ada", "m1", "one"))).wantStatus(t, http.StatusAccepted)
	do(t, hs.URL, signed(webhookPath, webhookBody("ada", "m2", "two"))).wantStatus(t, http.StatusAccepted)
	wantLimited(t, do(t, hs.URL, signed(webhookPath, webhookBody("ada", "m3", "three"))))
	// Another sender of the same provider (same address) is not held back.
	do(t, hs.URL, signed(webhookPath, webhookBody("bob", "m4", "hello"))).wantStatus(t, http.StatusAccepted)
	// A bad signature is refused before it can spend anyone's allowance.
	bad := call{method: "POST", path: webhookPath, body: webhookBody("bob", "m5", "x"), header: map[string]string{"X-Baton-Signature": "sha256=00"}}
	do(t, hs.URL, bad).wantStatus(t, http.StatusUnauthorized)
	do(t, hs.URL, signed(webhookPath, webhookBody("bob", "m6", "again"))).wantStatus(t, http.StatusAccepted)
	var n int
	if err := db.Pool.QueryRow(t.Context(), `SELECT count(*) FROM messages WHERE external_id = 'm3'`).Scan(&n); err != nil || n != 0 {
		t.Fatalf("the limited message is stored (%d rows, %v)", n, err)
	}
}
