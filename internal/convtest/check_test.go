package convtest_test

import (
	"strings"
	"testing"

	"github.com/batonhq/baton/internal/convtest"
)

func TestCheckExpectations(t *testing.T) {
	t.Parallel()
	one := func(text string, cites ...string) []convtest.Reply {
		return []convtest.Reply{{ID: 1, Text: text, Cites: cites}}
	}
	n := func(i int) *int { return &i }
	base := convtest.Observation{StatusBefore: "bot", Said: true, Intent: "order_status",
		Replies: one("Hi Ana! Standard delivery takes 2–4 working days.", "demo:shipping"),
		Turns:   []convtest.Turn{{Action: "answer", Actions: []string{"greet", "answer"}}},
		Details: map[string]string{"order_number": "ZX-1"}, Status: "bot", Handoff: "asked_for_person"}
	tests := []struct {
		name   string
		expect convtest.Expect
		obs    func(o *convtest.Observation)
		want   []string // substrings of the failures, in order; none = pass
	}{
		{"all hold", convtest.Expect{Intent: "order_status", Action: "answer", NotAction: "handoff",
			ReplyContains: []string{"ana", "WORKING DAYS"}, ReplyNotContains: []string{"sorry"}, Replies: n(1),
			Cites: []string{"demo:shipping"}, Details: map[string]string{"order_number": "*"}, NoDetails: []string{"email"},
			Status: "bot", Handoff: "asked_for_person"}, nil, nil},
		{"action found in actions", convtest.Expect{Action: "greet"}, nil, nil},
		{"wrong intent", convtest.Expect{Intent: "greeting"}, nil, []string{"intent: expected greeting, got order_status; replies: \"Hi Ana!"}},
		{"missing action", convtest.Expect{Action: "ask_detail"}, nil, []string{"action: expected ask_detail, got answer, greet, answer"}},
		{"forbidden action", convtest.Expect{NotAction: "greet"}, nil, []string{"not_action: expected no greet"}},
		{"reply text", convtest.Expect{ReplyContains: []string{"express"}, ReplyNotContains: []string{"standard"}}, nil,
			[]string{`reply_contains: expected "express"`, `reply_not_contains: expected no "standard"`}},
		{"citations", convtest.Expect{Cites: []string{"demo:returns"}}, nil, []string{"cites: expected demo:returns cited, got demo:shipping"}},
		{"no citations", convtest.Expect{NoCitations: true}, nil, []string{"no_citations: expected none, got demo:shipping"}},
		{"details", convtest.Expect{Details: map[string]string{"order_number": "ZX-2", "email": "*"}, NoDetails: []string{"order_number"}}, nil,
			[]string{"details.", "details.", "no_details: expected no order_number"}},
		{"status and handoff", convtest.Expect{Status: "queued", Handoff: "no_answer"}, nil,
			[]string{"status: expected queued, got bot", "handoff: expected reason no_answer, got asked_for_person"}},
		{"replies count", convtest.Expect{Replies: n(0)}, nil, []string{"replies: expected 0, got 1"}},
		{"invariant: one reply per bot-owned step", convtest.Expect{}, func(o *convtest.Observation) {
			o.Replies = append(o.Replies, convtest.Reply{ID: 2, Text: "And another thing."})
		}, []string{"exactly one reply per customer step; got 2"}},
		{"invariant: silence in a bot-owned step", convtest.Expect{}, func(o *convtest.Observation) { o.Replies = nil },
			[]string{"exactly one reply per customer step; got 0"}},
		{"handed off: silence is fine", convtest.Expect{}, func(o *convtest.Observation) { o.Replies, o.StatusBefore = nil, "queued" }, nil},
		{"invariant: repeated reply", convtest.Expect{}, func(o *convtest.Observation) { o.PrevReply = o.Replies[0].Text },
			[]string{"the same reply twice in a row"}},
		{"invariant: empty reply", convtest.Expect{}, func(o *convtest.Observation) { o.Replies = one("  ") },
			[]string{"empty public reply"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			o := base
			o.Replies = append([]convtest.Reply(nil), base.Replies...)
			if tt.obs != nil {
				tt.obs(&o)
			}
			e := tt.expect
			got := convtest.Check(convtest.Step{Say: convtest.Lines{"hi"}, Expect: &e}, o)
			if len(got) != len(tt.want) {
				t.Fatalf("failures %q; want %d matching %q", got, len(tt.want), tt.want)
			}
			for i, w := range tt.want {
				if !strings.Contains(got[i], w) {
					t.Errorf("failure %q does not contain %q", got[i], w)
				}
			}
		})
	}
}

func TestReportJSONShape(t *testing.T) {
	t.Parallel()
	s := &convtest.Script{File: "a.yaml", Name: "a"}
	var b strings.Builder
	err := convtest.Write(&b, []convtest.Result{{Script: s}, {Script: s, Failures: []convtest.Failure{{Script: "a.yaml", Step: 3, Message: "m"}}}}, true)
	if err == nil {
		t.Error("a failed script did not make Write fail")
	}
	want := `{"scripts":2,"passed":1,"failed":1,"failures":[{"script":"a.yaml","step":3,"message":"m"}]}` + "\n"
	if b.String() != want {
		t.Errorf("json %s; want %s", b.String(), want)
	}
	b.Reset()
	if err := convtest.Write(&b, []convtest.Result{{Script: s}}, true); err != nil || !strings.Contains(b.String(), `"failures":[]`) {
		t.Errorf("all passed: %v %s", err, b.String())
	}
}
