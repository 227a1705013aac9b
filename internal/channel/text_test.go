package channel

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestSplitAtSentences(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		text  string
		max   int
		parts []string
	}{
		{name: "fits", text: "Hi. There.", max: 10, parts: []string{"Hi. There."}},
		{name: "at the sentence end", text: "One two. Three four five.", max: 12, parts: []string{"One two.", "Three four", "five."}},
		{name: "at a space without a sentence end", text: "aaa bbb ccc", max: 8, parts: []string{"aaa bbb", "ccc"}},
		{name: "no space at all", text: "abcdefghij", max: 4, parts: []string{"abcd", "efgh", "ij"}},
		{name: "runes, not bytes", text: "ééé. ééé.", max: 5, parts: []string{"ééé.", "ééé."}},
	}
	for _, tt := range tests {
		if got := Split(tt.text, tt.max); strings.Join(got, "|") != strings.Join(tt.parts, "|") {
			t.Errorf("%s: Split = %q; want %q", tt.name, got, tt.parts)
		}
	}
	long := strings.Repeat("A sentence of some length. ", 200)
	for _, p := range Split(long, 1600) {
		if n := utf8.RuneCountInString(p); n > 1600 || !strings.HasSuffix(p, ".") {
			t.Errorf("part of %d runes ending %q", n, p[len(p)-5:])
		}
	}
}

func TestParseKeyword(t *testing.T) {
	t.Parallel()
	tests := map[string]Keyword{"STOP": KeywordStop, " stop ": KeywordStop, "Stop.": KeywordStop, "unsubscribe": KeywordStop,
		"cancel": KeywordStop, "START": KeywordStart, "unstop": KeywordStart, "help": KeywordHelp, "HELP!": KeywordHelp,
		"stop it please": NoKeyword, "helpful": NoKeyword, "": NoKeyword}
	for in, want := range tests {
		if got := ParseKeyword(in); got != want {
			t.Errorf("ParseKeyword(%q) = %v; want %v", in, got, want)
		}
	}
}
