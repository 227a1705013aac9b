package postgres_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/internal/postgres"
)

func reply(t testing.TB, db *postgres.DB, userID, conv int64, text string) {
	t.Helper()
	if _, err := db.PostMessage(context.Background(), baton.AgentMessage{ConversationID: conv, Author: baton.AuthorAgent,
		UserID: userID, Visibility: baton.Public, Text: text}); err != nil {
		t.Fatal(err)
	}
}

func load(t testing.TB, db *postgres.DB, userID int64) int {
	t.Helper()
	return count(t, db, `SELECT load FROM users WHERE id = $1`, userID)
}

// A conversation waiting on the customer frees its agent's slot; when the customer writes, it
// goes back to the agent if they have room, else to the queue with its place.
func TestInactiveConversationFreesTheSlot(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	const after = 15 * time.Minute
	tests := []struct {
		name    string
		between func(db *postgres.DB, ann baton.User) // after the slot was freed, before the customer writes
		want    baton.ConversationStatus
		wantAnn bool
	}{
		{"agent has room", func(*postgres.DB, baton.User) {}, baton.StatusAgent, true},
		{"agent took another", func(db *postgres.DB, ann baton.User) {
			other := handedOff(t, db, "other")
			if _, err := db.Claim(ctx, ann.ID, other); err != nil {
				t.Fatal(err)
			}
		}, baton.StatusQueued, false},
		{"agent went offline", func(db *postgres.DB, ann baton.User) {
			if err := db.SetPresence(ctx, ann.ID, baton.PresenceOffline); err != nil {
				t.Fatal(err)
			}
		}, baton.StatusQueued, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			db, clock := setup(t)
			ann := agent(t, db, "ann@example.com", 1, "support")
			conv := handedOff(t, db, "c1")
			var waitingSince time.Time
			db.Pool.QueryRow(ctx, `SELECT created_at FROM handoffs WHERE conversation_id = $1`, conv).Scan(&waitingSince) //nolint:errcheck
			if _, err := db.Claim(ctx, ann.ID, conv); err != nil {
				t.Fatal(err)
			}
			// Claimed but not yet answered: the customer waits on the agent, not the other way.
			clock.Advance(time.Hour)
			if n, err := db.SweepInactive(ctx, after); err != nil || n != 0 {
				t.Fatalf("swept %d before the agent spoke (err %v); want 0", n, err)
			}
			reply(t, db, ann.ID, conv, "Could you send me your order number?")
			clock.Advance(after - time.Second)
			if n, _ := db.SweepInactive(ctx, after); n != 0 {
				t.Fatalf("swept %d before the time; want 0", n)
			}
			clock.Advance(2 * time.Second)
			if n, err := db.SweepInactive(ctx, after); err != nil || n != 1 {
				t.Fatalf("swept %d (err %v); want 1", n, err)
			}
			if st, owner := status(t, db, conv); st != baton.StatusAgent || deref(owner) != ann.ID || load(t, db, ann.ID) != 0 {
				t.Fatalf("inactive: %s owner %d load %d; want still ann's, slot free", st, deref(owner), load(t, db, ann.ID))
			}
			loadMatches(t, db)
			if err := db.SetPresence(ctx, ann.ID, baton.PresenceOnline); err != nil { // the agent's heartbeat
				t.Fatal(err)
			}
			tt.between(db, ann)
			res, err := db.Ingest(ctx, inbound("c1", "c1-2", "it is A-1234"), 0, 24*time.Hour)
			if err != nil {
				t.Fatal(err)
			}
			if res.ConversationID != conv {
				t.Fatal("the customer's answer went to another conversation")
			}
			st, owner := status(t, db, conv)
			if st != tt.want || (owner != nil) != tt.wantAnn {
				t.Errorf("after the customer wrote: %s owner %v; want %s, ann %v", st, owner, tt.want, tt.wantAnn)
			}
			loadMatches(t, db)
			if tt.want == baton.StatusQueued {
				q, err := db.AgentQueue(ctx, baton.ConversationFilter{AllTeams: true})
				if err != nil {
					t.Fatal(err)
				}
				if len(q) != 1 || q[0].ID != conv || !q[0].WaitingSince.Equal(waitingSince) {
					t.Errorf("queue %+v; want conversation %d waiting since %s", q, conv, waitingSince)
				}
			}
		})
	}
}

// An agent who replies again in an inactive conversation holds its slot again; resolving it
// afterwards frees exactly one.
func TestInactiveThenAgentRepliesAndResolves(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db, clock := setup(t)
	ann := agent(t, db, "ann@example.com", 2, "support")
	conv := handedOff(t, db, "c1")
	if _, err := db.Claim(ctx, ann.ID, conv); err != nil {
		t.Fatal(err)
	}
	reply(t, db, ann.ID, conv, "Anything else?")
	clock.Advance(time.Hour)
	if n, _ := db.SweepInactive(ctx, 15*time.Minute); n != 1 {
		t.Fatalf("swept %d; want 1", n)
	}
	// Resolving an inactive conversation frees nothing more.
	if _, err := db.ResolveConversation(ctx, ann.ID, conv, false); err != nil {
		t.Fatal(err)
	}
	loadMatches(t, db)
	conv2 := handedOff(t, db, "c2")
	if _, err := db.Claim(ctx, ann.ID, conv2); err != nil {
		t.Fatal(err)
	}
	reply(t, db, ann.ID, conv2, "Let me check.")
	clock.Advance(time.Hour)
	if n, err := db.SweepInactive(ctx, 15*time.Minute); err != nil || n != 1 {
		t.Fatalf("swept %d (err %v); want 1", n, err)
	}
	reply(t, db, ann.ID, conv2, "Found it: it ships today.")
	if load(t, db, ann.ID) != 1 {
		t.Errorf("load %d after the agent picked the conversation up again; want 1", load(t, db, ann.ID))
	}
	loadMatches(t, db)
	if err := db.Transfer(ctx, ann.ID, conv2, baton.Transfer{Team: "support"}); err != nil {
		t.Fatal(err)
	}
	loadMatches(t, db)
}

