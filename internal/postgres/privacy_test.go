package postgres_test

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/internal/postgres"
)

func TestExportAndEraseCustomer(t *testing.T) {
	t.Parallel()
	db, clock := setup(t)
	ctx := t.Context()
	ingest := func(sender, id, text string) baton.IngestResult {
		t.Helper()
		res, err := db.Ingest(ctx, inbound(sender, id, text), 0, 24*time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	ada := ingest("ada", "a1", "my email is ada@example.com, where is order 1234?")
	answer(t, db, ada.ConversationID)
	clock.Advance(time.Minute)
	ingest("ada", "a2", "hello again")
	bob := ingest("bob", "b1", "hi")
	answer(t, db, bob.ConversationID)
	if _, err := db.Pool.Exec(ctx, `INSERT INTO kb_gaps (question, conversation_id, message_id, reason, created_at)
		VALUES ('where is order 1234?', $1, $2, 'no_answer', now())`, ada.ConversationID, ada.MessageID); err != nil {
		t.Fatal(err)
	}
	if err := db.SetMuted(ctx, 0, ada.ConversationID, true); err != nil { // an audit entry about the conversation
		t.Fatal(err)
	}
	var customer int64
	if err := db.Pool.QueryRow(ctx, `SELECT customer_id FROM conversations WHERE id = $1`, ada.ConversationID).Scan(&customer); err != nil {
		t.Fatal(err)
	}

	doc, err := db.ExportCustomer(ctx, customer)
	if err != nil {
		t.Fatal(err)
	}
	var export struct {
		Customer struct {
			ExternalID string `json:"external_id"`
		} `json:"customer"`
		Messages []struct {
			Body string `json:"body"`
		} `json:"messages"`
		TurnTraces    []json.RawMessage `json:"turn_traces"`
		KnowledgeGaps []json.RawMessage `json:"knowledge_gaps"`
		AuditLog      []json.RawMessage `json:"audit_log"`
	}
	if err := json.Unmarshal(doc, &export); err != nil {
		t.Fatalf("export is not JSON: %v", err)
	}
	if export.Customer.ExternalID != "ada" || len(export.Messages) != 3 || !strings.Contains(export.Messages[0].Body, "ada@example.com") ||
		len(export.TurnTraces) != 1 || len(export.KnowledgeGaps) != 1 || len(export.AuditLog) != 1 {
		t.Fatalf("export lacks ada's data: %s", doc)
	}
	if strings.Contains(string(doc), `"bob"`) {
		t.Fatalf("export holds another customer's data: %s", doc)
	}

	e, err := db.EraseCustomer(ctx, 0, customer)
	if err != nil {
		t.Fatal(err)
	}
	if e.Messages != 3 || e.Conversations != 1 || e.Episodes != 1 {
		t.Fatalf("erasure %+v, want 3 messages in 1 conversation and episode", e)
	}
	var left int
	if err := db.Pool.QueryRow(ctx, `SELECT
			(SELECT count(*) FROM customers WHERE external_id = 'ada') +
			(SELECT count(*) FROM conversations WHERE id = $1) +
			(SELECT count(*) FROM messages WHERE conversation_id = $1 OR body LIKE '%ada@example.com%') +
			(SELECT count(*) FROM turn_traces WHERE conversation_id = $1) +
			(SELECT count(*) FROM episodes WHERE conversation_id = $1) +
			(SELECT count(*) FROM kb_gaps WHERE conversation_id = $1) +
			(SELECT count(*) FROM outbox WHERE dispatched_at IS NULL AND (payload->>'conversation_id')::bigint = $1) +
			(SELECT count(*) FROM audit_log WHERE before::text LIKE '%ada%' OR after::text LIKE '%ada%')`,
		ada.ConversationID).Scan(&left); err != nil {
		t.Fatal(err)
	}
	if left != 0 {
		t.Fatalf("%d rows about the erased customer are left", left)
	}
	var erasures, messages int
	if err := db.Pool.QueryRow(ctx, `SELECT count(*), sum(messages) FROM erasures`).Scan(&erasures, &messages); err != nil || erasures != 1 || messages != 3 {
		t.Fatalf("anonymous counters: %d erasures of %d messages (%v), want 1 of 3", erasures, messages, err)
	}
	if n := countRows(t, db, `SELECT count(*) FROM messages WHERE conversation_id = $1`, bob.ConversationID); n != 2 {
		t.Fatalf("bob has %d messages after ada's erasure, want 2", n)
	}
	if n := countRows(t, db, `SELECT count(*) FROM audit_log WHERE action = 'erase' AND entity = 'customer'`); n != 1 {
		t.Fatal("the erasure is not audited")
	}
	if _, err := db.ExportCustomer(ctx, customer); !errors.Is(err, baton.ErrNotFound) {
		t.Fatalf("export after erase: %v, want not found", err)
	}
	if _, err := db.EraseCustomer(ctx, 0, customer); !errors.Is(err, baton.ErrNotFound) {
		t.Fatalf("second erase: %v, want not found", err)
	}
}

func countRows(t *testing.T, db *postgres.DB, q string, args ...any) int {
	t.Helper()
	var n int
	if err := db.Pool.QueryRow(t.Context(), q, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return n
}

func TestTracesAreMaskedAtRest(t *testing.T) {
	t.Parallel()
	raw, err := postgres.MaskTrace(map[string]any{
		"decide_ms": 1234567.5, "message_ids": []int64{4155550123, 2},
		"llm":     map[string]any{"error": "model said: write to ada@example.com or call +44 20 7946 0958"},
		"answers": []any{map[string]any{"query": "card 4242 4242 4242 4242 declined"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	s := string(raw)
	for _, leak := range []string{"ada@example.com", "7946 0958", "4242 4242 4242 4242"} {
		if strings.Contains(s, leak) {
			t.Errorf("stored trace holds %q: %s", leak, s)
		}
	}
	for _, kept := range []string{`"decide_ms":1234567.5`, `[4155550123,2]`, `a***@example.com`, `****4242`} {
		if !strings.Contains(s, kept) {
			t.Errorf("stored trace lost %q: %s", kept, s)
		}
	}
	clean, err := postgres.MaskTrace(map[string]any{"action": "answer", "confidence": 0.8})
	if err != nil || string(clean) != `{"action":"answer","confidence":0.8}` {
		t.Fatalf("a clean trace changed: %s %v", clean, err)
	}
}

func TestRetention(t *testing.T) {
	t.Parallel()
	db, clock := setup(t)
	ctx := t.Context()
	old, err := db.Ingest(ctx, inbound("ada", "old", "old question"), 0, 24*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	answer(t, db, old.ConversationID)
	if _, err := db.Pool.Exec(ctx, `WITH o AS (UPDATE outbox SET dispatched_at = $1)
		UPDATE messages SET delivery_state = 'delivered', delivery_next_at = NULL WHERE author = 'bot'`, clock.Now()); err != nil {
		t.Fatal(err)
	}
	unanswered, err := db.Ingest(ctx, inbound("bob", "waiting", "still waiting"), 0, 24*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	u, _, err := db.CreateUser(ctx, 0, baton.NewUser{Email: "admin@example.com", Role: baton.RoleAdmin})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, _, err := db.CreateSession(ctx, u.ID, time.Hour); err != nil {
		t.Fatal(err)
	}
	clock.Advance(48 * time.Hour)
	recent, err := db.Ingest(ctx, inbound("cy", "new", "new question"), 0, 24*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	answer(t, db, recent.ConversationID)

	r := postgres.Retention{Messages: 24 * time.Hour, Traces: 24 * time.Hour, Outbox: 24 * time.Hour, Sessions: time.Hour}
	deleted, ran, err := db.RetentionJob(ctx, r, time.Hour)
	if err != nil || !ran {
		t.Fatalf("retention job: ran %v, %v", ran, err)
	}
	if deleted["messages"] != 2 || deleted["traces"] != 1 || deleted["outbox"] < 1 || deleted["audit"] != 0 || deleted["sessions"] != 1 {
		t.Fatalf("deleted %v; want ada's question and answer, one trace, the relayed outbox rows, no audit, the expired session", deleted)
	}
	if n := countRows(t, db, `SELECT count(*) FROM messages WHERE id = $1`, unanswered.MessageID); n != 1 {
		t.Fatal("retention deleted an unanswered message")
	}
	if n := countRows(t, db, `SELECT count(*) FROM messages WHERE conversation_id = $1`, recent.ConversationID); n != 2 {
		t.Fatal("retention deleted recent messages")
	}
	// Once per period across all workers: a second worker in the same period does nothing.
	if _, ran, err := db.RetentionJob(ctx, r, time.Hour); err != nil || ran {
		t.Fatalf("second run within the period: ran %v, %v", ran, err)
	}
	clock.Advance(time.Hour)
	if _, ran, err := db.RetentionJob(ctx, r, time.Hour); err != nil || !ran {
		t.Fatalf("run in the next period: ran %v, %v", ran, err)
	}
}
