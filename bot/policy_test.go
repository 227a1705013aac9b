package bot

import (
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/intents"
)

var testIntents = map[string]intents.Intent{
	"order_status":  {Name: "order_status", Action: intents.ActionGatherThenHandoff, RequiredDetails: []string{"order_number", "email"}},
	"shipping_info": {Name: "shipping_info", Action: intents.ActionAnswer},
	"complaint":     {Name: "complaint", Action: intents.ActionHandoff},
	"talk_to_human": {Name: "talk_to_human", Action: intents.ActionHandoff},
	"opening_hours": {Name: "opening_hours", Action: intents.ActionReply, Reply: "We're open 9 to 5."},
	"greeting":      {Name: "greeting", Action: intents.ActionReply, Reply: "Hi!"},
	"thanks":        {Name: "thanks", Action: intents.ActionReply, Reply: "You're welcome!"},
	"goodbye":       {Name: "goodbye", Action: intents.ActionReply, Reply: "Bye!"},
}

func lookupIntent(name string) (intents.Intent, bool) {
	in, ok := testIntents[name]
	return in, ok
}

var policyNow = time.Date(2026, 11, 2, 10, 0, 0, 0, time.UTC)

func answer(title string, chunk int64) Answer {
	return Answer{Text: "The answer.", Confidence: 0.8, Citations: []baton.Citation{{ArticleID: chunk, ChunkID: chunk, Title: title}}}
}

func noAnswer(suggestion string, conf float64) Answer {
	return Answer{NoAnswer: true, Confidence: conf, Suggestion: suggestion, Reason: "low_confidence"}
}

func input(st baton.ConversationState, msgs ...Understood) Input {
	return Input{Now: policyNow, Status: baton.StatusBot, State: st, Greeted: true, Messages: msgs,
		Details: map[string]string{}, New: map[string]string{}, Invalid: map[string]string{},
		CustomerMessages: len(msgs), Intent: lookupIntent, Settings: DefaultSettings()}
}

func question(intent string, personal bool, answers ...Answer) Understood {
	return Understood{Text: "a question?", Intent: intent, Score: 0.9, Kind: KindQuestion, Personal: personal, Answers: answers, Asked: true}
}

func request(m Understood) Understood { m.Request = true; return m }

func kinds(d Decision) []string { return d.Kinds() }

