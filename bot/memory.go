package bot

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/intents"
)

// Summary refresh: at a handoff, after a long silence, or every few customer messages — not
// on every message.
const (
	summaryEvery = 5
	summaryGap   = 6 * time.Hour
)

// summarise refreshes the conversation's running summary when it is due, extractively: the
// issue in the customer's words, the intent, the details, what the bot answered, the mood and
// where it stands. It updates st's bookkeeping and reports whether there is a new summary.
func (b *Brain) summarise(ts baton.TurnState, st *baton.ConversationState, d Decision, u understood, now time.Time) (string, bool) {
	st.SinceSummary += len(ts.Pending)
	due := d.Handoff != nil || st.SinceSummary >= summaryEvery ||
		st.SummaryAt != nil && len(ts.Pending) > 0 && ts.Pending[0].CreatedAt.Sub(*st.SummaryAt) >= summaryGap ||
		st.SummaryAt == nil && ts.Conversation.Summary == "" && d.Intent != ""
	if !due {
		return "", false
	}
	st.SummaryAt, st.SinceSummary = &now, 0
	var b2 strings.Builder
	issue := issueText(ts, u, d)
	if d.Intent != "" {
		fmt.Fprintf(&b2, "Issue (%s): %s", humanise(d.Intent), issue)
	} else {
		fmt.Fprintf(&b2, "Issue: %s", issue)
	}
	if len(u.details) > 0 {
		keys := make([]string, 0, len(u.details))
		for k := range u.details {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		var parts []string
		for _, k := range keys {
			parts = append(parts, detailLabel(b.Intents, k)+" "+u.details[k])
		}
		fmt.Fprintf(&b2, "\nDetails: %s", strings.Join(parts, ", "))
	}
	if len(st.Answered) > 0 {
		fmt.Fprintf(&b2, "\nBot answered from: %s", strings.Join(st.Answered, "; "))
	}
	fmt.Fprintf(&b2, "\nSentiment: %s (trend %.2f)", moodOf(u.trend), u.trend)
	if d.Handoff != nil {
		fmt.Fprintf(&b2, "\nHanded off: %s", strings.ReplaceAll(string(d.Handoff.Reason), "_", " "))
	}
	return b2.String(), true
}

// issueText is the customer's most telling recent message: the one the turn's intent came
// from, else the longest recent one.
func issueText(ts baton.TurnState, u understood, d Decision) string {
	best := ""
	for i, m := range u.msgs {
		if m.Intent == d.Intent && d.Intent != "" || len(m.Text) > len(best) && m.Kind != KindSmallTalk && m.Kind != KindYes && m.Kind != KindNo {
			best = ts.Pending[i].Text
			if m.Intent == d.Intent && d.Intent != "" {
				break
			}
		}
	}
	if best == "" {
		for _, m := range ts.History {
			if m.Author == baton.AuthorCustomer && len(m.Text) > len(best) {
				best = m.Text
			}
		}
	}
	return "“" + clip(strings.Join(strings.Fields(best), " "), 200) + "”"
}

func moodOf(trend float64) string {
	switch {
	case trend <= -0.35:
		return "negative"
	case trend >= 0.35:
		return "positive"
	}
	return "neutral"
}

// topicOf is what a welcome back repeats: the order or the request that was open.
func topicOf(d Decision, prev string, details map[string]string, _ *intents.Model) string {
	if d.Intent == "" || d.State.OpenIntent != d.Intent && d.Handoff == nil {
		return prev // nothing of the customer's own was opened: an answered question is no topic
	}
	if n := details[intents.DetailOrderNumber]; n != "" {
		return "order " + n
	}
	return "your " + humanise(d.Intent)
}

func clip(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}
