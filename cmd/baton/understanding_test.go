package main

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/batonhq/baton/internal/app"
	"github.com/batonhq/baton/internal/testkit"
)

func TestUnderstandingIsStoredOnMessagesAndDetailsAccumulate(t *testing.T) {
	t.Parallel()
	tb := testkit.Start(t, testkit.Options{Window: 0, RealBot: true})
	token := tb.AdminToken(t)
	_, b := tb.Post(t, testkit.Message("cust-u", "Cara Diaz", "u-1", "Where is my order? I'm so frustrated, it's 3 days late"))
	conv := testkit.ID(b["conversation_id"])
	testkit.WaitFor(t, 10*time.Second, "first reply", func() bool { return len(tb.DeliveriesTo(conv)) == 1 })
	first := tb.DeliveriesTo(conv)[0].Body.Text
	if !strings.Contains(first, "order number") {
		t.Fatalf("reply %q does not ask for the missing order number", first)
	}
	// A bare answer to the question counts, because the bot asked for it.
	tb.Post(t, testkit.Message("cust-u", "Cara Diaz", "u-2", "ZX-48213"))
	testkit.WaitFor(t, 10*time.Second, "second reply", func() bool { return len(tb.DeliveriesTo(conv)) == 2 })
	second := tb.DeliveriesTo(conv)[1].Body.Text
	if !strings.Contains(second, "email") {
		t.Fatalf("reply %q does not ask for the email next", second)
	}
	tb.Post(t, testkit.Message("cust-u", "Cara Diaz", "u-3", "it's cara@example.com"))
	testkit.WaitFor(t, 10*time.Second, "third reply", func() bool { return len(tb.DeliveriesTo(conv)) == 3 })
	third := tb.DeliveriesTo(conv)[2].Body.Text
	if !strings.Contains(third, "ZX-48213") || !strings.Contains(third, "cara@example.com") || !strings.Contains(third, "person") {
		t.Errorf("reply %q should confirm both details and hand off", third)
	}
	status, c := tb.API(t, "GET", "/v1/conversations/"+jsonID(conv), token, nil)
	if status != 200 {
		t.Fatalf("GET conversation: %d %v", status, c)
	}
	if c["status"] != "queued" {
		t.Errorf("status %v; want queued after the handoff", c["status"])
	}
	details, _ := c["details"].(map[string]any)
	if details["order_number"] != "ZX-48213" || details["email"] != "cara@example.com" {
		t.Errorf("gathered details %v", details)
	}
	msgs, _ := c["messages"].([]any)
	m0, _ := msgs[0].(map[string]any)
	meta, _ := m0["meta"].(map[string]any)
	sent, _ := meta["sentiment"].(map[string]any)
	if meta["intent"] != "order_status" || sent["label"] != "negative" || meta["language"] != "en" {
		t.Errorf("first message meta %v; want intent order_status, negative sentiment, language en", meta)
	}
	if trend, _ := c["sentiment_trend"].(float64); trend >= 0 {
		t.Errorf("sentiment trend %v; want negative", trend)
	}
	var trace map[string]any
	if err := tb.DB.Pool.QueryRow(context.Background(), `SELECT data FROM turn_traces WHERE conversation_id = $1 ORDER BY id LIMIT 1`, conv).Scan(&trace); err != nil {
		t.Fatal(err)
	}
	if trace["intent"] != "order_status" || trace["action"] != "ask_detail" || trace["served_intent"] != "order_status" {
		t.Errorf("first turn trace %v", trace)
	}
	// Handed off means hands off: the bot reads but does not answer.
	tb.Post(t, testkit.Message("cust-u", "Cara Diaz", "u-4", "hello? anyone?"))
	testkit.WaitFor(t, 10*time.Second, "the message to be processed", func() bool {
		return tb.Count(t, `SELECT count(*) FROM messages WHERE conversation_id = $1 AND author = 'customer' AND processed_at IS NULL`, conv) == 0
	})
	time.Sleep(300 * time.Millisecond)
	if n := len(tb.DeliveriesTo(conv)); n != 3 {
		t.Errorf("%d replies; the bot answered a handed-off conversation", n)
	}
}

func jsonID(id int64) string { b, _ := json.Marshal(id); return string(b) }

func TestIntentExampleAddedThroughAPIRetrainsWithoutRestart(t *testing.T) {
	t.Parallel()
	tb := testkit.Start(t, testkit.Options{NoWork: true})
	token := tb.AdminToken(t)
	classify := func(text string) string {
		status, out := tb.API(t, "POST", "/v1/intents/classify", token, map[string]string{"text": text})
		if status != 200 {
			t.Fatalf("classify: %d %v", status, out)
		}
		return out["intent"].(string)
	}
	phrase := "is the warehouse sale on this weekend"
	if got := classify(phrase); got == "warehouse_sale" {
		t.Fatal("classified as an intent that does not exist yet")
	}
	status, out := tb.API(t, "POST", "/v1/intents", token, map[string]any{
		"name": "warehouse_sale", "action": "reply", "reply": "Our warehouse sale runs Saturday 9–5.",
		"examples": []string{"when is the warehouse sale", "warehouse sale dates", "is there a warehouse sale soon",
			"what time does the warehouse sale open", "warehouse clearance event"},
	})
	if status != 201 {
		t.Fatalf("create intent: %d %v", status, out)
	}
	if got := classify(phrase); got != "warehouse_sale" {
		t.Errorf("after adding the intent, %q → %s; want warehouse_sale", phrase, got)
	}
	// Bad input changes nothing.
	status, out = tb.API(t, "POST", "/v1/intents", token, map[string]any{"name": "Bad Name!", "examples": []string{"x"}})
	if status != 400 {
		t.Errorf("invalid intent: %d %v; want 400", status, out)
	}
	status, _ = tb.API(t, "POST", "/v1/intents", token, map[string]any{"name": "warehouse_sale", "examples": []string{"x"}})
	if status != 409 {
		t.Errorf("duplicate intent: %d; want 409", status)
	}
	status, _ = tb.API(t, "POST", "/v1/intents/nope/examples", token, map[string]any{"examples": []string{"x"}})
	if status != 404 {
		t.Errorf("examples for an unknown intent: %d; want 404", status)
	}
	if n := tb.Count(t, `SELECT count(*) FROM audit_log WHERE entity = 'intent' AND entity_id = 'warehouse_sale'`); n != 1 {
		t.Errorf("%d audit rows for the new intent; want 1", n)
	}
	// Another process sees the change on its next refresh.
	other, err := app.New(context.Background(), testkit.Config(t, tb.DBURL, testkit.Options{}, "http://127.0.0.1:1"), tb.Log, app.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	if _, ok := other.Intents.Model().Intent("warehouse_sale"); !ok {
		t.Error("a new process does not load the stored intent")
	}
	status, _ = tb.API(t, "POST", "/v1/intents/warehouse_sale/examples", token, map[string]any{"examples": []string{"big summer warehouse blowout"}})
	if status != 200 {
		t.Fatalf("add example: %d", status)
	}
	if err := other.Intents.Refresh(context.Background()); err != nil {
		t.Fatal(err)
	}
	in, _ := other.Intents.Model().Intent("warehouse_sale")
	if len(in.Examples) != 6 {
		t.Errorf("the other process has %d examples after refresh; want 6", len(in.Examples))
	}
}
