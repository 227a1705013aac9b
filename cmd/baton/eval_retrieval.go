package main

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	mrand "math/rand/v2"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"text/tabwriter"
	"time"
	"unicode"

	"github.com/jackc/pgx/v5"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/internal/llm"
	"github.com/batonhq/baton/internal/postgres"
	"github.com/batonhq/baton/knowledge"
)

// scratchDB is a database that exists for one command: created on the server of a URL,
// migrated, and dropped at the end (unless the user gave their own, empty database).
type scratchDB struct {
	DB    *postgres.DB
	drop  func()
	Owned bool
}

// openScratchDB creates and migrates a temporary database next to serverURL's database, or,
// with given set, migrates and uses that (empty) database as is.
func openScratchDB(ctx context.Context, serverURL, given string) (*scratchDB, error) {
	target := given
	var drop func()
	if given == "" {
		u, err := url.Parse(serverURL)
		if err != nil {
			return nil, fmt.Errorf("BATON_DATABASE_URL: %w", err)
		}
		b := make([]byte, 6)
		rand.Read(b)
		name := "baton_eval_" + hex.EncodeToString(b)
		admin := *u
		admin.Path = "/postgres"
		conn, err := pgx.Connect(ctx, admin.String())
		if err != nil {
			return nil, fmt.Errorf("connect to the server of BATON_DATABASE_URL to create a scratch database (or pass --database-url of an empty database): %w", err)
		}
		_, err = conn.Exec(ctx, `CREATE DATABASE `+name)
		conn.Close(ctx)
		if err != nil {
			return nil, fmt.Errorf("create scratch database: %w", err)
		}
		drop = func() {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			if conn, err := pgx.Connect(ctx, admin.String()); err == nil {
				conn.Exec(ctx, `DROP DATABASE IF EXISTS `+name+` WITH (FORCE)`) //nolint:errcheck
				conn.Close(ctx)
			}
		}
		tu := *u
		tu.Path = "/" + name
		target = tu.String()
	}
	fail := func(err error) (*scratchDB, error) {
		if drop != nil {
			drop()
		}
		return nil, err
	}
	conn, err := pgx.Connect(ctx, target)
	if err != nil {
		return fail(fmt.Errorf("connect to scratch database: %w", err))
	}
	if given != "" {
		var n int
		err := conn.QueryRow(ctx, `SELECT count(*) FROM information_schema.tables WHERE table_name = 'kb_articles'`).Scan(&n)
		if err == nil && n > 0 {
			var articles int
			if err := conn.QueryRow(ctx, `SELECT count(*) FROM kb_articles`).Scan(&articles); err == nil && articles > 0 {
				conn.Close(ctx)
				return fail(usageError{"--database-url must point at an empty database: it already has knowledge articles"})
			}
		}
	}
	_, err = postgres.Migrate(ctx, conn, nil)
	conn.Close(ctx)
	if err != nil {
		return fail(fmt.Errorf("migrate scratch database: %w", err))
	}
	pool, err := postgres.Open(ctx, target, nil)
	if err != nil {
		return fail(err)
	}
	return &scratchDB{DB: postgres.New(pool, baton.SystemClock{}), Owned: given == "", drop: func() {
		pool.Close()
		if drop != nil {
			drop()
		}
	}}, nil
}

func (s *scratchDB) Close() { s.drop() }

// givenDatabase returns the database URL when --database-url was given on the command line:
// tools that otherwise create a scratch database use that (empty) one instead.
func givenDatabase(fs *flag.FlagSet, url string) string {
	given := ""
	fs.Visit(func(f *flag.Flag) {
		if f.Name == "database-url" {
			given = url
		}
	})
	return given
}

// localEmbedder is the offline embedder at the configured dimension.
func localEmbedder(dim int) (*llm.LocalEmbedder, error) {
	e, err := llm.NewLocalEmbedder(dim)
	if err != nil {
		return nil, usageError{err.Error()}
	}
	return e, nil
}

