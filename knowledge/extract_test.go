package knowledge_test

import (
	"math"
	"strings"
	"testing"

	"github.com/batonhq/baton/knowledge"
)

// hit is a retrieved chunk for extraction tests that need no database.
func hit(id, article int64, position int, title string, path []string, text string) knowledge.Hit {
	return knowledge.Hit{Chunk: knowledge.Chunk{ID: id, ArticleID: article, Position: position, Title: title,
		HeadingPath: path, Text: text}}
}

func TestExtractReadsTablesAndLists(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, question, text string
		want                 []string // substrings of the answer
		not                  []string // must not appear
	}{
		{
			name:     "two-column table row",
			question: "Is my laptop covered if I bought it 10 days ago?",
			text: "Coverage depends on when you bought it:\n\n| Bought on | Coverage |\n|---|---|\n" +
				"| 1–30 days ago | covered in full |\n| 31–90 days ago | covered at 50 % |\n",
			want: []string{"Bought on 1–30 days ago: covered in full."},
			not:  []string{"|", "---"},
		},
		{
			name:     "three-column table keeps each header",
			question: "How much is the premium plan per month?",
			text:     "| Plan | Price per month | Seats |\n| :--- | ---: | --- |\n| Basic | €5 | 1 |\n| Premium | €12 | 5 |",
			want:     []string{"Plan premium: price per month €12; seats 5."},
			not:      []string{"|", "---"},
		},
		{
			name:     "matching list items after their lead-in",
			question: "Which cards can I pay with?",
			text:     "We accept these payment methods:\n\n- Visa and Mastercard cards\n- PayPal\n- Bank transfer",
			want:     []string{"We accept these payment methods: Visa and Mastercard cards"},
			not:      []string{"- ", "Visa and Mastercard cards.;"},
		},
		{
			name:     "a row whose first cell names its header is not repeated",
			question: "What does delivery to zone 2 cost?",
			text:     "| Zone | Countries | Price |\n|---|---|---|\n| Zone 1 | Germany, Austria | €5 |\n| Zone 2 | Spain, Italy, Portugal | €9 |",
			want:     []string{"Zone 2: countries Spain, Italy, Portugal; price €9."},
			not:      []string{"Zone zone"},
		},
		{
			name:     "a number falls in a row's range",
			question: "What is the fee if I cancel 9 weeks in?",
			text:     "The fee depends on how long you have had the plan:\n\n| Weeks | Fee |\n|---|---|\n| 1 to 4 | €30 |\n| 5 to 12 | €20 |\n| 13 to 52 | €10 |",
			want:     []string{"Weeks 5 to 12: €20."},
		},
		{
			name:     "a one-word step is not quoted alone",
			question: "How long does a plan change take?",
			text:     "1. Open Settings.\n2. Pick the new plan.\n3. Confirm. The change takes effect within 2 hours.",
			want:     []string{"The change takes effect within 2 hours."},
			not:      []string{"Confirm."},
		},
		{
			name:     "instructions come with all their steps",
			question: "How do I change my delivery address?",
			text:     "To change the delivery address:\n\n1. Open **My account → Orders**.\n2. Choose the order.\n3. Click **Edit address** and save.",
			want:     []string{"To change the delivery address: Open My account → Orders; choose the order; click Edit address and save."},
			not:      []string{"**", "1."},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := knowledge.Extract(tt.question, hit(1, 1, 0, "Help", nil, tt.text))
			for _, w := range tt.want {
				if !strings.Contains(got, w) {
					t.Errorf("Extract(%q) = %q, want it to contain %q", tt.question, got, w)
				}
			}
			for _, n := range tt.not {
				if strings.Contains(got, n) {
					t.Errorf("Extract(%q) = %q, contains %q", tt.question, got, n)
				}
			}
		})
	}
}

