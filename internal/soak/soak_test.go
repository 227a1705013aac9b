package soak

import (
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/batonhq/baton/internal/config"
)

func TestCount(t *testing.T) {
	t.Parallel()
	t0 := time.Now()
	acked := []ack{
		{conversation: 1, message: 10, at: t0},
		{conversation: 1, message: 12, at: t0.Add(time.Second)}, // answered by 13
		{conversation: 2, message: 20, at: t0},                  // no reply after it: lost
		{conversation: 3, message: 30, at: t0},                  // handed off: not lost
	}
	got := map[int64][]delivery{
		1: {{messageID: 11, at: t0.Add(500 * time.Millisecond)}, {messageID: 14, at: t0.Add(3 * time.Second)}, {messageID: 13, at: t0.Add(4 * time.Second)}},
		2: {{messageID: 19, at: t0}},
	}
	var r Report
	r.count(acked, got, 2, map[int64]bool{30: true})
	want := Report{Messages: 4, Answered: 3, Lost: 1, DuplicateReplies: 2, OutOfOrder: 1, MaxLagMS: 2000}
	if r.Messages != want.Messages || r.Lost != want.Lost || r.Answered != want.Answered ||
		r.DuplicateReplies != want.DuplicateReplies || r.OutOfOrder != want.OutOfOrder || r.MaxLagMS != want.MaxLagMS {
		t.Fatalf("count = %+v, want %+v", r, want)
	}
	if r.OK() {
		t.Fatal("a report with a lost message is OK")
	}
}

// TestShortSoak is the one-minute soak of `make test`: the real binary as three processes,
// a private Redis, and every fault; nothing may be lost, doubled or out of order.
func TestShortSoak(t *testing.T) {
	t.Parallel()
	bin := filepath.Join(t.TempDir(), "baton")
	if out, err := exec.Command("go", "build", "-o", bin, "../../cmd/baton").CombinedOutput(); err != nil {
		t.Fatalf("build baton: %v\n%s", err, out)
	}
	rep, err := Run(t.Context(), Options{Binary: bin, Duration: 60 * time.Second, Drain: 25 * time.Second, Getenv: config.Getenv})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("soak: %+v", rep)
	if !rep.OK() || rep.Messages < 200 || len(rep.Faults) != 7 {
		t.Fatalf("soak report %+v: want ≥200 messages, all 7 faults, nothing lost, doubled or out of order", rep)
	}
}
