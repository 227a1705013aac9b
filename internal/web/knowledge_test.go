package web_test

import (
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/internal/dbtest"
	"github.com/batonhq/baton/internal/llm"
	"github.com/batonhq/baton/internal/postgres"
	"github.com/batonhq/baton/internal/web"
	"github.com/batonhq/baton/knowledge"
)

// mountKnowledge mounts the knowledge API on a real knowledge base (local embeddings, work
// inline instead of on a queue), as cmd/baton's app.server does. mountAll calls it.
func mountKnowledge(t testing.TB, s *web.Server, db *postgres.DB, clock baton.Clock) *knowledge.Service {
	t.Helper()
	emb, err := llm.NewLocalEmbedder(64)
	if err != nil {
		t.Fatal(err)
	}
	svc := knowledge.New(db, knowledge.Options{Embedder: emb, Clock: clock, Log: slog.New(slog.DiscardHandler)})
	if _, err := svc.Start(t.Context()); err != nil {
		t.Fatalf("start knowledge base: %v", err)
	}
	s.MountKnowledge(svc)
	return svc
}

// newKnowledgeServer is a test server with the knowledge API and a seeded help centre.
func newKnowledgeServer(t testing.TB) (*testServer, *knowledge.Service) {
	t.Helper()
	clock := baton.NewManualClock(epoch)
	db := postgres.New(dbtest.New(t).Pool, clock)
	s := web.New(web.Options{Log: slog.New(slog.NewTextHandler(t.Output(), nil)), Auth: db, PublicURL: "http://127.0.0.1:8080", DB: db})
	svc := mountKnowledge(t, s, db, clock)
	if _, err := svc.Seed(t.Context()); err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(s.Handler())
	t.Cleanup(hs.Close)
	return &testServer{Server: hs, web: s, db: db, clock: clock}, svc
}

func TestKnowledgeArticlesAPI(t *testing.T) {
	t.Parallel()
	ts, _ := newKnowledgeServer(t)
	_, admin := ts.user(t, baton.RoleAdmin)
	r := ts.do(t, call{method: "POST", path: "/v1/knowledge/articles", token: admin,
		body: map[string]any{"title": "Store hours", "body": "We open at nine.", "tags": []string{"Stores"}}})
	r.wantStatus(t, http.StatusCreated)
	var a knowledge.Article
	r.decode(t, &a)
	if a.ID == 0 || a.Version != 1 || a.Status != "draft" || a.Tags[0] != "stores" {
		t.Fatalf("created %+v", a)
	}
	path := fmt.Sprintf("/v1/knowledge/articles/%d", a.ID)
	r = ts.do(t, call{method: "PATCH", path: path, token: admin, body: map[string]any{"body": "We open at ten.", "version": 1}})
	r.wantStatus(t, http.StatusOK)
	ts.do(t, call{method: "PATCH", path: path, token: admin, body: map[string]any{"title": "x", "version": 1}}).wantError(t, http.StatusConflict, "version_conflict")
	ts.do(t, call{method: "POST", path: path + "/publish", token: admin}).wantStatus(t, http.StatusOK)

	var versions struct{ Versions []knowledge.Version }
	ts.do(t, call{method: "GET", path: path + "/versions", token: admin}).decode(t, &versions)
	if len(versions.Versions) != 3 || versions.Versions[0].Article.Status != "published" {
		t.Fatalf("versions %+v", versions.Versions)
	}
	var v1 knowledge.Version
	ts.do(t, call{method: "GET", path: path + "/versions/1", token: admin}).decode(t, &v1)
	if v1.Article.Body != "We open at nine." {
		t.Errorf("version 1 body %q", v1.Article.Body)
	}
	var d knowledge.Diff
	ts.do(t, call{method: "GET", path: path + "/diff?from=1&to=2", token: admin}).decode(t, &d)
	if !strings.Contains(d.Unified, "-We open at nine.\n+We open at ten.") {
		t.Errorf("diff %q", d.Unified)
	}
	r = ts.do(t, call{method: "POST", path: path + "/restore", token: admin, body: map[string]int{"version": 1}})
	r.wantStatus(t, http.StatusOK)
	r.decode(t, &a)
	if a.Version != 4 || a.Body != "We open at nine." {
		t.Errorf("restored %+v", a)
	}
	var list struct {
		Articles   []knowledge.Article
		NextCursor *string `json:"next_cursor"`
	}
	ts.do(t, call{method: "GET", path: "/v1/knowledge/articles?tag=stores", token: admin}).decode(t, &list)
	if len(list.Articles) != 1 || list.Articles[0].ID != a.ID {
		t.Errorf("list by tag: %+v", list.Articles)
	}
	ts.do(t, call{method: "GET", path: "/v1/knowledge/articles?limit=3", token: admin}).decode(t, &list)
	if len(list.Articles) != 3 || list.NextCursor == nil {
		t.Errorf("first page: %d articles, cursor %v", len(list.Articles), list.NextCursor)
	}
	ts.do(t, call{method: "DELETE", path: path, token: admin}).wantStatus(t, http.StatusNoContent)
	ts.do(t, call{method: "GET", path: path, token: admin}).wantError(t, http.StatusNotFound, "not_found")

	// Bad input is refused with the API's error shape.
	for _, c := range []call{
		{method: "POST", path: "/v1/knowledge/articles", body: map[string]any{"body": "no title"}},
		{method: "POST", path: "/v1/knowledge/articles", body: `{"title": "x", "unknown": 1}`},
		{method: "POST", path: "/v1/knowledge/articles", body: `{"title": "x"`},
		{method: "GET", path: "/v1/knowledge/articles?status=live"},
		{method: "GET", path: "/v1/knowledge/articles/1/diff"},
		{method: "POST", path: "/v1/knowledge/articles/1/restore", body: map[string]int{"version": 0}},
	} {
		c.token = admin
		ts.do(t, c).wantError(t, http.StatusBadRequest, "invalid_request")
	}
	big := map[string]string{"title": "big", "body": strings.Repeat("x", 2<<20)}
	ts.do(t, call{method: "POST", path: "/v1/knowledge/articles", token: admin, body: big}).wantError(t, http.StatusRequestEntityTooLarge, "too_large")
}

