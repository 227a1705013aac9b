package bot

import (
	"context"
	"strings"

	"github.com/batonhq/baton/intents"
	"github.com/batonhq/baton/prompts"
)

// detailLabel is how a detail type is named to the customer.
func detailLabel(model *intents.Model, t string) string {
	if model != nil {
		if d, ok := model.DetailType(t); ok && d.Label != "" {
			return d.Label
		}
	}
	return strings.ReplaceAll(t, "_", " ")
}

// detailQuestion asks for a detail: the first time plainly, again with what was wrong. An
// admin-defined type brings its own texts; a built-in one has its templates.
func (b *Brain) detailQuestion(ctx context.Context, model *intents.Model, t string, reask bool, problem string) (string, error) {
	d, ok := model.DetailType(t)
	if ok && !d.Builtin && d.Ask != "" {
		text := d.Ask
		if reask && d.Reask != "" {
			text = d.Reask
		}
		if problem != "" {
			text = "Sorry, " + problem + ". " + text
		}
		return text, nil
	}
	return b.render(ctx, prompts.DetailTemplate(t, reask || problem != ""),
		prompts.ReaskInput{Label: detailLabel(model, t), Problem: problem})
}
