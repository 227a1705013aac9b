package queue_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/hibiken/asynq"

	"github.com/batonhq/baton/bot"
	"github.com/batonhq/baton/internal/channel"
	"github.com/batonhq/baton/internal/dbtest"
	"github.com/batonhq/baton/internal/queue"
	"github.com/batonhq/baton/internal/testkit"
)

// receiver is a delivery endpoint whose behaviour a test scripts per request: it counts every
// request on arrival (a second request for a reply is a duplicate, whatever its outcome) and
// records the replies it accepted, in order.
type receiver struct {
	URL string

	mu       sync.Mutex
	n        int
	arrivals map[int64]int
	accepted []channel.OutboundBody
	behave   func(n int, b channel.OutboundBody) reaction
}

// reaction is what the receiver does with one request.
type reaction struct {
	sleep  time.Duration
	status int  // 0 = 200
	hangUp bool // close the connection without answering, after reading the request
}

func newReceiver(t *testing.T, behave func(n int, b channel.OutboundBody) reaction) *receiver {
	t.Helper()
	r := &receiver{arrivals: map[int64]int{}, behave: behave}
	srv := httptest.NewServer(http.HandlerFunc(r.serve))
	t.Cleanup(srv.Close)
	r.URL = srv.URL + "/deliveries"
	return r
}

func (r *receiver) setBehaviour(f func(n int, b channel.OutboundBody) reaction) {
	r.mu.Lock()
	r.behave = f
	r.mu.Unlock()
}

func (r *receiver) serve(w http.ResponseWriter, req *http.Request) {
	raw, _ := io.ReadAll(req.Body)
	var b channel.OutboundBody
	if err := json.Unmarshal(raw, &b); err != nil {
		http.Error(w, "bad json", http.StatusBadRequest)
		return
	}
	r.mu.Lock()
	r.n++
	r.arrivals[b.MessageID]++
	var re reaction
	if r.behave != nil {
		re = r.behave(r.n, b)
	}
	r.mu.Unlock()
	if re.sleep > 0 {
		select {
		case <-time.After(re.sleep):
		case <-req.Context().Done():
			return
		}
	}
	if re.hangUp {
		conn, _, err := w.(http.Hijacker).Hijack()
		if err == nil {
			conn.Close()
		}
		return
	}
	if re.status == 0 {
		re.status = http.StatusOK
	}
	if re.status < 300 {
		r.mu.Lock()
		r.accepted = append(r.accepted, b)
		r.mu.Unlock()
	}
	w.WriteHeader(re.status)
}

// requests returns how many requests arrived for each reply.
func (r *receiver) requests() map[int64]int {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make(map[int64]int, len(r.arrivals))
	for k, v := range r.arrivals {
		out[k] = v
	}
	return out
}

// acceptedFor returns the accepted replies of one conversation, in order of acceptance.
func (r *receiver) acceptedFor(conv int64) []int64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	var ids []int64
	for _, b := range r.accepted {
		if b.ConversationID == conv {
			ids = append(ids, b.MessageID)
		}
	}
	return ids
}

func (r *receiver) acceptedCount() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.accepted)
}

// deliveryOf reads a reply's delivery record.
func deliveryOf(t *testing.T, tb *testkit.Baton, id int64) (state string, attempts int) {
	t.Helper()
	var s *string
	if err := tb.DB.Pool.QueryRow(context.Background(), `SELECT delivery_state, delivery_attempts FROM messages WHERE id = $1`, id).
		Scan(&s, &attempts); err != nil {
		t.Fatal(err)
	}
	if s == nil {
		return "<none>", attempts
	}
	return *s, attempts
}

// settled reports whether attempt n of a reply (or a later one) has recorded its result: the
// clock must not jump while an attempt is in flight, or its retry would be scheduled from the
// jumped time.
func settled(t *testing.T, tb *testkit.Baton, id int64, n int) bool {
	s, attempts := deliveryOf(t, tb, id)
	return attempts > n || attempts == n && s != "sending"
}

// replyTo waits for the bot's first reply in a conversation and returns its id.
func replyTo(t *testing.T, tb *testkit.Baton, conv int64) int64 {
	t.Helper()
	var id int64
	testkit.WaitFor(t, 15*time.Second, "the bot's reply to be stored", func() bool {
		err := tb.DB.Pool.QueryRow(context.Background(), `SELECT coalesce(min(id), 0) FROM messages
			WHERE conversation_id = $1 AND author = 'bot'`, conv).Scan(&id)
		return err == nil && id != 0
	})
	return id
}

