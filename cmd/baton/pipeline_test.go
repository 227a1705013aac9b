package main

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/bot"
	"github.com/batonhq/baton/internal/channel"
	"github.com/batonhq/baton/internal/dbtest"
	"github.com/batonhq/baton/internal/testkit"
)

func TestWebhookToReply(t *testing.T) {
	t.Parallel()
	tb := testkit.Start(t, testkit.Options{RealBot: true})
	status, body := tb.Post(t, testkit.Message("cust-1", "Ana Lima", "m-1", "Hello, where is my order?"))
	if status != 202 {
		t.Fatalf("status %d, body %v; want 202", status, body)
	}
	conv := testkit.ID(body["conversation_id"])
	testkit.WaitFor(t, 10*time.Second, "a delivered reply", func() bool { return len(tb.DeliveriesTo(conv)) == 1 })
	d := tb.DeliveriesTo(conv)[0]
	if !strings.HasPrefix(d.Body.Text, "Hi Ana!") {
		t.Errorf("reply %q does not greet the customer by name", d.Body.Text)
	}
	if d.Body.Recipient.ID != "cust-1" || d.Body.Author != baton.AuthorBot || !d.SignatureOK {
		t.Errorf("delivery %+v: want recipient cust-1, author bot, valid signature", d)
	}
	if d.IdempotencyKey != fmt.Sprint(d.Body.MessageID) {
		t.Errorf("Idempotency-Key %q; want the message id %d", d.IdempotencyKey, d.Body.MessageID)
	}
	testkit.WaitFor(t, 5*time.Second, "delivery state sent", func() bool {
		return tb.Count(t, `SELECT count(*) FROM messages WHERE id = $1 AND delivery_state = 'sent' AND delivery_attempts = 1`, d.Body.MessageID) == 1
	})
}

func TestDuplicateWebhookStoresOnceAndRepliesOnce(t *testing.T) {
	t.Parallel()
	tb := testkit.Start(t, testkit.Options{})
	m := testkit.Message("cust-dup", "", "dup-1", "hi")
	s1, b1 := tb.Post(t, m)
	s2, b2 := tb.Post(t, m)
	if s1 != 202 || s2 != 200 {
		t.Fatalf("statuses %d, %d; want 202 then 200", s1, s2)
	}
	if testkit.ID(b1["message_id"]) != testkit.ID(b2["message_id"]) || testkit.ID(b1["conversation_id"]) != testkit.ID(b2["conversation_id"]) {
		t.Fatalf("retry answered %v; want the first ids %v", b2, b1)
	}
	conv := testkit.ID(b1["conversation_id"])
	testkit.WaitFor(t, 10*time.Second, "a reply", func() bool { return len(tb.DeliveriesTo(conv)) >= 1 })
	// Concurrent retries of a new message: still one message.
	var wg sync.WaitGroup
	statuses := make([]int, 8)
	for i := range statuses {
		wg.Add(1)
		go func() {
			defer wg.Done()
			statuses[i], _ = tb.Post(t, testkit.Message("cust-dup", "", "dup-2", "again"))
		}()
	}
	wg.Wait()
	accepted := 0
	for _, s := range statuses {
		if s == 202 {
			accepted++
		} else if s != 200 {
			t.Errorf("concurrent retry status %d", s)
		}
	}
	if accepted != 1 {
		t.Errorf("%d concurrent retries answered 202; want exactly 1", accepted)
	}
	testkit.WaitFor(t, 10*time.Second, "two replies", func() bool { return len(tb.DeliveriesTo(conv)) >= 2 })
	time.Sleep(300 * time.Millisecond)
	if n := tb.Count(t, `SELECT count(*) FROM messages WHERE author = 'customer'`); n != 2 {
		t.Errorf("%d customer messages stored; want 2", n)
	}
	if n := len(tb.DeliveriesTo(conv)); n != 2 {
		t.Errorf("%d replies delivered; want 2 (one per distinct message)", n)
	}
}

