package web_test

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/batonhq/baton"
)

// conversation stores a customer's first message (as the webhook would) and gives the
// conversation to team (0 = no team). It returns the conversation id.
func (ts *testServer) conversation(t testing.TB, customer string, team int64) int64 {
	t.Helper()
	res, err := ts.db.Ingest(t.Context(), baton.Inbound{Channel: "webhook", Sender: baton.Sender{ID: customer, Name: "Customer " + customer},
		ExternalID: customer + "-1", Text: "hello from " + customer}, 0, 24*time.Hour)
	if err != nil {
		t.Fatalf("ingest: %v", err)
	}
	if team != 0 {
		if _, err := ts.db.Pool.Exec(t.Context(), `UPDATE conversations SET team_id = $2 WHERE id = $1`, res.ConversationID, team); err != nil {
			t.Fatalf("set team: %v", err)
		}
	}
	return res.ConversationID
}

type conversationPage struct {
	Conversations []baton.Conversation `json:"conversations"`
	NextCursor    *string              `json:"next_cursor"`
}

func ids(cs []baton.Conversation) []int64 {
	out := []int64{}
	for _, c := range cs {
		out = append(out, c.ID)
	}
	return out
}

func TestConversationsOfAnotherTeamAreHidden(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	member, memberToken := ts.user(t, baton.RoleAgent, "billing")
	_, outsiderToken := ts.user(t, baton.RoleAgent, "support")
	_, teamlessToken := ts.user(t, baton.RoleAgent)
	_, adminToken := ts.user(t, baton.RoleAdmin)
	billing := ts.conversation(t, "c-billing", member.TeamIDs[0])
	free := ts.conversation(t, "c-free", 0)

	tests := []struct {
		name     string
		token    string
		conv     int64
		want     int
		wantList []int64
	}{
		{"team member", memberToken, billing, http.StatusOK, []int64{billing}},
		{"agent of another team", outsiderToken, billing, http.StatusNotFound, []int64{free}},
		{"agent without a team", teamlessToken, billing, http.StatusNotFound, []int64{}},
		{"admin", adminToken, billing, http.StatusOK, []int64{free, billing}},
		// Until routing gives it a team, a conversation is the default team's (support).
		{"conversation without a team, default team's agent", outsiderToken, free, http.StatusOK, []int64{free}},
		{"conversation without a team, another team's agent", memberToken, free, http.StatusNotFound, []int64{billing}},
		{"conversation without a team, agent without a team", teamlessToken, free, http.StatusNotFound, []int64{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := ts.do(t, call{method: "GET", path: fmt.Sprintf("/v1/conversations/%d", tt.conv), token: tt.token})
			if tt.want == http.StatusNotFound {
				r.wantError(t, http.StatusNotFound, "not_found")
				// As if it did not exist: the same answer as an unknown id.
				unknown := ts.do(t, call{method: "GET", path: "/v1/conversations/987654", token: tt.token})
				if unknown.status != r.status || unknown.errorMessage(t) != r.errorMessage(t) {
					t.Errorf("hidden: %d %s; unknown: %d %s; want them alike", r.status, r.body, unknown.status, unknown.body)
				}
			} else {
				r.wantStatus(t, tt.want)
				var c baton.Conversation
				r.decode(t, &c)
				if c.ID != tt.conv || len(c.Messages) != 1 {
					t.Errorf("conversation %d with %d messages, want %d with 1", c.ID, len(c.Messages), tt.conv)
				}
			}

			list := ts.do(t, call{method: "GET", path: "/v1/conversations", token: tt.token})
			list.wantStatus(t, http.StatusOK)
			var page conversationPage
			list.decode(t, &page)
			if got := ids(page.Conversations); !slices.Equal(got, tt.wantList) {
				t.Errorf("listed %v, want %v", got, tt.wantList)
			}
		})
	}

	t.Run("resolve", func(t *testing.T) {
		t.Parallel()
		ts.do(t, call{method: "POST", path: fmt.Sprintf("/v1/conversations/%d/resolve", billing), token: outsiderToken}).
			wantError(t, http.StatusNotFound, "not_found")
		if n := ts.count(t, `SELECT count(*) FROM conversations WHERE id = $1 AND status = 'bot'`, billing); n != 1 {
			t.Fatal("an agent of another team resolved the conversation")
		}
	})
}

