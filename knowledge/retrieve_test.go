package knowledge_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pgvector/pgvector-go"

	"github.com/batonhq/baton/internal/fake"
	"github.com/batonhq/baton/internal/llm"
	"github.com/batonhq/baton/internal/postgres"
	"github.com/batonhq/baton/knowledge"
)

func heading(h knowledge.Hit) string { return strings.Join(h.HeadingPath, " > ") }

func TestHybridFindsParaphrases(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.seed(t)
	tests := []struct {
		name, query, title, heading string
		ftsMisses                   bool // full text alone finds nothing: only the vectors do
	}{
		{name: "one shared word", query: "I forgot my login", title: "Account and password reset", heading: "Resetting your password"},
		{name: "paraphrase", query: "can I swap these jeans for a bigger size", title: "Exchanging an item for another size or colour"},
		// Full text corrects a word no chunk has to a known one an edit away.
		{name: "typo", query: "paswords", title: "Account and password reset"},
		{name: "another typo", query: "refnd", title: "Returns and refunds"},
		{name: "an unknown word is not a typo", query: "xylophones", title: "", ftsMisses: true},
		{name: "inflection", query: "instalment payments", title: "Payment methods", heading: "Paying later"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := b.svc.Search(t.Context(), tt.query, knowledge.SearchOptions{Limit: 3})
			if err != nil {
				t.Fatal(err)
			}
			if tt.title == "" {
				fts, err := b.svc.Search(t.Context(), tt.query, knowledge.SearchOptions{Mode: knowledge.ModeFTS, Limit: 3})
				if err != nil || len(fts.Hits) != 0 {
					t.Errorf("full text found %d hits for %q (%v), want none", len(fts.Hits), tt.query, err)
				}
				return
			}
			if len(res.Hits) == 0 {
				t.Fatalf("no hits for %q", tt.query)
			}
			top := res.Hits[0]
			if top.Title != tt.title || (tt.heading != "" && heading(top) != tt.heading) {
				t.Fatalf("top hit for %q is %q > %q, want %q > %q", tt.query, top.Title, heading(top), tt.title, tt.heading)
			}
			if top.Rank != 1 || top.Fused <= 0 || top.Vector == nil {
				t.Errorf("top hit lacks its ranks: %+v", top)
			}
			fts, err := b.svc.Search(t.Context(), tt.query, knowledge.SearchOptions{Mode: knowledge.ModeFTS, Limit: 3})
			if err != nil {
				t.Fatal(err)
			}
			if tt.ftsMisses != (len(fts.Hits) == 0) {
				t.Errorf("full text alone returned %d hits; want none: %v", len(fts.Hits), tt.ftsMisses)
			}
		})
	}
}

func TestSearchReportsEachRetriever(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.seed(t)
	res, err := b.svc.Search(t.Context(), "express delivery costs", knowledge.SearchOptions{Limit: 5, Neighbours: 1})
	if err != nil {
		t.Fatal(err)
	}
	if res.Model != b.emb.Model() || len(res.Hits) != 5 {
		t.Fatalf("model %q, %d hits", res.Model, len(res.Hits))
	}
	top := res.Hits[0]
	if top.Title != "Shipping times and costs" || heading(top) != "Express delivery" {
		t.Fatalf("top hit %q > %q", top.Title, heading(top))
	}
	if top.Vector == nil || top.FTS == nil || top.Vector.Rank < 1 || top.FTS.Rank < 1 || top.Vector.Score <= 0 || top.FTS.Score <= 0 {
		t.Errorf("top hit should carry both retrievers' scores and ranks: vector %+v fts %+v", top.Vector, top.FTS)
	}
	want := 1/float64(knowledge.RRFK+top.Vector.Rank) + 1/float64(knowledge.RRFK+top.FTS.Rank)
	if d := top.Fused - want; d > 1e-9 || d < -1e-9 {
		t.Errorf("fused score %v, want the RRF sum %v", top.Fused, want)
	}
	for i := 1; i < len(res.Hits); i++ {
		if res.Hits[i].Fused > res.Hits[i-1].Fused || res.Hits[i].Rank != i+1 {
			t.Errorf("hit %d out of fused order", i)
		}
	}
	// Neighbouring chunks of the same article come along as context.
	var positions []int
	for _, c := range top.Context {
		if c.ArticleID != top.ArticleID {
			t.Errorf("context chunk from another article")
		}
		positions = append(positions, c.Position)
	}
	if fmt.Sprint(positions) != fmt.Sprint([]int{top.Position - 1, top.Position + 1}) {
		t.Errorf("context positions %v around %d", positions, top.Position)
	}
	if res.Confidence <= 0.45 {
		t.Errorf("confidence %.3f for a direct question", res.Confidence)
	}
	// Drafts are not searched unless asked for.
	if _, err := b.svc.Publish(t.Context(), 0, top.ArticleID, false); err != nil {
		t.Fatal(err)
	}
	res, err = b.svc.Search(t.Context(), "express delivery costs", knowledge.SearchOptions{Limit: 5})
	if err != nil {
		t.Fatal(err)
	}
	for _, h := range res.Hits {
		if h.ArticleID == top.ArticleID {
			t.Fatalf("a draft's chunk was retrieved: %+v", h)
		}
	}
	res, err = b.svc.Search(t.Context(), "express delivery costs", knowledge.SearchOptions{Limit: 5,
		Filter: knowledge.SearchFilter{Statuses: []string{knowledge.StatusDraft}}})
	if err != nil || len(res.Hits) == 0 || res.Hits[0].ArticleID != top.ArticleID {
		t.Fatalf("draft search: %+v, %v", res.Hits, err)
	}
}

