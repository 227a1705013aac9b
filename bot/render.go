package bot

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/intents"
	"github.com/batonhq/baton/prompts"
)

// composeInput is what rendering needs besides the decision.
type composeInput struct {
	name    string // the customer's first name
	topic   string // what was open before this turn
	details map[string]string
	last    string // the bot's previous public message
	intents *intents.Model
	topics  []string // what the bot can help with (Settings.Topics)
	notice  handoffNotice
}

// compose renders a decision's actions into one public reply (nil when silent), citing every
// answer it contains. If the text would repeat the bot's previous message word for word, the
// templates are asked for their other wording.
func (b *Brain) compose(ctx context.Context, d Decision, in composeInput) (*baton.Reply, error) {
	var text string
	var cites []baton.Citation
	var err error
	for _, again := range []bool{false, true} {
		text, cites, err = b.renderActions(ctx, d, in, again)
		if err != nil {
			return nil, err
		}
		if text != in.last {
			break
		}
	}
	if text != "" && text == in.last {
		// Both wordings were used up (a detail asked again in the same words).
		text = "Sorry to ask again — " + text
	}
	if text == "" {
		return nil, nil
	}
	meta := map[string]any{"actions": d.Kinds()}
	if d.Intent != "" {
		meta["intent"] = d.Intent
	}
	if len(d.State.Awaiting) > 0 {
		meta["requested"] = d.State.Awaiting[0]
	}
	return &baton.Reply{Author: baton.AuthorBot, Visibility: baton.Public, Text: text, Citations: cites, Meta: meta}, nil
}

func (b *Brain) renderActions(ctx context.Context, d Decision, in composeInput, again bool) (string, []baton.Citation, error) {
	var paras []string // answers stand in their own paragraphs
	var lead, tail []string
	var cites []baton.Citation
	r := func(name prompts.Name, data any) (string, error) { return b.render(ctx, name, data) }
	for _, a := range d.Actions {
		var s string
		var err error
		switch a.Kind {
		case ActSilent:
			continue
		case ActGreet:
			if a.Talk == "alone" {
				s, err = r(prompts.Greeting, prompts.GreetingInput{CustomerName: in.name})
			} else {
				s, err = r(prompts.GreetShort, prompts.GreetingInput{CustomerName: in.name})
			}
			lead = append(lead, s)
			if err != nil {
				return "", nil, err
			}
			in.name = "" // greeted by name once: "Hi Zoe! Thanks — …", not "Thanks, Zoe"
			continue
		case ActWelcomeBack:
			if a.Talk == "alone" || len(d.Actions) == 1 {
				s, err = r(prompts.WelcomeBack, prompts.WelcomeBackInput{CustomerName: in.name, Topic: in.topic})
			} else {
				s, err = r(prompts.GreetShort, prompts.GreetingInput{CustomerName: in.name, Returning: true})
			}
			lead = append(lead, s)
			if err != nil {
				return "", nil, err
			}
			in.name = ""
			continue
		case ActAnswer:
			c := a.Answer.Citations[0]
			s, err = r(prompts.AnswerReply, prompts.AnswerReplyInput{Text: a.Answer.Text, Title: c.Title, URL: c.URL})
			paras = append(paras, s)
			cites = append(cites, a.Answer.Citations...)
			if err != nil {
				return "", nil, err
			}
			continue
		case ActDetailsReceived:
			var items []string
			for _, t := range a.Details {
				items = append(items, detailLabel(in.intents, t)+" "+in.details[t])
			}
			s, err = r(prompts.DetailsReceived, prompts.DetailsInput{Items: items})
		case ActAskDetail:
			s, err = b.askDetails(ctx, a, in.intents, again)
		case ActRemind:
			var labels []string
			for _, t := range a.Details {
				labels = append(labels, detailLabel(in.intents, t))
			}
			s, err = r(prompts.GatherReminder, prompts.ReminderInput{Labels: labels, Topic: in.topic})
		case ActExplain:
			var labels []string
			for _, t := range a.Details {
				labels = append(labels, detailLabel(in.intents, t))
			}
			s, err = r(prompts.ExplainDetail, prompts.ReminderInput{Labels: labels, Topic: in.topic})
		case ActClarify:
			s, err = r(prompts.Clarify, prompts.ClarifyInput{Suggestion: a.Suggestion, Again: again})
		case ActOfferPerson:
			s, err = r(prompts.OfferPerson, prompts.OfferPersonInput{Why: a.Why, Again: again})
		case ActOfferDeclined:
			s, err = r(prompts.OfferDeclined, prompts.CustomerInput{CustomerName: in.name})
		case ActHandoff:
			switch n := in.notice; n.kind {
			case prompts.HandoffInHours:
				s, err = r(n.kind, prompts.HandoffInHoursInput{CustomerName: in.name, Wait: n.wait})
			case prompts.HandoffNobodyOnline:
				s, err = r(n.kind, prompts.CustomerInput{CustomerName: in.name})
			case prompts.HandoffAfterHours:
				s, err = r(n.kind, prompts.HandoffAfterHoursInput{CustomerName: in.name, OpensAt: n.opensAt, Zone: n.zone})
			default:
				s, err = r(prompts.AckHandoff, prompts.AckHandoffInput{CustomerName: in.name})
			}
		case ActSmallTalk:
			s, err = r(prompts.SmallTalk, prompts.SmallTalkInput{Kind: a.Talk, CustomerName: in.name})
		case ActAcknowledge:
			s, err = r(prompts.Acknowledge, prompts.AgainInput{Again: again})
		case ActOutOfScope:
			s, err = r(prompts.OutOfScope, prompts.OutOfScopeInput{Topics: in.topics, Again: again})
		case ActIntentReply:
			s = a.Text
		case ActAckQueued:
			s, err = r(prompts.AckQueued, prompts.CustomerInput{CustomerName: in.name})
		default:
			err = fmt.Errorf("no rendering for action %q", a.Kind)
		}
		if err != nil {
			return "", nil, err
		}
		tail = append(tail, s)
	}
	var out []string
	head := strings.Join(nonEmpty(lead), " ")
	switch {
	case len(paras) > 0:
		paras[0] = strings.TrimSpace(head + " " + paras[0])
		out = append(out, paras...)
	case head != "":
		tail = append([]string{head}, tail...)
	}
	if t := strings.Join(nonEmpty(tail), " "); t != "" {
		out = append(out, t)
	}
	return strings.TrimSpace(strings.Join(out, "\n\n")), cites, nil
}

