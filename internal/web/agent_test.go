package web_test

import (
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/batonhq/baton"
)

// handedOff is a conversation the bot handed off, as its turn commits it: status queued and a
// handoff row. team 0 leaves it without a team.
func (ts *testServer) handedOff(t testing.TB, customer string, team int64) int64 {
	t.Helper()
	id := ts.conversation(t, customer, team)
	st, err := ts.db.LoadTurn(t.Context(), id)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ts.db.CommitTurn(t.Context(), baton.Lease{ConversationID: id, Token: st.Token}, baton.TurnOutcome{
		Processed: []int64{st.Pending[0].ID}, Status: baton.StatusQueued, StartedAt: ts.clock.Now(),
		Handoff: &baton.Handoff{Reason: baton.HandoffCustomerRequest},
	}); err != nil {
		t.Fatal(err)
	}
	return id
}

func TestAgentRoutesHideOtherTeams(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	_, supportToken := ts.user(t, baton.RoleAgent, "support")
	billing, billingToken := ts.user(t, baton.RoleAgent, "billing")
	_, adminToken := ts.user(t, baton.RoleAdmin)
	free := ts.handedOff(t, "c-free", 0)
	bill := ts.handedOff(t, "c-bill", billing.TeamIDs[0])

	queue := func(token string) []int64 {
		r := ts.do(t, call{method: "GET", path: "/v1/agent/queue", token: token})
		r.wantStatus(t, http.StatusOK)
		var out struct {
			Conversations []baton.QueueItem `json:"conversations"`
		}
		r.decode(t, &out)
		got := []int64{}
		for _, c := range out.Conversations {
			got = append(got, c.ID)
		}
		return got
	}
	for _, tt := range []struct {
		name  string
		token string
		want  []int64
	}{
		{"default team sees conversations without a team", supportToken, []int64{free}},
		{"billing sees its own", billingToken, []int64{bill}},
		{"admin sees all", adminToken, []int64{free, bill}},
	} {
		if got := queue(tt.token); fmt.Sprint(got) != fmt.Sprint(tt.want) {
			t.Errorf("%s: queue %v, want %v", tt.name, got, tt.want)
		}
	}

	for _, tt := range []struct {
		name string
		c    call
	}{
		{"claim", call{method: "POST", path: fmt.Sprintf("/v1/conversations/%d/claim", bill)}},
		{"transfer", call{method: "POST", path: fmt.Sprintf("/v1/conversations/%d/transfer", bill), body: map[string]string{"team": "support"}}},
		{"reply", call{method: "POST", path: fmt.Sprintf("/v1/conversations/%d/messages", bill), body: map[string]string{"text": "hi"}}},
		{"resolve", call{method: "POST", path: fmt.Sprintf("/v1/conversations/%d/resolve", bill)}},
		{"return", call{method: "POST", path: fmt.Sprintf("/v1/conversations/%d/return", bill)}},
		{"read", call{method: "GET", path: fmt.Sprintf("/v1/conversations/%d", bill)}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			tt.c.token = supportToken
			ts.do(t, tt.c).wantError(t, http.StatusNotFound, "not_found")
		})
	}
	if n := ts.count(t, `SELECT count(*) FROM conversations WHERE id = $1 AND status = 'queued' AND assigned_user_id IS NULL`, bill); n != 1 {
		t.Error("another team's agent changed the conversation")
	}
	if n := ts.count(t, `SELECT count(*) FROM messages WHERE conversation_id = $1 AND author = 'agent'`, bill); n != 0 {
		t.Error("another team's agent wrote into the conversation")
	}
}

