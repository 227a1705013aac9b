package handoff_test

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/handoff"
)

// customer builds a customer message with what the bot understood of it.
func customer(text, intent string, score float64, details ...map[string]any) baton.Message {
	meta := map[string]any{"intent": intent, "sentiment": map[string]any{"score": score, "label": ""}, "language": "en"}
	if len(details) > 0 {
		meta["details"] = details
	}
	return baton.Message{Author: baton.AuthorCustomer, Visibility: baton.Public, Text: text, Meta: meta}
}

func bot(text string, actions []string, requested string, cites ...baton.Citation) baton.Message {
	meta := map[string]any{"actions": actions}
	if requested != "" {
		meta["requested"] = requested
	}
	return baton.Message{Author: baton.AuthorBot, Visibility: baton.Public, Text: text, Citations: cites, Meta: meta}
}

// viaJSON returns messages as they come back from the database: Meta decoded from JSON.
func viaJSON(t testing.TB, msgs []baton.Message) []baton.Message {
	t.Helper()
	b, err := json.Marshal(msgs)
	if err != nil {
		t.Fatal(err)
	}
	var out []baton.Message
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

var labels = map[string]string{"order_number": "order number", "email": "email address"}

// summaryCases are handoffs as the bot's policy makes them, one per reason.
func summaryCases() []struct {
	name string
	in   handoff.SummaryInput
	// want: substrings of the package's text; tried and details as listed.
	want       []string
	wantTried  []string
	wantDetail []string
	trend      string
} {
	returns := baton.Citation{ArticleID: 4, ChunkID: 9, Title: "Returns and refunds", URL: "https://help.example.com/returns"}
	shipping := baton.Citation{ArticleID: 7, ChunkID: 2, Title: "Shipping times"}
	return []struct {
		name       string
		in         handoff.SummaryInput
		want       []string
		wantTried  []string
		wantDetail []string
		trend      string
	}{
		{
			name: "failed gathering after an invalid order number",
			in: handoff.SummaryInput{
				Reason: baton.HandoffFailedGathering,
				History: []baton.Message{
					customer("Hi! Where is my order? It was supposed to arrive last Monday.", "order_status", -0.1),
					bot("Sorry about that. What's your order number?", []string{"ask_detail"}, "order_number"),
					customer("it's 12", "order_status", 0, map[string]any{"type": "order_number", "value": "12", "text": "12", "valid": false, "problem": "that order number looks incomplete"}),
					bot("Sorry, that order number looks incomplete. Could you check it?", []string{"ask_detail"}, "order_number"),
				},
				Trigger:   []baton.Message{customer("I already told you, I don't have any other number!!", "out_of_scope", -0.6)},
				Details:   map[string]string{"email": "ana@example.com"},
				Required:  []string{"order_number", "email"},
				Labels:    labels,
				State:     baton.ConversationState{OpenIntent: "order_status", Invalid: map[string]string{"order_number": "that order number looks incomplete"}, Language: "en"},
				Sentiment: -0.4,
			},
			want: []string{"Issue: Order status: “Where is my order? It was supposed to arrive last Monday.”, then: “I already told you, I don't have any other number!!”",
				"Next step: Ask for the missing order number, then handle the order status request.", "Language: en", "Reason: failed gathering"},
			wantTried:  []string{"asked for the order number (2×)"},
			wantDetail: []string{"email address ana@example.com", "order number “12” (not valid: that order number looks incomplete)"},
			trend:      handoff.Worsening,
		},
		{
			name: "missing knowledge after two answers that did not help",
			in: handoff.SummaryInput{
				Reason: baton.HandoffMissingKnowledge,
				History: []baton.Message{
					customer("How long does shipping to Iceland take?", "shipping_info", 0),
					bot("Orders ship in 2-5 days.", []string{"answer"}, "", shipping),
					customer("And do I pay customs in Iceland?", "shipping_info", 0),
					bot("I couldn't find that in our help centre. Would you like a person?", []string{"no_answer", "offer_person"}, ""),
				},
				Trigger:   []baton.Message{customer("yes please", "talk_to_human", 0.2)},
				Sentiment: 0.05,
				State:     baton.ConversationState{Answered: []string{"Shipping times", "Customs"}},
			},
			want: []string{"Issue: Shipping info: “How long does shipping to Iceland take? And do I pay customs in Iceland?”",
				"Next step: Answer the question and consider adding an article on shipping info so the bot can answer it next time."},
			wantTried:  []string{"answered from “Shipping times”", "found no answer in the help centre", "offered a person", "answered from “Customs”"},
			wantDetail: nil,
			trend:      handoff.Steady,
		},
		{
			name: "customer request with the issue said before",
			in: handoff.SummaryInput{
				Reason: baton.HandoffCustomerRequest,
				History: []baton.Message{
					customer("I returned the jacket three weeks ago and still have no refund", "return_or_refund", -0.3),
					bot("Refunds reach your account within 10 days of the return arriving.", []string{"answer"}, "", returns),
				},
				Trigger:   []baton.Message{customer("Can I talk to a real person please", "talk_to_human", 0)},
				Sentiment: -0.2,
				Labels:    labels,
			},
			want: []string{"Issue: Return or refund: “I returned the jacket three weeks ago and still have no refund”",
				"Tried: answered from “Returns and refunds” (https://help.example.com/returns)",
				"Next step: The customer asked for a person: greet them and take over the return or refund request."},
			wantTried: []string{"answered from “Returns and refunds” (https://help.example.com/returns)"},
			trend:     handoff.Steady,
		},
		{
			name: "negative sentiment getting worse",
			in: handoff.SummaryInput{
				Reason: baton.HandoffNegativeSentiment,
				History: []baton.Message{
					customer("My card was charged twice for order A-1234.", "billing_problem", -0.2, map[string]any{"type": "order_number", "value": "A-1234", "text": "A-1234", "valid": true}),
					bot("I'm sorry about that. A double charge usually disappears within 3 days.", []string{"answer"}, ""),
				},
				Trigger: []baton.Message{
					customer("It has been a week.", "billing_problem", -0.3),
					customer("This is ridiculous, I want my money back NOW", "billing_problem", -0.9),
				},
				Details:   map[string]string{"order_number": "A-1234"},
				Labels:    labels,
				Sentiment: -0.55,
			},
			want: []string{"Issue: Billing problem: “My card was charged twice for order A-1234.”, then: “It has been a week. This is ridiculous, I want my money back NOW”",
				"Sentiment: negative, worsening (-0.55)",
				"Next step: Acknowledge the customer's frustration first, then resolve the billing problem issue."},
			wantTried:  []string{"answered without an article: “I'm sorry about that. A double charge usually disappears within 3 days.”"},
			wantDetail: []string{"order number A-1234"},
			trend:      handoff.Worsening,
		},
		{
			name: "policy handoff with nothing understood before",
			in: handoff.SummaryInput{
				Reason:  baton.HandoffPolicy,
				Intent:  "cancel_order",
				Trigger: []baton.Message{customer("Please cancel my order, I ordered the wrong size.", "cancel_order", -0.1)},
			},
			want: []string{"Issue: Cancel order: “Please cancel my order, I ordered the wrong size.”",
				"Next step: Take over the cancel order request: it always goes to a person."},
			trend: handoff.Steady,
		},
		{
			name: "a request for a person and nothing else",
			in: handoff.SummaryInput{
				Reason:  baton.HandoffCustomerRequest,
				Trigger: []baton.Message{customer("human please", "talk_to_human", 0)},
			},
			want:  []string{"Issue: The customer asked for a person without saying why.", "Next step: The customer asked for a person without saying why: greet them and ask how you can help."},
			trend: handoff.Steady,
		},
		{
			name: "a number in passing is no refused detail",
			in: handoff.SummaryInput{
				Reason: baton.HandoffNegativeSentiment,
				History: []baton.Message{
					customer("my order still hasn't arrived", "order_status", -0.3),
					bot("Sorry to hear that. What's your order number?", []string{"ask_detail"}, "order_number"),
				},
				Trigger: []baton.Message{customer("it's been 10 days!!", "order_status", -0.7,
					map[string]any{"type": "order_number", "value": "10", "text": "10", "valid": false, "problem": "that order number looks too short"})},
				Required:  []string{"order_number"},
				Labels:    labels,
				Sentiment: -0.65,
			},
			want:       []string{"Next step: Acknowledge the customer's frustration first, then resolve the order status issue; ask for the missing order number."},
			wantDetail: []string{"order number missing"},
			trend:      handoff.Worsening,
		},
		{
			name: "an intent named as a request, in an undetermined language",
			in: handoff.SummaryInput{
				Reason:  baton.HandoffPolicy,
				Intent:  "callback_request",
				Trigger: []baton.Message{{Author: baton.AuthorCustomer, Text: "+1 415 555 0132", Meta: map[string]any{"language": "und"}}},
				Details: map[string]string{"phone": "+14155550132"},
			},
			want:       []string{"Issue: Callback request: “+1 415 555 0132”", "Next step: Take over the callback request: it always goes to a person."},
			wantDetail: []string{"phone +14155550132"},
			trend:      handoff.Steady,
		},
		{
			name: "error with the issue in a long message",
			in: handoff.SummaryInput{
				Reason: baton.HandoffError,
				Trigger: []baton.Message{customer("Hello. I bought a tent from you in May for our camping trip. "+
					"The zipper on the door broke on the second night and now rain gets in. "+
					"I have photos of the damage and the receipt. Thanks.", "complaint", -0.4)},
				Sentiment: -0.4,
			},
			want:  []string{"Issue: Complaint: “", "zipper", "Next step: The bot failed with a technical error: reply to the customer's last message."},
			trend: handoff.Steady,
		},
	}
}

func TestSummarize(t *testing.T) {
	t.Parallel()
	for _, tt := range summaryCases() {
		for _, decoded := range []bool{false, true} {
			name := tt.name
			if decoded {
				name += " (messages read back from JSON)"
			}
			t.Run(name, func(t *testing.T) {
				t.Parallel()
				in := tt.in
				if decoded {
					in.History, in.Trigger = viaJSON(t, in.History), viaJSON(t, in.Trigger)
				}
				p := handoff.Summarize(in)
				text := p.Text()
				for _, w := range tt.want {
					if !strings.Contains(text, w) {
						t.Errorf("package lacks %q:\n%s", w, text)
					}
				}
				if tt.wantTried != nil && !slices.Equal(p.Tried, tt.wantTried) {
					t.Errorf("tried = %q, want %q", p.Tried, tt.wantTried)
				}
				var details []string
				for _, d := range p.Details {
					details = append(details, d.String())
				}
				if !slices.Equal(details, tt.wantDetail) {
					t.Errorf("details = %q, want %q", details, tt.wantDetail)
				}
				if p.Sentiment.Trend != tt.trend {
					t.Errorf("trend = %s, want %s", p.Sentiment.Trend, tt.trend)
				}
				if p.Reason != tt.in.Reason || p.Source != handoff.SourceLocal || p.NextStep == "" {
					t.Errorf("reason %s, source %s, next step %q", p.Reason, p.Source, p.NextStep)
				}
				if strings.Contains(text, "und") && p.Language == "und" {
					t.Errorf("an undetermined language is shown: %s", text)
				}
				if strings.Contains(text, "request request") {
					t.Errorf("doubled noun: %s", text)
				}
				if p.Tried == nil || p.Details == nil {
					t.Errorf("empty lists must be [] in JSON: tried %v, details %v", p.Tried, p.Details)
				}
			})
		}
	}
}

// TestSummaryKeepsTheCustomersWords is the package's promise, checked on every case: the
// summary holds at least half the trigger's content words or the intent's name, and every
// detail the customer typed.
func TestSummaryKeepsTheCustomersWords(t *testing.T) {
	t.Parallel()
	for _, tt := range summaryCases() {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p := handoff.Summarize(tt.in)
			text := strings.ToLower(p.Text())
			var trigger []string
			for _, m := range tt.in.Trigger {
				trigger = append(trigger, m.Text)
			}
			words := handoff.ContentWords(strings.Join(trigger, " "))
			kept := 0
			for _, w := range words {
				if slices.Contains(handoff.ContentWords(text), w) {
					kept++
				}
			}
			intentNamed := p.Intent != "" && strings.Contains(text, strings.ReplaceAll(p.Intent, "_", " "))
			if kept*2 < len(words) && !intentNamed {
				t.Errorf("kept %d of %d content words %q and no intent name:\n%s", kept, len(words), words, p.Text())
			}
			if len(words) > 0 && kept*2 < len(words) {
				t.Errorf("kept only %d of %d content words of the trigger %q:\n%s", kept, len(words), words, p.Text())
			}
			for _, v := range tt.in.Details {
				if !strings.Contains(p.Text(), v) {
					t.Errorf("detail %q missing:\n%s", v, p.Text())
				}
			}
		})
	}
}

