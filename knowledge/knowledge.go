// Package knowledge is Baton's knowledge base: articles that admins curate (with versions),
// import and export, heading-aware chunking, embeddings, hybrid retrieval (vector + full text,
// fused by reciprocal rank fusion), answers with citations, and the knowledge-gap loop.
//
// It declares the small interfaces it needs (Store, Embedder, Completer, Enqueuer); the
// PostgreSQL, LLM and queue adapters satisfy them. It imports no database, queue or LLM library.
package knowledge

import (
	"context"
	"encoding/json"
	"time"

	"github.com/batonhq/baton"
)

// Status of an article. Only published articles are answerable.
const (
	StatusDraft     = "draft"
	StatusPublished = "published"
)

// Kinds of article. A FAQ's title is the question; each part of its body (separated by a
// thematic break, "---") is one answer and stays one chunk.
const (
	KindArticle = "article"
	KindFAQ     = "faq"
)

// Article is a knowledge-base article as stored.
type Article struct {
	ID          int64     `json:"id"`
	ExternalKey string    `json:"external_key"`
	Kind        string    `json:"kind"`
	Title       string    `json:"title"`
	Body        string    `json:"body"`
	Tags        []string  `json:"tags"`
	Language    string    `json:"language"`
	SourceURL   string    `json:"source_url,omitempty"`
	Status      string    `json:"status"`
	Version     int       `json:"version"`
	Chunks      int       `json:"chunks"`
	CreatedAt   time.Time `json:"created_at"`
	UpdatedAt   time.Time `json:"updated_at"`
}

// ArticleInput is what creating or replacing an article takes. Empty Kind, Language and Status
// default to article, en and draft; an empty ExternalKey gets "kb-<id>".
type ArticleInput struct {
	ExternalKey string   `json:"external_key,omitempty" yaml:"external_key,omitempty"`
	Kind        string   `json:"kind,omitempty" yaml:"kind,omitempty"`
	Title       string   `json:"title" yaml:"title"`
	Body        string   `json:"body" yaml:"-"`
	Tags        []string `json:"tags,omitempty" yaml:"tags,omitempty"`
	Language    string   `json:"language,omitempty" yaml:"language,omitempty"`
	SourceURL   string   `json:"source_url,omitempty" yaml:"source_url,omitempty"`
	Status      string   `json:"status,omitempty" yaml:"status,omitempty"`
}

// ArticlePatch changes some fields of an article; nil fields stay.
type ArticlePatch struct {
	ExternalKey *string   `json:"external_key"`
	Kind        *string   `json:"kind"`
	Title       *string   `json:"title"`
	Body        *string   `json:"body"`
	Tags        *[]string `json:"tags"`
	Language    *string   `json:"language"`
	SourceURL   *string   `json:"source_url"`
	Status      *string   `json:"status"`
	// Version, when set, must be the article's current version (optimistic locking).
	Version *int `json:"version"`
}

// ArticleFilter narrows an article list. Query uses AND semantics (websearch syntax), as an
// admin search box should.
type ArticleFilter struct {
	Query  string
	Status string
	Tag    string
	After  int64 // cursor: articles with a larger id
	Limit  int
}

// Version is one saved state of an article.
type Version struct {
	ArticleID int64        `json:"article_id"`
	Version   int          `json:"version"`
	Article   ArticleInput `json:"article"`
	Note      string       `json:"note,omitempty"`
	CreatedBy *int64       `json:"created_by,omitempty"`
	CreatedAt time.Time    `json:"created_at"`
}

// ChunkInput is a chunk as the chunker produces it, ready to store.
type ChunkInput struct {
	Position    int      `json:"position"`
	HeadingPath []string `json:"heading_path"`
	Text        string   `json:"text"`
	// Embed is what the embedder sees (title, heading path and text); Hash is its SHA-256.
	Embed string `json:"-"`
	Hash  []byte `json:"-"`
	Words int    `json:"-"`
}

// SaveResult says what an upsert did.
type SaveResult string

const (
	Added     SaveResult = "added"
	Updated   SaveResult = "updated"
	Unchanged SaveResult = "unchanged"
)

// Save is what a store write needs: the article, its chunks, who and why.
type Save struct {
	Input   ArticleInput
	Chunks  []ChunkInput
	Hash    []byte // of Input without its key: equal hashes and keys mean nothing to save
	ActorID int64  // 0 = the CLI or the system
	Note    string // recorded on the version
}

