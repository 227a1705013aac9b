package knowledge

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	txt "github.com/batonhq/baton/text"
)

// catalogTTL is how long what the published articles cover (their topics and words) is
// reused: it changes with publishing, not with every question.
const catalogTTL = time.Minute

// catalog is what the published articles cover.
type catalog struct {
	topics []string        // see Topics
	stems  map[string]bool // every stemmed word of their titles, headings and bodies
	at     time.Time
}

func (s *Service) catalog(ctx context.Context) (*catalog, error) {
	now := s.o.Clock.Now()
	s.mu.Lock()
	c := s.cat
	s.mu.Unlock()
	if c != nil && now.Sub(c.at) < catalogTTL && !now.Before(c.at) {
		return c, nil
	}
	var arts []Article
	stems := map[string]bool{}
	err := s.store.AllArticles(ctx, func(a Article) error {
		if a.Status != StatusPublished {
			return nil
		}
		for _, w := range txt.Words(a.Title + "\n" + a.Body) {
			stems[stem(w)] = true
		}
		a.Body = ""
		arts = append(arts, a)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read the published articles: %w", err)
	}
	c = &catalog{topics: topicsOf(arts), stems: stems, at: now}
	s.mu.Lock()
	s.cat = c
	s.mu.Unlock()
	return c, nil
}

// Topics names up to n things the published articles cover, for "I can answer questions about
// …" when a question is out of scope: the tags most articles share (a tag of one article is
// too narrow to name), else the shortest article titles. Nothing published: none.
func (s *Service) Topics(ctx context.Context, n int) ([]string, error) {
	c, err := s.catalog(ctx)
	if err != nil {
		return nil, err
	}
	return c.topics[:min(n, len(c.topics))], nil
}

// topicsOf ranks tags by how many articles carry them (ties: first seen), keeping those of two
// articles or more; with fewer than two such tags it falls back to titles, shortest first.
func topicsOf(arts []Article) []string {
	type tag struct {
		name  string
		count int
		first int
	}
	byName := map[string]*tag{}
	var tags []*tag
	for _, a := range arts {
		for _, name := range a.Tags {
			name = strings.TrimSpace(name)
			key := strings.ToLower(name)
			if key == "" {
				continue
			}
			if t, ok := byName[key]; ok {
				t.count++
				continue
			}
			t := &tag{name: name, count: 1, first: len(tags)}
			byName[key] = t
			tags = append(tags, t)
		}
	}
	tags = slices.DeleteFunc(tags, func(t *tag) bool { return t.count < 2 })
	out := []string{}
	if len(tags) >= 2 {
		slices.SortFunc(tags, func(a, b *tag) int {
			return cmp.Or(cmp.Compare(b.count, a.count), cmp.Compare(a.first, b.first))
		})
		for _, t := range tags {
			out = append(out, t.name)
		}
		return out
	}
	titles := make([]string, 0, len(arts))
	for _, a := range arts {
		if t := strings.TrimSpace(a.Title); t != "" {
			titles = append(titles, t)
		}
	}
	slices.SortStableFunc(titles, func(a, b string) int {
		return cmp.Compare(len(strings.Fields(a)), len(strings.Fields(b)))
	})
	return append(out, titles...)
}
