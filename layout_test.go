package baton_test

import (
	"os/exec"
	"strings"
	"testing"
)

// TestDomainPackagesStayFreeOfAdapters keeps the layout honest: behaviour packages declare the
// interfaces they need; only internal/* adapters and cmd import the drivers.
func TestDomainPackagesStayFreeOfAdapters(t *testing.T) {
	t.Parallel()
	forbidden := []string{"github.com/jackc/pgx", "github.com/hibiken/asynq", "github.com/sashabaranov/go-openai",
		"github.com/redis/go-redis", "github.com/batonhq/baton/internal/"}
	for _, pkg := range []string{".", "./bot", "./intents/...", "./knowledge/...", "./prompts", "./text", "./pii", "./handoff/..."} {
		out, err := exec.Command("go", "list", "-deps", "-f", "{{.ImportPath}}", pkg).CombinedOutput()
		if err != nil {
			if strings.Contains(string(out), "matched no packages") || strings.Contains(string(out), "no such file or directory") {
				continue // a package that does not exist yet
			}
			t.Fatalf("go list %s: %v\n%s", pkg, err, out)
		}
		for _, dep := range strings.Fields(string(out)) {
			for _, f := range forbidden {
				if strings.HasPrefix(dep, f) {
					t.Errorf("%s depends on %s; domain packages must not import adapters", pkg, dep)
				}
			}
		}
	}
}

// TestBinaryLinksNoTestHelpers keeps the test kit out of the shipped binary: the sandbox that
// `baton test` and `baton eval` use is plain code; testkit, dbtest and fakes are for tests.
func TestBinaryLinksNoTestHelpers(t *testing.T) {
	t.Parallel()
	out, err := exec.Command("go", "list", "-deps", "-f", "{{.ImportPath}}", "./cmd/baton").CombinedOutput()
	if err != nil {
		t.Fatalf("go list ./cmd/baton: %v\n%s", err, out)
	}
	for _, dep := range strings.Fields(string(out)) {
		switch dep {
		case "testing", "github.com/batonhq/baton/internal/testkit", "github.com/batonhq/baton/internal/dbtest",
			"github.com/batonhq/baton/internal/fake", "github.com/batonhq/baton/internal/browsertest", "github.com/chromedp/chromedp":
			t.Errorf("the baton binary links %s", dep)
		}
	}
}
