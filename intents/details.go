package intents

import (
	"cmp"
	"regexp"
	"slices"
	"strings"
	"time"
)

// Detail is one piece of information found in a message. Start and End are byte offsets of
// Text in the message. Value is normalised: lower-cased email, E.164 phone, upper-cased order
// number, ISO date (2006-01-02), 24-hour time (15:04), "49.99 EUR", a name, a party size.
// A detail that looks like its type but fails validation has Valid false and a Problem to tell
// the customer: a phrase that reads after "Sorry, " ("that phone number looks incomplete"),
// for the re-ask template (see ReaskTemplate and prompts.ReaskInput.Problem). Value is the
// canonical spelling for custom types (a listed value, after the type's Normalize).
type Detail struct {
	Type    string `json:"type"`
	Value   string `json:"value"`
	Text    string `json:"text"`
	Start   int    `json:"start"`
	End     int    `json:"end"`
	Valid   bool   `json:"valid"`
	Problem string `json:"problem,omitempty"`
}

// ExtractContext is what the extractor knows about the conversation.
type ExtractContext struct {
	// Now is the message time; relative dates resolve from it in Location. Zero means time.Now().
	Now time.Time
	// Location is the customer's timezone (UTC when nil).
	Location *time.Location
	// Requested is the detail type the bot just asked for ("name", "order_number", …); it lets a
	// bare answer ("Ana", "48213") count.
	Requested string
	// OrderPattern overrides the default order-number pattern (see Intent.OrderPattern). When
	// it has a capture group, the first group is the order number.
	OrderPattern *regexp.Regexp
	// Region is the ISO 3166 country used for phone numbers without a country code ("US" when
	// empty) and for reading 03/04 as month/day (US) or day/month (elsewhere).
	Region string
	// Expect lists the detail types the conversation's open intent requires: custom types
	// among them are looked for even without their keywords.
	Expect []string
	// Types are the admin-defined detail types to look for (Model.Understand fills them in).
	// A custom type is extracted when it is Requested or Expected, or when one of its
	// Keywords announces the value ("zip 10115", "my username is ana_88").
	Types []DetailType

	foreign []string // keywords that announce something other than a phone or order number
}

func (c ExtractContext) now() time.Time {
	loc := c.Location
	if loc == nil {
		loc = time.UTC
	}
	n := c.Now
	if n.IsZero() {
		n = time.Now()
	}
	return n.In(loc)
}

func (c ExtractContext) region() string {
	if c.Region == "" {
		return "US"
	}
	return strings.ToUpper(c.Region)
}

// Extract finds every detail in text. Overlapping candidates are resolved by priority, so a
// value is never filed under two types: emails first (they are unambiguous), then custom types
// announced by their keywords or just requested ("10115" after "what's your zip code?"), then
// phone, order number, money, date, time, party size and name, and last the custom types the
// open intent expects. So "ana.2024@example.com" is an email and not a year. A requested
// custom detail that is present but does not fit comes back with Valid false and a Problem.
// Results are ordered by position.
func Extract(text string, ctx ExtractContext) []Detail {
	custom := compileTypes(ctx.Types)
	ctx.foreign = foreignKeywords(custom)
	var all []Detail
	all = append(all, extractEmails(text)...)
	all = append(all, extractCustom(text, ctx, custom, customCued|customRequested)...)
	all = append(all, extractPhones(text, ctx)...)
	all = append(all, extractOrders(text, ctx)...)
	all = append(all, extractMoney(text)...)
	all = append(all, extractDates(text, ctx)...)
	all = append(all, extractTimes(text, ctx)...)
	all = append(all, extractPeople(text, ctx)...)
	all = append(all, extractNames(text, ctx)...)
	all = append(all, extractCustom(text, ctx, custom, customExpected)...)
	// Earlier extractors win overlaps; among one type the longer span wins.
	var kept []Detail
	for _, d := range all {
		clash := false
		for _, k := range kept {
			if d.Start < k.End && k.Start < d.End {
				clash = true
				break
			}
		}
		if !clash {
			kept = append(kept, d)
		}
	}
	if !slices.ContainsFunc(kept, func(k Detail) bool { return k.Valid }) {
		if d, ok := customProblem(text, ctx, custom, kept); ok {
			kept = append(kept, d)
		} else if d, ok := numberProblem(text, ctx, kept); ok {
			kept = append(kept, d)
		}
	}
	slices.SortStableFunc(kept, func(a, b Detail) int { return cmp.Compare(a.Start, b.Start) })
	return kept
}

// First returns the first valid detail of type t, if any.
func First(ds []Detail, t string) (Detail, bool) {
	for _, d := range ds {
		if d.Type == t && d.Valid {
			return d, true
		}
	}
	return Detail{}, false
}

// Validate checks a value a customer or an LLM gave for detail type t and returns it
// normalised, or a problem to tell the customer.
func Validate(t, value string, ctx ExtractContext) (Detail, bool) {
	value = strings.TrimSpace(value)
	label := strings.ReplaceAll(t, "_", " ")
	for _, d := range append(BuiltinDetailTypes(), ctx.Types...) {
		if d.Name == t && d.Label != "" {
			label = d.Label
		}
	}
	if value == "" {
		return Detail{Type: t, Problem: "I didn't get a " + label}, false
	}
	ctx.Requested = t
	for _, d := range Extract(value, ctx) {
		if d.Type != t {
			continue
		}
		// The whole value must be the detail, not just contain one.
		if strings.TrimSpace(strings.Trim(value[:d.Start]+value[d.End:], ".,;:!?\"' ")) != "" && t != DetailName && t != DetailDate && t != DetailTime {
			continue
		}
		return d, d.Valid
	}
	d := Detail{Type: t, Text: value, End: len(value), Problem: "that doesn't look like a valid " + label}
	return d, false
}

var digitRun = regexp.MustCompile(`\+?\d[\d \-().]*\d|\d`)

// numberProblem reports a short answer to "what's your phone / order number?" that holds too
// few digits to be one ("555-01", "123"): the customer tried, and is told what was wrong
// rather than silently asked again.
func numberProblem(text string, ctx ExtractContext, found []Detail) (Detail, bool) {
	if ctx.Requested != DetailPhone && ctx.Requested != DetailOrderNumber {
		return Detail{}, false
	}
	if slices.ContainsFunc(found, func(d Detail) bool { return d.Type == ctx.Requested }) ||
		strings.Contains(text, "?") || len(strings.Fields(text)) > 6 {
		return Detail{}, false
	}
	m := digitRun.FindStringIndex(text)
	if m == nil || keywordBefore(text, m[0], ctx.foreign, -1) {
		return Detail{}, false
	}
	d := Detail{Type: ctx.Requested, Text: text[m[0]:m[1]], Start: m[0], End: m[1]}
	digits := len(onlyDigits(d.Text))
	switch {
	case ctx.Requested == DetailPhone && digits < 7:
		d.Problem = "that phone number looks incomplete"
	case ctx.Requested == DetailPhone:
		_, d.Problem = ValidatePhone(d.Text, ctx.region())
	case digits < 5:
		d.Problem = "that order number looks too short"
	default:
		d.Problem = "that doesn't look like one of our order numbers"
	}
	return d, d.Problem != ""
}
