package convtest_test

import (
	"strings"
	"testing"
	"time"

	"github.com/batonhq/baton/internal/convtest"
)

func TestParseAcceptsTheDocumentedFormat(t *testing.T) {
	t.Parallel()
	s, err := convtest.Parse("ok.yaml", []byte(`
name: everything at once
customer: {name: "Ana Lima", email: "", phone: ""}
env: {BATON_QUEUED_ACK_INTERVAL: 1h}
setup:
  intents: [ {name: warranty_claim, examples: [my kettle broke, it stopped working, the item is faulty, broken after a week, defective product], action: gather_then_handoff, required_details: [order_number]} ]
  articles: [ {external_key: "x:y", title: "T", body: "B"} ]
steps:
  - say: "what is your returns window?"
  - say: ["hi", "where is my order 1234?"]
    expect: {intent: order_status, replies: 1, details: {order_number: "*"}, cites: demo:returns}
  - wait: 3d
  - wait: 90m
  - agent: claim
    expect: {status: agent, assigned: ana@example.com, team: support}
  - agent: reply Standard delivery takes 3 to 5 days.
  - agent: transfer billing
    expect: {csat: 0}
`))
	if err != nil {
		t.Fatal(err)
	}
	if a, arg := convtest.AgentAction(s.Steps[5].Agent); a != convtest.AgentReply || arg != "Standard delivery takes 3 to 5 days." {
		t.Errorf("agent step %q read as %q %q", s.Steps[5].Agent, a, arg)
	}
	if s.Steps[4].Expect.Assigned != "ana@example.com" || s.Steps[4].Expect.Team != "support" || *s.Steps[6].Expect.CSAT != 0 {
		t.Errorf("agent expectations %+v %+v", s.Steps[4].Expect, s.Steps[6].Expect)
	}
	if len(s.Steps) != 7 || len(s.Steps[1].Say) != 2 || time.Duration(s.Steps[2].Wait) != 72*time.Hour ||
		time.Duration(s.Steps[3].Wait) != 90*time.Minute || s.Steps[4].Agent != "claim" || *s.Steps[1].Expect.Replies != 1 {
		t.Errorf("parsed %+v", s)
	}
	if s.Steps[1].Expect.Cites[0] != "demo:returns" || s.Setup.Intents[0].Name != "warranty_claim" || s.Env["BATON_QUEUED_ACK_INTERVAL"] != "1h" {
		t.Errorf("parsed %+v", s)
	}
}

func TestParseErrorsNameTheField(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, yaml string
		want       []string // all must appear in the error
	}{
		{"misspelt expectation", "name: x\nsteps:\n  - say: hi\n    expect: {reply_contain: [a]}\n", []string{"bad.yaml", "reply_contain"}},
		{"unknown top-level field", "name: x\nstep:\n  - say: hi\n", []string{"step", "not found"}},
		{"no name", "steps:\n  - say: hi\n", []string{"name: required"}},
		{"no steps", "name: x\n", []string{"steps: at least one step"}},
		{"two actions in a step", "name: x\nsteps:\n  - say: hi\n    wait: 1d\n", []string{"step 1", "exactly one of say, wait or agent"}},
		{"empty step", "name: x\nsteps:\n  - expect: {replies: 1}\n", []string{"step 1", "exactly one of"}},
		{"bad wait", "name: x\nsteps:\n  - say: hi\n  - wait: soon\n", []string{"line 4", `wait "soon"`}},
		{"bad agent", "name: x\nsteps:\n  - say: hi\n  - agent: steal\n", []string{"step 2", "agent", "steal"}},
		{"agent first", "name: x\nsteps:\n  - agent: claim\n", []string{"step 1", "not said anything"}},
		{"reply without text", "name: x\nsteps:\n  - say: hi\n  - agent: reply\n", []string{"step 2", "reply needs a text"}},
		{"transfer nowhere", "name: x\nsteps:\n  - say: hi\n  - agent: transfer\n", []string{"step 2", "transfer needs a team"}},
		{"claim by a non-email", "name: x\nsteps:\n  - say: hi\n  - agent: claim ana\n", []string{"step 2", "only an agent's email"}},
		{"bad status", "name: x\nsteps:\n  - say: hi\n    expect: {status: open}\n", []string{"step 1", "expect.status", "open"}},
		{"bad replies type", "name: x\nsteps:\n  - say: hi\n    expect: {replies: many}\n", []string{"replies", "many"}},
		{"intent without say", "name: x\nsteps:\n  - say: hi\n  - wait: 1d\n    expect: {intent: greeting}\n", []string{"step 2", "expect.intent"}},
		{"contradiction", "name: x\nsteps:\n  - say: hi\n    expect: {cites: [a], no_citations: true}\n", []string{"cites and no_citations"}},
		{"bad env", "name: x\nenv: {PATH: /}\nsteps:\n  - say: hi\n", []string{"env.PATH"}},
		{"bad intent", "name: x\nsetup:\n  intents: [{name: Bad Name}]\nsteps:\n  - say: hi\n", []string{"setup.intents[0]"}},
		{"article without body", "name: x\nsetup:\n  articles: [{external_key: a, title: b}]\nsteps:\n  - say: hi\n", []string{"setup.articles[0]", "body"}},
		{"not yaml", "name: [x\n", []string{"bad.yaml", "line"}},
		{"empty say", "name: x\nsteps:\n  - say: ['']\n", []string{"say: empty message"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := convtest.Parse("bad.yaml", []byte(tt.yaml))
			if err == nil {
				t.Fatal("parsed; want an error")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
		})
	}
}
