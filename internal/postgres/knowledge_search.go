package postgres

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"
	"github.com/pgvector/pgvector-go"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/knowledge"
)

// modelLock serialises model registration and switching across processes.
const modelLock = 7_420_101

// EmbeddingModels lists the registered models; with counts, also how many chunks there are and
// how many each live model has vectors for.
func (db *DB) EmbeddingModels(ctx context.Context, counts bool) ([]knowledge.EmbeddingModel, error) {
	rows, err := db.Pool.Query(ctx, `SELECT id, model, dim, status, created_at, activated_at FROM kb_embedding_models ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("list embedding models: %w", err)
	}
	ms, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (knowledge.EmbeddingModel, error) {
		var m knowledge.EmbeddingModel
		return m, r.Scan(&m.ID, &m.Model, &m.Dim, &m.Status, &m.CreatedAt, &m.ActivatedAt)
	})
	if err != nil {
		return nil, fmt.Errorf("list embedding models: %w", err)
	}
	if !counts {
		return ms, nil
	}
	var chunks int
	if err := db.Pool.QueryRow(ctx, `SELECT count(*) FROM kb_chunks`).Scan(&chunks); err != nil {
		return nil, fmt.Errorf("count chunks: %w", err)
	}
	for i := range ms {
		ms[i].Chunks = chunks
		if ms[i].Status == knowledge.ModelRetired {
			continue
		}
		if err := db.Pool.QueryRow(ctx, `SELECT count(*) FROM `+vectorTable(ms[i].ID)+``).Scan(&ms[i].Embedded); err != nil {
			return nil, fmt.Errorf("count vectors of model %s: %w", ms[i].Model, err)
		}
	}
	return ms, nil
}

// RegisterModel returns the live registration of (model, dim), creating it with its vector
// table and index if needed. The first model becomes active at once; a later one is building
// until ActivateModel switches to it. Registering a model retires any other model still
// building (its table is dropped): only the newest configuration is built.
func (db *DB) RegisterModel(ctx context.Context, model string, dim int) (knowledge.EmbeddingModel, error) {
	if model == "" || dim < 1 || dim > 2000 {
		return knowledge.EmbeddingModel{}, baton.Invalid("embedding model needs a name and a dimension of 1..2000 (HNSW's limit), got %q/%d", model, dim)
	}
	var m knowledge.EmbeddingModel
	err := db.inTx(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, modelLock); err != nil {
			return fmt.Errorf("lock embedding models: %w", err)
		}
		err := tx.QueryRow(ctx, `SELECT id, model, dim, status, created_at, activated_at FROM kb_embedding_models
			WHERE model = $1 AND dim = $2 AND status <> 'retired'`, model, dim).
			Scan(&m.ID, &m.Model, &m.Dim, &m.Status, &m.CreatedAt, &m.ActivatedAt)
		if err == nil {
			return nil
		}
		if !errors.Is(err, pgx.ErrNoRows) {
			return fmt.Errorf("look up embedding model: %w", err)
		}
		now := db.Clock.Now()
		var hasActive bool
		if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM kb_embedding_models WHERE status = 'active')`).Scan(&hasActive); err != nil {
			return fmt.Errorf("look up active model: %w", err)
		}
		status := knowledge.ModelBuilding
		var activated any
		if !hasActive {
			status, activated = knowledge.ModelActive, now
		}
		if err := tx.QueryRow(ctx, `INSERT INTO kb_embedding_models (model, dim, status, created_at, activated_at)
			VALUES ($1, $2, $3, $4, $5) RETURNING id, model, dim, status, created_at, activated_at`, model, dim, status, now, activated).
			Scan(&m.ID, &m.Model, &m.Dim, &m.Status, &m.CreatedAt, &m.ActivatedAt); err != nil {
			return fmt.Errorf("register embedding model: %w", err)
		}
		if _, err := tx.Exec(ctx, fmt.Sprintf(vectorTableDDL, vectorTable(m.ID), dim)); err != nil {
			return fmt.Errorf("create vector table: %w", err)
		}
		if _, err := tx.Exec(ctx, fmt.Sprintf(vectorIndexDDL, vectorTable(m.ID))); err != nil {
			return fmt.Errorf("create vector index: %w", err)
		}
		return retire(ctx, tx, `status = 'building' AND id <> $1`, m.ID, now)
	})
	return m, err
}

