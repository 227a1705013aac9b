package knowledge

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/batonhq/baton"
)

// Retrieval modes.
const (
	ModeHybrid = "hybrid"
	ModeFTS    = "fts"
	ModeVector = "vector"
)

// RRFK is reciprocal rank fusion's constant: a chunk's fused score is the sum over retrievers
// of 1/(RRFK + rank). The original paper's 60 (Cormack et al., 2009) suits lists of 1,000
// documents; for lists of tens of candidates a constant near a quarter of the list keeps the
// top ranks distinct (StackFAQ dev MRR@10: 0.820 with 10, 0.815 with 60).
const RRFK = 10

// MaxQuery bounds the question length retrieval looks at.
const MaxQuery = 2000

// SearchOptions tune one retrieval.
type SearchOptions struct {
	Filter     SearchFilter `json:"filter"`
	Language   string       `json:"language,omitempty"` // query language for full text; "" = every article language
	Mode       string       `json:"mode,omitempty"`     // hybrid (default), fts or vector
	Limit      int          `json:"limit,omitempty"`    // fused hits returned, default 5, at most 100
	Candidates int          `json:"candidates,omitempty"`
	Neighbours int          `json:"neighbours,omitempty"` // add chunks within this many positions as context
}

// SearchResult is a retrieval's outcome.
type SearchResult struct {
	Query      string          `json:"query"`
	Hits       []Hit           `json:"hits"`
	Confidence float64         `json:"confidence"`
	Model      string          `json:"model,omitempty"` // embedding model of the vector side
	Trace      map[string]any  `json:"trace"`
	known      map[string]bool // the stems the published articles use
}

// Search runs hybrid retrieval: vector search in the active embedding model and full-text
// search with OR semantics, in parallel, fused by reciprocal rank fusion. A full-text error is
// returned; in hybrid mode a failing or unavailable embedder degrades to full text alone
// (recorded in the trace), in vector mode its error is returned.
func (s *Service) Search(ctx context.Context, query string, o SearchOptions) (SearchResult, error) {
	start := time.Now()
	query = strings.TrimSpace(query)
	if !utfOK(query) {
		return SearchResult{}, baton.Invalid("query is not valid UTF-8")
	}
	if len([]rune(query)) > MaxQuery {
		query = string([]rune(query)[:MaxQuery])
	}
	if o.Mode == "" {
		o.Mode = ModeHybrid
	}
	if o.Mode != ModeHybrid && o.Mode != ModeFTS && o.Mode != ModeVector {
		return SearchResult{}, baton.Invalid("mode must be hybrid, fts or vector")
	}
	if o.Limit <= 0 {
		o.Limit = 5
	}
	o.Limit = min(o.Limit, 100)
	if o.Candidates <= 0 {
		o.Candidates = s.o.Candidates
	}
	o.Candidates = min(max(o.Candidates, o.Limit), 500)
	for _, st := range o.Filter.Statuses {
		if st != StatusDraft && st != StatusPublished {
			return SearchResult{}, baton.Invalid("status filter must be draft or published")
		}
	}
	res := SearchResult{Query: query, Trace: map[string]any{"mode": o.Mode, "candidates": o.Candidates}}
	if query == "" {
		res.Hits = []Hit{}
		return res, nil
	}

	// Both retrievers also look for the synonyms of the question's words; res.Query stays
	// what was asked.
	var known map[string]bool
	if c, err := s.catalog(ctx); err == nil {
		known = c.stems
	} else {
		s.log.WarnContext(ctx, "read what the articles cover; expanding every word", "err", err)
	}
	expanded := expandQuery(stripFrame(query), known)
	var vec, fts []Candidate
	var vecErr, ftsErr error
	var vms, fms float64 // the goroutines must not write the trace map concurrently
	var wg sync.WaitGroup
	if o.Mode != ModeFTS {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var model string
			t := time.Now()
			vec, model, vecErr = s.searchVector(ctx, expanded, o)
			res.Model = model
			vms = ms(time.Since(t))
		}()
	}
	if o.Mode != ModeVector {
		wg.Add(1)
		go func() {
			defer wg.Done()
			t := time.Now()
			fts, ftsErr = s.store.SearchText(ctx, expanded, o.Language, o.Filter, o.Candidates)
			fms = ms(time.Since(t))
		}()
	}
	wg.Wait()
	if o.Mode != ModeFTS {
		res.Trace["vector_ms"] = vms
	}
	if o.Mode != ModeVector {
		res.Trace["fts_ms"] = fms
	}
	if ftsErr != nil || vecErr != nil && (o.Mode == ModeVector || ctx.Err() != nil) {
		return res, fmt.Errorf("search %q: %w", clip(query, 60), errors.Join(vecErr, ftsErr))
	}
	if vecErr != nil {
		// An embedding outage must not silence the bot: hybrid search answers from full text
		// alone (and its confidence is judged as such), as with no embedder at all.
		s.log.WarnContext(ctx, "vector search failed; searching full text alone", "err", vecErr)
		res.Model, vec = "", nil
		res.Trace["vector"] = "failed: " + clip(vecErr.Error(), 200)
		res.Trace["degraded"] = ModeFTS
	}
	if o.Mode != ModeFTS && res.Model == "" && vecErr == nil {
		res.Trace["vector"] = "unavailable: no embedder for the active model"
	}
	hits := fuse(vec, fts)
	if len(hits) > o.Limit {
		hits = hits[:o.Limit]
	}
	t := time.Now()
	if err := s.fill(ctx, hits, o.Neighbours); err != nil {
		return res, err
	}
	res.Trace["fill_ms"] = ms(time.Since(t))
	res.Hits = hits
	var signals map[string]float64
	res.known = known
	res.Confidence, signals = confidence(res.Query, hits, res.Model != "", known)
	res.Trace["confidence"] = signals
	res.Trace["vector_candidates"], res.Trace["fts_candidates"] = len(vec), len(fts)
	res.Trace["total_ms"] = ms(time.Since(start))
	return res, nil
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