func TestGetConversation(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	_, token := ts.user(t, baton.RoleAgent, "support")
	id := ts.conversation(t, "ada", 0)
	ts.clock.Advance(time.Minute)
	if _, err := ts.db.Ingest(t.Context(), baton.Inbound{Channel: "webhook", Sender: baton.Sender{ID: "ada"},
		ExternalID: "ada-2", Text: "are you there?"}, 0, 24*time.Hour); err != nil {
		t.Fatal(err)
	}

	r := ts.do(t, call{method: "GET", path: fmt.Sprintf("/v1/conversations/%d", id), token: token})
	r.wantStatus(t, http.StatusOK)
	var c baton.Conversation
	r.decode(t, &c)
	if c.ID != id || c.Status != baton.StatusBot || c.Channel != "webhook" || c.Customer.ExternalID != "ada" || c.Customer.Name != "Customer ada" {
		t.Errorf("conversation = %+v", c)
	}
	var texts []string
	for _, m := range c.Messages {
		if m.Author != baton.AuthorCustomer || m.ConversationID != id {
			t.Errorf("message = %+v, want a customer message of conversation %d", m, id)
		}
		texts = append(texts, m.Text)
	}
	if want := []string{"hello from ada", "are you there?"}; !slices.Equal(texts, want) {
		t.Errorf("messages = %q, want %q in order", texts, want)
	}

	// The list carries no messages.
	list := ts.do(t, call{method: "GET", path: "/v1/conversations", token: token})
	if strings.Contains(string(list.body), `"messages"`) {
		t.Errorf("list includes messages: %s", list.body)
	}

	for _, tt := range []struct{ name, path string }{
		{"unknown id", "/v1/conversations/987654"},
		{"id not a number", "/v1/conversations/ada"},
		{"id zero", "/v1/conversations/0"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ts.do(t, call{method: "GET", path: tt.path, token: token}).wantError(t, http.StatusNotFound, "not_found")
		})
	}
}

