package queue_test

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/sashabaranov/go-openai"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/internal/fake"
	"github.com/batonhq/baton/internal/queue"
	"github.com/batonhq/baton/internal/testkit"
)

// failingDecider fails every turn, counting its calls.
type failingDecider struct{ calls atomic.Int32 }

func (d *failingDecider) Decide(context.Context, baton.TurnState) (baton.TurnOutcome, error) {
	d.calls.Add(1)
	return baton.TurnOutcome{}, errors.New("the model is down")
}

// counter reads a counter of the app's registry (0 when absent).
func counter(t testing.TB, reg *prometheus.Registry, name string, labels map[string]string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
	metrics:
		for _, m := range mf.GetMetric() {
			for _, lp := range m.GetLabel() {
				if labels[lp.GetName()] != lp.GetValue() {
					continue metrics
				}
			}
			return m.GetCounter().GetValue()
		}
	}
	return 0
}

// TestTurnThatAlwaysFailsIsHandedOffOnce: a turn that fails every attempt is tried a bounded
// number of times, then handed to people once (status queued, one handoff with reason error,
// one reply to the customer), is never swept again, and shows in metrics and dead letters.
func TestTurnThatAlwaysFailsIsHandedOffOnce(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name        string
		maxAttempts string
		want        int
		leaseTurns  bool
	}{
		{name: "default three attempts, optimistic turns", want: 3},
		{name: "configured two attempts, leased turns", maxAttempts: "2", want: 2, leaseTurns: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			dec := &failingDecider{}
			env := map[string]string{}
			if tt.maxAttempts != "" {
				env["BATON_TURN_MAX_ATTEMPTS"] = tt.maxAttempts
			}
			b := testkit.Start(t, testkit.Options{Decider: dec, LeaseTurns: tt.leaseTurns, Env: env})
			_, body := b.Post(t, testkit.Message("cust-f", "Fay", "f-1", "where is my order?"))
			conv := testkit.ID(body["conversation_id"])
			testkit.WaitFor(t, 20*time.Second, "the reply after the last attempt", func() bool { return len(b.DeliveriesTo(conv)) >= 1 })
			testkit.WaitFor(t, 5*time.Second, "the message answered", func() bool {
				return b.Count(t, `SELECT count(*) FROM messages WHERE conversation_id = $1 AND author = 'customer' AND processed_at IS NULL`, conv) == 0
			})

			// A sweep now finds nothing to retry.
			sw := &queue.Sweeper{DB: b.DB, Client: b.Client, Queues: b.Queues, Log: testkit.Logger(), Clock: b.Clock, Interval: time.Second}
			b.Advance(t, time.Hour)
			if n, err := sw.Once(t.Context()); err != nil || n != 0 {
				t.Errorf("sweep after the handoff re-enqueued %d turns (%v); want 0", n, err)
			}
			if got := int(dec.calls.Load()); got != tt.want {
				t.Errorf("the decider ran %d times; want %d", got, tt.want)
			}
			if n := b.Count(t, `SELECT count(*) FROM handoffs WHERE conversation_id = $1 AND reason = 'error'`, conv); n != 1 {
				t.Errorf("%d error handoffs; want 1", n)
			}
			if n := b.Count(t, `SELECT count(*) FROM conversations WHERE id = $1 AND status = 'queued'`, conv); n != 1 {
				t.Error("the conversation is not queued for people")
			}
			if n := b.Count(t, `SELECT count(*) FROM messages WHERE conversation_id = $1 AND author = 'bot'`, conv); n != 1 {
				t.Errorf("%d bot replies stored; want 1", n)
			}
			if got := b.DeliveriesTo(conv); len(got) != 1 || !strings.Contains(got[0].Body.Text, "person") {
				t.Errorf("deliveries %+v; want one reply saying a person will follow up", got)
			}
			if got := counter(t, b.Registry, "baton_turn_failures_total", map[string]string{"outcome": "handed_off"}); got != 1 {
				t.Errorf("handed_off failures counted %v; want 1", got)
			}
			if got := counter(t, b.Registry, "baton_turn_failures_total", map[string]string{"outcome": "retry"}); int(got) != tt.want-1 {
				t.Errorf("retried failures counted %v; want %d", got, tt.want-1)
			}
			list, err := b.DeadLetters().List(t.Context(), 10)
			if err != nil {
				t.Fatal(err)
			}
			if len(list) != 1 || list[0].Kind != baton.DeadTurn || !list[0].HandedOff || list[0].ConversationID != conv ||
				list[0].Attempts != tt.want || !strings.Contains(list[0].Error, "the model is down") {
				t.Fatalf("dead letters %+v; want the handed-off turn", list)
			}
			// A second message while people have it: no second handoff and no second apology.
			b.Post(t, testkit.Message("cust-f", "Fay", "f-2", "hello?"))
			testkit.WaitFor(t, 20*time.Second, "the second message answered", func() bool {
				return b.Count(t, `SELECT count(*) FROM messages WHERE conversation_id = $1 AND author = 'customer' AND processed_at IS NULL`, conv) == 0
			})
			if n := b.Count(t, `SELECT count(*) FROM handoffs WHERE conversation_id = $1`, conv); n != 1 {
				t.Errorf("%d handoffs after the second message; want 1", n)
			}
			if n := b.Count(t, `SELECT count(*) FROM messages WHERE conversation_id = $1 AND author = 'bot'`, conv); n != 1 {
				t.Errorf("%d bot replies after the second message; want still 1", n)
			}
		})
	}
}

