package queue_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/hibiken/asynq"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/internal/dbtest"
	"github.com/batonhq/baton/internal/queue"
)

// fakeKB is queue.KnowledgeTasks with function fields, recording calls.
type fakeKB struct {
	mu     sync.Mutex
	calls  []string
	embed  func() error
	imp    func(jobID int64) error
	build  func(modelID int64, n int) (bool, error)
	builds int
}

func (f *fakeKB) record(s string) {
	f.mu.Lock()
	f.calls = append(f.calls, s)
	f.mu.Unlock()
}

func (f *fakeKB) EmbedPending(ctx context.Context, _ func(int, string)) (int, error) {
	f.record("embed")
	return 0, f.embed()
}

func (f *fakeKB) RunImport(ctx context.Context, jobID int64) error {
	f.record("import")
	return f.imp(jobID)
}

func (f *fakeKB) BuildModel(ctx context.Context, modelID int64, budget time.Duration) (bool, error) {
	f.mu.Lock()
	f.builds++
	n := f.builds
	f.mu.Unlock()
	f.record("build")
	return f.build(modelID, n)
}

func (f *fakeKB) count(s string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for _, c := range f.calls {
		if c == s {
			n++
		}
	}
	return n
}

func TestKnowledgeTasks(t *testing.T) {
	t.Parallel()
	url := dbtest.RedisURL()
	opt, err := asynq.ParseRedisURI(url)
	if err != nil {
		t.Fatal(err)
	}
	q := queue.NewQueues(dbtest.QueuePrefix(t, url))
	client := asynq.NewClient(opt)
	t.Cleanup(func() { client.Close() })
	enq := &queue.KnowledgeEnqueuer{Client: client, Queues: q}
	ctx := t.Context()

	// The same article version queued twice is one task.
	for range 2 {
		if err := enq.EnqueueEmbed(ctx, 7, 3); err != nil {
			t.Fatalf("enqueue: %v", err)
		}
	}
	insp := asynq.NewInspector(opt)
	t.Cleanup(func() { insp.Close() })
	info, err := insp.GetQueueInfo(q.Background)
	if err != nil || info.Pending != 1 {
		t.Fatalf("background queue: %+v, %v; want one pending task", info, err)
	}
	if err := enq.EnqueueImport(ctx, 11); err != nil {
		t.Fatal(err)
	}
	if err := enq.EnqueueBuild(ctx, 5, 0); err != nil {
		t.Fatal(err)
	}

	kb := &fakeKB{
		embed: func() error { return nil },
		imp:   func(int64) error { return baton.Errorf(baton.ErrNotFound, "not_found", "import job not found") },
		// The build takes three steps; each step is a new task.
		build: func(_ int64, n int) (bool, error) { return n >= 3, nil },
	}
	srv := asynq.NewServer(opt, asynq.Config{Concurrency: 2, Queues: map[string]int{q.Background: 1},
		TaskCheckInterval: 20 * time.Millisecond, RetryDelayFunc: func(int, error, *asynq.Task) time.Duration { return 10 * time.Millisecond },
		LogLevel: asynq.FatalLevel})
	mux := asynq.NewServeMux()
	queue.RegisterKnowledge(mux, kb, enq)
	if err := srv.Start(mux); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Shutdown)

	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) && (kb.count("build") < 3 || kb.count("import") < 1 || kb.count("embed") < 1) {
		time.Sleep(20 * time.Millisecond)
	}
	time.Sleep(200 * time.Millisecond) // a wrongly retried or chained task would show up by now
	if kb.count("embed") != 1 || kb.count("build") != 3 {
		t.Errorf("calls %v: want one embed and three build steps", kb.calls)
	}
	// A missing import job is permanent: not retried, archived.
	if kb.count("import") != 1 {
		t.Errorf("import ran %d times, want once (not found is not retried)", kb.count("import"))
	}
	archived, err := insp.ListArchivedTasks(q.Background)
	if err != nil || len(archived) != 1 || archived[0].Type != queue.TypeKBImport {
		t.Errorf("archived %v, %v; want the import task", archived, err)
	}
}
