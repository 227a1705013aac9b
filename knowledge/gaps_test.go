package knowledge_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/knowledge"
)

func TestGapsAreGroupedWithCounts(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := t.Context()
	gaps := []struct {
		q      string
		conv   int64
		msg    int64
		reason string
	}{
		{"Do you sell gift wrapping?", 1, 11, knowledge.ReasonLowConfidence},
		{"do you sell gift wrapping", 2, 21, knowledge.ReasonNoResults},
		{"Can you gift wrap my order?", 3, 31, knowledge.ReasonHandoff}, // "gift" + "wrap": one gap with the above
		{"Is there a store in Lisbon?", 4, 41, knowledge.ReasonNoResults},
		{"Do you sell gift wrapping?", 1, 11, knowledge.ReasonLowConfidence}, // the same message again: once
		{"Do you sell gift wrapping?", 5, 51, knowledge.ReasonLowConfidence},
	}
	for _, g := range gaps {
		if err := b.svc.RecordGap(ctx, g.q, g.conv, g.msg, g.reason); err != nil {
			t.Fatal(err)
		}
		b.clock.Advance(time.Minute)
	}
	groups, err := b.svc.Gaps(ctx, knowledge.GapOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(groups) != 2 {
		t.Fatalf("%d groups, want 2: %+v", len(groups), groups)
	}
	g := groups[0]
	if g.Count != 4 || g.Question != "Do you sell gift wrapping?" || len(g.Examples) != 3 {
		t.Errorf("top group %+v: want 4 questions, the most frequent wording first, 3 distinct examples", g)
	}
	if g.Reasons[knowledge.ReasonLowConfidence] != 2 || g.Reasons[knowledge.ReasonHandoff] != 1 || !slices.Equal(g.ConversationIDs, []int64{1, 2, 3, 5}) {
		t.Errorf("top group reasons %v, conversations %v", g.Reasons, g.ConversationIDs)
	}
	if !g.LastSeen.After(g.FirstSeen) {
		t.Errorf("first seen %v, last seen %v", g.FirstSeen, g.LastSeen)
	}
	if groups[1].Count != 1 || !strings.Contains(groups[1].Question, "Lisbon") {
		t.Errorf("second group %+v", groups[1])
	}
	// Old gaps fall out of the window.
	b.clock.Advance(40 * 24 * time.Hour)
	if groups, err := b.svc.Gaps(ctx, knowledge.GapOptions{}); err != nil || len(groups) != 0 {
		t.Errorf("gaps after 40 days: %v, %v", groups, err)
	}
	for _, bad := range []struct{ q, reason string }{{"", "x"}, {"q", ""}} {
		if err := b.svc.RecordGap(ctx, bad.q, 0, 0, bad.reason); !errors.Is(err, baton.ErrInvalid) {
			t.Errorf("gap %+v: %v, want invalid", bad, err)
		}
	}
}

func TestFeedbackIsRecordedAgainstChunks(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.seed(t)
	ctx := t.Context()
	ans, err := b.svc.Answer(ctx, "How do I reset my password?", knowledge.AnswerOptions{})
	if err != nil || ans.NoAnswer {
		t.Fatalf("answer: %+v, %v", ans, err)
	}
	used := []int64{ans.Citations[0].ChunkID}
	other, err := b.svc.Answer(ctx, "How much does express delivery cost?", knowledge.AnswerOptions{})
	if err != nil || other.NoAnswer {
		t.Fatalf("answer: %+v, %v", other, err)
	}
	votes := []struct {
		msg    int64
		chunks []int64
		up     bool
		by     string
	}{
		{100, used, true, "customer:7"},
		{101, used, true, "agent:3"},
		{102, []int64{other.Citations[0].ChunkID}, false, "customer:8"},
		{103, []int64{other.Citations[0].ChunkID}, true, "customer:9"},
		{103, []int64{other.Citations[0].ChunkID}, false, "customer:9"}, // changed their mind: replaces
		{104, []int64{other.Citations[0].ChunkID, other.Citations[0].ChunkID}, false, "agent:3"},
	}
	for _, v := range votes {
		if err := b.svc.Feedback(ctx, v.msg, v.chunks, v.up, v.by); err != nil {
			t.Fatal(err)
		}
	}
	stats, err := b.svc.FeedbackByArticle(ctx, 10)
	if err != nil || len(stats) != 2 {
		t.Fatalf("feedback by article: %+v, %v", stats, err)
	}
	if stats[0].Title != "Shipping times and costs" || stats[0].Down != 3 || stats[0].Up != 0 {
		t.Errorf("most misleading first: %+v", stats[0])
	}
	if stats[1].Title != "Account and password reset" || stats[1].Up != 2 || stats[1].Down != 0 {
		t.Errorf("helpful article: %+v", stats[1])
	}
	tests := []struct {
		name   string
		msg    int64
		chunks []int64
		by     string
		kind   error
	}{
		{"unknown chunk", 200, []int64{987654}, "agent:1", baton.ErrNotFound},
		{"no chunks", 200, nil, "agent:1", baton.ErrInvalid},
		{"no message", 0, used, "agent:1", baton.ErrInvalid},
		{"nobody", 200, used, " ", baton.ErrInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := b.svc.Feedback(ctx, tt.msg, tt.chunks, true, tt.by); !errors.Is(err, tt.kind) {
				t.Errorf("error %v, want %v", err, tt.kind)
			}
		})
	}
	if n := b.count(t, `SELECT count(*) FROM kb_feedback WHERE message_id = 200`); n != 0 {
		t.Errorf("refused feedback stored %d rows", n)
	}
}

