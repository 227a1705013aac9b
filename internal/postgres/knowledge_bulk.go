package postgres

import (
	"context"
	"fmt"
	"strconv"

	"github.com/jackc/pgx/v5"
	"github.com/pgvector/pgvector-go"

	"github.com/batonhq/baton/knowledge"
)

// Bulk loading, for benchmarks and very large first imports: rows are copied without versions
// or audit entries, and a model's HNSW index is built once after its vectors are loaded, which
// is several times faster than maintaining it row by row.

// BulkArticle is one article with its chunks for BulkLoad.
type BulkArticle struct {
	Input  knowledge.ArticleInput
	Hash   []byte
	Chunks []knowledge.ChunkInput
}

// BulkLoad copies articles and their chunks and returns the chunk ids in input order.
func (db *DB) BulkLoad(ctx context.Context, as []BulkArticle) ([]int64, error) {
	now := db.Clock.Now()
	var ids []int64
	err := db.inTx(ctx, func(tx pgx.Tx) error {
		var first int64
		if err := tx.QueryRow(ctx, `SELECT nextval(pg_get_serial_sequence('kb_articles', 'id'))`).Scan(&first); err != nil {
			return fmt.Errorf("allocate article ids: %w", err)
		}
		if _, err := tx.Exec(ctx, `SELECT setval(pg_get_serial_sequence('kb_articles', 'id'), $1)`, first+int64(len(as))); err != nil {
			return fmt.Errorf("allocate article ids: %w", err)
		}
		rows := make([][]any, len(as))
		for i, a := range as {
			in := a.Input
			rows[i] = []any{first + int64(i), in.ExternalKey, in.Kind, in.Title, in.Body, in.Tags, in.Language,
				TSConfig(in.Language), in.SourceURL, in.Status, 1, a.Hash, now, now}
		}
		// regconfig has no binary input: copy into text columns, then cast.
		if _, err := tx.Exec(ctx, `CREATE TEMP TABLE kb_bulk_articles (LIKE kb_articles INCLUDING DEFAULTS) ON COMMIT DROP;
			ALTER TABLE kb_bulk_articles DROP COLUMN search, ALTER COLUMN ts_config TYPE text;
			CREATE TEMP TABLE kb_bulk_chunks (LIKE kb_chunks INCLUDING DEFAULTS) ON COMMIT DROP;
			ALTER TABLE kb_bulk_chunks DROP COLUMN tsv, ALTER COLUMN ts_config TYPE text`); err != nil {
			return fmt.Errorf("create bulk tables: %w", err)
		}
		if _, err := tx.CopyFrom(ctx, pgx.Identifier{"kb_bulk_articles"}, []string{"id", "external_key", "kind", "title", "body",
			"tags", "language", "ts_config", "source_url", "status", "version", "content_hash", "created_at", "updated_at"},
			pgx.CopyFromRows(rows)); err != nil {
			return fmt.Errorf("copy articles: %w", err)
		}
		if _, err := tx.Exec(ctx, `INSERT INTO kb_articles (id, external_key, kind, title, body, tags, language, ts_config,
				source_url, status, version, content_hash, created_at, updated_at)
			SELECT id, external_key, kind, title, body, tags, language, ts_config::regconfig, source_url, status, version,
				content_hash, created_at, updated_at FROM kb_bulk_articles`); err != nil {
			return fmt.Errorf("insert articles: %w", err)
		}
		var crows [][]any
		for i, a := range as {
			for _, c := range a.Chunks {
				path := c.HeadingPath
				if path == nil {
					path = []string{}
				}
				crows = append(crows, []any{first + int64(i), c.Position, path, headingOf(path), a.Input.Title,
					c.Text, TSConfig(a.Input.Language), c.Hash, c.Words})
			}
		}
		if _, err := tx.CopyFrom(ctx, pgx.Identifier{"kb_bulk_chunks"}, []string{"article_id", "position", "heading_path", "heading",
			"title", "text", "ts_config", "text_hash", "doc_len"}, pgx.CopyFromRows(crows)); err != nil {
			return fmt.Errorf("copy chunks: %w", err)
		}
		if _, err := tx.Exec(ctx, `INSERT INTO kb_chunks (article_id, position, heading_path, heading, title, text, ts_config, text_hash, doc_len)
			SELECT article_id, position, heading_path, heading, title, text, ts_config::regconfig, text_hash, doc_len
			FROM kb_bulk_chunks ORDER BY article_id, position`); err != nil {
			return fmt.Errorf("insert chunks: %w", err)
		}
		r, err := tx.Query(ctx, `SELECT c.id FROM kb_chunks c WHERE c.article_id BETWEEN $1 AND $2 ORDER BY c.article_id, c.position`,
			first, first+int64(len(as))-1)
		if err != nil {
			return fmt.Errorf("read chunk ids: %w", err)
		}
		ids, err = pgx.CollectRows(r, pgx.RowTo[int64])
		return err
	})
	return ids, err
}

