package bot

import (
	"maps"
	"regexp"
	"slices"
	"time"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/intents"
)

// ActionKind is one thing the bot does in a turn. A turn's actions are rendered into one
// public message (or none, when silent).
type ActionKind string

const (
	ActGreet           ActionKind = "greet"            // hello, first contact
	ActWelcomeBack     ActionKind = "welcome_back"     // a returning customer, with what was open
	ActAnswer          ActionKind = "answer"           // an answer from the knowledge base, cited
	ActDetailsReceived ActionKind = "details_received" // confirm details the customer just gave
	ActAskDetail       ActionKind = "ask_detail"       // ask for missing details of the open intent
	ActRemind          ActionKind = "remind_detail"    // mention an awaited detail after an off-topic answer
	ActExplain         ActionKind = "explain_detail"   // say why a detail is asked for
	ActClarify         ActionKind = "clarify"          // ask the customer to say more, or "did you mean …?"
	ActOfferPerson     ActionKind = "offer_person"     // yes/no: pass to a person?
	ActOfferDeclined   ActionKind = "offer_declined"   // the customer said no to the offer
	ActHandoff         ActionKind = "handoff"          // pass to people and say what happens next
	ActSmallTalk       ActionKind = "small_talk"       // goodbye, "are you a bot?"
	ActAcknowledge     ActionKind = "acknowledge"      // "ok thanks": close the topic politely
	ActOutOfScope      ActionKind = "out_of_scope"     // say briefly what the bot can help with
	ActIntentReply     ActionKind = "reply"            // an admin intent's own reply text
	ActAckQueued       ActionKind = "ack_queued"       // queued: a person has it (at most once per interval)
	ActSilent          ActionKind = "silent"           // say nothing (an agent owns the conversation)
)

// Action is one decided action with what rendering it needs.
type Action struct {
	Kind       ActionKind
	Answer     *Answer             // ActAnswer
	Details    []string            // ActAskDetail, ActRemind, ActDetailsReceived: detail types
	Reask      bool                // ActAskDetail: asked before
	Problems   map[string]string   // ActAskDetail: why the last value of a type was refused
	Suggestion string              // ActClarify: an article the customer may mean
	Why        string              // ActOfferPerson: "no_answer", "gathering" or ""
	Reason     baton.HandoffReason // ActHandoff
	Text       string              // ActIntentReply
	Talk       string              // ActSmallTalk: "goodbye" or "bot"; ActGreet: "alone" when nothing else is said
}

// MessageKind is what a customer message is, as far as the policy cares.
type MessageKind string

const (
	KindQuestion  MessageKind = "question"   // asks something
	KindStatement MessageKind = "statement"  // tells or requests something
	KindSmallTalk MessageKind = "small_talk" // greeting, thanks, goodbye, "are you a bot?"
	KindDetail    MessageKind = "detail"     // little more than the details it carries
	KindYes       MessageKind = "yes"
	KindNo        MessageKind = "no"
)

// Understood is one new customer message as the policy sees it.
type Understood struct {
	Text       string
	Intent     string
	Score      float64
	OutOfScope bool
	Sentiment  float64
	Kind       MessageKind
	Words      int
	// Personal is true when the message is about the customer's own case ("my order", a
	// request, a detail): an intent's action applies. A general question only gets answered.
	Personal bool
	// Request is true when the message asks to act on the case ("where is my order?", "please
	// cancel it"): the intent's action goes ahead even when the question was answered.
	Request bool
	// WhyAsked is true when the customer asks why the bot wants a detail.
	WhyAsked bool
	// Answers are the knowledge base's answers to the message's questions; Asked says whether
	// it was asked at all.
	Answers []Answer
	Asked   bool
}

// Settings tune the policy.
type Settings struct {
	QueuedAckInterval time.Duration // a queued conversation's acknowledgement, at most this often
	FrustrationTrend  float64       // a sentiment trend at or below this hands off
	MaxAsks           int           // asks of one detail (the first and the re-asks) before giving up
	WelcomeBackGap    time.Duration // a customer silent this long is welcomed back
	ClarifyConfidence float64       // below this an unanswered question suggests no article (0: the answerer decides)
	Topics            []string      // what the bot can help with, for out-of-scope replies
	HandoffSLA        time.Duration // a handoff is due this much of the team's open time after it
}