// TestLLMOutageStillAnswers: with remote embeddings active and the OpenAI endpoint answering
// 500 to embeddings and chat, the customer still gets an answer (full-text retrieval, local
// understanding, extractive answer), and nothing is handed off.
func TestLLMOutageStillAnswers(t *testing.T) {
	t.Parallel()
	f := fake.NewOpenAI(t)
	b := testkit.Start(t, testkit.Options{RealBot: true, Seed: true, Env: map[string]string{
		"BATON_LLM_BASE_URL": f.URL, "BATON_LLM_API_KEY": "sk-test", "BATON_EMBEDDING_DIM": "32", "BATON_LLM_TIMEOUT": "5s"}})
	var embeds, chats atomic.Int32
	f.OnEmbed(func(openai.EmbeddingRequest) fake.Response { embeds.Add(1); return fake.Response{Status: 500} })
	f.OnChat(func(openai.ChatCompletionRequest) fake.Response { chats.Add(1); return fake.Response{Status: 500} })

	_, body := b.Post(t, testkit.Message("cust-o", "Olga", "o-1", "How much does express delivery cost?"))
	conv := testkit.ID(body["conversation_id"])
	testkit.WaitFor(t, 60*time.Second, "a reply", func() bool { return len(b.DeliveriesTo(conv)) >= 1 })
	reply := b.DeliveriesTo(conv)[0].Body
	if !strings.Contains(reply.Text, "9.95") || len(reply.Citations) == 0 {
		t.Errorf("reply %q with %d citations; want the express price from the help centre", reply.Text, len(reply.Citations))
	}
	if embeds.Load() == 0 || chats.Load() == 0 {
		t.Errorf("%d embedding and %d chat calls; the outage was not exercised", embeds.Load(), chats.Load())
	}
	if n := b.Count(t, `SELECT count(*) FROM handoffs WHERE conversation_id = $1`, conv); n != 0 {
		t.Errorf("%d handoffs; the bot should answer without the model", n)
	}
	if n := b.Count(t, `SELECT count(*) FROM turn_failures WHERE conversation_id = $1`, conv); n != 0 {
		t.Errorf("%d failed turns recorded; want none", n)
	}
}