func TestBurstGetsOneAnswerThatReadsAll(t *testing.T) {
	t.Parallel()
	tb := testkit.Start(t, testkit.Options{Window: 700 * time.Millisecond})
	var conv int64
	for i, text := range []string{"hi", "my order", "is late"} {
		_, b := tb.Post(t, testkit.Message("cust-burst", "Bo", fmt.Sprintf("b-%d", i), text))
		conv = testkit.ID(b["conversation_id"])
		time.Sleep(100 * time.Millisecond)
	}
	testkit.WaitFor(t, 10*time.Second, "a reply", func() bool { return len(tb.DeliveriesTo(conv)) >= 1 })
	time.Sleep(1200 * time.Millisecond)
	if n := len(tb.DeliveriesTo(conv)); n != 1 {
		t.Fatalf("%d replies to a burst of 3; want 1", n)
	}
	var seen []int64
	if err := tb.DB.Pool.QueryRow(context.Background(), `SELECT message_ids FROM turn_traces WHERE conversation_id = $1`, conv).Scan(&seen); err != nil {
		t.Fatal(err)
	}
	if len(seen) != 3 {
		t.Errorf("the turn read %d messages; want all 3", len(seen))
	}
}

func TestWindowZeroAnswersEachMessage(t *testing.T) {
	t.Parallel()
	tb := testkit.Start(t, testkit.Options{Window: 0})
	_, b := tb.Post(t, testkit.Message("cust-w0", "", "w0-1", "one"))
	conv := testkit.ID(b["conversation_id"])
	testkit.WaitFor(t, 10*time.Second, "first reply", func() bool { return len(tb.DeliveriesTo(conv)) == 1 })
	tb.Post(t, testkit.Message("cust-w0", "", "w0-2", "two"))
	testkit.WaitFor(t, 10*time.Second, "second reply", func() bool { return len(tb.DeliveriesTo(conv)) == 2 })
}

// gate is a decider that blocks each turn until released, to hold a turn open.
type gate struct {
	started chan int64
	release chan struct{}
	inner   bot.Decider
}

func (g *gate) Decide(ctx context.Context, st baton.TurnState) (baton.TurnOutcome, error) {
	g.started <- st.Conversation.ID
	select {
	case <-g.release:
	case <-ctx.Done():
		return baton.TurnOutcome{}, ctx.Err()
	}
	return g.inner.Decide(ctx, st)
}

// A message that arrives while a slow turn decides is answered once. With a lease (the LLM
// path) its task waits and the next turn answers it; without one (the offline engine) it may
// run a concurrent turn, and whichever commits second re-reads: one turn answers both, or two
// turns answer one each, never one message twice.
func TestMessageDuringTurnIsAnsweredByNextTurn(t *testing.T) {
	t.Parallel()
	for _, lease := range []bool{true, false} {
		t.Run(fmt.Sprintf("lease=%v", lease), func(t *testing.T) {
			t.Parallel()
			g := &gate{started: make(chan int64, 10), release: make(chan struct{}), inner: bot.Minimal{}}
			tb := testkit.Start(t, testkit.Options{Window: 0, Decider: g, LeaseTurns: lease})
			_, b := tb.Post(t, testkit.Message("cust-mid", "", "mid-1", "first"))
			conv := testkit.ID(b["conversation_id"])
			select {
			case <-g.started:
			case <-time.After(10 * time.Second):
				t.Fatal("turn did not start")
			}
			tb.Post(t, testkit.Message("cust-mid", "", "mid-2", "second, while you think"))
			time.Sleep(300 * time.Millisecond) // its task finds the turn running
			close(g.release)
			testkit.WaitFor(t, 15*time.Second, "both answered", func() bool {
				return tb.Count(t, `SELECT count(*) FROM messages WHERE author = 'customer' AND processed_at IS NULL`) == 0
			})
			rows, err := tb.DB.Pool.Query(context.Background(), `SELECT message_ids FROM turn_traces WHERE conversation_id = $1 ORDER BY id`, conv)
			if err != nil {
				t.Fatal(err)
			}
			var turns [][]int64
			for rows.Next() {
				var ids []int64
				rows.Scan(&ids) //nolint:errcheck
				turns = append(turns, ids)
			}
			testkit.WaitFor(t, 10*time.Second, "replies", func() bool { return len(tb.DeliveriesTo(conv)) == len(turns) })
			switch {
			case len(turns) == 2 && len(turns[0]) == 1 && len(turns[1]) == 1 && turns[0][0] < turns[1][0]:
			case !lease && len(turns) == 1 && len(turns[0]) == 2:
			default:
				t.Errorf("turns %v; want two turns answering one message each, in order (or, without a lease, one answering both)", turns)
			}
		})
	}
}