// DefaultSettings are the policy's defaults.
func DefaultSettings() Settings {
	return Settings{QueuedAckInterval: 4 * time.Hour, FrustrationTrend: -0.5, MaxAsks: 3, WelcomeBackGap: 6 * time.Hour,
		HandoffSLA: 4 * time.Hour}
}

// Input is everything the policy decides on. It is built from the turn's state and the
// understanding of its new messages; the policy itself does no I/O.
type Input struct {
	Now       time.Time
	Status    baton.ConversationStatus
	State     baton.ConversationState
	Greeted   bool // the bot already spoke in this episode
	Returning bool // the customer wrote before, in an earlier episode or after a long gap
	// Messages are the turn's new customer messages, oldest first.
	Messages []Understood
	Details  map[string]string // every detail known after this turn's messages
	New      map[string]string // details the new messages gave
	Invalid  map[string]string // detail type → why the value the new messages gave was refused
	Trend    float64           // sentiment trend after this turn's messages
	// CustomerMessages counts the customer's messages so far, these included.
	CustomerMessages int
	Intent           func(name string) (intents.Intent, bool)
	Settings         Settings
}

// Decision is the policy's outcome: the actions to render, the conversation's next state, and
// a handoff when there is one.
type Decision struct {
	Actions []Action
	State   baton.ConversationState
	Handoff *baton.Handoff
	Intent  string // the intent the turn served
	// Gaps are the questions that found no confident answer (for the knowledge-gap list).
	Gaps []string
}

// Kinds lists the decision's action kinds, for traces.
func (d Decision) Kinds() []string {
	out := make([]string, len(d.Actions))
	for i, a := range d.Actions {
		out[i] = string(a.Kind)
	}
	return out
}

// Primary is the action that best says what the turn did.
func (d Decision) Primary() ActionKind {
	for _, k := range []ActionKind{ActHandoff, ActOfferPerson, ActAskDetail, ActExplain, ActAnswer, ActClarify, ActOutOfScope,
		ActOfferDeclined, ActRemind, ActDetailsReceived, ActAckQueued, ActAcknowledge, ActSmallTalk, ActIntentReply,
		ActWelcomeBack, ActGreet} {
		for _, a := range d.Actions {
			if a.Kind == k {
				return k
			}
		}
	}
	return ActSilent
}

// Decide is the conversation policy: a pure function of the state, the understanding of the
// new messages, the knowledge base's answers and the settings.
func Decide(in Input) Decision {
	p := &policy{in: in, st: cloneState(in.State)}
	switch in.Status {
	case baton.StatusAgent:
		// Handed off means hands off: the turn still understands, but says nothing.
		return Decision{Actions: []Action{{Kind: ActSilent}}, State: p.st}
	case baton.StatusQueued:
		return p.queued()
	}
	return p.bot()
}

type policy struct {
	in      Input
	st      baton.ConversationState
	acts    []Action
	handoff *baton.Handoff
	intent  string
	gaps    []string
}

func (p *policy) add(a Action) { p.acts = append(p.acts, a) }

func (p *policy) has(k ActionKind) bool {
	return slices.ContainsFunc(p.acts, func(a Action) bool { return a.Kind == k })
}

func (p *policy) done() Decision {
	if len(p.acts) == 0 {
		p.add(Action{Kind: ActSilent})
	}
	return Decision{Actions: p.acts, State: p.st, Handoff: p.handoff, Intent: p.intent, Gaps: p.gaps}
}

// queued: a person will take over. A question the knowledge base answers still gets its
// answer; anything else gets one acknowledgement per interval.
func (p *policy) queued() Decision {
	p.answers()
	if len(p.acts) == 0 {
		last := p.st.QueuedAckAt
		if last == nil || p.in.Now.Sub(*last) >= p.in.Settings.QueuedAckInterval {
			now := p.in.Now
			p.st.QueuedAckAt = &now
			p.add(Action{Kind: ActAckQueued})
		}
	}
	return p.done()
}

