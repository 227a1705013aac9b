package prompts

// Templates of the conversation engine's replies. Each documents its input type.
const (
	WelcomeBack     Name = "welcome_back"     // WelcomeBackInput: a returning customer after a gap
	AnswerReply     Name = "answer"           // AnswerReplyInput: one answer from the knowledge base
	Clarify         Name = "clarify"          // ClarifyInput
	OfferPerson     Name = "offer_person"     // OfferPersonInput: a yes/no offer of a person
	OfferDeclined   Name = "offer_declined"   // CustomerInput: the customer said no to the offer
	OutOfScope      Name = "out_of_scope"     // OutOfScopeInput
	AckQueued       Name = "ack_queued"       // CustomerInput: a queued conversation's acknowledgement
	Acknowledge     Name = "acknowledge"      // AgainInput: "ok thanks" after an answer
	DetailsReceived Name = "details_received" // DetailsInput
	GatherReminder  Name = "gather_reminder"  // ReminderInput: an awaited detail, after an off-topic answer
	ExplainDetail   Name = "explain_detail"   // ReminderInput: why the bot asks for a detail
	SmallTalk       Name = "smalltalk"        // SmallTalkInput: fallback when the intent has no reply text
)

// AgainInput marks a text sent right after the same text: templates vary their wording so the
// customer never reads the same message twice in a row.
type AgainInput struct {
	Again bool
}

// CustomerInput carries the customer's first name, which may be empty.
type CustomerInput struct {
	CustomerName string
}

// WelcomeBackInput is the data of WelcomeBack.
type WelcomeBackInput struct {
	CustomerName string
	Topic        string // what was open last time ("order A-1234"); may be empty
}

// AnswerReplyInput is the data of AnswerReply.
type AnswerReplyInput struct {
	Text  string // the answer
	Title string // the cited article's title
	URL   string // the article's link; may be empty
}

// ClarifyInput is the data of Clarify.
type ClarifyInput struct {
	Suggestion string // the title of the article the customer may mean; may be empty
	Again      bool
}

// OfferPersonInput is the data of OfferPerson.
type OfferPersonInput struct {
	Why   string // "no_answer", "gathering" or "" (the customer's repeated failure)
	Again bool
}

// OutOfScopeInput is the data of OutOfScope.
type OutOfScopeInput struct {
	Topics []string // what the bot can help with
	Again  bool
}

// DetailsInput is the data of DetailsReceived.
type DetailsInput struct {
	Items []string // "order number A-1234"
}

// ReminderInput is the data of GatherReminder.
type ReminderInput struct {
	Labels []string // "order number"
	Topic  string
}

// SmallTalkInput is the data of SmallTalk.
type SmallTalkInput struct {
	Kind         string // "greeting", "goodbye" or "bot"
	CustomerName string
}

var conversationSamples = map[Name]any{
	WelcomeBack:     WelcomeBackInput{CustomerName: "Ana", Topic: "order A-10293"},
	AnswerReply:     AnswerReplyInput{Text: "Unworn items can be returned within 30 days.", Title: "Returns", URL: "https://help.example.com/returns"},
	Clarify:         ClarifyInput{Suggestion: "Returns and exchanges"},
	OfferPerson:     OfferPersonInput{Why: "no_answer"},
	OfferDeclined:   CustomerInput{CustomerName: "Ana"},
	OutOfScope:      OutOfScopeInput{Topics: []string{"orders", "delivery", "returns"}},
	AckQueued:       CustomerInput{CustomerName: "Ana"},
	Acknowledge:     AgainInput{},
	DetailsReceived: DetailsInput{Items: []string{"order number A-10293", "email ana@example.com"}},
	GatherReminder:  ReminderInput{Labels: []string{"order number"}, Topic: "your return"},
	ExplainDetail:   ReminderInput{Labels: []string{"email address"}, Topic: "order A-10293"},
	SmallTalk:       SmallTalkInput{Kind: "bot"},
}
