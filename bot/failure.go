package bot

import (
	"context"
	"errors"
	"slices"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/prompts"
)

// Failures counts failed turn attempts where they survive a restart (the conversation store),
// so that a turn that keeps failing is handed to people instead of being retried forever.
type Failures interface {
	// TurnFailed records a failed attempt at a conversation's unanswered messages, msgID being
	// the oldest, and returns how many attempts at them have failed so far (1 for the first).
	TurnFailed(ctx context.Context, convID, msgID int64, reason string) (int, error)
}

// HandoffReplier writes the reply that tells a customer a person will take over; a Decider may
// implement it so the reply follows its templates.
type HandoffReplier interface {
	HandoffReply(ctx context.Context, st baton.TurnState) baton.Reply
}

// DefaultMaxAttempts is how many failed attempts at a turn hand its conversation to people.
const DefaultMaxAttempts = 3

// failed decides what a turn whose decision failed with cause does: below the attempt limit it
// returns the error (the queue retries); at the limit it returns the outcome that hands the
// conversation to people with reason error, tells the customer once, and marks the messages
// answered, so nothing retries them again.
func (e *Engine) failed(ctx context.Context, st baton.TurnState, cause error) (baton.TurnOutcome, error) {
	// A cancelled turn (shutdown, lease lost) did not fail; nor can failures be counted without a store.
	if e.Failures == nil || ctx.Err() != nil || errors.Is(cause, baton.ErrLeaseLost) || len(st.Pending) == 0 {
		return baton.TurnOutcome{}, cause
	}
	conv := st.Conversation
	oldest := slices.MinFunc(st.Pending, func(a, b baton.Message) int { return int(a.ID - b.ID) }).ID
	n, err := e.Failures.TurnFailed(ctx, conv.ID, oldest, cause.Error())
	if err != nil {
		e.Log.WarnContext(ctx, "count failed turn", "conversation_id", conv.ID, "err", err)
		return baton.TurnOutcome{}, cause
	}
	max := e.MaxAttempts
	if max <= 0 {
		max = DefaultMaxAttempts
	}
	handOff := n >= max
	if e.OnFailure != nil {
		e.OnFailure(handOff)
	}
	if !handOff {
		e.Log.WarnContext(ctx, "turn failed; will retry", "conversation_id", conv.ID, "attempts", n, "err", cause)
		return baton.TurnOutcome{}, cause
	}
	e.Log.ErrorContext(ctx, "turn failed too often; handing the conversation to people", "conversation_id", conv.ID,
		"attempts", n, "err", cause)
	out := baton.TurnOutcome{Trace: map[string]any{"decider": "failed", "attempts": n, "error": clip(cause.Error(), 500)}}
	// Once: a conversation people already have gets no second handoff and no second apology.
	if conv.Status == baton.StatusBot {
		out.Replies = []baton.Reply{e.handoffReply(ctx, st)}
		out.Handoff = &baton.Handoff{Reason: baton.HandoffError}
		out.Status = baton.StatusQueued
		out.Trace["handoff_reason"] = string(baton.HandoffError)
	}
	return out, nil
}

// handoffReply tells the customer a person will take over, in the Decider's words if it has them.
func (e *Engine) handoffReply(ctx context.Context, st baton.TurnState) baton.Reply {
	if r, ok := e.Decider.(HandoffReplier); ok {
		return r.HandoffReply(ctx, st)
	}
	return baton.Reply{Author: baton.AuthorBot, Visibility: baton.Public, Text: fallbacks[prompts.AckHandoff]}
}

// HandoffReply implements HandoffReplier with the handoff acknowledgement template.
func (b *Brain) HandoffReply(ctx context.Context, st baton.TurnState) baton.Reply {
	text, err := b.render(ctx, prompts.AckHandoff, prompts.AckHandoffInput{CustomerName: firstName(customerName(st.Conversation, st.Conversation.Details))})
	if err != nil {
		text = fallbacks[prompts.AckHandoff]
	}
	return baton.Reply{Author: baton.AuthorBot, Visibility: baton.Public, Text: text,
		Meta: map[string]any{"actions": []string{string(ActHandoff)}}}
}
