package web_test

import (
	"bufio"
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/internal/dbtest"
	"github.com/batonhq/baton/internal/events"
	"github.com/batonhq/baton/internal/postgres"
	"github.com/batonhq/baton/internal/web"
)

// A stream outlives the server's WriteTimeout (each write moves the deadline) and carries
// heartbeats while nothing happens.
func TestStreamOutlivesWriteTimeoutWithHeartbeats(t *testing.T) {
	t.Parallel()
	tdb := dbtest.New(t)
	db := postgres.New(tdb.Pool, baton.SystemClock{})
	hub := events.New(tdb.Pool, db, nil)
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	go hub.Run(ctx) //nolint:errcheck
	s := web.New(web.Options{Auth: db, PublicURL: "http://127.0.0.1:8080", DB: db})
	s.MountChat(web.ChatOptions{Store: db, Hub: hub, Tokens: web.ChatTokens{Secret: []byte("k")}, Heartbeat: 100 * time.Millisecond})
	srv := httptest.NewUnstartedServer(s.Handler())
	srv.Config.WriteTimeout = 400 * time.Millisecond
	srv.Start()
	t.Cleanup(srv.Close)

	sess := newChat(t, srv.URL, nil)
	req, _ := http.NewRequestWithContext(ctx, "GET", srv.URL+"/v1/chat/events?token="+sess.Token, nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	start := time.Now()
	pings := 0
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		if strings.HasPrefix(sc.Text(), ": ping") {
			pings++
		}
		if time.Since(start) > 3*srv.Config.WriteTimeout && pings >= 5 {
			return
		}
	}
	t.Fatalf("stream ended after %s with %d pings: %v", time.Since(start), pings, sc.Err())
}
