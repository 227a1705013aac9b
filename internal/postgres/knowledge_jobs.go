package postgres

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/knowledge"
)

const importJobColumns = `id, source, format, options, status, total, done, added, updated, unchanged, failed, errors, error,
	created_by, created_at, started_at, finished_at`

func scanImportJob(r pgx.Row) (knowledge.ImportJob, error) {
	var j knowledge.ImportJob
	var opts, errs []byte
	err := r.Scan(&j.ID, &j.Source, &j.Format, &opts, &j.Status, &j.Total, &j.Done, &j.Summary.Added, &j.Summary.Updated,
		&j.Summary.Unchanged, &j.Summary.Failed, &errs, &j.Error, &j.CreatedBy, &j.CreatedAt, &j.StartedAt, &j.FinishedAt)
	if err != nil {
		return j, err
	}
	if err := json.Unmarshal(opts, &j.Options); err != nil {
		return j, fmt.Errorf("decode import options: %w", err)
	}
	if err := json.Unmarshal(errs, &j.Summary.Failures); err != nil {
		return j, fmt.Errorf("decode import failures: %w", err)
	}
	return j, nil
}

// CreateImportJob queues an import job.
func (db *DB) CreateImportJob(ctx context.Context, j knowledge.ImportJob) (knowledge.ImportJob, error) {
	opts, err := json.Marshal(j.Options)
	if err != nil {
		return j, fmt.Errorf("encode import options: %w", err)
	}
	var content *string
	if j.Content != "" {
		content = &j.Content
	}
	var out knowledge.ImportJob
	err = db.inTx(ctx, func(tx pgx.Tx) error {
		var err error
		out, err = scanImportJob(tx.QueryRow(ctx, `INSERT INTO kb_import_jobs (source, format, options, content, created_by, created_at)
			VALUES ($1, $2, $3, $4, $5, $6) RETURNING `+importJobColumns, j.Source, j.Format, opts, content, j.CreatedBy, db.Clock.Now()))
		if err != nil {
			return fmt.Errorf("create import job: %w", err)
		}
		var actorID int64
		if j.CreatedBy != nil {
			actorID = *j.CreatedBy
		}
		return Audit(ctx, tx, db, actorID, "import", "kb_import_job", fmt.Sprint(out.ID), nil,
			map[string]any{"source": j.Source, "format": j.Format})
	})
	return out, err
}

// StartImportJob marks a job running and returns it with its content. A job that is already
// done or failed is returned unchanged (a re-delivered task does nothing); a running one is
// restarted (its worker died; imports are idempotent).
func (db *DB) StartImportJob(ctx context.Context, id int64) (knowledge.ImportJob, error) {
	var j knowledge.ImportJob
	err := db.inTx(ctx, func(tx pgx.Tx) error {
		var err error
		j, err = scanImportJob(tx.QueryRow(ctx, `SELECT `+importJobColumns+` FROM kb_import_jobs WHERE id = $1 FOR UPDATE`, id))
		if err != nil {
			return notFound(err, "import job")
		}
		if j.Status == knowledge.JobDone || j.Status == knowledge.JobFailed {
			return nil
		}
		now := db.Clock.Now()
		var content *string
		if err := tx.QueryRow(ctx, `UPDATE kb_import_jobs SET status = 'running', started_at = $2 WHERE id = $1 RETURNING content`,
			id, now).Scan(&content); err != nil {
			return fmt.Errorf("start import job: %w", err)
		}
		if content != nil {
			j.Content = *content
		}
		j.Status, j.StartedAt = knowledge.JobRunning, &now
		return nil
	})
	return j, err
}

// ProgressImportJob records how far a running job is.
func (db *DB) ProgressImportJob(ctx context.Context, id int64, done, total int) error {
	if _, err := db.Pool.Exec(ctx, `UPDATE kb_import_jobs SET done = $2, total = $3 WHERE id = $1`, id, done, total); err != nil {
		return fmt.Errorf("record import progress: %w", err)
	}
	return nil
}

// FinishImportJob records a job's outcome: done, or failed with errMsg. Uploaded content is
// dropped.
func (db *DB) FinishImportJob(ctx context.Context, id int64, sum knowledge.ImportSummary, errMsg string) error {
	status := knowledge.JobDone
	if errMsg != "" {
		status = knowledge.JobFailed
	}
	failures := sum.Failures
	if failures == nil {
		failures = []knowledge.ImportFailure{}
	}
	errs, err := json.Marshal(failures)
	if err != nil {
		return fmt.Errorf("encode import failures: %w", err)
	}
	_, err = db.Pool.Exec(ctx, `UPDATE kb_import_jobs SET status = $2, added = $3, updated = $4, unchanged = $5, failed = $6,
		errors = $7, error = $8, finished_at = $9, content = NULL, done = greatest(done, $10), total = greatest(total, $10)
		WHERE id = $1`, id, status, sum.Added, sum.Updated, sum.Unchanged, sum.Failed, errs, errMsg, db.Clock.Now(), sum.Total())
	if err != nil {
		return fmt.Errorf("finish import job: %w", err)
	}
	return nil
}

