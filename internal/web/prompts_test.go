package web_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/prompts"
)

// templateRefusal is the body of a refused template: the API's error shape with its line.
type templateRefusal struct {
	Error struct {
		Code    string `json:"code"`
		Message string `json:"message"`
		Line    int    `json:"line"`
	} `json:"error"`
}

func (r response) wantTemplateRefusal(t testing.TB, line int, reason string) {
	t.Helper()
	if r.status != http.StatusBadRequest {
		t.Fatalf("status = %d, want 400; body %s", r.status, r.body)
	}
	var body templateRefusal
	dec := json.NewDecoder(bytes.NewReader(r.body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&body); err != nil {
		t.Fatalf("refusal %s: %v", r.body, err)
	}
	if body.Error.Code != "invalid_template" || body.Error.Line != line || !strings.Contains(body.Error.Message, reason) {
		t.Errorf("refusal = %+v, want invalid_template at line %d saying %q", body.Error, line, reason)
	}
}

func TestPromptsSaveDiffActivateRollBack(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t, withEveryFeature())
	_, admin := ts.user(t, baton.RoleAdmin)
	path := "/v1/prompts/greeting"

	var p prompts.Prompt
	ts.do(t, call{method: "GET", path: path, token: admin}).decode(t, &p)
	def := p.Body
	if !p.Default || p.ActiveVersion != 0 || def == "" || p.Input != "GreetingInput" {
		t.Fatalf("GET %s = %+v, want the default", path, p)
	}

	save := func(body string) prompts.Version {
		t.Helper()
		r := ts.do(t, call{method: "PUT", path: path, token: admin, body: map[string]string{"body": body}})
		r.wantStatus(t, http.StatusCreated)
		var v prompts.Version
		r.decode(t, &v)
		return v
	}
	v1 := save("Hello {{.CustomerName}}!\nHow can I help?")
	v2 := save("Hello {{.CustomerName}}!\nWhat can I do for you?")
	if v1.Version != 1 || v2.Version != 2 || v1.Active || v2.Active {
		t.Fatalf("saved %+v and %+v, want versions 1 and 2, not active", v1, v2)
	}
	// A save is not live.
	ts.do(t, call{method: "GET", path: path, token: admin}).decode(t, &p)
	if !p.Default || p.Body != def {
		t.Errorf("after saving, GET = %+v; a save must not activate", p)
	}

	var d prompts.Diff
	ts.do(t, call{method: "GET", path: path + "/diff?from=1&to=2", token: admin}).decode(t, &d)
	if want := "--- greeting version 1\n+++ greeting version 2\n Hello {{.CustomerName}}!\n-How can I help?\n+What can I do for you?\n"; d.Unified != want {
		t.Errorf("diff 1→2:\n%s\nwant:\n%s", d.Unified, want)
	}
	ts.do(t, call{method: "GET", path: path + "/diff?from=0&to=2", token: admin}).decode(t, &d)
	if !strings.Contains(d.Unified, "--- greeting (default)") || !strings.Contains(d.Unified, "+What can I do for you?") {
		t.Errorf("diff default→2:\n%s", d.Unified)
	}
	ts.do(t, call{method: "GET", path: path + "/diff?from=1&to=9", token: admin}).wantError(t, http.StatusNotFound, "not_found")
	ts.do(t, call{method: "GET", path: path + "/diff?from=1", token: admin}).wantError(t, http.StatusBadRequest, "invalid_request")

	activate := func(version int) prompts.Status {
		t.Helper()
		var st prompts.Status
		ts.do(t, call{method: "POST", path: path + "/activate", token: admin, body: map[string]int{"version": version}}).decode(t, &st)
		return st
	}
	preview := func() string {
		t.Helper()
		var pv prompts.Preview
		ts.do(t, call{method: "POST", path: path + "/preview", token: admin, body: map[string]any{"data": map[string]any{"CustomerName": "Ana"}}}).decode(t, &pv)
		return pv.Text
	}
	if st := activate(2); st.ActiveVersion != 2 || st.Default {
		t.Errorf("activate 2 = %+v", st)
	}
	if got := preview(); got != "Hello Ana!\nWhat can I do for you?" {
		t.Errorf("active preview after activating 2 = %q", got)
	}
	if st := activate(1); st.ActiveVersion != 1 { // roll back
		t.Errorf("roll back to 1 = %+v", st)
	}
	if got := preview(); got != "Hello Ana!\nHow can I help?" {
		t.Errorf("preview after rolling back = %q", got)
	}
	var list struct {
		Prompts []prompts.Status `json:"prompts"`
	}
	ts.do(t, call{method: "GET", path: "/v1/prompts", token: admin}).decode(t, &list)
	overridden := 0
	for _, st := range list.Prompts {
		if !st.Default {
			overridden++
			if st.Name != prompts.Greeting || st.ActiveVersion != 1 {
				t.Errorf("list: %+v is overridden", st)
			}
		}
	}
	if overridden != 1 || len(list.Prompts) != len(prompts.Default().Names()) {
		t.Errorf("list has %d prompts, %d overridden; want %d, 1", len(list.Prompts), overridden, len(prompts.Default().Names()))
	}
	var versions struct {
		Versions []prompts.Version `json:"versions"`
	}
	ts.do(t, call{method: "GET", path: path + "/versions", token: admin}).decode(t, &versions)
	var got []int
	for _, v := range versions.Versions {
		got = append(got, v.Version)
		if v.Active != (v.Version == 1) {
			t.Errorf("version %d active = %v", v.Version, v.Active)
		}
	}
	if len(got) != 3 || got[0] != 2 || got[1] != 1 || got[2] != 0 {
		t.Errorf("versions = %v, want [2 1 0]", got)
	}

	if st := activate(0); !st.Default || st.ActiveVersion != 0 {
		t.Errorf("back to the default = %+v", st)
	}
	ts.do(t, call{method: "GET", path: path, token: admin}).decode(t, &p)
	if !p.Default || p.Body != def {
		t.Errorf("after activating 0, GET = %+v, want the default body", p)
	}
	ts.do(t, call{method: "POST", path: path + "/activate", token: admin, body: map[string]int{"version": 7}}).wantError(t, http.StatusNotFound, "not_found")
	if n := ts.count(t, `SELECT count(*) FROM audit_log WHERE entity = 'prompt'`); n != 5 {
		t.Errorf("%d audit entries, want 5 (2 saves, 3 activations)", n)
	}
}

