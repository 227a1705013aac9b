package intents

import (
	"fmt"
	"regexp"
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
}

// NewModel trains the first classifier. With opts.OutOfScope empty it uses
// DefaultOutOfScope() to choose the out-of-scope threshold.
func NewModel(list []Intent, opts Options) (*Model, error) {
	if len(opts.OutOfScope) == 0 && len(opts.Dev) == 0 {
		opts.OutOfScope = DefaultOutOfScope()
	}
	m := &Model{opts: opts}
	if err := m.Retrain(list); err != nil {
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

// Retrain validates list, trains a classifier on it and makes it current. On error the
// previous classifier stays in place.
func (m *Model) Retrain(list []Intent) error {
	if err := ValidateAll(list); err != nil {
		return fmt.Errorf("retrain intents: %w", err)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	clf, err := Train(list, m.opts)
	if err != nil {
		return fmt.Errorf("retrain intents: %w", err)
	}
	s := &snapshot{clf: clf, intents: append([]Intent(nil), list...), byName: map[string]Intent{}, patterns: map[string]*regexp.Regexp{}}
	for _, in := range list {
		s.byName[in.Name] = in
		if re := in.OrderRegexp(); re != nil {
			s.patterns[in.Name] = re
		}
	}
	m.cur.Store(s)
	return nil
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
func (m *Model) Understand(text string, ctx ExtractContext) Analysis {
	s := m.cur.Load()
	pred := s.clf.Classify(text)
	if ctx.OrderPattern == nil {
		ctx.OrderPattern = s.patterns[pred.Intent]
	}
	return analysis(pred, text, ctx)
}

// Understand runs every local analysis on one message with a given classifier.
func Understand(clf *Classifier, text string, ctx ExtractContext) Analysis {
	return analysis(clf.Classify(text), text, ctx)
}

func analysis(pred Prediction, text string, ctx ExtractContext) Analysis {
	details := Extract(text, ctx)
	if details == nil {
		details = []Detail{}
	}
	return Analysis{
		Intent: pred.Intent, Score: pred.Score, OutOfScope: pred.OutOfScope, Top: pred.Top,
		Details: details, Sentiment: sentiment.Score(text), Language: DetectLanguage(text),
	}
}