// TestDeadLettersThroughTheAdminAPI: a handed-off turn, a failed delivery and an archived task
// are listed with their errors, retried or discarded one by one and in bulk, by admins only.
func TestDeadLettersThroughTheAdminAPI(t *testing.T) {
	t.Parallel()
	b := testkit.Start(t, testkit.Options{Decider: &failingDecider{}})
	admin := b.AdminToken(t)
	_, agent, err := b.DB.CreateUser(t.Context(), 0, baton.NewUser{Email: "agent@test.io", Role: baton.RoleAgent})
	if err != nil {
		t.Fatal(err)
	}
	_, body := b.Post(t, testkit.Message("cust-d", "Dee", "d-1", "hi"))
	conv := testkit.ID(body["conversation_id"])
	testkit.WaitFor(t, 20*time.Second, "the handoff reply", func() bool { return len(b.DeliveriesTo(conv)) == 1 })
	reply := b.DeliveriesTo(conv)[0].Body.MessageID
	testkit.WaitFor(t, 5*time.Second, "the reply recorded as sent", func() bool {
		return b.Count(t, `SELECT count(*) FROM messages WHERE id = $1 AND delivery_state = 'sent'`, reply) == 1
	})
	// The reply's delivery gave up (as after a long receiver outage).
	if _, err := b.DB.Pool.Exec(t.Context(), `UPDATE messages SET delivery_state = 'failed', delivery_error = 'receiver answered 500' WHERE id = $1`, reply); err != nil {
		t.Fatal(err)
	}
	// A task that fails for good is archived.
	client := asynq.NewClient(b.RedisOpt)
	t.Cleanup(func() { client.Close() })
	if _, err := client.Enqueue(asynq.NewTask(queue.TypeDeliver, []byte(`{}`)), asynq.Queue(b.Queues.Chat), asynq.TaskID("broken-1")); err != nil {
		t.Fatal(err)
	}
	insp := asynq.NewInspector(b.RedisOpt)
	t.Cleanup(func() { insp.Close() })
	testkit.WaitFor(t, 10*time.Second, "the broken task archived", func() bool {
		info, err := insp.GetTaskInfo(b.Queues.Chat, "broken-1")
		return err == nil && info.State == asynq.TaskStateArchived
	})

	list := func() map[string]map[string]any {
		t.Helper()
		status, out := b.API(t, "GET", "/v1/admin/failed", admin, nil)
		if status != 200 {
			t.Fatalf("GET /v1/admin/failed: %d %v", status, out)
		}
		byID := map[string]map[string]any{}
		items, _ := out["failed"].([]any)
		for _, it := range items {
			m, _ := it.(map[string]any)
			byID[m["id"].(string)] = m
		}
		return byID
	}
	got := list()
	turnID, deliveryID, taskID := "", "delivery:"+jsonID(reply), "task:chat:broken-1"
	for id, m := range got {
		if m["kind"] == baton.DeadTurn {
			turnID = id
		}
	}
	if len(got) != 3 || turnID == "" || got[deliveryID]["error"] != "receiver answered 500" || got[taskID] == nil ||
		!strings.Contains(got[taskID]["error"].(string), "decode") || got[turnID]["handed_off"] != true {
		t.Fatalf("dead letters %v; want the turn, the delivery and the task with their errors", got)
	}
	if status, _ := b.API(t, "GET", "/v1/admin/failed", agent, nil); status != 403 {
		t.Errorf("an agent listed dead letters: %d", status)
	}
	tests := []struct {
		name, path string
		status     int
	}{
		{"agent may not retry", "/v1/admin/failed/" + deliveryID + "/retry", 403},
		{"unknown kind", "/v1/admin/failed/nothing:1/retry", 404},
		{"malformed number", "/v1/admin/failed/delivery:abc/retry", 404},
		{"unknown delivery", "/v1/admin/failed/delivery:999999/discard", 404},
		{"unknown queue role", "/v1/admin/failed/task:other:broken-1/retry", 404},
		{"unknown task", "/v1/admin/failed/task:chat:nope/discard", 404},
		{"a task that is not archived is no dead letter", "/v1/admin/failed/task:chat:turn:" + jsonID(reply) + "/discard", 404},
		{"a handed-off turn is not retried", "/v1/admin/failed/" + turnID + "/retry", 409},
		{"discard the turn", "/v1/admin/failed/" + turnID + "/discard", 204},
		{"discarded already", "/v1/admin/failed/" + turnID + "/discard", 404},
		{"retry the delivery", "/v1/admin/failed/" + deliveryID + "/retry", 204},
	}
	for _, tt := range tests {
		token := admin
		if strings.HasPrefix(tt.name, "agent") {
			token = agent
		}
		if status, out := b.API(t, "POST", tt.path, token, nil); status != tt.status {
			t.Errorf("%s: POST %s = %d %v; want %d", tt.name, tt.path, status, out, tt.status)
		} else if status >= 400 {
			if e, _ := out["error"].(map[string]any); e["code"] == nil {
				t.Errorf("%s: error body %v is not the API's error shape", tt.name, out)
			}
		}
	}
	// The retried reply is delivered again.
	testkit.WaitFor(t, 20*time.Second, "the reply delivered again", func() bool { return len(b.DeliveriesTo(conv)) == 2 })
	testkit.WaitFor(t, 5*time.Second, "the reply recorded as sent", func() bool {
		return b.Count(t, `SELECT count(*) FROM messages WHERE id = $1 AND delivery_state = 'sent'`, reply) == 1
	})
	if got := list(); len(got) != 1 || got[taskID] == nil {
		t.Fatalf("dead letters %v; want only the task left", got)
	}
	// Bulk: retrying all runs the task again (it fails again and is archived again); discarding all empties the list.
	status, out := b.API(t, "POST", "/v1/admin/failed/retry", admin, map[string]any{"all": true})
	if done, _ := out["done"].([]any); status != 200 || len(done) != 1 || done[0] != taskID {
		t.Fatalf("bulk retry: %d %v", status, out)
	}
	testkit.WaitFor(t, 10*time.Second, "the task archived again", func() bool {
		info, err := insp.GetTaskInfo(b.Queues.Chat, "broken-1")
		return err == nil && info.State == asynq.TaskStateArchived
	})
	status, out = b.API(t, "POST", "/v1/admin/failed/discard", admin, map[string]any{"ids": []string{taskID, "delivery:999999"}})
	failed, _ := out["failed"].(map[string]any)
	if done, _ := out["done"].([]any); status != 200 || len(done) != 1 || failed["delivery:999999"] == nil {
		t.Fatalf("bulk discard: %d %v", status, out)
	}
	if got := list(); len(got) != 0 {
		t.Errorf("dead letters %v after discarding everything", got)
	}
}

func jsonID(id int64) string { return strconv.FormatInt(id, 10) }
