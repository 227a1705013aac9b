package eval

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/batonhq/baton/intents"
)

// DetailsReport is what `baton eval details --json` prints: span-level precision, recall and
// F1 (exact slot and character span), micro-averaged, and per slot.
type DetailsReport struct {
	Examples  int                   `json:"examples"`
	Precision float64               `json:"precision"`
	Recall    float64               `json:"recall"`
	F1        float64               `json:"f1"`
	PerSlot   map[string]SlotReport `json:"per_slot"`
}

// SlotReport is the score of one slot. ValueAccuracy is the share of matched spans whose
// normalised value equals the gold value, where the file gives values (Baton's fixtures).
type SlotReport struct {
	Gold          int      `json:"gold"`
	Predicted     int      `json:"predicted"`
	Correct       int      `json:"correct"`
	Precision     float64  `json:"precision"`
	Recall        float64  `json:"recall"`
	F1            float64  `json:"f1"`
	ValueAccuracy *float64 `json:"value_accuracy,omitempty"`
}

// DetailRow is one labelled utterance in Restaurants-8K's format, which Baton's fixtures share.
// Offsets count characters (code points), as in the source data.
type DetailRow struct {
	Text           string     `json:"text"`
	RequestedSlots []string   `json:"requested_slots"`
	Spans          []GoldSpan `json:"spans"`
	Region         string     `json:"region,omitempty"`
	OrderPattern   string     `json:"order_pattern,omitempty"`
}

// GoldSpan is one labelled span.
type GoldSpan struct {
	Slot  string `json:"slot"`
	Start int    `json:"start"`
	End   int    `json:"end"`
	Value string `json:"value"`
}

// Details runs `baton eval details`.
func Details(ctx context.Context, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("eval details", flag.ContinueOnError)
	fs.SetOutput(stdout)
	data := fs.String("data", "", "JSONL with text, requested_slots and spans (Restaurants-8K or intents/testdata/details.jsonl)")
	asJSON := fs.Bool("json", false, "print JSON instead of a table")
	errs := fs.Int("show-errors", 0, "print up to N mismatched rows")
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: baton eval details --data FILE [--json] [--show-errors N]")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *data == "" {
		fs.Usage()
		return fmt.Errorf("eval details: --data is required")
	}
	var rows []DetailRow
	err := readJSONL(*data, func(_ int, raw []byte) error {
		var r DetailRow
		if err := json.Unmarshal(raw, &r); err != nil {
			return err
		}
		rows = append(rows, r)
		return nil
	})
	if err != nil {
		return err
	}
	if len(rows) == 0 {
		return fmt.Errorf("%s: no rows", *data)
	}
	rep, mismatches := ScoreDetails(ctx, rows)
	if *asJSON {
		return writeJSON(stdout, rep)
	}
	t := newTable(stdout)
	t.row("slot", "gold", "predicted", "correct", "precision", "recall", "f1", "value acc")
	slots := make([]string, 0, len(rep.PerSlot))
	for s := range rep.PerSlot {
		slots = append(slots, s)
	}
	slices.Sort(slots)
	for _, s := range slots {
		r := rep.PerSlot[s]
		t.row(s, fmt.Sprint(r.Gold), fmt.Sprint(r.Predicted), fmt.Sprint(r.Correct), f3(r.Precision), f3(r.Recall), f3(r.F1), fp3(r.ValueAccuracy))
	}
	t.row("all (micro)", "", "", "", f3(rep.Precision), f3(rep.Recall), f3(rep.F1), "")
	t.row("examples", fmt.Sprint(rep.Examples))
	if err := t.flush(); err != nil {
		return err
	}
	for i, m := range mismatches {
		if i >= *errs {
			break
		}
		fmt.Fprintln(stdout, m)
	}
	return nil
}

// restaurantSlots maps Restaurants-8K slot names to the detail types that fill them.
var restaurantSlots = map[string]string{
	"people": intents.DetailPeople, "date": intents.DetailDate, "time": intents.DetailTime,
	"first_name": intents.DetailName, "last_name": intents.DetailName,
}

// evalNow is a fixed clock so that relative dates are reproducible.
var evalNow = time.Date(2025, 3, 14, 10, 0, 0, 0, time.UTC)

type span struct {
	slot       string
	start, end int
}