func TestManyConversationsInParallelEachInOrder(t *testing.T) {
	t.Parallel()
	tb := testkit.Start(t, testkit.Options{Window: 0})
	const convs, perConv = 50, 3
	var wg sync.WaitGroup
	ids := make([]int64, convs)
	for c := range convs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for m := range perConv {
				status, b := tb.Post(t, testkit.Message(fmt.Sprintf("par-%d", c), "", fmt.Sprintf("par-%d-%d", c, m), fmt.Sprintf("message %d", m)))
				if status != 202 {
					t.Errorf("status %d", status)
				}
				ids[c] = testkit.ID(b["conversation_id"])
				// Wait for the reply before writing again, as a person would.
				testkit.WaitFor(t, 20*time.Second, "reply", func() bool { return len(tb.DeliveriesTo(ids[c])) == m+1 })
			}
		}()
	}
	wg.Wait()
	for c := range convs {
		ds := tb.DeliveriesTo(ids[c])
		if len(ds) != perConv {
			t.Errorf("conversation %d got %d replies; want %d", c, len(ds), perConv)
			continue
		}
		for i := 1; i < len(ds); i++ {
			if ds[i].Body.MessageID <= ds[i-1].Body.MessageID {
				t.Errorf("conversation %d: replies out of order", c)
			}
		}
	}
	if n := tb.Count(t, `SELECT count(*) FROM messages WHERE author = 'customer' AND processed_at IS NULL`); n != 0 {
		t.Errorf("%d customer messages unanswered", n)
	}
	checkTurns(t, tb)
}

// checkTurns asserts that no customer message was answered by two turns and that the turns
// of one conversation never overlapped.
func checkTurns(t *testing.T, tb *testkit.Baton) {
	t.Helper()
	if n := tb.Count(t, `SELECT count(*) FROM (SELECT id FROM (SELECT unnest(message_ids) AS id FROM turn_traces) t
		GROUP BY id HAVING count(*) > 1) d`); n != 0 {
		t.Errorf("%d messages answered by more than one turn", n)
	}
	if n := tb.Count(t, `SELECT count(*) FROM turn_traces a JOIN turn_traces b ON a.conversation_id = b.conversation_id AND a.id < b.id
		AND a.finished_at > b.started_at`); n != 0 {
		t.Errorf("%d pairs of overlapping turns in one conversation", n)
	}
}

// Messages written at once to the same conversations race their turns: with either fence,
// every message is answered by exactly one committed turn, and committed turns never overlap.
func TestConcurrentTurnsOfOneConversation(t *testing.T) {
	t.Parallel()
	for _, lease := range []bool{false, true} {
		t.Run(fmt.Sprintf("lease=%v", lease), func(t *testing.T) {
			t.Parallel()
			tb := testkit.Start(t, testkit.Options{Window: 0, LeaseTurns: lease})
			const convs, perConv = 4, 8
			var wg sync.WaitGroup
			for c := range convs {
				for m := range perConv {
					wg.Add(1)
					go func() {
						defer wg.Done()
						if status, _ := tb.Post(t, testkit.Message(fmt.Sprintf("race-%d", c), "", fmt.Sprintf("race-%d-%d", c, m), fmt.Sprintf("question %d?", m))); status != 202 {
							t.Errorf("status %d", status)
						}
					}()
				}
			}
			wg.Wait()
			testkit.WaitFor(t, 30*time.Second, "all answered", func() bool {
				return tb.Count(t, `SELECT count(*) FROM messages WHERE author = 'customer' AND processed_at IS NULL`) == 0
			})
			checkTurns(t, tb)
			turns := tb.Count(t, `SELECT count(*) FROM turn_traces`)
			testkit.WaitFor(t, 10*time.Second, "replies delivered", func() bool { return len(tb.Deliveries()) == turns })
			seen := map[int64]bool{}
			for _, d := range tb.Deliveries() {
				if seen[d.Body.MessageID] {
					t.Errorf("reply %d delivered twice", d.Body.MessageID)
				}
				seen[d.Body.MessageID] = true
			}
		})
	}
}

