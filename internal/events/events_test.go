package events_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/internal/dbtest"
	"github.com/batonhq/baton/internal/events"
	"github.com/batonhq/baton/internal/postgres"
)

type setup struct {
	db  *postgres.DB
	hub *events.Hub
	pub *events.Publisher
}

func start(t *testing.T) setup {
	t.Helper()
	tdb := dbtest.New(t)
	db := postgres.New(tdb.Pool, baton.SystemClock{})
	hub := events.New(tdb.Pool, db, nil)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { hub.Run(ctx); close(done) }() //nolint:errcheck
	t.Cleanup(func() { cancel(); <-done })
	select {
	case <-hub.Ready():
	case <-time.After(10 * time.Second):
		t.Fatal("hub did not start listening")
	}
	return setup{db: db, hub: hub, pub: &events.Publisher{DB: db}}
}

func (s setup) ingest(t *testing.T, customer, extID, text string) baton.IngestResult {
	t.Helper()
	res, err := s.db.Ingest(context.Background(), baton.Inbound{Channel: "webhook",
		Sender: baton.Sender{ID: customer}, ExternalID: extID, Text: text}, 0, time.Hour)
	if err != nil {
		t.Fatalf("ingest: %v", err)
	}
	return res
}

// next returns the next event or fails after a deadline.
func next(t *testing.T, s *events.Subscription) events.Event {
	t.Helper()
	select {
	case ev, ok := <-s.C:
		if !ok {
			t.Fatalf("subscription closed: %v", s.Err())
		}
		return ev
	case <-time.After(10 * time.Second):
		t.Fatal("no event within 10s")
	}
	return events.Event{}
}

func TestMessageEventsByConversation(t *testing.T) {
	t.Parallel()
	s := start(t)
	first := s.ingest(t, "c-1", "m-1", "hello")
	other := s.ingest(t, "c-2", "m-2", "not for you")
	sub := s.hub.Subscribe(events.Filter{ConversationID: first.ConversationID, PublicOnly: true})
	defer sub.Close()
	s.ingest(t, "c-2", "m-3", "still not for you")
	res := s.ingest(t, "c-1", "m-4", "where is my order?")
	ev := next(t, sub)
	if ev.Kind != events.KindMessage || ev.Message == nil || ev.Message.ID != res.MessageID || ev.Message.Text != "where is my order?" {
		t.Fatalf("event = %+v, want the message %d of conversation %d", ev, res.MessageID, first.ConversationID)
	}
	if ev.ConversationID == other.ConversationID {
		t.Fatal("got another conversation's event")
	}
	// An internal note never reaches a public-only subscriber; the next public message does.
	ctx := context.Background()
	if _, err := s.db.PostMessage(ctx, baton.AgentMessage{ConversationID: first.ConversationID, Author: baton.AuthorSystem,
		Visibility: baton.Internal, Text: "VIP"}); err != nil {
		t.Fatalf("post note: %v", err)
	}
	res = s.ingest(t, "c-1", "m-5", "hello again")
	if ev := next(t, sub); ev.Message == nil || ev.Message.ID != res.MessageID {
		t.Fatalf("after an internal note got %+v, want message %d", ev, res.MessageID)
	}
}

