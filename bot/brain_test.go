package bot

import (
	"io"
	"log/slog"
	"sync"
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
