package knowledge

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/prompts"
)

// Options configure a Service. Embedder is required.
type Options struct {
	// Embedder is the configured embedding model: chunks are embedded with it, and when it
	// differs from the active model it is built beside it and switched to when complete.
	Embedder Embedder
	// QueryEmbedder returns an embedder for an older model (nil if unavailable), so the active
	// model keeps answering vector queries while Embedder's vectors are built. Without one, only
	// full-text search runs until the switch.
	QueryEmbedder func(model string, dim int) Embedder
	// Completer, when set, writes grounded answers with an LLM; otherwise answers are extractive.
	Completer Completer
	// Enqueuer, when set, runs embedding, imports and model builds as background tasks;
	// otherwise they run inline.
	Enqueuer Enqueuer
	// HTTPClient fetches URL imports; nil = a client with a 20 s timeout. New replaces its
	// transport's dialer with the Fetch guard, so imports never reach internal addresses.
	HTTPClient *http.Client
	// Fetch guards URL imports: which internal hosts are allowed, and the resolver and dialer.
	Fetch    FetchOptions
	Prompts  prompts.Source // nil = prompts.Default(); a *prompts.Live follows activations
	Clock    baton.Clock    // nil = the system clock
	Log      *slog.Logger   // nil = discard
	Chunking ChunkOptions
	// MinConfidence is the answer threshold (default DefaultMinConfidence).
	MinConfidence float64
	// Candidates is how many chunks each retriever returns before fusion (default 40).
	Candidates int
}

// DefaultMinConfidence is the confidence below which Answer declines (see confidence). On the
// dev half of testdata/answer_questions.jsonl every threshold from 0.475 to 0.525 gives the
// most right answers with every out-of-scope question declined (TestAnswerThresholdSweep):
// 0.5 is the middle, above out-of-scope questions that share one of three content words with
// an article (0.467).
const DefaultMinConfidence = 0.5

// Service is the knowledge base. Safe for concurrent use.
type Service struct {
	store Store
	o     Options
	log   *slog.Logger

	mu       sync.Mutex
	active   *EmbeddingModel // cached active model
	activeAt time.Time
	cat      *catalog // what the published articles cover, cached
}