func TestIssueIsShortForALongMessage(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("The parcel arrived damaged and the box was open. ", 10) +
		"I need a replacement before Friday because it is a birthday present for my daughter."
	p := handoff.Summarize(handoff.SummaryInput{Reason: baton.HandoffPolicy, Trigger: []baton.Message{customer(long, "complaint", -0.3)}})
	if n := len([]rune(p.Issue)); n > 420 {
		t.Errorf("issue is %d runes long: %s", n, p.Issue)
	}
	for _, w := range []string{"replacement", "birthday", "damaged"} {
		if !strings.Contains(p.Issue, w) {
			t.Errorf("issue lost %q: %s", w, p.Issue)
		}
	}
}

func TestContentWords(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, text string
		want       []string
	}{
		{"stopwords and greetings go", "Hi, where is my order?", []string{"order"}},
		{"codes and emails stay whole", "Order A-1234, mail ana.perez@example.com.", []string{"order", "a-1234", "mail", "ana.perez@example.com"}},
		{"asking for a person says nothing", "Can I talk to a real person please?", nil},
		{"repeats once", "refund refund REFUND", []string{"refund"}},
		{"curly apostrophes", "It doesn’t work", []string{"work"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := handoff.ContentWords(tt.text); !slices.Equal(got, tt.want) {
				t.Errorf("ContentWords(%q) = %q, want %q", tt.text, got, tt.want)
			}
		})
	}
}