// retire retires the models matching cond ($1 is arg) and drops their vector tables.
func retire(ctx context.Context, tx pgx.Tx, cond string, arg any, now any) error {
	rows, err := tx.Query(ctx, `UPDATE kb_embedding_models SET status = 'retired', retired_at = $2 WHERE `+cond+` RETURNING id`, arg, now)
	if err != nil {
		return fmt.Errorf("retire embedding models: %w", err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		return fmt.Errorf("retire embedding models: %w", err)
	}
	for _, id := range ids {
		if _, err := tx.Exec(ctx, `DROP TABLE IF EXISTS `+vectorTable(id)); err != nil {
			return fmt.Errorf("drop vectors of model %d: %w", id, err)
		}
	}
	return nil
}

// PendingChunks returns chunks after afterID (by id) that have no vector in the model yet.
func (db *DB) PendingChunks(ctx context.Context, modelID, afterID int64, limit int) ([]knowledge.PendingChunk, error) {
	rows, err := db.Pool.Query(ctx, `SELECT c.id, c.title, c.heading_path, c.text, c.text_hash FROM kb_chunks c
		WHERE c.id > $1 AND NOT EXISTS (SELECT 1 FROM `+vectorTable(modelID)+` e WHERE e.chunk_id = c.id)
		ORDER BY c.id LIMIT $2`, afterID, limit)
	if err != nil {
		return nil, fmt.Errorf("list chunks to embed: %w", err)
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (knowledge.PendingChunk, error) {
		var p knowledge.PendingChunk
		var title, text string
		var path []string
		err := r.Scan(&p.ID, &title, &path, &text, &p.Hash)
		p.Embed = knowledge.EmbedText(title, path, text)
		return p, err
	})
}

// SaveVectors stores vectors of a model. A vector whose chunk is gone or whose hash no longer
// matches (the text changed meanwhile) is dropped.
func (db *DB) SaveVectors(ctx context.Context, modelID int64, vs []knowledge.Vector) error {
	if len(vs) == 0 {
		return nil
	}
	b := &pgx.Batch{}
	for _, v := range vs {
		b.Queue(`INSERT INTO `+vectorTable(modelID)+` (chunk_id, text_hash, embedding)
			SELECT c.id, c.text_hash, $3 FROM kb_chunks c WHERE c.id = $1 AND c.text_hash = $2
			ON CONFLICT (chunk_id) DO UPDATE SET text_hash = excluded.text_hash, embedding = excluded.embedding`,
			v.ChunkID, v.Hash, pgvector.NewHalfVector(v.Values))
	}
	err := db.inTx(ctx, func(tx pgx.Tx) error { return tx.SendBatch(ctx, b).Close() })
	if err != nil {
		return fmt.Errorf("save vectors: %w", err)
	}
	return nil
}

// ActivateModel switches search to a building model if it has a vector for every chunk, in one
// transaction that retires (and drops the vectors of) the previously active model. It reports
// whether the switch happened; chunk writes wait for the switch, so none is missed.
func (db *DB) ActivateModel(ctx context.Context, modelID int64) (bool, error) {
	switched := false
	err := db.inTx(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, modelLock); err != nil {
			return fmt.Errorf("lock embedding models: %w", err)
		}
		var status string
		if err := tx.QueryRow(ctx, `SELECT status FROM kb_embedding_models WHERE id = $1`, modelID).Scan(&status); err != nil {
			return notFound(err, "embedding model")
		}
		if status == knowledge.ModelActive {
			switched = true
			return nil
		}
		if status != knowledge.ModelBuilding {
			return baton.Errorf(baton.ErrConflict, "conflict", "embedding model %d is %s", modelID, status)
		}
		if _, err := tx.Exec(ctx, `LOCK TABLE kb_chunks IN SHARE MODE`); err != nil {
			return fmt.Errorf("lock chunks: %w", err)
		}
		var missing bool
		if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM kb_chunks c
			WHERE NOT EXISTS (SELECT 1 FROM `+vectorTable(modelID)+` e WHERE e.chunk_id = c.id))`).Scan(&missing); err != nil {
			return fmt.Errorf("check model completeness: %w", err)
		}
		if missing {
			return nil
		}
		now := db.Clock.Now()
		if err := retire(ctx, tx, `status = 'active' AND id <> $1`, modelID, now); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE kb_embedding_models SET status = 'active', activated_at = $2 WHERE id = $1`, modelID, now); err != nil {
			return fmt.Errorf("activate embedding model: %w", err)
		}
		switched = true
		return nil
	})
	return switched, err
}

