package postgres_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/handoff"
)

// receiver is an httptest notification endpoint that checks signatures and fails the first
// fails requests.
type receiver struct {
	mu    sync.Mutex
	fails int
	got   []map[string]any // bodies taken, in order
	seen  []string         // X-Baton-Delivery of every request
	bad   int              // requests with a wrong signature
}

func (rc *receiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	rc.mu.Lock()
	defer rc.mu.Unlock()
	rc.seen = append(rc.seen, r.Header.Get("X-Baton-Delivery"))
	if r.Header.Get("X-Baton-Signature") != handoff.Sign("s3cret", r.Header.Get("X-Baton-Timestamp"), body) {
		rc.bad++
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	if rc.fails > 0 {
		rc.fails--
		w.WriteHeader(http.StatusServiceUnavailable)
		return
	}
	var m map[string]any
	json.Unmarshal(body, &m) //nolint:errcheck
	m["header_event"] = r.Header.Get("X-Baton-Event")
	rc.got = append(rc.got, m)
}

func TestHandoffNotifications(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db, clock := setup(t)
	rc := &receiver{fails: 3}
	srv := httptest.NewServer(rc)
	t.Cleanup(srv.Close)
	n := &handoff.Notifier{Store: db, URL: srv.URL, Secret: "s3cret", Clock: clock, Log: slog.New(slog.DiscardHandler),
		Backoff: func(int) time.Duration { return time.Minute }}

	conv := handedOff(t, db, "c1")
	answered := handedOff(t, db, "c2")
	due := clock.Now().Add(time.Hour)
	if _, err := db.Pool.Exec(ctx, `UPDATE handoffs SET sla_due_at = $1`, due); err != nil {
		t.Fatal(err)
	}
	if _, err := db.SweepHandoffEvents(ctx, true); err != nil {
		t.Fatal(err)
	}
	if _, err := db.SweepHandoffEvents(ctx, true); err != nil {
		t.Fatal(err)
	}
	if c := count(t, db, `SELECT count(*) FROM notifications WHERE event = 'handoff.created'`); c != 2 {
		t.Fatalf("%d handoff.created rows after two sweeps; want 2 (once per handoff)", c)
	}
	// The receiver fails three requests: the rows stay and are retried after the backoff, not before.
	for i, want := range []int{0, 1, 1} {
		if sent, err := n.Once(ctx); err != nil || sent != want {
			t.Fatalf("round %d: sent %d (err %v); want %d", i, sent, err, want)
		}
		if sent, _ := n.Once(ctx); sent != 0 {
			t.Fatalf("round %d: retried before the backoff", i)
		}
		clock.Advance(time.Minute)
	}
	// An agent answers one conversation in time; the other breaches its SLA, notified once.
	ann := agent(t, db, "ann@example.com", 5, "support")
	if _, err := db.Claim(ctx, ann.ID, answered); err != nil {
		t.Fatal(err)
	}
	reply(t, db, ann.ID, answered, "Hello, Ann here.")
	clock.Advance(2 * time.Hour)
	if b, err := db.SweepHandoffEvents(ctx, true); err != nil || b != 1 {
		t.Fatalf("marked %d breaches (err %v); want 1", b, err)
	}
	if b, _ := db.SweepHandoffEvents(ctx, true); b != 0 {
		t.Fatalf("marked %d more breaches on the second sweep; want 0", b)
	}
	if sent, err := n.Once(ctx); err != nil || sent != 1 {
		t.Fatalf("sent %d (err %v); want the breach", sent, err)
	}
	rc.mu.Lock()
	defer rc.mu.Unlock()
	if rc.bad != 0 || len(rc.got) != 3 {
		t.Fatalf("receiver took %d (%d badly signed); want 3", len(rc.got), rc.bad)
	}
	last := rc.got[2]
	if last["event"] != baton.EventHandoffSLABreached || last["header_event"] != baton.EventHandoffSLABreached ||
		last["conversation_id"] != float64(conv) || last["team"] != "support" || last["breached_at"] == nil {
		t.Errorf("breach notification %v", last)
	}
	if rc.got[0]["event"] != baton.EventHandoffCreated || rc.got[0]["reason"] != string(baton.HandoffCustomerRequest) {
		t.Errorf("first notification %v", rc.got[0])
	}
	// Retries carry the same delivery id, so a receiver can drop a repeat.
	if len(rc.seen) != 6 || rc.seen[0] != rc.seen[2] || rc.seen[0] != rc.seen[4] {
		t.Errorf("delivery ids %v; want 6 requests, the first one's retries with its id", rc.seen)
	}
	if c := count(t, db, `SELECT count(*) FROM notifications WHERE sent_at IS NULL`); c != 0 {
		t.Errorf("%d notifications unsent", c)
	}
}

func TestNotificationsGiveUpAndOldHandoffsAreNotAnnounced(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db, clock := setup(t)
	handedOff(t, db, "old")
	clock.Advance(2 * time.Hour)
	// Notifications switched off: breaches are still marked, nothing is written.
	if _, err := db.SweepHandoffEvents(ctx, false); err != nil {
		t.Fatal(err)
	}
	if c := count(t, db, `SELECT count(*) FROM notifications`); c != 0 {
		t.Fatalf("%d notifications written while off", c)
	}
	handedOff(t, db, "new")
	if _, err := db.SweepHandoffEvents(ctx, true); err != nil {
		t.Fatal(err)
	}
	if c := count(t, db, `SELECT count(*) FROM notifications n JOIN handoffs h ON h.id = n.handoff_id
		JOIN conversations c ON c.id = h.conversation_id JOIN customers cu ON cu.id = c.customer_id WHERE cu.external_id = 'new'`); c != 1 ||
		count(t, db, `SELECT count(*) FROM notifications`) != 1 {
		t.Fatalf("want one notification, for the new handoff only (the old one predates notifications)")
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusInternalServerError) }))
	t.Cleanup(srv.Close)
	n := &handoff.Notifier{Store: db, URL: srv.URL, Secret: "x", Clock: clock, Log: slog.New(slog.DiscardHandler),
		Backoff: func(int) time.Duration { return time.Hour }, GiveUpAfter: 3 * time.Hour}
	for range 5 {
		n.Once(ctx) //nolint:errcheck
		clock.Advance(time.Hour)
	}
	if c := count(t, db, `SELECT count(*) FROM notifications WHERE failed_at IS NOT NULL AND next_attempt_at IS NULL
		AND attempts = 4 AND last_error LIKE '%500%'`); c != 1 {
		t.Errorf("the notification was not given up at its 4th attempt, 3 h after it was written")
	}
}
