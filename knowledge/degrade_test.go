package knowledge_test

import (
	"context"
	"testing"
	"time"

	"github.com/sashabaranov/go-openai"

	"github.com/batonhq/baton/internal/fake"
	"github.com/batonhq/baton/internal/llm"
	"github.com/batonhq/baton/knowledge"
)

// TestEmbeddingOutageDegradesToFullText: with remote embeddings active and the embeddings
// endpoint failing, hybrid search answers from full text alone instead of failing; vector
// search alone reports the error; and an answer is still given (extractively when the chat
// endpoint fails too).
func TestEmbeddingOutageDegradesToFullText(t *testing.T) {
	t.Parallel()
	f := fake.NewOpenAI(t)
	client := llm.New(llm.Config{BaseURL: f.URL, APIKey: "sk-test", ChatModel: "test-chat", EmbeddingModel: "text-embedding-test",
		EmbeddingDim: 16, MaxRetries: -1}, llm.WithSleep(func(ctx context.Context, d time.Duration) error { return ctx.Err() }))
	b := setup(t, func(o *knowledge.Options) { o.Embedder = client.Embedder(); o.Completer = llmCompleter{client} })
	b.seed(t) // embedded by the fake while it works
	const question = "How much does express delivery cost?"
	before, err := b.svc.Search(t.Context(), question, knowledge.SearchOptions{})
	if err != nil || before.Model != "text-embedding-test" || len(before.Hits) == 0 {
		t.Fatalf("search with embeddings up: model %q, %d hits, %v", before.Model, len(before.Hits), err)
	}

	f.OnEmbed(func(openai.EmbeddingRequest) fake.Response { return fake.Response{Status: 500} })
	f.OnChat(func(openai.ChatCompletionRequest) fake.Response { return fake.Response{Status: 500} })
	tests := []struct {
		name    string
		mode    string
		wantErr bool
	}{
		{name: "hybrid degrades to full text", mode: knowledge.ModeHybrid},
		{name: "default mode is hybrid", mode: ""},
		{name: "vector alone fails", mode: knowledge.ModeVector, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := b.svc.Search(t.Context(), question, knowledge.SearchOptions{Mode: tt.mode})
			if tt.wantErr {
				if err == nil {
					t.Fatalf("vector search with the embedder down: %d hits and no error", len(res.Hits))
				}
				return
			}
			if err != nil {
				t.Fatalf("search: %v", err)
			}
			if len(res.Hits) == 0 || res.Hits[0].Title != "Shipping times and costs" {
				t.Fatalf("%d hits; want full-text hits led by the shipping article", len(res.Hits))
			}
			if res.Model != "" || res.Trace["degraded"] != knowledge.ModeFTS || res.Hits[0].Vector != nil || res.Hits[0].FTS == nil {
				t.Errorf("model %q, trace %v; want a full-text-only result recorded as degraded", res.Model, res.Trace)
			}
		})
	}

	ans, err := b.svc.Answer(t.Context(), question, knowledge.AnswerOptions{})
	if err != nil {
		t.Fatalf("answer with embeddings and chat down: %v", err)
	}
	if ans.NoAnswer || ans.Text == "" || len(ans.Citations) == 0 || ans.Trace["engine"] != knowledge.EngineExtractive {
		t.Fatalf("answer %+v; want the extractive answer with a citation", ans)
	}
	if len(f.RequestsTo(fake.PathChat)) == 0 {
		t.Error("the model was not tried before falling back")
	}
}