func statuses(f knowledge.SearchFilter) []string {
	if len(f.Statuses) == 0 {
		return []string{knowledge.StatusPublished}
	}
	return f.Statuses
}

func articlesArg(f knowledge.SearchFilter) []int64 {
	if f.Articles == nil {
		return []int64{}
	}
	return f.Articles
}

func tagsArg(f knowledge.SearchFilter) []string {
	if f.Tags == nil {
		return []string{}
	}
	return f.Tags
}

// SearchVector returns the k chunks nearest to q in a model's space that pass the filter.
// Filters apply after the HNSW scan, so the scan is iterative (it continues until k rows pass)
// and ef_search is at least 2k; the relaxed order is re-sorted by distance.
func (db *DB) SearchVector(ctx context.Context, modelID int64, q []float32, f knowledge.SearchFilter, k int) ([]knowledge.Candidate, error) {
	ef := min(max(HNSWEfSearch, k), 1000)
	// With a large ef_search the planner's estimate of the index scan can exceed a full scan
	// and sort, which is exact but slow on a big table: keep it off the sequential scan
	// (filters on indexed columns, like a rare tag, still get their exact plan). The settings
	// are local to the batch's implicit transaction: one round trip, nothing leaks to the
	// connection.
	b := &pgx.Batch{}
	b.Queue(`SELECT set_config('hnsw.ef_search', $1, true), set_config('hnsw.iterative_scan', 'relaxed_order', true),
		set_config('enable_seqscan', 'off', true)`, strconv.Itoa(ef))
	b.Queue(`WITH nn AS MATERIALIZED (
			SELECT e.chunk_id, c.article_id, e.embedding <=> $1 AS distance
			FROM `+vectorTable(modelID)+` e
			JOIN kb_chunks c ON c.id = e.chunk_id
			JOIN kb_articles a ON a.id = c.article_id
			WHERE a.status = ANY($2) AND ($3 = '' OR a.language = $3) AND (cardinality($4::text[]) = 0 OR a.tags && $4)
				AND (cardinality($6::bigint[]) = 0 OR a.id = ANY($6))
			ORDER BY e.embedding <=> $1 LIMIT $5)
		SELECT chunk_id, article_id, distance FROM nn ORDER BY distance, chunk_id`,
		pgvector.NewHalfVector(q), statuses(f), f.Language, tagsArg(f), k, articlesArg(f))
	br := db.Pool.SendBatch(ctx, b)
	defer br.Close()
	if _, err := br.Exec(); err != nil {
		return nil, fmt.Errorf("vector search: set search parameters: %w", err)
	}
	rows, err := br.Query()
	if err != nil {
		return nil, fmt.Errorf("vector search: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (knowledge.Candidate, error) {
		var c knowledge.Candidate
		var d float64
		err := r.Scan(&c.ChunkID, &c.ArticleID, &d)
		if math.IsNaN(d) {
			d = 1 // a zero vector has no direction: as far as unrelated
		}
		c.Score = 1 - d
		return c, err
	})
	if err != nil {
		return nil, fmt.Errorf("vector search: %w", err)
	}
	return out, nil
}

