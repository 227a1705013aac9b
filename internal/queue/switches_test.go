package queue_test

import (
	"testing"
	"time"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/internal/testkit"
)

// TestPauseAndMute: paused, a message goes straight to people (queued, handoff reason policy,
// one reply saying so); muted, the bot reads a conversation but says nothing until unmuted.
// Pausing is for admins; agents may mute.
func TestPauseAndMute(t *testing.T) {
	t.Parallel()
	b := testkit.Start(t, testkit.Options{})
	admin := b.AdminToken(t)
	_, agent, err := b.DB.CreateUser(t.Context(), 0, baton.NewUser{Email: "agent@test.io", Role: baton.RoleAgent, Teams: []string{"support"}})
	if err != nil {
		t.Fatal(err)
	}
	unanswered := func(conv int64) int {
		return b.Count(t, `SELECT count(*) FROM messages WHERE conversation_id = $1 AND author = 'customer' AND processed_at IS NULL`, conv)
	}

	// Muted by an agent: read, not answered.
	_, body := b.Post(t, testkit.Message("cust-m", "Mo", "m-1", "hi"))
	conv := testkit.ID(body["conversation_id"])
	testkit.WaitFor(t, 10*time.Second, "the first answer", func() bool { return len(b.DeliveriesTo(conv)) == 1 })
	if status, out := b.API(t, "POST", "/v1/conversations/"+jsonID(conv)+"/mute", agent, nil); status != 204 {
		t.Fatalf("agent mute: %d %v", status, out)
	}
	if status, _ := b.API(t, "POST", "/v1/conversations/999999/mute", agent, nil); status != 404 {
		t.Errorf("muting a missing conversation: %d; want 404", status)
	}
	b.Post(t, testkit.Message("cust-m", "Mo", "m-2", "anyone?"))
	testkit.WaitFor(t, 10*time.Second, "the muted message read", func() bool { return unanswered(conv) == 0 })
	if n := len(b.DeliveriesTo(conv)); n != 1 {
		t.Errorf("%d replies in a muted conversation; want still 1", n)
	}
	if status, out := b.API(t, "POST", "/v1/conversations/"+jsonID(conv)+"/unmute", agent, nil); status != 204 {
		t.Fatalf("agent unmute: %d %v", status, out)
	}
	b.Post(t, testkit.Message("cust-m", "Mo", "m-3", "hello again"))
	testkit.WaitFor(t, 10*time.Second, "an answer after unmuting", func() bool { return len(b.DeliveriesTo(conv)) == 2 })

	// Paused by an admin: straight to people.
	if status, _ := b.API(t, "PUT", "/v1/admin/bot", agent, map[string]any{"paused": true}); status != 403 {
		t.Errorf("an agent paused the bot: %d", status)
	}
	if status, _ := b.API(t, "PUT", "/v1/admin/bot", admin, map[string]any{}); status != 400 {
		t.Errorf("pause without a value: %d; want 400", status)
	}
	if status, out := b.API(t, "PUT", "/v1/admin/bot", admin, map[string]any{"paused": true}); status != 200 || out["paused"] != true {
		t.Fatalf("pause: %d %v", status, out)
	}
	if status, out := b.API(t, "GET", "/v1/admin/bot", admin, nil); status != 200 || out["paused"] != true {
		t.Fatalf("read the pause: %d %v", status, out)
	}
	_, body = b.Post(t, testkit.Message("cust-p", "Pat", "p-1", "where is my order?"))
	paused := testkit.ID(body["conversation_id"])
	testkit.WaitFor(t, 10*time.Second, "the handoff reply", func() bool { return len(b.DeliveriesTo(paused)) == 1 })
	if n := b.Count(t, `SELECT count(*) FROM handoffs WHERE conversation_id = $1 AND reason = 'policy'`, paused); n != 1 {
		t.Errorf("%d policy handoffs; want 1", n)
	}
	if n := b.Count(t, `SELECT count(*) FROM conversations WHERE id = $1 AND status = 'queued'`, paused); n != 1 {
		t.Error("a message while paused did not go to people")
	}
	if n := b.Count(t, `SELECT count(*) FROM audit_log WHERE entity = 'setting' AND entity_id = 'bot_paused'`); n != 1 {
		t.Errorf("%d audit entries for the pause; want 1", n)
	}
	if status, out := b.API(t, "PUT", "/v1/admin/bot", admin, map[string]any{"paused": false}); status != 200 || out["paused"] != false {
		t.Fatalf("resume: %d %v", status, out)
	}
	_, body = b.Post(t, testkit.Message("cust-r", "Ros", "r-1", "hi"))
	resumed := testkit.ID(body["conversation_id"])
	testkit.WaitFor(t, 10*time.Second, "an answer after resuming", func() bool { return len(b.DeliveriesTo(resumed)) == 1 })
	if n := b.Count(t, `SELECT count(*) FROM handoffs WHERE conversation_id = $1`, resumed); n != 0 {
		t.Errorf("%d handoffs after resuming; want 0", n)
	}
}
