package llm

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/sashabaranov/go-openai"
)

// Embedder turns texts into vectors of a fixed size. Embed returns one vector per text, in order;
// errors wrap ErrRateLimited, ErrUnavailable, ErrBadRequest or ErrMalformed (e.g. a vector of the
// wrong size), or the context's error.
type Embedder interface {
	Embed(ctx context.Context, texts []string) ([][]float32, error)
	// Model names the embedding space; vectors of different models must never be mixed.
	Model() string
	// Dim is the vector size; 0 until known when the server picks it.
	Dim() int
}

// Batch limits for the embeddings endpoint (OpenAI allows 2048 inputs and ~300k tokens per
// request; smaller batches keep each call well inside the per-call deadline).
const (
	maxBatchInputs = 256
	maxBatchTokens = 8000
)

// Embedder returns an Embedder backed by the server's embeddings endpoint.
func (c *Client) Embedder() Embedder { return remoteEmbedder{c: c} }

type remoteEmbedder struct{ c *Client }

func (e remoteEmbedder) Model() string { return e.c.cfg.EmbeddingModel }

func (e remoteEmbedder) Dim() int {
	if e.c.cfg.EmbeddingDim > 0 {
		return e.c.cfg.EmbeddingDim
	}
	return int(e.c.learnedDim.Load())
}

func (e remoteEmbedder) Embed(ctx context.Context, texts []string) ([][]float32, error) {
	out := make([][]float32, len(texts))
	for _, b := range batches(texts) {
		if err := e.embedBatch(ctx, texts[b.start:b.end], out[b.start:b.end]); err != nil {
			return nil, fmt.Errorf("embed texts %d-%d of %d: %w", b.start, b.end-1, len(texts), err)
		}
	}
	return out, nil
}

func (e remoteEmbedder) embedBatch(ctx context.Context, texts []string, out [][]float32) error {
	c := e.c
	// The API rejects empty strings; they carry no meaning, so they get a zero vector when the
	// size is known and are sent otherwise.
	var send []string
	var at []int
	for i, t := range texts {
		if strings.TrimSpace(t) == "" && e.Dim() > 0 {
			out[i] = make([]float32, e.Dim())
			continue
		}
		send = append(send, t)
		at = append(at, i)
	}
	if len(send) == 0 {
		return nil
	}

	start := time.Now()
	req := openai.EmbeddingRequestStrings{
		Input:      send,
		Model:      openai.EmbeddingModel(c.cfg.EmbeddingModel),
		Dimensions: c.cfg.EmbeddingDim,
	}
	var resp openai.EmbeddingResponse
	err := c.call(ctx, "create embeddings", func(ctx context.Context) error {
		var err error
		resp, err = c.api.CreateEmbeddings(ctx, req)
		if err != nil {
			return err
		}
		return e.check(resp, len(send))
	})
	if err != nil {
		return err
	}
	for _, d := range resp.Data {
		out[at[d.Index]] = d.Embedding
	}
	u := fromOpenAIUsage(resp.Usage)
	c.addUsage(u)
	c.log.DebugContext(ctx, "llm_embed", "model", c.cfg.EmbeddingModel, "inputs", len(send),
		"latency_ms", time.Since(start).Milliseconds(), "prompt_tokens", u.PromptTokens)
	return nil
}

// check verifies that resp has exactly one vector of the expected size per input.
func (e remoteEmbedder) check(resp openai.EmbeddingResponse, n int) error {
	if len(resp.Data) != n {
		return fmt.Errorf("got %d vectors for %d inputs: %w", len(resp.Data), n, ErrMalformed)
	}
	seen := make([]bool, n)
	for _, d := range resp.Data {
		if d.Index < 0 || d.Index >= n || seen[d.Index] {
			return fmt.Errorf("vector index %d invalid or repeated: %w", d.Index, ErrMalformed)
		}
		seen[d.Index] = true
		want := e.Dim()
		if want == 0 {
			// First reply from a server that picks the size: remember it.
			e.c.learnedDim.CompareAndSwap(0, int64(len(d.Embedding)))
			want = e.Dim()
		}
		if len(d.Embedding) != want || want == 0 {
			return fmt.Errorf("vector %d has %d dimensions, want %d: %w", d.Index, len(d.Embedding), want, ErrMalformed)
		}
	}
	return nil
}

type span struct{ start, end int }

// batches splits texts into runs of at most maxBatchInputs inputs and about maxBatchTokens
// tokens (estimated as chars/4); a single oversized text gets a batch of its own.
func batches(texts []string) []span {
	var out []span
	start, tokens := 0, 0
	for i, t := range texts {
		n := estimateTokens(t)
		if i > start && (i-start >= maxBatchInputs || tokens+n > maxBatchTokens) {
			out = append(out, span{start, i})
			start, tokens = i, 0
		}
		tokens += n
	}
	if start < len(texts) {
		out = append(out, span{start, len(texts)})
	}
	return out
}

func estimateTokens(s string) int {
	return (len([]rune(s)) + 3) / 4
}