// A receiver slower than the old 10 s fallback gets each reply once, and while its requests
// hang, turns of other conversations still run at once: sends don't hold turn workers.
func TestSlowReceiverGetsEachReplyOnceAndTurnsAreNotDelayed(t *testing.T) {
	t.Parallel()
	rcv := newReceiver(t, func(int, channel.OutboundBody) reaction { return reaction{sleep: 11 * time.Second} })
	tb := testkit.Start(t, testkit.Options{Env: map[string]string{
		"BATON_OUTBOUND_URL": rcv.URL,
		"BATON_CONCURRENCY":  "4",
	}})
	const convs = 8
	start := time.Now()
	for i := range convs {
		if status, body := tb.Post(t, testkit.Message(fmt.Sprintf("slow-%d", i), "", fmt.Sprintf("slow-m-%d", i), "hello")); status != 202 {
			t.Fatalf("status %d (%v); want 202", status, body)
		}
	}
	// Four workers and eight turns: if a send held its worker for 11 s, half the turns would
	// wait that long.
	testkit.WaitFor(t, 7*time.Second, "every turn to commit while the receiver hangs", func() bool {
		return tb.Count(t, `SELECT count(*) FROM messages WHERE author = 'customer' AND processed_at IS NULL`) == 0
	})
	t.Logf("all %d turns committed after %s", convs, time.Since(start).Round(100*time.Millisecond))
	testkit.WaitFor(t, 40*time.Second, "every reply accepted and recorded sent", func() bool {
		return rcv.acceptedCount() == convs &&
			tb.Count(t, `SELECT count(*) FROM messages WHERE author = 'bot' AND delivery_state = 'sent'`) == convs
	})
	// The old fallback fired 10 s after the commit, while the first request still hung: a
	// second request would have arrived by now.
	for id, n := range rcv.requests() {
		if n != 1 {
			t.Errorf("reply %d was requested %d times; want once", id, n)
		}
	}
	if n := len(rcv.requests()); n != convs {
		t.Errorf("%d replies reached the receiver; want %d", n, convs)
	}
}

// A reply whose retry lived only in Redis survives Redis losing everything: PostgreSQL knows
// when it is due, and the sweeper queues it again.
func TestReplyRetrySurvivesRedisLoss(t *testing.T) {
	t.Parallel()
	rds := dbtest.StartRedis(t)
	rcv := newReceiver(t, func(int, channel.OutboundBody) reaction { return reaction{status: 503} })
	tb := testkit.Start(t, testkit.Options{RedisURL: rds.URL(), Env: map[string]string{"BATON_OUTBOUND_URL": rcv.URL}})
	_, b := tb.Post(t, testkit.Message("cust-lost", "", "lost-1", "hi"))
	conv := testkit.ID(b["conversation_id"])
	id := replyTo(t, tb, conv)
	// Wait until the reply is in retry and nothing in PostgreSQL's outbox would queue it again.
	testkit.WaitFor(t, 30*time.Second, "the reply to be retrying, its fallback dispatched", func() bool {
		_, attempts := deliveryOf(t, tb, id)
		return attempts >= 2 && tb.Count(t, `SELECT count(*) FROM outbox WHERE kind = 'deliver' AND dispatched_at IS NULL`) == 0
	})
	// Redis restarts empty (no persistence): every queued task is gone.
	rds.Stop()
	rds.Start()
	rcv.setBehaviour(nil)
	testkit.WaitFor(t, 45*time.Second, "the reply to be delivered after Redis lost its retry", func() bool {
		return len(rcv.acceptedFor(conv)) == 1
	})
	testkit.WaitFor(t, 5*time.Second, "state sent", func() bool {
		s, _ := deliveryOf(t, tb, id)
		return s == "sent"
	})
}

