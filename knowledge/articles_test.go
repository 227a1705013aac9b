package knowledge_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/knowledge"
)

func ptr[T any](v T) *T { return &v }

func TestVersionsDiffAndRestore(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := t.Context()
	admin, _, err := b.db.CreateUser(ctx, 0, baton.NewUser{Email: "kb-admin@example.com", Role: baton.RoleAdmin})
	if err != nil {
		t.Fatal(err)
	}
	a, err := b.svc.CreateArticle(ctx, admin.ID, knowledge.ArticleInput{Title: "Returns", Body: "Return within 30 days.\n\nLabels are free."})
	if err != nil {
		t.Fatal(err)
	}
	if a.Version != 1 || a.Status != knowledge.StatusDraft || a.ExternalKey == "" || a.Chunks != 1 {
		t.Fatalf("created %+v: want version 1, a draft, a generated key and one chunk", a)
	}
	a2, err := b.svc.UpdateArticle(ctx, admin.ID, a.ID, knowledge.ArticlePatch{Body: ptr("Return within 60 days.\n\nLabels are free."), Version: ptr(1)})
	if err != nil || a2.Version != 2 {
		t.Fatalf("update: %+v, %v", a2, err)
	}
	// A stale version is refused, and an update that changes nothing makes no version.
	if _, err := b.svc.UpdateArticle(ctx, admin.ID, a.ID, knowledge.ArticlePatch{Title: ptr("X"), Version: ptr(1)}); !errors.Is(err, baton.ErrConflict) {
		t.Errorf("update of version 1 after version 2: %v, want a conflict", err)
	}
	if same, err := b.svc.UpdateArticle(ctx, admin.ID, a.ID, knowledge.ArticlePatch{Body: ptr("Return within 60 days.\n\nLabels are free.")}); err != nil || same.Version != 2 {
		t.Errorf("no-op update made version %d (%v), want it to stay 2", same.Version, err)
	}
	if _, err := b.svc.Publish(ctx, admin.ID, a.ID, true); err != nil {
		t.Fatal(err)
	}
	vs, err := b.svc.Versions(ctx, a.ID)
	if err != nil || len(vs) != 3 || vs[0].Version != 3 || vs[2].Article.Body != "Return within 30 days.\n\nLabels are free." {
		t.Fatalf("versions %+v, %v: want 3, newest first, the first with the original body", vs, err)
	}
	d, err := b.svc.Diff(ctx, a.ID, 1, 3)
	if err != nil {
		t.Fatal(err)
	}
	if f, ok := d.Fields["status"]; !ok || f.From != "draft" || f.To != "published" {
		t.Errorf("diff fields %+v, want status draft → published", d.Fields)
	}
	want := []knowledge.DiffLine{{Op: "-", Text: "Return within 30 days."}, {Op: "+", Text: "Return within 60 days."}, {Op: " ", Text: ""}, {Op: " ", Text: "Labels are free."}}
	if len(d.Lines) != len(want) {
		t.Fatalf("diff lines %+v, want %+v", d.Lines, want)
	}
	for i := range want {
		if d.Lines[i] != want[i] {
			t.Errorf("diff line %d = %+v, want %+v", i, d.Lines[i], want[i])
		}
	}
	if !strings.Contains(d.Unified, "-Return within 30 days.\n+Return within 60 days.") {
		t.Errorf("unified diff:\n%s", d.Unified)
	}
	r, err := b.svc.Restore(ctx, admin.ID, a.ID, 1)
	if err != nil || r.Version != 4 || r.Body != "Return within 30 days.\n\nLabels are free." || r.Status != knowledge.StatusDraft {
		t.Fatalf("restore of version 1: %+v, %v; want version 4 with version 1's content (a draft)", r, err)
	}
	if _, err := b.svc.Restore(ctx, admin.ID, a.ID, 9); !errors.Is(err, baton.ErrNotFound) {
		t.Errorf("restore of a missing version: %v, want not found", err)
	}
	log, err := b.db.AuditLog(ctx, "kb_article", 10)
	if err != nil {
		t.Fatal(err)
	}
	var actions []string
	for _, e := range log {
		actions = append(actions, e.Action)
		if e.ActorID == nil || *e.ActorID != admin.ID {
			t.Errorf("audit entry %s has actor %v, want %d", e.Action, e.ActorID, admin.ID)
		}
	}
	if strings.Join(actions, ",") != "restore,publish,update,create" {
		t.Errorf("audit actions %v, want restore,publish,update,create (newest first)", actions)
	}
	if err := b.svc.DeleteArticle(ctx, admin.ID, a.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := b.svc.Article(ctx, a.ID); !errors.Is(err, baton.ErrNotFound) {
		t.Errorf("deleted article: %v, want not found", err)
	}
	if n := b.count(t, `SELECT count(*) FROM kb_chunks`) + b.count(t, `SELECT count(*) FROM kb_article_versions`); n != 0 {
		t.Errorf("%d chunks and versions left after delete", n)
	}
}

func TestListArticlesSearchesWithAndSemantics(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.seed(t)
	ctx := t.Context()
	if _, err := b.svc.Publish(ctx, 0, 1, false); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		f    knowledge.ArticleFilter
		want []string
	}{
		{"all words must match", knowledge.ArticleFilter{Query: "refund bank"}, []string{"Returns and refunds"}},
		{"one word matches many", knowledge.ArticleFilter{Query: "password"}, []string{"Account and password reset"}},
		{"tag", knowledge.ArticleFilter{Tag: "shipping"}, []string{"Shipping times and costs", "International shipping"}},
		{"status", knowledge.ArticleFilter{Status: knowledge.StatusDraft}, []string{"Shipping times and costs"}},
		{"title substring", knowledge.ArticleFilter{Query: "Gift car"}, []string{"Gift cards and discount codes"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			as, err := b.svc.ListArticles(ctx, tt.f)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, a := range as {
				got = append(got, a.Title)
				if a.Body != "" {
					t.Error("lists carry no bodies")
				}
			}
			if strings.Join(got, "|") != strings.Join(tt.want, "|") {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}
