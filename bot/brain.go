package bot

import (
	"context"
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
	Text              string
	Citations         []baton.Citation
	Confidence        float64
	NoAnswer          bool   // below the confidence threshold: don't guess
	Reason            string // why there is no answer
	Suggestion        string // with no answer but a near miss: the closest article's title, for "did you mean …?"
	SuggestionArticle int64  // the near miss's article
	Trace             map[string]any

	Passages []Passage // what was retrieved, for the turn's model call (compose.go)
}

// Answerer answers questions from the knowledge base and records the ones it could not.
type Answerer interface {
	Answer(ctx context.Context, question, language string) (Answer, error)
	// AnswerFrom answers a question the customer confirmed is about an article ("are you
	// asking about …?" — "yes"): from that article only, at a lower confidence.
	AnswerFrom(ctx context.Context, question, language string, articleID int64) (Answer, error)
	RecordGap(ctx context.Context, question string, conversationID, messageID int64, reason string) error
}

// Understander asks an LLM to understand a message (one structured call); errors mean "use
// the local result".
type Understander interface {
	Understand(ctx context.Context, text, requested string, known []intents.Intent) (intents.Result, error)
}

// Brain is the bot's Decider: it understands the turn's new messages (intent, details,
// sentiment, language), asks the knowledge base their questions, lets the policy decide, and
// renders the decision through the prompt templates.
type Brain struct {
	Intents   *intents.Model
	Knowledge Answerer       // nil: no knowledge base; questions are offered a person
	LLM       Understander   // nil: offline; otherwise one structured call per turn refines the intent
	Model     *ModelOptions  // nil: the local reply is sent; otherwise one model call rewrites it (compose.go)
	Prompts   prompts.Source // read once per turn: an admin's activation applies from the next turn
	Staff     Staffing       // nil: a handoff is told no wait or hours
	Clock     baton.Clock
	Log       *slog.Logger
	Settings  Settings
	// Strict turns a template that fails to render into an error (tests); otherwise the
	// failure is logged and a fixed text is sent, never an empty message.
	Strict bool
}

// Decide implements Decider: understand → ask the knowledge base → decide → render.
func (b *Brain) Decide(ctx context.Context, st baton.TurnState) (baton.TurnOutcome, error) {
	conv := st.Conversation
	u := b.understand(ctx, st)
	if conv.Status != baton.StatusAgent && b.Knowledge != nil {
		if err := b.lookup(ctx, &u, conv.State); err != nil {
			return u.out, err
		}
	}
	s := b.settings()
	in := Input{
		Now: b.Clock.Now(), Status: conv.Status, State: conv.State, Messages: u.msgs,
		Details: u.details, New: u.fresh, Invalid: u.invalid, Trend: u.trend, CustomerMessages: u.customerMessages,
		Intent: b.Intents.Intent, Settings: s,
	}
	in.Greeted, in.Returning = greetedSince(st, s.WelcomeBackGap)
	d := Decide(in)
	out := u.out
	out.Trace["action"], out.Trace["actions"] = string(d.Primary()), d.Kinds()
	if d.Intent != "" {
		out.Trace["served_intent"] = d.Intent
	}
	// Record what the knowledge base could not answer.
	if len(d.Gaps) > 0 && b.Knowledge != nil {
		last := st.Pending[len(st.Pending)-1]
		for _, q := range d.Gaps {
			if err := b.Knowledge.RecordGap(ctx, q, conv.ID, last.ID, "no_answer"); err != nil {
				b.Log.WarnContext(ctx, "record knowledge gap", "conversation_id", conv.ID, "err", err)
			}
		}
	}
	next := d.State
	next.Topic = topicOf(d, next.Topic, u.details, b.Intents)
	if lang := u.language; lang != "" {
		next.Language = lang
	}
	var notice handoffNotice
	if d.Handoff != nil {
		d.Handoff, notice = b.planHandoff(ctx, st, u, d, next, in.Now)
	}
	reply, err := b.compose(ctx, d, composeInput{name: firstName(customerName(conv, u.details)), topic: conv.State.Topic,
		details: u.details, last: lastBotText(st), intents: b.Intents, topics: b.topics(ctx, d, s), notice: notice})
	if err != nil {
		return out, err
	}
	if reply != nil {
		out.Replies = append(out.Replies, *reply)
	}
	if d.Handoff != nil {
		out.Handoff = d.Handoff
		out.Status = baton.StatusQueued
		out.Trace["handoff_reason"] = string(d.Handoff.Reason)
		out.Trace["handoff_team"], out.Trace["handoff_priority"] = d.Handoff.Team, d.Handoff.Priority
	}
	if summary, ok := b.summarise(st, &next, d, u, in.Now); ok {
		out.Summary = &summary
	}
	b.write(ctx, st, d, u, &out)
	out.State = &next
	return out, nil
}

