package knowledge

import (
	"cmp"
	"context"
	"slices"
	"strings"
	"time"

	"github.com/batonhq/baton"
)

// Gap reasons the bot reports besides the Answer reasons.
const (
	ReasonHandoff = "handoff_missing_knowledge" // handed to a person because nothing answered it
)

// MaxGapQuestion bounds a stored question.
const MaxGapQuestion = 1000

// RecordGap records a question the bot could not answer (no answer, low confidence, or a
// handoff for missing knowledge). The same message is recorded once.
func (s *Service) RecordGap(ctx context.Context, question string, conversationID, messageID int64, reason string) error {
	question = strings.TrimSpace(question)
	if question == "" {
		return baton.Invalid("a knowledge gap needs the question")
	}
	if reason == "" {
		return baton.Invalid("a knowledge gap needs a reason")
	}
	return s.store.RecordGap(ctx, Gap{Question: clip(question, MaxGapQuestion), ConversationID: conversationID,
		MessageID: messageID, Reason: clip(reason, 100)})
}

// GapGroup is a cluster of similar unanswered questions.
type GapGroup struct {
	Question        string         `json:"question"` // the most frequent wording
	Count           int            `json:"count"`
	Examples        []string       `json:"examples"` // up to five distinct wordings
	Reasons         map[string]int `json:"reasons"`
	ConversationIDs []int64        `json:"conversation_ids"`
	FirstSeen       time.Time      `json:"first_seen"`
	LastSeen        time.Time      `json:"last_seen"`
}

// GapOptions narrow the gap list.
type GapOptions struct {
	Since time.Duration // default 30 days
	Limit int           // groups, default 50
}

// gapSimilarity is the Jaccard similarity of content words above which two questions are one
// gap: "where is my refund" and "refund still not here?" share their one rare word.
const gapSimilarity = 0.5

// Gaps groups recent unanswered questions by shared content words and lists the groups, most
// frequent first, with counts and example wordings.
func (s *Service) Gaps(ctx context.Context, o GapOptions) ([]GapGroup, error) {
	if o.Since <= 0 {
		o.Since = 30 * 24 * time.Hour
	}
	if o.Limit <= 0 || o.Limit > 500 {
		o.Limit = 50
	}
	gaps, err := s.store.Gaps(ctx, s.o.Clock.Now().Add(-o.Since), 5000)
	if err != nil {
		return nil, err
	}
	return GroupGaps(gaps, o.Limit), nil
}

// GroupGaps clusters gaps greedily: each question joins the first group whose seed question is
// similar enough, else starts a group. Oldest first, so groups are stable as gaps arrive.
func GroupGaps(gaps []Gap, limit int) []GapGroup {
	gaps = slices.Clone(gaps)
	slices.SortStableFunc(gaps, func(a, b Gap) int {
		if c := a.CreatedAt.Compare(b.CreatedAt); c != 0 {
			return c
		}
		return cmp.Compare(a.ID, b.ID)
	})
	type group struct {
		seed     map[string]bool
		g        GapGroup
		wordings map[string]int
		convs    map[int64]bool
	}
	var groups []*group
	for _, gap := range gaps {
		ts := termSet(gap.Question)
		var into *group
		best := 0.0
		for _, g := range groups {
			if sim := jaccard(ts, g.seed); sim >= gapSimilarity && sim > best {
				into, best = g, sim
			}
		}
		if into == nil {
			into = &group{seed: ts, wordings: map[string]int{}, convs: map[int64]bool{},
				g: GapGroup{Reasons: map[string]int{}, FirstSeen: gap.CreatedAt}}
			groups = append(groups, into)
		}
		into.g.Count++
		into.g.Reasons[gap.Reason]++
		into.g.LastSeen = gap.CreatedAt
		into.wordings[strings.Join(strings.Fields(gap.Question), " ")]++
		if gap.ConversationID > 0 && !into.convs[gap.ConversationID] {
			into.convs[gap.ConversationID] = true
			into.g.ConversationIDs = append(into.g.ConversationIDs, gap.ConversationID)
		}
	}
	out := make([]GapGroup, 0, len(groups))
	for _, g := range groups {
		type wc struct {
			w string
			n int
		}
		var ws []wc
		for w, n := range g.wordings {
			ws = append(ws, wc{w, n})
		}
		slices.SortFunc(ws, func(a, b wc) int {
			if c := cmp.Compare(b.n, a.n); c != 0 {
				return c
			}
			return strings.Compare(a.w, b.w)
		})
		g.g.Question = ws[0].w
		for i := 0; i < len(ws) && i < 5; i++ {
			g.g.Examples = append(g.g.Examples, ws[i].w)
		}
		if g.g.ConversationIDs == nil {
			g.g.ConversationIDs = []int64{}
		}
		out = append(out, g.g)
	}
	slices.SortStableFunc(out, func(a, b GapGroup) int {
		if c := cmp.Compare(b.Count, a.Count); c != 0 {
			return c
		}
		return b.LastSeen.Compare(a.LastSeen)
	})
	if len(out) > limit {
		out = out[:limit]
	}
	return out
}

func jaccard(a, b map[string]bool) float64 {
	if len(a) == 0 && len(b) == 0 {
		return 1
	}
	inter := 0
	for t := range a {
		if b[t] {
			inter++
		}
	}
	return float64(inter) / float64(len(a)+len(b)-inter)
}

// Feedback records a thumbs up or down on an answer against the chunks it used; a later vote
// by the same person on the same answer replaces the earlier one. Unknown chunks are refused
// (baton.ErrNotFound).
func (s *Service) Feedback(ctx context.Context, messageID int64, chunkIDs []int64, up bool, by string) error {
	by = strings.TrimSpace(by)
	switch {
	case messageID <= 0:
		return baton.Invalid("feedback needs the message id of the answer")
	case len(chunkIDs) == 0:
		return baton.Invalid("feedback needs the chunk ids the answer used")
	case len(chunkIDs) > 50:
		return baton.Invalid("at most 50 chunk ids")
	case by == "" || len(by) > 200:
		return baton.Invalid("feedback needs who gave it (1..200 characters)")
	}
	ids := slices.Clone(chunkIDs)
	slices.Sort(ids)
	ids = slices.Compact(ids)
	return s.store.RecordFeedback(ctx, Feedback{MessageID: messageID, ChunkIDs: ids, Up: up, By: by})
}

// FeedbackByArticle lists articles by their votes, the most misleading first.
func (s *Service) FeedbackByArticle(ctx context.Context, limit int) ([]ArticleFeedback, error) {
	if limit <= 0 || limit > 500 {
		limit = 50
	}
	return s.store.FeedbackByArticle(ctx, limit)
}