// ScoreDetails runs the extractor over rows and scores predicted spans against gold spans.
// Only slots that occur in the gold data are scored, so an email found in a restaurant
// booking is not counted against the extractor.
func ScoreDetails(ctx context.Context, rows []DetailRow) (DetailsReport, []string) {
	slotSet := map[string]bool{}
	for _, r := range rows {
		for _, s := range r.Spans {
			slotSet[s.Slot] = true
		}
	}
	type counts struct{ gold, pred, ok, valOK, valN int }
	per := map[string]*counts{}
	for s := range slotSet {
		per[s] = &counts{}
	}
	var mismatches []string
	for i, r := range rows {
		if i%1000 == 0 && ctx.Err() != nil {
			break
		}
		ec := intents.ExtractContext{Now: evalNow, Location: time.UTC, Region: r.Region}
		if r.OrderPattern != "" {
			if re, err := regexp.Compile(r.OrderPattern); err == nil {
				ec.OrderPattern = re
			}
		}
		if len(r.RequestedSlots) > 0 {
			req := r.RequestedSlots[0]
			if t, ok := restaurantSlots[req]; ok {
				req = t
			}
			ec.Requested = req
		}
		pred := map[span]string{}
		for _, d := range intents.Extract(r.Text, ec) {
			if !d.Valid {
				continue
			}
			for _, sp := range toSlots(r.Text, d, r.RequestedSlots) {
				if slotSet[sp.slot] {
					pred[sp.span] = sp.value
				}
			}
		}
		gold := map[span]string{}
		for _, g := range r.Spans {
			gold[span{g.Slot, g.Start, g.End}] = g.Value
		}
		bad := false
		for s := range gold {
			per[s.slot].gold++
			if v, ok := pred[s]; ok {
				per[s.slot].ok++
				if gv := gold[s]; gv != "" && isValueSlot(s.slot) {
					per[s.slot].valN++
					if v == gv {
						per[s.slot].valOK++
					} else {
						bad = true
					}
				}
			} else {
				bad = true
			}
		}
		for s := range pred {
			per[s.slot].pred++
			if _, ok := gold[s]; !ok {
				bad = true
			}
		}
		if bad {
			mismatches = append(mismatches, fmt.Sprintf("%q req=%v gold=%s pred=%s", r.Text, r.RequestedSlots, fmtSpans(r.Text, gold), fmtSpans(r.Text, pred)))
		}
	}
	rep := DetailsReport{Examples: len(rows), PerSlot: map[string]SlotReport{}}
	var tg, tp, tok int
	for s, c := range per {
		sr := SlotReport{Gold: c.gold, Predicted: c.pred, Correct: c.ok}
		sr.Precision, sr.Recall, sr.F1 = prf(c.ok, c.pred, c.gold)
		if c.valN > 0 {
			v := ratio(c.valOK, c.valN)
			sr.ValueAccuracy = &v
		}
		rep.PerSlot[s] = sr
		tg += c.gold
		tp += c.pred
		tok += c.ok
	}
	rep.Precision, rep.Recall, rep.F1 = prf(tok, tp, tg)
	return rep, mismatches
}

// isValueSlot: Baton's own fixtures carry normalised values; Restaurants-8K's values are the
// surface text, which the span match already covers.
func isValueSlot(slot string) bool {
	switch slot {
	case intents.DetailEmail, intents.DetailPhone, intents.DetailOrderNumber, intents.DetailMoney:
		return true
	}
	return false
}

func prf(ok, pred, gold int) (p, r, f float64) {
	p, r = ratio(ok, pred), ratio(ok, gold)
	if p+r > 0 {
		f = 2 * p * r / (p + r)
	}
	return p, r, f
}

func fmtSpans(text string, m map[span]string) string {
	keys := make([]span, 0, len(m))
	for s := range m {
		keys = append(keys, s)
	}
	slices.SortFunc(keys, func(a, b span) int { return a.start - b.start })
	var parts []string
	for _, s := range keys {
		runes := []rune(text)
		if s.end <= len(runes) {
			parts = append(parts, fmt.Sprintf("%s:%q=%q", s.slot, string(runes[s.start:s.end]), m[s]))
		}
	}
	return "[" + strings.Join(parts, " ") + "]"
}

type slotSpan struct {
	span
	value string
}

// toSlots converts a detail to dataset slots with character offsets. Names split into
// first_name and last_name for Restaurants-8K.
func toSlots(text string, d intents.Detail, requested []string) []slotSpan {
	cs, ce := runeOffset(text, d.Start), runeOffset(text, d.End)
	if d.Type != intents.DetailName {
		return []slotSpan{{span{d.Type, cs, ce}, d.Value}, {span{restaurantName(d.Type), cs, ce}, d.Value}}
	}
	words := strings.Fields(d.Text)
	out := []slotSpan{{span{intents.DetailName, cs, ce}, d.Value}}
	if len(words) == 1 {
		slot := "first_name"
		if len(requested) == 1 && requested[0] == "last_name" {
			slot = "last_name"
		}
		return append(out, slotSpan{span{slot, cs, ce}, d.Text})
	}
	first := words[0]
	last := words[len(words)-1]
	fe := cs + utf8.RuneCountInString(first)
	lStart := runeOffset(text, d.Start+strings.LastIndex(d.Text, last))
	out = append(out, slotSpan{span{"first_name", cs, fe}, first})
	out = append(out, slotSpan{span{"last_name", lStart, ce}, last})
	return out
}

func restaurantName(t string) string {
	for k, v := range restaurantSlots {
		if v == t && k != "first_name" && k != "last_name" {
			return k
		}
	}
	return t
}

func runeOffset(s string, b int) int { return utf8.RuneCountInString(s[:b]) }
