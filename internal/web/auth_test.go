package web_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/batonhq/baton"
)

func TestUnauthenticatedRequestsGet401(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	_, token := ts.user(t, baton.RoleAdmin)
	cookie := func(v string) *http.Cookie { return &http.Cookie{Name: "baton_session", Value: v} }
	tests := []struct {
		name          string
		authorization string
		cookie        *http.Cookie
	}{
		{name: "no credentials"},
		{name: "basic scheme", authorization: "Basic YWRtaW46YWRtaW4="},
		{name: "bearer without a space", authorization: "Bearer" + token},
		{name: "bearer without a token", authorization: "Bearer "},
		{name: "token without a scheme", authorization: token},
		{name: "unknown token", authorization: "Bearer btn_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"},
		{name: "unknown session", cookie: cookie("btn_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")},
		{name: "api token used as session id", cookie: cookie(token)},
		{name: "empty session cookie", cookie: cookie("")},
	}
	routes := []string{"GET /v1/auth/me", "GET /v1/conversations", "GET /v1/admin/users", "POST /v1/admin/teams"}
	t.Run("refused", func(t *testing.T) {
		for _, tt := range tests {
			for _, route := range routes {
				t.Run(tt.name+"/"+route, func(t *testing.T) {
					t.Parallel()
					method, path, _ := strings.Cut(route, " ")
					c := call{method: method, path: path}
					if tt.authorization != "" {
						c.header = map[string]string{"Authorization": tt.authorization}
					}
					if tt.cookie != nil {
						c.session = &session{cookie: tt.cookie}
					}
					if method == "POST" {
						c.body = `{"name":"should-not-exist"}`
					}
					ts.do(t, c).wantError(t, http.StatusUnauthorized, "unauthorized")
				})
			}
		}
	})
	if n := ts.count(t, `SELECT count(*) FROM teams WHERE NOT is_default`); n != 0 {
		t.Errorf("%d teams created by unauthenticated requests, want 0", n)
	}
	ts.do(t, call{method: "GET", path: "/v1/auth/me", token: token}).wantStatus(t, http.StatusOK)
}

func TestAdminRoutesNeedTheAdminRole(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	agent, agentToken := ts.user(t, baton.RoleAgent)
	_, adminToken := ts.user(t, baton.RoleAdmin)
	agentSession := ts.login(t, agentToken)
	tests := []struct {
		name         string
		method, path string
		body         string
		token        string
		session      *session
		want         int
	}{
		{"agent lists users", "GET", "/v1/admin/users", "", agentToken, nil, http.StatusForbidden},
		{"agent lists teams", "GET", "/v1/admin/teams", "", agentToken, nil, http.StatusForbidden},
		{"agent creates a user", "POST", "/v1/admin/users", `{"email":"new@example.com","role":"admin"}`, agentToken, nil, http.StatusForbidden},
		{"agent promotes itself", "PATCH", fmt.Sprintf("/v1/admin/users/%d", agent.ID), `{"role":"admin"}`, agentToken, nil, http.StatusForbidden},
		{"agent creates a team", "POST", "/v1/admin/teams", `{"name":"agents-only"}`, agentToken, nil, http.StatusForbidden},
		{"agent session lists users", "GET", "/v1/admin/users", "", "", &agentSession, http.StatusForbidden},
		{"agent session with CSRF creates a team", "POST", "/v1/admin/teams", `{"name":"agents-only"}`, "", &agentSession, http.StatusForbidden},
		{"agent reads itself", "GET", "/v1/auth/me", "", agentToken, nil, http.StatusOK},
		{"agent lists conversations", "GET", "/v1/conversations", "", agentToken, nil, http.StatusOK},
		{"admin lists users", "GET", "/v1/admin/users", "", adminToken, nil, http.StatusOK},
		{"admin lists conversations", "GET", "/v1/conversations", "", adminToken, nil, http.StatusOK},
	}
	t.Run("requests", func(t *testing.T) {
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				t.Parallel()
				c := call{method: tt.method, path: tt.path, token: tt.token, session: tt.session}
				if tt.body != "" {
					c.body = tt.body
				}
				if tt.session != nil {
					c.csrf = tt.session.csrf
				}
				r := ts.do(t, c)
				if tt.want == http.StatusForbidden {
					r.wantError(t, http.StatusForbidden, "forbidden")
				} else {
					r.wantStatus(t, tt.want)
				}
			})
		}
	})
	// Nothing the agent tried may have happened.
	if n := ts.count(t, `SELECT count(*) FROM users WHERE email = 'new@example.com' OR (role = 'admin' AND id = $1)`, agent.ID); n != 0 {
		t.Errorf("an agent's admin request took effect (%d rows)", n)
	}
	if n := ts.count(t, `SELECT count(*) FROM teams WHERE name = 'agents-only'`); n != 0 {
		t.Errorf("an agent created a team")
	}
}