// EmbeddingModel is a registered embedding space.
type EmbeddingModel struct {
	ID          int64      `json:"id"`
	Model       string     `json:"model"`
	Dim         int        `json:"dim"`
	Status      string     `json:"status"` // building | active | retired
	Embedded    int        `json:"embedded"`
	Chunks      int        `json:"chunks"`
	CreatedAt   time.Time  `json:"created_at"`
	ActivatedAt *time.Time `json:"activated_at,omitempty"`
}

// Model statuses.
const (
	ModelBuilding = "building"
	ModelActive   = "active"
	ModelRetired  = "retired"
)

// PendingChunk is a chunk whose vector for a model is missing or stale.
type PendingChunk struct {
	ID    int64
	Embed string
	Hash  []byte
}

// Vector is a chunk's embedding in one model, tagged with the hash of the text it embeds so a
// late write for since-changed text is dropped.
type Vector struct {
	ChunkID int64
	Hash    []byte
	Values  []float32
}

// SearchFilter narrows retrieval. Statuses empty means published only.
type SearchFilter struct {
	Statuses []string `json:"statuses,omitempty"`
	Language string   `json:"language,omitempty"`
	Tags     []string `json:"tags,omitempty"` // any of
	// Articles limits the search to these articles (the one a customer confirmed they mean).
	Articles []int64 `json:"articles,omitempty"`
}

// Candidate is one chunk a single retriever returned, best first.
type Candidate struct {
	ChunkID   int64
	ArticleID int64
	Score     float64 // cosine similarity (vector) or weighted BM25-like rank (full text)
}

// Chunk is a stored chunk with its article's metadata.
type Chunk struct {
	ID          int64    `json:"id"`
	ArticleID   int64    `json:"article_id"`
	Position    int      `json:"position"`
	HeadingPath []string `json:"heading_path"`
	Text        string   `json:"text"`
	Title       string   `json:"title"`
	URL         string   `json:"url,omitempty"`
	Language    string   `json:"language"`
	Status      string   `json:"status"`
	ExternalKey string   `json:"external_key"`
}

// ImportJob is a background import started through the admin API.
type ImportJob struct {
	ID         int64         `json:"id"`
	Source     string        `json:"source"`
	Format     string        `json:"format,omitempty"`
	Options    ImportOptions `json:"options"`
	Content    string        `json:"-"`
	Status     string        `json:"status"` // queued | running | done | failed
	Total      int           `json:"total"`
	Done       int           `json:"done"`
	Summary    ImportSummary `json:"summary"`
	Error      string        `json:"error,omitempty"`
	CreatedBy  *int64        `json:"created_by,omitempty"`
	CreatedAt  time.Time     `json:"created_at"`
	StartedAt  *time.Time    `json:"started_at,omitempty"`
	FinishedAt *time.Time    `json:"finished_at,omitempty"`
}

// Import job statuses.
const (
	JobQueued  = "queued"
	JobRunning = "running"
	JobDone    = "done"
	JobFailed  = "failed"
)

// Gap is one question the bot could not answer.
type Gap struct {
	ID             int64     `json:"id"`
	Question       string    `json:"question"`
	ConversationID int64     `json:"conversation_id,omitempty"`
	MessageID      int64     `json:"message_id,omitempty"`
	Reason         string    `json:"reason"`
	CreatedAt      time.Time `json:"created_at"`
}

// Feedback is one thumbs up or down on an answer, per chunk used.
type Feedback struct {
	MessageID int64
	ChunkIDs  []int64
	Up        bool
	By        string
}

// ArticleFeedback sums the votes on answers that used an article.
type ArticleFeedback struct {
	ArticleID int64     `json:"article_id"`
	Title     string    `json:"title"`
	Up        int       `json:"up"`
	Down      int       `json:"down"`
	Last      time.Time `json:"last"`
}

