package intents

import (
	"fmt"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/batonhq/baton/intents/sentiment"
)

// Model holds the current classifier and the intents it was trained on. Retrain builds a new
// classifier from changed intents and swaps it in atomically: messages being classified keep
// the snapshot they loaded, and no restart is needed.
type Model struct {
	opts Options
	mu   sync.Mutex // serialises retrains; readers never take it
	cur  atomic.Pointer[snapshot]
}

type snapshot struct {
	clf      *Classifier
	intents  []Intent
	byName   map[string]Intent
	patterns map[string]*regexp.Regexp
	exact    map[string]string // exactKey of an example -> its intent
	custom   []DetailType      // admin-defined detail types, by name
}

// NewModel trains the first classifier. With opts.OutOfScope empty it uses
// DefaultOutOfScope() to choose the out-of-scope threshold.
func NewModel(list []Intent, opts Options) (*Model, error) {
	return NewModelWith(list, nil, opts)
}

// NewModelWith is NewModel with admin-defined detail types, which the intents may require.
func NewModelWith(list []Intent, custom []DetailType, opts Options) (*Model, error) {
	if len(opts.OutOfScope) == 0 && len(opts.Dev) == 0 {
		opts.OutOfScope = DefaultOutOfScope()
	}
	m := &Model{opts: opts}
	if err := m.RetrainWith(list, custom); err != nil {
		return nil, err
	}
	return m, nil
}

// Load returns the current classifier.
func (m *Model) Load() *Classifier { return m.cur.Load().clf }

// Intents returns the intents of the current classifier.
func (m *Model) Intents() []Intent { return append([]Intent(nil), m.cur.Load().intents...) }

// Intent returns the current definition of the named intent.
func (m *Model) Intent(name string) (Intent, bool) {
	in, ok := m.cur.Load().byName[name]
	return in, ok
}

// OrderPattern returns the order-number pattern of the named intent, or nil for the default;
// callers pass the conversation's open intent's pattern in ExtractContext.OrderPattern.
func (m *Model) OrderPattern(intent string) *regexp.Regexp { return m.cur.Load().patterns[intent] }

// DetailType returns a built-in or admin-defined detail type.
func (m *Model) DetailType(name string) (DetailType, bool) {
	for _, d := range builtinTypes {
		if d.Name == name {
			return d, true
		}
	}
	for _, d := range m.cur.Load().custom {
		if d.Name == name {
			return d, true
		}
	}
	return DetailType{}, false
}

// DetailTypes returns the built-in detail types, then the admin-defined ones by name.
func (m *Model) DetailTypes() []DetailType {
	return append(BuiltinDetailTypes(), m.cur.Load().custom...)
}

// CustomDetailTypes returns the admin-defined detail types, by name.
func (m *Model) CustomDetailTypes() []DetailType { return slices.Clone(m.cur.Load().custom) }

// Retrain validates list, trains a classifier on it and makes it current, keeping the current
// detail types. On error the previous classifier stays in place.
func (m *Model) Retrain(list []Intent) error {
	var custom []DetailType
	if s := m.cur.Load(); s != nil {
		custom = s.custom
	}
	return m.RetrainWith(list, custom)
}

// RetrainWith is Retrain with a new set of admin-defined detail types. When only the types
// changed, the classifier is kept rather than trained again.
func (m *Model) RetrainWith(list []Intent, custom []DetailType) error {
	if err := ValidateDetailTypes(custom); err != nil {
		return fmt.Errorf("retrain intents: %w", err)
	}
	if err := ValidateAll(list, custom...); err != nil {
		return fmt.Errorf("retrain intents: %w", err)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	var clf *Classifier
	if prev := m.cur.Load(); prev != nil && reflect.DeepEqual(prev.intents, list) {
		clf = prev.clf
	} else {
		var err error
		if clf, err = Train(list, m.opts); err != nil {
			return fmt.Errorf("retrain intents: %w", err)
		}
	}
	s := &snapshot{clf: clf, intents: append([]Intent(nil), list...), byName: map[string]Intent{}, patterns: map[string]*regexp.Regexp{},
		exact: exactIndex(list), custom: slices.Clone(custom)}
	slices.SortFunc(s.custom, func(a, b DetailType) int { return strings.Compare(a.Name, b.Name) })
	for _, in := range list {
		s.byName[in.Name] = in
		if re := in.OrderRegexp(); re != nil {
			s.patterns[in.Name] = re
		}
	}
	m.cur.Store(s)
	return nil
}

// adopt makes other's classifier and detail types current, without training again.
func (m *Model) adopt(other *Model) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.cur.Store(other.cur.Load())
}

