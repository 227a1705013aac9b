package web

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/knowledge"
)

// KnowledgeAPI is the knowledge base behind the admin API; *knowledge.Service implements it.
type KnowledgeAPI interface {
	CreateArticle(ctx context.Context, actorID int64, in knowledge.ArticleInput) (knowledge.Article, error)
	UpdateArticle(ctx context.Context, actorID, id int64, p knowledge.ArticlePatch) (knowledge.Article, error)
	Publish(ctx context.Context, actorID, id int64, publish bool) (knowledge.Article, error)
	DeleteArticle(ctx context.Context, actorID, id int64) error
	Article(ctx context.Context, id int64) (knowledge.Article, error)
	ListArticles(ctx context.Context, f knowledge.ArticleFilter) ([]knowledge.Article, error)
	Versions(ctx context.Context, id int64) ([]knowledge.Version, error)
	Version(ctx context.Context, id int64, version int) (knowledge.Version, error)
	Diff(ctx context.Context, id int64, from, to int) (knowledge.Diff, error)
	Restore(ctx context.Context, actorID, id int64, version int) (knowledge.Article, error)
	StartImport(ctx context.Context, actorID int64, r knowledge.ImportRequest) (knowledge.ImportJob, error)
	ImportJob(ctx context.Context, id int64) (knowledge.ImportJob, error)
	ImportJobs(ctx context.Context) ([]knowledge.ImportJob, error)
	Search(ctx context.Context, query string, o knowledge.SearchOptions) (knowledge.SearchResult, error)
	Answer(ctx context.Context, question string, o knowledge.AnswerOptions) (knowledge.Answer, error)
	Gaps(ctx context.Context, o knowledge.GapOptions) ([]knowledge.GapGroup, error)
	Feedback(ctx context.Context, messageID int64, chunkIDs []int64, up bool, by string) error
	FeedbackByArticle(ctx context.Context, limit int) ([]knowledge.ArticleFeedback, error)
	Status(ctx context.Context) ([]knowledge.EmbeddingModel, error)
}

// Body limits of the knowledge routes.
const (
	articleBodyLimit = 1 << 20                             // an article (200 kB of Markdown) JSON-escaped
	importBodyLimit  = knowledge.MaxImportBytes*2 + 64<<10 // uploaded content, JSON-escaped
)

