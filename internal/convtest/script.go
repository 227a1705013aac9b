// Package convtest runs conversation scripts: YAML files that play a customer against the real
// pipeline (webhook → turn → delivery) and check what the bot did after each step. A script
// runs on its own Baton (its own database clone and clock), so scripts run in parallel.
package convtest

import (
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/intents"
)

// Script is one conversation script.
type Script struct {
	File     string            `yaml:"-"` // base name of the file, for reports
	Name     string            `yaml:"name"`
	Customer Customer          `yaml:"customer"`
	Env      map[string]string `yaml:"env"`
	Setup    Setup             `yaml:"setup"`
	Start    *Start            `yaml:"start"`
	Steps    []Step            `yaml:"steps"`
}

// Start moves the clock forward, before anything happens, to the next given weekday and time
// in a timezone (business hours depend on it): `start: {weekday: sat, time: "10:00",
// timezone: Europe/Berlin}`.
type Start struct {
	Weekday  string `yaml:"weekday"`
	Time     string `yaml:"time"`
	Timezone string `yaml:"timezone"`
}

var weekdays = map[string]time.Weekday{"sun": time.Sunday, "mon": time.Monday, "tue": time.Tuesday,
	"wed": time.Wednesday, "thu": time.Thursday, "fri": time.Friday, "sat": time.Saturday}