func TestPolicyBranches(t *testing.T) {
	t.Parallel()
	offered := baton.ConversationState{Stage: baton.StageOffered, OfferReason: baton.HandoffMissingKnowledge, Failures: 2}
	gathering := baton.ConversationState{Stage: baton.StageGathering, OpenIntent: "order_status",
		Awaiting: []string{"order_number", "email"}, Attempts: map[string]int{"order_number": 1, "email": 1}}
	tests := []struct {
		name    string
		in      Input
		want    []string
		handoff baton.HandoffReason
		stage   baton.Stage
	}{
		{name: "general question answered, intent with details not gathered",
			in:   input(baton.ConversationState{}, question("order_status", false, answer("Returns", 1))),
			want: []string{"answer"}, stage: baton.StageOpen},
		{name: "a request about the own case: answered and details asked in the same turn",
			in:   input(baton.ConversationState{}, request(question("order_status", true, answer("Tracking", 1)))),
			want: []string{"answer", "ask_detail"}, stage: baton.StageGathering},
		{name: "own case with nothing to answer: details asked",
			in:   input(baton.ConversationState{}, Understood{Text: "my order is late", Intent: "order_status", Score: 0.9, Kind: KindStatement, Personal: true, Asked: true, Answers: []Answer{noAnswer("", 0.1)}}),
			want: []string{"ask_detail"}, stage: baton.StageGathering},
		{name: "a question about the own case that was answered needs no details",
			in:   input(baton.ConversationState{}, question("order_status", true, answer("Billing", 1))),
			want: []string{"answer"}, stage: baton.StageOpen},
		{name: "medium confidence clarifies with the article",
			in:   input(baton.ConversationState{}, question("shipping_info", false, noAnswer("Shipping", 0.45))),
			want: []string{"clarify"}, stage: baton.StageClarifying},
		{name: "low confidence says so and offers a person",
			in:   input(baton.ConversationState{}, question("shipping_info", false, noAnswer("", 0.1))),
			want: []string{"offer_person"}, stage: baton.StageOffered},
		{name: "second failure in a row offers a person",
			in:   input(baton.ConversationState{Stage: baton.StageClarifying, Failures: 1}, question("shipping_info", false, noAnswer("Shipping", 0.45))),
			want: []string{"offer_person"}, stage: baton.StageOffered},
		{name: "out of scope says what the bot can do",
			in:   input(baton.ConversationState{}, Understood{Text: "pizza?", Intent: "out_of_scope", OutOfScope: true, Kind: KindQuestion, Asked: true, Answers: []Answer{noAnswer("", 0.1)}}),
			want: []string{"out_of_scope"}, stage: baton.StageOpen},
		{name: "yes to the offer hands off with the offer's reason",
			in:   input(offered, Understood{Text: "yes", Kind: KindYes}),
			want: []string{"handoff"}, handoff: baton.HandoffMissingKnowledge, stage: baton.StageHandedOff},
		{name: "no to the offer carries on",
			in:   input(offered, Understood{Text: "no thanks", Kind: KindNo}),
			want: []string{"offer_declined"}, stage: baton.StageOpen},
		{name: "neither yes nor no: the offer lapses and the message is answered",
			in:   input(offered, question("shipping_info", false, answer("Shipping", 2))),
			want: []string{"answer"}, stage: baton.StageOpen},
		{name: "explicit request for a person hands off at once",
			in:   input(baton.ConversationState{}, Understood{Text: "a human please", Intent: "talk_to_human", Score: 0.9, Kind: KindStatement}),
			want: []string{"handoff"}, handoff: baton.HandoffCustomerRequest, stage: baton.StageHandedOff},
		{name: "an intent whose action is hand off",
			in:   input(baton.ConversationState{}, Understood{Text: "this is unacceptable", Intent: "complaint", Score: 0.9, Sentiment: -0.2, Kind: KindStatement, Asked: true}),
			want: []string{"handoff"}, handoff: baton.HandoffPolicy, stage: baton.StageHandedOff},
		{name: "a complaint without displeasure is no complaint: nothing to hand off",
			in:   input(baton.ConversationState{}, Understood{Text: "best cycling route to the beach?", Intent: "complaint", Score: 0.4, Sentiment: 0.3, Kind: KindQuestion, Asked: true, Answers: []Answer{noAnswer("Zones", 0.45)}}),
			want: []string{"clarify"}, stage: baton.StageClarifying},
		{name: "a question that only sounds like asking for a person is answered, not handed off",
			in:   input(baton.ConversationState{}, Understood{Text: "number for the support line?", Intent: "talk_to_human", Score: 0.6, Kind: KindQuestion, Asked: true, Answers: []Answer{answer("Support line", 3)}}),
			want: []string{"answer"}, stage: baton.StageOpen},
		{name: "an answered question that asks for a person still hands off",
			in:   input(baton.ConversationState{}, Understood{Text: "can I speak to someone about the support line?", Intent: "talk_to_human", Score: 0.6, Kind: KindQuestion, Asked: true, Answers: []Answer{answer("Support line", 3)}}),
			want: []string{"answer", "handoff"}, handoff: baton.HandoffCustomerRequest, stage: baton.StageHandedOff},
		{name: "acknowledgement after an answer closes the topic",
			in:   input(baton.ConversationState{Stage: baton.StageOpen, Answered: []string{"Shipping"}}, Understood{Text: "ok thanks", Intent: "thanks", Score: 0.9, Kind: KindSmallTalk}),
			want: []string{"acknowledge"}, stage: baton.StageOpen},
		{name: "goodbye", in: input(baton.ConversationState{}, Understood{Text: "bye", Intent: "goodbye", Score: 0.9, Kind: KindSmallTalk}),
			want: []string{"small_talk"}, stage: baton.StageOpen},
		{name: "admin intent with its own reply",
			in:   input(baton.ConversationState{}, Understood{Text: "when are you open", Intent: "opening_hours", Score: 0.9, Kind: KindQuestion, Asked: true, Answers: []Answer{noAnswer("", 0.1)}}),
			want: []string{"reply"}, stage: baton.StageOpen},
		{name: "off-topic answer while gathering, then a reminder",
			in:   input(gathering, question("shipping_info", false, answer("Shipping", 3))),
			want: []string{"answer", "remind_detail"}, stage: baton.StageGathering},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			d := Decide(tt.in)
			if got := kinds(d); !slices.Equal(got, tt.want) {
				t.Errorf("actions %v; want %v", got, tt.want)
			}
			var reason baton.HandoffReason
			if d.Handoff != nil {
				reason = d.Handoff.Reason
			}
			if reason != tt.handoff {
				t.Errorf("handoff %q; want %q", reason, tt.handoff)
			}
			if d.State.Stage != tt.stage {
				t.Errorf("stage %q; want %q", d.State.Stage, tt.stage)
			}
		})
	}
}

