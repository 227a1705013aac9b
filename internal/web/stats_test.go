package web_test

import (
	"net/http"
	"testing"

	"github.com/batonhq/baton"
)

func TestStatsRoute(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t, withEveryFeature())
	_, admin := ts.user(t, baton.RoleAdmin)
	_, agent := ts.user(t, baton.RoleAgent, "support")
	ts.handedOff(t, "c1", 0) // opened and handed off on the test clock's day

	day := ts.clock.Now().UTC().Format("2006-01-02")
	r := ts.do(t, call{method: "GET", path: "/v1/stats?from=" + day + "&to=" + day + "&interval=day", token: admin})
	r.wantStatus(t, http.StatusOK)
	var out struct {
		Interval string           `json:"interval"`
		Days     []baton.StatsDay `json:"days"`
	}
	r.decode(t, &out)
	if out.Interval != "day" || len(out.Days) != 1 || out.Days[0].Day != day || out.Days[0].Conversations != 1 ||
		out.Days[0].Handoffs["customer_request"] != 1 {
		t.Errorf("stats %+v; want one day with one conversation handed off", out)
	}
	for _, tt := range []struct {
		name, query, token string
		want               int
	}{
		{"agents may not", "", agent, http.StatusForbidden},
		{"bad interval", "?interval=week", admin, http.StatusBadRequest},
		{"bad date", "?from=yesterday", admin, http.StatusBadRequest},
		{"backwards", "?from=2026-11-05&to=2026-11-01", admin, http.StatusBadRequest},
		{"too long", "?from=2020-01-01&to=2026-01-01", admin, http.StatusBadRequest},
		{"default range", "", admin, http.StatusOK},
	} {
		t.Run(tt.name, func(t *testing.T) {
			ts.do(t, call{method: "GET", path: "/v1/stats" + tt.query, token: tt.token}).wantStatus(t, tt.want)
		})
	}
}