// MountKnowledge registers the knowledge-base admin API under /v1/knowledge: articles with
// versions, diff and restore, publish and unpublish, background imports, the retrieval
// playground, knowledge gaps and answer feedback (which agents may give too).
func (s *Server) MountKnowledge(kb KnowledgeAPI) {
	s.Handle("GET /v1/knowledge/articles", Admin, 0, func(w http.ResponseWriter, r *http.Request) error {
		q := r.URL.Query()
		f := knowledge.ArticleFilter{Query: q.Get("q"), Status: q.Get("status"), Tag: q.Get("tag"), Limit: 50}
		var err error
		if v := q.Get("cursor"); v != "" {
			if f.After, err = strconv.ParseInt(v, 10, 64); err != nil || f.After <= 0 {
				return baton.Invalid("cursor is not valid")
			}
		}
		if v := q.Get("limit"); v != "" {
			if f.Limit, err = strconv.Atoi(v); err != nil || f.Limit < 1 || f.Limit > 200 {
				return baton.Invalid("limit must be 1..200")
			}
		}
		as, err := kb.ListArticles(r.Context(), f)
		if err != nil {
			return err
		}
		out := map[string]any{"articles": as, "next_cursor": nil}
		if as == nil {
			out["articles"] = []knowledge.Article{}
		}
		if len(as) == f.Limit {
			out["next_cursor"] = strconv.FormatInt(as[len(as)-1].ID, 10)
		}
		return WriteJSON(w, http.StatusOK, out)
	})
	s.Handle("POST /v1/knowledge/articles", Admin, articleBodyLimit, func(w http.ResponseWriter, r *http.Request) error {
		var in knowledge.ArticleInput
		if err := DecodeJSON(r, &in); err != nil {
			return err
		}
		a, err := kb.CreateArticle(r.Context(), Actor(r), in)
		if err != nil {
			return err
		}
		return WriteJSON(w, http.StatusCreated, a)
	})
	s.Handle("GET /v1/knowledge/articles/{id}", Admin, 0, func(w http.ResponseWriter, r *http.Request) error {
		id, err := PathID(r, "id")
		if err != nil {
			return err
		}
		a, err := kb.Article(r.Context(), id)
		if err != nil {
			return err
		}
		return WriteJSON(w, http.StatusOK, a)
	})
	s.Handle("PATCH /v1/knowledge/articles/{id}", Admin, articleBodyLimit, func(w http.ResponseWriter, r *http.Request) error {
		id, err := PathID(r, "id")
		if err != nil {
			return err
		}
		var p knowledge.ArticlePatch
		if err := DecodeJSON(r, &p); err != nil {
			return err
		}
		a, err := kb.UpdateArticle(r.Context(), Actor(r), id, p)
		if err != nil {
			return err
		}
		return WriteJSON(w, http.StatusOK, a)
	})
	s.Handle("DELETE /v1/knowledge/articles/{id}", Admin, 0, func(w http.ResponseWriter, r *http.Request) error {
		id, err := PathID(r, "id")
		if err != nil {
			return err
		}
		if err := kb.DeleteArticle(r.Context(), Actor(r), id); err != nil {
			return err
		}
		w.WriteHeader(http.StatusNoContent)
		return nil
	})
	for _, action := range []string{"publish", "unpublish"} {
		publish := action == "publish"
		s.Handle("POST /v1/knowledge/articles/{id}/"+action, Admin, 0, func(w http.ResponseWriter, r *http.Request) error {
			id, err := PathID(r, "id")
			if err != nil {
				return err
			}
			a, err := kb.Publish(r.Context(), Actor(r), id, publish)
			if err != nil {
				return err
			}
			return WriteJSON(w, http.StatusOK, a)
		})
	}
	s.Handle("GET /v1/knowledge/articles/{id}/versions", Admin, 0, func(w http.ResponseWriter, r *http.Request) error {
		id, err := PathID(r, "id")
		if err != nil {
			return err
		}
		vs, err := kb.Versions(r.Context(), id)
		if err != nil {
			return err
		}
		return WriteJSON(w, http.StatusOK, map[string]any{"versions": vs})
	})
	s.Handle("GET /v1/knowledge/articles/{id}/versions/{version}", Admin, 0, func(w http.ResponseWriter, r *http.Request) error {
		id, err := PathID(r, "id")
		if err != nil {
			return err
		}
		v, err := PathID(r, "version")
		if err != nil {
			return err
		}
		ver, err := kb.Version(r.Context(), id, int(v))
		if err != nil {
			return err
		}
		return WriteJSON(w, http.StatusOK, ver)
	})
	s.Handle("GET /v1/knowledge/articles/{id}/diff", Admin, 0, func(w http.ResponseWriter, r *http.Request) error {
		id, err := PathID(r, "id")
		if err != nil {
			return err
		}
		from, err := intParam(r, "from", 0)
		if err != nil {
			return err
		}
		to, err := intParam(r, "to", 0)
		if err != nil {
			return err
		}
		if from == 0 {
			return baton.Invalid("from is required: the version to compare with")
		}
		d, err := kb.Diff(r.Context(), id, from, to)
		if err != nil {
			return err
		}
		return WriteJSON(w, http.StatusOK, d)
	})
	s.Handle("POST /v1/knowledge/articles/{id}/restore", Admin, 4<<10, func(w http.ResponseWriter, r *http.Request) error {
		id, err := PathID(r, "id")
		if err != nil {
			return err
		}
		var in struct {
			Version int `json:"version"`
		}
		if err := DecodeJSON(r, &in); err != nil {
			return err
		}
		if in.Version <= 0 {
			return baton.Invalid("version must be a positive version number")
		}
		a, err := kb.Restore(r.Context(), Actor(r), id, in.Version)
		if err != nil {
			return err
		}
		return WriteJSON(w, http.StatusOK, a)
	})

	s.Handle("POST /v1/knowledge/imports", Admin, importBodyLimit, func(w http.ResponseWriter, r *http.Request) error {
		var in knowledge.ImportRequest
		if err := DecodeJSON(r, &in); err != nil {
			return err
		}
		j, err := kb.StartImport(r.Context(), Actor(r), in)
		if err != nil {
			return err
		}
		return WriteJSON(w, http.StatusAccepted, j)
	})
	s.Handle("GET /v1/knowledge/imports", Admin, 0, func(w http.ResponseWriter, r *http.Request) error {
		js, err := kb.ImportJobs(r.Context())
		if err != nil {
			return err
		}
		if js == nil {
			js = []knowledge.ImportJob{}
		}
		return WriteJSON(w, http.StatusOK, map[string]any{"imports": js})
	})
	s.Handle("GET /v1/knowledge/imports/{id}", Admin, 0, func(w http.ResponseWriter, r *http.Request) error {
		id, err := PathID(r, "id")
		if err != nil {
			return err
		}
		j, err := kb.ImportJob(r.Context(), id)
		if err != nil {
			return err
		}
		return WriteJSON(w, http.StatusOK, j)
	})

	s.Handle("POST /v1/knowledge/search", Admin, 16<<10, func(w http.ResponseWriter, r *http.Request) error {
		var in struct {
			Query         string                 `json:"query"`
			Mode          string                 `json:"mode"`
			Limit         int                    `json:"limit"`
			Candidates    int                    `json:"candidates"`
			Neighbours    int                    `json:"neighbours"`
			Language      string                 `json:"language"`
			Filter        knowledge.SearchFilter `json:"filter"`
			MinConfidence float64                `json:"min_confidence"`
		}
		if err := DecodeJSON(r, &in); err != nil {
			return err
		}
		if in.Query == "" {
			return baton.Invalid("query is required")
		}
		if in.Limit < 0 || in.Limit > 100 || in.Candidates < 0 || in.Candidates > 500 || in.Neighbours < 0 || in.Neighbours > 5 {
			return baton.Invalid("limit must be 0..100, candidates 0..500 and neighbours 0..5")
		}
		if in.MinConfidence < 0 || in.MinConfidence > 1 {
			return baton.Invalid("min_confidence must be 0..1")
		}
		res, err := kb.Search(r.Context(), in.Query, knowledge.SearchOptions{Filter: in.Filter, Language: in.Language,
			Mode: in.Mode, Limit: in.Limit, Candidates: in.Candidates, Neighbours: in.Neighbours})
		if err != nil {
			return err
		}
		// The answer the bot would give: published articles only, whatever the filter above.
		ans, err := kb.Answer(r.Context(), in.Query, knowledge.AnswerOptions{Language: in.Language,
			Filter: knowledge.SearchFilter{Language: in.Filter.Language, Tags: in.Filter.Tags}, MinConfidence: in.MinConfidence})
		if err != nil {
			return err
		}
		return WriteJSON(w, http.StatusOK, map[string]any{"search": res, "answer": ans})
	})

	s.Handle("GET /v1/knowledge/gaps", Admin, 0, func(w http.ResponseWriter, r *http.Request) error {
		days, err := intParam(r, "days", 30)
		if err != nil || days < 1 || days > 365 {
			return baton.Invalid("days must be 1..365")
		}
		limit, err := limitParam(r, 50, 500)
		if err != nil {
			return err
		}
		gs, err := kb.Gaps(r.Context(), knowledge.GapOptions{Since: time.Duration(days) * 24 * time.Hour, Limit: limit})
		if err != nil {
			return err
		}
		return WriteJSON(w, http.StatusOK, map[string]any{"gaps": gs})
	})
	s.Handle("POST /v1/knowledge/feedback", Agent, 4<<10, func(w http.ResponseWriter, r *http.Request) error {
		var in struct {
			MessageID int64   `json:"message_id"`
			ChunkIDs  []int64 `json:"chunk_ids"`
			Up        *bool   `json:"up"`
		}
		if err := DecodeJSON(r, &in); err != nil {
			return err
		}
		if in.Up == nil {
			return baton.Invalid("up is required: true for helpful, false for misleading")
		}
		u, _ := UserFrom(r.Context())
		by := fmt.Sprintf("%s:%d", u.Role, u.ID)
		if err := kb.Feedback(r.Context(), in.MessageID, in.ChunkIDs, *in.Up, by); err != nil {
			return err
		}
		w.WriteHeader(http.StatusNoContent)
		return nil
	})
	s.Handle("GET /v1/knowledge/feedback", Admin, 0, func(w http.ResponseWriter, r *http.Request) error {
		fs, err := kb.FeedbackByArticle(r.Context(), 100)
		if err != nil {
			return err
		}
		if fs == nil {
			fs = []knowledge.ArticleFeedback{}
		}
		return WriteJSON(w, http.StatusOK, map[string]any{"articles": fs})
	})
	s.Handle("GET /v1/knowledge/status", Admin, 0, func(w http.ResponseWriter, r *http.Request) error {
		ms, err := kb.Status(r.Context())
		if err != nil {
			return err
		}
		if ms == nil {
			ms = []knowledge.EmbeddingModel{}
		}
		return WriteJSON(w, http.StatusOK, map[string]any{"models": ms})
	})
}

// intParam parses an optional integer query parameter.
// limitParam reads the "limit" query parameter: def when absent, else 1..most.
func limitParam(r *http.Request, def, most int) (int, error) {
	n, err := intParam(r, "limit", def)
	if err != nil || n < 1 || n > most {
		return 0, baton.Invalid("limit must be 1..%d", most)
	}
	return n, nil
}

func intParam(r *http.Request, name string, def int) (int, error) {
	v := r.URL.Query().Get(name)
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		return 0, baton.Invalid("%s must be an integer", name)
	}
	return n, nil
}