// Next returns the first moment after now that is the start's weekday and time in its zone.
func (st Start) Next(now time.Time) (time.Time, error) {
	day, ok := weekdays[strings.ToLower(st.Weekday)]
	if !ok {
		return time.Time{}, fmt.Errorf("weekday must be one of mon..sun, got %q", st.Weekday)
	}
	clock, err := time.Parse("15:04", st.Time)
	if err != nil {
		return time.Time{}, fmt.Errorf("time must be HH:MM, got %q", st.Time)
	}
	loc, err := time.LoadLocation(cmp.Or(st.Timezone, "UTC"))
	if err != nil {
		return time.Time{}, fmt.Errorf("timezone: %w", err)
	}
	local := now.In(loc)
	for i := range 8 {
		y, m, d := local.AddDate(0, 0, i).Date()
		t := time.Date(y, m, d, clock.Hour(), clock.Minute(), 0, 0, loc)
		if t.Weekday() == day && t.After(now) {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("no %s %s ahead", st.Weekday, st.Time)
}

// Customer is who speaks; the id is generated per run.
type Customer struct {
	Name  string `yaml:"name"`
	Email string `yaml:"email"`
	Phone string `yaml:"phone"`
}

// Setup is applied before the first step.
type Setup struct {
	DetailTypes []intents.DetailType `yaml:"detail_types"` // admin-defined detail types, saved first
	Intents     []intents.Intent     `yaml:"intents"`      // saved through the catalog, beside the demo intents
	Articles    []Article            `yaml:"articles"`     // imported and published
	Teams       []Team               `yaml:"teams"`        // created (or found, like support) with their hours
	Agents      []Agent              `yaml:"agents"`       // people who take handoffs
}

// Team is a team of a script's setup; Hours is its schedule as the admin API takes it
// ({"timezone", "weekly": {"mon": ["09:00-17:00"]}, "holidays"}), none: always open.
type Team struct {
	Name  string         `yaml:"name"`
	Hours map[string]any `yaml:"hours"`
}

// Agent is a person of a script's setup, online unless Presence says otherwise.
type Agent struct {
	Email    string `yaml:"email"`
	Team     string `yaml:"team"`
	Capacity int    `yaml:"capacity"`
	Presence string `yaml:"presence"`
}

// Article is a help-centre article of a script's setup.
type Article struct {
	ExternalKey string `yaml:"external_key"`
	Title       string `yaml:"title"`
	Body        string `yaml:"body"`
}

// Step is one thing that happens: the customer says something, time passes, or an agent acts.
type Step struct {
	Say    Lines    `yaml:"say"`
	Wait   Duration `yaml:"wait"`
	Agent  string   `yaml:"agent"`
	Expect *Expect  `yaml:"expect"`
	Line   int      `yaml:"-"`
}

// Expect is what must hold once a step has settled; every field is optional.
type Expect struct {
	Intent           string            `yaml:"intent"`
	Action           string            `yaml:"action"`
	NotAction        string            `yaml:"not_action"`
	ReplyContains    Lines             `yaml:"reply_contains"`
	ReplyNotContains Lines             `yaml:"reply_not_contains"`
	Replies          *int              `yaml:"replies"`
	Cites            Lines             `yaml:"cites"`
	NoCitations      bool              `yaml:"no_citations"`
	Details          map[string]string `yaml:"details"`
	NoDetails        Lines             `yaml:"no_details"`
	Status           string            `yaml:"status"`
	Handoff          string            `yaml:"handoff"`
	Assigned         string            `yaml:"assigned"` // the agent holding the conversation (email), or "nobody"
	Team             string            `yaml:"team"`     // the conversation's team
	CSAT             *int              `yaml:"csat"`     // the satisfaction score of the latest episode that asked (0: none)
}

// Agent actions, each through the path the agent API takes. An action may name its agent by
// email ("claim ana@example.com"); otherwise the agent holding the conversation acts, else the
// script's first agent, else one the script creates (offline, in the default team).
const (
	AgentClaim       = "claim"        // claim the waiting conversation
	AgentResolve     = "resolve"      // resolve it
	AgentResolveCSAT = "resolve_csat" // resolve it and ask for a satisfaction score
	AgentReturn      = "return"       // give it back to the bot
	AgentReply       = "reply"        // "reply <text>": a public reply, delivered
	AgentNote        = "note"         // "note <text>": an internal note, never delivered
	AgentTransfer    = "transfer"     // "transfer <team>" or "transfer <email>"
)

var agentActions = []string{AgentClaim, AgentResolve, AgentResolveCSAT, AgentReturn, AgentReply, AgentNote, AgentTransfer}

// AgentAction splits an agent step into its action and its argument (text, team or email).
func AgentAction(step string) (action, arg string) {
	action, arg, _ = strings.Cut(strings.TrimSpace(step), " ")
	return action, strings.TrimSpace(arg)
}

var statuses = []string{"bot", "queued", "agent", "resolved"}

// Lines is one string or a list of strings.
type Lines []string

// UnmarshalYAML accepts a scalar or a sequence of scalars.
func (l *Lines) UnmarshalYAML(n *yaml.Node) error {
	switch n.Kind {
	case yaml.ScalarNode:
		*l = Lines{n.Value}
		return nil
	case yaml.SequenceNode:
		var s []string
		if err := n.Decode(&s); err != nil {
			return err
		}
		*l = s
		return nil
	}
	return fmt.Errorf("line %d: want a string or a list of strings", n.Line)
}

// Duration is a Go duration ("90m") or a number of days ("3d").
type Duration time.Duration

// UnmarshalYAML parses "3d" or a Go duration.
func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	v, err := ParseDuration(n.Value)
	if err != nil {
		return fmt.Errorf("line %d: %w", n.Line, err)
	}
	*d = Duration(v)
	return nil
}

// ParseDuration parses a Go duration or Nd (N days).
func ParseDuration(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	if days, ok := strings.CutSuffix(s, "d"); ok {
		n, err := strconv.ParseFloat(days, 64)
		if err != nil || n <= 0 {
			return 0, fmt.Errorf("wait %q: want a positive number of days like 3d, or a duration like 90m", s)
		}
		return time.Duration(n * float64(24*time.Hour)), nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d <= 0 {
		return 0, fmt.Errorf("wait %q: want a positive duration like 90m, or days like 3d", s)
	}
	return d, nil
}

// ParseFile reads and checks one script.
func ParseFile(path string) (*Script, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read script: %w", err)
	}
	return Parse(filepath.Base(path), data)
}

// Parse decodes and checks a script; errors name the file, the step and the field.
func Parse(file string, data []byte) (*Script, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	if len(doc.Content) == 0 {
		return nil, fmt.Errorf("%s: empty script", file)
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true) // a misspelt field is an error, not a silently skipped check
	var s Script
	if err := dec.Decode(&s); err != nil {
		return nil, fmt.Errorf("%s: %w", file, cleanYAMLError(err, fieldLines(&doc)))
	}
	s.File = file
	// Step lines, for messages.
	if root := doc.Content[0]; root.Kind == yaml.MappingNode {
		for i := 0; i+1 < len(root.Content); i += 2 {
			if root.Content[i].Value == "steps" && root.Content[i+1].Kind == yaml.SequenceNode {
				for j, n := range root.Content[i+1].Content {
					if j < len(s.Steps) {
						s.Steps[j].Line = n.Line
					}
				}
			}
		}
	}
	if err := s.validate(); err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	return &s, nil
}

// cleanYAMLError names the field of each type error ("line 4: cannot unmarshal ... (field
// replies)"), since yaml only gives the line.
func cleanYAMLError(err error, fields map[int]string) error {
	var te *yaml.TypeError
	if !errors.As(err, &te) {
		return err
	}
	msgs := make([]string, len(te.Errors))
	for i, m := range te.Errors {
		m = strings.Replace(m, "in type convtest.", "in ", 1)
		var line int
		if _, err := fmt.Sscanf(m, "line %d:", &line); err == nil && !strings.Contains(m, "not found in") {
			if f, ok := fields[line]; ok {
				m += " (field " + f + ")"
			}
		}
		msgs[i] = m
	}
	return errors.New(strings.Join(msgs, "; "))
}

// fieldLines maps each line that holds a mapping key to the key's dotted path.
func fieldLines(doc *yaml.Node) map[int]string {
	out := map[int]string{}
	var walk func(n *yaml.Node, path string)
	walk = func(n *yaml.Node, path string) {
		switch n.Kind {
		case yaml.DocumentNode, yaml.SequenceNode:
			for _, c := range n.Content {
				walk(c, path)
			}
		case yaml.MappingNode:
			for i := 0; i+1 < len(n.Content); i += 2 {
				k, v := n.Content[i], n.Content[i+1]
				p := k.Value
				if path != "" {
					p = path + "." + k.Value
				}
				out[v.Line] = p
				walk(v, p)
			}
		}
	}
	walk(doc, "")
	return out
}

func (s *Script) validate() error {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	if strings.TrimSpace(s.Name) == "" {
		bad("name: required")
	}
	if len(s.Steps) == 0 {
		bad("steps: at least one step is required")
	}
	for k := range s.Env {
		if !strings.HasPrefix(k, "BATON_") {
			bad("env.%s: only BATON_* settings can be set", k)
		}
	}
	for i, d := range s.Setup.DetailTypes {
		if err := d.Validate(); err != nil {
			bad("setup.detail_types[%d] (%s): %v", i, d.Name, err)
		}
	}
	for i, in := range s.Setup.Intents {
		if err := in.Validate(); err != nil {
			bad("setup.intents[%d] (%s): %v", i, in.Name, err)
		}
	}
	if s.Start != nil {
		if _, err := s.Start.Next(time.Now()); err != nil {
			bad("start: %v", err)
		}
	}
	for i, tm := range s.Setup.Teams {
		if strings.TrimSpace(tm.Name) == "" {
			bad("setup.teams[%d]: name is required", i)
		}
	}
	for i, a := range s.Setup.Agents {
		if a.Email == "" || a.Team == "" {
			bad("setup.agents[%d]: email and team are required", i)
		}
		if a.Presence != "" && !baton.Presence(a.Presence).Valid() {
			bad("setup.agents[%d]: presence must be online, away or offline", i)
		}
	}
	for i, a := range s.Setup.Articles {
		if a.ExternalKey == "" || a.Title == "" || a.Body == "" {
			bad("setup.articles[%d]: external_key, title and body are required", i)
		}
	}
	said := false
	for i, st := range s.Steps {
		where := fmt.Sprintf("steps[%d] (step %d, line %d)", i, i+1, st.Line)
		n := 0
		if len(st.Say) > 0 {
			n++
			for _, l := range st.Say {
				if strings.TrimSpace(l) == "" {
					bad("%s: say: empty message", where)
				}
			}
		}
		if st.Wait != 0 {
			n++
		}
		if st.Agent != "" {
			n++
			action, arg := AgentAction(st.Agent)
			switch {
			case !slices.Contains(agentActions, action):
				bad("%s: agent: %q is not one of %s", where, action, strings.Join(agentActions, ", "))
			case arg == "" && (action == AgentReply || action == AgentNote || action == AgentTransfer):
				bad("%s: agent: %s needs %s", where, action, map[string]string{AgentReply: "a text", AgentNote: "a text", AgentTransfer: "a team or an agent's email"}[action])
			case arg != "" && action != AgentReply && action != AgentNote && action != AgentTransfer && !strings.Contains(arg, "@"):
				bad("%s: agent: %s takes only an agent's email, got %q", where, action, arg)
			}
			if !said {
				bad("%s: agent: the customer has not said anything yet, so there is no conversation", where)
			}
		}
		if n != 1 {
			bad("%s: want exactly one of say, wait or agent", where)
		}
		said = said || len(st.Say) > 0
		if e := st.Expect; e != nil {
			if e.Status != "" && !slices.Contains(statuses, e.Status) {
				bad("%s: expect.status: %q is not bot, queued, agent or resolved", where, e.Status)
			}
			if e.Replies != nil && *e.Replies < 0 {
				bad("%s: expect.replies: must be 0 or more", where)
			}
			if e.NoCitations && len(e.Cites) > 0 {
				bad("%s: expect: cites and no_citations contradict each other", where)
			}
			if e.Intent != "" && len(st.Say) == 0 {
				bad("%s: expect.intent: only a say step has a customer message to classify", where)
			}
		}
	}
	return errors.Join(errs...)
}

// Load parses every *.yaml and *.yml file of dir, sorted by name.
func Load(dir string) ([]*Script, error) {
	var files []string
	for _, pat := range []string{"*.yaml", "*.yml"} {
		m, err := filepath.Glob(filepath.Join(dir, pat))
		if err != nil {
			return nil, err
		}
		files = append(files, m...)
	}
	slices.Sort(files)
	if len(files) == 0 {
		return nil, fmt.Errorf("no *.yaml scripts in %s", dir)
	}
	var out []*Script
	var errs []error
	for _, f := range files {
		s, err := ParseFile(f)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		out = append(out, s)
	}
	return out, errors.Join(errs...)
}