func TestGatheringAsksOnlyWhatIsMissingAndGivesUp(t *testing.T) {
	t.Parallel()
	st := baton.ConversationState{}
	// First turn: the customer's own order; both details missing.
	d := Decide(input(st, Understood{Text: "where is my order", Intent: "order_status", Score: 0.9, Kind: KindQuestion, Personal: true, Request: true}))
	if a := d.Actions[0]; a.Kind != ActAskDetail || !slices.Equal(a.Details, []string{"order_number", "email"}) || a.Reask {
		t.Fatalf("first turn %+v; want a first ask for order number and email", d.Actions)
	}
	// The order number arrives: confirmed; only the email is asked, as a re-ask.
	in := input(d.State, Understood{Text: "A-1234", Intent: "out_of_scope", OutOfScope: true, Kind: KindDetail})
	in.New, in.Details = map[string]string{"order_number": "A-1234"}, map[string]string{"order_number": "A-1234"}
	d = Decide(in)
	if got := kinds(d); !slices.Equal(got, []string{"details_received", "ask_detail"}) || !d.Actions[1].Reask || !slices.Equal(d.Actions[1].Details, []string{"email"}) {
		t.Fatalf("second turn %v %+v; want the number confirmed and the email re-asked", got, d.Actions)
	}
	// An invalid email twice more: the problem is said, then the gathering gives up and hands off.
	for i := 0; i < 2; i++ {
		in = input(d.State, Understood{Text: "ana@", Intent: "out_of_scope", OutOfScope: true, Kind: KindDetail})
		in.Details = map[string]string{"order_number": "A-1234"}
		in.Invalid = map[string]string{"email": "that email address is missing the part after the @"}
		d = Decide(in)
	}
	if d.Handoff == nil || d.Handoff.Reason != baton.HandoffFailedGathering {
		t.Fatalf("after three asks: %v, handoff %+v; want failed_gathering", kinds(d), d.Handoff)
	}
	// Everything given: hand off with the details.
	in = input(baton.ConversationState{OpenIntent: "order_status", Stage: baton.StageGathering, Awaiting: []string{"email"}},
		Understood{Text: "ana@example.com", Kind: KindDetail})
	in.New = map[string]string{"email": "ana@example.com"}
	in.Details = map[string]string{"order_number": "A-1234", "email": "ana@example.com"}
	d = Decide(in)
	if got := kinds(d); !slices.Equal(got, []string{"details_received", "handoff"}) || d.Handoff.Reason != baton.HandoffPolicy {
		t.Fatalf("complete details: %v; want details_received then handoff", got)
	}
}

func TestQueuedConversationAnswersOrAcknowledgesOncePerInterval(t *testing.T) {
	t.Parallel()
	in := input(baton.ConversationState{Stage: baton.StageHandedOff}, Understood{Text: "any news?", Kind: KindQuestion, Asked: true, Answers: []Answer{noAnswer("", 0.1)}})
	in.Status = baton.StatusQueued
	d := Decide(in)
	if got := kinds(d); !slices.Equal(got, []string{"ack_queued"}) {
		t.Fatalf("first message while queued: %v; want ack_queued", got)
	}
	in.State = d.State
	in.Now = policyNow.Add(time.Hour)
	if got := kinds(Decide(in)); !slices.Equal(got, []string{"silent"}) {
		t.Fatalf("an hour later: %v; want silent", got)
	}
	in.Now = policyNow.Add(5 * time.Hour)
	if got := kinds(Decide(in)); !slices.Equal(got, []string{"ack_queued"}) {
		t.Fatalf("after the interval: %v; want ack_queued", got)
	}
	in.Messages = []Understood{question("shipping_info", false, answer("Shipping", 4))}
	in.Now = policyNow.Add(10 * time.Minute)
	if got := kinds(Decide(in)); !slices.Equal(got, []string{"answer"}) {
		t.Fatalf("a question the knowledge base answers: %v; want answer", got)
	}
	in.Status = baton.StatusAgent
	if got := kinds(Decide(in)); !slices.Equal(got, []string{"silent"}) {
		t.Fatalf("agent-owned: %v; want silent", got)
	}
}