func TestRevokedTokenIsRefused(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	agent, token := ts.user(t, baton.RoleAgent)
	other, otherToken := ts.user(t, baton.RoleAgent)
	s := ts.login(t, token)
	ts.do(t, call{method: "GET", path: "/v1/auth/me", token: token}).wantStatus(t, http.StatusOK)
	ts.do(t, call{method: "GET", path: "/v1/auth/me", session: &s}).wantStatus(t, http.StatusOK)

	n, err := ts.db.RevokeTokens(t.Context(), 0, agent.Email)
	if err != nil || n != 1 {
		t.Fatalf("RevokeTokens = %d, %v; want 1 token revoked", n, err)
	}
	ts.do(t, call{method: "GET", path: "/v1/auth/me", token: token}).wantError(t, http.StatusUnauthorized, "unauthorized")
	ts.do(t, call{method: "GET", path: "/v1/auth/me", session: &s}).wantError(t, http.StatusUnauthorized, "unauthorized")
	ts.do(t, call{method: "POST", path: "/v1/auth/session", body: map[string]string{"token": token}}).
		wantError(t, http.StatusUnauthorized, "unauthorized")

	// Another user's token is untouched.
	r := ts.do(t, call{method: "GET", path: "/v1/auth/me", token: otherToken})
	r.wantStatus(t, http.StatusOK)
	var me baton.User
	r.decode(t, &me)
	if me.ID != other.ID {
		t.Errorf("me = user %d, want %d", me.ID, other.ID)
	}
}

func TestDisabledUserIsRefused(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	agent, token := ts.user(t, baton.RoleAgent)
	_, adminToken := ts.user(t, baton.RoleAdmin)
	s := ts.login(t, token)
	path := fmt.Sprintf("/v1/admin/users/%d", agent.ID)

	ts.do(t, call{method: "PATCH", path: path, token: adminToken, body: `{"status":"disabled"}`}).wantStatus(t, http.StatusOK)
	ts.do(t, call{method: "GET", path: "/v1/auth/me", token: token}).wantError(t, http.StatusUnauthorized, "unauthorized")
	ts.do(t, call{method: "GET", path: "/v1/auth/me", session: &s}).wantError(t, http.StatusUnauthorized, "unauthorized")
	ts.do(t, call{method: "POST", path: "/v1/auth/session", body: map[string]string{"token": token}}).
		wantError(t, http.StatusUnauthorized, "unauthorized")

	// Enabled again, the token works; the session ended for good.
	ts.do(t, call{method: "PATCH", path: path, token: adminToken, body: `{"status":"active"}`}).wantStatus(t, http.StatusOK)
	ts.do(t, call{method: "GET", path: "/v1/auth/me", token: token}).wantStatus(t, http.StatusOK)
	ts.do(t, call{method: "GET", path: "/v1/auth/me", session: &s}).wantError(t, http.StatusUnauthorized, "unauthorized")
}

func TestCreateSessionSetsCookie(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		publicURL  string
		wantSecure bool
	}{
		{"http public URL", "http://baton.example.com", false},
		{"https public URL", "https://baton.example.com", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ts := newTestServer(t, withPublicURL(tt.publicURL), withSessionTTL(2*time.Hour))
			u, token := ts.user(t, baton.RoleAgent)
			r := ts.do(t, call{method: "POST", path: "/v1/auth/session", body: map[string]string{"token": token}})
			r.wantStatus(t, http.StatusCreated)

			var body struct {
				User      baton.User `json:"user"`
				CSRF      string     `json:"csrf_token"`
				ExpiresAt time.Time  `json:"expires_at"`
			}
			r.decode(t, &body)
			wantExpiry := epoch.Add(2 * time.Hour)
			if body.User.ID != u.ID || body.User.Email != u.Email {
				t.Errorf("user = %+v, want %d %s", body.User, u.ID, u.Email)
			}
			if len(body.CSRF) < 32 {
				t.Errorf("csrf_token = %q, want a long random token", body.CSRF)
			}
			if !body.ExpiresAt.Equal(wantExpiry) {
				t.Errorf("expires_at = %v, want %v", body.ExpiresAt, wantExpiry)
			}

			cookies := r.cookies()
			if len(cookies) != 1 {
				t.Fatalf("Set-Cookie = %q, want one cookie", r.header.Values("Set-Cookie"))
			}
			c := cookies[0]
			if c.Name != "baton_session" || c.Value == "" || c.Value == token {
				t.Errorf("cookie %s=%q, want baton_session with a fresh session id", c.Name, c.Value)
			}
			if !c.HttpOnly {
				t.Error("cookie is not HttpOnly")
			}
			if c.SameSite != http.SameSiteStrictMode {
				t.Errorf("SameSite = %v, want Strict", c.SameSite)
			}
			if c.Secure != tt.wantSecure {
				t.Errorf("Secure = %v, want %v", c.Secure, tt.wantSecure)
			}
			if c.Path != "/" {
				t.Errorf("Path = %q, want /", c.Path)
			}
			if !c.Expires.Equal(wantExpiry) {
				t.Errorf("Expires = %v, want %v", c.Expires, wantExpiry)
			}
			if strings.Contains(string(r.body), c.Value) {
				t.Error("the session id is in the response body; it belongs in the HttpOnly cookie only")
			}
			// Only the hash of the session id is stored.
			if n := ts.count(t, `SELECT count(*) FROM sessions WHERE user_id = $1 AND csrf_token = $2`, u.ID, body.CSRF); n != 1 {
				t.Errorf("%d sessions stored, want 1", n)
			}
			if n := ts.count(t, `SELECT count(*) FROM sessions WHERE id_hash = convert_to($1, 'UTF8')`, c.Value); n != 0 {
				t.Error("the session id is stored in clear")
			}
		})
	}
}