func TestListConversationsPages(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	_, token := ts.user(t, baton.RoleAdmin)
	var all []int64
	for i := range 5 {
		all = append(all, ts.conversation(t, fmt.Sprintf("c%d", i), 0))
	}
	slices.Reverse(all) // newest first

	list := func(t *testing.T, query string) conversationPage {
		t.Helper()
		r := ts.do(t, call{method: "GET", path: "/v1/conversations" + query, token: token})
		r.wantStatus(t, http.StatusOK)
		var p conversationPage
		r.decode(t, &p)
		if !strings.Contains(string(r.body), `"next_cursor":`) {
			t.Errorf("body %s has no next_cursor", r.body)
		}
		return p
	}

	t.Run("follow the cursor", func(t *testing.T) {
		t.Parallel()
		var seen []int64
		query := "?limit=2"
		pages := 0
		for {
			p := list(t, query)
			pages++
			seen = append(seen, ids(p.Conversations)...)
			if p.NextCursor == nil {
				break
			}
			if len(p.Conversations) != 2 || *p.NextCursor != fmt.Sprint(p.Conversations[1].ID) {
				t.Fatalf("page %v with next_cursor %q", ids(p.Conversations), *p.NextCursor)
			}
			if pages > 5 {
				t.Fatalf("more than 5 pages: %v", seen)
			}
			query = "?limit=2&cursor=" + *p.NextCursor
		}
		if pages != 3 || !slices.Equal(seen, all) {
			t.Errorf("%d pages with %v, want 3 pages with %v", pages, seen, all)
		}
	})
	t.Run("default limit", func(t *testing.T) {
		t.Parallel()
		p := list(t, "")
		if !slices.Equal(ids(p.Conversations), all) || p.NextCursor != nil {
			t.Errorf("page %v, next %v; want %v and no cursor", ids(p.Conversations), p.NextCursor, all)
		}
	})
	t.Run("a full last page is followed by an empty one", func(t *testing.T) {
		t.Parallel()
		p := list(t, "?limit=5")
		if len(p.Conversations) != 5 || p.NextCursor == nil {
			t.Fatalf("page %v, next %v; want 5 and a cursor", ids(p.Conversations), p.NextCursor)
		}
		last := ts.do(t, call{method: "GET", path: "/v1/conversations?limit=5&cursor=" + *p.NextCursor, token: token})
		if !strings.Contains(string(last.body), `"conversations":[]`) || !strings.Contains(string(last.body), `"next_cursor":null`) {
			t.Errorf("last page = %s, want an empty list and a null cursor", last.body)
		}
	})
	t.Run("filters", func(t *testing.T) {
		t.Parallel()
		var customer int64
		if err := ts.db.Pool.QueryRow(t.Context(), `SELECT customer_id FROM conversations WHERE id = $1`, all[1]).Scan(&customer); err != nil {
			t.Fatal(err)
		}
		for _, tt := range []struct {
			query string
			want  []int64
		}{
			{"?customer=" + fmt.Sprint(customer), []int64{all[1]}},
			{"?channel=webhook&limit=2", all[:2]},
			{"?channel=sms", []int64{}},
			{"?status=bot&cursor=" + fmt.Sprint(all[2]), all[3:]},
			{"?status=queued", []int64{}},
		} {
			if got := ids(list(t, tt.query).Conversations); !slices.Equal(got, tt.want) {
				t.Errorf("%s listed %v, want %v", tt.query, got, tt.want)
			}
		}
	})
	t.Run("invalid", func(t *testing.T) {
		for _, q := range []string{
			"status=open", "limit=0", "limit=201", "limit=ten", "limit=-1",
			"cursor=0", "cursor=-3", "cursor=abc", "customer=abc",
		} {
			t.Run(q, func(t *testing.T) {
				t.Parallel()
				ts.do(t, call{method: "GET", path: "/v1/conversations?" + q, token: token}).wantError(t, http.StatusBadRequest, "invalid_request")
			})
		}
	})
}

func TestResolveConversation(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	agent, token := ts.user(t, baton.RoleAgent, "billing")
	s := ts.login(t, token)
	id := ts.conversation(t, "ada", agent.TeamIDs[0])
	path := fmt.Sprintf("/v1/conversations/%d/resolve", id)

	ts.do(t, call{method: "POST", path: path, session: &s}).wantError(t, http.StatusForbidden, "csrf")
	r := ts.do(t, call{method: "POST", path: path, session: &s, csrf: s.csrf})
	r.wantStatus(t, http.StatusNoContent)
	if len(r.body) != 0 {
		t.Errorf("204 with a body: %s", r.body)
	}

	got := ts.do(t, call{method: "GET", path: fmt.Sprintf("/v1/conversations/%d", id), token: token})
	var c baton.Conversation
	got.decode(t, &c)
	if c.Status != baton.StatusResolved {
		t.Errorf("status = %s, want resolved", c.Status)
	}
	if n := ts.count(t, `SELECT count(*) FROM episodes WHERE conversation_id = $1 AND resolution = 'explicit' AND resolved_at = $2`, id, epoch); n != 1 {
		t.Error("the episode was not resolved explicitly at the clock's time")
	}
	ts.wantAudit(t, "conversation", id, 1, "resolve", agent.ID, nil, nil)

	for _, tt := range []struct{ name, path string }{
		{"unknown id", "/v1/conversations/987654/resolve"},
		{"id not a number", "/v1/conversations/x/resolve"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ts.do(t, call{method: "POST", path: tt.path, token: token}).wantError(t, http.StatusNotFound, "not_found")
		})
	}
}
