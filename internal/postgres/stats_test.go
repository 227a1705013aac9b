package postgres_test

import (
	"context"
	"testing"
	"time"
)

// TestStatsOnASeededDay seeds two days by hand (every figure below is worked out in the
// comments) and checks each series.
func TestStatsOnASeededDay(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db, _ := setup(t)
	day1 := time.Date(2026, 11, 2, 0, 0, 0, 0, time.UTC)
	at := func(hhmmss string) time.Time {
		d, err := time.Parse("15:04:05", hhmmss)
		if err != nil {
			t.Fatal(err)
		}
		return day1.Add(time.Duration(d.Hour())*time.Hour + time.Duration(d.Minute())*time.Minute + time.Duration(d.Second())*time.Second)
	}
	next := func(hhmmss string) time.Time { return at(hhmmss).Add(24 * time.Hour) }
	exec := func(q string, args ...any) {
		t.Helper()
		if _, err := db.Pool.Exec(ctx, q, args...); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	exec(`INSERT INTO customers (id, channel, external_id, created_at, updated_at) SELECT i, 'webhook', 'c' || i, $1, $1 FROM generate_series(1, 4) i`, day1)
	exec(`INSERT INTO conversations (id, customer_id, channel, created_at, updated_at) SELECT i, i, 'webhook', $1, $1 FROM generate_series(1, 4) i`, day1)
	exec(`INSERT INTO users (id, email, role, created_at, updated_at) VALUES
		(901, 'ann@example.com', 'agent', $1, $1), (902, 'bob@example.com', 'agent', $1, $1)`, day1)
	// Episodes: A1 (conv 1), B1 and B2 (conv 2), C1 (conv 3), D1 (conv 4): 5 opened on day 1.
	// A1 resolved explicitly, no handoff: confirmed. B1 idled but B2 opened within 24 h: not
	// counted. C1 had a handoff: not the bot's. D1 idled: assumed.
	exec(`INSERT INTO episodes (conversation_id, number, opened_at, resolved_at, resolution, csat_score, csat_at) VALUES
		(1, 1, $1, $2, 'explicit', 3, $3), (2, 1, $4, $5, 'idle', NULL, NULL), (2, 2, $6, $7, 'explicit', 4, $8),
		(3, 1, $9, $10, 'explicit', 5, $11), (4, 1, $12, $13, 'idle', NULL, NULL)`,
		at("10:00:00"), at("10:30:00"), at("10:40:00"), at("11:00:00"), at("13:00:00"), at("20:00:00"), next("09:00:00"), next("09:10:00"),
		at("12:00:00"), at("15:00:00"), at("15:10:00"), at("09:00:00"), at("14:00:00"))
	// First bot replies: A1 +2 s, B1 +4 s, C1 +6 s, D1 +4 s (B2 none): average 4 s.
	msg := func(conv, ep int, author, vis string, when time.Time) {
		exec(`INSERT INTO messages (conversation_id, episode, channel, author, visibility, body, received_at, sort_at)
			VALUES ($1, $2, 'webhook', $3, $4, 'x', $5, $5)`, conv, ep, author, vis, when)
	}
	msg(1, 1, "customer", "public", at("10:00:00"))
	msg(1, 1, "bot", "public", at("10:00:02"))
	msg(2, 1, "customer", "public", at("11:00:00"))
	msg(2, 1, "bot", "public", at("11:00:04"))
	msg(3, 1, "customer", "public", at("12:00:00"))
	msg(3, 1, "bot", "public", at("12:00:06"))
	msg(4, 1, "customer", "public", at("09:00:00"))
	msg(4, 1, "bot", "public", at("09:00:04"))
	msg(2, 2, "customer", "public", at("20:00:00"))
	// Agent work: C1's reply 20 min after the bot's (capped: 300 s), a note a minute later (60 s);
	// B2's reply 30 min after the customer (300 s): 660 s on day 1.
	msg(3, 1, "agent", "public", at("12:20:06"))
	msg(3, 1, "agent", "internal", at("12:21:06"))
	msg(2, 2, "agent", "public", at("20:30:00"))
	// Handoffs: C1 (customer_request) and B2 (negative_sentiment): rate 2/5. First responses
	// 1200 s and 1800 s: 1500 s. Resolved: C1 on day 1 after 10794 s, B2 on day 2 after 46800 s.
	exec(`INSERT INTO handoffs (id, conversation_id, episode, reason, created_at, first_response_at, resolved_at) VALUES
		(1, 3, 1, 'customer_request', $1, $2, $3), (2, 2, 2, 'negative_sentiment', $4, $5, $6)`,
		at("12:00:06"), at("12:20:06"), at("15:00:00"), at("20:00:00"), at("20:30:00"), next("09:00:00"))
	// Queue wait: first assignment 600 s and 1200 s after the handoff: 900 s. Concurrency on
	// day 1: ann holds one at a time (peak 1), bob two at once (peak 2): 1.5. Day 2: ann's B2
	// ends, held since day 1: peak 1.
	exec(`INSERT INTO assignments (conversation_id, handoff_id, user_id, kind, created_at, ended_at) VALUES
		(3, 1, 901, 'assign', $1, $2), (2, 2, 901, 'assign', $3, $4),
		(1, NULL, 902, 'claim', $5, $6), (4, NULL, 902, 'claim', $7, $8)`,
		at("12:10:06"), at("15:00:00"), at("20:20:00"), next("09:00:00"),
		at("10:05:00"), at("10:20:00"), at("10:10:00"), at("10:25:00"))

	days, err := db.Stats(ctx, day1, day1.AddDate(0, 0, 3))
	if err != nil {
		t.Fatal(err)
	}
	if len(days) != 3 || days[0].Day != "2026-11-02" || days[2].Day != "2026-11-04" {
		t.Fatalf("days %+v; want 2026-11-02..04", days)
	}
	d1, d2, d3 := days[0], days[1], days[2]
	eq := func(name string, got *float64, want float64) {
		t.Helper()
		if got == nil || *got < want-0.001 || *got > want+0.001 {
			t.Errorf("%s = %v; want %g", name, deref64(got), want)
		}
	}
	if d1.Conversations != 5 || d1.BotResolvedConfirmed != 1 || d1.BotResolvedAssumed != 1 {
		t.Errorf("day 1: %d conversations, %d confirmed, %d assumed; want 5, 1, 1", d1.Conversations, d1.BotResolvedConfirmed, d1.BotResolvedAssumed)
	}
	if d1.Handoffs["customer_request"] != 1 || d1.Handoffs["negative_sentiment"] != 1 || len(d1.Handoffs) != 2 {
		t.Errorf("day 1 handoffs %v", d1.Handoffs)
	}
	eq("handoff_rate", d1.HandoffRate, 0.4)
	eq("first_response_bot_seconds", d1.FirstResponseBotSeconds, 4)
	eq("first_response_human_seconds", d1.FirstResponseHumanSeconds, 1500)
	eq("queue_wait_seconds", d1.QueueWaitSeconds, 900)
	if d1.AgentWorkSeconds != 660 {
		t.Errorf("agent_work_seconds = %g; want 660", d1.AgentWorkSeconds)
	}
	eq("resolution_elapsed_seconds", d1.ResolutionElapsedSeconds, 10794)
	eq("concurrent_per_agent", d1.ConcurrentPerAgent, 1.5)
	eq("csat_bot", d1.CSATBot, 3)
	eq("csat_human", d1.CSATHuman, 5)
	// Day 2: B2 resolved, scored 4 by a customer an agent helped; nothing opened.
	if d2.Conversations != 0 || d2.HandoffRate != nil || d2.CSATBot != nil || d2.FirstResponseBotSeconds != nil {
		t.Errorf("day 2 %+v; want nothing opened", d2)
	}
	eq("day 2 resolution_elapsed_seconds", d2.ResolutionElapsedSeconds, 46800)
	eq("day 2 csat_human", d2.CSATHuman, 4)
	eq("day 2 concurrent_per_agent", d2.ConcurrentPerAgent, 1)
	if d3.Conversations != 0 || d3.ConcurrentPerAgent != nil || d3.AgentWorkSeconds != 0 {
		t.Errorf("day 3 %+v; want empty", d3)
	}
}

func deref64(p *float64) any {
	if p == nil {
		return nil
	}
	return *p
}