// New returns a Service over store.
func New(store Store, o Options) *Service {
	if o.Prompts == nil {
		o.Prompts = prompts.Default()
	}
	if o.Clock == nil {
		o.Clock = baton.SystemClock{}
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	if o.HTTPClient == nil {
		o.HTTPClient = &http.Client{Timeout: 20 * time.Second}
	}
	o.HTTPClient = guardClient(o.HTTPClient, o.Fetch)
	if o.MinConfidence <= 0 {
		o.MinConfidence = DefaultMinConfidence
	}
	if o.Candidates <= 0 {
		o.Candidates = 40
	}
	return &Service{store: store, o: o, log: o.Log.With("component", "knowledge")}
}

// Start registers the configured embedding model. The first model becomes active at once; a
// different one is built in the background (or inline without an Enqueuer) and replaces the
// active one when complete.
func (s *Service) Start(ctx context.Context) (EmbeddingModel, error) {
	m, err := s.store.RegisterModel(ctx, s.o.Embedder.Model(), s.o.Embedder.Dim())
	if err != nil {
		return m, fmt.Errorf("register embedding model: %w", err)
	}
	s.forgetActive()
	if m.Status == ModelBuilding {
		s.log.InfoContext(ctx, "embedding model build started", "model", m.Model, "dim", m.Dim)
		if s.o.Enqueuer != nil {
			if err := s.o.Enqueuer.EnqueueBuild(ctx, m.ID, 0); err != nil {
				return m, fmt.Errorf("enqueue model build: %w", err)
			}
		}
	}
	return m, nil
}

// Status lists the embedding models with their progress.
func (s *Service) Status(ctx context.Context) ([]EmbeddingModel, error) {
	return s.store.EmbeddingModels(ctx, true)
}

var (
	languagePattern = regexp.MustCompile(`^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$`)
	controlChars    = regexp.MustCompile(`[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]`)
)

// Limits of one article.
const (
	MaxTitle = 300
	MaxBody  = 200_000
	MaxTags  = 20
	MaxTag   = 50
	MaxKey   = 200
)

// Normalize validates an article and puts it in canonical form: trimmed, LF line ends, tags
// lower-case, unique and sorted, defaults filled in. Errors match baton.ErrInvalid.
func Normalize(in ArticleInput) (ArticleInput, error) {
	for name, v := range map[string]string{"title": in.Title, "body": in.Body, "external_key": in.ExternalKey} {
		if !utf8.ValidString(v) {
			return in, baton.Invalid("%s is not valid UTF-8", name)
		}
	}
	in.Title = strings.Join(strings.Fields(in.Title), " ")
	in.Body = strings.TrimSpace(controlChars.ReplaceAllString(strings.ReplaceAll(in.Body, "\r\n", "\n"), ""))
	in.ExternalKey = strings.TrimSpace(in.ExternalKey)
	in.SourceURL = strings.TrimSpace(in.SourceURL)
	in.Language = strings.TrimSpace(in.Language)
	switch {
	case in.Title == "":
		return in, baton.Invalid("title is required")
	case utf8.RuneCountInString(in.Title) > MaxTitle:
		return in, baton.Invalid("title is longer than %d characters", MaxTitle)
	case len(in.Body) > MaxBody:
		return in, baton.Invalid("body is longer than %d bytes", MaxBody)
	case len(in.ExternalKey) > MaxKey || controlChars.MatchString(in.ExternalKey):
		return in, baton.Invalid("external_key must be at most %d printable characters", MaxKey)
	}
	if in.Kind == "" {
		in.Kind = KindArticle
	}
	if in.Kind != KindArticle && in.Kind != KindFAQ {
		return in, baton.Invalid("kind must be article or faq, got %q", in.Kind)
	}
	if in.Status == "" {
		in.Status = StatusDraft
	}
	if in.Status != StatusDraft && in.Status != StatusPublished {
		return in, baton.Invalid("status must be draft or published, got %q", in.Status)
	}
	if in.Language == "" {
		in.Language = "en"
	}
	if !languagePattern.MatchString(in.Language) {
		return in, baton.Invalid("language must be a language code such as en or pt-BR, got %q", in.Language)
	}
	if in.SourceURL != "" {
		u, err := url.Parse(in.SourceURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return in, baton.Invalid("source_url must be an absolute http(s) URL, got %q", in.SourceURL)
		}
	}
	var tags []string
	for _, t := range in.Tags {
		t = strings.ToLower(strings.TrimSpace(t))
		if t == "" {
			continue
		}
		if utf8.RuneCountInString(t) > MaxTag || controlChars.MatchString(t) {
			return in, baton.Invalid("tag %q is longer than %d characters", t, MaxTag)
		}
		tags = append(tags, t)
	}
	slices.Sort(tags)
	tags = slices.Compact(tags)
	if len(tags) > MaxTags {
		return in, baton.Invalid("at most %d tags, got %d", MaxTags, len(tags))
	}
	if tags == nil {
		tags = []string{}
	}
	in.Tags = tags
	return in, nil
}

// contentHash identifies a normalised article's content: equal hashes (and keys), nothing to
// save. The key is left out: a generated one is only known once the article is stored.
func contentHash(in ArticleInput) []byte {
	in.ExternalKey = ""
	b, _ := json.Marshal(in)
	sum := sha256.Sum256(b)
	return sum[:]
}

func (s *Service) prepare(in ArticleInput, actorID int64, note string) (Save, error) {
	in, err := Normalize(in)
	if err != nil {
		return Save{}, err
	}
	return Save{Input: in, Chunks: ChunkArticle(in, s.o.Chunking), Hash: contentHash(in), ActorID: actorID, Note: note}, nil
}

// CreateArticle creates an article (draft unless in.Status says otherwise).
func (s *Service) CreateArticle(ctx context.Context, actorID int64, in ArticleInput) (Article, error) {
	sv, err := s.prepare(in, actorID, "")
	if err != nil {
		return Article{}, err
	}
	a, err := s.store.CreateArticle(ctx, sv)
	if err != nil {
		return a, err
	}
	s.indexLater(ctx, a)
	return a, nil
}

// UpdateArticle applies a patch as a new version; the previous version is kept.
func (s *Service) UpdateArticle(ctx context.Context, actorID, id int64, p ArticlePatch) (Article, error) {
	return s.change(ctx, actorID, id, p, "")
}

// Publish publishes or unpublishes an article (a new version); only published articles are
// answerable.
func (s *Service) Publish(ctx context.Context, actorID, id int64, publish bool) (Article, error) {
	status, note := StatusPublished, "publish"
	if !publish {
		status, note = StatusDraft, "unpublish"
	}
	return s.change(ctx, actorID, id, ArticlePatch{Status: &status}, note)
}

func (s *Service) change(ctx context.Context, actorID, id int64, p ArticlePatch, note string) (Article, error) {
	cur, err := s.store.Article(ctx, id)
	if err != nil {
		return cur, err
	}
	in := inputOf(cur)
	set := func(dst *string, v *string) {
		if v != nil {
			*dst = *v
		}
	}
	set(&in.ExternalKey, p.ExternalKey)
	set(&in.Kind, p.Kind)
	set(&in.Title, p.Title)
	set(&in.Body, p.Body)
	set(&in.Language, p.Language)
	set(&in.SourceURL, p.SourceURL)
	set(&in.Status, p.Status)
	if p.Tags != nil {
		in.Tags = *p.Tags
	}
	if in.ExternalKey == "" {
		return cur, baton.Invalid("external_key cannot be emptied")
	}
	sv, err := s.prepare(in, actorID, note)
	if err != nil {
		return cur, err
	}
	expect := 0
	if p.Version != nil {
		expect = *p.Version
	}
	a, res, err := s.store.ReplaceArticle(ctx, id, expect, sv)
	if err != nil {
		return a, err
	}
	if res == Updated {
		s.indexLater(ctx, a)
	}
	return a, nil
}

func inputOf(a Article) ArticleInput {
	return ArticleInput{ExternalKey: a.ExternalKey, Kind: a.Kind, Title: a.Title, Body: a.Body, Tags: a.Tags,
		Language: a.Language, SourceURL: a.SourceURL, Status: a.Status}
}

// DeleteArticle deletes an article and everything derived from it.
func (s *Service) DeleteArticle(ctx context.Context, actorID, id int64) error {
	return s.store.DeleteArticle(ctx, actorID, id)
}

// Article returns one article.
func (s *Service) Article(ctx context.Context, id int64) (Article, error) {
	return s.store.Article(ctx, id)
}

// ListArticles lists articles (without bodies).
func (s *Service) ListArticles(ctx context.Context, f ArticleFilter) ([]Article, error) {
	if f.Status != "" && f.Status != StatusDraft && f.Status != StatusPublished {
		return nil, baton.Invalid("status must be draft or published")
	}
	if f.Limit <= 0 || f.Limit > 200 {
		f.Limit = 50
	}
	return s.store.ListArticles(ctx, f)
}

// Versions lists an article's versions, newest first.
func (s *Service) Versions(ctx context.Context, id int64) ([]Version, error) {
	return s.store.ArticleVersions(ctx, id)
}

// Version returns one version of an article.
func (s *Service) Version(ctx context.Context, id int64, version int) (Version, error) {
	return s.store.ArticleVersion(ctx, id, version)
}

// Restore makes an old version current again, as a new version.
func (s *Service) Restore(ctx context.Context, actorID, id int64, version int) (Article, error) {
	v, err := s.store.ArticleVersion(ctx, id, version)
	if err != nil {
		return Article{}, err
	}
	sv, err := s.prepare(v.Article, actorID, fmt.Sprintf("restore from version %d", version))
	if err != nil {
		return Article{}, err
	}
	a, res, err := s.store.ReplaceArticle(ctx, id, 0, sv)
	if err != nil {
		return a, err
	}
	if res == Updated {
		s.indexLater(ctx, a)
	}
	return a, nil
}

// indexLater has a written article's new chunks embedded: by a background task when there is
// a queue, else now. Failures are logged, not returned: the write stands, full-text search
// already finds the chunks, and the next embedding pass picks them up.
func (s *Service) indexLater(ctx context.Context, a Article) {
	if s.o.Enqueuer != nil {
		err := s.o.Enqueuer.EnqueueEmbed(ctx, a.ID, a.Version)
		if err == nil {
			return
		}
		s.log.WarnContext(ctx, "enqueue embedding failed; embedding inline", "article_id", a.ID, "err", err)
	}
	if _, err := s.EmbedPending(ctx, nil); err != nil {
		s.log.WarnContext(ctx, "embed article chunks", "article_id", a.ID, "err", err)
	}
}

// embedBatch is how many chunks are embedded per call (llm batches further within provider
// limits).
const embedBatch = 128

// EmbedPending embeds every chunk that lacks a vector in any live model (active or building)
// and returns how many vectors it stored; progress, if set, gets (done, model) after each batch.
// It is idempotent: a vector is stored once per chunk text.
func (s *Service) EmbedPending(ctx context.Context, progress func(done int, model string)) (int, error) {
	models, err := s.liveModels(ctx)
	if err != nil {
		return 0, err
	}
	total := 0
	for _, m := range models {
		n, _, err := s.embedModel(ctx, m, time.Time{}, func(done int) {
			if progress != nil {
				progress(total+done, m.Model)
			}
		})
		total += n
		if err != nil {
			return total, err
		}
	}
	return total, nil
}

func (s *Service) liveModels(ctx context.Context) ([]EmbeddingModel, error) {
	ms, err := s.store.EmbeddingModels(ctx, false)
	if err != nil {
		return nil, err
	}
	var out []EmbeddingModel
	for _, m := range ms {
		if m.Status != ModelRetired {
			out = append(out, m)
		}
	}
	return out, nil
}

// embedderFor returns the embedder of a model, or nil.
func (s *Service) embedderFor(m EmbeddingModel) Embedder {
	if e := s.o.Embedder; e != nil && e.Model() == m.Model && e.Dim() == m.Dim {
		return e
	}
	if s.o.QueryEmbedder != nil {
		if e := s.o.QueryEmbedder(m.Model, m.Dim); e != nil && e.Dim() == m.Dim {
			return e
		}
	}
	return nil
}

// embedModel embeds pending chunks of one model until none is left or the deadline passes
// (zero = none). It reports how many it stored and whether none is left.
func (s *Service) embedModel(ctx context.Context, m EmbeddingModel, deadline time.Time, progress func(int)) (int, bool, error) {
	e := s.embedderFor(m)
	if e == nil {
		s.log.WarnContext(ctx, "no embedder for embedding model; its chunks wait", "model", m.Model, "dim", m.Dim)
		return 0, false, nil
	}
	done := 0
	var after int64
	for {
		if !deadline.IsZero() && s.o.Clock.Now().After(deadline) {
			return done, false, nil
		}
		batch, err := s.store.PendingChunks(ctx, m.ID, after, embedBatch)
		if err != nil {
			return done, false, err
		}
		if len(batch) == 0 {
			return done, true, nil
		}
		texts := make([]string, len(batch))
		for i, c := range batch {
			texts[i] = c.Embed
		}
		vecs, err := e.Embed(ctx, texts)
		if err != nil {
			return done, false, fmt.Errorf("embed %d chunks with %s: %w", len(batch), m.Model, err)
		}
		if len(vecs) != len(batch) {
			return done, false, fmt.Errorf("embed with %s: got %d vectors for %d chunks", m.Model, len(vecs), len(batch))
		}
		vs := make([]Vector, len(batch))
		for i, c := range batch {
			if len(vecs[i]) != m.Dim {
				return done, false, fmt.Errorf("embed with %s: vector of %d dimensions, want %d", m.Model, len(vecs[i]), m.Dim)
			}
			vs[i] = Vector{ChunkID: c.ID, Hash: c.Hash, Values: vecs[i]}
		}
		if err := s.store.SaveVectors(ctx, m.ID, vs); err != nil {
			return done, false, err
		}
		done += len(batch)
		after = batch[len(batch)-1].ID
		if progress != nil {
			progress(done)
		}
	}
}

// BuildModel works on a building model for up to budget: it embeds pending chunks and, when
// none is left, switches search to the model atomically. It reports whether the model is now
// active. Safe to run twice and concurrently with edits.
func (s *Service) BuildModel(ctx context.Context, modelID int64, budget time.Duration) (bool, error) {
	ms, err := s.store.EmbeddingModels(ctx, false)
	if err != nil {
		return false, err
	}
	idx := slices.IndexFunc(ms, func(m EmbeddingModel) bool { return m.ID == modelID })
	if idx < 0 {
		return false, baton.Errorf(baton.ErrNotFound, "not_found", "embedding model %d not found", modelID)
	}
	m := ms[idx]
	switch m.Status {
	case ModelActive:
		return true, nil
	case ModelRetired:
		return false, baton.Errorf(baton.ErrConflict, "conflict", "embedding model %s was retired", m.Model)
	}
	if s.embedderFor(m) == nil {
		return false, fmt.Errorf("build model %s: no embedder for it in this process", m.Model)
	}
	var deadline time.Time
	if budget > 0 {
		deadline = s.o.Clock.Now().Add(budget)
	}
	n, complete, err := s.embedModel(ctx, m, deadline, nil)
	s.log.InfoContext(ctx, "embedding model build progress", "model", m.Model, "embedded", n, "complete", complete)
	if err != nil || !complete {
		return false, err
	}
	ok, err := s.store.ActivateModel(ctx, m.ID)
	if err != nil {
		return false, err
	}
	if ok {
		s.forgetActive()
		s.log.InfoContext(ctx, "embedding model switched", "model", m.Model, "dim", m.Dim)
	}
	return ok, nil
}

// activeModel returns the active model, cached for a second: searches are frequent, switches
// rare, and a stale answer is retried (see Search).
func (s *Service) activeModel(ctx context.Context) (*EmbeddingModel, error) {
	s.mu.Lock()
	if s.active != nil && s.o.Clock.Now().Sub(s.activeAt) < time.Second && !s.o.Clock.Now().Before(s.activeAt) {
		m := s.active
		s.mu.Unlock()
		return m, nil
	}
	s.mu.Unlock()
	ms, err := s.store.EmbeddingModels(ctx, false)
	if err != nil {
		return nil, err
	}
	var active *EmbeddingModel
	for i := range ms {
		if ms[i].Status == ModelActive {
			active = &ms[i]
		}
	}
	s.mu.Lock()
	s.active, s.activeAt = active, s.o.Clock.Now()
	s.mu.Unlock()
	return active, nil
}

func (s *Service) forgetActive() {
	s.mu.Lock()
	s.active = nil
	s.mu.Unlock()
}