func TestAgentWorksAConversation(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	ann, annToken := ts.user(t, baton.RoleAgent, "support")
	_, bobToken := ts.user(t, baton.RoleAgent, "support")
	conv := ts.handedOff(t, "c1", 0)
	path := func(action string) string { return fmt.Sprintf("/v1/conversations/%d/%s", conv, action) }

	// The handoff package is at the top of the conversation.
	r := ts.do(t, call{method: "GET", path: fmt.Sprintf("/v1/conversations/%d", conv), token: annToken})
	r.wantStatus(t, http.StatusOK)
	var got struct {
		Handoff *baton.HandoffView `json:"handoff"`
		Status  baton.ConversationStatus
	}
	r.decode(t, &got)
	if got.Handoff == nil || got.Handoff.Reason != baton.HandoffCustomerRequest || got.Status != baton.StatusQueued {
		t.Fatalf("conversation: %s; want queued with its handoff", r.body)
	}

	ts.do(t, call{method: "POST", path: path("claim"), token: annToken}).wantStatus(t, http.StatusOK)
	ts.do(t, call{method: "POST", path: path("claim"), token: bobToken}).wantError(t, http.StatusConflict, "claimed")

	reply := ts.do(t, call{method: "POST", path: path("messages"), token: annToken, body: map[string]string{"text": "Hi, Ann here."}})
	reply.wantStatus(t, http.StatusCreated)
	var m baton.Message
	reply.decode(t, &m)
	if m.Delivery == nil || m.Delivery.State != baton.DeliveryPending || m.Author != baton.AuthorAgent {
		t.Errorf("reply %s; want an agent message pending delivery", reply.body)
	}
	note := ts.do(t, call{method: "POST", path: path("messages"), token: annToken, body: map[string]string{"text": "VIP", "visibility": "internal"}})
	note.wantStatus(t, http.StatusCreated)
	var n baton.Message
	note.decode(t, &n)
	if n.Delivery != nil {
		t.Errorf("note %s; an internal note has no delivery", note.body)
	}
	if c := ts.count(t, `SELECT count(*) FROM outbox WHERE kind = 'deliver' AND task_id IN ($1, $2)`,
		fmt.Sprintf("deliver:%d", m.ID), fmt.Sprintf("deliver:%d", n.ID)); c != 1 {
		t.Errorf("%d deliveries queued for a reply and a note; want 1 (the reply)", c)
	}
	ts.do(t, call{method: "POST", path: path("messages"), token: annToken, body: map[string]string{"text": "x", "visibility": "loud"}}).
		wantError(t, http.StatusBadRequest, "invalid_request")

	ts.do(t, call{method: "POST", path: path("resolve"), token: annToken, body: map[string]bool{"ask_csat": true}}).wantStatus(t, http.StatusNoContent)
	if c := ts.count(t, `SELECT count(*) FROM episodes WHERE conversation_id = $1 AND csat_asked_at IS NOT NULL`, conv); c != 1 {
		t.Error("the resolve did not ask for a score")
	}
	ts.do(t, call{method: "POST", path: path("return"), token: annToken}).wantError(t, http.StatusConflict, "conflict")
	if c := ts.count(t, `SELECT count(*) FROM assignments WHERE user_id = $1 AND ended_at IS NOT NULL`, ann.ID); c != 1 {
		t.Errorf("%d ended assignments for ann; want 1", c)
	}
}

func TestPresenceAssignsTheBacklog(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	_, token := ts.user(t, baton.RoleAgent, "support")
	a := ts.handedOff(t, "c1", 0)
	ts.clock.Advance(time.Second)
	b := ts.handedOff(t, "c2", 0)

	ts.do(t, call{method: "PUT", path: "/v1/agent/presence", token: token, body: map[string]string{"status": "busy"}}).
		wantError(t, http.StatusBadRequest, "invalid_request")
	r := ts.do(t, call{method: "PUT", path: "/v1/agent/presence", token: token, body: map[string]string{"status": "online"}})
	r.wantStatus(t, http.StatusOK)
	var out struct {
		Assigned []baton.Assignment `json:"assigned"`
	}
	r.decode(t, &out)
	if len(out.Assigned) != 2 || out.Assigned[0].ConversationID != a || out.Assigned[1].ConversationID != b {
		t.Fatalf("assigned %s; want %d then %d", r.body, a, b)
	}
	// Nothing waits now: the queue is empty.
	q := ts.do(t, call{method: "GET", path: "/v1/agent/queue", token: token})
	q.wantStatus(t, http.StatusOK)
	var page struct {
		Conversations []baton.QueueItem `json:"conversations"`
	}
	q.decode(t, &page)
	if len(page.Conversations) != 0 {
		t.Errorf("queue %s; want empty", q.body)
	}
}

