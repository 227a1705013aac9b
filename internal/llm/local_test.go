package llm_test

import (
	"context"
	"errors"
	"math"
	"slices"
	"testing"

	"github.com/batonhq/baton/internal/llm"
)

func newLocal(t testing.TB, dim int) *llm.LocalEmbedder {
	t.Helper()
	e, err := llm.NewLocalEmbedder(dim)
	if err != nil {
		t.Fatalf("NewLocalEmbedder(%d): %v", dim, err)
	}
	return e
}

func cosine(a, b []float32) float64 {
	var dot, na, nb float64
	for i := range a {
		dot += float64(a[i]) * float64(b[i])
		na += float64(a[i]) * float64(a[i])
		nb += float64(b[i]) * float64(b[i])
	}
	if na == 0 || nb == 0 {
		return 0
	}
	return dot / math.Sqrt(na*nb)
}

func norm(v []float32) float64 {
	var s float64
	for _, x := range v {
		s += float64(x) * float64(x)
	}
	return math.Sqrt(s)
}

func TestLocalEmbedderDimensionBounds(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		dim     int
		wantErr bool
	}{
		{name: "zero", dim: 0, wantErr: true},
		{name: "negative", dim: -5, wantErr: true},
		{name: "above HNSW limit", dim: 2001, wantErr: true},
		{name: "one", dim: 1},
		{name: "default", dim: llm.DefaultLocalDim},
		{name: "HNSW limit", dim: 2000},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e, err := llm.NewLocalEmbedder(tt.dim)
			if tt.wantErr {
				if err == nil {
					t.Errorf("NewLocalEmbedder(%d) succeeded, want error", tt.dim)
				}
				return
			}
			if err != nil {
				t.Fatalf("NewLocalEmbedder(%d): %v", tt.dim, err)
			}
			vecs, err := e.Embed(t.Context(), []string{"where is my parcel"})
			if err != nil {
				t.Fatal(err)
			}
			if e.Dim() != tt.dim || len(vecs[0]) != tt.dim {
				t.Errorf("Dim=%d len=%d, want %d", e.Dim(), len(vecs[0]), tt.dim)
			}
		})
	}
}

func TestLocalEmbedderDeterministic(t *testing.T) {
	t.Parallel()
	in := []string{"How do I reset my password?", "Où est ma commande ?", "注文はどこですか"}
	a, err := newLocal(t, 384).Embed(t.Context(), in)
	if err != nil {
		t.Fatal(err)
	}
	b, err := newLocal(t, 384).Embed(t.Context(), in)
	if err != nil {
		t.Fatal(err)
	}
	for i := range in {
		if !slices.Equal(a[i], b[i]) {
			t.Errorf("text %d: two embedders disagree", i)
		}
	}
	if slices.Equal(a[0], a[1]) {
		t.Error("different texts got the same vector")
	}
	if got := newLocal(t, 384).Model(); got != "local-hash-v1-384" {
		t.Errorf("Model = %q", got)
	}
	if newLocal(t, 256).Model() == newLocal(t, 384).Model() {
		t.Error("model name must change with the dimension")
	}
}

func TestLocalEmbedderNorm(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		text     string
		wantNorm float64
	}{
		{name: "sentence", text: "Can I change my delivery address?", wantNorm: 1},
		{name: "single char", text: "x", wantNorm: 1},
		{name: "non-latin", text: "Где мой заказ?", wantNorm: 1},
		{name: "repeated words", text: "refund refund refund refund", wantNorm: 1},
		{name: "empty", text: "", wantNorm: 0},
		{name: "punctuation only", text: "?!... --", wantNorm: 0},
		{name: "stopwords only", text: "is it the", wantNorm: 0},
	}
	e := newLocal(t, llm.DefaultLocalDim)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			v := e.Vector(tt.text)
			for i, x := range v {
				if math.IsNaN(float64(x)) || math.IsInf(float64(x), 0) {
					t.Fatalf("component %d is %v", i, x)
				}
			}
			if got := norm(v); math.Abs(got-tt.wantNorm) > 1e-5 {
				t.Errorf("norm = %v, want %v", got, tt.wantNorm)
			}
		})
	}
}

func TestLocalEmbedderParaphraseCloser(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		query      string
		paraphrase string
		unrelated  string
	}{
		{
			name:       "password",
			query:      "How do I reset my password?",
			paraphrase: "I forgot my password, how can I reset it",
			unrelated:  "What are your opening hours on weekends?",
		},
		{
			name:       "refund inflections",
			query:      "Can I get a refund for my order?",
			paraphrase: "Do you refund orders?",
			unrelated:  "Do you ship to Canada?",
		},
		{
			name:       "shipping",
			query:      "How long does shipping take?",
			paraphrase: "When will my package be shipped",
			unrelated:  "How do I delete my account?",
		},
		{
			name:       "changing address",
			query:      "I need to change my delivery address",
			paraphrase: "changing the address for deliveries",
			unrelated:  "I need to talk to a person",
		},
		{
			name:       "opening hours",
			query:      "What are your opening hours?",
			paraphrase: "When are you open?",
			unrelated:  "Where is your store located?",
		},
		{
			name:       "case and punctuation",
			query:      "CANCEL SUBSCRIPTION!!!",
			paraphrase: "how do i cancel my subscription",
			unrelated:  "how do i pay my invoice",
		},
	}
	e := newLocal(t, llm.DefaultLocalDim)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			q, p, u := e.Vector(tt.query), e.Vector(tt.paraphrase), e.Vector(tt.unrelated)
			near, far := cosine(q, p), cosine(q, u)
			if near <= far {
				t.Errorf("cos(paraphrase)=%.3f <= cos(unrelated)=%.3f", near, far)
			}
			// Lexical features can't bridge synonyms, but shared content words must show.
			if near < 0.2 {
				t.Errorf("cos(paraphrase)=%.3f, want >= 0.2", near)
			}
		})
	}
}

func TestLocalEmbedderContext(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := newLocal(t, 8).Embed(ctx, []string{"a"}); !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v, want context.Canceled", err)
	}
}

func TestLocalEmbedderIsEmbedder(t *testing.T) {
	t.Parallel()
	var _ llm.Embedder = newLocal(t, 8)
}
