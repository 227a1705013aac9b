package intents

import (
	"strings"
	"testing"
)

func TestParseFile(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		file      string
		body      string
		wantNames []string
		wantErr   string // substring of the error; "" for success
	}{
		{name: "yaml list", file: "a.yaml", body: "- name: greeting\n  examples: [hi, hello]\n- name: order_status\n  required_details: [order_number, email]\n  action: gather_then_handoff\n  examples: [where is my order]\n",
			wantNames: []string{"greeting", "order_status"}},
		{name: "yaml object", file: "a.yml", body: "intents:\n  - name: faq\n    examples: [\"opening hours?\"]\nout_of_scope: [tell me a joke]\n", wantNames: []string{"faq"}},
		{name: "json", file: "a.json", body: `[{"name":"thanks","examples":["thanks"],"action":"reply","reply":"You're welcome"}]`, wantNames: []string{"thanks"}},
		{name: "csv with header", file: "a.csv", body: "name,example\ngreeting,hi\nthanks,thank you\ngreeting,hello\n", wantNames: []string{"greeting", "thanks"}},
		{name: "csv without header", file: "a.csv", body: "greeting,hi\n", wantNames: []string{"greeting"}},
		{name: "yaml unknown action", file: "a.yaml", body: "- name: x\n  examples: [a]\n- name: y\n  action: dance\n  examples: [b]\n", wantErr: "line 3"},
		{name: "yaml unknown field", file: "a.yaml", body: "- name: x\n  exmples: [a]\n", wantErr: `line 2: unknown field "exmples"`},
		{name: "yaml bad name", file: "a.yaml", body: "- name: Order Status\n  examples: [a]\n", wantErr: "lower_snake_case"},
		{name: "yaml unknown detail", file: "a.yaml", body: "- name: x\n  required_details: [shoe_size]\n  examples: [a]\n", wantErr: "shoe_size"},
		{name: "yaml duplicate", file: "a.yaml", body: "- name: x\n  examples: [a]\n- name: x\n  examples: [b]\n", wantErr: "already defined on line 1"},
		{name: "yaml syntax", file: "a.yaml", body: "- name: x\n  examples: [a\n", wantErr: "line"},
		{name: "json syntax", file: "a.json", body: "[\n{\"name\": \"x\",\n\"examples\": [\"a\"],,}]", wantErr: "line 3"},
		{name: "json reply without text", file: "a.json", body: `[{"name":"x","examples":["a"],"action":"reply"}]`, wantErr: "reply text"},
		{name: "csv wrong columns", file: "a.csv", body: "greeting,hi\nthanks\n", wantErr: "line 2"},
		{name: "csv empty example", file: "a.csv", body: "greeting,hi\nthanks,\n", wantErr: "line 2: empty example"},
		{name: "bad regexp", file: "a.yaml", body: "- name: x\n  order_pattern: '(['\n  examples: [a]\n", wantErr: "order_pattern"},
		{name: "unknown format", file: "a.txt", body: "hi", wantErr: "unknown format"},
		{name: "detail types", file: "a.yaml", body: "detail_types:\n  - name: shoe_size\n    pattern: '\\b(\\d{2})\\b'\n    keywords: [size]\n    ask: Which size?\n    reask: Which EU size, like 42?\nintents:\n  - name: x\n    required_details: [shoe_size]\n    examples: [a]\n",
			wantNames: []string{"x"}},
		{name: "detail type without ask", file: "a.yaml", body: "detail_types:\n  - name: shoe_size\n    pattern: x\nintents:\n  - name: x\n    examples: [a]\n", wantErr: "line 2: detail type \"shoe_size\": needs an ask text"},
		{name: "detail type unknown field", file: "a.yaml", body: "detail_types:\n  - name: shoe_size\n    regex: x\n    ask: a\n    reask: b\nintents:\n  - name: x\n    examples: [a]\n", wantErr: `line 3: unknown detail type field "regex"`},
		{name: "detail types json", file: "a.json", body: `{"detail_types":[{"name":"tier","values":["Gold","Silver"],"ask":"Which tier?","reask":"Gold or Silver?"}],"intents":[{"name":"x","examples":["a"],"required_details":["tier"]}]}`,
			wantNames: []string{"x"}},
		{name: "empty", file: "a.yaml", body: "", wantErr: "no intents"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := ParseFile(tt.file, strings.NewReader(tt.body))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("ParseFile error = %v, want it to contain %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseFile: %v", err)
			}
			var names []string
			for _, in := range got {
				names = append(names, in.Name)
				// A built-in without an action inherits the built-in's (WithBuiltins).
				if in.Action == "" && !IsBuiltin(in.Name) {
					t.Errorf("intent %s has no default action", in.Name)
				}
			}
			if strings.Join(names, ",") != strings.Join(tt.wantNames, ",") {
				t.Errorf("names = %v, want %v", names, tt.wantNames)
			}
		})
	}
}