func TestKnowledgeAPIRoles(t *testing.T) {
	t.Parallel()
	ts, svc := newKnowledgeServer(t)
	_, agent := ts.user(t, baton.RoleAgent)
	_, admin := ts.user(t, baton.RoleAdmin)
	for _, c := range []call{
		{method: "GET", path: "/v1/knowledge/articles"},
		{method: "POST", path: "/v1/knowledge/articles", body: map[string]string{"title": "x"}},
		{method: "POST", path: "/v1/knowledge/articles/1/publish"},
		{method: "POST", path: "/v1/knowledge/search", body: map[string]string{"query": "x"}},
		{method: "GET", path: "/v1/knowledge/gaps"},
		{method: "POST", path: "/v1/knowledge/imports", body: map[string]string{"url": "http://x"}},
	} {
		c.token = agent
		ts.do(t, c).wantError(t, http.StatusForbidden, "forbidden")
		c.token = ""
		ts.do(t, c).wantError(t, http.StatusUnauthorized, "unauthorized")
	}
	// Agents may vote on answers; the vote names them.
	ans, err := svc.Answer(t.Context(), "How do I reset my password?", knowledge.AnswerOptions{})
	if err != nil || ans.NoAnswer {
		t.Fatalf("answer: %+v, %v", ans, err)
	}
	ts.do(t, call{method: "POST", path: "/v1/knowledge/feedback", token: agent,
		body: map[string]any{"message_id": 9, "chunk_ids": []int64{ans.Citations[0].ChunkID}, "up": false}}).wantStatus(t, http.StatusNoContent)
	ts.do(t, call{method: "POST", path: "/v1/knowledge/feedback", token: agent,
		body: map[string]any{"message_id": 9, "chunk_ids": []int64{ans.Citations[0].ChunkID}}}).wantError(t, http.StatusBadRequest, "invalid_request")
	ts.do(t, call{method: "POST", path: "/v1/knowledge/feedback", token: agent,
		body: map[string]any{"message_id": 9, "chunk_ids": []int64{424242}, "up": true}}).wantError(t, http.StatusNotFound, "not_found")
	var fb struct{ Articles []knowledge.ArticleFeedback }
	ts.do(t, call{method: "GET", path: "/v1/knowledge/feedback", token: admin}).decode(t, &fb)
	if len(fb.Articles) != 1 || fb.Articles[0].Down != 1 || fb.Articles[0].Title != "Account and password reset" {
		t.Errorf("feedback by article: %+v", fb.Articles)
	}
}

