package eval_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/batonhq/baton/internal/eval"
)

func TestScore(t *testing.T) {
	t.Parallel()
	gold := func(k string) *string { return &k }
	q := func(id string, g *string, must ...string) eval.Question {
		return eval.Question{QID: id, Text: "q", Gold: g, MustContain: must}
	}
	as := []eval.Answer{
		{Question: q("1", gold("a:x"), "14 days"), Replied: true, Reply: "You have 14 DAYS.", Cites: []string{"a:x"}, Actions: []string{"answer"}, LatencyMs: 100},
		{Question: q("2", gold("a:x"), "£60"), Replied: true, Reply: "It costs £50.", Cites: []string{"a:x"}, LatencyMs: 200},
		{Question: q("3", gold("a:y")), Replied: true, Reply: "Which order?", Actions: []string{"gather", "ask_detail"}, LatencyMs: 300},
		{Question: q("4", gold("a:z")), Replied: false},
		{Question: q("5", nil), Replied: true, Reply: "A person will help.", LatencyMs: 400},
		{Question: q("6", nil), Replied: true, Reply: "See this.", Cites: []string{"a:x"}, LatencyMs: 500},
	}
	got := eval.Score(as)
	want := eval.Report{Questions: 6, AnsweredRight: 0.25, CitedRight: 0.5, NoAnswer: 0.5, AskedForDetail: 0.25,
		EmptyReplies: 1, OutOfScopeUncited: 0.5, P50Ms: 300, P99Ms: 500}
	if got != want {
		t.Errorf("score\n got %+v\nwant %+v", got, want)
	}
}

func TestReadQuestions(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, body, err string
	}{
		{"valid", `{"qid":"d1","text":"hi","gold":"a:b","must_contain":["x"]}` + "\n\n" + `{"qid":"d2","text":"weather?","gold":null,"must_contain":[]}`, ""},
		{"unknown field", `{"qid":"d1","text":"hi","answer":"x"}`, `:1: json: unknown field "answer"`},
		{"duplicate qid", `{"qid":"d1","text":"a"}` + "\n" + `{"qid":"d1","text":"b"}`, `:2: duplicate qid "d1"`},
		{"missing text", `{"qid":"d1"}`, ":1: qid and text are required"},
		{"empty", "", "no questions"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p := filepath.Join(t.TempDir(), "q.jsonl")
			if err := os.WriteFile(p, []byte(tt.body), 0o600); err != nil {
				t.Fatal(err)
			}
			qs, err := eval.ReadQuestions(p)
			switch {
			case tt.err == "" && err != nil:
				t.Fatal(err)
			case tt.err == "" && (len(qs) != 2 || qs[1].Gold != nil || *qs[0].Gold != "a:b"):
				t.Errorf("questions %+v", qs)
			case tt.err != "" && (err == nil || !strings.Contains(err.Error(), tt.err)):
				t.Errorf("error %v; want %q", err, tt.err)
			}
		})
	}
}