func TestCSVGroupsExamples(t *testing.T) {
	t.Parallel()
	got, err := ParseFile("x.csv", strings.NewReader("greeting,hi\nthanks,ty\ngreeting,\"hello, there\"\n"))
	if err != nil {
		t.Fatal(err)
	}
	if len(got[0].Examples) != 2 || got[0].Examples[1] != "hello, there" {
		t.Errorf("greeting examples = %q, want [hi, hello, there]", got[0].Examples)
	}
}

func TestDefaultIntentsCoverWebShop(t *testing.T) {
	t.Parallel()
	want := []string{"greeting", "goodbye", "thanks", "order_status", "return_or_refund", "shipping_info",
		"billing_problem", "cancel_order", "account_access", "talk_to_human", "complaint", "faq"}
	got := map[string]Intent{}
	for _, in := range DefaultIntents() {
		got[in.Name] = in
	}
	for _, name := range want {
		in, ok := got[name]
		if !ok {
			t.Errorf("default intent %s missing", name)
			continue
		}
		if len(in.Examples) < 10 {
			t.Errorf("%s has %d examples, want at least 10", name, len(in.Examples))
		}
	}
	if os := got["order_status"].RequiredDetails; strings.Join(os, ",") != "order_number,email" {
		t.Errorf("order_status requires %v, want order_number and email", os)
	}
	// Callers may modify the returned slice without changing the defaults.
	d := DefaultIntents()
	d[0].Examples[0] = "changed"
	if DefaultIntents()[0].Examples[0] == "changed" {
		t.Error("DefaultIntents returns shared slices")
	}
	if len(DefaultOutOfScope()) < 20 {
		t.Error("too few default out-of-scope dev messages")
	}
}

func TestParseImportKnowsStoredTypes(t *testing.T) {
	t.Parallel()
	body := "- name: x\n  required_details: [zip_code]\n  examples: [a]\n"
	if _, err := ParseImport("a.yaml", strings.NewReader(body), nil); err == nil || !strings.Contains(err.Error(), "zip_code") {
		t.Errorf("without stored types: %v, want an error naming zip_code", err)
	}
	imp, err := ParseImport("a.yaml", strings.NewReader(body), func(name string) bool { return name == "zip_code" })
	if err != nil || len(imp.Intents) != 1 {
		t.Errorf("with zip_code stored: %+v, %v", imp, err)
	}
	imp, err = ParseImport("a.yaml", strings.NewReader("detail_types:\n  - {name: tier, values: [Gold], ask: a, reask: b}\nintents:\n  - {name: y, examples: [b]}\nout_of_scope: [tell me a joke]\n"), nil)
	if err != nil || len(imp.DetailTypes) != 1 || imp.DetailTypes[0].Label != "tier" || len(imp.OutOfScope) != 1 {
		t.Errorf("ParseImport = %+v, %v", imp, err)
	}
}
