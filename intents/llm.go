package intents

import (
	"bytes"
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/batonhq/baton/intents/sentiment"
)

// ErrLLMOutput marks LLM output that cannot be used; the caller keeps the local result.
var ErrLLMOutput = errors.New("unusable LLM output")

// Result is the validated understanding an LLM returned for one message.
type Result struct {
	Intent     string            `json:"intent"`
	Score      float64           `json:"score"`
	OutOfScope bool              `json:"out_of_scope"`
	Top        []Scored          `json:"top,omitempty"`
	Details    []Detail          `json:"details"`
	Sentiment  *sentiment.Result `json:"sentiment,omitempty"`
	Language   string            `json:"language,omitempty"`
}

// llmOutput is the JSON the LLM is asked for. Details may come as a list of {type, value} or
// as an object {type: value}.
type llmOutput struct {
	Intent     *string         `json:"intent"`
	Score      *float64        `json:"score"`
	Confidence *float64        `json:"confidence"`
	OutOfScope bool            `json:"out_of_scope"`
	Top        []Scored        `json:"top"`
	Details    json.RawMessage `json:"details"`
	Sentiment  llmSentiment    `json:"sentiment"`
	Language   string          `json:"language"`
}

// llmSentiment accepts a bare number (what the classify prompt asks for) or {score, label}.
type llmSentiment struct {
	Score *float64 `json:"score"`
	Label string   `json:"label"`
}

func (s *llmSentiment) UnmarshalJSON(b []byte) error {
	var f float64
	if err := json.Unmarshal(b, &f); err == nil {
		s.Score = &f
		return nil
	}
	type plain llmSentiment
	return json.Unmarshal(b, (*plain)(s))
}

// ParseLLM validates an LLM's structured answer against the known intents: the intent must be
// one of them (or out of scope), scores are clamped to [0, 1] (sentiment to [-1, 1]), and each
// detail is checked by the same validators as local extraction (invalid ones are kept with
// Valid false). Malformed JSON, a missing or unknown intent return an error wrapping
// ErrLLMOutput, so the caller uses the local result.
func ParseLLM(raw []byte, known []Intent) (Result, error) {
	body := stripFences(raw)
	var out llmOutput
	dec := json.NewDecoder(bytes.NewReader(body))
	if err := dec.Decode(&out); err != nil {
		return Result{}, fmt.Errorf("%w: decode JSON: %v", ErrLLMOutput, err)
	}
	names := map[string]Intent{}
	for _, in := range known {
		names[in.Name] = in
	}
	var res Result
	switch {
	case out.Intent == nil:
		return Result{}, fmt.Errorf("%w: no intent", ErrLLMOutput)
	case *out.Intent == OutOfScope || *out.Intent == "oos" || *out.Intent == "none" || (out.OutOfScope && *out.Intent == ""):
		res.Intent, res.OutOfScope = OutOfScope, true
	default:
		name := strings.TrimSpace(*out.Intent)
		if _, ok := names[name]; !ok {
			return Result{}, fmt.Errorf("%w: unknown intent %q", ErrLLMOutput, name)
		}
		res.Intent, res.OutOfScope = name, out.OutOfScope
		if out.OutOfScope {
			res.Intent = OutOfScope
		}
	}
	score := out.Score
	if score == nil {
		score = out.Confidence
	}
	if score != nil {
		res.Score = clamp01(*score)
	} else if !res.OutOfScope {
		res.Score = 1 // a plain answer without a score is the LLM's single choice
	}
	for _, s := range out.Top {
		if _, ok := names[s.Intent]; ok {
			res.Top = append(res.Top, Scored{Intent: s.Intent, Score: clamp01(s.Score)})
		}
	}
	details, err := parseLLMDetails(out.Details)
	if err != nil {
		return Result{}, err
	}
	res.Details = details
	if out.Sentiment.Score != nil {
		s := *out.Sentiment.Score
		if math.IsNaN(s) {
			s = 0
		}
		s = max(-1, min(1, s))
		res.Sentiment = &sentiment.Result{Score: s, Label: sentiment.LabelFor(s)}
	}
	if l := strings.ToLower(strings.TrimSpace(out.Language)); len(l) == 2 || l == LanguageUnknown {
		res.Language = l
	}
	return res, nil
}

func parseLLMDetails(raw json.RawMessage) ([]Detail, error) {
	out := []Detail{}
	if len(raw) == 0 || string(raw) == "null" {
		return out, nil
	}
	type kv struct{ Type, Value string }
	var pairs []kv
	var list []struct {
		Type  string          `json:"type"`
		Value json.RawMessage `json:"value"`
	}
	var obj map[string]json.RawMessage
	switch {
	case json.Unmarshal(raw, &list) == nil:
		for _, d := range list {
			pairs = append(pairs, kv{d.Type, jsonScalar(d.Value)})
		}
	case json.Unmarshal(raw, &obj) == nil:
		for t, v := range obj {
			pairs = append(pairs, kv{t, jsonScalar(v)})
		}
	default:
		return nil, fmt.Errorf("%w: details must be a list or an object", ErrLLMOutput)
	}
	for _, p := range pairs {
		t := strings.TrimSpace(p.Type)
		if !KnownDetail(t) || strings.TrimSpace(p.Value) == "" {
			continue // an invented detail type or an empty value carries nothing
		}
		d, _ := Validate(t, p.Value, ExtractContext{})
		d.Type = t
		if d.Text == "" {
			d.Text = p.Value
		}
		// Offsets refer to the LLM's value, not the message.
		d.Start, d.End = 0, 0
		out = append(out, d)
	}
	// Map iteration order is random; keep the result stable.
	sortDetails(out)
	return out, nil
}

func sortDetails(ds []Detail) {
	slices.SortStableFunc(ds, func(a, b Detail) int {
		return cmp.Or(cmp.Compare(a.Type, b.Type), cmp.Compare(a.Value, b.Value), cmp.Compare(a.Text, b.Text))
	})
}

func jsonScalar(v json.RawMessage) string {
	var s string
	if json.Unmarshal(v, &s) == nil {
		return s
	}
	var f json.Number
	if json.Unmarshal(v, &f) == nil {
		return f.String()
	}
	return ""
}

// stripFences removes a ```json … ``` wrapper that chat models like to add.
func stripFences(raw []byte) []byte {
	b := bytes.TrimSpace(raw)
	if bytes.HasPrefix(b, []byte("```")) {
		b = b[3:]
		if i := bytes.IndexByte(b, '\n'); i >= 0 {
			b = b[i+1:]
		}
		b = bytes.TrimSuffix(bytes.TrimSpace(b), []byte("```"))
	}
	return bytes.TrimSpace(b)
}

func clamp01(x float64) float64 {
	if math.IsNaN(x) {
		return 0
	}
	return max(0, min(1, x))
}
