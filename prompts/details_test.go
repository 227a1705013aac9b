package prompts_test

import (
	"strings"
	"testing"

	"github.com/batonhq/baton/intents"
	"github.com/batonhq/baton/prompts"
)

// TestEveryBuiltinDetailTypeHasTemplates keeps a required detail from rendering an empty
// reply: every built-in detail type has its own ask and re-ask template, and both render.
func TestEveryBuiltinDetailTypeHasTemplates(t *testing.T) {
	t.Parallel()
	for _, d := range intents.BuiltinDetailTypes() {
		for _, reask := range []bool{false, true} {
			name := prompts.DetailTemplate(d.Name, reask)
			want := "ask_" + d.Name
			if reask {
				want = "re" + want
			}
			if string(name) != want {
				t.Errorf("DetailTemplate(%s, %v) = %s, want %s", d.Name, reask, name, want)
			}
			if reask && string(name) != intents.ReaskTemplate(d.Name) || !reask && string(name) != intents.AskTemplate(d.Name) {
				t.Errorf("prompts and intents disagree on the template of %s (reask %v)", d.Name, reask)
			}
			for _, in := range []prompts.DetailAskInput{{}, {Invalid: "xyz"}, {Problem: "that looks incomplete"}} {
				out, err := prompts.Default().Render(name, in)
				if err != nil || strings.TrimSpace(out) == "" {
					t.Errorf("Render(%s, %+v) = %q, %v; want a question", name, in, out, err)
				}
			}
		}
	}
}

func TestDetailTemplateFallsBackToGeneric(t *testing.T) {
	t.Parallel()
	tests := []struct {
		typ   string
		reask bool
		want  prompts.Name
	}{
		{"zip_code", false, prompts.AskDetail},
		{"zip_code", true, prompts.ReaskDetail},
		{"", true, prompts.ReaskDetail},
		{"detail", false, prompts.AskDetail},
		{"email", true, prompts.ReaskEmail},
	}
	for _, tt := range tests {
		if got := prompts.DetailTemplate(tt.typ, tt.reask); got != tt.want {
			t.Errorf("DetailTemplate(%q, %v) = %s, want %s", tt.typ, tt.reask, got, tt.want)
		}
	}
	out, err := prompts.Default().Render(prompts.ReaskDetail, prompts.ReaskInput{Label: "zip code", Problem: "that doesn't look like a valid zip code"})
	if err != nil || out != "Sorry, that doesn't look like a valid zip code. Could you send it again?" {
		t.Errorf("reask_detail = %q, %v", out, err)
	}
}
