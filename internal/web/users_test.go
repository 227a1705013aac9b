package web_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/batonhq/baton"
)

// auditRow is one row of audit_log.
type auditRow struct {
	ActorID       *int64
	Action        string
	Before, After json.RawMessage
}

// audit returns the audit log of one entity, oldest first.
func (ts *testServer) audit(t testing.TB, entity string, entityID int64) []auditRow {
	t.Helper()
	rows, err := ts.db.Pool.Query(t.Context(), `SELECT actor_id, action, before, after FROM audit_log
		WHERE entity = $1 AND entity_id = $2 ORDER BY id`, entity, fmt.Sprint(entityID))
	if err != nil {
		t.Fatalf("read audit log: %v", err)
	}
	defer rows.Close()
	var out []auditRow
	for rows.Next() {
		var a auditRow
		if err := rows.Scan(&a.ActorID, &a.Action, &a.Before, &a.After); err != nil {
			t.Fatalf("read audit log: %v", err)
		}
		out = append(out, a)
	}
	if err := rows.Err(); err != nil {
		t.Fatalf("read audit log: %v", err)
	}
	return out
}

// wantAudit checks that the newest audit row of an entity records action by actor, and
// decodes its before and after images into before and after (when not nil).
func (ts *testServer) wantAudit(t testing.TB, entity string, entityID int64, n int, action string, actor int64, before, after any) {
	t.Helper()
	rows := ts.audit(t, entity, entityID)
	if len(rows) != n {
		t.Fatalf("%d audit rows for %s %d, want %d", len(rows), entity, entityID, n)
	}
	if n == 0 {
		return
	}
	a := rows[n-1]
	if a.Action != action || a.ActorID == nil || *a.ActorID != actor {
		t.Errorf("audit row = %s by %v, want %s by %d", a.Action, a.ActorID, action, actor)
	}
	for _, img := range []struct {
		raw json.RawMessage
		v   any
	}{{a.Before, before}, {a.After, after}} {
		if img.v == nil {
			continue
		}
		if err := json.Unmarshal(img.raw, img.v); err != nil {
			t.Errorf("audit image %s: %v", img.raw, err)
		}
	}
}

// userString prints a user for comparison, whatever the time zone it was read in.
func userString(u baton.User) string {
	u.CreatedAt = u.CreatedAt.UTC()
	return fmt.Sprintf("%+v", u)
}

var tokenFormat = regexp.MustCompile(`^btn_[A-Za-z0-9_-]{43}$`)

func TestCreateUser(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	admin, adminToken := ts.user(t, baton.RoleAdmin)
	tests := []struct {
		name      string
		body      string
		wantEmail string
		wantRole  baton.Role
		wantCap   int
		wantTeams int
	}{
		{"agent with teams", `{"email":" Ana@Example.COM ","name":"Ana","role":"agent","capacity":3,"teams":["billing","support"]}`,
			"ana@example.com", baton.RoleAgent, 3, 2},
		{"admin with the default capacity", `{"email":"bo@example.com","role":"admin"}`, "bo@example.com", baton.RoleAdmin, 5, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := ts.do(t, call{method: "POST", path: "/v1/admin/users", body: tt.body, token: adminToken})
			r.wantStatus(t, http.StatusCreated)
			var out struct {
				User  baton.User `json:"user"`
				Token string     `json:"token"`
			}
			r.decode(t, &out)
			u := out.User
			if u.ID == 0 || u.Email != tt.wantEmail || u.Role != tt.wantRole || u.Capacity != tt.wantCap ||
				u.Status != "active" || len(u.TeamIDs) != tt.wantTeams || !u.CreatedAt.Equal(epoch) {
				t.Errorf("user = %+v, want %s %s capacity %d with %d teams", u, tt.wantEmail, tt.wantRole, tt.wantCap, tt.wantTeams)
			}
			if !tokenFormat.MatchString(out.Token) {
				t.Fatalf("token = %q, want btn_ and 43 base64url characters", out.Token)
			}

			// The token works at once, for this user.
			me := ts.do(t, call{method: "GET", path: "/v1/auth/me", token: out.Token})
			me.wantStatus(t, http.StatusOK)
			var got baton.User
			me.decode(t, &got)
			if got.ID != u.ID {
				t.Errorf("the new token belongs to user %d, want %d", got.ID, u.ID)
			}

			// It is shown once: neither stored in clear, nor listed, nor audited.
			if n := ts.count(t, `SELECT count(*) FROM api_tokens WHERE user_id = $1 AND token_hash = convert_to($2, 'UTF8')`, u.ID, out.Token); n != 0 {
				t.Error("the token is stored in clear")
			}
			list := ts.do(t, call{method: "GET", path: "/v1/admin/users", token: adminToken})
			if strings.Contains(string(list.body), out.Token) || strings.Contains(string(list.body), `"token"`) {
				t.Error("GET /v1/admin/users shows a token")
			}
			var after baton.User
			ts.wantAudit(t, "user", u.ID, 1, "create", admin.ID, nil, &after)
			if after.Email != tt.wantEmail || after.Role != tt.wantRole {
				t.Errorf("audit after = %+v, want the created user", after)
			}
			for _, row := range ts.audit(t, "user", u.ID) {
				if strings.Contains(string(row.After), out.Token) {
					t.Error("the audit log holds the token")
				}
			}
		})
	}
}

