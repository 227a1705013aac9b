package postgres_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/internal/postgres"
)

// handedOff stores a customer's message and commits the bot's handoff for it, as a turn does:
// status queued and a handoff row. It returns the conversation id.
func handedOff(t testing.TB, db *postgres.DB, customer string) int64 {
	t.Helper()
	ctx := context.Background()
	res, err := db.Ingest(ctx, inbound(customer, customer+"-1", "I want to talk to a person"), 0, 24*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	st, err := db.LoadTurn(ctx, res.ConversationID)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.CommitTurn(ctx, baton.Lease{ConversationID: res.ConversationID, Token: st.Token}, baton.TurnOutcome{
		Processed: []int64{res.MessageID}, Status: baton.StatusQueued, StartedAt: db.Clock.Now(),
		Handoff: &baton.Handoff{Reason: baton.HandoffCustomerRequest},
		Replies: []baton.Reply{{Author: baton.AuthorBot, Visibility: baton.Public, Text: "A person will reply."}},
	}); err != nil {
		t.Fatal(err)
	}
	return res.ConversationID
}

// agent creates an online agent of the teams, with capacity.
func agent(t testing.TB, db *postgres.DB, email string, capacity int, teams ...string) baton.User {
	t.Helper()
	u, _, err := db.CreateUser(context.Background(), 0, baton.NewUser{Email: email, Role: baton.RoleAgent, Capacity: capacity, Teams: teams})
	if err != nil {
		t.Fatal(err)
	}
	if err := db.SetPresence(context.Background(), u.ID, baton.PresenceOnline); err != nil {
		t.Fatal(err)
	}
	return u
}

func status(t testing.TB, db *postgres.DB, conv int64) (baton.ConversationStatus, *int64) {
	t.Helper()
	c, err := db.Conversation(context.Background(), conv)
	if err != nil {
		t.Fatal(err)
	}
	return c.Status, c.AssignedUserID
}

func count(t testing.TB, db *postgres.DB, q string, args ...any) int {
	t.Helper()
	var n int
	if err := db.Pool.QueryRow(context.Background(), q, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return n
}

// loadMatches checks that every agent's load counter equals the conversations they hold.
func loadMatches(t testing.TB, db *postgres.DB) {
	t.Helper()
	if n := count(t, db, `SELECT count(*) FROM users u WHERE load <> (SELECT count(*) FROM conversations c
		WHERE c.assigned_user_id = u.id AND c.status = 'agent' AND c.inactive_since IS NULL)`); n != 0 {
		t.Errorf("%d agents' load differs from the conversations they hold", n)
	}
}

func errCode(err error) string {
	var be *baton.Error
	if errors.As(err, &be) {
		return be.Code
	}
	return ""
}

func TestClaim(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	tests := []struct {
		name     string
		prepare  func(db *postgres.DB, conv int64, ann, bob baton.User)
		wantCode string // "" = claimed by ann
	}{
		{"waiting conversation", func(*postgres.DB, int64, baton.User, baton.User) {}, ""},
		{"own conversation again", func(db *postgres.DB, conv int64, ann, _ baton.User) {
			if _, err := db.Claim(ctx, ann.ID, conv); err != nil {
				t.Error(err)
			}
		}, ""},
		{"held by another agent", func(db *postgres.DB, conv int64, _, bob baton.User) {
			if _, err := db.Claim(ctx, bob.ID, conv); err != nil {
				t.Error(err)
			}
		}, "claimed"},
		{"returned to the bot", func(db *postgres.DB, conv int64, _, _ baton.User) {
			if _, err := db.ReturnToBot(ctx, 0, conv); err != nil {
				t.Error(err)
			}
		}, "conflict"},
		{"agent at capacity", func(db *postgres.DB, _ int64, ann, _ baton.User) {
			other := handedOff(t, db, "other")
			if _, err := db.Claim(ctx, ann.ID, other); err != nil {
				t.Error(err)
			}
		}, "at_capacity"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			db, _ := setup(t)
			ann := agent(t, db, "ann@example.com", 1, "support")
			bob := agent(t, db, "bob@example.com", 1, "support")
			conv := handedOff(t, db, "c1")
			tt.prepare(db, conv, ann, bob)
			before, beforeOwner := status(t, db, conv)
			_, err := db.Claim(ctx, ann.ID, conv)
			st, owner := status(t, db, conv)
			loadMatches(t, db)
			if tt.wantCode == "" {
				if err != nil || st != baton.StatusAgent || owner == nil || *owner != ann.ID {
					t.Fatalf("claim: err %v, status %s owner %v; want agent, ann", err, st, owner)
				}
				if n := count(t, db, `SELECT count(*) FROM handoffs WHERE conversation_id = $1 AND assigned_user_id = $2`, conv, ann.ID); n != 1 {
					t.Errorf("%d handoffs assigned to ann; want 1", n)
				}
				if n := count(t, db, `SELECT count(*) FROM conversations WHERE id = $1 AND pause_reason = 'agent' AND bot_paused_until = 'infinity'`, conv); n != 1 {
					t.Error("the bot is not paused while an agent owns the conversation")
				}
				return
			}
			if !errors.Is(err, baton.ErrConflict) || errCode(err) != tt.wantCode {
				t.Fatalf("claim: err %v (code %q); want conflict %q", err, errCode(err), tt.wantCode)
			}
			if st != before || deref(owner) != deref(beforeOwner) {
				t.Errorf("a refused claim changed the conversation: %s/%d → %s/%d", before, deref(beforeOwner), st, deref(owner))
			}
		})
	}
}

func TestResolveAsksForCSATAndAScoreDoesNotReopen(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db, clock := setup(t)
	ann := agent(t, db, "ann@example.com", 5, "support")
	conv := handedOff(t, db, "c1")
	if _, err := db.Claim(ctx, ann.ID, conv); err != nil {
		t.Fatal(err)
	}
	freed, err := db.ResolveConversation(ctx, ann.ID, conv, true)
	if err != nil || freed != ann.ID {
		t.Fatalf("resolve: freed %d, err %v; want ann's slot freed", freed, err)
	}
	st, owner := status(t, db, conv)
	if st != baton.StatusResolved || owner != nil {
		t.Fatalf("status %s owner %v; want resolved, nobody", st, owner)
	}
	// The survey question goes out through delivery like any reply.
	if n := count(t, db, `SELECT count(*) FROM messages m JOIN outbox o ON o.task_id = 'deliver:' || m.id
		WHERE m.conversation_id = $1 AND m.author = 'system' AND m.delivery_state = 'pending'`, conv); n != 1 {
		t.Errorf("%d survey questions queued for delivery; want 1", n)
	}
	if n := count(t, db, `SELECT count(*) FROM handoffs WHERE conversation_id = $1 AND resolved_at IS NULL`, conv); n != 0 {
		t.Errorf("%d handoffs still open after the resolve", n)
	}
	if _, err := db.ResolveConversation(ctx, ann.ID, conv, false); !errors.Is(err, baton.ErrConflict) {
		t.Errorf("resolving twice: %v; want a conflict", err)
	}
	loadMatches(t, db)
	clock.Advance(time.Hour)
	if err := db.RecordCSAT(ctx, conv, 4); err != nil {
		t.Fatal(err)
	}
	if n := count(t, db, `SELECT count(*) FROM episodes WHERE conversation_id = $1 AND csat_score = 4`, conv); n != 1 {
		t.Error("the score is not recorded on the episode")
	}
	if st, _ := status(t, db, conv); st != baton.StatusResolved {
		t.Errorf("status %s after the score; want still resolved", st)
	}
	clock.Advance(baton.CSATWindow)
	if err := db.RecordCSAT(ctx, conv, 5); !errors.Is(err, baton.ErrConflict) {
		t.Errorf("a score after the window: %v; want a conflict", err)
	}
}

func TestReturnToBot(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db, _ := setup(t)
	ann := agent(t, db, "ann@example.com", 5, "support")
	conv := handedOff(t, db, "c1")
	if _, err := db.Claim(ctx, ann.ID, conv); err != nil {
		t.Fatal(err)
	}
	freed, err := db.ReturnToBot(ctx, ann.ID, conv)
	if err != nil || freed != ann.ID {
		t.Fatalf("return: freed %d, err %v", freed, err)
	}
	if n := count(t, db, `SELECT count(*) FROM conversations WHERE id = $1 AND status = 'bot' AND assigned_user_id IS NULL
		AND bot_paused_until IS NULL AND pause_reason IS NULL`, conv); n != 1 {
		t.Error("after return the conversation is not the bot's, unpaused")
	}
	if n := count(t, db, `SELECT count(*) FROM assignments WHERE conversation_id = $1 AND ended_at IS NULL`, conv); n != 0 {
		t.Error("the agent's assignment is still open")
	}
	loadMatches(t, db)
	if _, err := db.ReturnToBot(ctx, ann.ID, conv); !errors.Is(err, baton.ErrConflict) {
		t.Errorf("returning a bot conversation: %v; want a conflict", err)
	}
}

func TestTransfer(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	tests := []struct {
		name       string
		to         func(bob baton.User) baton.Transfer
		wantStatus baton.ConversationStatus
		wantOwner  string // ann, bob or ""
		wantTeam   string
		wantErr    error
	}{
		{"to another agent", func(bob baton.User) baton.Transfer { return baton.Transfer{UserID: bob.ID} }, baton.StatusAgent, "bob", "support", nil},
		{"to a team", func(baton.User) baton.Transfer { return baton.Transfer{Team: "billing"} }, baton.StatusQueued, "", "billing", nil},
		{"to an unknown team", func(baton.User) baton.Transfer { return baton.Transfer{Team: "nope"} }, baton.StatusAgent, "ann", "support", baton.ErrNotFound},
		{"to an unknown agent", func(baton.User) baton.Transfer { return baton.Transfer{UserID: 999} }, baton.StatusAgent, "ann", "support", baton.ErrNotFound},
		{"to both", func(bob baton.User) baton.Transfer { return baton.Transfer{UserID: bob.ID, Team: "billing"} }, baton.StatusAgent, "ann", "support", baton.ErrInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			db, clock := setup(t)
			ann := agent(t, db, "ann@example.com", 5, "support")
			bob := agent(t, db, "bob@example.com", 5, "billing")
			conv := handedOff(t, db, "c1")
			var waitingSince time.Time
			db.Pool.QueryRow(ctx, `SELECT created_at FROM handoffs WHERE conversation_id = $1`, conv).Scan(&waitingSince) //nolint:errcheck
			if _, err := db.Claim(ctx, ann.ID, conv); err != nil {
				t.Fatal(err)
			}
			clock.Advance(time.Minute)
			err := db.Transfer(ctx, ann.ID, conv, tt.to(bob))
			if tt.wantErr == nil && err != nil || tt.wantErr != nil && !errors.Is(err, tt.wantErr) {
				t.Fatalf("transfer: %v; want %v", err, tt.wantErr)
			}
			loadMatches(t, db)
			st, owner := status(t, db, conv)
			want := map[string]int64{"ann": ann.ID, "bob": bob.ID}[tt.wantOwner]
			if st != tt.wantStatus || deref(owner) != want {
				t.Errorf("status %s owner %d; want %s %d", st, deref(owner), tt.wantStatus, want)
			}
			q, err := db.AgentQueue(ctx, baton.ConversationFilter{AllTeams: true})
			if err != nil {
				t.Fatal(err)
			}
			if tt.wantStatus == baton.StatusQueued {
				if len(q) != 1 || q[0].Team != tt.wantTeam || !q[0].WaitingSince.Equal(waitingSince) {
					t.Errorf("queue %+v; want the conversation in %s, waiting since %s", q, tt.wantTeam, waitingSince)
				}
			} else if len(q) != 0 {
				t.Errorf("queue %+v; want empty", q)
			}
		})
	}
}