func headingOf(path []string) string {
	out := ""
	for i, p := range path {
		if i > 0 {
			out += " › "
		}
		out += p
	}
	return out
}

// DropVectorIndex drops a model's HNSW index before a bulk load of its vectors.
func (db *DB) DropVectorIndex(ctx context.Context, modelID int64) error {
	if _, err := db.Pool.Exec(ctx, `DROP INDEX IF EXISTS `+vectorTable(modelID)+`_hnsw`); err != nil {
		return fmt.Errorf("drop vector index: %w", err)
	}
	return nil
}

// CopyVectors bulk-copies vectors of a model (chunks must exist; no hash check).
func (db *DB) CopyVectors(ctx context.Context, modelID int64, vs []knowledge.Vector) error {
	rows := make([][]any, len(vs))
	for i, v := range vs {
		rows[i] = []any{v.ChunkID, v.Hash, pgvector.NewHalfVector(v.Values)}
	}
	if _, err := db.Pool.CopyFrom(ctx, pgx.Identifier{vectorTable(modelID)}, []string{"chunk_id", "text_hash", "embedding"},
		pgx.CopyFromRows(rows)); err != nil {
		return fmt.Errorf("copy vectors: %w", err)
	}
	return nil
}

// BuildVectorIndex (re)creates a model's HNSW index from vectorIndexDDL with memMB of
// maintenance_work_mem (the graph should fit, or the build slows down sharply) and parallel
// workers.
func (db *DB) BuildVectorIndex(ctx context.Context, modelID int64, memMB, workers int) error {
	conn, err := db.Pool.Acquire(ctx)
	if err != nil {
		return fmt.Errorf("build vector index: %w", err)
	}
	defer conn.Release()
	for _, q := range []string{
		`SET maintenance_work_mem = '` + strconv.Itoa(memMB) + `MB'`,
		`SET max_parallel_maintenance_workers = ` + strconv.Itoa(workers),
		fmt.Sprintf(vectorIndexDDL, vectorTable(modelID)),
		`RESET maintenance_work_mem`, `RESET max_parallel_maintenance_workers`,
	} {
		if _, err := conn.Exec(ctx, q); err != nil {
			return fmt.Errorf("build vector index: %w", err)
		}
	}
	if _, err := db.Pool.Exec(ctx, `ANALYZE `+vectorTable(modelID)+`, kb_chunks, kb_articles`); err != nil {
		return fmt.Errorf("analyze: %w", err)
	}
	return nil
}

// ExactNearest returns the distances of the k nearest vectors of a model by a full scan (no
// index), for measuring the index's recall.
func (db *DB) ExactNearest(ctx context.Context, modelID int64, q []float32, k int) ([]float64, error) {
	var out []float64
	err := db.inTx(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT set_config('enable_indexscan', 'off', true), set_config('jit', 'off', true)`); err != nil {
			return err
		}
		rows, err := tx.Query(ctx, `SELECT embedding <=> $1 FROM `+vectorTable(modelID)+` ORDER BY 1 LIMIT $2`, pgvector.NewHalfVector(q), k)
		if err != nil {
			return err
		}
		out, err = pgx.CollectRows(rows, pgx.RowTo[float64])
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("exact nearest: %w", err)
	}
	return out, nil
}

// VectorDistances returns the distance of q to each chunk's vector in a model.
func (db *DB) VectorDistances(ctx context.Context, modelID int64, q []float32, ids []int64) (map[int64]float64, error) {
	rows, err := db.Pool.Query(ctx, `SELECT chunk_id, embedding <=> $1 FROM `+vectorTable(modelID)+` WHERE chunk_id = ANY($2)`,
		pgvector.NewHalfVector(q), ids)
	if err != nil {
		return nil, fmt.Errorf("vector distances: %w", err)
	}
	defer rows.Close()
	out := map[int64]float64{}
	for rows.Next() {
		var id int64
		var d float64
		if err := rows.Scan(&id, &d); err != nil {
			return nil, err
		}
		out[id] = d
	}
	return out, rows.Err()
}
