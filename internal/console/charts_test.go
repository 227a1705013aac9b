package console

import (
	"strings"
	"testing"
)

func TestChartsWriteEveryValue(t *testing.T) {
	t.Parallel()
	f := func(v float64) *float64 { return &v }
	days := []statsDay{
		{Day: "2026-12-01", Conversations: 12, BotResolvedConfirmed: 6, BotResolvedAssumed: 3, Handoffs: map[string]int{"customer_request": 2, "negative_sentiment": 1},
			FirstResponseBotSeconds: f(2.4), FirstResponseHumanSeconds: f(540), CSATBot: f(4.5)},
		{Day: "2026-12-02", Conversations: 7, Handoffs: map[string]int{"customer_request": 4}},
		{Day: "2026-12-03"},
	}
	cs := charts(days)
	conv := cs["conversations"].svg()
	for _, want := range []string{"Conversations per day", ">12<", ">7<", ">12-01<", "<rect"} {
		if !strings.Contains(conv, want) {
			t.Errorf("conversations chart lacks %q:\n%s", want, conv)
		}
	}
	ho := cs["handoffs"].svg()
	for _, want := range []string{"customer request", "negative sentiment", ">3<", ">4<"} {
		if !strings.Contains(ho, want) {
			t.Errorf("handoffs chart lacks %q", want)
		}
	}
	if res := cs["resolution"].svg(); !strings.Contains(res, ">75<") || !strings.Contains(res, "<polyline") && !strings.Contains(res, "<circle") {
		t.Errorf("resolution chart (9 of 12 = 75%%) = %s", res)
	}
	if fr := cs["first-response"].svg(); !strings.Contains(fr, ">9<") || !strings.Contains(fr, "(min)") {
		t.Errorf("first response chart (540 s = 9 min) = %s", fr)
	}
	if q := cs["queue-wait"].svg(); !strings.Contains(q, "No data in this range") {
		t.Errorf("a series without values = %s", q)
	}
	if s := (chart{Title: `<script>alert(1)</script>`}).svg(); strings.Contains(s, "<script>") {
		t.Errorf("title not escaped: %s", s)
	}
}