// understood is the turn's understanding, and the outcome it starts.
type understood struct {
	out              baton.TurnOutcome
	msgs             []Understood
	analyses         []intents.Analysis
	details          map[string]string // known after the turn's messages
	fresh            map[string]string // given by the turn's messages
	invalid          map[string]string // type → problem
	trend            float64
	customerMessages int
	language         string
}

// understand analyses every new message: intent, details (filed under the detail the bot
// asked for and the open intent's patterns), sentiment, language, and what kind of message it is.
func (b *Brain) understand(ctx context.Context, st baton.TurnState) understood {
	conv := st.Conversation
	loc, err := time.LoadLocation(conv.Customer.Timezone)
	if err != nil {
		loc = time.UTC
	}
	u := understood{
		out:     baton.TurnOutcome{Meta: map[int64]map[string]any{}, Details: map[string]string{}, Trace: map[string]any{"decider": "brain", "messages": len(st.Pending)}},
		details: map[string]string{}, fresh: map[string]string{}, invalid: map[string]string{},
	}
	for k, v := range conv.Details {
		u.details[k] = v
	}
	requested := ""
	if len(conv.State.Awaiting) > 0 {
		requested = conv.State.Awaiting[0]
	}
	xctx := intents.ExtractContext{Location: loc, Requested: requested}
	if open, ok := b.Intents.Intent(conv.State.OpenIntent); ok {
		// The open intent's patterns and details apply to every message until it is served.
		xctx.OrderPattern = b.Intents.OrderPattern(open.Name)
		xctx.Expect = open.RequiredDetails
	}
	prior := 0
	for _, m := range st.History {
		if m.Author == baton.AuthorCustomer {
			prior++
		}
	}
	trend := conv.SentimentTrend
	for i, m := range st.Pending {
		xctx.Now = m.CreatedAt
		a := b.Intents.Understand(m.Text, xctx)
		u.analyses = append(u.analyses, a)
		kind := kindOf(m.Text, a)
		for _, d := range a.Details {
			if d.Valid {
				u.details[d.Type], u.fresh[d.Type], u.out.Details[d.Type] = d.Value, d.Value, d.Value
				delete(u.invalid, d.Type)
			} else if d.Problem != "" && (kind == KindDetail || len(strings.Fields(m.Text)) <= 3) {
				// Only a reply that is the value is refused: "it's been 10 days!!" was no
				// attempt at an order number.
				u.invalid[d.Type] = d.Problem
			}
		}
		trend = sentiment.Update(trend, prior+i, a.Sentiment.Score)
		u.msgs = append(u.msgs, Understood{Text: m.Text, Intent: a.Intent, Score: a.Score, OutOfScope: a.OutOfScope,
			Sentiment: a.Sentiment.Score, Kind: kind, Words: len(strings.Fields(m.Text)), Personal: isPersonal(m.Text, a),
			Request: isRequest(m.Text, a), WhyAsked: whyAsked.MatchString(m.Text)})
		u.out.Meta[m.ID] = map[string]any{
			"intent": a.Intent, "score": a.Score, "out_of_scope": a.OutOfScope, "details": a.Details, "kind": string(kind),
			"sentiment": map[string]any{"score": a.Sentiment.Score, "label": a.Sentiment.Label}, "language": a.Language,
		}
		if a.Language != "" && len(strings.Fields(m.Text)) >= 4 {
			u.language = a.Language // too few words to tell reliably
		}
	}
	u.trend = trend
	u.customerMessages = prior + len(st.Pending)
	u.out.Sentiment = &trend
	if b.LLM != nil && len(st.Pending) > 0 {
		b.refine(ctx, st, requested, &u)
	}
	last := u.msgs[len(u.msgs)-1]
	for k, v := range map[string]any{"intent": last.Intent, "score": last.Score, "out_of_scope": last.OutOfScope,
		"sentiment_trend": trend, "requested": requested} {
		u.out.Trace[k] = v
	}
	return u
}