func (p *policy) bot() Decision {
	in := p.in
	if p.st.Stage == baton.StageHandedOff {
		p.st.Stage = baton.StageOpen // returned to the bot, or a new episode
	}
	p.greeting()
	// A pending offer of a person: yes hands off, no carries on, anything else lets it lapse.
	if p.st.Stage == baton.StageOffered && len(in.Messages) > 0 {
		switch in.Messages[0].Kind {
		case KindYes:
			reason := p.st.OfferReason
			if reason == "" {
				reason = baton.HandoffCustomerRequest
			}
			p.handOff(reason)
			return p.done()
		case KindNo:
			p.st.Stage, p.st.OfferReason, p.st.Failures = baton.StageOpen, "", 0
			if len(in.Messages) == 1 {
				p.add(Action{Kind: ActOfferDeclined})
				return p.done()
			}
		default:
			p.st.Stage, p.st.OfferReason = baton.StageOpen, ""
		}
	}
	// A returning customer asked whether this is about last time's topic: yes picks it up again.
	if p.st.Stage == baton.StageConfirm && len(in.Messages) > 0 {
		p.st.Stage = baton.StageOpen
		open, ok := in.Intent(p.st.OpenIntent)
		switch in.Messages[0].Kind {
		case KindYes:
			if ok && len(open.RequiredDetails) > 0 {
				p.gather(open, false)
			} else {
				p.add(Action{Kind: ActClarify})
			}
			return p.done()
		case KindNo:
			p.st.OpenIntent, p.st.Awaiting, p.st.Attempts = "", nil, nil
			if len(in.Messages) == 1 {
				p.add(Action{Kind: ActOfferDeclined})
				return p.done()
			}
		}
	}
	// "Are you asking about <article>?": yes answers from it, no asks what was meant.
	if c := p.st.Clarify; c != nil && p.st.Stage == baton.StageClarifying && len(in.Messages) > 0 {
		p.st.Clarify = nil
		switch in.Messages[0].Kind {
		case KindYes:
			p.st.Stage = baton.StageOpen
			if p.answers() {
				p.st.Failures = 0
			} else {
				p.offer("no_answer", baton.HandoffMissingKnowledge)
			}
			return p.done()
		case KindNo:
			if len(in.Messages) == 1 {
				p.add(Action{Kind: ActClarify})
				return p.done()
			}
			p.st.Stage = baton.StageOpen
		}
	}
	answered := p.answers()
	// An explicit request for a person, or rising frustration, hands off at once.
	for _, m := range in.Messages {
		if m.Intent == "talk_to_human" && !m.OutOfScope && m.Score >= 0.5 && (!answered || namesPerson.MatchString(m.Text)) {
			p.handOff(baton.HandoffCustomerRequest)
			return p.done()
		}
	}
	if p.frustrated() {
		p.handOff(baton.HandoffNegativeSentiment)
		return p.done()
	}
	acted := p.intents(answered)
	if p.handoff != nil {
		return p.done()
	}
	if !answered && !acted {
		p.smallTalk()
	}
	if !answered && !acted && !p.hasContent() {
		p.fail()
	} else if answered {
		p.st.Failures = 0
	}
	if p.st.Stage == "" || p.st.Stage == baton.StageClarifying && !p.has(ActClarify) {
		p.st.Stage = baton.StageOpen
	}
	return p.done()
}

// greeting opens the first reply of an episode.
func (p *policy) greeting() {
	if p.in.Greeted {
		return
	}
	if p.in.Returning {
		p.add(Action{Kind: ActWelcomeBack})
		return
	}
	p.add(Action{Kind: ActGreet})
}

// answers adds the confident answers of the turn's questions, each chunk once.
func (p *policy) answers() bool {
	seen := map[int64]bool{}
	n := 0
	for _, m := range p.in.Messages {
		if in, ok := p.in.Intent(m.Intent); ok && !m.OutOfScope && in.Action == intents.ActionReply && !isBuiltinTalk(in.Name) {
			continue // the admin's own reply for this intent beats a retrieved passage
		}
		if m.WhyAsked && p.st.Stage == baton.StageGathering {
			continue // explained, not looked up
		}
		for i := range m.Answers {
			a := m.Answers[i]
			if a.NoAnswer || len(a.Citations) == 0 || seen[a.Citations[0].ChunkID] {
				continue
			}
			seen[a.Citations[0].ChunkID] = true
			p.add(Action{Kind: ActAnswer, Answer: &a})
			p.st.Answered = appendBounded(p.st.Answered, a.Citations[0].Title, 5)
			n++
		}
	}
	return n > 0
}

// namesPerson finds a person in a request for one ("agent please", "can I talk to someone"): a
// question that only sounds like one ("number for the support line?") is answered, not handed off.
var namesPerson = regexp.MustCompile(`(?i)\b(human|person|people|agent|someone|somebody|anyone|representative|rep|operator|staff|manager|supervisor|real|call me|ring me|phone me|talk|speak|chat with)\b`)