// bulkKB loads n generated chunks (one per article) with vectors and a built HNSW index, and
// returns the model. Articles are tagged rare (every 200th), German (every 300th, offset) or
// neither.
func bulkKB(t testing.TB, b bundle, n int) knowledge.EmbeddingModel {
	t.Helper()
	ctx := t.Context()
	ms, err := b.svc.Status(ctx)
	if err != nil || len(ms) != 1 {
		t.Fatalf("models %v, %v", ms, err)
	}
	words := strings.Fields("order parcel refund label courier invoice warehouse delivery voucher colour size basket checkout account password address receipt discount return exchange")
	var arts []postgres.BulkArticle
	for i := range n {
		in := knowledge.ArticleInput{ExternalKey: fmt.Sprintf("bulk-%d", i), Kind: knowledge.KindArticle, Language: "en",
			Status: knowledge.StatusPublished, Tags: []string{"common"},
			Title: fmt.Sprintf("%s %s %d", words[i%len(words)], words[(i/len(words))%len(words)], i),
			Body:  fmt.Sprintf("The %s and the %s of case %d, %s.", words[(i*7)%len(words)], words[(i*3)%len(words)], i, words[(i*11)%len(words)])}
		if i%200 == 0 {
			in.Tags = []string{"rare"}
		}
		if i%300 == 150 {
			in.Language = "de"
		}
		arts = append(arts, postgres.BulkArticle{Input: in, Hash: []byte(in.ExternalKey), Chunks: knowledge.ChunkArticle(in, knowledge.ChunkOptions{})})
	}
	ids, err := b.db.BulkLoad(ctx, arts)
	if err != nil {
		t.Fatal(err)
	}
	if err := b.db.DropVectorIndex(ctx, ms[0].ID); err != nil {
		t.Fatal(err)
	}
	var vs []knowledge.Vector
	i := 0
	for _, a := range arts {
		for _, c := range a.Chunks {
			vs = append(vs, knowledge.Vector{ChunkID: ids[i], Hash: c.Hash, Values: b.emb.Vector(c.Embed)})
			i++
		}
	}
	if err := b.db.CopyVectors(ctx, ms[0].ID, vs); err != nil {
		t.Fatal(err)
	}
	if err := b.db.BuildVectorIndex(ctx, ms[0].ID, 64, 0); err != nil {
		t.Fatal(err)
	}
	return ms[0]
}