type evalQuery struct {
	ID    string `json:"query_id"`
	Text  string `json:"text"`
	FAQID string `json:"faq_id"`
}

// RetrievalMetrics are FAQ-level ranking metrics of one retriever.
type RetrievalMetrics struct {
	RecallAt1  float64 `json:"recall_at_1"`
	RecallAt5  float64 `json:"recall_at_5"`
	RecallAt10 float64 `json:"recall_at_10"`
	MRRAt10    float64 `json:"mrr_at_10"`
}

// RetrievalReport is `baton eval retrieval --json`.
type RetrievalReport struct {
	FAQs    int              `json:"faqs"`
	Chunks  int              `json:"chunks"`
	Queries int              `json:"queries"`
	Model   string           `json:"model"`
	FTS     RetrievalMetrics `json:"fts"`
	Vector  RetrievalMetrics `json:"vector"`
	Hybrid  RetrievalMetrics `json:"hybrid"`
	P50MS   float64          `json:"p50_ms"`
	P99MS   float64          `json:"p99_ms"`
	// Confidence of the hybrid top hit when it is right and when it is wrong (means).
	ConfidenceRight float64 `json:"confidence_when_right"`
	ConfidenceWrong float64 `json:"confidence_when_wrong"`
	ImportSeconds   float64 `json:"import_seconds"`
}

const evalRetrievalHelp = `Usage: baton eval retrieval --faqs FILE --queries FILE [--json] [--database-url URL]

Imports the FAQs (JSONL: faq_id, question, answers) with the same import code as
"baton kb import" (faq_id is the external key) into a scratch database created on the
server of BATON_DATABASE_URL and dropped at the end (or into the empty database given with
--database-url), then runs every query (JSONL: query_id,
text, faq_id) through full text only, vectors only (local embeddings) and hybrid retrieval,
and reports Recall@1/5/10 and MRR@10 at FAQ level, and hybrid latency p50/p99.
`