func TestTeamFilterAndConversationEvents(t *testing.T) {
	t.Parallel()
	s := start(t)
	ctx := context.Background()
	var teamA, teamB int64
	for name, id := range map[string]*int64{"a": &teamA, "b": &teamB} {
		if err := s.db.Pool.QueryRow(ctx, `INSERT INTO teams (name, created_at) VALUES ($1, now()) RETURNING id`, name).Scan(id); err != nil {
			t.Fatal(err)
		}
	}
	inA := s.ingest(t, "c-a", "m-a", "hi")
	inB := s.ingest(t, "c-b", "m-b", "hi")
	for conv, team := range map[int64]int64{inA.ConversationID: teamA, inB.ConversationID: teamB} {
		if _, err := s.db.Pool.Exec(ctx, `UPDATE conversations SET team_id = $2 WHERE id = $1`, conv, team); err != nil {
			t.Fatal(err)
		}
	}
	sub := s.hub.Subscribe(events.Filter{Teams: []int64{teamA}})
	defer sub.Close()
	// A change in B's team is not seen; the status change in A's is, with its scope.
	if _, err := s.db.Pool.Exec(ctx, `UPDATE conversations SET status = 'queued', priority = 70 WHERE id = $1`, inB.ConversationID); err != nil {
		t.Fatal(err)
	}
	if _, err := s.db.Pool.Exec(ctx, `UPDATE conversations SET status = 'queued', priority = 80 WHERE id = $1`, inA.ConversationID); err != nil {
		t.Fatal(err)
	}
	ev := next(t, sub)
	if ev.Kind != events.KindConversation || ev.ConversationID != inA.ConversationID || ev.Scope.Status != baton.StatusQueued ||
		ev.Scope.Priority != 80 || ev.Scope.TeamID != teamA {
		t.Fatalf("event = %+v, want conversation %d queued at 80 in team %d", ev, inA.ConversationID, teamA)
	}
	// Timestamps alone publish nothing: the next event is the processing start.
	if _, err := s.db.Pool.Exec(ctx, `UPDATE conversations SET updated_at = now() WHERE id = $1`, inA.ConversationID); err != nil {
		t.Fatal(err)
	}
	s.pub.Processing(inB.ConversationID, true)
	s.pub.Processing(inA.ConversationID, true)
	ev = next(t, sub)
	if ev.Kind != events.KindProcessing || ev.Processing != events.ProcessingStart || ev.ConversationID != inA.ConversationID {
		t.Fatalf("event = %+v, want processing start of conversation %d", ev, inA.ConversationID)
	}
	// A transfer away from team A reaches A's subscribers too (the conversation leaves).
	if _, err := s.db.Pool.Exec(ctx, `UPDATE conversations SET team_id = $2 WHERE id = $1`, inA.ConversationID, teamB); err != nil {
		t.Fatal(err)
	}
	if ev = next(t, sub); ev.Kind != events.KindConversation || ev.Scope.TeamID != teamB || ev.PrevTeamID != teamA {
		t.Fatalf("event = %+v, want the move from team %d to %d", ev, teamA, teamB)
	}
	if _, err := s.db.Pool.Exec(ctx, `UPDATE conversations SET team_id = $2 WHERE id = $1`, inA.ConversationID, teamA); err != nil {
		t.Fatal(err)
	}
	next(t, sub) // and back
	// Internal notes do reach agents.
	if _, err := s.db.PostMessage(ctx, baton.AgentMessage{ConversationID: inA.ConversationID, Author: baton.AuthorSystem,
		Visibility: baton.Internal, Text: "note"}); err != nil {
		t.Fatal(err)
	}
	if ev = next(t, sub); ev.Message == nil || ev.Message.Visibility != baton.Internal {
		t.Fatalf("event = %+v, want the internal note", ev)
	}
}

