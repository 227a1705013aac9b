package intents

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

func TestDetectLanguage(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		text string
		want string
	}{
		{name: "english", text: "Where is my order? It has not arrived yet", want: "en"},
		{name: "spanish", text: "¿Dónde está mi pedido? Todavía no ha llegado", want: "es"},
		{name: "french", text: "Bonjour, je n'ai pas reçu ma commande", want: "fr"},
		{name: "german", text: "Hallo, wo ist meine Bestellung? Ich habe sie nicht", want: "de"},
		{name: "russian", text: "Где мой заказ?", want: "ru"},
		{name: "japanese", text: "注文はどこですか", want: "ja"},
		{name: "chinese", text: "我的订单在哪里", want: "zh"},
		{name: "number only", text: "48213", want: LanguageUnknown},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := DetectLanguage(tt.text); got != tt.want {
				t.Errorf("DetectLanguage(%q) = %q, want %q", tt.text, got, tt.want)
			}
		})
	}
	if IsEnglish("Où est ma commande? Je suis fâché") {
		t.Error("IsEnglish says French is English")
	}
}

func TestUnderstandJSONShape(t *testing.T) {
	t.Parallel()
	m, err := NewModel(DefaultIntents(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	a := m.Understand("Still waiting for order #48213!! my email is ana@example.com", ExtractContext{Now: time.Date(2025, 3, 14, 10, 0, 0, 0, time.UTC)})
	if a.Intent != "order_status" {
		t.Errorf("intent = %s (%v)", a.Intent, a.Top)
	}
	if a.Sentiment.Label != "negative" {
		t.Errorf("sentiment = %+v, want negative", a.Sentiment)
	}
	if a.Language != "en" {
		t.Errorf("language = %s", a.Language)
	}
	if _, ok := First(a.Details, DetailOrderNumber); !ok {
		t.Errorf("no order number in %+v", a.Details)
	}
	b, err := json.Marshal(a)
	if err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{`"intent"`, `"score"`, `"out_of_scope"`, `"top"`, `"details"`, `"sentiment":{"score"`, `"label"`, `"language"`} {
		if !strings.Contains(string(b), key) {
			t.Errorf("analysis JSON %s lacks %s", b, key)
		}
	}
}
