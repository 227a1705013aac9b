package postgres_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/batonhq/baton/internal/postgres"
)

var loopRule = postgres.LoopRule{Messages: 20, Window: time.Minute, Repeats: 5, RepeatWindow: 10 * time.Minute}

func TestLoopDetection(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		texts func(i int) string
		n     int
		gap   time.Duration
		loop  bool
	}{
		{"19 messages in a minute is a busy customer", func(i int) string { return fmt.Sprintf("message %d", i) }, 19, 3 * time.Second, false},
		{"20 messages in a minute is a bot", func(i int) string { return fmt.Sprintf("message %d", i) }, 20, 2 * time.Second, true},
		{"20 messages over two minutes is not", func(i int) string { return fmt.Sprintf("message %d", i) }, 20, 7 * time.Second, false},
		{"the same text 4 times is not", func(i int) string { return "Sorry, I did not get that." }, 4, 30 * time.Second, false},
		{"the same text 5 times is", func(i int) string { return []string{"Sorry, I did not get that.", " sorry, i did not get THAT. "}[i%2] }, 5, 30 * time.Second, true},
		{"the same text 5 times over an hour is not", func(i int) string { return "ok" }, 5, 15 * time.Minute, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			db, clock := setup(t)
			ctx := t.Context()
			var conv int64
			for i := range tt.n {
				if i > 0 {
					clock.Advance(tt.gap)
				}
				res, err := db.Ingest(ctx, inbound("other-bot", fmt.Sprintf("m%d", i), tt.texts(i)), 0, 24*time.Hour)
				if err != nil {
					t.Fatal(err)
				}
				conv = res.ConversationID
			}
			_, muted, looped, err := db.BotSwitchesLoop(ctx, conv, loopRule)
			if err != nil {
				t.Fatal(err)
			}
			if looped != tt.loop || muted != tt.loop {
				t.Fatalf("looped %v muted %v, want %v", looped, muted, tt.loop)
			}
			flags, err := db.ListLoops(ctx, 10)
			if err != nil {
				t.Fatal(err)
			}
			if (len(flags) == 1) != tt.loop {
				t.Fatalf("flags %+v, want flagged %v", flags, tt.loop)
			}
		})
	}
}

func TestLoopIsFlaggedOnceAndCountsAgainAfterUnmute(t *testing.T) {
	t.Parallel()
	db, clock := setup(t)
	ctx := t.Context()
	send := func(from, n int) int64 {
		t.Helper()
		var conv int64
		for i := from; i < from+n; i++ {
			clock.Advance(time.Second)
			res, err := db.Ingest(ctx, inbound("other-bot", fmt.Sprintf("m%d", i), "ping"), 0, 24*time.Hour)
			if err != nil {
				t.Fatal(err)
			}
			conv = res.ConversationID
		}
		return conv
	}
	conv := send(0, 5)
	if _, muted, looped, err := db.BotSwitchesLoop(ctx, conv, loopRule); err != nil || !looped || !muted {
		t.Fatalf("looped %v muted %v err %v, want a loop", looped, muted, err)
	}
	if _, muted, looped, err := db.BotSwitchesLoop(ctx, conv, loopRule); err != nil || looped || !muted {
		t.Fatalf("second check: looped %v muted %v err %v; want muted, not flagged again", looped, muted, err)
	}
	if err := db.SetMuted(ctx, 0, conv, false); err != nil {
		t.Fatal(err)
	}
	// Unmuted: the messages before the flag no longer count.
	if _, muted, looped, err := db.BotSwitchesLoop(ctx, conv, loopRule); err != nil || looped || muted {
		t.Fatalf("after unmute: looped %v muted %v err %v; want neither", looped, muted, err)
	}
	send(5, 4)
	if _, muted, _, err := db.BotSwitchesLoop(ctx, conv, loopRule); err != nil || muted {
		t.Fatalf("4 more after unmute: muted %v err %v; want not", muted, err)
	}
	send(9, 1)
	if _, _, looped, err := db.BotSwitchesLoop(ctx, conv, loopRule); err != nil || !looped {
		t.Fatalf("5 more after unmute: looped %v err %v; want a loop", looped, err)
	}
	if _, _, looped, err := db.BotSwitchesLoop(ctx, conv, postgres.LoopRule{Window: time.Minute, RepeatWindow: time.Minute}); err != nil || looped {
		t.Fatalf("rule off: looped %v err %v", looped, err)
	}
}
