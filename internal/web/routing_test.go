package web_test

import (
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