func TestCreateSessionErrors(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	tests := []struct {
		name       string
		body       string
		wantStatus int
		wantCode   string
	}{
		{"empty body", "", http.StatusBadRequest, "invalid_request"},
		{"not JSON", "token=btn_x", http.StatusBadRequest, "invalid_request"},
		{"no token", `{}`, http.StatusBadRequest, "invalid_request"},
		{"empty token", `{"token":""}`, http.StatusBadRequest, "invalid_request"},
		{"unknown field", `{"token":"btn_x","user":"admin"}`, http.StatusBadRequest, "invalid_request"},
		{"trailing data", `{"token":"btn_x"}{}`, http.StatusBadRequest, "invalid_request"},
		{"unknown token", `{"token":"btn_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"}`, http.StatusUnauthorized, "unauthorized"},
		{"too large", padded(t, `{"token":"%s"}`, 4<<10+1), http.StatusRequestEntityTooLarge, "too_large"},
	}
	t.Run("refused", func(t *testing.T) {
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				t.Parallel()
				r := ts.do(t, call{method: "POST", path: "/v1/auth/session", body: tt.body})
				r.wantError(t, tt.wantStatus, tt.wantCode)
				if len(r.cookies()) != 0 {
					t.Errorf("a failed login set %q", r.header.Values("Set-Cookie"))
				}
			})
		}
	})
	if n := ts.count(t, `SELECT count(*) FROM sessions`); n != 0 {
		t.Errorf("%d sessions after failed logins, want 0", n)
	}
}

func TestSessionCSRF(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	_, adminToken := ts.user(t, baton.RoleAdmin)
	s := ts.login(t, adminToken)
	other := ts.login(t, adminToken) // a second session of the same user

	tests := []struct {
		name     string
		method   string
		path     string
		body     string
		session  *session
		csrf     string
		token    string
		want     int
		wantCode string
	}{
		{name: "cookie read without CSRF", method: "GET", path: "/v1/auth/me", session: &s, want: http.StatusOK},
		{name: "cookie admin read without CSRF", method: "GET", path: "/v1/admin/teams", session: &s, want: http.StatusOK},
		{name: "cookie HEAD without CSRF", method: "HEAD", path: "/v1/auth/me", session: &s, want: http.StatusOK},
		{name: "cookie write without CSRF", method: "POST", path: "/v1/admin/teams", body: `{"name":"no-csrf"}`,
			session: &s, want: http.StatusForbidden, wantCode: "csrf"},
		{name: "cookie write with a wrong CSRF", method: "POST", path: "/v1/admin/teams", body: `{"name":"wrong-csrf"}`,
			session: &s, csrf: "btn_wrong", want: http.StatusForbidden, wantCode: "csrf"},
		{name: "cookie write with another session's CSRF", method: "POST", path: "/v1/admin/teams", body: `{"name":"other-csrf"}`,
			session: &s, csrf: other.csrf, want: http.StatusForbidden, wantCode: "csrf"},
		{name: "cookie write with the session token as CSRF", method: "POST", path: "/v1/admin/teams", body: `{"name":"sid-csrf"}`,
			session: &s, csrf: s.cookie.Value, want: http.StatusForbidden, wantCode: "csrf"},
		{name: "cookie PATCH without CSRF", method: "PATCH", path: "/v1/admin/users/1", body: `{"capacity":1}`,
			session: &s, want: http.StatusForbidden, wantCode: "csrf"},
		{name: "cookie write with the right CSRF", method: "POST", path: "/v1/admin/teams", body: `{"name":"right-csrf"}`,
			session: &s, csrf: s.csrf, want: http.StatusCreated},
		{name: "bearer write needs no CSRF", method: "POST", path: "/v1/admin/teams", body: `{"name":"bearer"}`,
			token: adminToken, want: http.StatusCreated},
	}
	t.Run("requests", func(t *testing.T) {
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				t.Parallel()
				c := call{method: tt.method, path: tt.path, session: tt.session, csrf: tt.csrf, token: tt.token}
				if tt.body != "" {
					c.body = tt.body
				}
				r := ts.do(t, c)
				if tt.wantCode != "" {
					r.wantError(t, tt.want, tt.wantCode)
				} else {
					r.wantStatus(t, tt.want)
				}
			})
		}
	})
	var names []string
	if err := ts.db.Pool.QueryRow(t.Context(), `SELECT coalesce(array_agg(name ORDER BY name), '{}') FROM teams WHERE NOT is_default`).Scan(&names); err != nil {
		t.Fatal(err)
	}
	if got, want := strings.Join(names, ","), "bearer,right-csrf"; got != want {
		t.Errorf("teams = %s, want %s: only the accepted writes may take effect", got, want)
	}
	if n := ts.count(t, `SELECT count(*) FROM users WHERE capacity = 1`); n != 0 {
		t.Error("a PATCH without CSRF took effect")
	}
}

