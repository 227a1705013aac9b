package fake_test

import (
	"encoding/json"
	"testing"

	"github.com/sashabaranov/go-openai"

	"github.com/batonhq/baton/internal/fake"
)

const turnPrompt = `Knowledge base excerpts:
<<<DATA id=kb-1#2>>>
Shipping takes 3 days.
<<<END DATA>>>

Earlier messages:
<<<DATA id=customer>>>
hello
<<<END DATA>>>

New customer messages:
<<<DATA id=customer>>>
how long is shipping?
<<<END DATA>>>

Decided action: answer
Allowed actions: greet, answer, clarify
Draft cites: kb-1#2
Summary required: yes
Draft reply:
<<<DATA id=draft>>>
Hi! Shipping takes 3 days.
<<<END DATA>>>`

func TestEchoReturnsTheDraft(t *testing.T) {
	t.Parallel()
	req := openai.ChatCompletionRequest{Messages: []openai.ChatCompletionMessage{{Role: "system", Content: "rules"}, {Role: "user", Content: turnPrompt}}}
	turn, ok := fake.ReadTurn(req)
	if !ok || turn.Action != "answer" || len(turn.Allowed) != 3 || len(turn.Cites) != 1 || turn.Cites[0] != "kb-1#2" ||
		!turn.WantsSummary || len(turn.Customer) != 1 || turn.Customer[0] != "how long is shipping?" {
		t.Fatalf("read %+v, %v", turn, ok)
	}
	var out fake.TurnJSON
	if err := json.Unmarshal([]byte(fake.Echo(req).Content), &out); err != nil {
		t.Fatal(err)
	}
	if out.Reply != "Hi! Shipping takes 3 days." || out.Action != "answer" || len(out.Cited) != 1 || out.Summary["issue"] != "how long is shipping?" {
		t.Errorf("echo %+v", out)
	}
	if _, ok := fake.ReadTurn(openai.ChatCompletionRequest{Messages: []openai.ChatCompletionMessage{{Role: "user", Content: "hi"}}}); ok {
		t.Error("a plain chat read as a turn call")
	}
}

func TestFailChatsFailsAShare(t *testing.T) {
	t.Parallel()
	f := fake.NewOpenAI(t)
	c := newClient(t, f)
	f.FailChats(0.2, 7)
	failed := 0
	for range 200 {
		if _, err := chat(t.Context(), c); err != nil {
			failed++
		}
	}
	if failed != f.Failed() || failed < 20 || failed > 60 {
		t.Errorf("%d of 200 failed (the fake counted %d); want about 40", failed, f.Failed())
	}
	f.FailChats(0, 0)
	if _, err := chat(t.Context(), c); err != nil {
		t.Errorf("after FailChats(0): %v", err)
	}
}