// evalRetrieval is `baton eval retrieval --faqs FILE --queries FILE [--json]`.
func evalRetrieval(ctx context.Context, args []string, stdout io.Writer) error {
	var faqsPath, queriesPath string
	var asJSON bool
	var flags *flag.FlagSet
	cfg, _, err := loadConfig("eval retrieval", args, stdout, func(fs *flag.FlagSet) {
		flags = fs
		fs.StringVar(&faqsPath, "faqs", "", "FAQ file (JSONL: faq_id, question, answers)")
		fs.StringVar(&queriesPath, "queries", "", "query file (JSONL: query_id, text, faq_id)")
		fs.BoolVar(&asJSON, "json", false, "print a JSON report")
	})
	if err != nil {
		return err
	}
	dbURL := givenDatabase(flags, cfg.DatabaseURL)
	if faqsPath == "" || queriesPath == "" {
		fmt.Fprint(stdout, evalRetrievalHelp)
		return usageError{"baton eval retrieval: --faqs and --queries are required"}
	}
	faqData, err := os.ReadFile(faqsPath)
	if err != nil {
		return usageError{fmt.Sprintf("read --faqs: %v", err)}
	}
	items, err := knowledge.ParseContent(filepath.Base(faqsPath), knowledge.FormatJSONL, faqData)
	if err != nil {
		return usageError{fmt.Sprintf("--faqs: %v", err)}
	}
	queries, err := readQueries(queriesPath)
	if err != nil {
		return err
	}
	emb, err := localEmbedder(cfg.EmbeddingDim)
	if err != nil {
		return err
	}
	sdb, err := openScratchDB(ctx, cfg.DatabaseURL, dbURL)
	if err != nil {
		return err
	}
	defer sdb.Close()
	svc := knowledge.New(sdb.DB, knowledge.Options{Embedder: emb, Log: slog.New(slog.DiscardHandler)})
	if _, err := svc.Start(ctx); err != nil {
		return err
	}
	start := time.Now()
	sum, err := svc.ImportItems(ctx, 0, "eval import", items, knowledge.ImportOptions{}, nil)
	if err != nil {
		return err
	}
	if sum.Failed > 0 {
		return fmt.Errorf("%d FAQs failed to import; first: %s: %s", sum.Failed, sum.Failures[0].Item, sum.Failures[0].Reason)
	}
	rep := RetrievalReport{FAQs: sum.Total(), Queries: len(queries), Model: emb.Model(), ImportSeconds: retrRound(time.Since(start).Seconds())}
	models, err := svc.Status(ctx)
	if err == nil && len(models) > 0 {
		rep.Chunks = models[0].Chunks
	}
	var latencies []float64
	var confRight, confWrong []float64
	for _, mode := range []string{knowledge.ModeFTS, knowledge.ModeVector, knowledge.ModeHybrid} {
		var m RetrievalMetrics
		for _, q := range queries {
			t := time.Now()
			res, err := svc.Search(ctx, q.Text, knowledge.SearchOptions{Mode: mode, Limit: 40})
			if err != nil {
				return err
			}
			if mode == knowledge.ModeHybrid {
				latencies = append(latencies, float64(time.Since(t).Microseconds())/1000)
			}
			rank := faqRank(res.Hits, q.FAQID)
			if rank == 1 {
				m.RecallAt1++
			}
			if rank >= 1 && rank <= 5 {
				m.RecallAt5++
			}
			if rank >= 1 && rank <= 10 {
				m.RecallAt10++
				m.MRRAt10 += 1 / float64(rank)
			}
			if mode == knowledge.ModeHybrid {
				if rank == 1 {
					confRight = append(confRight, res.Confidence)
				} else {
					confWrong = append(confWrong, res.Confidence)
				}
			}
		}
		n := float64(len(queries))
		m = RetrievalMetrics{RecallAt1: retrRound(m.RecallAt1 / n), RecallAt5: retrRound(m.RecallAt5 / n),
			RecallAt10: retrRound(m.RecallAt10 / n), MRRAt10: retrRound(m.MRRAt10 / n)}
		switch mode {
		case knowledge.ModeFTS:
			rep.FTS = m
		case knowledge.ModeVector:
			rep.Vector = m
		default:
			rep.Hybrid = m
		}
	}
	rep.P50MS, rep.P99MS = retrRound(retrPercentile(latencies, 0.50)), retrRound(retrPercentile(latencies, 0.99))
	rep.ConfidenceRight, rep.ConfidenceWrong = retrRound(retrMean(confRight)), retrRound(retrMean(confWrong))
	if asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(rep)
	}
	fmt.Fprintf(stdout, "FAQ retrieval: %d FAQs (%d chunks), %d queries, embeddings %s\n\n", rep.FAQs, rep.Chunks, rep.Queries, rep.Model)
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "RETRIEVER\tRECALL@1\tRECALL@5\tRECALL@10\tMRR@10")
	for _, r := range []struct {
		name string
		m    RetrievalMetrics
	}{{"full text", rep.FTS}, {"vector", rep.Vector}, {"hybrid (RRF)", rep.Hybrid}} {
		fmt.Fprintf(tw, "%s\t%.3f\t%.3f\t%.3f\t%.3f\n", r.name, r.m.RecallAt1, r.m.RecallAt5, r.m.RecallAt10, r.m.MRRAt10)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "\nhybrid latency: p50 %.1f ms, p99 %.1f ms; import %.1f s\n", rep.P50MS, rep.P99MS, rep.ImportSeconds)
	fmt.Fprintf(stdout, "confidence of the top hit: %.3f when right, %.3f when wrong\n", rep.ConfidenceRight, rep.ConfidenceWrong)
	return nil
}

// faqRank is the 1-based rank of the gold FAQ among the distinct articles of hits, 0 if absent.
func faqRank(hits []knowledge.Hit, gold string) int {
	var seen []string
	for _, h := range hits {
		if slices.Contains(seen, h.ExternalKey) {
			continue
		}
		seen = append(seen, h.ExternalKey)
		if h.ExternalKey == gold {
			return len(seen)
		}
	}
	return 0
}

