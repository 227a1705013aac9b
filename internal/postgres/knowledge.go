package postgres

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/knowledge"
)

// Vector storage: the one place that fixes how embeddings are indexed. The migration
// 20261125080000_knowledge.sql holds the model registry (kb_embedding_models); each model's
// vectors live in their own table kb_emb_<model id>, created at runtime from the DDL below
// because only then is the dimension known. A new model is built beside the active one and
// replaces it atomically, so search never mixes two embedding spaces and never goes dark.
//
//   - Dimension: the model's, 1..2000 (the HNSW limit of `vector`; kept for halfvec too, which
//     allows 4,000). Baton's default is the local embedder at 384 (BATON_EMBEDDING_DIM): its
//     hashed lexical features collide below that (StackFAQ hybrid MRR@10 0.820 at 384, 0.801 at
//     256), and 256 gave no better HNSW recall or latency at 100k chunks. OpenAI-compatible
//     models are asked for the configured dimension (text-embedding-3-* accept `dimensions`).
//   - Type halfvec (16-bit floats): half the size of `vector`, so the index of 100k chunks
//     (~110 MB at 384 dimensions) stays in a small shared_buffers (128 MB here); queries got
//     3× faster at equal recall, and 16-bit precision changes no ranking that matters.
//   - Operator class halfvec_cosine_ops (`<=>`): embedders return unit vectors, and cosine stays
//     right for servers that do not normalise.
//   - m = 16, ef_construction = 128: short questions against long chunks are far from every
//     vector, where the graph navigates poorly, so recall comes from a better-built graph and a
//     wide search: at 100k chunks recall@10 was 0.74 with ef_search 100 and 0.94 with 1,000 on
//     an ef_construction 64 graph, 0.96 with 1,000 on this one (build 53 s on two cores).
//     m = 24 reaches 0.98 but its index outgrows 128 MB of shared buffers and every query
//     then pages the graph in (p50 375 ms): raise m only with shared_buffers above ~256 MB.
//   - Per query: SET LOCAL hnsw.ef_search = HNSWEfSearch (never below the candidates asked
//     for) and hnsw.iterative_scan = relaxed_order, because status/language/tag filters apply
//     after the index scan; results are re-sorted by distance. See SearchVector for why the
//     sequential scan and JIT are off too.
const (
	VectorType         = "halfvec"
	VectorOpClass      = "halfvec_cosine_ops"
	HNSWM              = 16
	HNSWEfConstruction = 128
	HNSWEfSearch       = 1000 // pgvector's maximum
	// vectorTableDDL creates a model's vector table: %[1]s is the table, %[2]d the dimension.
	vectorTableDDL = `CREATE TABLE IF NOT EXISTS %[1]s (
		chunk_id  bigint PRIMARY KEY REFERENCES kb_chunks (id) ON DELETE CASCADE,
		text_hash bytea NOT NULL,
		embedding halfvec(%[2]d) NOT NULL)`
	// vectorIndexDDL creates its HNSW index.
	vectorIndexDDL = `CREATE INDEX IF NOT EXISTS %[1]s_hnsw ON %[1]s USING hnsw (embedding halfvec_cosine_ops) WITH (m = 16, ef_construction = 128)`
)

// vectorTable names the vector table of a model; ids are integers, so the name is safe.
func vectorTable(modelID int64) string { return fmt.Sprintf("kb_emb_%d", modelID) }

// tsConfigs maps language codes to PostgreSQL's text search configurations; others use simple.
var tsConfigs = map[string]string{
	"ar": "arabic", "hy": "armenian", "eu": "basque", "ca": "catalan", "da": "danish", "nl": "dutch",
	"en": "english", "fi": "finnish", "fr": "french", "de": "german", "el": "greek", "hi": "hindi",
	"hu": "hungarian", "id": "indonesian", "ga": "irish", "it": "italian", "lt": "lithuanian",
	"ne": "nepali", "no": "norwegian", "nb": "norwegian", "nn": "norwegian", "pt": "portuguese",
	"ro": "romanian", "ru": "russian", "sr": "serbian", "es": "spanish", "sv": "swedish",
	"ta": "tamil", "tr": "turkish", "yi": "yiddish",
}

// TSConfig returns the text search configuration of a language code such as "en" or "pt-BR".
func TSConfig(language string) string {
	primary, _, _ := strings.Cut(strings.ToLower(language), "-")
	if c, ok := tsConfigs[primary]; ok {
		return c
	}
	return "simple"
}

