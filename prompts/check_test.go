package prompts_test

import (
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/prompts"
)

func TestEveryTemplateHasAnInputTypeMatchingItsSample(t *testing.T) {
	t.Parallel()
	for _, name := range prompts.Default().Names() {
		typ := prompts.InputType(name)
		sample, ok := prompts.Sample(name)
		if typ == nil || !ok {
			t.Errorf("%s: input type %v, sample %v: add it to inputTypes in check.go", name, typ, ok)
			continue
		}
		if got := reflect.TypeOf(sample); got != typ {
			t.Errorf("%s: the sample is a %v but InputType says %v", name, got, typ)
		}
		body, _ := prompts.Default().Body(name)
		if err := prompts.Check(name, body); err != nil {
			t.Errorf("the default of %s fails its own check: %v", name, err)
		}
	}
	if prompts.InputType("farewell") != nil {
		t.Error("InputType of an unknown name is not nil")
	}
}

func TestCheck(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		prompt prompts.Name
		body   string
		line   int    // 0: accepted
		reason string // part of the refusal
	}{
		{"plain text", prompts.Greeting, "Hello!", 0, ""},
		{"fields and functions", prompts.ClassifyUser, `{{data "msg" .Message}} {{quote .RequestedDetail}} {{range .Intents}}{{.Name}}: {{join ", " .Examples}}{{end}}`, 0, ""},
		{"variables, root and index", prompts.AnswerUser, "{{$q := .Question}}{{range $i, $c := .Chunks}}{{$i}} {{$c.ID}} {{$q}} {{$.Language}}{{end}}{{(index .Chunks 0).Title}}", 0, ""},
		{"builtins", prompts.OutOfScope, `{{if and .Again (gt (len .Topics) 1)}}{{printf "%d" (len .Topics)}}{{end}}{{truncate 10 (index .Topics 0)}}`, 0, ""},
		{"define and template", prompts.Greeting, `{{define "n"}}{{.CustomerName}}{{end}}Hi {{template "n" .}}`, 0, ""},
		{"block", prompts.Greeting, `{{block "n" .}}{{.CustomerName}}{{end}}`, 0, ""},
		{"parse error", prompts.Greeting, "Hi\n\n{{.CustomerName", 3, "unclosed action"},
		{"unknown function", prompts.Greeting, "{{upper .CustomerName}}", 1, `function "upper" not defined`},
		{"unknown field", prompts.Greeting, "Hi\n{{.Name}}", 2, "GreetingInput has no field Name"},
		{"untaken branch", prompts.Greeting, "{{if false}}\n\n{{.Name}}{{end}}", 3, "has no field Name"},
		{"else branch", prompts.Clarify, "{{if .Again}}x{{else if .Suggestion}}y{{else}}\n{{.Topic}}{{end}}", 2, "ClarifyInput has no field Topic"},
		{"range element", prompts.AnswerSystem, "{{range .Chunks}}{{.Text}}\n{{.Url}}{{end}}", 2, "ChunkInput has no field Url"},
		{"range else keeps dot", prompts.AnswerSystem, "{{range .Chunks}}{{.Text}}{{else}}{{.Text}}{{end}}", 1, "AnswerInput has no field Text"},
		{"with changes dot", prompts.WelcomeBack, "{{with .Topic}}{{.CustomerName}}{{end}}", 1, "can't use field CustomerName on string"},
		{"root inside range", prompts.DetailsReceived, "{{range .Items}}{{$.Item}}{{end}}", 1, "DetailsInput has no field Item"},
		{"variable chain", prompts.AnswerSystem, "{{$c := index .Chunks 0}}{{$c.Score}}", 1, "ChunkInput has no field Score"},
		{"index element", prompts.AnswerSystem, "{{(index .Chunks 0).Score}}", 1, "ChunkInput has no field Score"},
		{"template call with its data", prompts.Greeting, "{{define \"n\"}}\n{{.Nick}}{{end}}{{template \"n\" .}}", 2, "GreetingInput has no field Nick"},
		{"undefined template", prompts.Greeting, `{{template "nope" .}}`, 1, `no template named "nope"`},
		{"empty input", prompts.NoAnswer, "{{.Question}}", 1, "it has no fields"},
		{"range over a string", prompts.Greeting, "{{range .CustomerName}}x{{end}}", 1, "range can't iterate over string"},
		{"argument of a function", prompts.OutOfScope, `{{join ", " .Subjects}}`, 1, "OutOfScopeInput has no field Subjects"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := prompts.Check(tt.prompt, tt.body)
			if tt.line == 0 {
				if err != nil {
					t.Fatalf("Check refused a valid body: %v", err)
				}
				return
			}
			te, ok := prompts.IsTemplateError(err)
			if !ok {
				t.Fatalf("Check = %v, want a *TemplateError", err)
			}
			if !errors.Is(err, baton.ErrInvalid) || te.Line != tt.line || !strings.Contains(te.Reason, tt.reason) {
				t.Errorf("Check = line %d %q, want line %d containing %q", te.Line, te.Reason, tt.line, tt.reason)
			}
		})
	}
	if err := prompts.Check("farewell", "Bye"); !errors.Is(err, prompts.ErrUnknown) {
		t.Errorf("Check of an unknown name = %v, want ErrUnknown", err)
	}
}

func TestOverrideRunsTheCheck(t *testing.T) {
	t.Parallel()
	// The sample input never takes the branch, so a trial render alone would accept it.
	_, err := prompts.Default().Override(prompts.Greeting, "{{if .BusinessName}}{{if false}}{{.Shop}}{{end}}{{end}}Hi")
	if te, ok := prompts.IsTemplateError(err); !ok || !strings.Contains(te.Reason, "no field Shop") {
		t.Errorf("Override = %v, want the check's refusal", err)
	}
}