func TestPromptPreviewRendersWithoutSaving(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t, withEveryFeature())
	_, admin := ts.user(t, baton.RoleAdmin)
	for _, tt := range []struct {
		name   string
		body   map[string]any
		status int
		text   string
	}{
		{"sample data, active version", map[string]any{}, http.StatusOK, ""},
		{"unsaved body with the sample", map[string]any{"body": "Hi {{.CustomerName}}"}, http.StatusOK, "Hi Ana"},
		{"unsaved body with data", map[string]any{"body": "Hi {{.CustomerName}}", "data": map[string]any{"CustomerName": "Bo"}}, http.StatusOK, "Hi Bo"},
		{"data of another type", map[string]any{"data": map[string]any{"Question": "x"}}, http.StatusBadRequest, ""},
		{"version and body", map[string]any{"version": 0, "body": "x"}, http.StatusBadRequest, ""},
		{"missing version", map[string]any{"version": 3}, http.StatusNotFound, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := ts.do(t, call{method: "POST", path: "/v1/prompts/greeting/preview", token: admin, body: tt.body})
			if r.status != tt.status {
				t.Fatalf("status %d, want %d: %s", r.status, tt.status, r.body)
			}
			var pv prompts.Preview
			if r.status == http.StatusOK {
				r.decode(t, &pv)
				if pv.Text == "" || (tt.text != "" && pv.Text != tt.text) {
					t.Errorf("preview = %q, want %q", pv.Text, tt.text)
				}
			}
		})
	}
	if n := ts.count(t, `SELECT count(*) FROM prompt_versions`); n != 0 {
		t.Errorf("a preview stored %d versions", n)
	}
}