const articleColumns = `a.id, a.external_key, a.kind, a.title, a.body, a.tags, a.language, a.source_url, a.status,
	a.version, a.created_at, a.updated_at, (SELECT count(*) FROM kb_chunks c WHERE c.article_id = a.id)`

func scanArticle(r pgx.Row) (knowledge.Article, error) {
	var a knowledge.Article
	err := r.Scan(&a.ID, &a.ExternalKey, &a.Kind, &a.Title, &a.Body, &a.Tags, &a.Language, &a.SourceURL, &a.Status,
		&a.Version, &a.CreatedAt, &a.UpdatedAt, &a.Chunks)
	return a, err
}

func actor(id int64) *int64 {
	if id <= 0 {
		return nil
	}
	return &id
}

// CreateArticle stores a new article as version 1 with its chunks.
func (db *DB) CreateArticle(ctx context.Context, s knowledge.Save) (knowledge.Article, error) {
	var a knowledge.Article
	err := db.inTx(ctx, func(tx pgx.Tx) error {
		var err error
		a, err = db.insertArticle(ctx, tx, s)
		return err
	})
	return a, err
}

func (db *DB) insertArticle(ctx context.Context, tx pgx.Tx, s knowledge.Save) (knowledge.Article, error) {
	in := s.Input
	var id int64
	if err := tx.QueryRow(ctx, `SELECT nextval(pg_get_serial_sequence('kb_articles', 'id'))`).Scan(&id); err != nil {
		return knowledge.Article{}, fmt.Errorf("allocate article id: %w", err)
	}
	if in.ExternalKey == "" {
		in.ExternalKey = fmt.Sprintf("kb-%d", id)
	}
	now := db.Clock.Now()
	_, err := tx.Exec(ctx, `INSERT INTO kb_articles (id, external_key, kind, title, body, tags, language, ts_config,
			source_url, status, version, content_hash, created_by, updated_by, created_at, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8::regconfig, $9, $10, 1, $11, $12, $12, $13, $13)`,
		id, in.ExternalKey, in.Kind, in.Title, in.Body, in.Tags, in.Language, TSConfig(in.Language),
		in.SourceURL, in.Status, s.Hash, actor(s.ActorID), now)
	if isUniqueViolation(err, "") {
		return knowledge.Article{}, baton.Errorf(baton.ErrConflict, "conflict", "an article with external key %q already exists", in.ExternalKey)
	}
	if err != nil {
		return knowledge.Article{}, fmt.Errorf("insert article: %w", err)
	}
	if err := insertVersion(ctx, tx, id, 1, in, s, now); err != nil {
		return knowledge.Article{}, err
	}
	if err := mergeChunks(ctx, tx, id, in, s.Chunks); err != nil {
		return knowledge.Article{}, err
	}
	a, err := scanArticle(tx.QueryRow(ctx, `SELECT `+articleColumns+` FROM kb_articles a WHERE a.id = $1`, id))
	if err != nil {
		return a, fmt.Errorf("read article: %w", err)
	}
	return a, Audit(ctx, tx, db, s.ActorID, "create", "kb_article", fmt.Sprint(id), nil, auditArticle(a))
}

func insertVersion(ctx context.Context, tx pgx.Tx, id int64, version int, in knowledge.ArticleInput, s knowledge.Save, now any) error {
	_, err := tx.Exec(ctx, `INSERT INTO kb_article_versions (article_id, version, external_key, kind, title, body, tags,
			language, source_url, status, note, created_by, created_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)`,
		id, version, in.ExternalKey, in.Kind, in.Title, in.Body, in.Tags, in.Language, in.SourceURL, in.Status,
		s.Note, actor(s.ActorID), now)
	if err != nil {
		return fmt.Errorf("insert article version: %w", err)
	}
	return nil
}

// auditArticle is what the audit log keeps of an article: everything but the body, whose
// history is in kb_article_versions.
func auditArticle(a knowledge.Article) map[string]any {
	return map[string]any{"external_key": a.ExternalKey, "kind": a.Kind, "title": a.Title, "tags": a.Tags,
		"language": a.Language, "source_url": a.SourceURL, "status": a.Status, "version": a.Version, "body_chars": len(a.Body)}
}

