package knowledge_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/batonhq/baton/knowledge"
)

func sentencesOf(n int, topic string) string {
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, "Sentence %d explains one more detail about %s in plain words. ", i+1, topic)
	}
	return strings.TrimSpace(b.String())
}

func TestChunkBoundsAndHeadings(t *testing.T) {
	t.Parallel()
	long := sentencesOf(40, "refunds") // ~2,700 characters in one paragraph
	tests := []struct {
		name       string
		in         knowledge.ArticleInput
		opts       knowledge.ChunkOptions
		wantChunks int      // 0 = at least 2
		wantPaths  []string // heading paths (joined by " > ") of the chunks, in order; nil = don't check
		maxRunes   int      // every chunk's text at most this long; 0 = opts.Max
	}{
		{
			name:       "sections keep their heading path",
			in:         knowledge.ArticleInput{Title: "Returns", Body: "Intro text.\n\n## How to return\nPrint the label.\n\n### Abroad\nPay the postage.\n\n## Refunds\nFive days."},
			wantChunks: 4, wantPaths: []string{"", "How to return", "How to return > Abroad", "Refunds"},
		},
		{
			name:       "an H1 equal to the title is not a heading level",
			in:         knowledge.ArticleInput{Title: "Payment", Body: "# Payment\n\nWe take cards.\n\n## Klarna\nPay later."},
			wantChunks: 2, wantPaths: []string{"", "Klarna"},
		},
		{
			name: "a long section is split within the bound",
			in:   knowledge.ArticleInput{Title: "Long", Body: "## Refunds\n\n" + long},
			opts: knowledge.ChunkOptions{Max: 600, Overlap: 120},
		},
		{
			name:       "setext headings count",
			in:         knowledge.ArticleInput{Title: "T", Body: "Shipping\n========\n\nFast.\n\nCosts\n-----\n\nCheap."},
			wantChunks: 2, wantPaths: []string{"Shipping", "Shipping > Costs"},
		},
		{
			name:       "a heading inside a code fence is code",
			in:         knowledge.ArticleInput{Title: "Code", Body: "## Setup\n\n```sh\n# not a heading\nmake\n```\n\nDone."},
			wantChunks: 1, wantPaths: []string{"Setup"},
		},
		{
			name: "a FAQ answer stays one chunk however long",
			in: knowledge.ArticleInput{Title: "Can I get a refund?", Kind: knowledge.KindFAQ,
				Body: long + "\n\n---\n\nShort second answer."},
			opts:       knowledge.ChunkOptions{Max: 600},
			wantChunks: 2, maxRunes: 8000,
		},
		{
			name: "the same text as an article is split",
			in:   knowledge.ArticleInput{Title: "Can I get a refund?", Body: long},
			opts: knowledge.ChunkOptions{Max: 600},
		},
		{
			name: "a word longer than the bound is cut",
			in:   knowledge.ArticleInput{Title: "Blob", Body: strings.Repeat("x", 2500)},
			opts: knowledge.ChunkOptions{Max: 1000},
		},
		{
			name:       "a title-only article is one chunk",
			in:         knowledge.ArticleInput{Title: "Only a title"},
			wantChunks: 1,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			chunks := knowledge.ChunkArticle(tt.in, tt.opts)
			if tt.wantChunks > 0 && len(chunks) != tt.wantChunks {
				t.Fatalf("got %d chunks, want %d: %+v", len(chunks), tt.wantChunks, chunks)
			}
			if tt.wantChunks == 0 && len(chunks) < 2 {
				t.Fatalf("got %d chunks, want the text split", len(chunks))
			}
			limit := tt.maxRunes
			if limit == 0 {
				limit = tt.opts.Max
				if limit == 0 {
					limit = 1000
				}
			}
			for i, c := range chunks {
				if c.Position != i {
					t.Errorf("chunk %d has position %d", i, c.Position)
				}
				if n := utf8.RuneCountInString(c.Text); n > limit || n == 0 {
					t.Errorf("chunk %d has %d runes, want 1..%d", i, n, limit)
				}
				if !strings.Contains(c.Embed, tt.in.Title) || !strings.Contains(c.Embed, c.Text) {
					t.Errorf("chunk %d embeds %q, want the title and the text", i, c.Embed)
				}
				if len(c.Hash) != 32 {
					t.Errorf("chunk %d has a %d-byte hash", i, len(c.Hash))
				}
			}
			if tt.wantPaths != nil {
				var got []string
				for _, c := range chunks {
					got = append(got, strings.Join(c.HeadingPath, " > "))
				}
				if !slices.Equal(got, tt.wantPaths) {
					t.Errorf("heading paths %q, want %q", got, tt.wantPaths)
				}
			}
		})
	}
}

func TestChunkOverlapRepeatsTheEndOfThePreviousChunk(t *testing.T) {
	t.Parallel()
	in := knowledge.ArticleInput{Title: "Long", Body: sentencesOf(30, "delivery")}
	chunks := knowledge.ChunkArticle(in, knowledge.ChunkOptions{Max: 500, Overlap: 150})
	if len(chunks) < 3 {
		t.Fatalf("got %d chunks, want at least 3", len(chunks))
	}
	for i := 1; i < len(chunks); i++ {
		prev := chunks[i-1].Text
		// The next chunk starts with whole sentences that end the previous one.
		overlap := ""
		parts := strings.SplitAfter(chunks[i].Text, ". ")
		for j := 1; j <= len(parts); j++ {
			p := strings.TrimSpace(strings.Join(parts[:j], ""))
			if strings.HasSuffix(prev, p) {
				overlap = p
			}
		}
		if overlap == "" {
			t.Errorf("chunk %d does not start with the end of chunk %d", i, i-1)
		}
		if n := utf8.RuneCountInString(overlap); n > 150 {
			t.Errorf("overlap of chunk %d is %d runes, want at most 150", i, n)
		}
	}
	// Every sentence survives.
	all := strings.Join(func() []string {
		var out []string
		for _, c := range chunks {
			out = append(out, c.Text)
		}
		return out
	}(), " ")
	for i := 1; i <= 30; i++ {
		if !strings.Contains(all, fmt.Sprintf("Sentence %d explains", i)) {
			t.Errorf("sentence %d lost in chunking", i)
		}
	}
}

func TestChunkHashesFollowTheEmbeddedText(t *testing.T) {
	t.Parallel()
	a := knowledge.ArticleInput{Title: "T", Body: "## A\nOne.\n\n## B\nTwo.", Language: "en"}
	b := a
	b.Body = "## A\nOne.\n\n## B\nTwo, changed."
	ca, cb := knowledge.ChunkArticle(a, knowledge.ChunkOptions{}), knowledge.ChunkArticle(b, knowledge.ChunkOptions{})
	if string(ca[0].Hash) != string(cb[0].Hash) {
		t.Error("an unchanged section got a new hash")
	}
	if string(ca[1].Hash) == string(cb[1].Hash) {
		t.Error("a changed section kept its hash")
	}
	c := a
	c.Title = "Renamed"
	if string(knowledge.ChunkArticle(c, knowledge.ChunkOptions{})[0].Hash) == string(ca[0].Hash) {
		t.Error("a new title must change every chunk's hash: the title is embedded")
	}
}
