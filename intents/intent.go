// Package intents understands one customer message: which intent it expresses (the admins'
// own, or one of the built-in system intents such as greeting, thanks and talk_to_human, which
// every catalog keeps), or that it is out of scope; the details it carries (email, phone, order
// number, dates, money, name, party size, and the detail types admins define, such as a zip
// code or a membership level); its sentiment and its language. Everything here runs offline
// and deterministically; an LLM, when configured, only refines the result through ParseLLM.
package intents

import (
	_ "embed"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"sync"
)

// Action says what the bot does once an intent is recognised.
type Action string

const (
	ActionAnswer            Action = "answer"              // answer from knowledge
	ActionGatherThenHandoff Action = "gather_then_handoff" // ask for required details, then hand off
	ActionHandoff           Action = "handoff"             // hand off straight away
	ActionReply             Action = "reply"               // send the intent's custom reply
)

// Valid reports whether a is a known action.
func (a Action) Valid() bool {
	switch a {
	case ActionAnswer, ActionGatherThenHandoff, ActionHandoff, ActionReply:
		return true
	}
	return false
}

// Intent is one thing a customer may want, as admins define it.
type Intent struct {
	Name            string   `json:"name" yaml:"name"`
	Description     string   `json:"description,omitempty" yaml:"description,omitempty"`
	Examples        []string `json:"examples" yaml:"examples"`
	RequiredDetails []string `json:"required_details,omitempty" yaml:"required_details,omitempty"`
	Action          Action   `json:"action,omitempty" yaml:"action,omitempty"`
	Team            string   `json:"team,omitempty" yaml:"team,omitempty"`
	Reply           string   `json:"reply,omitempty" yaml:"reply,omitempty"`
	// OrderPattern overrides the default order-number regular expression for this intent.
	OrderPattern string `json:"order_pattern,omitempty" yaml:"order_pattern,omitempty"`
}

// OutOfScope is the intent name reported when no intent fits.
const OutOfScope = "out_of_scope"

var namePattern = regexp.MustCompile(`^[a-z][a-z0-9_]{0,63}$`)

// Validate checks one intent as an admin would have to fix it.
func (in Intent) Validate() error {
	var errs []error
	if !namePattern.MatchString(in.Name) {
		errs = append(errs, fmt.Errorf("name %q must be lower_snake_case, 1-64 characters", in.Name))
	}
	if in.Name == OutOfScope {
		errs = append(errs, fmt.Errorf("name %q is reserved", in.Name))
	}
	n := 0
	for _, e := range in.Examples {
		if strings.TrimSpace(e) != "" {
			n++
		}
	}
	if n == 0 {
		errs = append(errs, errors.New("needs at least one example"))
	}
	if in.Action != "" && !in.Action.Valid() {
		errs = append(errs, fmt.Errorf("unknown action %q (want answer, gather_then_handoff, handoff or reply)", in.Action))
	}
	if in.Action == ActionReply && strings.TrimSpace(in.Reply) == "" {
		errs = append(errs, errors.New("action reply needs a reply text"))
	}
	for _, d := range in.RequiredDetails {
		if !namePattern.MatchString(d) {
			errs = append(errs, fmt.Errorf("required detail %q must be a detail type name (lower_snake_case)", d))
		}
	}
	if in.OrderPattern != "" {
		if _, err := regexp.Compile(in.OrderPattern); err != nil {
			errs = append(errs, fmt.Errorf("order_pattern: %w", err))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("intent %q: %w", in.Name, err)
	}
	return nil
}

// ValidateAll checks every intent, that names are unique, and that every required detail is a
// built-in type or one of the custom types with its ask and re-ask texts.
func ValidateAll(list []Intent, custom ...DetailType) error {
	var errs []error
	seen := map[string]bool{}
	for _, in := range list {
		if err := in.Validate(); err != nil {
			errs = append(errs, err)
		} else if err := checkRequired(in, custom); err != nil {
			errs = append(errs, fmt.Errorf("intent %q: %w", in.Name, err))
		}
		if seen[in.Name] {
			errs = append(errs, fmt.Errorf("intent %q defined twice", in.Name))
		}
		seen[in.Name] = true
	}
	return errors.Join(errs...)
}

// OrderRegexp compiles the intent's order pattern, or returns nil to use the default.
func (in Intent) OrderRegexp() *regexp.Regexp {
	if in.OrderPattern == "" {
		return nil
	}
	re, err := regexp.Compile(in.OrderPattern)
	if err != nil {
		return nil
	}
	return re
}

//go:embed defaults.yaml
var defaultsYAML []byte

type defaultFile struct {
	Intents    []Intent
	OutOfScope []string
}

var loadDefaults = sync.OnceValues(func() (defaultFile, error) {
	imp, err := parseYAML(defaultsYAML, nil)
	return defaultFile{Intents: imp.Intents, OutOfScope: imp.OutOfScope}, err
})

// DefaultIntents returns the web-shop intents the demo seeds. Each call returns a fresh copy.
func DefaultIntents() []Intent {
	d, err := loadDefaults()
	if err != nil {
		// The file is embedded and covered by tests, so this is a build defect.
		panic(fmt.Sprintf("intents: embedded defaults.yaml: %v", err))
	}
	out := make([]Intent, len(d.Intents))
	for i, in := range d.Intents {
		in.Examples = append([]string(nil), in.Examples...)
		in.RequiredDetails = append([]string(nil), in.RequiredDetails...)
		out[i] = in
	}
	return out
}

// DefaultOutOfScope returns off-topic messages written for the web shop. Train uses them only
// on the development split to choose the out-of-scope threshold, never as training rows.
func DefaultOutOfScope() []string {
	d, err := loadDefaults()
	if err != nil {
		panic(fmt.Sprintf("intents: embedded defaults.yaml: %v", err))
	}
	return append([]string(nil), d.OutOfScope...)
}