// mergeChunks makes the article's chunks equal s.Chunks. Rows whose hash is unchanged are kept
// (with their vectors and feedback); their position is updated. Others are deleted or inserted.
func mergeChunks(ctx context.Context, tx pgx.Tx, articleID int64, in knowledge.ArticleInput, chunks []knowledge.ChunkInput) error {
	rows, err := tx.Query(ctx, `SELECT id, text_hash, position FROM kb_chunks WHERE article_id = $1 ORDER BY position, id`, articleID)
	if err != nil {
		return fmt.Errorf("read chunks: %w", err)
	}
	type old struct {
		id       int64
		position int
	}
	byHash := map[string][]old{}
	for rows.Next() {
		var o old
		var h []byte
		if err := rows.Scan(&o.id, &h, &o.position); err != nil {
			rows.Close()
			return fmt.Errorf("read chunks: %w", err)
		}
		byHash[string(h)] = append(byHash[string(h)], o)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("read chunks: %w", err)
	}
	var moveIDs []int64
	var movePos []int32
	var add []knowledge.ChunkInput
	for _, c := range chunks {
		if olds := byHash[string(c.Hash)]; len(olds) > 0 {
			o := olds[0]
			byHash[string(c.Hash)] = olds[1:]
			if o.position != c.Position {
				moveIDs, movePos = append(moveIDs, o.id), append(movePos, int32(c.Position))
			}
			continue
		}
		add = append(add, c)
	}
	var drop []int64
	for _, olds := range byHash {
		for _, o := range olds {
			drop = append(drop, o.id)
		}
	}
	if len(drop) > 0 {
		if _, err := tx.Exec(ctx, `DELETE FROM kb_chunks WHERE id = ANY($1)`, drop); err != nil {
			return fmt.Errorf("delete chunks: %w", err)
		}
	}
	if len(moveIDs) > 0 {
		if _, err := tx.Exec(ctx, `UPDATE kb_chunks c SET position = v.p FROM unnest($1::bigint[], $2::int[]) v(id, p)
			WHERE c.id = v.id`, moveIDs, movePos); err != nil {
			return fmt.Errorf("move chunks: %w", err)
		}
	}
	if len(add) == 0 {
		return nil
	}
	// One statement for all new chunks: the term-statistics trigger then runs once.
	n := len(add)
	pos, paths, heads, texts, hashes, lens := make([]int32, n), make([]string, n), make([]string, n), make([]string, n), make([][]byte, n), make([]int32, n)
	for i, c := range add {
		pos[i], texts[i], hashes[i], lens[i] = int32(c.Position), c.Text, c.Hash, int32(c.Words)
		heads[i] = strings.Join(c.HeadingPath, " › ")
		paths[i] = jsonStrings(c.HeadingPath)
	}
	_, err = tx.Exec(ctx, `INSERT INTO kb_chunks (article_id, position, heading_path, heading, title, text, ts_config, text_hash, doc_len)
		SELECT $1, v.pos, ARRAY(SELECT jsonb_array_elements_text(v.path::jsonb)), v.head, $2, v.text, $3::regconfig, v.hash, v.len
		FROM unnest($4::int[], $5::text[], $6::text[], $7::text[], $8::bytea[], $9::int[]) v(pos, path, head, text, hash, len)`,
		articleID, in.Title, TSConfig(in.Language), pos, paths, heads, texts, hashes, lens)
	if err != nil {
		return fmt.Errorf("insert chunks: %w", err)
	}
	return nil
}

func jsonStrings(ss []string) string {
	var b bytes.Buffer
	b.WriteByte('[')
	for i, s := range ss {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(quoteJSON(s))
	}
	b.WriteByte(']')
	return b.String()
}

