package prompts_test

import (
	"strings"
	"testing"

	"github.com/batonhq/baton/prompts"
)

// TestHandoffMessages renders what the customer hears at a handoff in every variant: each
// says a person will reply, and none promises more than the input supports.
func TestHandoffMessages(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		tmpl   prompts.Name
		data   any
		want   []string
		forbid []string
	}{
		{name: "in hours with a wait", tmpl: prompts.HandoffInHours, data: prompts.HandoffInHoursInput{CustomerName: "Ana", Wait: "about 20 minutes"},
			want: []string{"Thanks, Ana —", "Our current estimate is about 20 minutes.", "will reply here"}},
		{name: "in hours without a name or wait", tmpl: prompts.HandoffInHours, data: prompts.HandoffInHoursInput{},
			want: []string{"Thanks — I've passed this to a person", "You don't need to stay online."}, forbid: []string{"estimate", ", ,"}},
		{name: "nobody online", tmpl: prompts.HandoffNobodyOnline, data: prompts.CustomerInput{CustomerName: "Ana"},
			want: []string{"can't say how long", "I can still help"}, forbid: []string{"minutes", "shortly", "right away"}},
		{name: "after hours in the customer's time", tmpl: prompts.HandoffAfterHours, data: prompts.HandoffAfterHoursInput{OpensAt: "tomorrow at 09:00"},
			want: []string{"Our team is back tomorrow at 09:00 (your time); a person will reply then. Meanwhile I can still help with questions."}},
		{name: "after hours in the team's zone", tmpl: prompts.HandoffAfterHours, data: prompts.HandoffAfterHoursInput{CustomerName: "Ana", OpensAt: "Monday at 09:00", Zone: "Europe/Berlin"},
			want: []string{"back Monday at 09:00 (Europe/Berlin time)"}, forbid: []string{"your time"}},
		{name: "after hours with no opening ahead", tmpl: prompts.HandoffAfterHours, data: prompts.HandoffAfterHoursInput{CustomerName: "Ana"},
			want: []string{"offline right now; a person will reply here when they're back."}, forbid: []string{"back (", "()"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			body, err := prompts.Default().Body(tt.tmpl)
			if err != nil {
				t.Fatal(err)
			}
			if err := prompts.Check(tt.tmpl, body); err != nil {
				t.Fatalf("check: %v", err)
			}
			got := render(t, prompts.Default(), tt.tmpl, tt.data)
			for _, w := range tt.want {
				if !strings.Contains(got, w) {
					t.Errorf("%q lacks %q", got, w)
				}
			}
			for _, f := range tt.forbid {
				if strings.Contains(got, f) {
					t.Errorf("%q says %q", got, f)
				}
			}
			if strings.Contains(got, "\n") || strings.Contains(got, "  ") {
				t.Errorf("%q has a line break or a double space", got)
			}
		})
	}
}
