package postgres_test

import (
	"context"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/batonhq/baton/internal/dbtest"
	"github.com/batonhq/baton/internal/postgres"
	"github.com/batonhq/baton/knowledge"
)

func TestSpellingFix(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, missing, known string
		want                 bool
	}{
		{name: "one letter missing", missing: "refnd", known: "refund", want: true},
		{name: "neighbours swapped", missing: "reciev", known: "receiv", want: true},
		{name: "two edits in a long word", missing: "instalaton", known: "installation", want: true},
		{name: "two edits in a short word", missing: "rfnud", known: "refund", want: false},
		{name: "too short to correct", missing: "cost", known: "cast", want: false},
		{name: "a different word", missing: "lasagn", known: "languag", want: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := postgres.SpellingFix(tt.missing, tt.known); got != tt.want {
				t.Errorf("SpellingFix(%q, %q) = %v, want %v", tt.missing, tt.known, got, tt.want)
			}
		})
	}
}

// The vector search sets its planner parameters for its own statements only: on a pool of one
// connection, the next query sees the defaults again (and JIT stays off for the pool).
func TestVectorSearchSettingsDoNotLeak(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	tdb := dbtest.New(t)
	pool, err := postgres.Open(ctx, tdb.URL+"&pool_max_conns=1", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	db := postgres.New(pool, nil)
	m, err := db.RegisterModel(ctx, "leak-test", 8)
	if err != nil {
		t.Fatal(err)
	}
	q := make([]float32, 8)
	q[0] = 1
	if _, err := db.SearchVector(ctx, m.ID, q, knowledge.SearchFilter{}, 700); err != nil {
		t.Fatal(err)
	}
	// What SearchVector relies on: a batch is one implicit transaction, so a local setting
	// applies to the statements after it in the batch.
	b := &pgx.Batch{}
	b.Queue(`SELECT set_config('enable_seqscan', 'off', true)`)
	var inBatch string
	b.Queue(`SELECT current_setting('enable_seqscan')`).QueryRow(func(r pgx.Row) error { return r.Scan(&inBatch) })
	if err := pool.SendBatch(ctx, b).Close(); err != nil {
		t.Fatal(err)
	}
	if inBatch != "off" {
		t.Errorf("enable_seqscan within the batch = %q, want off", inBatch)
	}
	var seqscan, ef, jit string
	if err := pool.QueryRow(ctx, `SELECT current_setting('enable_seqscan'), coalesce(current_setting('hnsw.ef_search', true), ''), current_setting('jit')`).Scan(&seqscan, &ef, &jit); err != nil {
		t.Fatal(err)
	}
	if seqscan != "on" || ef == "700" || jit != "off" {
		t.Errorf("after a vector search: enable_seqscan %q, hnsw.ef_search %q, jit %q; want on, the default, off", seqscan, ef, jit)
	}
}