// Full-text ranking parameters. ts_rank alone knows term frequency and the A/B/D weights of
// title, headings and text, but not how rare a word is; each query lexeme's rank is therefore
// weighted by its inverse document frequency (BM25's idf, from kb_terms), which is what lets a
// paraphrase that shares one rare word beat a text that shares three common ones.
const (
	// ftsWeights are ts_rank's {D, C, B, A} weights: body text, -, heading path, title.
	ftsWeights = `{0.2, 0.2, 0.5, 1.0}`
	// ftsPostingBudget bounds the candidates, whose ranking costs tens of microseconds each:
	// query lexemes join the OR query rarest first while their document frequencies sum to at
	// most this. Common words still score the candidates; they just don't widen the set. When
	// even the rarest word is more common than this, candidates must contain every word.
	ftsPostingBudget = 2000
)

// SearchText ranks chunks against q with OR semantics (any query word may match; rare words
// count more), in the text search configuration of each chunk's language, or only language's
// when there are articles in it.
// Two round trips: the query's lexemes with their document frequencies (index lookups), then
// the candidates of the rarer lexemes ranked by all of them.
func (db *DB) SearchText(ctx context.Context, q string, language string, f knowledge.SearchFilter, k int) ([]knowledge.Candidate, error) {
	if f.Language != "" {
		language = f.Language
	}
	cfg := ""
	if language != "" {
		cfg = TSConfig(language)
	}
	// A lexeme no chunk has (df 0) may be a misspelling: it is looked up among the knowledge
	// base's own lexemes that start with the same two letters (an index range scan) and
	// replaced by the most frequent one within an edit or two (see spellingFix).
	rows, err := db.Pool.Query(ctx, `SELECT tot.ts_config::text, w.lexeme, coalesce(t.df, 0), tot.docs
		FROM kb_term_totals tot
		CROSS JOIN LATERAL (SELECT DISTINCT lexeme FROM unnest(to_tsvector(tot.ts_config, $1))) w
		LEFT JOIN kb_terms t ON t.ts_config = tot.ts_config AND t.lexeme = w.lexeme
		WHERE tot.docs > 0 AND ($2 = '' OR tot.ts_config = $2::regconfig
			-- a query language without articles searches them all
			OR NOT EXISTS (SELECT 1 FROM kb_term_totals x WHERE x.docs > 0 AND x.ts_config = $2::regconfig))
		ORDER BY 1, 3, 2`, q, cfg)
	if err != nil {
		return nil, fmt.Errorf("full-text search: query terms: %w", err)
	}
	type term struct {
		cfg, lexeme string
		df, docs    int
	}
	all, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (term, error) {
		var t term
		return t, r.Scan(&t.cfg, &t.lexeme, &t.df, &t.docs)
	})
	if err != nil {
		return nil, fmt.Errorf("full-text search: query terms: %w", err)
	}
	var terms, unknown []term
	for _, t := range all {
		switch {
		case t.df > 0:
			terms = append(terms, t)
		case utf8.RuneCountInString(t.lexeme) >= minSpellingFix:
			unknown = append(unknown, t)
		}
	}
	if len(unknown) > 0 {
		cfgs, lexemes := make([]string, len(unknown)), make([]string, len(unknown))
		for i, t := range unknown {
			cfgs[i], lexemes[i] = t.cfg, t.lexeme
		}
		rows, err := db.Pool.Query(ctx, `SELECT u.i, t.lexeme, t.df
			FROM unnest($1::text[], $2::text[]) WITH ORDINALITY u(cfg, lexeme, i)
			JOIN kb_terms t ON t.ts_config = u.cfg::regconfig AND t.df > 0
				AND t.lexeme >= left(u.lexeme, 2) AND t.lexeme < left(u.lexeme, 1) || chr(ascii(substr(u.lexeme, 2, 1)) + 1)
				AND abs(length(t.lexeme) - length(u.lexeme)) <= 2`, cfgs, lexemes)
		if err != nil {
			return nil, fmt.Errorf("full-text search: spelling: %w", err)
		}
		type near struct {
			i      int
			lexeme string
			df     int
		}
		nears, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (near, error) {
			var n near
			return n, r.Scan(&n.i, &n.lexeme, &n.df)
		})
		if err != nil {
			return nil, fmt.Errorf("full-text search: spelling: %w", err)
		}
		best := map[int]near{}
		for _, n := range nears {
			u := unknown[n.i-1]
			if !spellingFix(u.lexeme, n.lexeme) {
				continue
			}
			if b, ok := best[n.i]; !ok || n.df > b.df || n.df == b.df && n.lexeme < b.lexeme {
				best[n.i] = n
			}
		}
		seen := map[[2]string]bool{}
		for _, t := range terms {
			seen[[2]string{t.cfg, t.lexeme}] = true
		}
		for i, u := range unknown {
			if n, ok := best[i+1]; ok && !seen[[2]string{u.cfg, n.lexeme}] {
				seen[[2]string{u.cfg, n.lexeme}] = true
				terms = append(terms, term{cfg: u.cfg, lexeme: n.lexeme, df: n.df, docs: u.docs})
			}
		}
		slices.SortFunc(terms, func(a, b term) int {
			return cmp.Or(cmp.Compare(a.cfg, b.cfg), cmp.Compare(a.df, b.df), cmp.Compare(a.lexeme, b.lexeme))
		})
	}
	if len(terms) == 0 {
		return nil, nil
	}
	// Per configuration: the candidates' OR query of the rarest lexemes within the posting
	// budget, and the score: the sum over all query lexemes of idf × ts_rank. The statement is
	// built per query (the idf weights are literals) so the score is one expression per row,
	// not a subquery per row: that is what keeps large candidate sets fast.
	type perCfg struct {
		cfg   string
		cand  []string
		score []string
		all   []string
		used  int
	}
	var byCfg []*perCfg
	var args []any
	arg := func(v any) string {
		args = append(args, v)
		return fmt.Sprintf("$%d", len(args))
	}
	for _, t := range terms {
		if len(byCfg) == 0 || byCfg[len(byCfg)-1].cfg != t.cfg {
			byCfg = append(byCfg, &perCfg{cfg: t.cfg})
		}
		pc := byCfg[len(byCfg)-1]
		tq := arg(tsLexeme(t.lexeme))
		idf := math.Log(1 + (float64(t.docs)-float64(t.df)+0.5)/(float64(t.df)+0.5))
		pc.score = append(pc.score, fmt.Sprintf("%.6f * ts_rank('%s', c.tsv, %s::tsquery)", idf, ftsWeights, tq))
		if len(pc.cand) == 0 || pc.used+t.df <= ftsPostingBudget {
			pc.used += t.df
			pc.cand = append(pc.cand, tsLexeme(t.lexeme))
		}
		pc.all = append(pc.all, tsLexeme(t.lexeme))
	}
	var where, score []string
	for _, pc := range byCfg {
		cfg := arg(pc.cfg)
		cand := strings.Join(pc.cand, " | ")
		if pc.used > ftsPostingBudget && len(pc.all) > 1 {
			// Even the rarest word is common: only chunks with every word are candidates.
			cand = strings.Join(pc.all, " & ")
		}
		where = append(where, fmt.Sprintf("(c.ts_config = %s::regconfig AND c.tsv @@ %s::tsquery)", cfg, arg(cand)))
		score = append(score, fmt.Sprintf("WHEN c.ts_config = %s::regconfig THEN %s", cfg, strings.Join(pc.score, " + ")))
	}
	stmt := fmt.Sprintf(`SELECT c.id, c.article_id, CASE %s ELSE 0 END AS score
		FROM kb_chunks c JOIN kb_articles a ON a.id = c.article_id
		WHERE (%s) AND a.status = ANY(%s) AND (%s = '' OR a.language = %[4]s) AND (cardinality(%s::text[]) = 0 OR a.tags && %[5]s)
			AND (cardinality(%s::bigint[]) = 0 OR a.id = ANY(%[6]s))
		ORDER BY score DESC, c.id LIMIT %s`, strings.Join(score, " "), strings.Join(where, " OR "),
		arg(statuses(f)), arg(f.Language), arg(tagsArg(f)), arg(articlesArg(f)), arg(k))
	// A one-off statement: not worth a prepared statement in every connection's cache (JIT,
	// which a large candidate set would trigger, is off for the pool: see Open).
	rows, err = db.Pool.Query(ctx, stmt, append([]any{pgx.QueryExecModeExec}, args...)...)
	if err != nil {
		return nil, fmt.Errorf("full-text search: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (knowledge.Candidate, error) {
		var c knowledge.Candidate
		return c, r.Scan(&c.ChunkID, &c.ArticleID, &c.Score)
	})
	if err != nil {
		return nil, fmt.Errorf("full-text search: %w", err)
	}
	return out, nil
}