// syncEnqueuer runs queued work at once, as a worker would, and records the calls.
type syncEnqueuer struct {
	svc   func() *knowledge.Service
	mu    sync.Mutex
	calls []string
}

func (e *syncEnqueuer) record(s string) {
	e.mu.Lock()
	e.calls = append(e.calls, s)
	e.mu.Unlock()
}

func (e *syncEnqueuer) EnqueueEmbed(ctx context.Context, articleID int64, version int) error {
	e.record("embed")
	_, err := e.svc().EmbedPending(ctx, nil)
	return err
}

func (e *syncEnqueuer) EnqueueImport(ctx context.Context, jobID int64) error {
	e.record("import")
	if err := e.svc().RunImport(ctx, jobID); err != nil {
		return err
	}
	// A re-delivered task finds the job done and does nothing.
	return e.svc().RunImport(ctx, jobID)
}

func (e *syncEnqueuer) EnqueueBuild(ctx context.Context, modelID int64, step int) error {
	e.record("build")
	return nil
}

func TestImportJobs(t *testing.T) {
	t.Parallel()
	st := newSite(t)
	enq := &syncEnqueuer{}
	b := setup(t, st.options, func(o *knowledge.Options) { o.Enqueuer = enq })
	enq.svc = func() *knowledge.Service { return b.svc }
	ctx := t.Context()
	tests := []struct {
		name       string
		req        knowledge.ImportRequest
		status     string
		added      int
		failed     int
		errMessage string
	}{
		{name: "uploaded csv", req: knowledge.ImportRequest{Content: "question,answer\nQ1?,A1.\nQ2?,A2.\n", Options: knowledge.ImportOptions{Format: "csv"}},
			status: knowledge.JobDone, added: 2},
		{name: "sitemap", req: knowledge.ImportRequest{URL: st.URL + "/sitemap.xml"}, status: knowledge.JobDone, added: 2, failed: 2},
		{name: "url that fails", req: knowledge.ImportRequest{URL: st.URL + "/nope"}, status: knowledge.JobFailed, errMessage: "HTTP 404"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			j, err := b.svc.StartImport(ctx, 0, tt.req)
			if err != nil {
				t.Fatal(err)
			}
			j, err = b.svc.ImportJob(ctx, j.ID)
			if err != nil {
				t.Fatal(err)
			}
			if j.Status != tt.status || j.Summary.Added != tt.added || j.Summary.Failed != tt.failed || !strings.Contains(j.Error, tt.errMessage) {
				t.Fatalf("job %+v: want %s, %d added, %d failed, error with %q", j, tt.status, tt.added, tt.failed, tt.errMessage)
			}
			if len(j.Summary.Failures) != tt.failed || j.FinishedAt == nil {
				t.Errorf("job failures %+v, finished %v", j.Summary.Failures, j.FinishedAt)
			}
		})
	}
	var content *string
	if err := b.db.Pool.QueryRow(ctx, `SELECT content FROM kb_import_jobs ORDER BY id LIMIT 1`).Scan(&content); err != nil || content != nil {
		t.Errorf("uploaded content kept after the job: %v, %v", content, err)
	}
	bad := []struct {
		name string
		req  knowledge.ImportRequest
	}{
		{"nothing", knowledge.ImportRequest{}},
		{"both", knowledge.ImportRequest{URL: st.URL, Content: "x"}},
		{"content without format", knowledge.ImportRequest{Content: "q,a\n"}},
		{"malformed content", knowledge.ImportRequest{Content: "{not json", Options: knowledge.ImportOptions{Format: "jsonl"}}},
		{"server path", knowledge.ImportRequest{URL: "/etc/passwd"}},
	}
	for _, tt := range bad {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := b.svc.StartImport(ctx, 0, tt.req); !errors.Is(err, baton.ErrInvalid) {
				t.Errorf("error %v, want invalid", err)
			}
		})
	}
	jobs, err := b.svc.ImportJobs(ctx)
	if err != nil || len(jobs) != len(tests) {
		t.Errorf("%d jobs (%v), want %d: refused requests create none", len(jobs), err, len(tests))
	}
	// An article edit queues its embedding.
	if _, err := b.svc.CreateArticle(ctx, 0, knowledge.ArticleInput{Title: "New", Body: "Text."}); err != nil {
		t.Fatal(err)
	}
	enq.mu.Lock()
	defer enq.mu.Unlock()
	if !slices.Contains(enq.calls, "embed") || b.count(t, `SELECT count(*) FROM kb_emb_1`) != b.count(t, `SELECT count(*) FROM kb_chunks`) {
		t.Errorf("calls %v: an edit should queue embedding, and every chunk have a vector", enq.calls)
	}
}