func deref(p *int64) int64 {
	if p == nil {
		return 0
	}
	return *p
}

func TestPostMessage(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	tests := []struct {
		name       string
		visibility baton.Visibility
		optedOut   bool
		text       string
		wantErr    error
		delivered  bool
	}{
		{"public reply", baton.Public, false, "Hi, I'm Ann. Let me check.", nil, true},
		{"internal note", baton.Internal, false, "customer is a VIP", nil, false},
		{"internal note for an opted-out customer", baton.Internal, true, "they opted out", nil, false},
		{"public reply to an opted-out customer", baton.Public, true, "hello?", baton.ErrConflict, false},
		{"empty text", baton.Public, false, "  ", baton.ErrInvalid, false},
		{"unknown visibility", "secret", false, "x", baton.ErrInvalid, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			db, _ := setup(t)
			ann := agent(t, db, "ann@example.com", 5, "support")
			conv := handedOff(t, db, "c1")
			if tt.optedOut {
				if _, err := db.Pool.Exec(ctx, `UPDATE customers SET opted_out_at = now()`); err != nil {
					t.Fatal(err)
				}
			}
			before := count(t, db, `SELECT count(*) FROM messages`)
			m, err := db.PostMessage(ctx, baton.AgentMessage{ConversationID: conv, Author: baton.AuthorAgent, UserID: ann.ID,
				Visibility: tt.visibility, Text: tt.text})
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("post: %v; want %v", err, tt.wantErr)
				}
				if n := count(t, db, `SELECT count(*) FROM messages`); n != before {
					t.Errorf("a refused message stored %d rows", n-before)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			outbox := count(t, db, `SELECT count(*) FROM outbox WHERE kind = 'deliver' AND task_id = $1`, postgres.TaskID(baton.TaskDeliver, m.ID))
			if tt.delivered != (outbox == 1) || tt.delivered != (m.Delivery != nil) {
				t.Errorf("outbox rows %d, delivery %+v; want delivered = %v", outbox, m.Delivery, tt.delivered)
			}
			if m.Author != baton.AuthorAgent || m.Visibility != tt.visibility {
				t.Errorf("stored %s/%s", m.Author, m.Visibility)
			}
			if tt.delivered {
				o, err := db.Outbound(ctx, m.ID)
				if err != nil || o.State != baton.DeliveryPending || o.RecipientID != "c1" {
					t.Errorf("outbound %+v, %v; want pending to c1", o, err)
				}
				// The delivery state machine takes it like a bot reply (due now, after the bot's reply
				// the handoff sent, which the turn commit claimed inline).
				db.Pool.Exec(ctx, `UPDATE messages SET delivery_state = 'sent', delivery_next_at = NULL WHERE author = 'bot'`) //nolint:errcheck
				if c, err := db.ClaimDelivery(ctx, m.ID); err != nil || c.Text != tt.text {
					t.Errorf("claim delivery: %+v, %v; want the agent's reply claimed", c, err)
				}
			}
		})
	}
}

