package postgres_test

import (
	"context"
	"testing"
	"time"

	"github.com/batonhq/baton"
)

// A silent message is stored answered, with no turn task; its retry stores nothing.
func TestIngestSilent(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db, _ := setup(t)
	res, err := db.IngestSilent(ctx, inbound("c", "m-1", "STOP"), time.Hour)
	if err != nil || res.Duplicate || res.MessageID == 0 {
		t.Fatalf("IngestSilent = %+v, %v", res, err)
	}
	again, err := db.IngestSilent(ctx, inbound("c", "m-1", "STOP"), time.Hour)
	if err != nil || !again.Duplicate || again.MessageID != res.MessageID {
		t.Fatalf("retry = %+v, %v; want the first, as a duplicate", again, err)
	}
	var processed, tasks, msgs int
	if err := db.Pool.QueryRow(ctx, `SELECT (SELECT count(*) FROM messages WHERE processed_at IS NOT NULL),
		(SELECT count(*) FROM outbox), (SELECT count(*) FROM messages)`).Scan(&processed, &tasks, &msgs); err != nil {
		t.Fatal(err)
	}
	if processed != 1 || tasks != 0 || msgs != 1 {
		t.Errorf("%d processed, %d outbox rows, %d messages; want 1, 0, 1", processed, tasks, msgs)
	}
}

// Statuses map back by Baton's id or the provider's, and only move the state forward.
func TestReceiptsAndStatuses(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db, _ := setup(t)
	_, reply := replyOnce(t, db, "cust", "m-1")
	if err := db.RecordDeliveries(ctx, []baton.DeliveryUpdate{{MessageID: reply, State: baton.DeliverySent, Attempt: 1}}); err != nil {
		t.Fatal(err)
	}
	if err := db.RecordReceipt(ctx, "webhook", reply, baton.Receipt{ProviderIDs: []string{"P1", "P2"}}); err != nil {
		t.Fatal(err)
	}
	if err := db.RecordReceipt(ctx, "webhook", reply, baton.Receipt{ProviderIDs: []string{"P1", "P2"}}); err != nil {
		t.Fatalf("recording a receipt twice: %v", err)
	}
	var ext string
	db.Pool.QueryRow(ctx, `SELECT external_id FROM messages WHERE id = $1`, reply).Scan(&ext) //nolint:errcheck
	if ext != "P1" {
		t.Errorf("external id %q; want the first provider id", ext)
	}
	steps := []struct {
		name  string
		up    baton.StatusUpdate
		found bool
		want  string
	}{
		{"second part delivered, by provider id", baton.StatusUpdate{ProviderID: "P2", State: baton.DeliveryDelivered}, true, "delivered"},
		{"a late sent does not move it back", baton.StatusUpdate{MessageID: reply, State: baton.DeliverySent}, true, "delivered"},
		{"read, by Baton's id", baton.StatusUpdate{MessageID: reply, State: baton.DeliveryRead}, true, "read"},
		{"unknown provider id", baton.StatusUpdate{ProviderID: "nope", State: baton.DeliveryFailed}, false, "read"},
		{"another channel's id", baton.StatusUpdate{ProviderID: "P1", State: baton.DeliveryFailed}, false, "read"},
	}
	for _, st := range steps {
		channel := "webhook"
		if st.name == "another channel's id" {
			channel = "twilio"
		}
		found, err := db.ApplyStatus(ctx, channel, st.up)
		if err != nil || found != st.found {
			t.Fatalf("%s: found %v, %v; want %v", st.name, found, err, st.found)
		}
		if s, _, _ := delivery(t, db, reply); s != st.want {
			t.Errorf("%s: state %s; want %s", st.name, s, st.want)
		}
	}
}

func TestOptOutAndBlock(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db, _ := setup(t)
	out := func(id string) bool {
		t.Helper()
		o, err := db.OptedOut(ctx, "twilio", id)
		if err != nil {
			t.Fatal(err)
		}
		return o
	}
	if out("+1") {
		t.Fatal("opted out before STOP")
	}
	for range 2 { // twice: idempotent
		if err := db.SetOptOut(ctx, "twilio", "+1", true); err != nil {
			t.Fatal(err)
		}
	}
	if !out("+1") || out("+2") {
		t.Error("STOP not recorded for +1 alone")
	}
	if err := db.SetOptOut(ctx, "twilio", "+1", false); err != nil || out("+1") {
		t.Errorf("START did not lift the opt-out: %v", err)
	}
	if err := db.Block(ctx, "twilio", []string{"+3"}); err != nil {
		t.Fatal(err)
	}
	if err := db.SetOptOut(ctx, "twilio", "+3", false); err != nil || !out("+3") {
		t.Errorf("START lifted a block: %v", err)
	}
	// The configured list replaces the blocked ones; opt-outs by STOP stay.
	if err := db.SetOptOut(ctx, "twilio", "+1", true); err != nil {
		t.Fatal(err)
	}
	if err := db.SetBlocked(ctx, []string{"twilio:+4", "whatsapp:49:1"}); err != nil {
		t.Fatal(err)
	}
	if out("+3") || !out("+4") || !out("+1") {
		t.Errorf("after SetBlocked: +3 %v, +4 %v, +1 %v; want false, true, true", out("+3"), out("+4"), out("+1"))
	}
	if o, _ := db.OptedOut(ctx, "whatsapp", "49:1"); !o {
		t.Error("an id with a colon was not blocked whole")
	}
}

func TestBackToBot(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db, _ := setup(t)
	res, err := db.Ingest(ctx, baton.Inbound{Channel: "chatwoot", Sender: baton.Sender{ID: "1:7"}, ExternalID: "101", Text: "hi"}, 0, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Pool.Exec(ctx, `UPDATE conversations SET status = 'queued' WHERE id = $1`, res.ConversationID); err != nil {
		t.Fatal(err)
	}
	if err := db.BackToBot(ctx, "chatwoot", "1:7"); err != nil {
		t.Fatal(err)
	}
	var status string
	db.Pool.QueryRow(ctx, `SELECT status FROM conversations WHERE id = $1`, res.ConversationID).Scan(&status) //nolint:errcheck
	if status != "bot" {
		t.Errorf("status %s; want bot", status)
	}
	if at, err := db.LastCustomerAt(ctx, res.ConversationID); err != nil || at.IsZero() {
		t.Errorf("LastCustomerAt = %v, %v", at, err)
	}
}

func TestPauseForHuman(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db, _ := setup(t)
	res, err := db.Ingest(ctx, baton.Inbound{Channel: "whatsapp", Sender: baton.Sender{ID: "491"}, ExternalID: "wamid.1", Text: "hi"}, 0, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.PauseForHuman(ctx, "whatsapp", "491"); err != nil {
		t.Fatal(err)
	}
	if err := db.PauseForHuman(ctx, "whatsapp", "unknown"); err != nil {
		t.Fatalf("an unknown identity: %v", err)
	}
	if _, muted, err := db.BotSwitches(ctx, res.ConversationID); err != nil || !muted {
		t.Errorf("muted %v, %v; want the bot muted after a human reply", muted, err)
	}
}