// frustrated reports a sentiment trend at or below the threshold that has built up over more
// than one message (one angry question is answered first).
func (p *policy) frustrated() bool {
	in := p.in
	if in.Trend > in.Settings.FrustrationTrend || len(in.Messages) == 0 {
		return false
	}
	last := in.Messages[len(in.Messages)-1]
	return in.CustomerMessages >= 2 && last.Sentiment < 0
}

// intents serves the turn's intent: its own reply, a handoff, or gathering its details. It
// reports whether it did something.
func (p *policy) intents(answered bool) bool {
	in := p.in
	// Details for the open intent continue it, whatever the classifier thought of the reply.
	open, hasOpen := in.Intent(p.st.OpenIntent)
	supplies := hasOpen && (anyKey(in.New, open.RequiredDetails) || anyKey(in.Invalid, open.RequiredDetails))
	primary, m, ok := p.primaryIntent()
	switch {
	case hasOpen && p.st.Stage == baton.StageGathering && !supplies && slices.ContainsFunc(in.Messages, func(m Understood) bool { return m.WhyAsked }):
		// "Why do you need my email?" deserves the reason, not an article.
		p.intent = open.Name
		p.add(Action{Kind: ActExplain, Details: p.st.Awaiting})
		return true
	case supplies:
		return p.gather(open, answered)
	case hasOpen && p.st.Stage == baton.StageGathering && !answered && shortReplies(in.Messages):
		// A short reply to the question for a detail is an attempt at it, whatever else the
		// classifier reads into it ("For Less Money" is no billing problem).
		return p.gather(open, false)
	case ok && !isBuiltinTalk(primary.Name):
		p.intent = primary.Name
		switch primary.Action {
		case intents.ActionReply:
			if !answered {
				p.add(Action{Kind: ActIntentReply, Text: primary.Reply})
				return true
			}
			return false
		case intents.ActionHandoff:
			if answered && !m.Personal && m.Kind == KindQuestion {
				return false // a general question about it, answered
			}
			if primary.Name == "complaint" && m.Sentiment >= 0 {
				// A complaint without a trace of displeasure is the classifier's nearest guess
				// for something it does not know ("best cycling route to the beach?").
				return false
			}
			if m.Sentiment <= -0.3 {
				p.handOff(baton.HandoffNegativeSentiment) // an angry complaint: the mood is the reason
			} else {
				p.handOff(baton.HandoffPolicy)
			}
			return true
		case intents.ActionGatherThenHandoff:
			// Details are for acting on the customer's own case, never for a general question;
			// a question about their case that was answered needs nothing more unless they asked
			// for something to be done.
			if !m.Request && (m.Kind == KindQuestion || !m.Personal || answered) {
				return false
			}
			if p.st.OpenIntent != primary.Name {
				p.st.OpenIntent, p.st.Attempts, p.st.Invalid, p.st.Reminded = primary.Name, nil, nil, nil
			}
			return p.gather(primary, answered)
		}
	}
	if hasOpen && p.st.Stage == baton.StageGathering {
		// Something else was said while details are awaited: answered first, then a reminder;
		// a reply that is neither an answerable question nor small talk is a failed answer to
		// the detail question, and asked again (within the limit).
		if answered {
			p.remind(open)
			return false
		}
		if !slices.ContainsFunc(in.Messages, func(m Understood) bool { return m.Kind == KindSmallTalk }) {
			return p.gather(open, false)
		}
	}
	return false
}

// primaryIntent is the turn's most confident in-scope intent that is not small talk, with
// the message it came from.
func (p *policy) primaryIntent() (intents.Intent, Understood, bool) {
	best := -1
	for i, m := range p.in.Messages {
		if m.OutOfScope || m.Kind == KindSmallTalk || m.Kind == KindDetail || isBuiltinTalk(m.Intent) {
			continue
		}
		if best < 0 || m.Score >= p.in.Messages[best].Score {
			best = i
		}
	}
	if best < 0 {
		return intents.Intent{}, Understood{}, false
	}
	m := p.in.Messages[best]
	in, ok := p.in.Intent(m.Intent)
	return in, m, ok
}

