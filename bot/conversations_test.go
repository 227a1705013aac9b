package bot_test

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/batonhq/baton/internal/convtest"
	"github.com/batonhq/baton/internal/testkit"
)

// TestConversationScripts plays every script of testdata/conversations end to end: the real
// brain with the demo intents and help centre, the real pipeline, one Baton per script.
func TestConversationScripts(t *testing.T) {
	t.Parallel()
	files, err := filepath.Glob("testdata/conversations/*.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no scripts in testdata/conversations: %v", err)
	}
	for _, f := range files {
		t.Run(strings.TrimSuffix(filepath.Base(f), ".yaml"), func(t *testing.T) {
			t.Parallel()
			s, err := convtest.ParseFile(f)
			if err != nil {
				t.Fatal(err)
			}
			b := testkit.Start(t, testkit.Options{RealBot: true, Seed: true, Env: convtest.Env(s)})
			if res := convtest.Run(context.Background(), b.Baton, s); !res.Passed() {
				t.Error(res.String())
			}
		})
	}
}
