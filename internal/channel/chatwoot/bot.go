package chatwoot

import (
	"context"
	"log/slog"
	"time"

	"github.com/batonhq/baton"
)

// Decider decides a turn (bot.Decider).
type Decider interface {
	Decide(ctx context.Context, st baton.TurnState) (baton.TurnOutcome, error)
}

// Bot wraps the bot's decider for Chatwoot conversations: the typing indicator is on while a
// turn decides and always off after (also when the bot stays silent or fails), and with
// handoff target chatwoot a handoff happens in Chatwoot, bypassing Baton's own queue.
type Bot struct {
	Next     Decider
	Chatwoot *Adapter
	Log      *slog.Logger
}

// Decide implements Decider.
func (b *Bot) Decide(ctx context.Context, st baton.TurnState) (baton.TurnOutcome, error) {
	if st.Conversation.Channel != "chatwoot" {
		return b.Next.Decide(ctx, st)
	}
	cust := st.Conversation.Customer.ExternalID
	if err := b.Chatwoot.Typing(ctx, cust, true); err != nil {
		b.Log.WarnContext(ctx, "chatwoot typing on", "conversation_id", st.Conversation.ID, "err", err)
	}
	defer func() {
		// Its own deadline: the turn's context may be done by now.
		tctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		if err := b.Chatwoot.Typing(tctx, cust, false); err != nil {
			b.Log.WarnContext(ctx, "chatwoot typing off", "conversation_id", st.Conversation.ID, "err", err)
		}
	}()
	out, err := b.Next.Decide(ctx, st)
	if err != nil || out.Handoff == nil || b.Chatwoot.HandoffTarget == "baton" {
		return out, err
	}
	if herr := b.Chatwoot.Handoff(ctx, cust, *out.Handoff); herr != nil {
		// Chatwoot did not take it: Baton's own queue does, so the customer is not left alone.
		b.Log.WarnContext(ctx, "chatwoot handoff failed; handing off in Baton", "conversation_id", st.Conversation.ID, "err", herr)
		return out, nil
	}
	// The Chatwoot inbox owns the conversation now (status open: Baton stays silent until it is
	// pending again), so Baton's queue and auto-assignment never see it.
	out.Handoff, out.Status = nil, ""
	if out.Trace == nil {
		out.Trace = map[string]any{}
	}
	out.Trace["handoff_target"] = "chatwoot"
	return out, nil
}