func TestKilledWorkerTurnIsAnsweredOnceBySweeper(t *testing.T) {
	t.Parallel()
	db := dbtest.New(t)
	snk := testkit.NewSink(t)
	// 1. The message arrives while no worker runs.
	http1 := testkit.Start(t, testkit.Options{DatabaseURL: db.URL, Sink: snk, NoWork: true, Window: 0})
	_, b := http1.Post(t, testkit.Message("cust-kill", "", "kill-1", "anyone there?"))
	conv := testkit.ID(b["conversation_id"])
	// 2. A worker took the task and died mid-turn: its task is gone from the queue (asynq would
	// only recover it after 60 s or more) and its lease is still in the row.
	ctx := context.Background()
	if _, err := http1.DB.ClaimLease(ctx, conv, "dead-worker", 2*time.Second); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Pool.Exec(ctx, `UPDATE outbox SET dispatched_at = now()`); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	// 3. Another worker runs: only the sweeper can find the conversation.
	testkit.Start(t, testkit.Options{DatabaseURL: db.URL, Sink: snk, Window: 0, LeaseTTL: 2 * time.Second})
	testkit.WaitFor(t, 20*time.Second, "the sweeper's reply", func() bool { return len(snk.For(conv)) >= 1 })
	t.Logf("answered %s after the kill", time.Since(start).Round(100*time.Millisecond))
	time.Sleep(3 * time.Second) // another sweep period: still one reply
	if n := len(snk.For(conv)); n != 1 {
		t.Errorf("%d replies; want exactly 1", n)
	}
}