// gather confirms new details of intent, asks for what is still missing (one or two at a
// time, each at most MaxAsks times), and hands off when everything is there.
func (p *policy) gather(intent intents.Intent, answered bool) bool {
	in := p.in
	p.intent = intent.Name
	p.st.OpenIntent = intent.Name
	var got []string
	for _, t := range intent.RequiredDetails {
		if _, ok := in.New[t]; ok {
			got = append(got, t)
			delete(p.st.Invalid, t)
		}
	}
	if len(got) > 0 {
		p.add(Action{Kind: ActDetailsReceived, Details: got})
	}
	var missing []string
	for _, t := range intent.RequiredDetails {
		if in.Details[t] == "" {
			missing = append(missing, t)
		}
	}
	if len(missing) == 0 {
		p.st.Awaiting, p.st.Attempts = nil, nil
		if intent.Action == intents.ActionGatherThenHandoff || intent.Action == intents.ActionHandoff {
			// Say everything that is passed on, not only what just arrived.
			if len(got) > 0 {
				p.acts[len(p.acts)-1].Details = intent.RequiredDetails
			}
			p.handOff(baton.HandoffPolicy)
		}
		return true
	}
	for t, problem := range in.Invalid {
		if p.st.Invalid == nil {
			p.st.Invalid = map[string]string{}
		}
		p.st.Invalid[t] = problem
	}
	ask := missing[:min(2, len(missing))]
	if p.st.Attempts == nil {
		p.st.Attempts = map[string]int{}
	}
	for _, t := range ask {
		if p.st.Attempts[t] >= in.Settings.MaxAsks {
			// Asked enough: hand off with what there is, or offer a person.
			p.st.Awaiting = nil
			if intent.Action == intents.ActionGatherThenHandoff {
				p.handOff(baton.HandoffFailedGathering)
			} else {
				p.offer("gathering", baton.HandoffFailedGathering)
			}
			return true
		}
	}
	reask := false
	problems := map[string]string{}
	for _, t := range ask {
		reask = reask || p.st.Attempts[t] > 0
		p.st.Attempts[t]++
		if pr := in.Invalid[t]; pr != "" {
			problems[t] = pr
		}
	}
	p.add(Action{Kind: ActAskDetail, Details: ask, Reask: reask, Problems: problems})
	p.st.Awaiting, p.st.Stage, p.st.Reminded = ask, baton.StageGathering, nil
	return true
}

// remind mentions the awaited details once after an answer to something else.
func (p *policy) remind(open intents.Intent) {
	var labels []string
	for _, t := range p.st.Awaiting {
		if p.in.Details[t] == "" && !slices.Contains(p.st.Reminded, t) {
			labels = append(labels, t)
		}
	}
	if len(labels) == 0 {
		return
	}
	p.st.Reminded = append(p.st.Reminded, labels...)
	p.intent = open.Name
	p.add(Action{Kind: ActRemind, Details: labels})
}

// smallTalk answers greetings, thanks, goodbyes and "are you a bot?".
func (p *policy) smallTalk() {
	kinds := map[string]bool{}
	for _, m := range p.in.Messages {
		if m.Kind == KindSmallTalk || isBuiltinTalk(m.Intent) && !m.OutOfScope && (m.Kind != KindQuestion || m.Intent == "greeting") {
			kinds[m.Intent] = true
		}
		if m.Kind == KindYes || m.Kind == KindNo {
			kinds["thanks"] = true // "ok", "sure", "no" with nothing offered: an acknowledgement
		}
	}
	switch {
	case kinds["are_you_a_bot"]:
		p.add(Action{Kind: ActSmallTalk, Talk: "bot"})
	case kinds["goodbye"]:
		p.add(Action{Kind: ActSmallTalk, Talk: "goodbye"})
		p.closeTopic()
	case kinds["thanks"]:
		p.add(Action{Kind: ActAcknowledge})
		p.closeTopic()
	case kinds["greeting"]:
		for i, a := range p.acts {
			if a.Kind == ActGreet || a.Kind == ActWelcomeBack {
				p.acts[i].Talk = "alone"
				if a.Kind == ActWelcomeBack && p.st.Topic != "" {
					p.st.Stage = baton.StageConfirm // the welcome asks whether it is about the topic
				}
				return
			}
		}
		p.add(Action{Kind: ActGreet, Talk: "alone"})
	}
}

// closeTopic ends what was being talked about; awaited details stay awaited.
func (p *policy) closeTopic() {
	p.st.Failures = 0
	if p.st.Stage == baton.StageClarifying {
		p.st.Stage = baton.StageOpen
	}
}