func TestKnowledgePlaygroundGapsAndImports(t *testing.T) {
	t.Parallel()
	ts, svc := newKnowledgeServer(t)
	_, admin := ts.user(t, baton.RoleAdmin)
	var out struct {
		Search knowledge.SearchResult
		Answer knowledge.Answer
	}
	r := ts.do(t, call{method: "POST", path: "/v1/knowledge/search", token: admin,
		body: map[string]any{"query": "How much does express delivery cost?", "limit": 3}})
	r.wantStatus(t, http.StatusOK)
	r.decode(t, &out)
	if len(out.Search.Hits) != 3 || out.Search.Hits[0].Rank != 1 || out.Search.Hits[0].Vector == nil || out.Search.Hits[0].FTS == nil {
		t.Fatalf("playground hits %+v", out.Search.Hits)
	}
	if out.Answer.NoAnswer || !strings.Contains(out.Answer.Text, "€9.95") || len(out.Answer.Citations) != 1 {
		t.Errorf("playground answer %+v", out.Answer)
	}
	for _, body := range []map[string]any{{"query": ""}, {"query": "x", "mode": "magic"}, {"query": "x", "limit": 1000}} {
		ts.do(t, call{method: "POST", path: "/v1/knowledge/search", token: admin, body: body}).wantError(t, http.StatusBadRequest, "invalid_request")
	}

	for i, q := range []string{"Do you sell gift wrapping?", "do you sell gift wrapping", "Where is your store in Lisbon?"} {
		if err := svc.RecordGap(t.Context(), q, int64(i+1), int64(100+i), knowledge.ReasonLowConfidence); err != nil {
			t.Fatal(err)
		}
	}
	var gaps struct{ Gaps []knowledge.GapGroup }
	ts.do(t, call{method: "GET", path: "/v1/knowledge/gaps?days=7", token: admin}).decode(t, &gaps)
	if len(gaps.Gaps) != 2 || gaps.Gaps[0].Count != 2 || len(gaps.Gaps[0].Examples) != 2 {
		t.Errorf("gaps %+v", gaps.Gaps)
	}
	ts.do(t, call{method: "GET", path: "/v1/knowledge/gaps?days=0", token: admin}).wantError(t, http.StatusBadRequest, "invalid_request")

	r = ts.do(t, call{method: "POST", path: "/v1/knowledge/imports", token: admin,
		body: map[string]any{"content": "question,answer\nDo you sell gift wrapping?,Yes, for €3.\n", "options": map[string]string{"format": "csv"}}})
	r.wantStatus(t, http.StatusAccepted)
	var job knowledge.ImportJob
	r.decode(t, &job)
	ts.do(t, call{method: "GET", path: fmt.Sprintf("/v1/knowledge/imports/%d", job.ID), token: admin}).decode(t, &job)
	if job.Status != knowledge.JobDone || job.Summary.Added != 1 {
		t.Errorf("import job %+v", job)
	}
	var jobs struct{ Imports []knowledge.ImportJob }
	ts.do(t, call{method: "GET", path: "/v1/knowledge/imports", token: admin}).decode(t, &jobs)
	if len(jobs.Imports) != 1 {
		t.Errorf("%d import jobs", len(jobs.Imports))
	}
	ts.do(t, call{method: "POST", path: "/v1/knowledge/imports", token: admin,
		body: map[string]any{"content": "{broken", "options": map[string]string{"format": "jsonl"}}}).wantError(t, http.StatusBadRequest, "invalid_request")
	var status struct{ Models []knowledge.EmbeddingModel }
	ts.do(t, call{method: "GET", path: "/v1/knowledge/status", token: admin}).decode(t, &status)
	if len(status.Models) != 1 || status.Models[0].Status != knowledge.ModelActive || status.Models[0].Embedded != status.Models[0].Chunks {
		t.Errorf("status %+v", status.Models)
	}
}