func TestTurnThatOutlivesItsLeaseCannotWrite(t *testing.T) {
	t.Parallel()
	clock := baton.NewManualClock(time.Now())
	tb := testkit.Start(t, testkit.Options{NoWork: true, Clock: clock})
	_, b := tb.Post(t, testkit.Message("cust-fence", "", "f-1", "hello"))
	conv := testkit.ID(b["conversation_id"])
	ctx := context.Background()
	old, err := tb.DB.ClaimLease(ctx, conv, "slow-worker", time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tb.DB.ClaimLease(ctx, conv, "other", time.Second); err != baton.ErrLeaseBusy {
		t.Fatalf("second claim while the lease is live: %v; want ErrLeaseBusy", err)
	}
	clock.Advance(2 * time.Second)
	if _, err := tb.DB.ClaimLease(ctx, conv, "other", time.Minute); err != nil {
		t.Fatalf("claim after expiry: %v", err)
	}
	st, err := tb.DB.LoadTurn(ctx, conv)
	if err != nil {
		t.Fatal(err)
	}
	out, _ := bot.Minimal{}.Decide(ctx, st)
	out.Processed = []int64{st.Pending[0].ID}
	if _, err := tb.DB.CommitTurn(ctx, old, out); err != baton.ErrLeaseLost {
		t.Fatalf("commit with a stale lease: %v; want ErrLeaseLost", err)
	}
	if err := tb.DB.ExtendLease(ctx, old, time.Minute); err != baton.ErrLeaseLost {
		t.Fatalf("extend a stale lease: %v; want ErrLeaseLost", err)
	}
	if n := tb.Count(t, `SELECT count(*) FROM messages WHERE author = 'bot'`); n != 0 {
		t.Errorf("a fenced turn wrote %d replies", n)
	}
	if n := tb.Count(t, `SELECT count(*) FROM messages WHERE processed_at IS NOT NULL`); n != 0 {
		t.Errorf("a fenced turn marked %d messages processed", n)
	}
}

func TestRedisOutageAcceptsThenAnswers(t *testing.T) {
	t.Parallel()
	rds := dbtest.StartRedis(t)
	tb := testkit.Start(t, testkit.Options{RedisURL: rds.URL()})
	_, b := tb.Post(t, testkit.Message("cust-out", "", "o-0", "before"))
	conv := testkit.ID(b["conversation_id"])
	testkit.WaitFor(t, 10*time.Second, "reply before the outage", func() bool { return len(tb.DeliveriesTo(conv)) == 1 })
	rds.Stop()
	for i := 1; i <= 3; i++ {
		status, body := tb.Post(t, testkit.Message(fmt.Sprintf("cust-out-%d", i), "", fmt.Sprintf("o-%d", i), "during the outage"))
		if status != 202 {
			t.Fatalf("status %d during the outage (%v); want 202", status, body)
		}
	}
	time.Sleep(time.Second)
	if n := len(tb.Deliveries()); n != 1 {
		t.Fatalf("%d deliveries during the outage; want only the first", n)
	}
	rds.Start()
	testkit.WaitFor(t, 30*time.Second, "replies after the outage", func() bool { return len(tb.Deliveries()) == 4 })
}

func TestBadInputIsRejectedAndStoresNothing(t *testing.T) {
	t.Parallel()
	tb := testkit.Start(t, testkit.Options{NoWork: true})
	valid := []byte(`{"sender":{"id":"c"},"message":{"id":"m","text":"hi"}}`)
	big := []byte(`{"sender":{"id":"c"},"message":{"id":"m","text":"` + strings.Repeat("a", 70<<10) + `"}}`)
	tests := []struct {
		name   string
		body   []byte
		sig    string
		status int
		code   string
	}{
		{"no signature", valid, "", 401, "invalid_signature"},
		{"wrong signature", valid, channel.Sign("other-secret", valid), 401, "invalid_signature"},
		{"signature of another body", valid, channel.Sign(testkit.Secret, []byte("{}")), 401, "invalid_signature"},
		{"malformed json", []byte(`{"sender":`), "", 400, "invalid_request"},
		{"invalid utf-8", []byte("{\"sender\":{\"id\":\"c\"},\"message\":{\"id\":\"m\",\"text\":\"\xff\xfe\"}}"), "", 400, "invalid_request"},
		{"missing sender id", []byte(`{"sender":{},"message":{"id":"m","text":"hi"}}`), "", 400, "invalid_request"},
		{"missing message id", []byte(`{"sender":{"id":"c"},"message":{"text":"hi"}}`), "", 400, "invalid_request"},
		{"empty text", []byte(`{"sender":{"id":"c"},"message":{"id":"m","text":"  "}}`), "", 400, "invalid_request"},
		{"unknown field", []byte(`{"sender":{"id":"c"},"message":{"id":"m","text":"hi"},"x":1}`), "", 400, "invalid_request"},
		{"wrong type", []byte(`{"sender":{"id":7},"message":{"id":"m","text":"hi"}}`), "", 400, "invalid_request"},
		{"oversized", big, "", 413, "too_large"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sig := tt.sig
			if sig == "" && tt.status != 401 {
				sig = channel.Sign(testkit.Secret, tt.body)
			}
			status, body := tb.PostRaw(t, tt.body, sig)
			if status != tt.status {
				t.Fatalf("status %d (%v); want %d", status, body, tt.status)
			}
			e, _ := body["error"].(map[string]any)
			if e == nil || e["code"] != tt.code || e["message"] == "" {
				t.Errorf("error body %v; want code %q and a message", body, tt.code)
			}
		})
	}
	for _, table := range []string{"customers", "conversations", "messages", "outbox"} {
		if n := tb.Count(t, `SELECT count(*) FROM `+table); n != 0 {
			t.Errorf("%d rows in %s after bad input; want none", n, table)
		}
	}
	// Unknown channel.
	req := []byte(`{}`)
	resp, err := httpPost(tb.URL+"/v1/channels/carrier-pigeon/messages", req)
	if err != nil || resp != 404 {
		t.Errorf("unknown channel: %d, %v; want 404", resp, err)
	}
}