// refine replaces the last message's intent with the LLM's when it answers usably (validated
// against the known intents and the same detail validators); any failure keeps the local result.
func (b *Brain) refine(ctx context.Context, st baton.TurnState, requested string, u *understood) {
	res, err := b.LLM.Understand(ctx, joinTexts(st.Pending), requested, b.Intents.Intents())
	if err != nil {
		b.Log.WarnContext(ctx, "llm understanding failed; using the local result", "conversation_id", st.Conversation.ID, "err", err)
		u.out.Trace["llm"] = map[string]any{"error": err.Error(), "used": false}
		return
	}
	i := len(u.msgs) - 1
	u.out.Trace["llm"] = map[string]any{"used": true, "intent": res.Intent, "score": res.Score, "local_intent": u.msgs[i].Intent,
		"prompt_version": b.Prompts.Current().Version(prompts.ClassifySystem) + "/" + b.Prompts.Current().Version(prompts.ClassifyUser)}
	m := &u.msgs[i]
	m.Intent, m.Score, m.OutOfScope = res.Intent, res.Score, res.OutOfScope
	if res.Language != "" {
		u.language = res.Language
	}
	for _, d := range res.Details {
		if d.Valid {
			u.details[d.Type], u.fresh[d.Type], u.out.Details[d.Type] = d.Value, d.Value, d.Value
			delete(u.invalid, d.Type)
		}
	}
}

// lookup asks the knowledge base the turn's questions. Each message is asked on its own (and a
// message with several questions, each of them); when a burst's messages find nothing alone
// (fragments of one question), they are asked together.
func (b *Brain) lookup(ctx context.Context, u *understood, st baton.ConversationState) error {
	// A short statement in a burst completes the message before it ("how long does delivery
	// take" + "to germany"), rather than being a question of its own.
	type query struct {
		msg  int
		text string
	}
	var qs []query
	for i, m := range u.msgs {
		if m.Kind != KindQuestion && m.Kind != KindStatement {
			continue
		}
		if len(st.Awaiting) > 0 && m.Kind == KindStatement && m.Words <= 4 {
			continue // a short reply to the bot's question for a detail is an attempt at it
		}
		if m.Kind == KindStatement && m.Words <= 4 && len(qs) > 0 && qs[len(qs)-1].msg == i-1 {
			qs[len(qs)-1].text += " " + m.Text
			u.msgs[i].Asked = true
			continue
		}
		qs = append(qs, query{i, m.Text})
	}
	// "Are you asking about <article>?" — "yes": the question is answered from that article.
	if c := st.Clarify; c != nil && st.Stage == baton.StageClarifying && len(u.msgs) > 0 && u.msgs[0].Kind == KindYes {
		a, err := b.Knowledge.AnswerFrom(ctx, c.Question, u.language, c.ArticleID)
		if err != nil {
			return err
		}
		u.msgs[0].Asked = true
		u.msgs[0].Answers = append(u.msgs[0].Answers, a)
	}
	asked, found := len(qs), false
	for _, q := range qs {
		m := &u.msgs[q.msg]
		m.Asked = true
		for _, part := range Questions(q.text) {
			a, err := b.Knowledge.Answer(ctx, part, u.language)
			if err != nil {
				return err
			}
			if core, ok := WithoutStory(part); ok {
				alone, err := b.Knowledge.Answer(ctx, core, u.language)
				if err != nil {
					return err
				}
				if alone.Confidence >= a.Confidence {
					a = alone
				}
			}
			found = found || !a.NoAnswer
			m.Answers = append(m.Answers, a)
		}
	}
	if asked > 1 && !found {
		var texts []string
		last := -1
		for i, m := range u.msgs {
			if m.Asked {
				texts = append(texts, m.Text)
				last = i
			}
		}
		a, err := b.Knowledge.Answer(ctx, strings.Join(texts, "\n"), u.language)
		if err != nil {
			return err
		}
		u.msgs[last].Answers = append(u.msgs[last].Answers, a)
	}
	var trace []map[string]any
	for _, m := range u.msgs {
		for _, a := range m.Answers {
			t := map[string]any{"confidence": a.Confidence, "no_answer": a.NoAnswer, "reason": a.Reason, "knowledge": a.Trace}
			if len(a.Citations) > 0 {
				t["chunk_id"] = a.Citations[0].ChunkID
			}
			trace = append(trace, t)
		}
	}
	if len(trace) > 0 {
		u.out.Trace["answers"] = trace
		u.out.Trace["confidence"] = trace[0]["confidence"]
	}
	return nil
}