// A receiver down for longer than the old 45 s of retries still gets the reply: retries follow
// a backoff stored in PostgreSQL (here the clock jumps over each wait).
func TestDeliveryRetriesWithBackoffForHours(t *testing.T) {
	t.Parallel()
	const failures = 12 // more than the old ten retries
	rcv := newReceiver(t, func(n int, _ channel.OutboundBody) reaction {
		if n <= failures {
			return reaction{status: 503}
		}
		return reaction{}
	})
	tb := testkit.Start(t, testkit.Options{Env: map[string]string{
		"BATON_OUTBOUND_URL":       rcv.URL,
		"BATON_DELIVERY_SWEEP":     "200ms",
		"BATON_DELIVERY_RETRY_FOR": "24h",
	}})
	_, b := tb.Post(t, testkit.Message("cust-down", "", "down-1", "hi"))
	conv := testkit.ID(b["conversation_id"])
	id := replyTo(t, tb, conv)
	for i := 1; i <= failures; i++ {
		testkit.WaitFor(t, 30*time.Second, fmt.Sprintf("attempt %d recorded", i), func() bool { return settled(t, tb, id, i) })
		if i < failures || len(rcv.acceptedFor(conv)) == 0 {
			tb.Advance(t, 20*time.Minute) // longer than any single wait
		}
	}
	testkit.WaitFor(t, 30*time.Second, "the reply after the receiver came back", func() bool { return len(rcv.acceptedFor(conv)) == 1 })
	testkit.WaitFor(t, 5*time.Second, "state sent", func() bool {
		s, attempts := deliveryOf(t, tb, id)
		return s == "sent" && attempts == failures+1
	})
}

// When the retry window closes the reply is failed, once, and not tried again.
func TestDeliveryFailsWhenRetryWindowCloses(t *testing.T) {
	t.Parallel()
	rcv := newReceiver(t, func(int, channel.OutboundBody) reaction { return reaction{status: 503} })
	tb := testkit.Start(t, testkit.Options{Env: map[string]string{
		"BATON_OUTBOUND_URL":       rcv.URL,
		"BATON_DELIVERY_SWEEP":     "200ms",
		"BATON_DELIVERY_RETRY_FOR": "1h",
	}})
	_, b := tb.Post(t, testkit.Message("cust-gone", "", "gone-1", "hi"))
	conv := testkit.ID(b["conversation_id"])
	id := replyTo(t, tb, conv)
	testkit.WaitFor(t, 15*time.Second, "a first failed attempt", func() bool { return settled(t, tb, id, 1) })
	tb.Advance(t, 2*time.Hour)
	testkit.WaitFor(t, 30*time.Second, "state failed", func() bool {
		s, _ := deliveryOf(t, tb, id)
		return s == "failed"
	})
	n := rcv.requests()[id]
	tb.Advance(t, 2*time.Hour)
	time.Sleep(time.Second)
	if got := rcv.requests()[id]; got != n {
		t.Errorf("a failed reply was tried again: %d requests, then %d", n, got)
	}
}

// A connection closed after the request went out leaves the delivery unknown (the receiver may
// have it), never failed; a refusal is failed.
func TestDeliveryUnknownVersusFailed(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		react reaction
		want  string
	}{
		{name: "connection closed after the request was sent", react: reaction{hangUp: true}, want: "unknown"},
		{name: "receiver refuses the reply", react: reaction{status: 422}, want: "failed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			rcv := newReceiver(t, func(int, channel.OutboundBody) reaction { return tt.react })
			tb := testkit.Start(t, testkit.Options{Env: map[string]string{
				"BATON_OUTBOUND_URL":       rcv.URL,
				"BATON_DELIVERY_SWEEP":     "200ms",
				"BATON_DELIVERY_RETRY_FOR": "1m",
			}})
			_, b := tb.Post(t, testkit.Message("cust-uf", "", "uf-1", "hi"))
			id := replyTo(t, tb, testkit.ID(b["conversation_id"]))
			testkit.WaitFor(t, 15*time.Second, "a first attempt", func() bool { return settled(t, tb, id, 1) })
			// Past the retry window: the last attempt decides.
			tb.Advance(t, 10*time.Minute)
			testkit.WaitFor(t, 20*time.Second, "state "+tt.want+" after the retry window", func() bool {
				s, _ := deliveryOf(t, tb, id)
				return s == tt.want && tb.Count(t, `SELECT count(*) FROM messages WHERE id = $1 AND delivery_next_at IS NULL`, id) == 1
			})
		})
	}
}