// askDetails asks for one or two details: each type's first-ask or re-ask text, with what was
// wrong with the last value.
func (b *Brain) askDetails(ctx context.Context, a Action, model *intents.Model, again bool) (string, error) {
	var parts []string
	for _, t := range a.Details {
		s, err := b.detailQuestion(ctx, model, t, a.Reask || again, a.Problems[t])
		if err != nil {
			return "", err
		}
		parts = append(parts, s)
	}
	return strings.Join(parts, " "), nil
}

// errRender marks a template that could not be rendered.
var errRender = errors.New("render reply")

// render executes a template. A failure is an error in strict mode (tests); otherwise it is
// logged and a fixed text stands in, so a broken template never sends an empty message.
func (b *Brain) render(ctx context.Context, name prompts.Name, data any) (string, error) {
	s, err := b.Prompts.Current().Render(name, data)
	if err == nil && strings.TrimSpace(s) == "" {
		err = fmt.Errorf("prompt %s rendered an empty text", name)
	}
	if err == nil {
		return s, nil
	}
	if b.Strict {
		return "", fmt.Errorf("%w: %w", errRender, err)
	}
	b.Log.ErrorContext(ctx, "render prompt; sending the fallback text", "prompt", string(name), "err", err)
	if f, ok := fallbacks[name]; ok {
		return f, nil
	}
	return "Thanks for your message — I'll make sure it gets answered.", nil
}

// fallbacks stand in for templates that fail to render.
var fallbacks = map[prompts.Name]string{
	prompts.Greeting:            "Hi! How can I help you today?",
	prompts.GreetShort:          "Hi!",
	prompts.WelcomeBack:         "Welcome back! How can I help today?",
	prompts.Clarify:             "Could you tell me a bit more about what you need?",
	prompts.OfferPerson:         "Would you like me to pass this to a person from our team? (yes/no)",
	prompts.OfferDeclined:       "No problem. What else can I help you with?",
	prompts.AckHandoff:          "I've passed this to a person from our team, who will reply here.",
	prompts.AckQueued:           "A person from our team has your question and will reply here.",
	prompts.HandoffInHours:      "I've passed this to a person from our team, who will reply here.",
	prompts.HandoffNobodyOnline: "I've passed this to our team; a person will reply here as soon as someone is free.",
	prompts.HandoffAfterHours:   "I've passed this to our team; a person will reply here when they're back.",
	prompts.Acknowledge:         "You're welcome! Is there anything else I can help with?",
	prompts.OutOfScope:          "Sorry, that's not something I can help with — I can pass you to a person if you'd like.",
	prompts.DetailsReceived:     "Thanks, I have that.",
	prompts.GatherReminder:      "When you have a moment, I still need the details I asked for.",
	prompts.ExplainDetail:       "I need those details to look into this and pass it to the right person; they are used for nothing else.",
	prompts.SmallTalk:           "How can I help you today?",
}

func nonEmpty(ss []string) []string {
	var out []string
	for _, s := range ss {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}
