package llm_test

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/sashabaranov/go-openai"

	"github.com/batonhq/baton/internal/fake"
	"github.com/batonhq/baton/internal/llm"
)

func texts(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("text number %d", i)
	}
	return out
}

func TestEmbedBatching(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("x", 20000) // ~5000 tokens: two don't fit one batch
	tests := []struct {
		name       string
		inputs     []string
		wantSizes  []int
		wantTokens bool
	}{
		{name: "small", inputs: texts(3), wantSizes: []int{3}},
		{name: "exactly 256", inputs: texts(256), wantSizes: []int{256}},
		{name: "over 256 inputs", inputs: texts(300), wantSizes: []int{256, 44}},
		{name: "token budget", inputs: []string{"a", long, long, "b"}, wantSizes: []int{2, 2}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t, llm.Config{EmbeddingModel: "emb-test", EmbeddingDim: 16})
			e := b.client.Embedder()
			vecs, err := e.Embed(t.Context(), tt.inputs)
			if err != nil {
				t.Fatalf("Embed: %v", err)
			}
			reqs := b.fake.RequestsTo(fake.PathEmbeddings)
			var sizes []int
			var sent []string
			for _, r := range reqs {
				sizes = append(sizes, len(r.Inputs()))
				sent = append(sent, r.Inputs()...)
				if r.Embed.Dimensions != 16 || string(r.Embed.Model) != "emb-test" {
					t.Errorf("request dimensions=%d model=%q, want 16 emb-test", r.Embed.Dimensions, r.Embed.Model)
				}
			}
			if !slices.Equal(sizes, tt.wantSizes) {
				t.Errorf("batch sizes = %v, want %v", sizes, tt.wantSizes)
			}
			if !slices.Equal(sent, tt.inputs) {
				t.Error("inputs were not sent once each, in order")
			}
			if len(vecs) != len(tt.inputs) {
				t.Fatalf("got %d vectors for %d inputs", len(vecs), len(tt.inputs))
			}
			for i, in := range tt.inputs {
				if !slices.Equal(vecs[i], fake.Vector(in, 16)) {
					t.Fatalf("vector %d is not the one for its text: order lost", i)
				}
			}
		})
	}
}

func TestEmbedOutOfOrderIndexes(t *testing.T) {
	t.Parallel()
	// Servers may list data in any order; Index says which input each vector belongs to.
	b := setup(t, llm.Config{EmbeddingDim: 2})
	b.fake.Enqueue(fake.PathEmbeddings, fake.Response{Body: `{"object":"list","model":"m","data":[
		{"object":"embedding","index":1,"embedding":[0,1]},
		{"object":"embedding","index":0,"embedding":[1,0]}],"usage":{"prompt_tokens":4,"total_tokens":4}}`})
	vecs, err := b.client.Embedder().Embed(t.Context(), []string{"first", "second"})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(vecs[0], []float32{1, 0}) || !slices.Equal(vecs[1], []float32{0, 1}) {
		t.Errorf("vectors = %v, want placed by index", vecs)
	}
	if got := b.client.Usage().PromptTokens; got != 4 {
		t.Errorf("prompt tokens = %d, want 4 counted from embeddings", got)
	}
}

func TestEmbedErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name         string
		dim          int
		responses    []fake.Response
		onEmbed      func(openai.EmbeddingRequest) fake.Response
		wantErr      error
		wantRequests int
	}{
		{
			name:         "wrong dimension",
			dim:          8,
			responses:    []fake.Response{{Embeddings: [][]float32{{1, 2, 3}, {1, 2, 3}}}},
			wantErr:      llm.ErrMalformed,
			wantRequests: 1,
		},
		{
			name:         "too few vectors",
			dim:          2,
			responses:    []fake.Response{{Embeddings: [][]float32{{1, 2}}}},
			wantErr:      llm.ErrMalformed,
			wantRequests: 1,
		},
		{
			name:         "server picks inconsistent sizes",
			dim:          0,
			responses:    []fake.Response{{Embeddings: [][]float32{{1, 2}, {1, 2, 3}}}},
			wantErr:      llm.ErrMalformed,
			wantRequests: 1,
		},
		{
			name:         "rate limited then fine",
			dim:          4,
			responses:    []fake.Response{{Status: 429, RetryAfter: "1"}},
			wantRequests: 2,
		},
		{
			name:         "bad request",
			dim:          4,
			responses:    []fake.Response{{Status: 400, Error: "model does not support dimensions"}},
			wantErr:      llm.ErrBadRequest,
			wantRequests: 1,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t, llm.Config{EmbeddingDim: tt.dim})
			b.fake.Enqueue(fake.PathEmbeddings, tt.responses...)
			vecs, err := b.client.Embedder().Embed(t.Context(), []string{"alpha", "beta"})
			if got := len(b.fake.Requests()); got != tt.wantRequests {
				t.Errorf("requests = %d, want %d", got, tt.wantRequests)
			}
			if tt.wantErr == nil {
				if err != nil || len(vecs) != 2 || len(vecs[0]) != tt.dim {
					t.Errorf("Embed = %d vectors, %v", len(vecs), err)
				}
				return
			}
			if !errors.Is(err, tt.wantErr) {
				t.Errorf("err = %v, want %v", err, tt.wantErr)
			}
		})
	}
}

func TestEmbedDimLearnedAndEmptyTexts(t *testing.T) {
	t.Parallel()
	b := setup(t, llm.Config{EmbeddingModel: "emb"})
	e := b.client.Embedder()
	if e.Model() != "emb" || e.Dim() != 0 {
		t.Fatalf("before any call: Model=%q Dim=%d, want emb 0", e.Model(), e.Dim())
	}
	if _, err := e.Embed(t.Context(), []string{"hello"}); err != nil {
		t.Fatal(err)
	}
	if e.Dim() != fake.DefaultEmbeddingDim {
		t.Fatalf("Dim = %d after first reply, want %d", e.Dim(), fake.DefaultEmbeddingDim)
	}

	// Empty texts are not sent (the API rejects them) and get zero vectors.
	vecs, err := e.Embed(t.Context(), []string{"", "world", "  "})
	if err != nil {
		t.Fatal(err)
	}
	last := b.fake.RequestsTo(fake.PathEmbeddings)[1]
	if got := last.Inputs(); !slices.Equal(got, []string{"world"}) {
		t.Errorf("sent %q, want only the non-empty text", got)
	}
	zero := make([]float32, fake.DefaultEmbeddingDim)
	if !slices.Equal(vecs[0], zero) || !slices.Equal(vecs[2], zero) {
		t.Errorf("empty texts got %v and %v, want zero vectors", vecs[0], vecs[2])
	}
	if !slices.Equal(vecs[1], fake.Vector("world", fake.DefaultEmbeddingDim)) {
		t.Error("vector for world misplaced")
	}
}