// Sweeps, customer answers (reactivations), agent replies and assignment workers all at once:
// every agent's load matches the active conversations they hold and never passes capacity.
func TestInactivityUnderConcurrency(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db, clock := setup(t)
	const conversations = 30
	var agents []baton.User
	for i, c := range []int{1, 2, 3, 4} {
		agents = append(agents, agent(t, db, fmt.Sprintf("a%d@example.com", i), c, "support"))
	}
	convs := make([]int64, conversations)
	for i := range convs {
		convs[i] = handedOff(t, db, fmt.Sprintf("c%d", i))
	}
	if _, err := db.AssignBacklog(ctx, nil, 100); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for round := range 4 {
		// Every agent answers what they hold; time passes; then everything races.
		rows, err := db.Pool.Query(ctx, `SELECT id, assigned_user_id FROM conversations WHERE status = 'agent' AND inactive_since IS NULL`)
		if err != nil {
			t.Fatal(err)
		}
		type held struct{ conv, user int64 }
		var hs []held
		for rows.Next() {
			var h held
			rows.Scan(&h.conv, &h.user) //nolint:errcheck
			hs = append(hs, h)
		}
		rows.Close()
		for _, h := range hs {
			reply(t, db, h.user, h.conv, fmt.Sprintf("round %d: could you confirm?", round))
		}
		clock.Advance(20 * time.Minute)
		for _, a := range agents {
			if err := db.SetPresence(ctx, a.ID, baton.PresenceOnline); err != nil {
				t.Fatal(err)
			}
		}
		for range 3 {
			wg.Go(func() {
				if _, err := db.SweepInactive(ctx, 15*time.Minute); err != nil {
					t.Error(err)
				}
				if _, err := db.AssignBacklog(ctx, nil, 100); err != nil {
					t.Error(err)
				}
			})
		}
		for i, conv := range convs {
			if i%2 == round%2 {
				continue
			}
			wg.Go(func() {
				cust := fmt.Sprintf("c%d", i)
				if _, err := db.Ingest(ctx, inbound(cust, fmt.Sprintf("%s-r%d", cust, round), "yes, confirmed"), 0, 24*time.Hour); err != nil {
					t.Errorf("conversation %d: %v", conv, err)
				}
			})
		}
		wg.Wait()
		loadMatches(t, db)
		if n := count(t, db, `SELECT count(*) FROM users u WHERE load > capacity OR capacity < (SELECT count(*) FROM conversations c
			WHERE c.assigned_user_id = u.id AND c.status = 'agent' AND c.inactive_since IS NULL)`); n != 0 {
			t.Fatalf("round %d: %d agents above capacity", round, n)
		}
		if n := count(t, db, `SELECT count(*) FROM (SELECT conversation_id FROM assignments WHERE ended_at IS NULL
			GROUP BY 1 HAVING count(*) > 1) d`); n != 0 {
			t.Fatalf("round %d: %d conversations held twice", round, n)
		}
	}
	if n := count(t, db, `SELECT count(*) FROM conversations WHERE inactive_since IS NOT NULL`); n == 0 {
		t.Error("no conversation ever went inactive: the test raced nothing")
	}
}

// A customer answer whose reactivation did not run (the process died after ingest) is picked
// up by the sweep.
func TestSweepReactivatesWhatIngestLeft(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db, clock := setup(t)
	ann := agent(t, db, "ann@example.com", 1, "support")
	conv := handedOff(t, db, "c1")
	if _, err := db.Claim(ctx, ann.ID, conv); err != nil {
		t.Fatal(err)
	}
	reply(t, db, ann.ID, conv, "Which size?")
	clock.Advance(time.Hour)
	if n, err := db.SweepInactive(ctx, 15*time.Minute); err != nil || n != 1 {
		t.Fatalf("swept %d (err %v); want 1", n, err)
	}
	clock.Advance(time.Minute)
	// The message is stored as ingest stores it; only the reactivation is missing.
	if _, err := db.Pool.Exec(ctx, `UPDATE conversations SET last_customer_at = $2 WHERE id = $1`, conv, clock.Now()); err != nil {
		t.Fatal(err)
	}
	if err := db.SetPresence(ctx, ann.ID, baton.PresenceOnline); err != nil {
		t.Fatal(err)
	}
	if _, err := db.SweepInactive(ctx, 15*time.Minute); err != nil {
		t.Fatal(err)
	}
	if n := count(t, db, `SELECT count(*) FROM conversations WHERE id = $1 AND status = 'agent' AND inactive_since IS NULL`, conv); n != 1 ||
		load(t, db, ann.ID) != 1 {
		t.Errorf("not reactivated by the sweep (load %d)", load(t, db, ann.ID))
	}
	loadMatches(t, db)
}