// Store is the persistence the knowledge base needs; internal/postgres implements it.
// Lookups of missing rows return errors matching baton.ErrNotFound; duplicate external keys and
// stale versions baton.ErrConflict; validation failures baton.ErrInvalid.
type Store interface {
	// Articles. Every write records a version and an audit entry in the same transaction,
	// and replaces the article's chunks, keeping the rows (and vectors) whose hash is unchanged.
	CreateArticle(ctx context.Context, s Save) (Article, error)
	ReplaceArticle(ctx context.Context, id int64, expectVersion int, s Save) (Article, SaveResult, error)
	UpsertArticle(ctx context.Context, s Save) (Article, SaveResult, error) // by Input.ExternalKey
	DeleteArticle(ctx context.Context, actorID, id int64) error
	Article(ctx context.Context, id int64) (Article, error)
	ListArticles(ctx context.Context, f ArticleFilter) ([]Article, error)
	AllArticles(ctx context.Context, fn func(Article) error) error
	ArticleVersions(ctx context.Context, id int64) ([]Version, error)
	ArticleVersion(ctx context.Context, id int64, version int) (Version, error)

	// Embeddings.
	// EmbeddingModels lists models; counts adds Embedded and Chunks (slower).
	EmbeddingModels(ctx context.Context, counts bool) ([]EmbeddingModel, error)
	RegisterModel(ctx context.Context, model string, dim int) (EmbeddingModel, error)
	PendingChunks(ctx context.Context, modelID, afterID int64, limit int) ([]PendingChunk, error)
	SaveVectors(ctx context.Context, modelID int64, vs []Vector) error
	ActivateModel(ctx context.Context, modelID int64) (bool, error)

	// Retrieval.
	SearchVector(ctx context.Context, modelID int64, q []float32, f SearchFilter, k int) ([]Candidate, error)
	SearchText(ctx context.Context, q string, language string, f SearchFilter, k int) ([]Candidate, error)
	// ChunksAround returns the chunks with these ids that still exist and, per id, the chunks
	// of the same article within radius positions (in order, without the chunk itself).
	ChunksAround(ctx context.Context, ids []int64, radius int) (map[int64]Chunk, map[int64][]Chunk, error)

	// Import jobs.
	CreateImportJob(ctx context.Context, j ImportJob) (ImportJob, error)
	StartImportJob(ctx context.Context, id int64) (ImportJob, error)
	ProgressImportJob(ctx context.Context, id int64, done, total int) error
	FinishImportJob(ctx context.Context, id int64, sum ImportSummary, errMsg string) error
	ImportJob(ctx context.Context, id int64) (ImportJob, error)
	ListImportJobs(ctx context.Context, limit int) ([]ImportJob, error)

	// Gaps and feedback.
	RecordGap(ctx context.Context, g Gap) error
	Gaps(ctx context.Context, since time.Time, limit int) ([]Gap, error)
	RecordFeedback(ctx context.Context, f Feedback) error
	FeedbackByArticle(ctx context.Context, limit int) ([]ArticleFeedback, error)
}

// Embedder turns texts into vectors; llm.Embedder and *llm.LocalEmbedder satisfy it. Embed
// returns one vector of Dim() values per text, in order.
type Embedder interface {
	Embed(ctx context.Context, texts []string) ([][]float32, error)
	Model() string
	Dim() int
}

// Completion describes one LLM call, for traces.
type Completion struct {
	Model            string
	PromptTokens     int
	CompletionTokens int
}

// Completer makes one structured LLM call: a system and a user prompt in, one JSON object
// matching schema decoded into out. Errors are the LLM's (unavailable, rate limited,
// malformed); the caller falls back to the extractive answer on any of them.
type Completer interface {
	CompleteJSON(ctx context.Context, system, user, schemaName string, schema json.RawMessage, out any) (Completion, error)
}

// Enqueuer hands work to background workers. Task ids derive from the arguments, so enqueuing
// twice runs once.
type Enqueuer interface {
	EnqueueEmbed(ctx context.Context, articleID int64, version int) error
	EnqueueImport(ctx context.Context, jobID int64) error
	EnqueueBuild(ctx context.Context, modelID int64, step int) error
}

// Hit is one retrieved chunk with how each retriever ranked it.
type Hit struct {
	Chunk
	Vector  *RetrieverScore `json:"vector,omitempty"`
	FTS     *RetrieverScore `json:"fts,omitempty"`
	Fused   float64         `json:"fused_score"`
	Rank    int             `json:"rank"` // 1-based fused rank
	Context []Chunk         `json:"context,omitempty"`
}

// RetrieverScore is one retriever's verdict on a chunk.
type RetrieverScore struct {
	Score float64 `json:"score"`
	Rank  int     `json:"rank"` // 1-based
}

// Citations returns the citation of each hit.
func Citations(hits []Hit) []baton.Citation {
	out := make([]baton.Citation, 0, len(hits))
	for _, h := range hits {
		out = append(out, h.Citation())
	}
	return out
}

// Citation points at the hit's chunk.
func (h Hit) Citation() baton.Citation {
	return baton.Citation{ArticleID: h.ArticleID, ChunkID: h.ID, Title: h.Title, URL: h.URL}
}
