package postgres_test

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/internal/dbtest"
	"github.com/batonhq/baton/internal/postgres"
	"github.com/batonhq/baton/knowledge"
)

// epochKB is where the knowledge tests' clocks start.
var epochKB = time.Date(2026, 11, 25, 9, 0, 0, 0, time.UTC)

// kbSave prepares an article for the store as the knowledge service does.
func kbSave(t testing.TB, in knowledge.ArticleInput) knowledge.Save {
	t.Helper()
	in, err := knowledge.Normalize(in)
	if err != nil {
		t.Fatal(err)
	}
	h := sha256.Sum256([]byte(fmt.Sprintf("%#v", in)))
	return knowledge.Save{Input: in, Chunks: knowledge.ChunkArticle(in, knowledge.ChunkOptions{}), Hash: h[:]}
}

func TestKnowledgeTermStatisticsFollowChunks(t *testing.T) {
	t.Parallel()
	db := postgres.New(dbtest.New(t).Pool, baton.NewManualClock(epochKB))
	ctx := t.Context()
	df := func(lexeme string) int {
		t.Helper()
		var n int
		if err := db.Pool.QueryRow(ctx, `SELECT coalesce((SELECT df FROM kb_terms WHERE ts_config = 'english'::regconfig AND lexeme = $1), 0)`, lexeme).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	docs := func() int {
		var n int
		db.Pool.QueryRow(ctx, `SELECT coalesce((SELECT docs FROM kb_term_totals WHERE ts_config = 'english'::regconfig), 0)`).Scan(&n)
		return n
	}
	a, err := db.CreateArticle(ctx, kbSave(t, knowledge.ArticleInput{Title: "Refunds", Body: "## One\nRefunds take days.\n\n## Two\nParcels travel."}))
	if err != nil {
		t.Fatal(err)
	}
	// "refund" is in both chunks (the title is part of each), "parcel" in one.
	if df("refund") != 2 || df("parcel") != 1 || docs() != 2 {
		t.Fatalf("after create: df(refund)=%d df(parcel)=%d docs=%d; want 2, 1, 2", df("refund"), df("parcel"), docs())
	}
	s := kbSave(t, knowledge.ArticleInput{Title: "Refunds", Body: "## One\nRefunds take days.", ExternalKey: a.ExternalKey})
	if _, res, err := db.ReplaceArticle(ctx, a.ID, 0, s); err != nil || res != knowledge.Updated {
		t.Fatalf("replace: %v %v", res, err)
	}
	if df("refund") != 1 || df("parcel") != 0 || docs() != 1 {
		t.Fatalf("after dropping a section: df(refund)=%d df(parcel)=%d docs=%d; want 1, 0, 1", df("refund"), df("parcel"), docs())
	}
	if err := db.DeleteArticle(ctx, 0, a.ID); err != nil {
		t.Fatal(err)
	}
	if df("refund") != 0 || docs() != 0 {
		t.Fatalf("after delete: df(refund)=%d docs=%d", df("refund"), docs())
	}
}

func TestKnowledgeStoreConflicts(t *testing.T) {
	t.Parallel()
	db := postgres.New(dbtest.New(t).Pool, baton.NewManualClock(epochKB))
	ctx := t.Context()
	a, err := db.CreateArticle(ctx, kbSave(t, knowledge.ArticleInput{Title: "A", Body: "x", ExternalKey: "key-1"}))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		run  func() error
		kind error
	}{
		{"duplicate key", func() error {
			_, err := db.CreateArticle(ctx, kbSave(t, knowledge.ArticleInput{Title: "B", Body: "y", ExternalKey: "key-1"}))
			return err
		}, baton.ErrConflict},
		{"stale version", func() error {
			_, _, err := db.ReplaceArticle(ctx, a.ID, 7, kbSave(t, knowledge.ArticleInput{Title: "A2", Body: "x"}))
			return err
		}, baton.ErrConflict},
		{"missing article", func() error {
			_, _, err := db.ReplaceArticle(ctx, 999, 0, kbSave(t, knowledge.ArticleInput{Title: "A2", Body: "x"}))
			return err
		}, baton.ErrNotFound},
		{"upsert without key", func() error {
			_, _, err := db.UpsertArticle(ctx, kbSave(t, knowledge.ArticleInput{Title: "A2", Body: "x"}))
			return err
		}, baton.ErrInvalid},
		{"missing version", func() error {
			_, err := db.ArticleVersion(ctx, a.ID, 5)
			return err
		}, baton.ErrNotFound},
		{"model of 2001 dimensions", func() error {
			_, err := db.RegisterModel(ctx, "huge", 2001)
			return err
		}, baton.ErrInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.run(); !errors.Is(err, tt.kind) {
				t.Errorf("error %v, want %v", err, tt.kind)
			}
		})
	}
	if n := kbCount(t, db, `SELECT count(*) FROM kb_articles`); n != 1 {
		t.Errorf("%d articles after refused writes, want 1", n)
	}
}