func TestCreateUserErrors(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	admin, adminToken := ts.user(t, baton.RoleAdmin)
	tests := []struct {
		name       string
		body       string
		wantStatus int
		wantCode   string
	}{
		{"email taken", fmt.Sprintf(`{"email":%q,"role":"agent"}`, strings.ToUpper(admin.Email)), http.StatusConflict, "conflict"},
		{"not an email", `{"email":"ana","role":"agent"}`, http.StatusBadRequest, "invalid_request"},
		{"no email", `{"role":"agent"}`, http.StatusBadRequest, "invalid_request"},
		{"unknown role", `{"email":"ana@example.com","role":"owner"}`, http.StatusBadRequest, "invalid_request"},
		{"no role", `{"email":"ana@example.com"}`, http.StatusBadRequest, "invalid_request"},
		{"teams not a list", `{"email":"ana@example.com","role":"agent","teams":"billing"}`, http.StatusBadRequest, "invalid_request"},
	}
	t.Run("refused", func(t *testing.T) {
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				t.Parallel()
				ts.do(t, call{method: "POST", path: "/v1/admin/users", body: tt.body, token: adminToken}).
					wantError(t, tt.wantStatus, tt.wantCode)
			})
		}
	})
	if n := ts.count(t, `SELECT count(*) FROM users`); n != 1 {
		t.Errorf("%d users, want only the admin", n)
	}
	if n := ts.count(t, `SELECT count(*) FROM audit_log WHERE actor_id IS NOT NULL`); n != 0 {
		t.Errorf("%d audit rows for refused requests, want 0", n)
	}
}

func TestListUsers(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	admin, adminToken := ts.user(t, baton.RoleAdmin)
	agent, _ := ts.user(t, baton.RoleAgent, "billing")
	r := ts.do(t, call{method: "GET", path: "/v1/admin/users", token: adminToken})
	r.wantStatus(t, http.StatusOK)
	var out struct {
		Users []baton.User `json:"users"`
	}
	r.decode(t, &out)
	if len(out.Users) != 2 || out.Users[0].ID != admin.ID || out.Users[1].ID != agent.ID {
		t.Fatalf("users = %+v, want the admin then the agent", out.Users)
	}
	if got := out.Users[1]; got.Email != agent.Email || got.Role != baton.RoleAgent || !slices.Equal(got.TeamIDs, agent.TeamIDs) || len(got.TeamIDs) != 1 {
		t.Errorf("agent = %+v, want %+v", got, agent)
	}
	if !strings.Contains(string(r.body), `"team_ids":[]`) {
		t.Errorf("a user without teams should list team_ids as []: %s", r.body)
	}
}