// Replies of one conversation arrive in order: a worker died after committing reply 1, and
// reply 2 of the next turn waits for it instead of overtaking it.
func TestRepliesOfAConversationArriveInOrder(t *testing.T) {
	t.Parallel()
	db := dbtest.New(t)
	rcv := newReceiver(t, nil)
	env := map[string]string{"BATON_OUTBOUND_URL": rcv.URL, "BATON_DELIVERY_SEND_TIMEOUT": "2s", "BATON_DELIVERY_SWEEP": "200ms"}
	http1 := testkit.Start(t, testkit.Options{DatabaseURL: db.URL, NoWork: true, Env: env})
	_, b := http1.Post(t, testkit.Message("cust-order", "", "ord-1", "hi"))
	conv := testkit.ID(b["conversation_id"])
	// A worker committed the turn, then died before sending its reply.
	ctx := context.Background()
	l, err := http1.DB.ClaimLease(ctx, conv, "doomed", time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	st, err := http1.DB.LoadTurn(ctx, conv)
	if err != nil {
		t.Fatal(err)
	}
	out, _ := bot.Minimal{}.Decide(ctx, st)
	out.Processed, out.StartedAt = []int64{st.Pending[0].ID}, http1.Clock.Now()
	c, err := http1.DB.CommitTurn(ctx, l, out)
	if err != nil {
		t.Fatal(err)
	}
	first := c.Replies[0]
	// A live worker answers the next message.
	tb := testkit.Start(t, testkit.Options{DatabaseURL: db.URL, Env: env, Clock: http1.Clock})
	tb.Post(t, testkit.Message("cust-order", "", "ord-2", "are you there?"))
	testkit.WaitFor(t, 40*time.Second, "both replies", func() bool { return len(rcv.acceptedFor(conv)) == 2 })
	got := rcv.acceptedFor(conv)
	if got[0] != first {
		t.Errorf("replies arrived as %v; want %d first", got, first)
	}
	for id, n := range rcv.requests() {
		if n != 1 {
			t.Errorf("reply %d requested %d times; want once", id, n)
		}
	}
}

// A task id already taken counts as queued only if that task will run: an archived copy is
// replaced by a runnable one.
func TestEnqueueReplacesATaskThatWillNotRun(t *testing.T) {
	t.Parallel()
	url := dbtest.RedisURL()
	opt, err := asynq.ParseRedisURI(url)
	if err != nil {
		t.Fatal(err)
	}
	insp := asynq.NewInspector(opt)
	defer insp.Close()
	q := queue.NewQueues(dbtest.QueuePrefix(t, url)).WithInspector(insp)
	c := asynq.NewClient(opt)
	defer c.Close()
	ctx := context.Background()
	payload := []byte(`{"conversation_id":1,"message_id":2}`)
	if err := queue.Enqueue(ctx, c, q, queue.TypeDeliver, "deliver:2", payload, 0); err != nil {
		t.Fatal(err)
	}
	if err := insp.ArchiveTask(q.Chat, "deliver:2"); err != nil {
		t.Fatal(err)
	}
	if err := queue.Enqueue(ctx, c, q, queue.TypeDeliver, "deliver:2", payload, 0); err != nil {
		t.Fatal(err)
	}
	info, err := insp.GetTaskInfo(q.Chat, "deliver:2")
	if err != nil {
		t.Fatal(err)
	}
	if info.State != asynq.TaskStatePending {
		t.Errorf("task state %s after enqueueing over an archived copy; want pending", info.State)
	}
}

func TestBackoffSchedule(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		attempt int
		want    time.Duration
	}{
		{name: "first retry", attempt: 1, want: time.Second},
		{name: "doubles", attempt: 2, want: 2 * time.Second},
		{name: "a minute receiver outage is covered early", attempt: 6, want: 32 * time.Second},
		{name: "tenth", attempt: 10, want: 512 * time.Second},
		{name: "capped", attempt: 11, want: 10 * time.Minute},
		{name: "stays capped for hours", attempt: 200, want: 10 * time.Minute},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := queue.BackoffBase(tt.attempt); got != tt.want {
				t.Errorf("base %s; want %s", got, tt.want)
			}
			for range 50 {
				if got := queue.Backoff(tt.attempt, errors.New("503")); got < tt.want*4/5 || got > tt.want*6/5 {
					t.Fatalf("jittered %s; want within 20 %% of %s", got, tt.want)
				}
			}
		})
	}
	if got := queue.Backoff(1, &channel.SendError{Status: 429, RetryAfter: 90 * time.Second}); got != 90*time.Second {
		t.Errorf("with Retry-After 90s: %s; want 90s", got)
	}
}