func TestExtractPicksTheFactAsked(t *testing.T) {
	t.Parallel()
	const shipping = "Orders placed before 2 pm leave our warehouse the same day. Standard delivery takes 2–4 working days and costs €4.95. It is free for orders over €50."
	tests := []struct {
		name, question, text, want, not string
	}{
		{name: "how long wants a duration", question: "how long does standard delivery take?", text: shipping, want: "2–4 working days"},
		{name: "a pronoun brings its antecedent", question: "is delivery free over 50?", text: shipping,
			want: "Standard delivery takes 2–4 working days and costs €4.95. It is free for orders over €50."},
		{name: "when wants a time", question: "when does my order leave the warehouse?", text: shipping, want: "before 2 pm"},
		{name: "a typo still matches", question: "how much is standrd delivery", text: shipping, want: "€4.95"},
		{name: "how much notice wants a duration", question: "I'm moving next month, how much notice do you need?",
			text: "Moving is free after a year. Tell us at least 21 days before you move. You can tell us in the app.",
			want: "Tell us at least 21 days before you move."},
		{name: "the sentence after the best gives its context", question: "my voucher code won't work a second time",
			text: "Lost your voucher? Ask for a new voucher code in the app. Each code works only once. Vouchers are valid for a year.",
			want: "Each code works only once."},
		{name: "a customer's word for the article's", question: "my payment bounced",
			text: "Payments are taken on the 1st. Our office is closed on Sundays. Cards expire. If a payment fails, we try again after 3 days.",
			want: "If a payment fails, we try again after 3 days."},
		{name: "what happens if wants an outcome", question: "what happens if I miss the delivery?",
			text: "Delivery slots are shown at checkout. Tracking shows your delivery driver. Each delivery needs a signature. No one in? We'll try the delivery again the next day.",
			want: "We'll try the delivery again the next day."},
		{name: "what number wants a phone number", question: "number for the customer support line?",
			text: "Customers who need extra support can join our support register for free. Support register customers get longer to pay. Our register is private. Tell us if your situation changes. We review the register every year.\n\nCall 0800 123 4599, every day from 8 am.",
			want: "0800 123 4599"},
		{name: "which email wants an address", question: "what's the email address for complaints?",
			text: "We take every complaint seriously and answer complaints within 5 working days. Complaints about billing go to our billing team. We keep a record of every complaint. You can escalate a complaint after 8 weeks.\n\nWrite to complaints@example.com.",
			want: "complaints@example.com"},
		{name: "rule over exceptions", question: "Can I return a jacket?",
			text: "You can return unworn items within 30 days.\nUnderwear and gift cards cannot be returned.",
			want: "You can return unworn items within 30 days.", not: "Underwear"},
		{name: "an exception the question names", question: "Can I return underwear?",
			text: "You can return unworn items within 30 days.\nUnderwear and gift cards cannot be returned.",
			want: "You can return unworn items within 30 days. Underwear and gift cards cannot be returned."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := knowledge.Extract(tt.question, hit(1, 1, 0, "Help", nil, tt.text))
			if !strings.Contains(got, tt.want) || tt.not != "" && strings.Contains(got, tt.not) {
				t.Errorf("Extract(%q) = %q, want %q without %q", tt.question, got, tt.want, tt.not)
			}
		})
	}
}

// TestExtractFromQuotesTheRuleOfAnotherSection: the exceptions section ranks first for "can I
// return shoes…", but the rule is in the article's opening section, another retrieved hit.
func TestExtractFromQuotesTheRuleOfAnotherSection(t *testing.T) {
	t.Parallel()
	hits := []knowledge.Hit{
		hit(4, 1, 3, "Returns and refunds", []string{"Items that can't be returned"},
			"Underwear, swimwear with a removed hygiene strip, gift cards and personalised items cannot be returned. Worn shoes can only be returned if they are faulty."),
		hit(1, 1, 0, "Returns and refunds", nil, "You can return unworn, unwashed items with their labels within 30 days of delivery."),
		hit(9, 2, 0, "Exchanges", nil, "We don't swap items directly."),
	}
	got, used := knowledge.ExtractFrom("can I return shoes that don't fit?", hits)
	if !strings.HasPrefix(got, "You can return unworn, unwashed items") || strings.Contains(got, "Underwear") || used.ArticleID != 1 {
		t.Errorf("got %q from chunk %d, want the rule first, no list of exclusions", got, used.ID)
	}
}

// TestAnswerDemoQuestions runs the offline engine on the demo help centre.
func TestAnswerDemoQuestions(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.seed(t)
	tests := []struct {
		name, question, title, want, not string
	}{
		{name: "the rule, not the exclusions", question: "can I return shoes that don't fit?", title: "Returns and refunds",
			want: "You can return unworn, unwashed items with their labels within 30 days of delivery.", not: "Underwear"},
		{name: "typo", question: "how do I reset my pasword", title: "Account and password reset", want: "Forgot password?"},
		{name: "typo in the topic word", question: "exchnage for a smaller size", title: "Exchanging an item for another size or colour", want: "place a new order"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ans, err := b.svc.Answer(t.Context(), tt.question, knowledge.AnswerOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if ans.NoAnswer || len(ans.Citations) != 1 || ans.Citations[0].Title != tt.title {
				t.Fatalf("answer %+v (confidence %.3f), want one from %q", ans.Citations, ans.Confidence, tt.title)
			}
			if !strings.Contains(ans.Text, tt.want) || tt.not != "" && strings.Contains(ans.Text, tt.not) {
				t.Errorf("answer %q, want %q without %q", ans.Text, tt.want, tt.not)
			}
		})
	}
}

