package sandbox_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/jackc/pgx/v5"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/internal/dbtest"
	"github.com/batonhq/baton/internal/sandbox"
)

// env is a production-like configuration: the sandbox must not deliver to its outbound URL.
func env(k string) string {
	return map[string]string{
		"BATON_DATABASE_URL": strings.Replace(dbtest.AdminURL(), "/postgres?", "/baton_not_touched?", 1),
		"BATON_REDIS_URL":    dbtest.RedisURL(),
		"BATON_OUTBOUND_URL": "http://127.0.0.1:1/production",
		"BATON_LLM_API_KEY":  "sk-production",
		"BATON_LOG_LEVEL":    "error",
	}[k]
}

func TestSandboxAnswersAndDropsEverything(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	sb, err := sandbox.New(ctx, sandbox.Options{Getenv: env, Seed: true})
	if err != nil {
		t.Fatal(err)
	}
	b, err := sb.Start(ctx, sandbox.StartOptions{Env: map[string]string{"BATON_BURST_WINDOW": "0s"}})
	if err != nil {
		sb.Close()
		t.Fatal(err)
	}
	if b.LLM != nil {
		t.Error("the sandbox kept the LLM settings without being asked")
	}
	dbName := b.Config.DatabaseURL
	prefix := b.Config.QueuePrefix
	res, err := b.Send(ctx, baton.Sender{ID: "c1", Name: "Ana"}, "m1", "How long does standard delivery take?")
	if err != nil {
		sb.Close()
		t.Fatal(err)
	}
	wctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	for len(b.Sink.For(res.ConversationID)) == 0 && wctx.Err() == nil {
		b.Sink.Wait(wctx) //nolint:errcheck
	}
	cancel()
	if got := b.Sink.For(res.ConversationID); len(got) != 1 || len(got[0].Body.Citations) == 0 {
		t.Errorf("deliveries %+v; want one answer citing the seeded help centre", got)
	}
	if err := sb.Close(); err != nil {
		t.Fatal(err)
	}
	admin, err := pgx.Connect(ctx, dbtest.AdminURL())
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close(ctx)
	id := strings.TrimPrefix(dbName[strings.LastIndex(dbName, "/")+1:], sandbox.Prefix)
	id = id[:strings.Index(id, "_")]
	var left int
	if err := admin.QueryRow(ctx, `SELECT count(*) FROM pg_database WHERE datname LIKE $1`, sandbox.Prefix+id+"%").Scan(&left); err != nil {
		t.Fatal(err)
	}
	if left != 0 {
		t.Errorf("%d sandbox databases left after Close", left)
	}
	opt, _ := asynq.ParseRedisURI(dbtest.RedisURL())
	insp := asynq.NewInspector(opt)
	defer insp.Close()
	qs, _ := insp.Queues()
	for _, q := range qs {
		if strings.HasPrefix(q, prefix+":") {
			t.Errorf("queue %s left after Close", q)
		}
	}
}
