package bot

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/intents"
	"github.com/batonhq/baton/intents/sentiment"
	"github.com/batonhq/baton/prompts"
)

// Answer is what the knowledge base says to a question.
type Answer struct {
	Text       string
	Citations  []baton.Citation
	Confidence float64
	NoAnswer   bool   // below the confidence threshold: don't guess
	Reason     string // why there is no answer
	Trace      map[string]any
}

// Answerer answers questions from the knowledge base and records the ones it could not.
type Answerer interface {
	Answer(ctx context.Context, question, language string) (Answer, error)
	RecordGap(ctx context.Context, question string, conversationID, messageID int64, reason string) error
}

// Understander asks an LLM to understand a message (one structured call); errors mean "use
// the local result".
type Understander interface {
	Understand(ctx context.Context, text, requested string, known []intents.Intent) (intents.Result, error)
}

// Brain decides replies offline: it understands every new customer message (intent, details,
// sentiment, language), then greets, gathers missing details, answers from knowledge, or hands
// off. It is the bot's Decider.
type Brain struct {
	Intents   *intents.Model
	Knowledge Answerer     // nil: no knowledge base, hand questions to a person
	LLM       Understander // nil: offline; otherwise one structured call per turn refines the local result
	Prompts   *prompts.Set
	Clock     baton.Clock
	Log       *slog.Logger
}

