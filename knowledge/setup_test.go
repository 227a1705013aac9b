package knowledge_test

import (
	"context"
	"encoding/json"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/internal/dbtest"
	"github.com/batonhq/baton/internal/llm"
	"github.com/batonhq/baton/internal/postgres"
	"github.com/batonhq/baton/knowledge"
)

// epoch is where every test's clock starts.
var epoch = time.Date(2026, 11, 25, 9, 0, 0, 0, time.UTC)

// countingEmbedder is the local embedder, counting the texts it embeds.
type countingEmbedder struct {
	*llm.LocalEmbedder
	mu    sync.Mutex
	texts []string
}

func (e *countingEmbedder) Embed(ctx context.Context, texts []string) ([][]float32, error) {
	e.mu.Lock()
	e.texts = append(e.texts, texts...)
	e.mu.Unlock()
	return e.LocalEmbedder.Embed(ctx, texts)
}

func (e *countingEmbedder) count() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return len(e.texts)
}

func (e *countingEmbedder) reset() {
	e.mu.Lock()
	e.texts = nil
	e.mu.Unlock()
}

func newCountingEmbedder(t testing.TB, dim int) *countingEmbedder {
	t.Helper()
	l, err := llm.NewLocalEmbedder(dim)
	if err != nil {
		t.Fatal(err)
	}
	return &countingEmbedder{LocalEmbedder: l}
}

// bundle is one test's knowledge base on its own database.
type bundle struct {
	svc   *knowledge.Service
	db    *postgres.DB
	url   string
	clock *baton.ManualClock
	emb   *countingEmbedder
}

// setup starts a knowledge base with the local embedder (128 dimensions: fast, and enough for
// the small fixtures) on a fresh database; opts adjust the service's options.
func setup(t testing.TB, opts ...func(*knowledge.Options)) bundle {
	t.Helper()
	clock := baton.NewManualClock(epoch)
	tdb := dbtest.New(t)
	db := postgres.New(tdb.Pool, clock)
	emb := newCountingEmbedder(t, 128)
	o := knowledge.Options{Embedder: emb, Clock: clock, Log: slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelWarn}))}
	for _, f := range opts {
		f(&o)
	}
	svc := knowledge.New(db, o)
	if _, err := svc.Start(t.Context()); err != nil {
		t.Fatalf("start knowledge base: %v", err)
	}
	return bundle{svc: svc, db: db, url: tdb.URL, clock: clock, emb: emb}
}

// seed imports the demo help centre.
func (b bundle) seed(t testing.TB) {
	t.Helper()
	sum, err := b.svc.Seed(t.Context())
	if err != nil || sum.Added != len(knowledge.DemoArticles()) {
		t.Fatalf("seed: %+v, %v", sum, err)
	}
}

// count runs a count query.
func (b bundle) count(t testing.TB, q string, args ...any) int {
	t.Helper()
	var n int
	if err := b.db.Pool.QueryRow(t.Context(), q, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return n
}

// writeFiles writes files (path → content) under a new temporary folder and returns it.
func writeFiles(t testing.TB, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, content := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// mustJSON encodes v.
func mustJSON(t testing.TB, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestDomainImportsNoAdapterLibraries keeps knowledge free of the database, queue and LLM
// libraries: adapters satisfy its interfaces instead.
func TestDomainImportsNoAdapterLibraries(t *testing.T) {
	t.Parallel()
	out, err := exec.CommandContext(t.Context(), "go", "list", "-deps", "github.com/batonhq/baton/knowledge").Output()
	if err != nil {
		t.Skipf("go list: %v", err)
	}
	for _, dep := range strings.Fields(string(out)) {
		for _, banned := range []string{"github.com/jackc/", "github.com/hibiken/asynq", "github.com/sashabaranov/go-openai", "github.com/batonhq/baton/internal/"} {
			if strings.HasPrefix(dep, banned) {
				t.Errorf("knowledge depends on %s", dep)
			}
		}
	}
}