func (b *Brain) settings() Settings {
	s := b.Settings
	d := DefaultSettings()
	if s.QueuedAckInterval <= 0 {
		s.QueuedAckInterval = d.QueuedAckInterval
	}
	if s.FrustrationTrend == 0 {
		s.FrustrationTrend = d.FrustrationTrend
	}
	if s.MaxAsks <= 0 {
		s.MaxAsks = d.MaxAsks
	}
	if s.WelcomeBackGap <= 0 {
		s.WelcomeBackGap = d.WelcomeBackGap
	}
	if s.HandoffSLA <= 0 {
		s.HandoffSLA = d.HandoffSLA
	}
	if len(s.Topics) == 0 {
		s.Topics = topics(b.Intents.Intents())
	}
	return s
}

// TopicLister is an Answerer that can name what its knowledge base covers.
type TopicLister interface {
	Topics(ctx context.Context, n int) ([]string, error)
}

// topics names what the bot can help with in an out-of-scope reply: the configured topics,
// else what the knowledge base covers (its articles are what the bot answers from), else the
// intents. Looked up only for such a reply.
func (b *Brain) topics(ctx context.Context, d Decision, s Settings) []string {
	if len(b.Settings.Topics) > 0 || !slices.ContainsFunc(d.Actions, func(a Action) bool { return a.Kind == ActOutOfScope }) {
		return s.Topics
	}
	tl, ok := b.Knowledge.(TopicLister)
	if !ok {
		return s.Topics
	}
	t, err := tl.Topics(ctx, 4)
	if err != nil {
		b.Log.WarnContext(ctx, "list knowledge topics", "err", err)
		return s.Topics
	}
	if len(t) == 0 {
		return s.Topics
	}
	return t
}

// topics names what the bot can help with, from the intents that are not small talk.
func topics(list []intents.Intent) []string {
	var out []string
	for _, in := range list {
		if isBuiltinTalk(in.Name) || in.Name == "talk_to_human" || in.Name == "complaint" || in.Name == "faq" {
			continue
		}
		out = append(out, humanise(in.Name))
		if len(out) == 5 {
			break
		}
	}
	return out
}

func humanise(name string) string { return strings.ReplaceAll(name, "_", " ") }

// greetedSince reports whether the bot spoke in this episode since the customer's last long
// silence, and whether the customer is returning (an earlier episode, or a long silence).
func greetedSince(st baton.TurnState, gap time.Duration) (spoke, returning bool) {
	conv := st.Conversation
	var lastCustomer time.Time
	for _, m := range st.History {
		if m.Author == baton.AuthorCustomer {
			lastCustomer = m.CreatedAt
		}
	}
	silent := !lastCustomer.IsZero() && len(st.Pending) > 0 && st.Pending[0].CreatedAt.Sub(lastCustomer) >= gap
	returning = conv.Episode > 1 || silent || slices.ContainsFunc(st.History, func(m baton.Message) bool {
		return m.Episode < conv.Episode
	})
	return greeted(st) && !silent, returning
}

func customerName(c baton.Conversation, details map[string]string) string {
	if c.Customer.Name != "" {
		return c.Customer.Name
	}
	return details[intents.DetailName]
}

// lastBotText is the bot's last public message, so a reply never repeats it word for word.
func lastBotText(st baton.TurnState) string {
	for i := len(st.History) - 1; i >= 0; i-- {
		m := st.History[i]
		if m.Author == baton.AuthorBot && m.Visibility == baton.Public {
			return m.Text
		}
	}
	return ""
}

func joinTexts(ms []baton.Message) string {
	parts := make([]string, len(ms))
	for i, m := range ms {
		parts[i] = m.Text
	}
	return strings.Join(parts, "\n")
}