func TestFilteredVectorSearchScansOnUntilEnoughPass(t *testing.T) {
	t.Parallel()
	b := setup(t)
	m := bulkKB(t, b, 3000)
	ctx := t.Context()
	q := b.emb.Vector("refund of the parcel")

	// On this small table the planner would filter first and sort exactly; forbid that, as it
	// happens on large tables, so the HNSW index is scanned and the filter applies after it.
	pool, err := postgres.Open(ctx, b.url+"&enable_seqscan=off&enable_bitmapscan=off&enable_sort=off", nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	db := postgres.New(pool, b.clock)
	var plan string
	if err := pool.QueryRow(ctx, `EXPLAIN (FORMAT JSON) SELECT e.chunk_id FROM kb_emb_1 e JOIN kb_chunks c ON c.id = e.chunk_id
		JOIN kb_articles a ON a.id = c.article_id WHERE a.tags && '{rare}' ORDER BY e.embedding <=> $1 LIMIT 10`,
		pgvector.NewHalfVector(q)).Scan(&plan); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(plan, "kb_emb_1_hnsw") {
		t.Fatalf("the filtered vector query does not scan the HNSW index:\n%s", plan)
	}
	// A plain index scan returns ef_search candidates; a 0.5 % filter keeps about half of one.
	var plain int
	if err := pool.QueryRow(ctx, `WITH x AS MATERIALIZED (SELECT set_config('hnsw.iterative_scan', 'off', false))
		SELECT count(*) FROM (SELECT e.chunk_id FROM kb_emb_1 e JOIN kb_chunks c ON c.id = e.chunk_id
		JOIN kb_articles a ON a.id = c.article_id WHERE a.tags && '{rare}' AND (SELECT true FROM x)
		ORDER BY e.embedding <=> $1 LIMIT 10) s`, pgvector.NewHalfVector(q)).Scan(&plain); err != nil {
		t.Fatal(err)
	}
	if plain >= 10 {
		t.Fatalf("a plain HNSW scan found %d of 10 rare rows; the fixture does not show the problem", plain)
	}
	tests := []struct {
		name string
		f    knowledge.SearchFilter
		want int
	}{
		{"rare tag", knowledge.SearchFilter{Tags: []string{"rare"}}, 10},
		{"language", knowledge.SearchFilter{Language: "de"}, 10},
		{"tag and language", knowledge.SearchFilter{Tags: []string{"common"}, Language: "de"}, 10},
		{"no match", knowledge.SearchFilter{Tags: []string{"nothing"}}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := db.SearchVector(ctx, m.ID, q, tt.f, 10)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != tt.want {
				t.Fatalf("%d results, want %d", len(got), tt.want)
			}
			var ids []int64
			for _, c := range got {
				ids = append(ids, c.ChunkID)
			}
			cs, _, err := db.ChunksAround(ctx, ids, 0)
			if err != nil {
				t.Fatal(err)
			}
			for i, c := range got {
				ch := cs[c.ChunkID]
				if tt.f.Language != "" && ch.Language != tt.f.Language {
					t.Errorf("result %d in language %s", i, ch.Language)
				}
				if i > 0 && c.Score > got[i-1].Score+1e-9 {
					t.Errorf("result %d is nearer than result %d: not re-sorted", i, i-1)
				}
			}
		})
	}
}

func TestModelSwitchKeepsSearchingAndNeverMixes(t *testing.T) {
	t.Parallel()
	old := setup(t) // local-hash-v1-128, active
	old.seed(t)
	ctx := t.Context()
	chunks := old.count(t, `SELECT count(*) FROM kb_chunks`)

	// The same database, now configured with another model (a bigger local embedder); the
	// old one stays available to embed queries until the switch.
	next := newCountingEmbedder(t, 192)
	svc := knowledge.New(old.db, knowledge.Options{Embedder: next, Clock: old.clock,
		QueryEmbedder: func(model string, dim int) knowledge.Embedder {
			if model == old.emb.Model() {
				return old.emb
			}
			return nil
		}})
	m, err := svc.Start(ctx)
	if err != nil || m.Status != knowledge.ModelBuilding || m.Model != next.Model() {
		t.Fatalf("start with a new model: %+v, %v", m, err)
	}
	status, _ := svc.Status(ctx)
	if len(status) != 2 || status[0].Status != knowledge.ModelActive || status[1].Embedded != 0 || status[1].Chunks != chunks {
		t.Fatalf("status before the build: %+v", status)
	}

	// Search continuously while the new model is built in steps.
	var stop atomic.Bool
	var searches atomic.Int64
	var mu sync.Mutex
	seen := map[string]int{}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for !stop.Load() {
			res, err := svc.Search(context.Background(), "reset my password", knowledge.SearchOptions{Limit: 3})
			if err != nil {
				t.Errorf("search during the build: %v", err)
				return
			}
			if len(res.Hits) == 0 || res.Hits[0].Title != "Account and password reset" || res.Hits[0].Vector == nil {
				t.Errorf("search during the build lost its vector hit: %+v (model %q)", res.Hits, res.Model)
				return
			}
			mu.Lock()
			seen[res.Model]++
			mu.Unlock()
			searches.Add(1)
			old.clock.Advance(2 * time.Second) // let the active-model cache expire
		}
	}()
	// An edit during the build is embedded into both models.
	if _, err := svc.CreateArticle(ctx, 0, knowledge.ArticleInput{Title: "Store opening hours", Body: "Our shops open at nine.", Status: knowledge.StatusPublished}); err != nil {
		t.Fatal(err)
	}
	for searches.Load() < 5 {
		time.Sleep(5 * time.Millisecond)
	}
	done, err := svc.BuildModel(ctx, m.ID, 0)
	if err != nil || !done {
		t.Fatalf("build: %v, %v", done, err)
	}
	before := searches.Load()
	for searches.Load() < before+5 {
		time.Sleep(5 * time.Millisecond)
	}
	stop.Store(true)
	wg.Wait()
	mu.Lock()
	defer mu.Unlock()
	if len(seen) != 2 || seen[old.emb.Model()] == 0 || seen[next.Model()] == 0 {
		t.Errorf("searches by model: %v; want both, one after the other", seen)
	}
	status, _ = svc.Status(ctx)
	if status[0].Status != knowledge.ModelRetired || status[1].Status != knowledge.ModelActive || status[1].Embedded != chunks+1 {
		t.Errorf("status after the build: %+v", status)
	}
	if n := old.count(t, `SELECT count(*) FROM pg_class WHERE relname = 'kb_emb_1'`); n != 0 {
		t.Error("the retired model's vectors were kept")
	}
	// Building again is a no-op.
	if done, err := svc.BuildModel(ctx, m.ID, 0); err != nil || !done {
		t.Errorf("second build: %v, %v", done, err)
	}
}

