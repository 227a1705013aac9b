package web_test

import (
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/intents"
	"github.com/batonhq/baton/internal/dbtest"
	"github.com/batonhq/baton/internal/postgres"
)

func TestBuiltinIntentsAPI(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t, withEveryFeature())
	_, admin := ts.user(t, baton.RoleAdmin)

	// An admin's own intents replace the web-shop defaults, never the built-ins.
	ts.do(t, call{method: "POST", path: "/v1/intents", token: admin, body: intents.Intent{
		Name: "opening_hours", Examples: []string{"when are you open", "opening hours", "are you open on sunday"},
	}}).wantStatus(t, http.StatusCreated)
	var list struct {
		Intents      []intents.Intent `json:"intents"`
		Count        int              `json:"count"`
		BuiltinCount int              `json:"builtin_count"`
		Builtins     []string         `json:"builtins"`
	}
	ts.do(t, call{method: "GET", path: "/v1/intents", token: admin}).decode(t, &list)
	if list.Count != 7 || len(list.Intents) != 7 || list.BuiltinCount != 6 || !slices.Contains(list.Builtins, "talk_to_human") {
		t.Errorf("GET /v1/intents = %d intents, count %d, %d built-in %v; want opening_hours and the 6 built-ins",
			len(list.Intents), list.Count, list.BuiltinCount, list.Builtins)
	}
	r := ts.do(t, call{method: "DELETE", path: "/v1/intents/greeting", token: admin})
	r.wantError(t, http.StatusBadRequest, "invalid_request")
	if !strings.Contains(string(r.body), "built-in") {
		t.Errorf("refusal %s does not say why", r.body)
	}
	for text, want := range map[string]string{"Hi": "greeting", "ok thanks": "thanks", "can I talk to a human": "talk_to_human"} {
		var a intents.Analysis
		ts.do(t, call{method: "POST", path: "/v1/intents/classify", token: admin, body: map[string]string{"text": text}}).decode(t, &a)
		if a.Intent != want {
			t.Errorf("classify %q = %s (%.2f), want %s", text, a.Intent, a.Score, want)
		}
	}
}

func TestDetailTypesAPI(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t, withEveryFeature())
	_, admin := ts.user(t, baton.RoleAdmin)
	_, agent := ts.user(t, baton.RoleAgent)
	zip := map[string]any{"pattern": `\d{5}`, "keywords": []string{"zip", "postcode"}, "ask": "What's your zip code?", "reask": "Could you send the 5-digit zip code?"}

	ts.do(t, call{method: "PUT", path: "/v1/detail-types/zip_code", token: agent, body: zip}).wantError(t, http.StatusForbidden, "forbidden")
	var d intents.DetailType
	r := ts.do(t, call{method: "PUT", path: "/v1/detail-types/zip_code", token: admin, body: zip})
	r.wantStatus(t, http.StatusCreated)
	r.decode(t, &d)
	if d.Name != "zip_code" || d.Label != "zip code" || d.Builtin {
		t.Errorf("created %+v", d)
	}
	ts.do(t, call{method: "PUT", path: "/v1/detail-types/zip_code", token: admin, body: zip}).wantStatus(t, http.StatusOK)

	for name, c := range map[string]call{
		"pattern and values":  {path: "/v1/detail-types/tier", body: map[string]any{"pattern": "x", "values": []string{"gold"}, "ask": "a", "reask": "b"}},
		"bad regexp":          {path: "/v1/detail-types/tier", body: map[string]any{"pattern": "([", "ask": "a", "reask": "b"}},
		"no ask texts":        {path: "/v1/detail-types/tier", body: map[string]any{"values": []string{"gold"}}},
		"built-in name":       {path: "/v1/detail-types/email", body: map[string]any{"pattern": "x", "ask": "a", "reask": "b"}},
		"bad name":            {path: "/v1/detail-types/Tier", body: map[string]any{"values": []string{"gold"}, "ask": "a", "reask": "b"}},
		"name differs":        {path: "/v1/detail-types/tier", body: map[string]any{"name": "level", "values": []string{"gold"}, "ask": "a", "reask": "b"}},
		"unknown field":       {path: "/v1/detail-types/tier", body: map[string]any{"values": []string{"gold"}, "ask": "a", "reask": "b", "colour": "red"}},
		"normalize not known": {path: "/v1/detail-types/tier", body: map[string]any{"values": []string{"gold"}, "ask": "a", "reask": "b", "normalize": "shout"}},
	} {
		t.Run(name, func(t *testing.T) {
			c.method, c.token = "PUT", admin
			ts.do(t, c).wantError(t, http.StatusBadRequest, "invalid_request")
		})
	}

	// An intent may require only detail types the bot can ask for.
	needs := func(detail string) intents.Intent {
		return intents.Intent{Name: "store_pickup", Examples: []string{"can i pick up in store", "collect from the shop"},
			RequiredDetails: []string{detail}, Action: intents.ActionGatherThenHandoff, Team: "orders"}
	}
	r = ts.do(t, call{method: "POST", path: "/v1/intents", token: admin, body: needs("account_id")})
	r.wantError(t, http.StatusBadRequest, "invalid_request")
	if !strings.Contains(string(r.body), "account_id") {
		t.Errorf("refusal %s does not name the detail", r.body)
	}
	ts.do(t, call{method: "POST", path: "/v1/intents", token: admin, body: needs("zip_code")}).wantStatus(t, http.StatusCreated)

	var types struct {
		DetailTypes []intents.DetailType `json:"detail_types"`
	}
	ts.do(t, call{method: "GET", path: "/v1/detail-types", token: admin}).decode(t, &types)
	var got []string
	for _, d := range types.DetailTypes {
		got = append(got, d.Name)
	}
	if !slices.Contains(got, "email") || !slices.Contains(got, "people") || !slices.Contains(got, "zip_code") {
		t.Errorf("detail types = %v, want the built-ins and zip_code", got)
	}
	var a intents.Analysis
	ts.do(t, call{method: "POST", path: "/v1/intents/classify", token: admin, body: map[string]string{"text": "10115", "requested": "zip_code"}}).decode(t, &a)
	if d, ok := intents.First(a.Details, "zip_code"); !ok || d.Value != "10115" {
		t.Errorf("classify details = %+v, want zip_code 10115", a.Details)
	}

	ts.do(t, call{method: "DELETE", path: "/v1/detail-types/zip_code", token: admin}).wantError(t, http.StatusConflict, "conflict")
	ts.do(t, call{method: "DELETE", path: "/v1/detail-types/email", token: admin}).wantError(t, http.StatusBadRequest, "invalid_request")
	ts.do(t, call{method: "DELETE", path: "/v1/detail-types/nothing", token: admin}).wantError(t, http.StatusNotFound, "not_found")
	ts.do(t, call{method: "DELETE", path: "/v1/intents/store_pickup", token: admin}).wantStatus(t, http.StatusNoContent)
	ts.do(t, call{method: "DELETE", path: "/v1/detail-types/zip_code", token: admin}).wantStatus(t, http.StatusNoContent)
}