// minSpellingFix is the shortest lexeme that may be a misspelling of another: shorter ones are
// too often a different word an edit away.
const minSpellingFix = 5

// spellingFix reports whether a lexeme missing from the knowledge base is a misspelling of
// known: one edit away (insertion, deletion, substitution or swap of neighbours), or two for
// words of eight letters or more.
func spellingFix(missing, known string) bool {
	a, b := []rune(missing), []rune(known)
	if len(a) < minSpellingFix || len(b) < minSpellingFix-1 {
		return false
	}
	limit := 1
	if len(a) >= 8 {
		limit = 2
	}
	return osaDistance(a, b, limit) <= limit
}

// osaDistance is the optimal string alignment distance of a and b (edits, with a swap of
// neighbours counting one), or limit+1 when it is larger than limit.
func osaDistance(a, b []rune, limit int) int {
	if d := len(a) - len(b); d > limit || -d > limit {
		return limit + 1
	}
	prev2 := make([]int, len(b)+1)
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		low := cur[0]
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				cur[j] = min(cur[j], prev2[j-2]+1)
			}
			low = min(low, cur[j])
		}
		if low > limit {
			return limit + 1
		}
		prev2, prev, cur = prev, cur, prev2
	}
	return prev[len(b)]
}

// tsLexeme quotes a lexeme for tsquery input: quotes doubled, backslashes escaped.
func tsLexeme(l string) string {
	return "'" + strings.NewReplacer(`\`, `\\`, `'`, `''`).Replace(l) + "'"
}

const chunkColumns = `c.id, c.article_id, c.position, c.heading_path, c.text, a.title, a.source_url, a.language, a.status, a.external_key`

func scanChunk(r pgx.Row) (knowledge.Chunk, error) {
	var c knowledge.Chunk
	err := r.Scan(&c.ID, &c.ArticleID, &c.Position, &c.HeadingPath, &c.Text, &c.Title, &c.URL, &c.Language, &c.Status, &c.ExternalKey)
	return c, err
}

// ChunksAround returns the chunks with these ids that still exist and their neighbours within
// radius positions of the same article, in one round trip.
func (db *DB) ChunksAround(ctx context.Context, ids []int64, radius int) (map[int64]knowledge.Chunk, map[int64][]knowledge.Chunk, error) {
	rows, err := db.Pool.Query(ctx, `SELECT s.id, `+chunkColumns+` FROM kb_chunks s
		JOIN kb_chunks c ON c.article_id = s.article_id AND abs(c.position - s.position) <= $2
		JOIN kb_articles a ON a.id = c.article_id
		WHERE s.id = ANY($1) ORDER BY s.id, c.position`, ids, max(radius, 0))
	if err != nil {
		return nil, nil, fmt.Errorf("read chunks and their neighbours: %w", err)
	}
	defer rows.Close()
	chunks, around := map[int64]knowledge.Chunk{}, map[int64][]knowledge.Chunk{}
	for rows.Next() {
		var src int64
		var c knowledge.Chunk
		if err := rows.Scan(&src, &c.ID, &c.ArticleID, &c.Position, &c.HeadingPath, &c.Text, &c.Title, &c.URL, &c.Language, &c.Status, &c.ExternalKey); err != nil {
			return nil, nil, fmt.Errorf("read chunks and their neighbours: %w", err)
		}
		if c.ID == src {
			chunks[src] = c
		} else {
			around[src] = append(around[src], c)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, nil, fmt.Errorf("read chunks and their neighbours: %w", err)
	}
	return chunks, around, nil
}