func TestLogout(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	u, token := ts.user(t, baton.RoleAgent)
	s := ts.login(t, token)
	kept := ts.login(t, token) // another browser of the same user

	ts.do(t, call{method: "DELETE", path: "/v1/auth/session", session: &s}).wantError(t, http.StatusForbidden, "csrf")
	ts.do(t, call{method: "GET", path: "/v1/auth/me", session: &s}).wantStatus(t, http.StatusOK)

	r := ts.do(t, call{method: "DELETE", path: "/v1/auth/session", session: &s, csrf: s.csrf})
	r.wantStatus(t, http.StatusNoContent)
	cleared := false
	for _, c := range r.cookies() {
		if c.Name == "baton_session" && c.Value == "" && c.MaxAge < 0 && c.HttpOnly {
			cleared = true
		}
	}
	if !cleared {
		t.Errorf("logout Set-Cookie = %q, want baton_session cleared", r.header.Values("Set-Cookie"))
	}
	ts.do(t, call{method: "GET", path: "/v1/auth/me", session: &s}).wantError(t, http.StatusUnauthorized, "unauthorized")
	ts.do(t, call{method: "DELETE", path: "/v1/auth/session", session: &s, csrf: s.csrf}).wantError(t, http.StatusUnauthorized, "unauthorized")

	// Logging one browser out leaves the other session and the API token alone.
	ts.do(t, call{method: "GET", path: "/v1/auth/me", session: &kept}).wantStatus(t, http.StatusOK)
	ts.do(t, call{method: "GET", path: "/v1/auth/me", token: token}).wantStatus(t, http.StatusOK)
	if n := ts.count(t, `SELECT count(*) FROM sessions WHERE user_id = $1`, u.ID); n != 1 {
		t.Errorf("%d sessions left, want 1", n)
	}

	// A bearer client may call logout: nothing to end, 204.
	ts.do(t, call{method: "DELETE", path: "/v1/auth/session", token: token}).wantStatus(t, http.StatusNoContent)
}

func TestSessionExpires(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t, withSessionTTL(time.Hour))
	_, token := ts.user(t, baton.RoleAgent)
	s := ts.login(t, token)
	steps := []struct {
		name    string
		advance time.Duration // from the previous step
		want    int
	}{
		{"fresh", 0, http.StatusOK},
		{"one second before expiry", time.Hour - time.Second, http.StatusOK},
		{"at expiry", time.Second, http.StatusUnauthorized},
		{"a day later", 24 * time.Hour, http.StatusUnauthorized},
	}
	// Steps share the clock, so they run in order.
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			ts.clock.Advance(st.advance)
			r := ts.do(t, call{method: "GET", path: "/v1/auth/me", session: &s})
			if st.want == http.StatusUnauthorized {
				r.wantError(t, http.StatusUnauthorized, "unauthorized")
			} else {
				r.wantStatus(t, st.want)
			}
		})
	}
	// The token outlives the session.
	ts.do(t, call{method: "GET", path: "/v1/auth/me", token: token}).wantStatus(t, http.StatusOK)
}

func TestMe(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	u, token := ts.user(t, baton.RoleAgent, "billing", "support")
	s := ts.login(t, token)
	for _, c := range []call{
		{method: "GET", path: "/v1/auth/me", token: token},
		{method: "GET", path: "/v1/auth/me", session: &s},
	} {
		r := ts.do(t, c)
		r.wantStatus(t, http.StatusOK)
		var me baton.User
		r.decode(t, &me)
		if me.ID != u.ID || me.Email != u.Email || me.Role != baton.RoleAgent || me.Status != "active" || len(me.TeamIDs) != 2 {
			t.Errorf("me = %+v, want %+v", me, u)
		}
	}
}