// TestImportIsWhatOtherProcessesLoad is the tester's report: `baton intents import` said 21
// intents while the server knew 10, and "Hi" became out of scope. The importing process and a
// fresh one must know the same intents, built-ins included, and the same detail types.
func TestImportIsWhatOtherProcessesLoad(t *testing.T) {
	t.Parallel()
	db := postgres.New(dbtest.New(t).Pool, baton.NewManualClock(epoch))
	cli, err := intents.NewCatalog(t.Context(), db, nil)
	if err != nil {
		t.Fatal(err)
	}
	server, err := intents.NewCatalog(t.Context(), db, nil)
	if err != nil {
		t.Fatal(err)
	}
	file := `detail_types:
  - name: membership
    label: membership level
    values: [Gold, Silver, Bronze]
    keywords: [membership, tier]
    ask: Which membership do you have?
    reask: Is it Gold, Silver or Bronze?
intents:
`
	for _, n := range []string{"opening_hours", "pricing", "upgrade", "login_help", "store_location", "gift_cards", "delivery_time", "warranty", "careers", "newsletter"} {
		words := strings.ReplaceAll(n, "_", " ")
		file += "  - name: " + n + "\n    examples: [\"" + words + "\", \"question about " + words + "\", \"help with " + words + "\"]\n"
	}
	file += "    required_details: [membership]\n    action: gather_then_handoff\n"
	imp, err := intents.ParseImport("intents.yaml", strings.NewReader(file), nil)
	if err != nil {
		t.Fatal(err)
	}
	res, err := cli.Import(t.Context(), 0, imp)
	if err != nil {
		t.Fatalf("Import: %v", err)
	}
	if res.Added != 10 || res.Known != 16 || res.Builtins != 6 || res.DetailTypes != 1 {
		t.Errorf("Import = %+v, want 10 added, 16 known of which 6 built-in, 1 detail type", res)
	}
	// The server notices the new version (Watch calls Refresh) and retrains.
	if err := server.Refresh(t.Context()); err != nil {
		t.Fatal(err)
	}
	fresh, err := intents.NewCatalog(t.Context(), db, nil)
	if err != nil {
		t.Fatal(err)
	}
	for name, c := range map[string]*intents.Catalog{"server": server, "fresh": fresh} {
		if n := len(c.List()); n != 16 {
			t.Errorf("%s knows %d intents, want 16", name, n)
		}
		if _, ok := c.Model().DetailType("membership"); !ok {
			t.Errorf("%s does not know the membership detail type", name)
		}
		for text, want := range map[string]string{"Hi": "greeting", "ok thanks": "thanks", "can I talk to a human": "talk_to_human"} {
			if a := c.Model().Understand(text, intents.ExtractContext{}); a.Intent != want {
				t.Errorf("%s: %q = %s (%.2f), want %s", name, text, a.Intent, a.Score, want)
			}
		}
	}
	a := fresh.Model().Understand("silver", intents.ExtractContext{Requested: "membership"})
	if d, ok := intents.First(a.Details, "membership"); !ok || d.Value != "Silver" {
		t.Errorf("details = %+v, want membership Silver", a.Details)
	}
}