// hasContent reports whether the turn says more than a greeting.
func (p *policy) hasContent() bool {
	return slices.ContainsFunc(p.acts, func(a Action) bool {
		return a.Kind != ActGreet && a.Kind != ActWelcomeBack || a.Talk == "alone"
	})
}

// fail handles a turn the bot could not answer: clarify once when it has a guess, then offer
// a person; out-of-scope messages get what the bot can help with.
func (p *policy) fail() {
	in := p.in
	p.st.Failures++
	var suggestion string
	var clarify *baton.Clarification
	var best float64
	oos := true
	for _, m := range in.Messages {
		if m.Kind == KindDetail {
			continue
		}
		oos = oos && m.OutOfScope
		for _, a := range m.Answers {
			if a.Suggestion != "" && a.Confidence > best && a.Confidence >= in.Settings.ClarifyConfidence {
				suggestion, best = a.Suggestion, a.Confidence
				clarify = &baton.Clarification{Question: m.Text, ArticleID: a.SuggestionArticle, Title: a.Suggestion}
			}
		}
		if m.Asked {
			p.gaps = append(p.gaps, m.Text)
		}
	}
	if !slices.ContainsFunc(in.Messages, func(m Understood) bool { return m.Kind != KindDetail }) {
		// Only details, and nothing open to file them under: take them and ask what they're for.
		p.st.Failures--
		p.add(Action{Kind: ActDetailsReceived, Details: slices.Sorted(maps.Keys(in.New))})
		p.add(Action{Kind: ActClarify})
		return
	}
	switch {
	case p.st.Failures >= 2:
		p.offer("no_answer", baton.HandoffMissingKnowledge)
	case suggestion != "" && !(oos && best < oosSuggestion):
		p.add(Action{Kind: ActClarify, Suggestion: suggestion})
		p.st.Stage = baton.StageClarifying
		if clarify.ArticleID != 0 {
			p.st.Clarify = clarify
		}
	case oos:
		p.add(Action{Kind: ActOutOfScope})
	default:
		p.offer("no_answer", baton.HandoffMissingKnowledge)
	}
}

// oosSuggestion is the answer confidence a near-miss article needs before it is suggested for
// a message the classifier finds off-topic ("a good pizza place" is not about placing orders).
const oosSuggestion = 0.35

func (p *policy) offer(why string, reason baton.HandoffReason) {
	p.add(Action{Kind: ActOfferPerson, Why: why})
	p.st.Stage, p.st.OfferReason = baton.StageOffered, reason
}

func (p *policy) handOff(reason baton.HandoffReason) {
	p.add(Action{Kind: ActHandoff, Reason: reason})
	p.handoff = &baton.Handoff{Reason: reason}
	p.st.Stage, p.st.OfferReason, p.st.Failures, p.st.Awaiting = baton.StageHandedOff, "", 0, nil
	now := p.in.Now
	p.st.QueuedAckAt = &now // the handoff message is the first acknowledgement
}

// shortReplies reports whether every message is a short statement, a bare detail or a yes/no.
func shortReplies(ms []Understood) bool {
	for _, m := range ms {
		switch {
		case m.Kind == KindDetail || m.Kind == KindYes || m.Kind == KindNo:
		case m.Kind == KindStatement && m.Words <= 4:
		default:
			return false
		}
	}
	return len(ms) > 0
}

// isBuiltinTalk reports the built-in small-talk intents, which never open a topic.
func isBuiltinTalk(name string) bool {
	switch name {
	case "greeting", "thanks", "goodbye", "are_you_a_bot":
		return true
	}
	return false
}

func anyKey(m map[string]string, keys []string) bool {
	for _, k := range keys {
		if _, ok := m[k]; ok {
			return true
		}
	}
	return false
}

func appendBounded(list []string, s string, n int) []string {
	list = slices.DeleteFunc(list, func(x string) bool { return x == s })
	list = append(list, s)
	if len(list) > n {
		list = list[len(list)-n:]
	}
	return list
}

func cloneState(s baton.ConversationState) baton.ConversationState {
	s.Awaiting = slices.Clone(s.Awaiting)
	s.Attempts = maps.Clone(s.Attempts)
	s.Invalid = maps.Clone(s.Invalid)
	s.Reminded = slices.Clone(s.Reminded)
	s.Answered = slices.Clone(s.Answered)
	return s
}