func TestDeliveryRetriesThenSucceeds(t *testing.T) {
	t.Parallel()
	tb := testkit.Start(t, testkit.Options{})
	tb.Sink.Respond(func(n int, _ channel.OutboundBody) int {
		if n <= 2 {
			return 503
		}
		return 200
	})
	_, b := tb.Post(t, testkit.Message("cust-retry", "", "r-1", "hi"))
	conv := testkit.ID(b["conversation_id"])
	testkit.WaitFor(t, 20*time.Second, "delivery after retries", func() bool { return len(tb.DeliveriesTo(conv)) == 1 })
	mid := tb.DeliveriesTo(conv)[0].Body.MessageID
	testkit.WaitFor(t, 5*time.Second, "state sent after 3 attempts", func() bool {
		return tb.Count(t, `SELECT count(*) FROM messages WHERE id = $1 AND delivery_state = 'sent' AND delivery_attempts = 3`, mid) == 1
	})
}

func TestDeliveryClientErrorIsNotRetried(t *testing.T) {
	t.Parallel()
	tb := testkit.Start(t, testkit.Options{})
	var calls atomic.Int32
	tb.Sink.Respond(func(int, channel.OutboundBody) int { calls.Add(1); return 422 })
	tb.Post(t, testkit.Message("cust-422", "", "x-1", "hi"))
	testkit.WaitFor(t, 10*time.Second, "state failed", func() bool {
		return tb.Count(t, `SELECT count(*) FROM messages WHERE author = 'bot' AND delivery_state = 'failed' AND delivery_attempts = 1`) == 1
	})
	time.Sleep(1500 * time.Millisecond)
	if n := calls.Load(); n != 1 {
		t.Errorf("a 422 was tried %d times; want 1", n)
	}
}