// A subscriber that does not read is cut off with ErrGap instead of holding up the others.
func TestSlowSubscriberIsCutOff(t *testing.T) {
	t.Parallel()
	s := start(t)
	conv := s.ingest(t, "c-1", "m-0", "hi").ConversationID
	slow := s.hub.Subscribe(events.Filter{ConversationID: conv})
	fast := s.hub.Subscribe(events.Filter{ConversationID: conv})
	defer fast.Close()
	n := events.Buffer + 5
	got := make(chan int)
	go func() {
		c := 0
		for range fast.C {
			if c++; c == n {
				break
			}
		}
		got <- c
	}()
	if _, err := s.db.Pool.Exec(context.Background(), `INSERT INTO messages (conversation_id, episode, channel, author, body, received_at, sort_at)
		SELECT $1, 1, 'webhook', 'customer', 'm' || g, now(), now() FROM generate_series(1, $2) g`, conv, n); err != nil {
		t.Fatal(err)
	}
	select {
	case c := <-got:
		if c != n {
			t.Fatalf("fast subscriber got %d events, want %d", c, n)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("fast subscriber starved")
	}
	for range slow.C { // drains the buffer, then the channel is closed
	}
	if err := slow.Err(); err != events.ErrGap {
		t.Fatalf("slow subscriber err = %v, want ErrGap", err)
	}
}

// Stopping the hub ends every subscription (the SSE streams end, shutdown is not held up).
func TestStopClosesSubscriptions(t *testing.T) {
	t.Parallel()
	tdb := dbtest.New(t)
	db := postgres.New(tdb.Pool, baton.SystemClock{})
	hub := events.New(tdb.Pool, db, nil)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { hub.Run(ctx); close(done) }() //nolint:errcheck
	<-hub.Ready()
	sub := hub.Subscribe(events.Filter{AllTeams: true})
	cancel()
	select {
	case _, ok := <-sub.C:
		if ok {
			t.Fatal("got an event, want the channel closed")
		}
	case <-time.After(10 * time.Second):
		t.Fatal("subscription still open after the hub stopped")
	}
	<-done
	if sub.Err() != events.ErrClosed {
		t.Fatalf("err = %v, want ErrClosed", sub.Err())
	}
	if late := hub.Subscribe(events.Filter{AllTeams: true}); late.Err() != events.ErrClosed {
		t.Fatalf("subscribe after stop: err = %v, want ErrClosed", late.Err())
	}
}

// Every serve process gets every event: two hubs on one database both deliver.
func TestTwoProcessesBothDeliver(t *testing.T) {
	t.Parallel()
	s := start(t)
	other := events.New(s.db.Pool, s.db, nil)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go other.Run(ctx) //nolint:errcheck
	<-other.Ready()
	conv := s.ingest(t, "c-1", "m-0", "hi").ConversationID
	a := s.hub.Subscribe(events.Filter{ConversationID: conv})
	b := other.Subscribe(events.Filter{ConversationID: conv})
	s.pub.Processing(conv, false)
	for i, sub := range []*events.Subscription{a, b} {
		ev := next(t, sub)
		for ev.Kind == events.KindMessage { // the greeting's own event may arrive after Subscribe
			ev = next(t, sub)
		}
		if ev.Processing != events.ProcessingEnd {
			t.Fatalf("hub %d: event = %+v, want processing end", i, ev)
		}
	}
}

func TestPayloadsFitNotify(t *testing.T) {
	// The largest trigger payload: every id at its maximum.
	p := fmt.Sprintf(`{"k":"conversation","c":%d,"s":"resolved","p":%d,"t":%d,"o":%d,"u":%d}`,
		int64(1<<63-1), int32(1<<31-1), int64(1<<63-1), int64(1<<63-1), int64(1<<63-1))
	if len(p) >= 8000 {
		t.Fatalf("payload of %d bytes exceeds NOTIFY's 8000", len(p))
	}
}

// A burst of states for one conversation ends in its last state.
func TestProcessingKeepsTheLastState(t *testing.T) {
	t.Parallel()
	s := start(t)
	conv := s.ingest(t, "c-1", "m-0", "hi").ConversationID
	sub := s.hub.Subscribe(events.Filter{ConversationID: conv})
	defer sub.Close()
	for i := range 50 {
		s.pub.Processing(conv, i%2 == 0)
	}
	s.pub.Processing(conv, false)
	deadline := time.Now().Add(10 * time.Second)
	for !s.pub.Idle() {
		if time.Now().After(deadline) {
			t.Fatal("publisher still busy after 10s")
		}
		time.Sleep(5 * time.Millisecond)
	}
	// NOTIFYs arrive in commit order: a message stored now comes after every state.
	sentinel := s.ingest(t, "c-1", "m-1", "sentinel").MessageID
	last := ""
	for {
		ev := next(t, sub)
		if ev.Message != nil && ev.Message.ID == sentinel {
			break
		}
		if ev.Kind == events.KindProcessing {
			last = ev.Processing
		}
	}
	if last != events.ProcessingEnd {
		t.Fatalf("last processing state = %q, want end", last)
	}
}