// ImportJob returns one import job.
func (db *DB) ImportJob(ctx context.Context, id int64) (knowledge.ImportJob, error) {
	j, err := scanImportJob(db.Pool.QueryRow(ctx, `SELECT `+importJobColumns+` FROM kb_import_jobs WHERE id = $1`, id))
	return j, notFound(err, "import job")
}

// ListImportJobs lists the newest import jobs.
func (db *DB) ListImportJobs(ctx context.Context, limit int) ([]knowledge.ImportJob, error) {
	rows, err := db.Pool.Query(ctx, `SELECT `+importJobColumns+` FROM kb_import_jobs ORDER BY id DESC LIMIT $1`, limit)
	if err != nil {
		return nil, fmt.Errorf("list import jobs: %w", err)
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (knowledge.ImportJob, error) { return scanImportJob(r) })
}

// RecordGap stores an unanswered question; the same message is recorded once.
func (db *DB) RecordGap(ctx context.Context, g knowledge.Gap) error {
	_, err := db.Pool.Exec(ctx, `INSERT INTO kb_gaps (question, conversation_id, message_id, reason, created_at)
		VALUES ($1, $2, $3, $4, $5) ON CONFLICT (message_id) WHERE message_id > 0 DO NOTHING`,
		g.Question, g.ConversationID, g.MessageID, g.Reason, db.Clock.Now())
	if err != nil {
		return fmt.Errorf("record knowledge gap: %w", err)
	}
	return nil
}

// Gaps lists unanswered questions since a time, newest first.
func (db *DB) Gaps(ctx context.Context, since time.Time, limit int) ([]knowledge.Gap, error) {
	rows, err := db.Pool.Query(ctx, `SELECT id, question, conversation_id, message_id, reason, created_at FROM kb_gaps
		WHERE created_at >= $1 ORDER BY created_at DESC, id DESC LIMIT $2`, since, limit)
	if err != nil {
		return nil, fmt.Errorf("list knowledge gaps: %w", err)
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (knowledge.Gap, error) {
		var g knowledge.Gap
		return g, r.Scan(&g.ID, &g.Question, &g.ConversationID, &g.MessageID, &g.Reason, &g.CreatedAt)
	})
}

// RecordFeedback stores a vote per chunk; a later vote by the same person on the same answer
// replaces the earlier one. Chunks that no longer exist are refused.
func (db *DB) RecordFeedback(ctx context.Context, f knowledge.Feedback) error {
	return db.inTx(ctx, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `INSERT INTO kb_feedback (message_id, chunk_id, article_id, up, by, created_at)
			SELECT $1, c.id, c.article_id, $3, $4, $5 FROM kb_chunks c WHERE c.id = ANY($2)
			ON CONFLICT (message_id, chunk_id, by) DO UPDATE SET up = excluded.up, created_at = excluded.created_at`,
			f.MessageID, f.ChunkIDs, f.Up, f.By, db.Clock.Now())
		if err != nil {
			return fmt.Errorf("record feedback: %w", err)
		}
		if int(tag.RowsAffected()) != len(f.ChunkIDs) {
			return baton.Errorf(baton.ErrNotFound, "not_found", "%d of %d chunks not found", len(f.ChunkIDs)-int(tag.RowsAffected()), len(f.ChunkIDs))
		}
		return nil
	})
}

// FeedbackByArticle sums votes per article, most down votes first.
func (db *DB) FeedbackByArticle(ctx context.Context, limit int) ([]knowledge.ArticleFeedback, error) {
	rows, err := db.Pool.Query(ctx, `SELECT f.article_id, a.title, count(*) FILTER (WHERE f.up), count(*) FILTER (WHERE NOT f.up),
			max(f.created_at)
		FROM kb_feedback f JOIN kb_articles a ON a.id = f.article_id
		GROUP BY f.article_id, a.title ORDER BY 4 DESC, 3 DESC, 1 LIMIT $1`, limit)
	if err != nil {
		return nil, fmt.Errorf("sum feedback: %w", err)
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (knowledge.ArticleFeedback, error) {
		var f knowledge.ArticleFeedback
		return f, r.Scan(&f.ArticleID, &f.Title, &f.Up, &f.Down, &f.Last)
	})
}