func TestUpdateUser(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	admin, adminToken := ts.user(t, baton.RoleAdmin)
	tests := []struct {
		name  string
		teams []string // the agent's teams before
		body  string
		check func(t *testing.T, before, after baton.User)
	}{
		{"promote to admin", nil, `{"role":"admin"}`, func(t *testing.T, before, after baton.User) {
			if before.Role != baton.RoleAgent || after.Role != baton.RoleAdmin {
				t.Errorf("role %s -> %s, want agent -> admin", before.Role, after.Role)
			}
		}},
		{"disable", nil, `{"status":"disabled"}`, func(t *testing.T, before, after baton.User) {
			if before.Status != "active" || after.Status != "disabled" {
				t.Errorf("status %s -> %s, want active -> disabled", before.Status, after.Status)
			}
		}},
		{"capacity", nil, `{"capacity":12}`, func(t *testing.T, before, after baton.User) {
			if before.Capacity != 5 || after.Capacity != 12 {
				t.Errorf("capacity %d -> %d, want 5 -> 12", before.Capacity, after.Capacity)
			}
		}},
		{"capacity zero (away)", nil, `{"capacity":0}`, func(t *testing.T, before, after baton.User) {
			if after.Capacity != 0 {
				t.Errorf("capacity = %d, want 0", after.Capacity)
			}
		}},
		{"rename", nil, `{"name":"Renamed"}`, func(t *testing.T, before, after baton.User) {
			if after.Name != "Renamed" || after.Role != before.Role || after.Capacity != before.Capacity {
				t.Errorf("after = %+v, want only the name changed from %+v", after, before)
			}
		}},
		{"join teams", []string{"billing"}, `{"teams":["support","vip"]}`, func(t *testing.T, before, after baton.User) {
			if len(before.TeamIDs) != 1 || len(after.TeamIDs) != 2 || slices.Contains(after.TeamIDs, before.TeamIDs[0]) {
				t.Errorf("teams %v -> %v, want billing replaced by support and vip", before.TeamIDs, after.TeamIDs)
			}
		}},
		{"leave every team", []string{"billing"}, `{"teams":[]}`, func(t *testing.T, before, after baton.User) {
			if len(before.TeamIDs) != 1 || len(after.TeamIDs) != 0 {
				t.Errorf("teams %v -> %v, want none", before.TeamIDs, after.TeamIDs)
			}
		}},
		{"several fields", nil, `{"role":"admin","capacity":7,"teams":["night"]}`, func(t *testing.T, before, after baton.User) {
			if after.Role != baton.RoleAdmin || after.Capacity != 7 || len(after.TeamIDs) != 1 {
				t.Errorf("after = %+v", after)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			agent, _ := ts.user(t, baton.RoleAgent, tt.teams...)
			r := ts.do(t, call{method: "PATCH", path: fmt.Sprintf("/v1/admin/users/%d", agent.ID), body: tt.body, token: adminToken})
			r.wantStatus(t, http.StatusOK)
			var after baton.User
			r.decode(t, &after)
			if after.ID != agent.ID || after.Email != agent.Email {
				t.Fatalf("PATCH returned user %d %s, want %d %s", after.ID, after.Email, agent.ID, agent.Email)
			}
			tt.check(t, agent, after)

			// The change is stored, and audited with both images.
			list := ts.do(t, call{method: "GET", path: "/v1/admin/users", token: adminToken})
			var all struct {
				Users []baton.User `json:"users"`
			}
			list.decode(t, &all)
			i := slices.IndexFunc(all.Users, func(u baton.User) bool { return u.ID == agent.ID })
			if i < 0 || userString(all.Users[i]) != userString(after) {
				t.Errorf("listed users = %+v, want %+v among them", all.Users, after)
			}
			var auditBefore, auditAfter baton.User
			// The first row is the creation (actor: none, the CLI); the second is this edit.
			ts.wantAudit(t, "user", agent.ID, 2, "update", admin.ID, &auditBefore, &auditAfter)
			if got, want := userString(auditBefore), userString(agent); got != want {
				t.Errorf("audit before = %s, want %s", got, want)
			}
			if got, want := userString(auditAfter), userString(after); got != want {
				t.Errorf("audit after = %s, want %s", got, want)
			}
		})
	}
}

func TestUpdateUserErrors(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	_, adminToken := ts.user(t, baton.RoleAdmin)
	agent, _ := ts.user(t, baton.RoleAgent)
	path := fmt.Sprintf("/v1/admin/users/%d", agent.ID)
	tests := []struct {
		name       string
		path       string
		body       string
		wantStatus int
		wantCode   string
	}{
		{"unknown role", path, `{"role":"owner"}`, http.StatusBadRequest, "invalid_request"},
		{"unknown status", path, `{"status":"deleted"}`, http.StatusBadRequest, "invalid_request"},
		{"negative capacity", path, `{"capacity":-1}`, http.StatusBadRequest, "invalid_request"},
		{"capacity over 100", path, `{"capacity":101}`, http.StatusBadRequest, "invalid_request"},
		{"capacity not a number", path, `{"capacity":"many"}`, http.StatusBadRequest, "invalid_request"},
		{"empty body", path, ``, http.StatusBadRequest, "invalid_request"},
		{"unknown user", "/v1/admin/users/987654", `{"capacity":3}`, http.StatusNotFound, "not_found"},
		{"id not a number", "/v1/admin/users/ana", `{"capacity":3}`, http.StatusNotFound, "not_found"},
		{"id zero", "/v1/admin/users/0", `{"capacity":3}`, http.StatusNotFound, "not_found"},
		{"negative id", "/v1/admin/users/-1", `{"capacity":3}`, http.StatusNotFound, "not_found"},
	}
	t.Run("refused", func(t *testing.T) {
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				t.Parallel()
				ts.do(t, call{method: "PATCH", path: tt.path, body: tt.body, token: adminToken}).wantError(t, tt.wantStatus, tt.wantCode)
			})
		}
	})
	if rows := ts.audit(t, "user", agent.ID); len(rows) != 1 || rows[0].Action != "create" {
		t.Errorf("audit rows = %+v, want only the creation", rows)
	}
	var u baton.User
	if err := ts.db.Pool.QueryRow(t.Context(), `SELECT role, status, capacity FROM users WHERE id = $1`, agent.ID).
		Scan(&u.Role, &u.Status, &u.Capacity); err != nil {
		t.Fatal(err)
	}
	if u.Role != baton.RoleAgent || u.Status != "active" || u.Capacity != 5 {
		t.Errorf("agent = %+v after refused edits, want it unchanged", u)
	}
}

