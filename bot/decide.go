package bot

import (
	"context"
	"strings"

	"github.com/batonhq/baton"
)

// Minimal is the decider before understanding and knowledge are wired in: it greets the
// customer (by name when known, "welcome back" when returning) and says a person will follow up.
type Minimal struct{}

// Decide implements Decider.
func (Minimal) Decide(ctx context.Context, st baton.TurnState) (baton.TurnOutcome, error) {
	c := st.Conversation
	var b strings.Builder
	if greeted(st) {
		b.WriteString("Thanks for your message")
	} else if c.Episode > 1 {
		b.WriteString("Welcome back")
	} else {
		b.WriteString("Hi")
	}
	if name := firstName(c.Customer.Name); name != "" {
		b.WriteString(", " + name)
	}
	if len(st.Pending) > 1 {
		b.WriteString(" — I've read all your messages")
	}
	b.WriteString(". A person from our team will follow up here.")
	return baton.TurnOutcome{
		Replies: []baton.Reply{{Author: baton.AuthorBot, Visibility: baton.Public, Text: b.String()}},
		Trace:   map[string]any{"decider": "minimal", "messages": len(st.Pending)},
	}, nil
}

// greeted reports whether the bot already spoke in the current episode.
func greeted(st baton.TurnState) bool {
	for _, m := range st.History {
		if m.Author == baton.AuthorBot && m.Episode == st.Conversation.Episode {
			return true
		}
	}
	return false
}

func firstName(name string) string {
	if f := strings.Fields(name); len(f) > 0 {
		return f[0]
	}
	return ""
}
