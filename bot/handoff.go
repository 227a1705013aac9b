package bot

import (
	"context"
	"encoding/json"
	"time"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/handoff"
	"github.com/batonhq/baton/prompts"
)

// Staffing reads, for a handoff, the team it goes to (by name, else the default team) and how
// soon a person there can answer.
type Staffing interface {
	Outlook(ctx context.Context, team string) (baton.TeamOutlook, error)
}

// handoffNotice is what the customer hears at a handoff: with no staffing known, that a person
// has it; in hours, the expected wait (or that nobody is free); after hours, the next opening.
type handoffNotice struct {
	kind    prompts.Name // "" = prompts.AckHandoff
	wait    string
	opensAt string
	zone    string
}

// planHandoff completes the policy's handoff: the package for the agent, its priority, its
// team (the intent's, else the default) and SLA due time, and the notice for the customer.
// Reading the team fails soft: the handoff still happens, routed by the default team later.
func (b *Brain) planHandoff(ctx context.Context, st baton.TurnState, u understood, d Decision, next baton.ConversationState, now time.Time) (*baton.Handoff, handoffNotice) {
	h := *d.Handoff
	conv := st.Conversation
	intent := d.Intent
	if intent == "" {
		intent = next.OpenIntent
	}
	var team string
	var required []string
	if in, ok := b.Intents.Intent(intent); ok {
		team, required = in.Team, in.RequiredDetails
	}
	labels := map[string]string{}
	for t := range u.details {
		labels[t] = detailLabel(b.Intents, t)
	}
	for _, t := range required {
		labels[t] = detailLabel(b.Intents, t)
	}
	// The turn's messages carry what was understood of them, as stored messages do.
	trigger := make([]baton.Message, len(st.Pending))
	for i, m := range st.Pending {
		m.Meta = u.out.Meta[m.ID]
		trigger[i] = m
	}
	pkg := handoff.Summarize(handoff.SummaryInput{Reason: h.Reason, Intent: intent, Trigger: trigger, History: st.History,
		Details: u.details, Required: required, Labels: labels, State: next, Sentiment: u.trend})
	if raw, err := json.Marshal(pkg); err == nil {
		h.Package = raw
	}
	_, vip := conv.Customer.Attributes["vip"]
	h.Priority = handoff.Priority(handoff.PriorityInput{Sentiment: u.trend, Earlier: conv.SentimentTrend,
		Urgency: handoff.Urgency(intent, nil), VIP: vip, Repeats: max(conv.Episode-1, 0)})
	if b.Staff == nil {
		return &h, handoffNotice{}
	}
	o, err := b.Staff.Outlook(ctx, team)
	if err != nil {
		b.Log.WarnContext(ctx, "read the team's outlook for a handoff", "conversation_id", conv.ID, "team", team, "err", err)
		return &h, handoffNotice{}
	}
	h.TeamID, h.Team = o.TeamID, o.Team
	cal := &handoff.Calendar{}
	if len(o.Hours) > 0 {
		if err := json.Unmarshal(o.Hours, cal); err != nil {
			b.Log.WarnContext(ctx, "read the team's hours; treating the team as always open", "team", o.Team, "err", err)
			cal = &handoff.Calendar{}
		}
	}
	if due := cal.Due(now, b.settings().HandoffSLA); !due.IsZero() {
		h.SLADueAt = &due
	}
	if cal.Open(now) {
		wait, ok := handoff.ExpectedWait(o.QueueAhead, o.FreeSlots, o.Online, o.Handling)
		if !ok {
			return &h, handoffNotice{kind: prompts.HandoffNobodyOnline}
		}
		return &h, handoffNotice{kind: prompts.HandoffInHours, wait: handoff.WaitPhrase(wait)}
	}
	n := handoffNotice{kind: prompts.HandoffAfterHours}
	if opening := cal.NextOpening(now); !opening.IsZero() {
		// A customer's timezone is UTC until a channel tells otherwise: name the team's.
		loc, err := time.LoadLocation(conv.Customer.Timezone)
		if tz := conv.Customer.Timezone; tz == "" || tz == "UTC" || err != nil {
			loc, n.zone = cal.Location(), cal.Location().String()
		}
		n.opensAt = handoff.When(opening, now, loc)
	}
	return &h, n
}
