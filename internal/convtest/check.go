package convtest

import (
	"fmt"
	"slices"
	"strings"
)

// Reply is one public bot reply of a step.
type Reply struct {
	ID    int64
	Text  string
	Cites []string // external keys of the cited articles
}

// Turn is one turn trace of a step.
type Turn struct {
	Action  string
	Actions []string
}

// Observation is what a step produced, read from the database once it settled.
type Observation struct {
	StatusBefore string // conversation status before the step ("" = no conversation yet)
	Said         bool   // the step posted customer messages
	Intent       string // meta intent of the step's last customer message
	Replies      []Reply
	Turns        []Turn
	Details      map[string]string
	Status       string
	Handoff      string // reason of the latest handoff (read only when expected)
	Assigned     string // email of the agent holding the conversation, "nobody" if none
	Team         string // the conversation's team
	CSAT         int    // the latest asked episode's score (0: none)
	PrevReply    string // the conversation's last public reply before the step
}

// Check returns one message per failed expectation or invariant of step st.
func Check(st Step, o Observation) []string {
	var fails []string
	fail := func(format string, args ...any) { fails = append(fails, fmt.Sprintf(format, args...)) }
	e := st.Expect
	if e == nil {
		e = &Expect{}
	}
	texts := make([]string, len(o.Replies))
	for i, r := range o.Replies {
		texts[i] = r.Text
	}
	joined := strings.ToLower(strings.Join(texts, "\n"))
	// Invariants.
	botOwned := o.StatusBefore == "" || o.StatusBefore == "bot" || o.StatusBefore == "resolved"
	if o.Said && botOwned && e.Replies == nil && len(o.Replies) != 1 {
		fail("invariant: a bot-owned conversation gets exactly one reply per customer step; got %d", len(o.Replies))
	}
	prev := o.PrevReply
	for _, r := range o.Replies {
		if strings.TrimSpace(r.Text) == "" {
			fail("invariant: empty public reply (message %d)", r.ID)
		}
		if prev != "" && r.Text == prev {
			fail("invariant: the same reply twice in a row: %q", r.Text)
		}
		prev = r.Text
	}
	// Expectations.
	if e.Intent != "" && o.Intent != e.Intent {
		fail("intent: expected %s, got %s", e.Intent, orNone(o.Intent))
	}
	actions := func() []string {
		var all []string
		for _, t := range o.Turns {
			if t.Action != "" {
				all = append(all, t.Action)
			}
			all = append(all, t.Actions...)
		}
		return all
	}
	if e.Action != "" && !slices.Contains(actions(), e.Action) {
		fail("action: expected %s, got %s", e.Action, orNone(strings.Join(actions(), ", ")))
	}
	if e.NotAction != "" && slices.Contains(actions(), e.NotAction) {
		fail("not_action: expected no %s, got %s", e.NotAction, strings.Join(actions(), ", "))
	}
	for _, want := range e.ReplyContains {
		if !strings.Contains(joined, strings.ToLower(want)) {
			fail("reply_contains: expected %q in the replies", want)
		}
	}
	for _, not := range e.ReplyNotContains {
		if strings.Contains(joined, strings.ToLower(not)) {
			fail("reply_not_contains: expected no %q in the replies", not)
		}
	}
	if e.Replies != nil && len(o.Replies) != *e.Replies {
		fail("replies: expected %d, got %d", *e.Replies, len(o.Replies))
	}
	var cited []string
	for _, r := range o.Replies {
		for _, c := range r.Cites {
			if !slices.Contains(cited, c) {
				cited = append(cited, c)
			}
		}
	}
	for _, want := range e.Cites {
		if !slices.Contains(cited, want) {
			fail("cites: expected %s cited, got %s", want, orNone(strings.Join(cited, ", ")))
		}
	}
	if e.NoCitations && len(cited) > 0 {
		fail("no_citations: expected none, got %s", strings.Join(cited, ", "))
	}
	for k, want := range e.Details {
		got, ok := o.Details[k]
		switch {
		case !ok:
			fail("details.%s: expected %s, got none", k, want)
		case want != "*" && got != want:
			fail("details.%s: expected %q, got %q", k, want, got)
		}
	}
	for _, k := range e.NoDetails {
		if got, ok := o.Details[k]; ok {
			fail("no_details: expected no %s, got %q", k, got)
		}
	}
	if e.Status != "" && o.Status != e.Status {
		fail("status: expected %s, got %s", e.Status, orNone(o.Status))
	}
	if e.Handoff != "" && o.Handoff != e.Handoff {
		fail("handoff: expected reason %s, got %s", e.Handoff, orNone(o.Handoff))
	}
	if e.Assigned != "" && o.Assigned != e.Assigned {
		fail("assigned: expected %s, got %s", e.Assigned, o.Assigned)
	}
	if e.Team != "" && o.Team != e.Team {
		fail("team: expected %s, got %s", e.Team, orNone(o.Team))
	}
	if e.CSAT != nil && o.CSAT != *e.CSAT {
		fail("csat: expected %d, got %d", *e.CSAT, o.CSAT)
	}
	if len(fails) > 0 {
		quoted := make([]string, len(texts))
		for i, t := range texts {
			quoted[i] = fmt.Sprintf("%q", t)
		}
		reply := "replies: " + orNone(strings.Join(quoted, " | "))
		for i := range fails {
			fails[i] += "; " + reply
		}
	}
	return fails
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}
