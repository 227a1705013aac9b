package postgres_test

import (
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/internal/dbtest"
	"github.com/batonhq/baton/internal/postgres"
	"github.com/batonhq/baton/prompts"
)

func TestPromptVersionsNumberConcurrentSaves(t *testing.T) {
	t.Parallel()
	db := postgres.New(dbtest.New(t).Pool, baton.NewManualClock(epochKB))
	ctx := t.Context()
	const n = 8
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for range n {
		wg.Go(func() {
			_, err := db.SavePromptVersion(ctx, 0, prompts.Greeting, "Hello {{.CustomerName}}")
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatalf("save: %v", err)
		}
	}
	list, err := db.PromptVersions(ctx, prompts.Greeting)
	if err != nil {
		t.Fatal(err)
	}
	var got []int
	for _, v := range list {
		got = append(got, v.Version)
		if v.Active {
			t.Errorf("version %d is active after a save; saves are never active", v.Version)
		}
	}
	if want := []int{8, 7, 6, 5, 4, 3, 2, 1}; !slices.Equal(got, want) {
		t.Errorf("versions = %v, want %v", got, want)
	}
	if audits, _ := db.AuditLog(ctx, "prompt", 100); len(audits) != n {
		t.Errorf("%d audit entries, want %d", len(audits), n)
	}
}

func TestPromptActivation(t *testing.T) {
	t.Parallel()
	db := postgres.New(dbtest.New(t).Pool, baton.NewManualClock(epochKB))
	ctx := t.Context()
	version := func() string {
		t.Helper()
		v, err := db.PromptsVersion(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	v0 := version()
	if err := db.ActivatePrompt(ctx, 0, prompts.Greeting, 0); err != nil {
		t.Fatalf("activate the default of a never-saved prompt: %v", err)
	}
	for _, tt := range []struct {
		name    string
		prompt  prompts.Name
		version int
	}{
		{"never saved", prompts.Greeting, 1},
		{"version not saved", prompts.AckHandoff, 2},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if tt.prompt == prompts.AckHandoff {
				if _, err := db.SavePromptVersion(ctx, 0, tt.prompt, "ok"); err != nil {
					t.Fatal(err)
				}
			}
			if err := db.ActivatePrompt(ctx, 0, tt.prompt, tt.version); !errors.Is(err, baton.ErrNotFound) {
				t.Errorf("activate %s version %d: %v, want ErrNotFound", tt.prompt, tt.version, err)
			}
		})
	}
	if got := version(); got != v0 {
		t.Errorf("prompts version moved from %s to %s without an activation", v0, got)
	}
	if err := db.ActivatePrompt(ctx, 0, prompts.AckHandoff, 1); err != nil {
		t.Fatal(err)
	}
	v1 := version()
	if v1 == v0 {
		t.Error("activation did not change the prompts version")
	}
	if err := db.ActivatePrompt(ctx, 0, prompts.AckHandoff, 1); err != nil || version() != v1 {
		t.Errorf("activating the active version again: err %v, version %s → %s; want no change", err, v1, version())
	}
	active, err := db.ActivePrompts(ctx)
	if err != nil || len(active) != 1 || active[0].Name != prompts.AckHandoff || active[0].Version != 1 || !active[0].Active {
		t.Errorf("active = %+v, %v; want ack_handoff version 1", active, err)
	}
	if err := db.ActivatePrompt(ctx, 0, prompts.AckHandoff, 0); err != nil {
		t.Fatal(err)
	}
	if active, _ := db.ActivePrompts(ctx); len(active) != 0 {
		t.Errorf("after activating the default, active = %+v", active)
	}
}

// TestLivePromptsReachAnotherProcess: two Live holders on one database stand for two processes;
// what one activates, the other renders after its next Refresh.
func TestLivePromptsReachAnotherProcess(t *testing.T) {
	t.Parallel()
	db := postgres.New(dbtest.New(t).Pool, baton.NewManualClock(epochKB))
	ctx := t.Context()
	api, err := prompts.NewLive(ctx, db, nil)
	if err != nil {
		t.Fatal(err)
	}
	worker, err := prompts.NewLive(ctx, db, nil)
	if err != nil {
		t.Fatal(err)
	}
	data := prompts.GreetingInput{CustomerName: "Ana"}
	render := func(l *prompts.Live) string {
		t.Helper()
		s, err := l.Current().Render(prompts.Greeting, data)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	def := render(worker)
	v, err := api.Save(ctx, 0, prompts.Greeting, "Ahoy {{.CustomerName}}!")
	if err != nil {
		t.Fatal(err)
	}
	if err := worker.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	if got := render(worker); got != def {
		t.Errorf("a saved, not activated version is live: %q", got)
	}
	if _, err := api.Activate(ctx, 0, prompts.Greeting, v.Version); err != nil {
		t.Fatal(err)
	}
	if got := render(api); got != "Ahoy Ana!" {
		t.Errorf("the activating process renders %q", got)
	}
	if got := render(worker); got != def {
		t.Errorf("before its refresh the other process renders %q, want the default", got)
	}
	if err := worker.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	if got := render(worker); got != "Ahoy Ana!" {
		t.Errorf("after its refresh the other process renders %q", got)
	}
	if _, err := api.Activate(ctx, 0, prompts.Greeting, 0); err != nil {
		t.Fatal(err)
	}
	if err := worker.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	if got := render(worker); got != def {
		t.Errorf("after going back to the default the other process renders %q", got)
	}
	if !strings.Contains(worker.Current().Version(prompts.Greeting), prompts.Default().Version(prompts.Greeting)) {
		t.Error("the default's content hash is not back")
	}
}