// TestConfidenceIgnoresPhrasing: a chatty question and a terse one about the same thing are
// about as confident; filler does not count.
func TestConfidenceIgnoresPhrasing(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.seed(t)
	pairs := []struct{ terse, chatty string }{
		{"what are the membership levels?", "Hi! I was just wondering, could you maybe tell me a bit about what kinds of membership levels you have? thanks"},
		{"which payment methods do you accept?", "Hello there, quick question please: I just wanted to know which payment methods you accept? Thanks a lot!"},
		{"how long does delivery to Germany take?", "Hi, sorry to bother you, I was wondering if you could maybe tell me how long delivery to Germany usually takes? Thank you!"},
		{"reset password", "hey there, could you please help me, I need to reset my password, thanks so much"},
		{"refund time", "Good morning! Just a quick question, I'd like to know about the refund time please. Cheers"},
	}
	for _, p := range pairs {
		t.Run(p.terse, func(t *testing.T) {
			terse, err := b.svc.Search(t.Context(), p.terse, knowledge.SearchOptions{Limit: 4})
			if err != nil {
				t.Fatal(err)
			}
			chatty, err := b.svc.Search(t.Context(), p.chatty, knowledge.SearchOptions{Limit: 4})
			if err != nil {
				t.Fatal(err)
			}
			if d := math.Abs(terse.Confidence - chatty.Confidence); d > 0.1 {
				t.Errorf("confidence %.3f terse, %.3f chatty: differ by %.3f", terse.Confidence, chatty.Confidence, d)
			}
			if c := chatty.Confidence; c < 0 || c > 1 {
				t.Errorf("confidence %.3f outside [0, 1]", c)
			}
		})
	}
}

func TestAnswerSuggestsBetweenThresholds(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.seed(t)
	if !(knowledge.ClarifyConfidence > 0 && knowledge.ClarifyConfidence < knowledge.DefaultMinConfidence) {
		t.Fatalf("ClarifyConfidence %.2f must lie under DefaultMinConfidence %.2f", knowledge.ClarifyConfidence, knowledge.DefaultMinConfidence)
	}
	// Far out of scope: nothing to suggest.
	ans, err := b.svc.Answer(t.Context(), "What's the weather like in Paris tomorrow?", knowledge.AnswerOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if !ans.NoAnswer || ans.Suggest != nil {
		t.Errorf("weather: no_answer %v, suggest %+v (confidence %.3f)", ans.NoAnswer, ans.Suggest, ans.Confidence)
	}
	// Shares one content word with an article: not answered, but the article is suggested.
	ans, err = b.svc.Answer(t.Context(), "Do you offer student discounts?", knowledge.AnswerOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if !ans.NoAnswer || ans.Suggest == nil || ans.Suggest.Title != "Gift cards and discount codes" || len(ans.Citations) != 0 {
		t.Errorf("declined answer: no_answer %v, suggest %+v, citations %v (confidence %.3f)", ans.NoAnswer, ans.Suggest, ans.Citations, ans.Confidence)
	}
}

// BenchmarkExtract measures the offline answer path after retrieval: four hits with their
// neighbours, as Answer passes them.
func BenchmarkExtract(b *testing.B) {
	var hits []knowledge.Hit
	for i, a := range knowledge.DemoArticles()[:4] {
		for j, c := range knowledge.ChunkArticle(a, knowledge.ChunkOptions{}) {
			h := hit(int64(i*10+j), int64(i), j, a.Title, c.HeadingPath, c.Text)
			hits = append(hits, h)
		}
	}
	questions := []string{"can I return shoes that don't fit?", "How long does delivery to Germany take?",
		"Hi! I was just wondering, could you maybe tell me how much express shipping costs? thanks"}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		knowledge.ExtractFrom(questions[i%len(questions)], hits)
	}
}

// BenchmarkAnswer measures Service.Answer end to end on the demo help centre: hybrid retrieval
// on PostgreSQL with neighbours, confidence and the extractive answer.
func BenchmarkAnswer(b *testing.B) {
	bb := setup(b)
	bb.seed(b)
	questions := []string{"can I return shoes that don't fit?", "How long does delivery to Germany take?",
		"Hi! I was just wondering, could you maybe tell me how much express shipping costs? thanks"}
	for i := 0; b.Loop(); i++ {
		if _, err := bb.svc.Answer(b.Context(), questions[i%len(questions)], knowledge.AnswerOptions{}); err != nil {
			b.Fatal(err)
		}
	}
}