func readQueries(path string) ([]evalQuery, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, usageError{fmt.Sprintf("read --queries: %v", err)}
	}
	defer f.Close()
	var out []evalQuery
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 0, 1<<20), 16<<20)
	line := 0
	for sc.Scan() {
		line++
		if strings.TrimSpace(sc.Text()) == "" {
			continue
		}
		var q evalQuery
		if err := json.Unmarshal(sc.Bytes(), &q); err != nil || q.Text == "" || q.FAQID == "" {
			return nil, usageError{fmt.Sprintf("%s:%d: want a JSON object with text and faq_id", path, line)}
		}
		out = append(out, q)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	if len(out) == 0 {
		return nil, usageError{fmt.Sprintf("%s holds no queries", path)}
	}
	return out, nil
}

func retrPercentile(xs []float64, p float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	i := int(p*float64(len(s)-1) + 0.5)
	return s[min(i, len(s)-1)]
}

func retrMean(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	t := 0.0
	for _, x := range xs {
		t += x
	}
	return t / float64(len(xs))
}

func retrRound(x float64) float64 {
	if x < 0 {
		return -retrRound(-x)
	}
	return float64(int64(x*1000+0.5)) / 1000
}

// BenchReport is `baton bench retrieval --json`.
type BenchReport struct {
	Chunks         int     `json:"chunks"`
	Articles       int     `json:"articles"`
	Dim            int     `json:"dim"`
	Model          string  `json:"model"`
	Queries        int     `json:"queries"`
	LoadSeconds    float64 `json:"load_seconds"`
	EmbedSeconds   float64 `json:"embed_seconds"`
	BuildSeconds   float64 `json:"build_seconds"`
	P50MS          float64 `json:"p50_ms"`
	P99MS          float64 `json:"p99_ms"`
	VectorP50MS    float64 `json:"vector_p50_ms"`
	VectorP99MS    float64 `json:"vector_p99_ms"`
	FTSP50MS       float64 `json:"fts_p50_ms"`
	FTSP99MS       float64 `json:"fts_p99_ms"`
	RecallAt10     float64 `json:"recall_at_10"`
	HNSWM          int     `json:"hnsw_m"`
	EfConstruction int     `json:"hnsw_ef_construction"`
	EfSearch       int     `json:"hnsw_ef_search"`
	Candidates     int     `json:"candidates"`
}

const benchRetrievalHelp = `Usage: baton bench retrieval --chunks N [--queries Q] [--json] [--database-url URL]

Generates N chunks of text (Zipf-distributed words: a real help-centre vocabulary for the
frequent words, generated words for the long tail; each article about one of N/200 topics
whose words make up most of its text, so no two chunks are alike), loads them
into a scratch database on the server of BATON_DATABASE_URL (or the empty database given
with --database-url), embeds them with the local embedder at BATON_EMBEDDING_DIM, builds the
HNSW index after loading, then measures hybrid, vector and full-text latency over Q queries
(word runs of random chunks with one word replaced by another of the topic) and HNSW recall@10 against an exact scan.
`

