package bot

import (
	"context"
	"strings"

	"github.com/batonhq/baton/intents"
	"github.com/batonhq/baton/prompts"
)

var detailLabels = map[string]string{"order_number": "order number", "email": "email address", "phone": "phone number",
	"date": "date", "time": "time", "money": "amount", "name": "name", "people": "number of people"}

// detailLabel is how a detail type is named to the customer.
func detailLabel(_ *intents.Model, t string) string {
	if l := detailLabels[t]; l != "" {
		return l
	}
	return strings.ReplaceAll(t, "_", " ")
}

// detailQuestion asks for a detail: the first time plainly, again with what was wrong.
func (b *Brain) detailQuestion(ctx context.Context, _ *intents.Model, t string, reask bool, problem string) (string, error) {
	if name := intents.ReaskTemplate(t); name != "" && (reask || problem != "") {
		return b.render(ctx, prompts.Name(name), prompts.ReaskInput{Invalid: problem})
	}
	return "Could you send me your " + detailLabel(nil, t) + "?", nil
}
