package bot

import (
	"context"
	"fmt"

	"github.com/batonhq/baton"
)

// Switches are the operators' switches a turn reads before deciding: the bot paused
// everywhere (every message goes straight to people), or muted in one conversation.
type Switches interface {
	BotSwitches(ctx context.Context, convID int64) (paused, muted bool, err error)
}

// decide applies the switches, then asks the Decider. Muted: the messages are taken as read and
// nothing is said. Paused: a conversation the bot has goes to people (reason policy) with one
// reply saying so; one people have already is decided as usual (the bot only listens there).
func (e *Engine) decide(ctx context.Context, st baton.TurnState) (baton.TurnOutcome, error) {
	if e.Switches == nil {
		return e.Decider.Decide(ctx, st)
	}
	paused, muted, err := e.Switches.BotSwitches(ctx, st.Conversation.ID)
	if err != nil {
		return baton.TurnOutcome{}, fmt.Errorf("read bot switches: %w", err)
	}
	switch {
	case muted:
		return baton.TurnOutcome{Trace: map[string]any{"decider": "muted"}}, nil
	case paused && st.Conversation.Status == baton.StatusBot:
		out := baton.TurnOutcome{Trace: map[string]any{"decider": "paused", "handoff_reason": string(baton.HandoffPolicy)},
			Replies: []baton.Reply{e.handoffReply(ctx, st)}, Handoff: &baton.Handoff{Reason: baton.HandoffPolicy}, Status: baton.StatusQueued}
		return out, nil
	}
	return e.Decider.Decide(ctx, st)
}