func TestOpenAIEmbeddingsRetryRateLimits(t *testing.T) {
	t.Parallel()
	f := fake.NewOpenAI(t)
	client := llm.New(llm.Config{BaseURL: f.URL, APIKey: "sk-test", EmbeddingModel: "text-embedding-test", EmbeddingDim: 16, MaxRetries: 3},
		llm.WithSleep(func(ctx context.Context, d time.Duration) error { return ctx.Err() }))
	f.Enqueue(fake.PathEmbeddings, fake.Response{Status: 429, RetryAfter: "1", Error: "slow down"})
	b := setup(t, func(o *knowledge.Options) { o.Embedder = client.Embedder() })
	dir := writeFiles(t, map[string]string{"faq.csv": "question,answer\nHow long is delivery?,Two days.\nCan I return shoes?,Within 30 days.\n"})
	sum, err := b.svc.Import(t.Context(), 0, dir+"/faq.csv", knowledge.ImportOptions{}, nil)
	if err != nil || sum.Added != 2 || sum.Embedded != 2 {
		t.Fatalf("import: %+v, %v", sum, err)
	}
	reqs := f.RequestsTo(fake.PathEmbeddings)
	if len(reqs) != 2 || len(reqs[1].Inputs()) != 2 || reqs[1].Embed.Dimensions != 16 || string(reqs[1].Embed.Model) != "text-embedding-test" {
		t.Fatalf("embedding requests: %d; want the 429 then one batch of 2 with the model and dimensions", len(reqs))
	}
	var stored pgvector.HalfVector
	if err := b.db.Pool.QueryRow(t.Context(), `SELECT embedding FROM kb_emb_1 e JOIN kb_chunks c ON c.id = e.chunk_id
		WHERE c.text = 'Two days.'`).Scan(&stored); err != nil {
		t.Fatal(err)
	}
	want := fake.Vector(knowledge.EmbedText("How long is delivery?", nil, "Two days."), 16)
	for i, x := range stored.Slice() {
		if d := x - want[i]; d > 1e-3 || d < -1e-3 { // stored as 16-bit floats
			t.Fatalf("stored vector %v is not the server's vector for the chunk text %v", stored.Slice(), want)
		}
	}
	res, err := b.svc.Search(t.Context(), "How long is delivery?", knowledge.SearchOptions{Mode: knowledge.ModeVector})
	if err != nil || len(res.Hits) == 0 || res.Model != "text-embedding-test" {
		t.Fatalf("vector search with remote embeddings: %+v, %v", res, err)
	}
	if got := len(f.RequestsTo(fake.PathEmbeddings)); got != 3 {
		t.Errorf("%d embedding requests, want 3 (the query embedded once)", got)
	}
}