// Decide implements Decider.
func (b *Brain) Decide(ctx context.Context, st baton.TurnState) (baton.TurnOutcome, error) {
	conv := st.Conversation
	loc, err := time.LoadLocation(conv.Customer.Timezone)
	if err != nil {
		loc = time.UTC
	}
	requested, prevIntent := lastRequested(st)
	out := baton.TurnOutcome{Meta: map[int64]map[string]any{}, Details: map[string]string{}}
	gathered := map[string]string{}
	for k, v := range conv.Details {
		gathered[k] = v
	}
	// 1. Understand each message; details accumulate on the conversation.
	trend := conv.SentimentTrend
	prior := 0
	for _, m := range st.History {
		if m.Author == baton.AuthorCustomer {
			prior++
		}
	}
	var analyses []intents.Analysis
	var invalid []intents.Detail
	for i, m := range st.Pending {
		a := b.Intents.Understand(m.Text, intents.ExtractContext{Now: m.CreatedAt, Location: loc, Requested: requested})
		analyses = append(analyses, a)
		out.Meta[m.ID] = map[string]any{
			"intent": a.Intent, "score": a.Score, "out_of_scope": a.OutOfScope, "details": a.Details,
			"sentiment": map[string]any{"score": a.Sentiment.Score, "label": a.Sentiment.Label}, "language": a.Language,
		}
		for _, d := range a.Details {
			if d.Valid {
				gathered[d.Type], out.Details[d.Type] = d.Value, d.Value
			} else {
				invalid = append(invalid, d)
			}
		}
		trend = sentiment.Update(trend, prior+i, a.Sentiment.Score)
	}
	out.Sentiment = &trend
	primary := pickPrimary(analyses)
	out.Trace = map[string]any{"decider": "brain", "messages": len(st.Pending)}
	if b.LLM != nil {
		b.refine(ctx, st, requested, &primary, gathered, out)
	}
	// An answer to the bot's question continues the intent that asked it.
	if requested != "" && prevIntent != "" && (primary.OutOfScope || suppliesDetail(analyses, requested)) {
		primary.Intent, primary.OutOfScope = prevIntent, false
	}
	for k, v := range map[string]any{"intent": primary.Intent, "score": primary.Score, "out_of_scope": primary.OutOfScope,
		"sentiment_trend": trend, "requested": requested} {
		out.Trace[k] = v
	}
	// 2. Handed off means hands off: understand, but don't answer.
	if conv.Status == baton.StatusAgent || conv.Status == baton.StatusQueued {
		out.Trace["action"] = "silent_handed_off"
		return out, nil
	}
	// 3. Decide.
	name := conv.Customer.Name
	if name == "" {
		name = gathered["name"]
	}
	name = firstName(name)
	var prefix string
	if !greeted(st) {
		prefix = b.render(prompts.GreetShort, prompts.GreetingInput{CustomerName: name, Returning: returning(st)}) + " "
	}
	reply := func(text string, meta map[string]any) {
		out.Replies = append(out.Replies, baton.Reply{Author: baton.AuthorBot, Visibility: baton.Public, Text: strings.TrimSpace(prefix + text), Meta: meta})
	}
	question := joinTexts(st.Pending)
	intent, known := b.Intents.Intent(primary.Intent)
	switch {
	case primary.Intent == "greeting" && len(st.Pending) == 1:
		out.Trace["action"] = "greet"
		prefix = ""
		reply(b.render(prompts.Greeting, prompts.GreetingInput{CustomerName: name, Returning: returning(st)}), nil)
		return out, nil
	case known && intent.Action == intents.ActionReply:
		out.Trace["action"] = "reply"
		reply(intent.Reply, nil)
		return out, nil
	}
	if known && len(intent.RequiredDetails) > 0 {
		for _, need := range intent.RequiredDetails {
			if gathered[need] != "" {
				continue
			}
			bad := ""
			for _, d := range invalid {
				if d.Type == need {
					bad = d.Text
				}
			}
			out.Trace["action"], out.Trace["missing"] = "gather", need
			reply(b.render(prompts.Name(intents.ReaskTemplate(need)), prompts.ReaskInput{Invalid: bad}),
				map[string]any{"requested": need, "intent": intent.Name})
			return out, nil
		}
		if intent.Action == intents.ActionGatherThenHandoff {
			out.Trace["action"] = "handoff_with_details"
			out.Status = baton.StatusQueued
			reply(gotDetails(intent.RequiredDetails, gathered)+" "+b.render(prompts.AckHandoff, prompts.AckHandoffInput{}), map[string]any{"intent": intent.Name})
			return out, nil
		}
	}
	if known && (intent.Action == intents.ActionHandoff || intent.Action == intents.ActionGatherThenHandoff) {
		out.Trace["action"] = "handoff"
		out.Status = baton.StatusQueued
		reply(b.render(prompts.AckHandoff, prompts.AckHandoffInput{CustomerName: ""}), map[string]any{"intent": intent.Name})
		return out, nil
	}
	// Everything else is a question for the knowledge base.
	if b.Knowledge == nil {
		out.Trace["action"] = "handoff_no_knowledge"
		out.Status = baton.StatusQueued
		reply(b.render(prompts.AckHandoff, prompts.AckHandoffInput{}), nil)
		return out, nil
	}
	ans, err := b.answer(ctx, st.Pending, analyses, question, primary.Language)
	if err != nil {
		return out, fmt.Errorf("answer from knowledge: %w", err)
	}
	out.Trace["knowledge"] = ans.Trace
	out.Trace["confidence"] = ans.Confidence
	if ans.NoAnswer {
		out.Trace["action"], out.Trace["no_answer_reason"] = "no_answer", ans.Reason
		out.Status = baton.StatusQueued
		last := st.Pending[len(st.Pending)-1]
		if err := b.Knowledge.RecordGap(ctx, question, conv.ID, last.ID, ans.Reason); err != nil {
			b.Log.WarnContext(ctx, "record knowledge gap", "conversation_id", conv.ID, "err", err)
		}
		reply(b.render(prompts.NoAnswer, prompts.NoAnswerInput{}), map[string]any{"no_answer": ans.Reason})
		return out, nil
	}
	out.Trace["action"] = "answer"
	reply(ans.Text, map[string]any{"confidence": ans.Confidence})
	out.Replies[len(out.Replies)-1].Citations = ans.Citations
	return out, nil
}

// refine replaces the turn's intent with the LLM's when it answers usably (validated against
// the known intents and the same detail validators); any failure keeps the local result.
func (b *Brain) refine(ctx context.Context, st baton.TurnState, requested string, primary *intents.Analysis, gathered map[string]string, out baton.TurnOutcome) {
	res, err := b.LLM.Understand(ctx, joinTexts(st.Pending), requested, b.Intents.Intents())
	if err != nil {
		b.Log.WarnContext(ctx, "llm understanding failed; using the local result", "conversation_id", st.Conversation.ID, "err", err)
		out.Trace["llm"] = map[string]any{"error": err.Error(), "used": false}
		return
	}
	out.Trace["llm"] = map[string]any{"used": true, "intent": res.Intent, "score": res.Score, "local_intent": primary.Intent,
		"prompt_version": b.Prompts.Version(prompts.ClassifySystem) + "/" + b.Prompts.Version(prompts.ClassifyUser)}
	primary.Intent, primary.Score, primary.OutOfScope = res.Intent, res.Score, res.OutOfScope
	if res.Language != "" {
		primary.Language = res.Language
	}
	for _, d := range res.Details {
		if d.Valid {
			gathered[d.Type], out.Details[d.Type] = d.Value, d.Value
		}
	}
}