// benchRetrieval is ` + "`baton bench retrieval --chunks N [--json]`" + `.
func benchRetrieval(ctx context.Context, args []string, stdout io.Writer) error {
	var n, nq int
	var asJSON bool
	var flags *flag.FlagSet
	cfg, _, err := loadConfig("bench retrieval", args, stdout, func(fs *flag.FlagSet) {
		flags = fs
		fs.IntVar(&n, "chunks", 0, "number of chunks to generate (e.g. 100000)")
		fs.IntVar(&nq, "queries", 500, "number of measured queries")
		fs.BoolVar(&asJSON, "json", false, "print a JSON report")
	})
	if err != nil {
		return err
	}
	if n < 100 || n > 2_000_000 || nq < 10 {
		fmt.Fprint(stdout, benchRetrievalHelp)
		return usageError{"baton bench retrieval: --chunks must be 100..2000000 and --queries at least 10"}
	}
	emb, err := localEmbedder(cfg.EmbeddingDim)
	if err != nil {
		return err
	}
	progress := func(format string, args ...any) {
		if !asJSON {
			fmt.Fprintf(stdout, format+"\n", args...)
		}
	}
	sdb, err := openScratchDB(ctx, cfg.DatabaseURL, givenDatabase(flags, cfg.DatabaseURL))
	if err != nil {
		return err
	}
	defer sdb.Close()
	db := sdb.DB
	svc := knowledge.New(db, knowledge.Options{Embedder: emb, Log: slog.New(slog.DiscardHandler)})
	model, err := svc.Start(ctx)
	if err != nil {
		return err
	}
	rep := BenchReport{Chunks: n, Dim: emb.Dim(), Model: emb.Model(), Queries: nq, HNSWM: postgres.HNSWM,
		EfConstruction: postgres.HNSWEfConstruction, EfSearch: postgres.HNSWEfSearch, Candidates: 40}

	// 1. Generate and load the text.
	const perArticle = 8
	gen := newTextGen(1, max(20, n/perArticle/25)) // about 25 articles per topic
	var arts []postgres.BulkArticle
	var texts []string
	var hashes [][]byte
	var topicOf []int
	for made := 0; made < n; {
		k := min(perArticle, n-made)
		topic := len(arts) % len(gen.topics)
		in := knowledge.ArticleInput{ExternalKey: fmt.Sprintf("bench-%d", len(arts)), Kind: knowledge.KindArticle,
			Title: gen.title(topic), Language: "en", Status: knowledge.StatusPublished, Tags: []string{fmt.Sprintf("t%d", len(arts)%10)}}
		var body []string
		for range k {
			body = append(body, "## "+gen.title(topic)+"\n\n"+gen.paragraph(topic))
		}
		in.Body = strings.Join(body, "\n\n")
		chunks := knowledge.ChunkArticle(in, knowledge.ChunkOptions{Max: 4000})
		arts = append(arts, postgres.BulkArticle{Input: in, Hash: []byte(in.ExternalKey), Chunks: chunks})
		for _, c := range chunks {
			texts, hashes, topicOf = append(texts, c.Embed), append(hashes, c.Hash), append(topicOf, topic)
		}
		made += len(chunks)
	}
	rep.Articles = len(arts)
	progress("loading %d chunks in %d articles…", len(texts), len(arts))
	t := time.Now()
	ids, err := db.BulkLoad(ctx, arts)
	if err != nil {
		return err
	}
	rep.LoadSeconds = retrRound(time.Since(t).Seconds())
	rep.Chunks = len(ids)

	// 2. Embed (both cores) and copy the vectors, without the index.
	progress("embedding with %s…", emb.Model())
	t = time.Now()
	vecs := make([][]float32, len(texts))
	var wg sync.WaitGroup
	workers := max(1, runtime.GOMAXPROCS(0))
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < len(texts); i += workers {
				vecs[i] = emb.Vector(texts[i])
			}
		}()
	}
	wg.Wait()
	if err := db.DropVectorIndex(ctx, model.ID); err != nil {
		return err
	}
	for start := 0; start < len(ids); start += 10000 {
		end := min(start+10000, len(ids))
		vs := make([]knowledge.Vector, 0, end-start)
		for i := start; i < end; i++ {
			vs = append(vs, knowledge.Vector{ChunkID: ids[i], Hash: hashes[i], Values: vecs[i]})
		}
		if err := db.CopyVectors(ctx, model.ID, vs); err != nil {
			return err
		}
	}
	rep.EmbedSeconds = retrRound(time.Since(t).Seconds())

	// 3. Build the HNSW index once, with room for the graph in memory.
	progress("building the HNSW index (m=%d, ef_construction=%d)…", postgres.HNSWM, postgres.HNSWEfConstruction)
	t = time.Now()
	memMB := max(256, len(ids)*(emb.Dim()*4+postgres.HNSWM*2*8+64)/(1<<20)*2)
	if err := db.BuildVectorIndex(ctx, model.ID, memMB, 2); err != nil {
		return err
	}
	rep.BuildSeconds = retrRound(time.Since(t).Seconds())

	// 4. Queries: runs of words from random chunks, one word replaced.
	rng := mrand.New(mrand.NewPCG(7, 11))
	queries := make([]string, nq)
	for i := range queries {
		c := rng.IntN(len(texts))
		queries[i] = gen.query(rng, texts[c], topicOf[c])
	}
	measure := func(mode string) ([]float64, error) {
		var lat []float64
		for i, q := range queries {
			t := time.Now()
			if _, err := svc.Search(ctx, q, knowledge.SearchOptions{Mode: mode, Limit: 5}); err != nil {
				return nil, err
			}
			if i >= 0 {
				lat = append(lat, float64(time.Since(t).Microseconds())/1000)
			}
		}
		return lat, nil
	}
	progress("measuring %d queries…", nq)
	for _, q := range queries[:min(50, nq)] { // warm the caches
		if _, err := svc.Search(ctx, q, knowledge.SearchOptions{Limit: 5}); err != nil {
			return err
		}
	}
	hy, err := measure(knowledge.ModeHybrid)
	if err != nil {
		return err
	}
	vl, err := measure(knowledge.ModeVector)
	if err != nil {
		return err
	}
	fl, err := measure(knowledge.ModeFTS)
	if err != nil {
		return err
	}
	rep.P50MS, rep.P99MS = retrRound(retrPercentile(hy, 0.5)), retrRound(retrPercentile(hy, 0.99))
	rep.VectorP50MS, rep.VectorP99MS = retrRound(retrPercentile(vl, 0.5)), retrRound(retrPercentile(vl, 0.99))
	rep.FTSP50MS, rep.FTSP99MS = retrRound(retrPercentile(fl, 0.5)), retrRound(retrPercentile(fl, 0.99))

	// 5. Recall@10 of the index (through the production query, with its filter and iterative
	// scan) against an exact scan; a hit counts when its distance is within the 10th exact one,
	// so ties at the boundary are not held against the index.
	nr := min(nq, 100)
	qvs := make([][]float32, nr)
	got := make([][]knowledge.Candidate, nr)
	for i, q := range queries[:nr] {
		qvs[i] = emb.Vector(q)
		if got[i], err = db.SearchVector(ctx, model.ID, qvs[i], knowledge.SearchFilter{}, 10); err != nil {
			return err
		}
	}
	hits := 0
	for i := range nr { // after the index queries: full scans would evict the index from memory
		exact, err := db.ExactNearest(ctx, model.ID, qvs[i], 10)
		if err != nil {
			return err
		}
		if len(exact) == 0 {
			continue
		}
		bound := exact[len(exact)-1] + 1e-6
		for _, c := range got[i] {
			if 1-c.Score <= bound {
				hits++
			}
		}
	}
	rep.RecallAt10 = retrRound(float64(hits) / float64(nr*10))

	if asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(rep)
	}
	fmt.Fprintf(stdout, "\nretrieval over %d chunks (%d articles), %s\n", rep.Chunks, rep.Articles, rep.Model)
	fmt.Fprintf(stdout, "  load %.1f s, embed %.1f s, HNSW build %.1f s (m=%d, ef_construction=%d)\n",
		rep.LoadSeconds, rep.EmbedSeconds, rep.BuildSeconds, rep.HNSWM, rep.EfConstruction)
	fmt.Fprintf(stdout, "  hybrid  p50 %6.1f ms  p99 %6.1f ms\n", rep.P50MS, rep.P99MS)
	fmt.Fprintf(stdout, "  vector  p50 %6.1f ms  p99 %6.1f ms  (ef_search %d, %d candidates)\n", rep.VectorP50MS, rep.VectorP99MS, rep.EfSearch, rep.Candidates)
	fmt.Fprintf(stdout, "  fts     p50 %6.1f ms  p99 %6.1f ms\n", rep.FTSP50MS, rep.FTSP99MS)
	fmt.Fprintf(stdout, "  HNSW recall@10 %.3f over %d queries\n", rep.RecallAt10, nr)
	return nil
}

