package intents

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
)

// Detail types the extractor knows. Intents name them in RequiredDetails.
const (
	DetailEmail       = "email"
	DetailPhone       = "phone"
	DetailOrderNumber = "order_number"
	DetailDate        = "date"
	DetailTime        = "time"
	DetailMoney       = "money"
	DetailName        = "name"
	DetailPeople      = "people" // party size, e.g. "a table for 4"
)

// Re-ask prompt template names (package prompts holds the texts), one per detail type.
const (
	ReaskEmail       = "reask_email"
	ReaskPhone       = "reask_phone"
	ReaskOrderNumber = "reask_order_number"
	ReaskDate        = "reask_date"
	ReaskTime        = "reask_time"
	ReaskMoney       = "reask_money"
	ReaskName        = "reask_name"
	ReaskPeople      = "reask_people"
)

// ReaskTemplate returns the prompt template that asks again for a built-in detail of type t,
// or "" for a custom type (whose DetailType.Reask is the text) or an unknown one.
func ReaskTemplate(t string) string {
	if !KnownDetail(t) {
		return ""
	}
	return "reask_" + t
}

// AskTemplate returns the prompt template that first asks for a built-in detail of type t, or
// "" for a custom or unknown type.
func AskTemplate(t string) string {
	if !KnownDetail(t) {
		return ""
	}
	return "ask_" + t
}

// KnownDetail reports whether t is a built-in detail type the extractor understands.
func KnownDetail(t string) bool {
	return slices.ContainsFunc(builtinTypes, func(d DetailType) bool { return d.Name == t })
}

// DetailType describes one kind of detail the bot can gather. Built-in types (email, phone,
// order_number, date, time, money, name, people) have their own extractors, and their ask and
// re-ask texts are prompt templates (ask_<name>, reask_<name>). Admins add custom types: a
// Pattern (a regular expression; its first capture group, if any, is the value) or a list of
// Values (matched case-insensitively on whole words, returned in the listed spelling), with
// Keywords that announce the value ("zip", "username") and the texts that ask for it.
type DetailType struct {
	Name     string   `json:"name" yaml:"name"`
	Label    string   `json:"label,omitempty" yaml:"label,omitempty"`
	Pattern  string   `json:"pattern,omitempty" yaml:"pattern,omitempty"`
	Values   []string `json:"values,omitempty" yaml:"values,omitempty"`
	Keywords []string `json:"keywords,omitempty" yaml:"keywords,omitempty"`
	// Normalize is applied to the value: none (default), upper, lower, digits or title.
	Normalize string `json:"normalize,omitempty" yaml:"normalize,omitempty"`
	Ask       string `json:"ask,omitempty" yaml:"ask,omitempty"`
	Reask     string `json:"reask,omitempty" yaml:"reask,omitempty"`
	Builtin   bool   `json:"builtin" yaml:"-"`
}

// Normalize modes of DetailType.Normalize.
const (
	NormalizeNone   = "none"
	NormalizeUpper  = "upper"
	NormalizeLower  = "lower"
	NormalizeDigits = "digits"
	NormalizeTitle  = "title"
)

var builtinTypes = []DetailType{
	{Name: DetailEmail, Label: "email address", Builtin: true},
	{Name: DetailPhone, Label: "phone number", Builtin: true},
	{Name: DetailOrderNumber, Label: "order number", Builtin: true},
	{Name: DetailDate, Label: "date", Builtin: true},
	{Name: DetailTime, Label: "time", Builtin: true},
	{Name: DetailMoney, Label: "amount", Builtin: true},
	{Name: DetailName, Label: "name", Builtin: true},
	{Name: DetailPeople, Label: "number of people", Builtin: true},
}

// BuiltinDetailTypes returns the built-in detail types.
func BuiltinDetailTypes() []DetailType { return slices.Clone(builtinTypes) }

// Normalized trims the fields, fills Label from Name ("zip_code" → "zip code") and drops empty
// values and keywords.
func (d DetailType) Normalized() DetailType {
	d.Name = strings.TrimSpace(d.Name)
	d.Label = strings.TrimSpace(d.Label)
	if d.Label == "" {
		d.Label = strings.ReplaceAll(d.Name, "_", " ")
	}
	d.Pattern = strings.TrimSpace(d.Pattern)
	d.Normalize = strings.ToLower(strings.TrimSpace(d.Normalize))
	if d.Normalize == "" {
		d.Normalize = NormalizeNone
	}
	d.Ask, d.Reask = strings.TrimSpace(d.Ask), strings.TrimSpace(d.Reask)
	d.Values = trimAll(d.Values)
	d.Keywords = trimAll(d.Keywords)
	return d
}

