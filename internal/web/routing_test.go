package web_test

import (
	"strconv"
	"testing"

	"github.com/batonhq/baton"
)

func TestUnknownRoutesAnswerJSON(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	ts.do(t, call{method: "GET", path: "/v1/nothing-here"}).wantError(t, 404, "not_found")
	r := ts.do(t, call{method: "DELETE", path: "/livez"})
	r.wantError(t, 405, "method_not_allowed")
	if r.header.Get("Allow") == "" {
		t.Error("405 without an Allow header")
	}
}

func TestBearerSchemeIsCaseInsensitiveAnd401SaysHow(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	_, token := ts.user(t, baton.RoleAdmin)
	ts.do(t, call{method: "GET", path: "/v1/auth/me", header: map[string]string{"Authorization": "bearer " + token}}).wantStatus(t, 200)
	r := ts.do(t, call{method: "GET", path: "/v1/auth/me"})
	r.wantError(t, 401, "unauthorized")
	if r.header.Get("WWW-Authenticate") == "" {
		t.Error("401 without WWW-Authenticate")
	}
}

func TestLastAdminCannotBeDemotedOrDisabled(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	admin, token := ts.user(t, baton.RoleAdmin)
	path := "/v1/admin/users/" + strconv.FormatInt(admin.ID, 10)
	ts.do(t, call{method: "PATCH", path: path, token: token, body: map[string]any{"role": "agent"}}).wantError(t, 409, "last_admin")
	ts.do(t, call{method: "PATCH", path: path, token: token, body: map[string]any{"status": "disabled"}}).wantError(t, 409, "last_admin")
	ts.user(t, baton.RoleAdmin)
	ts.do(t, call{method: "PATCH", path: path, token: token, body: map[string]any{"role": "agent"}}).wantStatus(t, 200)
}

func TestMeReturnsCSRFTokenToCookieSessions(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	_, token := ts.user(t, baton.RoleAgent)
	sess := ts.login(t, token)
	var me struct {
		CSRFToken string `json:"csrf_token"`
	}
	ts.do(t, call{method: "GET", path: "/v1/auth/me", session: &sess}).decode(t, &me)
	if me.CSRFToken == "" || me.CSRFToken != sess.csrf {
		t.Errorf("csrf_token %q; want the session's", me.CSRFToken)
	}
}