func TestFrustrationHandsOffButOneAngryQuestionIsAnswered(t *testing.T) {
	t.Parallel()
	angry := question("shipping_info", false, answer("Shipping", 5))
	angry.Sentiment = -0.8
	in := input(baton.ConversationState{}, angry)
	in.Trend = -0.8
	if got := kinds(Decide(in)); !slices.Equal(got, []string{"answer"}) {
		t.Fatalf("first angry question: %v; want an answer", got)
	}
	in.CustomerMessages = 3
	d := Decide(in)
	if d.Handoff == nil || d.Handoff.Reason != baton.HandoffNegativeSentiment {
		t.Fatalf("rising frustration: %v; want a negative_sentiment handoff", kinds(d))
	}
}

// TestPolicyAlwaysSaysSomething is a property test: whatever the state and messages, a
// bot-owned conversation's turn decides at least one action that renders to a non-empty reply.
func TestPolicyAlwaysSaysSomething(t *testing.T) {
	t.Parallel()
	b := testBrain(t)
	r := rand.New(rand.NewPCG(1, 2))
	stages := []baton.Stage{"", baton.StageOpen, baton.StageGathering, baton.StageClarifying, baton.StageOffered, baton.StageHandedOff}
	msgKinds := []MessageKind{KindQuestion, KindStatement, KindSmallTalk, KindDetail, KindYes, KindNo}
	names := []string{"order_status", "shipping_info", "complaint", "opening_hours", "greeting", "thanks", "goodbye", "are_you_a_bot", "out_of_scope", "unknown"}
	for i := 0; i < 3000; i++ {
		st := baton.ConversationState{Stage: stages[r.IntN(len(stages))], Failures: r.IntN(3)}
		if r.IntN(2) == 0 {
			st.OpenIntent, st.Awaiting, st.Attempts = "order_status", []string{"email"}, map[string]int{"email": r.IntN(4)}
		}
		var msgs []Understood
		for j := 0; j <= r.IntN(3); j++ {
			m := Understood{Text: "text", Intent: names[r.IntN(len(names))], Score: r.Float64(), Kind: msgKinds[r.IntN(len(msgKinds))],
				Personal: r.IntN(2) == 0, Sentiment: r.Float64()*2 - 1}
			m.OutOfScope = m.Intent == "out_of_scope"
			if m.Kind == KindQuestion || m.Kind == KindStatement {
				m.Asked = true
				switch r.IntN(3) {
				case 0:
					m.Answers = []Answer{answer("Article", int64(r.IntN(3)+1))}
				case 1:
					m.Answers = []Answer{noAnswer("Article", r.Float64())}
				}
			}
			msgs = append(msgs, m)
		}
		in := input(st, msgs...)
		in.Greeted = r.IntN(2) == 0
		in.Trend = r.Float64()*2 - 1
		in.CustomerMessages = r.IntN(6) + 1
		if r.IntN(3) == 0 {
			in.New = map[string]string{"email": "a@b.co"}
			in.Details = map[string]string{"email": "a@b.co"}
		}
		d := Decide(in)
		reply, err := b.compose(t.Context(), d, composeInput{name: "Ana", details: in.Details, intents: b.Intents})
		if err != nil {
			t.Fatalf("case %d: compose %v: %v", i, kinds(d), err)
		}
		if reply == nil || reply.Text == "" {
			t.Fatalf("case %d: state %+v, messages %+v → actions %v rendered nothing", i, st, msgs, kinds(d))
		}
	}
}

