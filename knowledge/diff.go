package knowledge

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/batonhq/baton"
	txt "github.com/batonhq/baton/text"
)

// Diff compares two versions of an article.
type Diff struct {
	ArticleID int64                `json:"article_id"`
	From      int                  `json:"from"`
	To        int                  `json:"to"`
	Fields    map[string]FieldDiff `json:"fields"` // changed metadata, by name
	Lines     []DiffLine           `json:"lines"`  // the body, line by line
	Unified   string               `json:"unified"`
}

// FieldDiff is a changed metadata field.
type FieldDiff struct {
	From any `json:"from"`
	To   any `json:"to"`
}

// DiffLine is one body line: Op is " " (kept), "-" (removed) or "+" (added).
type DiffLine = txt.DiffLine

// Diff compares version from with version to of an article (to 0 = the current version).
func (s *Service) Diff(ctx context.Context, id int64, from, to int) (Diff, error) {
	if to == 0 {
		a, err := s.store.Article(ctx, id)
		if err != nil {
			return Diff{}, err
		}
		to = a.Version
	}
	if from <= 0 || to <= 0 {
		return Diff{}, baton.Invalid("versions start at 1")
	}
	a, err := s.store.ArticleVersion(ctx, id, from)
	if err != nil {
		return Diff{}, err
	}
	b, err := s.store.ArticleVersion(ctx, id, to)
	if err != nil {
		return Diff{}, err
	}
	d := Diff{ArticleID: id, From: from, To: to, Fields: map[string]FieldDiff{}}
	field := func(name string, x, y any) {
		if fmt.Sprint(x) != fmt.Sprint(y) {
			d.Fields[name] = FieldDiff{From: x, To: y}
		}
	}
	field("title", a.Article.Title, b.Article.Title)
	field("external_key", a.Article.ExternalKey, b.Article.ExternalKey)
	field("kind", a.Article.Kind, b.Article.Kind)
	field("tags", a.Article.Tags, b.Article.Tags)
	field("language", a.Article.Language, b.Article.Language)
	field("source_url", a.Article.SourceURL, b.Article.SourceURL)
	field("status", a.Article.Status, b.Article.Status)
	d.Lines = DiffLines(strings.Split(a.Article.Body, "\n"), strings.Split(b.Article.Body, "\n"))
	d.Unified = unified(d, fmt.Sprintf("version %d", from), fmt.Sprintf("version %d", to))
	return d, nil
}

// DiffLines is a longest-common-subsequence line diff.
func DiffLines(a, b []string) []DiffLine { return txt.DiffLines(a, b) }

// unified renders a diff for people: changed fields, then the body's changed lines with up to
// two lines of context.
func unified(d Diff, from, to string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "--- %s\n+++ %s\n", from, to)
	names := make([]string, 0, len(d.Fields))
	for n := range d.Fields {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, n := range names {
		fmt.Fprintf(&b, "-%s: %v\n+%s: %v\n", n, d.Fields[n].From, n, d.Fields[n].To)
	}
	txt.WriteHunks(&b, d.Lines)
	return b.String()
}
