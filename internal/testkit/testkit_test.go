package testkit_test

import (
	"strings"
	"testing"
	"time"

	"github.com/batonhq/baton/internal/testkit"
)

// The injected clock rules ingest: a day later (by the clock, not the wall) the customer's
// next message opens a new episode, and the bot welcomes them back.
func TestClockJumpOpensANewEpisode(t *testing.T) {
	t.Parallel()
	b := testkit.Start(t, testkit.Options{Env: map[string]string{"BATON_IDLE_RESOLVE": "24h"}})
	_, body := b.Post(t, testkit.Message("cust-clock", "Ana", "c-1", "hello"))
	conv := testkit.ID(body["conversation_id"])
	testkit.WaitFor(t, 10*time.Second, "the first reply", func() bool { return len(b.DeliveriesTo(conv)) == 1 })
	b.Advance(t, 25*time.Hour)
	b.Post(t, testkit.Message("cust-clock", "Ana", "c-2", "me again"))
	testkit.WaitFor(t, 10*time.Second, "the second reply", func() bool { return len(b.DeliveriesTo(conv)) == 2 })
	if got := b.DeliveriesTo(conv)[1].Body.Text; !strings.HasPrefix(got, "Welcome back") {
		t.Errorf("reply %q a day later; want a welcome back", got)
	}
	if n := b.Count(t, `SELECT count(*) FROM episodes WHERE conversation_id = $1 AND resolution = 'idle'`, conv); n != 1 {
		t.Errorf("%d idle-resolved episodes; want 1", n)
	}
	if n := b.Count(t, `SELECT count(*) FROM messages WHERE conversation_id = $1 AND received_at > now() + interval '24 hours'`, conv); n == 0 {
		t.Error("no message stored with the clock's time")
	}
}