func TestDeliveryStateOnlyMovesForward(t *testing.T) {
	t.Parallel()
	tb := testkit.Start(t, testkit.Options{NoWork: true})
	_, b := tb.Post(t, testkit.Message("cust-state", "", "s-1", "hi"))
	conv := testkit.ID(b["conversation_id"])
	ctx := context.Background()
	l, err := tb.DB.ClaimLease(ctx, conv, "w", time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	c, err := tb.DB.CommitTurn(ctx, l, baton.TurnOutcome{Replies: []baton.Reply{
		{Author: baton.AuthorBot, Visibility: baton.Public, Text: "public"},
		{Author: baton.AuthorSystem, Visibility: baton.Internal, Text: "internal note"},
	}, StartedAt: time.Now()})
	ids := c.Replies
	if err != nil {
		t.Fatal(err)
	}
	state := func(id int64) string {
		var s *string
		tb.DB.Pool.QueryRow(ctx, `SELECT delivery_state FROM messages WHERE id = $1`, id).Scan(&s) //nolint:errcheck
		if s == nil {
			return "<none>"
		}
		return *s
	}
	steps := []struct {
		to   baton.DeliveryState
		want string
	}{
		{baton.DeliverySent, "sent"},
		{baton.DeliveryPending, "sent"},
		{baton.DeliveryUnknown, "sent"},
		{baton.DeliveryRead, "read"},
		{baton.DeliveryDelivered, "read"},
		{baton.DeliveryFailed, "failed"},
		{baton.DeliveryRead, "failed"},
	}
	for _, s := range steps {
		if err := tb.DB.RecordDeliveries(ctx, []baton.DeliveryUpdate{{MessageID: ids[0], State: s.to}, {MessageID: ids[1], State: s.to}}); err != nil {
			t.Fatal(err)
		}
		if got := state(ids[0]); got != s.want {
			t.Errorf("after %s: state %s; want %s", s.to, got, s.want)
		}
		if got := state(ids[1]); got != "<none>" {
			t.Errorf("internal note got delivery state %s", got)
		}
	}
	if n := tb.Count(t, `SELECT count(*) FROM messages WHERE delivery_next_at IS NOT NULL`); n != 0 {
		t.Errorf("%d replies still scheduled for delivery; want none (sent, and the internal note never)", n)
	}
	if _, err := tb.DB.Pool.Exec(ctx, `UPDATE messages SET delivery_state = 'pending' WHERE id = $1`, ids[1]); err == nil {
		t.Error("the database accepted a delivery state on an internal note")
	}
}

func TestInternalNoteIsNeverSent(t *testing.T) {
	t.Parallel()
	tb := testkit.Start(t, testkit.Options{})
	_, b := tb.Post(t, testkit.Message("cust-note", "", "n-1", "hi"))
	conv := testkit.ID(b["conversation_id"])
	testkit.WaitFor(t, 10*time.Second, "the reply", func() bool { return len(tb.DeliveriesTo(conv)) == 1 })
	// Write an internal note and force a deliver task for it.
	ctx := context.Background()
	var noteID int64
	if err := tb.DB.Pool.QueryRow(ctx, `INSERT INTO messages (conversation_id, episode, channel, author, visibility, body, received_at, sort_at)
		VALUES ($1, 1, 'webhook', 'agent', 'internal', 'customer seems upset', now(), now()) RETURNING id`, conv).Scan(&noteID); err != nil {
		t.Fatal(err)
	}
	if _, err := tb.DB.Pool.Exec(ctx, `INSERT INTO outbox (kind, payload, task_id, run_at, created_at)
		VALUES ('deliver', $1, $2, now(), now())`, fmt.Sprintf(`{"conversation_id":%d,"message_id":%d}`, conv, noteID), fmt.Sprintf("deliver:%d", noteID)); err != nil {
		t.Fatal(err)
	}
	tb.DB.Pool.Exec(ctx, `SELECT pg_notify('baton_outbox', '')`) //nolint:errcheck
	testkit.WaitFor(t, 10*time.Second, "the deliver task to run", func() bool {
		return tb.Count(t, `SELECT count(*) FROM outbox WHERE dispatched_at IS NULL`) == 0
	})
	time.Sleep(500 * time.Millisecond)
	for _, d := range tb.Deliveries() {
		if d.Body.MessageID == noteID || strings.Contains(d.Body.Text, "upset") {
			t.Fatalf("internal note delivered: %+v", d)
		}
	}
}

func TestReplyOfAWorkerThatDiedBeforeDeliveringIsDeliveredByFallback(t *testing.T) {
	t.Parallel()
	db := dbtest.New(t)
	snk := testkit.NewSink(t)
	// The claim the turn commit takes lasts twice the send timeout.
	env := map[string]string{"BATON_DELIVERY_SEND_TIMEOUT": "3s", "BATON_DELIVERY_SWEEP": "500ms"}
	http1 := testkit.Start(t, testkit.Options{DatabaseURL: db.URL, Sink: snk, NoWork: true, Env: env})
	_, b := http1.Post(t, testkit.Message("cust-fb", "", "fb-1", "hi"))
	conv := testkit.ID(b["conversation_id"])
	// A worker committed the turn, then died before its inline delivery.
	ctx := context.Background()
	l, err := http1.DB.ClaimLease(ctx, conv, "doomed", time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	st, _ := http1.DB.LoadTurn(ctx, conv)
	out, _ := bot.Minimal{}.Decide(ctx, st)
	out.Processed, out.StartedAt = []int64{st.Pending[0].ID}, time.Now()
	c, err := http1.DB.CommitTurn(ctx, l, out)
	if err != nil {
		t.Fatal(err)
	}
	ids := c.Replies
	testkit.Start(t, testkit.Options{DatabaseURL: db.URL, Sink: snk, Env: env})
	testkit.WaitFor(t, 25*time.Second, "the fallback delivery", func() bool { return len(snk.For(conv)) == 1 })
	if got := snk.For(conv)[0].Body.MessageID; got != ids[0] {
		t.Errorf("delivered message %d; want %d", got, ids[0])
	}
}

func httpPost(url string, body []byte) (int, error) {
	resp, err := http.Post(url, "application/json", bytes.NewReader(body))
	if err != nil {
		return 0, err
	}
	resp.Body.Close()
	return resp.StatusCode, nil
}