// Classify is the current classifier's prediction, except that a message that is exactly one
// of an intent's examples ("ok thanks", "👍", "agent please") is that intent: a short
// acknowledgement must never reach the knowledge base because its few features scored low.
func (m *Model) Classify(text string) Prediction {
	s := m.cur.Load()
	return s.classify(text)
}

func (s *snapshot) classify(text string) Prediction {
	pred := s.clf.Classify(text)
	name, ok := s.exact[exactKey(text)]
	if !ok || (name == pred.Intent && !pred.OutOfScope) {
		return pred
	}
	top := []Scored{{Intent: name, Score: 1}}
	for _, sc := range pred.Top {
		if sc.Intent != name && len(top) < TopN {
			top = append(top, sc)
		}
	}
	return Prediction{Intent: name, Score: 1, Top: top}
}

// Analysis is everything understood about one inbound message, stored on the message's meta
// and in the turn trace.
type Analysis struct {
	Intent     string           `json:"intent"`
	Score      float64          `json:"score"`
	OutOfScope bool             `json:"out_of_scope"`
	Top        []Scored         `json:"top"`
	Details    []Detail         `json:"details"`
	Sentiment  sentiment.Result `json:"sentiment"`
	Language   string           `json:"language"`
}

// Understand classifies text with the current classifier and extracts its details (with the
// predicted intent's order pattern unless ctx sets one), sentiment and language.
// The admin-defined detail types are used unless ctx sets Types; with ctx.Expect nil, the
// predicted intent's required details are expected.
func (m *Model) Understand(text string, ctx ExtractContext) Analysis {
	s := m.cur.Load()
	pred := s.classify(text)
	if ctx.OrderPattern == nil {
		ctx.OrderPattern = s.patterns[pred.Intent]
	}
	if ctx.Types == nil {
		ctx.Types = s.custom
	}
	if ctx.Expect == nil {
		ctx.Expect = s.byName[pred.Intent].RequiredDetails
	}
	return analysis(pred, text, ctx)
}

// Understand runs every local analysis on one message with a given classifier.
func Understand(clf *Classifier, text string, ctx ExtractContext) Analysis {
	return analysis(clf.Classify(text), text, ctx)
}

func analysis(pred Prediction, text string, ctx ExtractContext) Analysis {
	pred = notInPerson(pred, text)
	details := Extract(text, ctx)
	if details == nil {
		details = []Detail{}
	}
	return Analysis{
		Intent: pred.Intent, Score: pred.Score, OutOfScope: pred.OutOfScope, Top: pred.Top,
		Details: details, Sentiment: sentiment.Score(text), Language: DetectLanguage(text),
	}
}

// inPerson is the idiom "in person" ("can I try shoes on in person?"); personCue is what a
// request for a person says besides it.
var (
	inPerson  = regexp.MustCompile(`(?i)\bin[ -]person\b`)
	personCue = regexp.MustCompile(`(?i)\b(human|agent|someone|somebody|anyone|anybody|real person|a person|representative|operator|staff|manager|supervisor|speak|talk|chat with|call me|phone me)\b`)
)

// notInPerson keeps "…in person?" from being a request for a person: the next candidate
// intent is taken instead, or none.
func notInPerson(pred Prediction, text string) Prediction {
	if pred.Intent != "talk_to_human" || !inPerson.MatchString(text) || personCue.MatchString(inPerson.ReplaceAllString(text, "")) {
		return pred
	}
	for _, c := range pred.Top {
		if c.Intent != "talk_to_human" {
			pred.Intent, pred.Score = c.Intent, c.Score
			return pred
		}
	}
	pred.Intent, pred.Score, pred.OutOfScope = "", 0, true
	return pred
}
