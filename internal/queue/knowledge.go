package queue

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/hibiken/asynq"

	"github.com/batonhq/baton"
)

// Knowledge-base task types. They run on the background queue.
const (
	TypeKBEmbed  = "kb:embed"  // embed chunks that lack vectors (after an article edit)
	TypeKBImport = "kb:import" // run an import job
	TypeKBBuild  = "kb:build"  // build a new embedding model's vectors, then switch to it
)

// kbBuildBudget is how long one build task embeds before handing over to the next, so a long
// build shows progress, survives restarts and leaves the worker to other tasks between steps.
const kbBuildBudget = 30 * time.Second

// KnowledgeTasks is what the knowledge tasks run; *knowledge.Service implements it. Errors
// matching baton.ErrNotFound or baton.ErrInvalid are permanent (not retried).
type KnowledgeTasks interface {
	EmbedPending(ctx context.Context, progress func(done int, model string)) (int, error)
	RunImport(ctx context.Context, jobID int64) error
	BuildModel(ctx context.Context, modelID int64, budget time.Duration) (bool, error)
}

// kbPayload is the payload of every knowledge task.
type kbPayload struct {
	V         int   `json:"v"` // baton.TaskPayloadVersion; absent in payloads of older builds
	ArticleID int64 `json:"article_id,omitempty"`
	Version   int   `json:"version,omitempty"`
	JobID     int64 `json:"job_id,omitempty"`
	ModelID   int64 `json:"model_id,omitempty"`
	Step      int   `json:"step,omitempty"`
}

// NewKBEmbedTask builds the task that embeds an article version's new chunks. Its id is the
// article version, so an edit queues it once.
func NewKBEmbedTask(q Queues, articleID int64, version int) (*asynq.Task, []asynq.Option) {
	return kbTask(q, TypeKBEmbed, fmt.Sprintf("kb-embed:%d:%d", articleID, version), kbPayload{ArticleID: articleID, Version: version}, 5)
}

// NewKBImportTask builds the task that runs import job id.
func NewKBImportTask(q Queues, jobID int64) (*asynq.Task, []asynq.Option) {
	return kbTask(q, TypeKBImport, fmt.Sprintf("kb-import:%d", jobID), kbPayload{JobID: jobID}, 3)
}

// NewKBBuildTask builds step of a model build; each step has its own id.
func NewKBBuildTask(q Queues, modelID int64, step int) (*asynq.Task, []asynq.Option) {
	return kbTask(q, TypeKBBuild, fmt.Sprintf("kb-build:%d:%d", modelID, step), kbPayload{ModelID: modelID, Step: step}, 10)
}

func kbTask(q Queues, typ, id string, p kbPayload, retries int) (*asynq.Task, []asynq.Option) {
	p.V = baton.TaskPayloadVersion
	b, _ := json.Marshal(p)
	return asynq.NewTask(typ, b), []asynq.Option{asynq.TaskID(id), asynq.Queue(q.Background),
		asynq.MaxRetry(retries), asynq.Timeout(15 * time.Minute)}
}

// KnowledgeEnqueuer queues knowledge tasks; it implements knowledge.Enqueuer. A task id that is
// already queued counts as success.
type KnowledgeEnqueuer struct {
	Client *asynq.Client
	Queues Queues
}

func (e *KnowledgeEnqueuer) enqueue(ctx context.Context, t *asynq.Task, opts []asynq.Option) error {
	_, err := e.Client.EnqueueContext(ctx, t, opts...)
	if err != nil && !errors.Is(err, asynq.ErrTaskIDConflict) {
		return fmt.Errorf("enqueue %s: %w", t.Type(), err)
	}
	return nil
}

// EnqueueEmbed queues embedding after an article edit.
func (e *KnowledgeEnqueuer) EnqueueEmbed(ctx context.Context, articleID int64, version int) error {
	t, opts := NewKBEmbedTask(e.Queues, articleID, version)
	return e.enqueue(ctx, t, opts)
}

// EnqueueImport queues an import job.
func (e *KnowledgeEnqueuer) EnqueueImport(ctx context.Context, jobID int64) error {
	t, opts := NewKBImportTask(e.Queues, jobID)
	return e.enqueue(ctx, t, opts)
}

// EnqueueBuild queues a step of a model build.
func (e *KnowledgeEnqueuer) EnqueueBuild(ctx context.Context, modelID int64, step int) error {
	t, opts := NewKBBuildTask(e.Queues, modelID, step)
	return e.enqueue(ctx, t, opts)
}

// RegisterKnowledge routes the knowledge task types of mux to h; enq queues the next step of a
// model build.
func RegisterKnowledge(mux *asynq.ServeMux, h KnowledgeTasks, enq *KnowledgeEnqueuer) {
	mux.HandleFunc(TypeKBEmbed, func(ctx context.Context, t *asynq.Task) error {
		if _, err := decodeKB(t); err != nil {
			return err
		}
		// Embeds every pending chunk, not only this article's: cheap when there are none, and
		// it catches up on anything an earlier failed task left.
		_, err := h.EmbedPending(ctx, nil)
		return classifyKB(err)
	})
	mux.HandleFunc(TypeKBImport, func(ctx context.Context, t *asynq.Task) error {
		p, err := decodeKB(t)
		if err != nil {
			return err
		}
		return classifyKB(h.RunImport(ctx, p.JobID))
	})
	mux.HandleFunc(TypeKBBuild, func(ctx context.Context, t *asynq.Task) error {
		p, err := decodeKB(t)
		if err != nil {
			return err
		}
		done, err := h.BuildModel(ctx, p.ModelID, kbBuildBudget)
		if err != nil {
			return classifyKB(err)
		}
		if !done {
			// The next step is a new task (its own id), queued before this one completes.
			return enq.EnqueueBuild(ctx, p.ModelID, p.Step+1)
		}
		return nil
	})
}

func decodeKB(t *asynq.Task) (kbPayload, error) {
	var p kbPayload
	v, err := payloadVersion(t.Payload())
	if err == nil && v > baton.TaskPayloadVersion {
		return p, &NewerPayloadError{Type: t.Type(), Version: v}
	}
	if err == nil {
		err = json.Unmarshal(t.Payload(), &p)
	}
	if err != nil {
		return p, fmt.Errorf("decode %s payload: %v: %w", t.Type(), err, asynq.SkipRetry)
	}
	return p, nil
}

// classifyKB makes a missing or invalid target permanent; everything else is retried.
func classifyKB(err error) error {
	if err != nil && (errors.Is(err, baton.ErrNotFound) || errors.Is(err, baton.ErrInvalid) || errors.Is(err, baton.ErrConflict)) {
		return fmt.Errorf("%w: %w", err, asynq.SkipRetry)
	}
	return err
}
