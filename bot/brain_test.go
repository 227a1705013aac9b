package bot

import (
	"io"
	"log/slog"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/intents"
	"github.com/batonhq/baton/prompts"
)

var demoModel = sync.OnceValues(func() (*intents.Model, error) { return intents.NewModel(intents.DefaultIntents(), intents.Options{}) })

// testBrain is a brain on the demo intents that fails on any template error.
func testBrain(t testing.TB) *Brain {
	t.Helper()
	m, err := demoModel()
	if err != nil {
		t.Fatal(err)
	}
	return &Brain{Intents: m, Prompts: prompts.Default(), Clock: baton.NewManualClock(policyNow),
		Log: slog.New(slog.NewTextHandler(io.Discard, nil)), Strict: true}
}

// switchable is a prompt source an admin's activation switches.
type switchable struct{ cur atomic.Pointer[prompts.Set] }

func (s *switchable) Current() *prompts.Set { return s.cur.Load() }

func TestAnActivatedPromptAppliesFromTheNextTurn(t *testing.T) {
	t.Parallel()
	b := testBrain(t)
	src := &switchable{}
	src.cur.Store(prompts.Default())
	b.Prompts = src
	d := Decision{Actions: []Action{{Kind: ActAcknowledge}}}
	before, err := b.compose(t.Context(), d, composeInput{intents: b.Intents})
	if err != nil {
		t.Fatal(err)
	}
	edited, err := prompts.Default().Override(prompts.Acknowledge, "Happy to help — anything else?")
	if err != nil {
		t.Fatal(err)
	}
	src.cur.Store(edited)
	after, err := b.compose(t.Context(), d, composeInput{intents: b.Intents})
	if err != nil {
		t.Fatal(err)
	}
	if before.Text == after.Text || after.Text != "Happy to help — anything else?" {
		t.Errorf("before %q, after %q; want the activated text", before.Text, after.Text)
	}
}
