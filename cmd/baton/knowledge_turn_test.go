package main

import (
	"context"
	"testing"
	"time"

	"github.com/batonhq/baton/internal/testkit"
)

func TestHelpCenterQuestionGetsCitedAnswerAndUnknownOneAGap(t *testing.T) {
	t.Parallel()
	tb := testkit.Start(t, testkit.Options{Window: 0, RealBot: true})
	if _, err := tb.Knowledge.Seed(context.Background()); err != nil {
		t.Fatal(err)
	}
	if _, err := tb.Knowledge.EmbedPending(context.Background(), nil); err != nil {
		t.Fatal(err)
	}
	_, b := tb.Post(t, testkit.Message("cust-kb", "Ida", "kb-1", "How long does standard delivery take and what does it cost?"))
	conv := testkit.ID(b["conversation_id"])
	testkit.WaitFor(t, 15*time.Second, "an answer", func() bool { return len(tb.DeliveriesTo(conv)) == 1 })
	d := tb.DeliveriesTo(conv)[0].Body
	if len(d.Citations) == 0 || d.Citations[0].Title == "" || d.Citations[0].ChunkID == 0 {
		t.Fatalf("answer %q has citations %+v; want at least one with a title and chunk", d.Text, d.Citations)
	}
	var trace map[string]any
	tb.DB.Pool.QueryRow(context.Background(), `SELECT data FROM turn_traces WHERE conversation_id = $1`, conv).Scan(&trace) //nolint:errcheck
	if trace["action"] != "answer" || trace["answers"] == nil {
		t.Errorf("trace %v; want action answer with the retrieval trace", trace)
	}
	// Something the help centre does not know: no guess, a person, and a gap for admins.
	_, b = tb.Post(t, testkit.Message("cust-kb-2", "Jo", "kb-2", "Do you sponsor amateur curling teams in Saskatchewan?"))
	conv2 := testkit.ID(b["conversation_id"])
	testkit.WaitFor(t, 15*time.Second, "a reply", func() bool { return len(tb.DeliveriesTo(conv2)) == 1 })
	if got := tb.DeliveriesTo(conv2)[0].Body; len(got.Citations) != 0 {
		t.Errorf("an unknown question was answered with citations: %q", got.Text)
	}
	token := tb.AdminToken(t)
	status, gaps := tb.API(t, "GET", "/v1/knowledge/gaps", token, nil)
	if status != 200 {
		t.Fatalf("gaps: %d %v", status, gaps)
	}
	if groups, _ := gaps["gaps"].([]any); len(groups) == 0 {
		t.Errorf("gaps %v; want the curling question listed", gaps)
	}
}
