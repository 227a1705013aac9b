package knowledge

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/batonhq/baton"
)

// ImportRequest starts a background import: a URL (a page or a sitemap), or uploaded content
// in a format (markdown, csv or jsonl). Server-side paths are not accepted.
type ImportRequest struct {
	URL     string        `json:"url,omitempty"`
	Content string        `json:"content,omitempty"`
	Name    string        `json:"name,omitempty"` // of uploaded content, for messages
	Options ImportOptions `json:"options"`
}

// StartImport validates a request, records the job and queues it (without a queue it runs
// before returning). Uploaded content is parsed up front, so malformed content is refused here
// and no job is created.
func (s *Service) StartImport(ctx context.Context, actorID int64, r ImportRequest) (ImportJob, error) {
	j := ImportJob{Options: r.Options, Format: r.Options.Format}
	if actorID > 0 {
		j.CreatedBy = &actorID
	}
	switch {
	case r.URL != "" && r.Content != "":
		return j, baton.Invalid("give a url or content, not both")
	case r.URL != "":
		if !isURL(r.URL) {
			return j, baton.Invalid("url must be an http(s) URL")
		}
		// An internal address is refused now, not only when the job dials it.
		if err := s.CheckURL(ctx, r.URL); err != nil {
			return j, err
		}
		j.Source, j.Format = r.URL, FormatURL
	case r.Content != "":
		if r.Options.Format == "" || r.Options.Format == FormatURL {
			return j, baton.Invalid("uploaded content needs options.format: markdown, csv or jsonl")
		}
		name := strings.TrimSpace(r.Name)
		if name == "" {
			name = "upload." + r.Options.Format
		}
		if _, err := ParseContent(name, r.Options.Format, []byte(r.Content)); err != nil {
			return j, err
		}
		j.Source, j.Content = name, r.Content
	default:
		return j, baton.Invalid("give a url or content to import")
	}
	if o := r.Options; o.PageLimit < 0 || o.PageLimit > MaxPages || o.Concurrency < 0 || o.Concurrency > 8 {
		return j, baton.Invalid("page_limit must be 0..%d and concurrency 0..8", MaxPages)
	}
	if st := r.Options.Status; st != "" && st != StatusDraft && st != StatusPublished {
		return j, baton.Invalid("options.status must be draft or published")
	}
	job, err := s.store.CreateImportJob(ctx, j)
	if err != nil {
		return job, err
	}
	if s.o.Enqueuer != nil {
		if err := s.o.Enqueuer.EnqueueImport(ctx, job.ID); err != nil {
			return job, fmt.Errorf("queue import job %d: %w", job.ID, err)
		}
		return job, nil
	}
	if err := s.RunImport(ctx, job.ID); err != nil {
		return job, err
	}
	return s.store.ImportJob(ctx, job.ID)
}

// RunImport runs a queued import job; the background task calls it. A finished job is left
// alone, so a re-delivered task does nothing twice. Problems of the source end the job as
// failed (and return nil: retrying won't help); infrastructure errors are returned for retry.
func (s *Service) RunImport(ctx context.Context, jobID int64) error {
	j, err := s.store.StartImportJob(ctx, jobID)
	if err != nil {
		return err
	}
	if j.Status != JobRunning {
		return nil
	}
	actorID := int64(0)
	if j.CreatedBy != nil {
		actorID = *j.CreatedBy
	}
	var items []Item
	if j.Content != "" {
		items, err = ParseContent(j.Source, j.Format, []byte(j.Content))
	} else {
		items, err = s.ReadSource(ctx, j.Source, ImportOptions{Format: FormatURL, PageLimit: j.Options.PageLimit, Concurrency: j.Options.Concurrency})
	}
	if err != nil {
		if errors.Is(err, baton.ErrInvalid) {
			return s.store.FinishImportJob(ctx, jobID, ImportSummary{}, reason(err))
		}
		return err
	}
	last := time.Time{}
	progress := func(done, total int) {
		// At most a few writes a second: progress is for people watching.
		if now := time.Now(); now.Sub(last) > 500*time.Millisecond || done == total {
			last = now
			if err := s.store.ProgressImportJob(ctx, jobID, done, total); err != nil {
				s.log.WarnContext(ctx, "record import progress", "job_id", jobID, "err", err)
			}
		}
	}
	sum, err := s.ImportItems(ctx, actorID, fmt.Sprintf("import job %d", jobID), items, j.Options, progress)
	if err != nil {
		return err
	}
	s.log.InfoContext(ctx, "import job done", "job_id", jobID, "added", sum.Added, "updated", sum.Updated,
		"unchanged", sum.Unchanged, "failed", sum.Failed)
	return s.store.FinishImportJob(ctx, jobID, sum, "")
}

// ImportJob returns one import job.
func (s *Service) ImportJob(ctx context.Context, id int64) (ImportJob, error) {
	return s.store.ImportJob(ctx, id)
}

// ImportJobs lists the newest import jobs.
func (s *Service) ImportJobs(ctx context.Context) ([]ImportJob, error) {
	return s.store.ListImportJobs(ctx, 50)
}