func utfOK(s string) bool { return strings.ToValidUTF8(s, "\uFFFD") == s }

// searchVector embeds the query with the active model's embedder and searches its vectors. A
// model switch between reading the active model and querying its table is retried once.
func (s *Service) searchVector(ctx context.Context, query string, o SearchOptions) ([]Candidate, string, error) {
	for attempt := 0; ; attempt++ {
		m, err := s.activeModel(ctx)
		if err != nil || m == nil {
			return nil, "", err
		}
		e := s.embedderFor(*m)
		if e == nil {
			return nil, "", nil
		}
		vs, err := e.Embed(ctx, []string{query})
		if err != nil {
			return nil, "", fmt.Errorf("embed query: %w", err)
		}
		if len(vs) != 1 || len(vs[0]) != m.Dim {
			return nil, "", fmt.Errorf("embed query: got a vector of the wrong size for %s", m.Model)
		}
		cs, err := s.store.SearchVector(ctx, m.ID, vs[0], o.Filter, o.Candidates)
		if err != nil && attempt == 0 && ctx.Err() == nil {
			s.forgetActive()
			continue
		}
		return cs, m.Model, err
	}
}

// fuse merges the retrievers' rankings by reciprocal rank fusion; ties go to the chunk with the
// better single rank, then the lower id, so results are deterministic.
func fuse(vec, fts []Candidate) []Hit {
	byID := map[int64]*Hit{}
	var order []int64
	get := func(id int64) *Hit {
		h, ok := byID[id]
		if !ok {
			h = &Hit{Chunk: Chunk{ID: id}}
			byID[id] = h
			order = append(order, id)
		}
		return h
	}
	for i, c := range vec {
		h := get(c.ChunkID)
		h.Vector = &RetrieverScore{Score: c.Score, Rank: i + 1}
		h.Fused += 1.0 / float64(RRFK+i+1)
	}
	for i, c := range fts {
		h := get(c.ChunkID)
		h.FTS = &RetrieverScore{Score: c.Score, Rank: i + 1}
		h.Fused += 1.0 / float64(RRFK+i+1)
	}
	out := make([]Hit, 0, len(order))
	for _, id := range order {
		out = append(out, *byID[id])
	}
	best := func(h Hit) int {
		r := 1 << 30
		if h.Vector != nil {
			r = min(r, h.Vector.Rank)
		}
		if h.FTS != nil {
			r = min(r, h.FTS.Rank)
		}
		return r
	}
	slices.SortStableFunc(out, func(a, b Hit) int {
		if c := cmp.Compare(b.Fused, a.Fused); c != 0 {
			return c
		}
		if c := cmp.Compare(best(a), best(b)); c != 0 {
			return c
		}
		return cmp.Compare(a.ID, b.ID)
	})
	for i := range out {
		out[i].Rank = i + 1
	}
	return out
}

// fill loads the hits' chunks (dropping any deleted meanwhile) and their neighbours.
func (s *Service) fill(ctx context.Context, hits []Hit, radius int) error {
	if len(hits) == 0 {
		return nil
	}
	ids := make([]int64, len(hits))
	for i, h := range hits {
		ids[i] = h.ID
	}
	chunks, ctxs, err := s.store.ChunksAround(ctx, ids, radius)
	if err != nil {
		return err
	}
	for i := range hits {
		c, ok := chunks[hits[i].ID]
		if !ok {
			continue
		}
		hits[i].Chunk = c
		hits[i].Context = ctxs[c.ID]
	}
	return nil
}

