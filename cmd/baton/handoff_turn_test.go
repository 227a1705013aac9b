package main

import (
	"context"
	"encoding/json"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/batonhq/baton/internal/testkit"
)

// A handoff the bot decides is routed, scored and packaged for the agent in the turn that
// decides it, and the agent API shows the package.
func TestHandoffIsRoutedScoredAndPackaged(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	tb := testkit.Start(t, testkit.Options{Window: 0, RealBot: true})
	_, b := tb.Post(t, testkit.Message("cust-ho", "Mia Jones", "ho-1",
		"My order 48213 arrived damaged and I'm really annoyed. I want to talk to a person now"))
	conv := testkit.ID(b["conversation_id"])
	testkit.WaitFor(t, 15*time.Second, "the handoff reply", func() bool { return len(tb.DeliveriesTo(conv)) == 1 })
	var team string
	var priority int
	var pkg []byte
	var due *time.Time
	err := tb.DB.Pool.QueryRow(ctx, `SELECT t.name, h.priority, h.summary, h.sla_due_at FROM handoffs h
		JOIN teams t ON t.id = h.team_id JOIN conversations c ON c.id = h.conversation_id AND c.team_id = h.team_id
		WHERE h.conversation_id = $1`, conv).Scan(&team, &priority, &pkg, &due)
	if err != nil {
		t.Fatalf("read the handoff: %v", err)
	}
	var p struct {
		Reason  string `json:"reason"`
		Issue   string `json:"issue"`
		Details []struct {
			Type, Value string
		} `json:"details"`
		NextStep string `json:"next_step"`
	}
	if err := json.Unmarshal(pkg, &p); err != nil {
		t.Fatal(err)
	}
	if team != "support" || priority <= 0 || due == nil || p.Reason == "" ||
		!strings.Contains(p.Issue, "damaged") || p.NextStep == "" {
		t.Errorf("handoff team %q priority %d due %v package %+v; want support, a priority, an SLA and the issue", team, priority, due, p)
	}
	found := false
	for _, d := range p.Details {
		found = found || d.Value == "48213"
	}
	if !found {
		t.Errorf("package details %+v; want the order number the customer typed", p.Details)
	}
	status, got := tb.API(t, "GET", "/v1/conversations/"+strconv.FormatInt(conv, 10), tb.AdminToken(t), nil)
	h, _ := got["handoff"].(map[string]any)
	if status != 200 || h == nil || h["team"] != "support" || h["summary"] == "" {
		t.Errorf("GET conversation: %d handoff %v; want the package with its team", status, h)
	}
}