// textGen writes text that looks like a help centre's: word frequencies follow Zipf's law
// (a real help-centre vocabulary for the frequent words, generated words for the long tail),
// and each article is about one topic, whose own words make up most of its text, so chunks of
// one topic resemble each other and differ from the rest, as in real knowledge bases.
// (Independent random words would make every chunk equidistant from every other, which
// measures nothing.)
type textGen struct {
	rng    *mrand.Rand
	common *mrand.Zipf
	vocab  []string
	topics [][]string
	inner  *mrand.Zipf // rank within a topic's vocabulary
}

const (
	topicWords = 200  // words of one topic
	topicShare = 0.65 // share of a chunk's words drawn from its topic
)

func newTextGen(seed uint64, topics int) *textGen {
	rng := mrand.New(mrand.NewPCG(seed, seed*31+7))
	seen := map[string]bool{}
	var vocab []string
	for _, a := range knowledge.DemoArticles() {
		for _, w := range strings.FieldsFunc(strings.ToLower(a.Title+" "+a.Body), func(r rune) bool {
			return !unicode.IsLetter(r)
		}) {
			if len(w) > 1 && !seen[w] {
				seen[w] = true
				vocab = append(vocab, w)
			}
		}
	}
	syl := []string{"ka", "lo", "mi", "ne", "ru", "ta", "vo", "shi", "pre", "dan", "tor", "bel", "gri", "mon", "sul", "fa", "qu", "zen", "wir", "ost"}
	for len(vocab) < 40000 {
		var b strings.Builder
		for range 2 + rng.IntN(3) {
			b.WriteString(syl[rng.IntN(len(syl))])
		}
		if w := b.String(); !seen[w] {
			seen[w] = true
			vocab = append(vocab, w)
		}
	}
	g := &textGen{rng: rng, common: mrand.NewZipf(rng, 1.07, 2, uint64(len(vocab)-1)), vocab: vocab,
		inner: mrand.NewZipf(rng, 1.2, 3, topicWords-1)}
	for range topics {
		t := make([]string, topicWords)
		for i := range t {
			t[i] = vocab[500+rng.IntN(len(vocab)-500)] // topic words come from the long tail
		}
		g.topics = append(g.topics, t)
	}
	return g
}