// answer asks the knowledge base. A burst may hold several questions: each message is asked on
// its own first and the answers found are combined with all their citations; when none finds
// an answer (fragments of one question), the messages are asked together.
func (b *Brain) answer(ctx context.Context, pending []baton.Message, analyses []intents.Analysis, question, language string) (Answer, error) {
	if len(pending) > 1 {
		var parts []string
		combined := Answer{Trace: map[string]any{"per_message": true}}
		for i, m := range pending {
			switch analyses[i].Intent {
			case "greeting", "thanks", "goodbye":
				continue
			}
			a, err := b.Knowledge.Answer(ctx, m.Text, language)
			if err != nil {
				return Answer{}, err
			}
			if a.NoAnswer || slices.Contains(parts, a.Text) {
				continue
			}
			parts = append(parts, a.Text)
			combined.Citations = append(combined.Citations, a.Citations...)
			combined.Confidence = max(combined.Confidence, a.Confidence)
		}
		if len(parts) > 0 {
			combined.Text = strings.Join(parts, "\n\n")
			return combined, nil
		}
	}
	return b.Knowledge.Answer(ctx, question, language)
}

func (b *Brain) render(name prompts.Name, data any) string {
	s, err := b.Prompts.Render(name, data)
	if err != nil {
		// Templates are validated when saved; this only happens with a broken override.
		b.Log.Error("render prompt", "prompt", string(name), "err", err)
		return ""
	}
	return s
}

// pickPrimary chooses the turn's intent: the most confident in-scope analysis, later messages
// winning ties, out of scope only when nothing else fits.
func pickPrimary(as []intents.Analysis) intents.Analysis {
	best := -1
	for i, a := range as {
		if a.OutOfScope {
			continue
		}
		// A greeting or thanks in a burst is not the point of the burst.
		if best >= 0 && (a.Intent == "greeting" || a.Intent == "thanks") && as[best].Intent != "greeting" {
			continue
		}
		if best < 0 || a.Score >= as[best].Score || as[best].Intent == "greeting" {
			best = i
		}
	}
	if best < 0 {
		return as[len(as)-1]
	}
	return as[best]
}

// lastRequested is the detail the bot asked for in its last message, and for which intent.
func lastRequested(st baton.TurnState) (detail, intent string) {
	for i := len(st.History) - 1; i >= 0; i-- {
		m := st.History[i]
		if m.Author == baton.AuthorBot {
			detail, _ = m.Meta["requested"].(string)
			intent, _ = m.Meta["intent"].(string)
			return detail, intent
		}
	}
	return "", ""
}

func suppliesDetail(as []intents.Analysis, detail string) bool {
	for _, a := range as {
		for _, d := range a.Details {
			if d.Type == detail {
				return true
			}
		}
	}
	return false
}

// returning reports whether the customer wrote in an earlier episode.
func returning(st baton.TurnState) bool {
	return st.Conversation.Episode > 1 || slices.ContainsFunc(st.History, func(m baton.Message) bool {
		return m.Episode < st.Conversation.Episode
	})
}

func joinTexts(ms []baton.Message) string {
	parts := make([]string, len(ms))
	for i, m := range ms {
		parts[i] = m.Text
	}
	return strings.Join(parts, "\n")
}

var detailLabels = map[string]string{"order_number": "order number", "email": "email", "phone": "phone number",
	"date": "date", "time": "time", "money": "amount", "name": "name"}

func gotDetails(required []string, gathered map[string]string) string {
	var parts []string
	for _, r := range required {
		label := detailLabels[r]
		if label == "" {
			label = strings.ReplaceAll(r, "_", " ")
		}
		parts = append(parts, fmt.Sprintf("%s %s", label, gathered[r]))
	}
	return "Thanks, I have your " + strings.Join(parts, " and ") + "."
}
