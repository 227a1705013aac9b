// Package pii finds personal data in free text — email addresses, phone numbers, payment card
// numbers and patterns an admin defines (order numbers, account ids) — and hides it: reversibly
// before text reaches an LLM (Mask, Vault.Unmask), for good before a card number is stored
// (MaskCards), and in logs (LogHandler). It depends on the standard library only, so domain
// packages and adapters can both use it.
//
// Detection is deliberately shape-based and local: a phone number is what looks like one to a
// person (not "2024-05-01", "1,299.00" or "A-10293"), a card is 13–19 digits that pass the
// Luhn check. A false positive costs a placeholder the model can still refer to; a false
// negative sends a customer's data to a third party.
package pii

import (
	"regexp"
	"slices"
	"strings"
)

// Kinds of span the built-in detectors report; admin patterns report their own Name.
const (
	KindEmail = "email"
	KindPhone = "phone"
	KindCard  = "card"
)

// Pattern is an admin-defined kind of personal data: every match of Regexp is masked as
// [NAME_n] (Name upper-cased, other characters than letters and digits become '_').
type Pattern struct {
	Name   string
	Regexp *regexp.Regexp
}

// Span is one piece of personal data found in a text: text[Start:End] is of kind Kind.
type Span struct {
	Kind       string
	Start, End int
}

// Options tune a Masker; the zero value masks emails, phones and cards.
type Options struct {
	// Patterns are admin-defined kinds (order numbers, …); they win over phone numbers.
	Patterns []Pattern
	// PatternsWin makes a pattern's match win over a card number it overlaps (an order number
	// that happens to pass the Luhn check). Off by default: a missed card is the costlier error.
	PatternsWin bool
	// Keep, when set, is asked about every span found; a span it keeps stays in the text as it
	// is and wins over anything it overlaps (see KeepSpans).
	Keep func(Span) bool
}

// KeepSpans returns a Keep function that keeps every span overlapping one of spans: pass the
// positions of details the caller already knows are not sensitive (an extracted order number).
func KeepSpans(spans []Span) func(Span) bool {
	return func(s Span) bool {
		for _, k := range spans {
			if s.Start < k.End && k.Start < s.End {
				return true
			}
		}
		return false
	}
}

// Masker finds and masks personal data. It is safe for concurrent use.
type Masker struct {
	o      Options
	labels map[string]string // kind → placeholder label
}

// NewMasker returns a Masker; patterns with a nil Regexp or an empty Name are ignored.
func NewMasker(o Options) *Masker {
	m := &Masker{labels: map[string]string{KindEmail: "EMAIL", KindPhone: "PHONE", KindCard: "CARD"}}
	for _, p := range o.Patterns {
		if p.Regexp == nil || p.Name == "" {
			continue
		}
		m.o.Patterns = append(m.o.Patterns, p)
		m.labels[p.Name] = label(p.Name)
	}
	m.o.PatternsWin, m.o.Keep = o.PatternsWin, o.Keep
	return m
}

func label(name string) string {
	b := []byte(strings.ToUpper(name))
	for i, c := range b {
		if (c < 'A' || c > 'Z') && (c < '0' || c > '9') {
			b[i] = '_'
		}
	}
	return string(b)
}

// Find returns the spans of personal data in text, in order, without overlaps. Overlaps are
// settled by Keep first, then emails, cards (after patterns when PatternsWin), patterns, phones.
func (m *Masker) Find(text string) []Span { return m.find(text, true) }

// find is Find; without all it looks for cards and what may win over them only.
func (m *Masker) find(text string, all bool) []Span {
	var emails []Span
	if all {
		emails = findEmails(text)
	}
	cards, phones := findNumbers(text)
	if !all && len(cards) == 0 {
		return nil
	}
	var patterns []Span
	for _, p := range m.o.Patterns {
		if !all && !m.o.PatternsWin && m.o.Keep == nil {
			break // cards win over patterns: their matches change nothing
		}
		for _, loc := range p.Regexp.FindAllStringIndex(text, -1) {
			if loc[1] > loc[0] {
				patterns = append(patterns, Span{Kind: p.Name, Start: loc[0], End: loc[1]})
			}
		}
	}
	if len(emails)+len(cards)+len(phones)+len(patterns) == 0 {
		return nil
	}
	order := [][]Span{emails, cards, patterns, phones}
	if m.o.PatternsWin {
		order = [][]Span{emails, patterns, cards, phones}
	}
	var taken, out []Span
	overlaps := func(s Span) bool {
		for _, t := range taken {
			if s.Start < t.End && t.Start < s.End {
				return true
			}
		}
		return false
	}
	if m.o.Keep != nil {
		for _, list := range order {
			for _, s := range list {
				if !overlaps(s) && m.o.Keep(s) {
					taken = append(taken, s)
				}
			}
		}
	}
	for _, list := range order {
		for _, s := range list {
			if !overlaps(s) {
				taken = append(taken, s)
				out = append(out, s)
			}
		}
	}
	slices.SortFunc(out, func(a, b Span) int { return a.Start - b.Start })
	return out
}

// replace rewrites every span of text with what repl returns for it.
func replace(text string, spans []Span, repl func(Span) string) string {
	if len(spans) == 0 {
		return text
	}
	var b strings.Builder
	b.Grow(len(text))
	at := 0
	for _, s := range spans {
		b.WriteString(text[at:s.Start])
		b.WriteString(repl(s))
		at = s.End
	}
	b.WriteString(text[at:])
	return b.String()
}

// Mask replaces the personal data in text with placeholders ([EMAIL_1], [PHONE_1], [CARD_1],
// [ORDER_NUMBER_1]) and returns the vault that puts them back.
func (m *Masker) Mask(text string) (string, *Vault) {
	v := NewVault()
	return m.MaskWith(v, text), v
}

// MaskWith masks text with the placeholders already in v, adding new ones: mask the history and
// the new messages of one turn with one vault and the same value keeps the same placeholder.
func (m *Masker) MaskWith(v *Vault, text string) string {
	v.reserve(text)
	return replace(text, m.Find(text), func(s Span) string {
		return v.placeholder(m.labels[s.Kind], text[s.Start:s.End])
	})
}

// MaskCards replaces card numbers in text with "•••• " and their last four digits, for text
// that is stored; other data is left as it is. Keep and Patterns apply as in Find.
func (m *Masker) MaskCards(text string) string {
	if !hasDigit(text) {
		return text
	}
	spans := m.find(text, false)
	spans = slices.DeleteFunc(spans, func(s Span) bool { return s.Kind != KindCard })
	return replace(text, spans, func(s Span) string { return "•••• " + lastDigits(text[s.Start:s.End], 4) })
}

var defaultMasker = NewMasker(Options{})

// MaskCards masks the card numbers in text with the default options (see Masker.MaskCards).
func MaskCards(text string) string { return defaultMasker.MaskCards(text) }

// lastDigits returns the last n digits of s.
func lastDigits(s string, n int) string {
	var d []byte
	for i := len(s) - 1; i >= 0 && len(d) < n; i-- {
		if isDigit(s[i]) {
			d = append(d, s[i])
		}
	}
	slices.Reverse(d)
	return string(d)
}