func (g *textGen) word(topic int) string {
	if g.rng.Float64() < topicShare {
		return g.topics[topic][g.inner.Uint64()]
	}
	return g.vocab[g.common.Uint64()]
}

func (g *textGen) words(topic, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = g.word(topic)
	}
	return out
}

func capitalise(ws []string) []string {
	ws[0] = strings.ToUpper(ws[0][:1]) + ws[0][1:]
	return ws
}

func (g *textGen) title(topic int) string {
	return strings.Join(capitalise(g.words(topic, 3+g.rng.IntN(4))), " ")
}

func (g *textGen) paragraph(topic int) string {
	var ss []string
	for range 3 + g.rng.IntN(5) {
		ss = append(ss, strings.Join(capitalise(g.words(topic, 8+g.rng.IntN(13))), " ")+".")
	}
	return strings.Join(ss, " ")
}

// query takes a run of 4 to 8 words of a chunk and replaces one with another word of its
// topic, as a customer paraphrases.
func (g *textGen) query(rng *mrand.Rand, text string, topic int) string {
	ws := strings.Fields(text)
	l := min(len(ws), 4+rng.IntN(5))
	start := rng.IntN(len(ws) - l + 1)
	q := append([]string(nil), ws[start:start+l]...)
	q[rng.IntN(len(q))] = g.topics[topic][rng.IntN(topicWords)]
	return strings.Join(q, " ")
}