func quoteJSON(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch {
		case r == '"' || r == '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case r < 0x20:
			fmt.Fprintf(&b, `\u%04x`, r)
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
	return b.String()
}

// ReplaceArticle replaces article id with s as a new version. expectVersion > 0 must equal the
// current version. An input equal to the current one (same hash) writes nothing.
func (db *DB) ReplaceArticle(ctx context.Context, id int64, expectVersion int, s knowledge.Save) (knowledge.Article, knowledge.SaveResult, error) {
	var a knowledge.Article
	var res knowledge.SaveResult
	err := db.inTx(ctx, func(tx pgx.Tx) error {
		var err error
		a, res, err = db.replaceArticle(ctx, tx, id, expectVersion, s)
		return err
	})
	return a, res, err
}

func (db *DB) replaceArticle(ctx context.Context, tx pgx.Tx, id int64, expectVersion int, s knowledge.Save) (knowledge.Article, knowledge.SaveResult, error) {
	before, err := scanArticle(tx.QueryRow(ctx, `SELECT `+articleColumns+` FROM kb_articles a WHERE a.id = $1 FOR UPDATE`, id))
	if err != nil {
		return before, "", notFound(err, "article")
	}
	if expectVersion > 0 && expectVersion != before.Version {
		return before, "", baton.Errorf(baton.ErrConflict, "version_conflict",
			"article %d is at version %d, not %d: reload it and apply the change again", id, before.Version, expectVersion)
	}
	var hash []byte
	if err := tx.QueryRow(ctx, `SELECT content_hash FROM kb_articles WHERE id = $1`, id).Scan(&hash); err != nil {
		return before, "", fmt.Errorf("read article hash: %w", err)
	}
	if bytes.Equal(hash, s.Hash) && (s.Input.ExternalKey == "" || s.Input.ExternalKey == before.ExternalKey) {
		return before, knowledge.Unchanged, nil
	}
	in := s.Input
	if in.ExternalKey == "" {
		in.ExternalKey = before.ExternalKey
	}
	now := db.Clock.Now()
	version := before.Version + 1
	_, err = tx.Exec(ctx, `UPDATE kb_articles SET external_key = $2, kind = $3, title = $4, body = $5, tags = $6,
			language = $7, ts_config = $8::regconfig, source_url = $9, status = $10, version = $11, content_hash = $12,
			updated_by = $13, updated_at = $14
		WHERE id = $1`, id, in.ExternalKey, in.Kind, in.Title, in.Body, in.Tags, in.Language, TSConfig(in.Language),
		in.SourceURL, in.Status, version, s.Hash, actor(s.ActorID), now)
	if isUniqueViolation(err, "") {
		return before, "", baton.Errorf(baton.ErrConflict, "conflict", "an article with external key %q already exists", in.ExternalKey)
	}
	if err != nil {
		return before, "", fmt.Errorf("update article: %w", err)
	}
	if err := insertVersion(ctx, tx, id, version, in, s, now); err != nil {
		return before, "", err
	}
	if err := mergeChunks(ctx, tx, id, in, s.Chunks); err != nil {
		return before, "", err
	}
	after, err := scanArticle(tx.QueryRow(ctx, `SELECT `+articleColumns+` FROM kb_articles a WHERE a.id = $1`, id))
	if err != nil {
		return before, "", fmt.Errorf("read article: %w", err)
	}
	action := "update"
	if s.Note != "" {
		action = strings.SplitN(s.Note, " ", 2)[0]
	}
	return after, knowledge.Updated, Audit(ctx, tx, db, s.ActorID, action, "kb_article", fmt.Sprint(id), auditArticle(before), auditArticle(after))
}

// UpsertArticle creates or replaces the article with s.Input.ExternalKey (required).
func (db *DB) UpsertArticle(ctx context.Context, s knowledge.Save) (knowledge.Article, knowledge.SaveResult, error) {
	if s.Input.ExternalKey == "" {
		return knowledge.Article{}, "", baton.Invalid("an imported article needs an external key")
	}
	for attempt := 0; ; attempt++ {
		var a knowledge.Article
		var res knowledge.SaveResult
		err := db.inTx(ctx, func(tx pgx.Tx) error {
			var id int64
			err := tx.QueryRow(ctx, `SELECT id FROM kb_articles WHERE external_key = $1`, s.Input.ExternalKey).Scan(&id)
			if errors.Is(err, pgx.ErrNoRows) {
				a, err = db.insertArticle(ctx, tx, s)
				res = knowledge.Added
				return err
			}
			if err != nil {
				return fmt.Errorf("look up article %q: %w", s.Input.ExternalKey, err)
			}
			a, res, err = db.replaceArticle(ctx, tx, id, 0, s)
			return err
		})
		// Two imports of the same new key race to insert: the loser updates instead.
		if errors.Is(err, baton.ErrConflict) && res == knowledge.Added && attempt == 0 {
			continue
		}
		return a, res, err
	}
}

// DeleteArticle deletes an article with its versions, chunks and vectors.
func (db *DB) DeleteArticle(ctx context.Context, actorID, id int64) error {
	return db.inTx(ctx, func(tx pgx.Tx) error {
		before, err := scanArticle(tx.QueryRow(ctx, `SELECT `+articleColumns+` FROM kb_articles a WHERE a.id = $1 FOR UPDATE`, id))
		if err != nil {
			return notFound(err, "article")
		}
		if _, err := tx.Exec(ctx, `DELETE FROM kb_articles WHERE id = $1`, id); err != nil {
			return fmt.Errorf("delete article: %w", err)
		}
		return Audit(ctx, tx, db, actorID, "delete", "kb_article", fmt.Sprint(id), auditArticle(before), nil)
	})
}

// Article returns one article.
func (db *DB) Article(ctx context.Context, id int64) (knowledge.Article, error) {
	a, err := scanArticle(db.Pool.QueryRow(ctx, `SELECT `+articleColumns+` FROM kb_articles a WHERE a.id = $1`, id))
	return a, notFound(err, "article")
}

// ListArticles lists articles by id, without bodies. Query matches with websearch syntax (AND
// of words, "quoted phrases", -exclusions) in each article's language, or as a title substring.
func (db *DB) ListArticles(ctx context.Context, f knowledge.ArticleFilter) ([]knowledge.Article, error) {
	var where []string
	var args []any
	add := func(cond string, v any) {
		args = append(args, v)
		where = append(where, strings.ReplaceAll(cond, "$?", fmt.Sprintf("$%d", len(args))))
	}
	if f.Status != "" {
		add("a.status = $?", f.Status)
	}
	if f.Tag != "" {
		add("$? = ANY(a.tags)", f.Tag)
	}
	if f.Query != "" {
		add("(a.search @@ websearch_to_tsquery(a.ts_config, $?) OR a.title ILIKE '%' || $? || '%')", f.Query)
	}
	if f.After > 0 {
		add("a.id > $?", f.After)
	}
	if f.Limit <= 0 {
		f.Limit = 50
	}
	q := `SELECT ` + strings.Replace(articleColumns, "a.body", "''", 1) + ` FROM kb_articles a`
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	args = append(args, f.Limit)
	q += fmt.Sprintf(" ORDER BY a.id LIMIT $%d", len(args))
	rows, err := db.Pool.Query(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("list articles: %w", err)
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (knowledge.Article, error) { return scanArticle(r) })
}

// AllArticles calls fn for every article, by id, with bodies (for export).
func (db *DB) AllArticles(ctx context.Context, fn func(knowledge.Article) error) error {
	var after int64
	for {
		rows, err := db.Pool.Query(ctx, `SELECT `+articleColumns+` FROM kb_articles a WHERE a.id > $1 ORDER BY a.id LIMIT 200`, after)
		if err != nil {
			return fmt.Errorf("list articles: %w", err)
		}
		page, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (knowledge.Article, error) { return scanArticle(r) })
		if err != nil {
			return fmt.Errorf("list articles: %w", err)
		}
		for _, a := range page {
			if err := fn(a); err != nil {
				return err
			}
			after = a.ID
		}
		if len(page) < 200 {
			return nil
		}
	}
}