func TestWelcomeBackOffersLastTopic(t *testing.T) {
	t.Parallel()
	st := baton.ConversationState{Stage: baton.StageHandedOff, OpenIntent: "order_status", Topic: "order A-1234"}
	in := input(st, Understood{Text: "hi again", Intent: "greeting", Score: 0.9, Kind: KindSmallTalk})
	in.Greeted, in.Returning = false, true
	d := Decide(in)
	if got := kinds(d); !slices.Equal(got, []string{"welcome_back"}) || d.Actions[0].Talk != "alone" || d.State.Stage != baton.StageConfirm {
		t.Fatalf("returning hello: %v %+v stage %q; want a welcome back that asks about the topic", got, d.Actions, d.State.Stage)
	}
	in = input(d.State, Understood{Text: "yes", Kind: KindYes})
	in.Details = map[string]string{"order_number": "A-1234"}
	d = Decide(in)
	if a := d.Actions[len(d.Actions)-1]; a.Kind != ActAskDetail || !slices.Equal(a.Details, []string{"email"}) {
		t.Fatalf("yes, it's about that: %v; want the missing email asked (the order number is remembered)", kinds(d))
	}
	// A returning customer with a new question gets a short welcome and the answer.
	in = input(st, question("shipping_info", false, answer("Shipping", 1)))
	in.Greeted, in.Returning = false, true
	if got := kinds(Decide(in)); !slices.Equal(got, []string{"welcome_back", "answer"}) {
		t.Fatalf("returning question: %v", got)
	}
}

func TestWhyDoYouNeedItIsExplained(t *testing.T) {
	t.Parallel()
	st := baton.ConversationState{Stage: baton.StageGathering, OpenIntent: "order_status", Awaiting: []string{"email"}, Attempts: map[string]int{"email": 1}}
	d := Decide(input(st, Understood{Text: "why do you need my email?", Kind: KindQuestion, WhyAsked: true, Asked: true, Answers: []Answer{answer("Account", 9)}}))
	if got := kinds(d); !slices.Equal(got, []string{"explain_detail"}) || d.State.Attempts["email"] != 1 {
		t.Fatalf("why do you need it: %v, attempts %v; want the reason, without counting an ask", got, d.State.Attempts)
	}
}

func TestClarifyFollowThrough(t *testing.T) {
	t.Parallel()
	clarifying := baton.ConversationState{Stage: baton.StageClarifying, Failures: 1,
		Clarify: &baton.Clarification{Question: "can I see the shoes near Leipzig", ArticleID: 7, Title: "Visiting our showroom"}}
	yes := Understood{Text: "yes", Kind: KindYes, Intent: "thanks", Score: 0.6}
	no := Understood{Text: "no", Kind: KindNo, Intent: "thanks", Score: 0.6}
	yesAnswered := yes
	yesAnswered.Asked, yesAnswered.Answers = true, []Answer{answer("Visiting our showroom", 7)}
	yesUnanswered := yes
	yesUnanswered.Asked, yesUnanswered.Answers = true, []Answer{noAnswer("", 0.1)}
	tests := []struct {
		name  string
		msg   Understood
		want  []string
		stage baton.Stage
	}{
		{name: "yes answers from the article", msg: yesAnswered, want: []string{"answer"}, stage: baton.StageOpen},
		{name: "yes but the article does not answer offers a person", msg: yesUnanswered, want: []string{"offer_person"}, stage: baton.StageOffered},
		{name: "no asks what was meant", msg: no, want: []string{"clarify"}, stage: baton.StageClarifying},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			d := Decide(input(clarifying, tt.msg))
			if !slices.Equal(kinds(d), tt.want) || d.State.Stage != tt.stage || d.State.Clarify != nil {
				t.Errorf("Decide = %v, stage %q, clarify %+v; want %v, stage %q, clarify nil", kinds(d), d.State.Stage, d.State.Clarify, tt.want, tt.stage)
			}
		})
	}
	// Clarifying records the question and the article, so that a yes can be answered.
	d := Decide(input(baton.ConversationState{}, question("", false, Answer{NoAnswer: true, Confidence: 0.4,
		Suggestion: "Visiting our showroom", SuggestionArticle: 7})))
	if c := d.State.Clarify; c == nil || c.ArticleID != 7 || c.Question != "a question?" || d.State.Stage != baton.StageClarifying {
		t.Errorf("clarify state %+v, stage %q; want article 7 and the question", c, d.State.Stage)
	}
}