func TestTeams(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	admin, adminToken := ts.user(t, baton.RoleAdmin)

	created := map[string]baton.Team{}
	for _, tt := range []struct{ name, body, want string }{
		{"create", `{"name":"Billing"}`, "Billing"},
		{"name is trimmed", `{"name":"  Night shift  "}`, "Night shift"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := ts.do(t, call{method: "POST", path: "/v1/admin/teams", body: tt.body, token: adminToken})
			r.wantStatus(t, http.StatusCreated)
			var team baton.Team
			r.decode(t, &team)
			if team.ID == 0 || team.Name != tt.want || !team.CreatedAt.Equal(epoch) {
				t.Errorf("team = %+v, want %q created at %v", team, tt.want, epoch)
			}
			var after baton.Team
			ts.wantAudit(t, "team", team.ID, 1, "create", admin.ID, nil, &after)
			if fmt.Sprint(after) != fmt.Sprint(team) {
				t.Errorf("audit after = %+v, want %+v", after, team)
			}
			created[team.Name] = team
		})
	}

	t.Run("refused", func(t *testing.T) {
		for _, tt := range []struct {
			name, body string
			wantStatus int
			wantCode   string
		}{
			{"duplicate", `{"name":"Billing"}`, http.StatusConflict, "conflict"},
			{"duplicate after trimming", `{"name":" Billing "}`, http.StatusConflict, "conflict"},
			{"empty", `{"name":""}`, http.StatusBadRequest, "invalid_request"},
			{"blank", `{"name":"   "}`, http.StatusBadRequest, "invalid_request"},
			{"no name", `{}`, http.StatusBadRequest, "invalid_request"},
			{"too long", fmt.Sprintf(`{"name":%q}`, strings.Repeat("n", 101)), http.StatusBadRequest, "invalid_request"},
		} {
			t.Run(tt.name, func(t *testing.T) {
				t.Parallel()
				ts.do(t, call{method: "POST", path: "/v1/admin/teams", body: tt.body, token: adminToken}).wantError(t, tt.wantStatus, tt.wantCode)
			})
		}
	})

	r := ts.do(t, call{method: "GET", path: "/v1/admin/teams", token: adminToken})
	r.wantStatus(t, http.StatusOK)
	var out struct {
		Teams []baton.Team `json:"teams"`
	}
	r.decode(t, &out)
	// The default team, support, comes with the schema.
	if len(out.Teams) == 0 || out.Teams[0].Name != "support" {
		t.Fatalf("teams = %+v, want the default team support first", out.Teams)
	}
	out.Teams = out.Teams[1:]
	want := []baton.Team{created["Billing"], created["Night shift"]}
	if fmt.Sprint(out.Teams) != fmt.Sprint(want) {
		t.Errorf("teams = %+v, want %+v", out.Teams, want)
	}
	if n := ts.count(t, `SELECT count(*) FROM audit_log WHERE entity = 'team'`); n != 2 {
		t.Errorf("%d team audit rows, want 2 (refused requests write none)", n)
	}
}