func TestInvalidTemplatesAreRefusedWithTheirLine(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t, withEveryFeature())
	_, admin := ts.user(t, baton.RoleAdmin)
	for _, tt := range []struct {
		name, prompt, body string
		line               int
		reason             string
	}{
		{"does not parse", "greeting", "Hello\n{{.CustomerName}\n", 2, "bad character"},
		{"unclosed if", "greeting", "Hello\n{{if .Returning}}again", 2, "unexpected EOF"},
		{"unknown function", "greeting", "Hello\n\n{{shout .CustomerName}}", 3, `function "shout" not defined`},
		{"unknown field", "greeting", "Hello {{.FirstName}}", 1, "GreetingInput has no field FirstName"},
		{"unknown field in an untaken if", "greeting", "Hello\n{{if .Returning}}\n{{if false}}{{.Loyalty}}{{end}}\n{{end}}", 3, "has no field Loyalty"},
		{"unknown field in else", "greeting", "{{if .Returning}}a{{else}}\n{{.Nickname}}{{end}}", 2, "has no field Nickname"},
		{"unknown field inside range", "answer_user", "{{range .Chunks}}\n{{.Title}} {{.Body}}\n{{end}}", 2, "ChunkInput has no field Body"},
		{"range variable", "answer_user", "{{range $i, $c := .Chunks}}{{$c.URL}}{{end}}", 1, "ChunkInput has no field URL"},
		{"root inside range", "answer_user", "{{range .Chunks}}{{$.Questions}}{{end}}", 1, "AnswerInput has no field Questions"},
		{"inside with", "answer_user", "{{with .Chunks}}{{with index . 0}}{{.Title}}{{end}}{{end}}\n{{with .Language}}{{.Code}}{{end}}", 2, "can't use field Code on string"},
		{"a field of a string", "greeting", "{{.CustomerName.First}}", 1, "can't use field First"},
		{"empty", "greeting", "  \n", 0, "empty"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := ts.do(t, call{method: "PUT", path: "/v1/prompts/" + tt.prompt, token: admin, body: map[string]string{"body": tt.body}})
			r.wantTemplateRefusal(t, tt.line, tt.reason)
			// The preview of an unsaved body checks it the same way.
			if tt.line > 0 {
				r = ts.do(t, call{method: "POST", path: "/v1/prompts/" + tt.prompt + "/preview", token: admin, body: map[string]string{"body": tt.body}})
				r.wantTemplateRefusal(t, tt.line, tt.reason)
			}
		})
	}
	if n := ts.count(t, `SELECT count(*) FROM prompt_versions`); n != 0 {
		t.Errorf("%d refused versions stored", n)
	}
}

func TestPromptsAPIRefusals(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t, withEveryFeature())
	_, admin := ts.user(t, baton.RoleAdmin)
	_, agent := ts.user(t, baton.RoleAgent)
	for _, tt := range []struct {
		name   string
		c      call
		status int
		code   string
	}{
		{"unknown name", call{method: "GET", path: "/v1/prompts/farewell", token: admin}, http.StatusNotFound, "not_found"},
		{"save unknown name", call{method: "PUT", path: "/v1/prompts/farewell", token: admin, body: map[string]string{"body": "Bye"}}, http.StatusNotFound, "not_found"},
		{"versions of unknown name", call{method: "GET", path: "/v1/prompts/farewell/versions", token: admin}, http.StatusNotFound, "not_found"},
		{"activate unknown name", call{method: "POST", path: "/v1/prompts/farewell/activate", token: admin, body: map[string]int{"version": 0}}, http.StatusNotFound, "not_found"},
		{"activate without version", call{method: "POST", path: "/v1/prompts/greeting/activate", token: admin, body: map[string]any{}}, http.StatusBadRequest, "invalid_request"},
		{"negative version", call{method: "POST", path: "/v1/prompts/greeting/activate", token: admin, body: map[string]int{"version": -1}}, http.StatusBadRequest, "invalid_request"},
		{"unknown body field", call{method: "PUT", path: "/v1/prompts/greeting", token: admin, body: map[string]string{"text": "Hi"}}, http.StatusBadRequest, "invalid_request"},
		{"agent lists", call{method: "GET", path: "/v1/prompts", token: agent}, http.StatusForbidden, "forbidden"},
		{"agent reads", call{method: "GET", path: "/v1/prompts/greeting", token: agent}, http.StatusForbidden, "forbidden"},
		{"agent saves", call{method: "PUT", path: "/v1/prompts/greeting", token: agent, body: map[string]string{"body": "Hi"}}, http.StatusForbidden, "forbidden"},
		{"agent activates", call{method: "POST", path: "/v1/prompts/greeting/activate", token: agent, body: map[string]int{"version": 0}}, http.StatusForbidden, "forbidden"},
		{"agent previews", call{method: "POST", path: "/v1/prompts/greeting/preview", token: agent, body: map[string]any{}}, http.StatusForbidden, "forbidden"},
		{"anonymous", call{method: "GET", path: "/v1/prompts"}, http.StatusUnauthorized, "unauthorized"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ts.do(t, tt.c).wantError(t, tt.status, tt.code)
		})
	}
	if n := ts.count(t, `SELECT count(*) FROM prompt_versions`); n != 0 {
		t.Errorf("%d versions stored by refused requests", n)
	}
}
