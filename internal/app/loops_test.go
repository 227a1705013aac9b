package app_test

import (
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/batonhq/baton/internal/testkit"
)

// gathered sums the samples of one metric of a registry.
func gathered(t *testing.T, reg *prometheus.Registry, name string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var sum float64
	for _, mf := range mfs {
		if mf.GetName() == name {
			for _, m := range mf.GetMetric() {
				sum += m.GetCounter().GetValue() + m.GetGauge().GetValue()
			}
		}
	}
	return sum
}

func TestBotLoopStopsAnswering(t *testing.T) {
	t.Parallel()
	b := testkit.Start(t, testkit.Options{Env: map[string]string{"BATON_LOOP_REPEATS": "3"}})
	var conv int64
	for i := range 5 {
		status, body := b.Post(t, testkit.Message("echo-bot", "Echo", fmt.Sprintf("m%d", i), "I did not understand, please rephrase."))
		if status != http.StatusAccepted {
			t.Fatalf("post %d: status %d %v", i, status, body)
		}
		conv = testkit.ID(body["conversation_id"])
		testkit.WaitFor(t, 15*time.Second, "the message processed", func() bool {
			return b.Count(t, `SELECT count(*) FROM messages WHERE conversation_id = $1 AND author = 'customer' AND processed_at IS NULL`, conv) == 0
		})
	}
	// Two answered; the third repeat is a loop: muted, nothing more said.
	if n := b.Count(t, `SELECT count(*) FROM messages WHERE conversation_id = $1 AND author = 'bot'`, conv); n != 2 {
		t.Fatalf("the bot replied %d times, want 2 (then stop at the 3rd repeat)", n)
	}
	if n := b.Count(t, `SELECT count(*) FROM conversations WHERE id = $1 AND bot_loop_at IS NOT NULL AND bot_muted_at IS NOT NULL`, conv); n != 1 {
		t.Fatal("the conversation is not flagged and muted")
	}
	if got := gathered(t, b.Registry, "baton_bot_loops_total"); got != 1 {
		t.Fatalf("baton_bot_loops_total = %v, want 1", got)
	}
	status, body := b.API(t, "GET", "/v1/admin/loops", b.AdminToken(t), nil)
	if loops, _ := body["loops"].([]any); status != http.StatusOK || len(loops) != 1 {
		t.Fatalf("GET /v1/admin/loops: %d %v, want the conversation", status, body)
	}
}

func TestBacklogMetrics(t *testing.T) {
	t.Parallel()
	b := testkit.Start(t, testkit.Options{NoWork: true}) // no relay: the message waits in the outbox
	if status, body := b.Post(t, testkit.Message("ann", "Ann", "m1", "hello")); status != http.StatusAccepted {
		t.Fatalf("post: %d %v", status, body)
	}
	if got := gathered(t, b.Registry, "baton_outbox_backlog"); got != 1 {
		t.Fatalf("baton_outbox_backlog = %v, want 1", got)
	}
}