func TestKnowledgeModelRegistry(t *testing.T) {
	t.Parallel()
	db := postgres.New(dbtest.New(t).Pool, baton.NewManualClock(epochKB))
	ctx := t.Context()
	first, err := db.RegisterModel(ctx, "m1", 8)
	if err != nil || first.Status != knowledge.ModelActive {
		t.Fatalf("first model: %+v, %v", first, err)
	}
	again, err := db.RegisterModel(ctx, "m1", 8)
	if err != nil || again.ID != first.ID {
		t.Fatalf("registering the same model again: %+v, %v", again, err)
	}
	second, err := db.RegisterModel(ctx, "m2", 16)
	if err != nil || second.Status != knowledge.ModelBuilding {
		t.Fatalf("second model: %+v, %v", second, err)
	}
	third, err := db.RegisterModel(ctx, "m3", 4)
	if err != nil || third.Status != knowledge.ModelBuilding {
		t.Fatalf("third model: %+v, %v", third, err)
	}
	ms, err := db.EmbeddingModels(ctx, true)
	if err != nil {
		t.Fatal(err)
	}
	var statuses []string
	for _, m := range ms {
		statuses = append(statuses, m.Status)
	}
	if strings.Join(statuses, ",") != "active,retired,building" {
		t.Errorf("statuses %v: a newer configuration retires the model still building", statuses)
	}
	if n := kbCount(t, db, `SELECT count(*) FROM pg_class WHERE relname = $1`, fmt.Sprintf("kb_emb_%d", second.ID)); n != 0 {
		t.Error("the retired model's table was kept")
	}
	var def string
	if err := db.Pool.QueryRow(ctx, `SELECT indexdef FROM pg_indexes WHERE indexname = $1`, fmt.Sprintf("kb_emb_%d_hnsw", third.ID)).Scan(&def); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"hnsw", postgres.VectorOpClass, fmt.Sprintf("m='%d'", postgres.HNSWM), fmt.Sprintf("ef_construction='%d'", postgres.HNSWEfConstruction)} {
		if !strings.Contains(def, want) {
			t.Errorf("index %q lacks %q: the constants and the DDL disagree", def, want)
		}
	}
	// With every chunk embedded (there are none), the building model can take over.
	ok, err := db.ActivateModel(ctx, third.ID)
	if err != nil || !ok {
		t.Fatalf("activate: %v, %v", ok, err)
	}
	if _, err := db.ActivateModel(ctx, second.ID); !errors.Is(err, baton.ErrConflict) {
		t.Errorf("activating a retired model: %v, want a conflict", err)
	}
}

func kbCount(t testing.TB, db *postgres.DB, q string, args ...any) int {
	t.Helper()
	var n int
	if err := db.Pool.QueryRow(t.Context(), q, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return n
}
