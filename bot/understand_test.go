package bot

import (
	"slices"
	"testing"

	"github.com/batonhq/baton/intents"
)

func TestMessageKindAndPersonal(t *testing.T) {
	t.Parallel()
	b := testBrain(t)
	tests := []struct {
		text     string
		kind     MessageKind
		personal bool
	}{
		{"what is your returns window?", KindQuestion, false},
		{"can I return shoes that don't fit?", KindQuestion, false},
		{"where is my order??", KindQuestion, true},
		{"I want to return my shoes", KindStatement, true},
		{"my order still hasn't arrived", KindStatement, true},
		{"ok thanks", KindSmallTalk, false},
		{"hi", KindSmallTalk, false},
		{"yes please", KindYes, false},
		{"no thanks", KindNo, false},
		{"it's A-10293", KindDetail, true},
		{"ana@example.com", KindDetail, true},
		{"how long does shipping take", KindQuestion, false},
	}
	for _, tt := range tests {
		t.Run(tt.text, func(t *testing.T) {
			t.Parallel()
			a := b.Intents.Understand(tt.text, intents.ExtractContext{})
			if got := kindOf(tt.text, a); got != tt.kind {
				t.Errorf("kind %q (intent %s); want %q", got, a.Intent, tt.kind)
			}
			if got := isPersonal(tt.text, a); got != tt.personal {
				t.Errorf("personal %v; want %v", got, tt.personal)
			}
		})
	}
}

func TestQuestionsSplitsSeveralQuestions(t *testing.T) {
	t.Parallel()
	tests := []struct {
		text string
		want []string
	}{
		{"How long does shipping take? And can I pay by invoice?", []string{"How long does shipping take?", "And can I pay by invoice?"}},
		{"I'm moving next month. How much notice do you need?", []string{"I'm moving next month. How much notice do you need?"}},
		{"hello?? where is it?", []string{"hello?? where is it?"}},
		{"no question mark here", []string{"no question mark here"}},
		{"can i switch to a faster package before my contract ends? do you charge for that?", []string{"can i switch to a faster package before my contract ends? do you charge for that?"}},
		{"WHERE IS MY PARCEL?? 2 WEEKS!!!", []string{"WHERE IS MY PARCEL?? 2 WEEKS!!!"}},
		{"who's your insurer and what's the deadline for making a claim", []string{"who's your insurer", "what's the deadline for making a claim"}},
		{"how do I cancel my pass and when does it stop?", []string{"how do I cancel my pass and when does it stop?"}}, // "it" points back
		{"can I pay cash and do you take student cards?", []string{"can I pay cash", "do you take student cards?"}},
		{"I paid and what now", []string{"I paid and what now"}},
		{"what's the difference between bread and butter", []string{"what's the difference between bread and butter"}},
		// Words after the last question mark are its context unless they ask for something.
		{"Are scooters running on new year's eve? we want to ride to the fireworks", []string{"Are scooters running on new year's eve? we want to ride to the fireworks"}},
		{"Is there a student discount? Also tell me the price of the yearly pass", []string{"Is there a student discount?", "Also tell me the price of the yearly pass"}},
	}
	for _, tt := range tests {
		if got := Questions(tt.text); !slices.Equal(got, tt.want) {
			t.Errorf("Questions(%q) = %q; want %q", tt.text, got, tt.want)
		}
	}
}

func TestComposeNeverRepeatsTheLastReply(t *testing.T) {
	t.Parallel()
	b := testBrain(t)
	for _, d := range []Decision{
		{Actions: []Action{{Kind: ActAcknowledge}}},
		{Actions: []Action{{Kind: ActOfferPerson, Why: "no_answer"}}},
		{Actions: []Action{{Kind: ActClarify, Suggestion: "Returns"}}},
		{Actions: []Action{{Kind: ActAskDetail, Details: []string{"email"}}}},
		{Actions: []Action{{Kind: ActOutOfScope}}},
	} {
		first, err := b.compose(t.Context(), d, composeInput{intents: b.Intents})
		if err != nil {
			t.Fatal(err)
		}
		second, err := b.compose(t.Context(), d, composeInput{intents: b.Intents, last: first.Text})
		if err != nil {
			t.Fatal(err)
		}
		if second.Text == first.Text {
			t.Errorf("%v: the same text twice in a row: %q", d.Kinds(), first.Text)
		}
	}
}

func TestRequestsAreToldFromQuestionsAboutTheCase(t *testing.T) {
	t.Parallel()
	b := testBrain(t)
	for text, want := range map[string]bool{
		"where is my order?":                              true,
		"I need a refund for my order":                    true,
		"I'd like a refund for my order":                  true,
		"please cancel my order":                          true,
		"can you call me back?":                           true,
		"why is my first bill so high?":                   false,
		"can I change the date my direct debit comes out": false,
		"how long do refunds take?":                       false,
	} {
		if got := isRequest(text, b.Intents.Understand(text, intents.ExtractContext{})); got != want {
			t.Errorf("isRequest(%q) = %v; want %v", text, got, want)
		}
	}
}

func TestWithoutStory(t *testing.T) {
	t.Parallel()
	tests := []struct {
		q, want string
		ok      bool
	}{
		{"What's the range of your e-scooters? I want to ride to Eastfield and back", "What's the range of your e-scooters?", true},
		{"why cant i reserve anymore?? it says reservations are disabled", "why cant i reserve anymore??", true},
		{"where do I park? thanks a lot", "where do I park? thanks a lot", false},                       // too short to be a story
		{"ok? so I want to ride to the beach today", "ok? so I want to ride to the beach today", false}, // no question before it
		{"no question mark in this one at all", "no question mark in this one at all", false},
	}
	for _, tt := range tests {
		got, ok := WithoutStory(tt.q)
		if got != tt.want || ok != tt.ok {
			t.Errorf("WithoutStory(%q) = %q, %v; want %q, %v", tt.q, got, ok, tt.want, tt.ok)
		}
	}
}