const versionColumns = `article_id, version, external_key, kind, title, body, tags, language, source_url, status, note, created_by, created_at`

func scanVersion(r pgx.Row) (knowledge.Version, error) {
	var v knowledge.Version
	a := &v.Article
	err := r.Scan(&v.ArticleID, &v.Version, &a.ExternalKey, &a.Kind, &a.Title, &a.Body, &a.Tags, &a.Language, &a.SourceURL,
		&a.Status, &v.Note, &v.CreatedBy, &v.CreatedAt)
	return v, err
}

// ArticleVersions lists an article's versions, newest first.
func (db *DB) ArticleVersions(ctx context.Context, id int64) ([]knowledge.Version, error) {
	rows, err := db.Pool.Query(ctx, `SELECT `+versionColumns+` FROM kb_article_versions WHERE article_id = $1 ORDER BY version DESC`, id)
	if err != nil {
		return nil, fmt.Errorf("list article versions: %w", err)
	}
	vs, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (knowledge.Version, error) { return scanVersion(r) })
	if err != nil {
		return nil, fmt.Errorf("list article versions: %w", err)
	}
	if len(vs) == 0 {
		return nil, baton.Errorf(baton.ErrNotFound, "not_found", "article not found")
	}
	return vs, nil
}

// ArticleVersion returns one version of an article.
func (db *DB) ArticleVersion(ctx context.Context, id int64, version int) (knowledge.Version, error) {
	v, err := scanVersion(db.Pool.QueryRow(ctx, `SELECT `+versionColumns+` FROM kb_article_versions WHERE article_id = $1 AND version = $2`, id, version))
	return v, notFound(err, fmt.Sprintf("version %d of article %d", version, id))
}