func trimAll(list []string) []string {
	var out []string
	for _, s := range list {
		if s = strings.TrimSpace(s); s != "" && !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return out
}

// Validate checks a custom detail type as an admin would have to fix it.
func (d DetailType) Validate() error {
	var errs []error
	if !namePattern.MatchString(d.Name) {
		errs = append(errs, fmt.Errorf("name %q must be lower_snake_case, 1-64 characters", d.Name))
	}
	if KnownDetail(d.Name) || d.Builtin {
		errs = append(errs, fmt.Errorf("%q is a built-in detail type and cannot be redefined", d.Name))
	}
	hasPattern, hasValues := strings.TrimSpace(d.Pattern) != "", len(trimAll(d.Values)) > 0
	switch {
	case hasPattern && hasValues:
		errs = append(errs, errors.New("give either a pattern or a list of values, not both"))
	case !hasPattern && !hasValues:
		errs = append(errs, errors.New("needs a pattern (a regular expression) or a list of values"))
	case hasPattern:
		re, err := regexp.Compile(d.Pattern)
		if err != nil {
			errs = append(errs, fmt.Errorf("pattern: %w", err))
		} else if re.MatchString("") {
			errs = append(errs, errors.New("pattern matches empty text; it must require at least one character"))
		}
	}
	switch strings.ToLower(strings.TrimSpace(d.Normalize)) {
	case "", NormalizeNone, NormalizeUpper, NormalizeLower, NormalizeDigits, NormalizeTitle:
	default:
		errs = append(errs, fmt.Errorf("unknown normalize %q (want none, upper, lower, digits or title)", d.Normalize))
	}
	if strings.TrimSpace(d.Ask) == "" {
		errs = append(errs, errors.New("needs an ask text (the question that asks for it)"))
	}
	if strings.TrimSpace(d.Reask) == "" {
		errs = append(errs, errors.New("needs a reask text (the question when the answer did not fit)"))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("detail type %q: %w", d.Name, err)
	}
	return nil
}

// ValidateDetailTypes checks custom types and that names are unique.
func ValidateDetailTypes(list []DetailType) error {
	var errs []error
	seen := map[string]bool{}
	for _, d := range list {
		if err := d.Validate(); err != nil {
			errs = append(errs, err)
		}
		if seen[d.Name] {
			errs = append(errs, fmt.Errorf("detail type %q defined twice", d.Name))
		}
		seen[d.Name] = true
	}
	return errors.Join(errs...)
}

// checkRequired reports required details that no known type fills, or whose custom type has
// no ask or re-ask text: the bot could not ask for them, and the reply would be empty.
func checkRequired(in Intent, custom []DetailType) error {
	var errs []error
	for _, name := range in.RequiredDetails {
		if KnownDetail(name) {
			continue
		}
		i := slices.IndexFunc(custom, func(d DetailType) bool { return d.Name == name })
		switch {
		case i < 0:
			errs = append(errs, fmt.Errorf("requires detail %q, which is not a known detail type (built-in: %s; define it under detail_types first)",
				name, strings.Join(builtinTypeNames(), ", ")))
		case strings.TrimSpace(custom[i].Ask) == "" || strings.TrimSpace(custom[i].Reask) == "":
			errs = append(errs, fmt.Errorf("requires detail %q, which has no ask or re-ask text", name))
		}
	}
	return errors.Join(errs...)
}

func builtinTypeNames() []string {
	out := make([]string, len(builtinTypes))
	for i, d := range builtinTypes {
		out[i] = d.Name
	}
	return out
}

// normalizeValue applies a type's Normalize mode.
func normalizeValue(mode, v string) string {
	switch mode {
	case NormalizeUpper:
		return strings.ToUpper(v)
	case NormalizeLower:
		return strings.ToLower(v)
	case NormalizeDigits:
		return onlyDigits(v)
	case NormalizeTitle:
		return titleName(strings.ToLower(v))
	}
	return v
}