func TestCannedRepliesAndHours(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	_, agentToken := ts.user(t, baton.RoleAgent, "support")
	_, adminToken := ts.user(t, baton.RoleAdmin)
	body := map[string]any{"shortcut": "refund-time", "title": "Refund timing", "body": "Refunds take 5 working days."}
	ts.do(t, call{method: "POST", path: "/v1/canned-replies", token: agentToken, body: body}).wantError(t, http.StatusForbidden, "forbidden")
	r := ts.do(t, call{method: "POST", path: "/v1/canned-replies", token: adminToken, body: body})
	r.wantStatus(t, http.StatusCreated)
	var c baton.CannedReply
	r.decode(t, &c)
	ts.do(t, call{method: "POST", path: "/v1/canned-replies", token: adminToken, body: body}).wantError(t, http.StatusConflict, "conflict")
	ts.do(t, call{method: "POST", path: "/v1/canned-replies", token: adminToken, body: map[string]any{"shortcut": "Bad Shortcut", "body": "x"}}).
		wantError(t, http.StatusBadRequest, "invalid_request")
	list := ts.do(t, call{method: "GET", path: "/v1/canned-replies", token: agentToken})
	list.wantStatus(t, http.StatusOK)
	var page struct {
		Canned []baton.CannedReply `json:"canned_replies"`
	}
	list.decode(t, &page)
	if len(page.Canned) != 1 || page.Canned[0].Body != "Refunds take 5 working days." {
		t.Errorf("agent sees %s", list.body)
	}
	ts.do(t, call{method: "DELETE", path: fmt.Sprintf("/v1/canned-replies/%d", c.ID), token: adminToken}).wantStatus(t, http.StatusNoContent)
	ts.do(t, call{method: "DELETE", path: fmt.Sprintf("/v1/canned-replies/%d", c.ID), token: adminToken}).wantError(t, http.StatusNotFound, "not_found")

	var team int64
	ts.db.Pool.QueryRow(t.Context(), `SELECT id FROM teams WHERE name = 'support'`).Scan(&team) //nolint:errcheck
	hours := fmt.Sprintf("/v1/teams/%d/hours", team)
	for _, tt := range []struct {
		name  string
		hours any
		want  int
	}{
		{"a schedule", map[string]any{"timezone": "Europe/Berlin", "weekly": map[string][]string{"mon": {"09:00-17:00"}}, "holidays": []string{"2026-12-25"}}, http.StatusOK},
		{"bad timezone", map[string]any{"timezone": "Mars/Olympus", "weekly": map[string][]string{"mon": {"09:00-17:00"}}}, http.StatusBadRequest},
		{"end before start", map[string]any{"timezone": "UTC", "weekly": map[string][]string{"mon": {"17:00-09:00"}}}, http.StatusBadRequest},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := ts.do(t, call{method: "PUT", path: hours, token: adminToken, body: map[string]any{"hours": tt.hours}})
			r.wantStatus(t, tt.want)
		})
	}
	g := ts.do(t, call{method: "GET", path: hours, token: adminToken})
	g.wantStatus(t, http.StatusOK)
	var got struct {
		Hours struct {
			Timezone string              `json:"timezone"`
			Weekly   map[string][]string `json:"weekly"`
		} `json:"hours"`
		AlwaysOpen bool `json:"always_open"`
	}
	g.decode(t, &got)
	if got.Hours.Timezone != "Europe/Berlin" || got.AlwaysOpen || len(got.Hours.Weekly["mon"]) != 1 {
		t.Errorf("hours %s; want the valid schedule kept after the refused ones", g.body)
	}
	ts.do(t, call{method: "GET", path: hours, token: agentToken}).wantError(t, http.StatusForbidden, "forbidden")
	ts.do(t, call{method: "PUT", path: "/v1/teams/99999/hours", token: adminToken, body: map[string]any{"hours": nil}}).
		wantError(t, http.StatusNotFound, "not_found")
}