// Several workers assign a backlog at once: nobody gets more than their capacity, no handoff is
// given twice, and everything that fits is assigned.
func TestAssignConcurrently(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db, _ := setup(t)
	const conversations, workers = 40, 4
	capacities := []int{1, 2, 3, 5, 5, 10}
	total := 0
	for i, c := range capacities {
		agent(t, db, fmt.Sprintf("a%d@example.com", i), c, "support")
		total += c
	}
	// An offline agent and one of another team take nothing.
	off := agent(t, db, "off@example.com", 5, "support")
	if err := db.SetPresence(ctx, off.ID, baton.PresenceOffline); err != nil {
		t.Fatal(err)
	}
	agent(t, db, "billing@example.com", 5, "billing")
	for i := range conversations {
		handedOff(t, db, fmt.Sprintf("c%d", i))
	}
	if _, err := db.RouteWaiting(ctx); err != nil {
		t.Fatal(err)
	}
	var team int64
	db.Pool.QueryRow(ctx, `SELECT id FROM teams WHERE is_default`).Scan(&team) //nolint:errcheck
	var wg sync.WaitGroup
	var mu sync.Mutex
	decisions := 0
	for range workers {
		wg.Go(func() {
			for {
				_, ok, err := db.AssignNext(ctx, team)
				if err != nil {
					t.Error(err)
					return
				}
				if !ok {
					return
				}
				mu.Lock()
				decisions++
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	loadMatches(t, db)
	if decisions != total {
		t.Errorf("%d decisions; want %d (the agents' whole capacity)", decisions, total)
	}
	if n := count(t, db, `SELECT count(*) FROM users u WHERE capacity < (SELECT count(*) FROM conversations c
		WHERE c.assigned_user_id = u.id AND c.status = 'agent')`); n != 0 {
		t.Errorf("%d agents above capacity", n)
	}
	if n := count(t, db, `SELECT count(*) FROM (SELECT conversation_id FROM assignments GROUP BY 1 HAVING count(*) > 1) d`); n != 0 {
		t.Errorf("%d conversations assigned twice", n)
	}
	if n := count(t, db, `SELECT count(*) FROM conversations WHERE status = 'agent'`); n != total {
		t.Errorf("%d conversations with agents; want %d", n, total)
	}
	if n := count(t, db, `SELECT count(*) FROM conversations c JOIN users u ON u.id = c.assigned_user_id
		WHERE u.email IN ('off@example.com', 'billing@example.com')`); n != 0 {
		t.Errorf("%d conversations went to an offline agent or another team's", n)
	}
}

func TestAssignOrderAndBacklog(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db, clock := setup(t)
	old := handedOff(t, db, "old")
	clock.Advance(time.Minute)
	urgent := handedOff(t, db, "urgent")
	clock.Advance(time.Minute)
	later := handedOff(t, db, "later")
	if _, err := db.Pool.Exec(ctx, `UPDATE handoffs SET priority = 80 WHERE conversation_id = $1`, urgent); err != nil {
		t.Fatal(err)
	}
	// Nobody online: nothing is assigned, the queue lists priority then wait.
	got, err := db.AssignBacklog(ctx, nil, 100)
	if err != nil || len(got) != 0 {
		t.Fatalf("backlog with nobody online: %v, %v", got, err)
	}
	q, err := db.AgentQueue(ctx, baton.ConversationFilter{AllTeams: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(q) != 3 || q[0].ID != urgent || q[1].ID != old || q[2].ID != later || q[0].Team != "support" || q[0].Reason != baton.HandoffCustomerRequest {
		t.Fatalf("queue %+v; want urgent, old, later in support", q)
	}
	// An agent comes online with two free slots: the two most urgent are theirs.
	ann := agent(t, db, "ann@example.com", 2, "support")
	got, err = db.AssignBacklog(ctx, nil, 100)
	if err != nil || len(got) != 2 || got[0].ConversationID != urgent || got[1].ConversationID != old {
		t.Fatalf("backlog: %+v, %v; want urgent then old", got, err)
	}
	// A slot frees: the last one follows.
	if _, err := db.ResolveConversation(ctx, ann.ID, urgent, false); err != nil {
		t.Fatal(err)
	}
	got, err = db.AssignBacklog(ctx, nil, 100)
	if err != nil || len(got) != 1 || got[0].ConversationID != later || got[0].UserID != ann.ID {
		t.Fatalf("after a slot freed: %+v, %v; want later to ann", got, err)
	}
	loadMatches(t, db)
	// A stale heartbeat counts as offline.
	handedOff(t, db, "fourth")
	if _, err := db.ReturnToBot(ctx, ann.ID, old); err != nil {
		t.Fatal(err)
	}
	clock.Advance(postgres.PresenceTimeout + time.Second)
	if got, err = db.AssignBacklog(ctx, nil, 100); err != nil || len(got) != 0 {
		t.Fatalf("assigned %+v to an agent whose heartbeat stopped (err %v)", got, err)
	}
	if n, err := db.SweepPresence(ctx, postgres.PresenceTimeout); err != nil || n != 1 {
		t.Errorf("swept %d agents offline (err %v); want 1", n, err)
	}
}

func TestAgentQueueIsolatesTeams(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db, _ := setup(t)
	unrouted := handedOff(t, db, "unrouted")
	billing := handedOff(t, db, "billing")
	b, err := db.CreateTeam(ctx, 0, "billing")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Pool.Exec(ctx, `UPDATE conversations SET team_id = $2 WHERE id = $1`, billing, b.ID); err != nil {
		t.Fatal(err)
	}
	var support int64
	db.Pool.QueryRow(ctx, `SELECT id FROM teams WHERE name = 'support'`).Scan(&support) //nolint:errcheck
	tests := []struct {
		name  string
		f     baton.ConversationFilter
		wants []int64
	}{
		{"admin", baton.ConversationFilter{AllTeams: true}, []int64{unrouted, billing}},
		{"default team sees conversations without a team", baton.ConversationFilter{Teams: []int64{support}}, []int64{unrouted}},
		{"billing", baton.ConversationFilter{Teams: []int64{b.ID}}, []int64{billing}},
		{"no team", baton.ConversationFilter{}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			q, err := db.AgentQueue(ctx, tt.f)
			if err != nil {
				t.Fatal(err)
			}
			var got []int64
			for _, it := range q {
				got = append(got, it.ID)
			}
			if fmt.Sprint(got) != fmt.Sprint(tt.wants) {
				t.Errorf("queue %v; want %v", got, tt.wants)
			}
		})
	}
}

func TestEnsureDefaultTeam(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db, _ := setup(t)
	if n := count(t, db, `SELECT count(*) FROM teams WHERE is_default AND name = 'support'`); n != 1 {
		t.Fatal("migrate did not create the default team support")
	}
	team, err := db.EnsureDefaultTeam(ctx, "care")
	if err != nil || team.Name != "care" {
		t.Fatalf("EnsureDefaultTeam: %+v, %v", team, err)
	}
	if n := count(t, db, `SELECT count(*) FROM teams WHERE is_default`); n != 1 {
		t.Errorf("%d default teams; want 1", n)
	}
	if _, err := db.EnsureDefaultTeam(ctx, " "); !errors.Is(err, baton.ErrInvalid) {
		t.Errorf("blank name: %v; want invalid", err)
	}
}

// The periodic job runs once per period however many workers call it, and assigns what was
// handed off while an agent was online.
func TestAgentsJob(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db, clock := setup(t)
	ann := agent(t, db, "ann@example.com", 5, "support")
	conv := handedOff(t, db, "c1")
	var wg sync.WaitGroup
	var mu sync.Mutex
	won := 0
	for range 4 {
		wg.Go(func() {
			ok, err := db.ClaimPeriod(ctx, "test", postgres.AgentsPeriod)
			if err != nil {
				t.Error(err)
			}
			if ok {
				mu.Lock()
				won++
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if won != 1 {
		t.Errorf("%d of 4 callers ran the job in one period; want 1", won)
	}
	if err := db.AgentsJob(ctx); err != nil {
		t.Fatal(err)
	}
	if _, owner := status(t, db, conv); deref(owner) != ann.ID {
		t.Fatalf("the job did not assign the waiting conversation to the online agent (owner %d)", deref(owner))
	}
	second := handedOff(t, db, "c2")
	if err := db.AgentsJob(ctx); err != nil {
		t.Fatal(err)
	}
	if st, _ := status(t, db, second); st != baton.StatusQueued {
		t.Errorf("the job ran twice in one period (status %s)", st)
	}
	clock.Advance(postgres.AgentsPeriod)
	if err := db.AgentsJob(ctx); err != nil {
		t.Fatal(err)
	}
	if st, _ := status(t, db, second); st != baton.StatusAgent {
		t.Errorf("status %s after the next period; want agent", st)
	}
	loadMatches(t, db)
}
