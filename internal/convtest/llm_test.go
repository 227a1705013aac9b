package convtest_test

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/sashabaranov/go-openai"

	"github.com/batonhq/baton/internal/convtest"
	"github.com/batonhq/baton/internal/dbtest"
	"github.com/batonhq/baton/internal/fake"
	"github.com/batonhq/baton/internal/llm"
	"github.com/batonhq/baton/internal/sandbox"
)

var (
	scriptsDir = flag.String("scripts", "../../bot/testdata/conversations", "conversation scripts the LLM path plays")
	failRate   = flag.Float64("llm-fail", 0.2, "share of chat completions the fake OpenAI server fails in TestScriptsPassOnTheLLMPath")
)

// localVectors makes the fake's embeddings the offline embedder's, so retrieval finds what it
// finds offline and the scripts' expectations hold on the LLM path.
func localVectors(t testing.TB) func(openai.EmbeddingRequest) fake.Response {
	return func(req openai.EmbeddingRequest) fake.Response {
		e, err := llm.NewLocalEmbedder(req.Dimensions)
		if err != nil {
			t.Errorf("local embedder: %v", err)
			return fake.Response{Status: 500}
		}
		var in []string
		switch v := req.Input.(type) {
		case string:
			in = []string{v}
		case []any:
			for _, x := range v {
				s, _ := x.(string)
				in = append(in, s)
			}
		}
		var vecs [][]float32
		for _, s := range in {
			vecs = append(vecs, e.Vector(s))
		}
		return fake.Response{Embeddings: vecs}
	}
}

// llmTurn is one turn's trace of its model call.
type llmTurn struct {
	called       bool
	used         bool
	promptTokens int
	why          string
}

// TestScriptsPassOnTheLLMPath plays every shipped script with an LLM configured: the fake
// OpenAI server answers each turn call with the draft it was given, and fails a fifth of the
// calls (a 500 or a 429). The scripts pass, and every chat completion is either a turn's one
// call or the retry of a failed one: a turn whose first attempt succeeds makes exactly one.
func TestScriptsPassOnTheLLMPath(t *testing.T) {
	t.Parallel()
	scripts, err := convtest.Load(*scriptsDir)
	if err != nil || len(scripts) == 0 {
		t.Fatalf("load scripts from %s: %v", *scriptsDir, err)
	}
	if raceDetector || testing.Short() {
		// Every script under the race detector outlasts the package's test timeout on a
		// loaded machine: a sample keeps the path covered; run without -race for all.
		var sample []*convtest.Script
		for i, s := range scripts {
			if i%6 == 0 {
				sample = append(sample, s)
			}
		}
		scripts = sample
	}
	ai := fake.NewOpenAI(t)
	ai.OnChat(fake.Echo)
	ai.OnEmbed(localVectors(t))
	env := map[string]string{
		"BATON_DATABASE_URL": strings.Replace(dbtest.AdminURL(), "/postgres?", "/baton_not_touched?", 1),
		"BATON_REDIS_URL":    dbtest.RedisURL(), "BATON_LOG_LEVEL": "error",
		"BATON_LLM_BASE_URL": ai.URL, "BATON_LLM_API_KEY": "sk-test", "BATON_LLM_TIMEOUT": "5s",
	}
	sb, err := sandbox.New(t.Context(), sandbox.Options{Getenv: func(k string) string { return env[k] }, KeepLLM: true, Seed: true})
	if err != nil {
		t.Fatal(err)
	}
	defer sb.Close()
	seedEmbeds := len(ai.RequestsTo(fake.PathEmbeddings))
	if n := len(ai.RequestsTo(fake.PathChat)); n != 0 {
		t.Fatalf("seeding made %d chat requests", n)
	}
	ai.FailChats(*failRate, 20261130)
	var mu sync.Mutex
	var turns []llmTurn
	results := convtest.RunAll(t.Context(), scripts, 4, func(ctx context.Context, s *convtest.Script) (*sandbox.Baton, func(), error) {
		b, err := sb.Start(ctx, sandbox.StartOptions{Env: convtest.Env(s)})
		if err != nil {
			return nil, nil, err
		}
		return b, func() {
			got, err := llmTurns(ctx, b)
			if err != nil {
				t.Errorf("%s: read turn traces: %v", s.File, err)
			}
			mu.Lock()
			turns = append(turns, got...)
			mu.Unlock()
			b.Stop()
			b.Sink.Close()
		}, nil
	})
	for _, r := range results {
		if !r.Passed() {
			t.Error(r.String())
		}
	}
	chats, failed := len(ai.RequestsTo(fake.PathChat)), ai.Failed()
	var calls, used int
	var prompt []int
	for _, tr := range turns {
		switch {
		case tr.called:
			calls++
			prompt = append(prompt, tr.promptTokens)
		case tr.why != "no reply":
			t.Errorf("a turn with a reply did not call the model: %q", tr.why)
		}
		if tr.used {
			used++
		}
	}
	if calls == 0 {
		t.Fatal("no turn called the model")
	}
	// A turn that succeeds after k failures makes k+1 requests; one that fails every attempt
	// makes as many requests as failures and sends its draft.
	if chats != used+failed {
		t.Errorf("%d chat completions for %d turns written by the model and %d injected failures; want one each", chats, used, failed)
	}
	slices.Sort(prompt)
	t.Logf("%d scripts, %d turns called the model (%d used its reply); %d chat completions (%d failed: %.0f%%); %d embedding requests (%d while seeding); prompt tokens per turn: median %d, p99 %d, max %d",
		len(scripts), calls, used, chats, failed, 100*float64(failed)/float64(chats), len(ai.RequestsTo(fake.PathEmbeddings)), seedEmbeds,
		percentile(prompt, 0.5), percentile(prompt, 0.99), prompt[len(prompt)-1])
}

func percentile(sorted []int, p float64) int {
	if len(sorted) == 0 {
		return 0
	}
	i := int(float64(len(sorted))*p+0.5) - 1
	return sorted[max(0, min(i, len(sorted)-1))]
}

func llmTurns(ctx context.Context, b *sandbox.Baton) ([]llmTurn, error) {
	rows, err := b.DB.Pool.Query(ctx, `SELECT coalesce(data->'llm', 'null') FROM turn_traces ORDER BY id`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []llmTurn
	for rows.Next() {
		var raw []byte
		if err := rows.Scan(&raw); err != nil {
			return nil, err
		}
		var tr struct {
			Used         bool    `json:"used"`
			PromptTokens *int    `json:"prompt_tokens"`
			Reason       *string `json:"reason"`
		}
		if err := json.Unmarshal(raw, &tr); err != nil {
			return nil, fmt.Errorf("trace %s: %w", raw, err)
		}
		t := llmTurn{used: tr.Used, called: tr.PromptTokens != nil}
		if t.called {
			t.promptTokens = *tr.PromptTokens
		}
		if tr.Reason != nil {
			t.why = *tr.Reason
		}
		out = append(out, t)
	}
	return out, rows.Err()
}
