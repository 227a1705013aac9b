package knowledge

import (
	"cmp"
	"context"
	"slices"
	"strings"
	"time"
)

// topicsTTL is how long the list of topics is reused: it names what the help centre covers,
// which changes with publishing, not with every question.
const topicsTTL = time.Minute

// Topics names up to n things the published articles cover, for "I can answer questions about
// …" when a question is out of scope: the tags most articles share (a tag of one article is
// too narrow to name), else the shortest article titles. Nothing published: none.
func (s *Service) Topics(ctx context.Context, n int) ([]string, error) {
	now := s.o.Clock.Now()
	s.mu.Lock()
	if s.topics != nil && now.Sub(s.topicsAt) < topicsTTL && !now.Before(s.topicsAt) {
		t := s.topics
		s.mu.Unlock()
		return t[:min(n, len(t))], nil
	}
	s.mu.Unlock()
	arts, err := s.store.ListArticles(ctx, ArticleFilter{Status: StatusPublished, Limit: 200})
	if err != nil {
		return nil, err
	}
	t := topicsOf(arts)
	s.mu.Lock()
	s.topics, s.topicsAt = t, now
	s.mu.Unlock()
	return t[:min(n, len(t))], nil
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
