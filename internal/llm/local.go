package llm

import (
	"context"
	"fmt"
	txt "github.com/batonhq/baton/text"
	"hash/fnv"
	"math"
)

// Local embedder limits. 2000 is pgvector's HNSW limit for the vector type.
const (
	DefaultLocalDim = 384
	MaxLocalDim     = 2000
)

// Feature weights: whole words carry the meaning, bigrams keep some word order, character
// n-grams catch morphology and typos but are many, so each counts little.
const (
	weightWord     = 1.0
	weightQuestion = 0.5 // question words tell "when" from "where" but shouldn't dominate
	weightBigram   = 0.7
	weightCharGram = 0.2
)

// LocalEmbedder embeds text offline with hashed lexical features: no model files, no network,
// the same vector for the same text on every machine. It suits FAQ-style retrieval where
// paraphrases share content words. Safe for concurrent use.
type LocalEmbedder struct {
	dim int
}

// NewLocalEmbedder returns a LocalEmbedder of dim dimensions (1..MaxLocalDim).
func NewLocalEmbedder(dim int) (*LocalEmbedder, error) {
	if dim < 1 || dim > MaxLocalDim {
		return nil, fmt.Errorf("local embedder dimension %d outside 1..%d", dim, MaxLocalDim)
	}
	return &LocalEmbedder{dim: dim}, nil
}

// Model names the feature scheme and size; change the version when features change so stored
// vectors are rebuilt rather than mixed.
func (e *LocalEmbedder) Model() string { return fmt.Sprintf("local-hash-v1-%d", e.dim) }

// Dim returns the vector size.
func (e *LocalEmbedder) Dim() int { return e.dim }

// Embed returns one L2-normalised vector per text (all zeros for text without words). It fails
// only when ctx is done.
func (e *LocalEmbedder) Embed(ctx context.Context, texts []string) ([][]float32, error) {
	out := make([][]float32, len(texts))
	for i, t := range texts {
		if i%64 == 0 {
			if err := ctx.Err(); err != nil {
				return nil, fmt.Errorf("local embed: %w", err)
			}
		}
		out[i] = e.Vector(t)
	}
	return out, nil
}

// Vector embeds one text.
func (e *LocalEmbedder) Vector(text string) []float32 {
	type feature struct {
		weight float64
		tf     int
	}
	feats := make(map[string]*feature)
	add := func(key string, w float64) {
		if f, ok := feats[key]; ok {
			f.tf++
			return
		}
		feats[key] = &feature{weight: w, tf: 1}
	}

	var prev string
	for _, word := range txt.Words(text) {
		if txt.IsStopword(word) {
			prev = "" // don't bridge a bigram across a dropped word
			continue
		}
		stem := txt.Stem(word)
		w := weightWord
		if questionWords[word] {
			w = weightQuestion
		}
		add("w:"+stem, w)
		if prev != "" {
			add("b:"+prev+" "+stem, weightBigram)
		}
		prev = stem
		for _, g := range charGrams(word) {
			add("c:"+g, weightCharGram)
		}
	}

	vec := make([]float64, e.dim)
	for key, f := range feats {
		h := fnv.New64a()
		_, _ = h.Write([]byte(key))
		sum := h.Sum64()
		bucket := int(sum % uint64(e.dim))
		// The top bit is independent of the bucket, so collisions cancel out on average.
		sign := 1.0
		if sum>>63 == 1 {
			sign = -1
		}
		vec[bucket] += sign * f.weight * (1 + math.Log(float64(f.tf)))
	}

	var norm float64
	for _, x := range vec {
		norm += x * x
	}
	out := make([]float32, e.dim)
	if norm == 0 {
		return out
	}
	norm = math.Sqrt(norm)
	for i, x := range vec {
		out[i] = float32(x / norm)
	}
	return out
}

// charGrams returns the 3- to 5-rune grams of "<word>".
func charGrams(word string) []string {
	rs := []rune("<" + word + ">")
	var out []string
	for n := 3; n <= 5; n++ {
		for i := 0; i+n <= len(rs); i++ {
			out = append(out, string(rs[i:i+n]))
		}
	}
	return out
}

var questionWords = txt.SetOf("what", "when", "where", "which", "who", "why", "how")