// confidence says how likely the top hit answers the query, in [0, 1]. It looks at the
// query's content words only (no stopwords, no greetings or filler such as "could you maybe
// tell me"), so a chatty question and a terse one about the same thing score alike, and it
// combines signals that do not depend on the query's length or the knowledge base's size:
//   - coverage: the share of the query's content words found in the top chunk, its title or
//     heading path; a word one edit away from a chunk word (a typo) counts typoWeight.
//   - similarity: the top chunk's cosine similarity, mapped from [0.15, 0.6] to [0, 1]; below
//     0.15 hashed lexical vectors are unrelated. Filler dilutes a query's vector, so this
//     signal only lifts confidence when coverage is partial, never lowers it below coverage.
//   - agreement: both retrievers rank the chunk in their top 3 (1), only list it (0.5), or one
//     retriever alone found it (0). Ranks, unlike scores, barely move with filler.
//
// The weights and the thresholds DefaultMinConfidence and ClarifyConfidence were set on the
// dev half of testdata/answer_questions.jsonl (see TestAnswerThresholdSweep).
func confidence(query string, hits []Hit, vectors bool, known map[string]bool) (float64, map[string]float64) {
	if len(hits) == 0 {
		return 0, nil
	}
	h := hits[0]
	q := knownTerms(questionTerms(query), known)
	if len(q) == 0 {
		return 0, nil
	}
	// The answer may be quoted from any of the first hits (see ExtractFrom): the best covered
	// one counts, a lower-ranked one at a discount.
	coverage, matched := 0.0, 0.0
	for i, c := range hits[:min(len(hits), coverageHits)] {
		doc := cachedVocab(EmbedText(c.Title, c.HeadingPath, c.Text))
		found := 0.0
		for _, t := range q {
			found += doc.match(t)
		}
		f := 1.0
		if i > 0 {
			f = lowerHitCoverage
		}
		coverage = max(coverage, f*found/float64(len(q)))
		matched = max(matched, found)
	}
	// A question word in the top article's title or the chunk's headings says the article is
	// about what is asked, not just mentions it in passing ("connect a laptop to the router"
	// for "do you sell laptops?").
	topic := 0.0
	hv := cachedVocab(h.Title + "\n" + strings.Join(h.HeadingPath, "\n"))
	for _, t := range q {
		topic = max(topic, hv.match(t))
	}
	sim := 0.0
	if h.Vector != nil {
		sim = clamp01((h.Vector.Score - 0.15) / 0.45)
	}
	agree := 0.0
	switch {
	case h.Vector != nil && h.FTS != nil && h.Vector.Rank <= 3 && h.FTS.Rank <= 3:
		agree = 1
	case h.Vector != nil && h.FTS != nil:
		agree = 0.5
	}
	var c float64
	if !vectors {
		// Full text alone (no vectors for the active model): coverage carries the weight.
		c = 0.8 * coverage
	} else {
		c = confCoverage*coverage + confSimilarity*max(sim, coverage) + confAgreement*agree
	}
	switch {
	case matched >= 1.5:
		// Two question words (or a word and a misspelt one), one of them the topic.
		c += confTopic * topic
	case topic == 0:
		// One shared word that is not the article's topic is a coincidence, not an answer;
		// found by one retriever alone, even more so.
		c *= incidentalMatch
		if agree == 0 {
			c *= incidentalMatch
		}
	}
	signals := map[string]float64{"coverage": round3(coverage), "matched": matched, "topic": topic, "similarity": round3(sim), "agreement": agree}
	return round3(clamp01(c)), signals
}

// coverageHits is how many hits confidence's coverage looks at, lowerHitCoverage what a hit
// below the first counts.
const (
	coverageHits     = 3
	lowerHitCoverage = 0.9
)

// Weights of confidence's signals (they sum to 1).
const (
	confCoverage   = 0.45
	confSimilarity = 0.35
	confAgreement  = 0.2
	// confTopic is added when the top hits share two question words with the question and
	// one is in the top hit's title or headings.
	confTopic = 0.2
	// incidentalMatch scales the confidence of a top hit that shares at most one question
	// word, and not in its title or headings.
	incidentalMatch = 0.75
)

func clamp01(x float64) float64 { return max(0, min(1, x)) }

func round3(x float64) float64 { return float64(int(x*1000+0.5)) / 1000 }
