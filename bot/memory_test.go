package bot

import (
	"strings"
	"testing"
	"time"

	"github.com/batonhq/baton"
)

func TestSummaryIsRefreshedAtHandoffGapOrEveryFiveMessages(t *testing.T) {
	t.Parallel()
	b := testBrain(t)
	at := policyNow
	written := policyNow
	st := baton.ConversationState{SummaryAt: &written}
	turn := func(text string, d Decision) (string, bool) {
		ts := baton.TurnState{Conversation: baton.Conversation{Summary: "earlier"},
			Pending: []baton.Message{{Text: text, CreatedAt: at, Author: baton.AuthorCustomer}}}
		u := understood{msgs: []Understood{{Text: text, Kind: KindQuestion}}, details: map[string]string{"order_number": "A-1"}}
		return b.summarise(ts, &st, d, u, at)
	}
	for i := 1; i <= 4; i++ {
		at = at.Add(time.Minute)
		if _, ok := turn("a question?", Decision{}); ok {
			t.Fatalf("message %d refreshed the summary; want every fifth", i)
		}
	}
	at = at.Add(time.Minute)
	if _, ok := turn("a fifth question?", Decision{}); !ok {
		t.Fatal("the fifth message did not refresh the summary")
	}
	at = at.Add(time.Minute)
	s, ok := turn("I want a person", Decision{Intent: "talk_to_human", Handoff: &baton.Handoff{Reason: baton.HandoffCustomerRequest}})
	if !ok || !strings.Contains(s, "I want a person") || !strings.Contains(s, "A-1") || !strings.Contains(s, "customer request") {
		t.Fatalf("handoff summary %q (refreshed %v); want the issue, the details and the reason", s, ok)
	}
	at = at.Add(time.Minute)
	if _, ok := turn("ok", Decision{}); ok {
		t.Fatal("a message right after the handoff summary refreshed it again")
	}
	at = at.Add(7 * time.Hour)
	if _, ok := turn("back again?", Decision{}); !ok {
		t.Fatal("a message after a six-hour gap did not refresh the summary")
	}
}
