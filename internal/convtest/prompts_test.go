package convtest_test

import (
	"context"
	"strconv"
	"strings"
	"testing"

	"github.com/batonhq/baton/internal/app"
	"github.com/batonhq/baton/internal/convtest"
	"github.com/batonhq/baton/internal/dbtest"
	"github.com/batonhq/baton/internal/postgres"
	"github.com/batonhq/baton/internal/sandbox"
	"github.com/batonhq/baton/prompts"
)

func TestPromptPinsParse(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		args    []string
		want    string
		wantErr string
	}{
		{name: "two pins", args: []string{"greeting=3", "clarify=0"}, want: "clarify=0,greeting=3"},
		{name: "same pin twice", args: []string{"greeting=3", "greeting=3"}, want: "greeting=3"},
		{name: "no version", args: []string{"greeting"}, wantErr: "NAME=VERSION"},
		{name: "negative version", args: []string{"greeting=-1"}, wantErr: "number ≥ 0"},
		{name: "unknown template", args: []string{"nope=1"}, wantErr: "no template named nope"},
		{name: "two versions of one", args: []string{"greeting=1", "greeting=2"}, wantErr: "pinned twice"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p := convtest.PromptPins{}
			var err error
			for _, a := range tt.args {
				if err = p.Set(a); err != nil {
					break
				}
			}
			switch {
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Errorf("error %v; want %q", err, tt.wantErr)
			case tt.wantErr == "" && err != nil:
				t.Errorf("error %v", err)
			case tt.wantErr == "" && p.String() != tt.want:
				t.Errorf("pins %s; want %s", p, tt.want)
			}
		})
	}
}

// An admin's draft (saved, not active) is what the scripts play with when pinned, and the
// deployment's database is only read.
func TestPinnedDraftPlaysInTheScripts(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	deployment := dbtest.New(t)
	pool, err := postgres.Open(ctx, deployment.URL, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	db := postgres.New(pool, nil)
	v, err := db.SavePromptVersion(ctx, 0, prompts.Greeting, "Hello{{with .CustomerName}} {{.}}{{end}}, this is the draft greeting. How can I help?")
	if err != nil {
		t.Fatal(err)
	}
	pins := convtest.PromptPins{}
	if err := pins.Set("greeting=" + itoa(v.Version)); err != nil {
		t.Fatal(err)
	}
	bodies, err := pins.Bodies(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"BATON_DATABASE_URL": deployment.URL, "BATON_REDIS_URL": dbtest.RedisURL(), "BATON_LOG_LEVEL": "error"}
	sb, err := sandbox.New(ctx, sandbox.Options{Getenv: func(k string) string { return env[k] }, Seed: true,
		Prepare: func(ctx context.Context, a *app.App) error { return convtest.Activate(ctx, a.Prompts, bodies) }})
	if err != nil {
		t.Fatal(err)
	}
	defer sb.Close()
	s, err := convtest.Parse("pinned.yaml", []byte(`name: the pinned greeting is used
customer: {name: "Ana Lima"}
steps:
  - say: "hi"
    expect:
      action: greet
      reply_contains: ["draft greeting", "Ana"]
`))
	if err != nil {
		t.Fatal(err)
	}
	b, err := sb.Start(ctx, sandbox.StartOptions{Env: convtest.Env(s)})
	if err != nil {
		t.Fatal(err)
	}
	if res := convtest.Run(ctx, b, s); !res.Passed() {
		t.Error(res.String())
	}
	active, err := db.ActivePrompts(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(active) != 0 {
		t.Errorf("the deployment's active prompts changed: %+v", active)
	}
}

func itoa(n int) string { return strconv.Itoa(n) }
