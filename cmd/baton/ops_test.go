package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/internal/dbtest"
	"github.com/batonhq/baton/internal/testkit"
)

// alwaysFails is a decider whose every turn fails.
type alwaysFails struct{}

func (alwaysFails) Decide(context.Context, baton.TurnState) (baton.TurnOutcome, error) {
	return baton.TurnOutcome{}, errors.New("the model is down")
}

func TestOpsFailedListsRetriesAndDiscards(t *testing.T) {
	t.Parallel()
	b := testkit.Start(t, testkit.Options{Decider: alwaysFails{}})
	_, body := b.Post(t, testkit.Message("cust-ops", "Oz", "ops-1", "hello"))
	conv := testkit.ID(body["conversation_id"])
	testkit.WaitFor(t, 20*time.Second, "the handoff reply", func() bool { return len(b.DeliveriesTo(conv)) == 1 })
	conn := []string{"--database-url", b.DBURL, "--redis-url", dbtest.RedisURL(), "--queue-prefix", b.Config.QueuePrefix}
	run := func(args ...string) (string, error) {
		var out, errOut bytes.Buffer
		// Flags before the ids: flag parsing stops at the first argument.
		full := append(append(append([]string{}, args[:2]...), conn...), args[2:]...)
		err := Main(t.Context(), full, &out, &errOut)
		return out.String(), err
	}

	out, err := run("ops", "failed", "--json")
	if err != nil {
		t.Fatalf("ops failed --json: %v", err)
	}
	var listed struct{ Failed []baton.DeadLetter }
	if err := json.Unmarshal([]byte(out), &listed); err != nil {
		t.Fatalf("ops failed --json printed %q: %v", out, err)
	}
	if len(listed.Failed) != 1 || listed.Failed[0].Kind != baton.DeadTurn || listed.Failed[0].ConversationID != conv || !listed.Failed[0].HandedOff {
		t.Fatalf("listed %+v; want the handed-off turn", listed.Failed)
	}
	id := listed.Failed[0].ID
	if out, err := run("ops", "failed"); err != nil || !strings.Contains(out, id) || !strings.Contains(out, "the model is down") {
		t.Errorf("ops failed: %q, %v; want a table with the id and the error", out, err)
	}

	tests := []struct {
		name     string
		args     []string
		wantErr  bool
		exitCode int
		out      string
	}{
		{name: "neither ids nor --all", args: []string{"ops", "retry"}, wantErr: true, exitCode: 2},
		{name: "a handed-off turn is not retried", args: []string{"ops", "retry", id}, wantErr: true, exitCode: 1, out: "not retried"},
		{name: "unknown id", args: []string{"ops", "discard", "turn:999999"}, wantErr: true, exitCode: 1, out: "not found"},
		{name: "bad limit", args: []string{"ops", "failed", "--limit", "0"}, wantErr: true, exitCode: 2},
		{name: "discard", args: []string{"ops", "discard", id}, out: "discard: " + id},
		{name: "nothing left", args: []string{"ops", "failed"}, out: "no dead letters"},
	}
	for _, tt := range tests {
		// In order: each step sees the previous one's effect.
		got, err := run(tt.args...)
		if (err != nil) != tt.wantErr || err != nil && exitCode(err) != tt.exitCode || !strings.Contains(got, tt.out) {
			t.Errorf("%s: %v printed %q, err %v; want err %v (exit %d) and %q", tt.name, tt.args, got, err, tt.wantErr, tt.exitCode, tt.out)
		}
	}
}
