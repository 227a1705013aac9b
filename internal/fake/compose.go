package fake

import (
	"encoding/json"
	"math/rand/v2"
	"net/http"
	"regexp"
	"strings"

	"github.com/sashabaranov/go-openai"
)

// Block is one "<<<DATA id=…>>> … <<<END DATA>>>" block of a prompt.
type Block struct {
	ID   string
	Text string
}

var blockRE = regexp.MustCompile(`(?s)<<<DATA id=([^>]*)>>>\n(.*?)\n<<<END DATA>>>`)

// Blocks returns the data blocks of every message of a chat request, in order.
func Blocks(req openai.ChatCompletionRequest) []Block {
	var out []Block
	for _, m := range req.Messages {
		for _, g := range blockRE.FindAllStringSubmatch(m.Content, -1) {
			out = append(out, Block{ID: g[1], Text: g[2]})
		}
	}
	return out
}

// Prompt returns every message of a chat request, joined.
func Prompt(req openai.ChatCompletionRequest) string {
	var b strings.Builder
	for _, m := range req.Messages {
		b.WriteString(m.Content)
		b.WriteString("\n")
	}
	return b.String()
}

// Turn is what the fake reads of Baton's turn call (the compose_user template): the draft,
// the decided action and the ids the draft cites.
type Turn struct {
	Draft        string
	Action       string
	Allowed      []string
	Cites        []string
	WantsSummary bool
	Customer     []string // the new customer messages
}

var (
	decidedRE = regexp.MustCompile(`(?m)^Decided action: (\S+)$`)
	allowedRE = regexp.MustCompile(`(?m)^Allowed actions: (.*)$`)
	citesRE   = regexp.MustCompile(`(?m)^Draft cites: (.*)$`)
)

// ReadTurn parses a turn call; ok is false for any other request.
func ReadTurn(req openai.ChatCompletionRequest) (Turn, bool) {
	p := Prompt(req)
	m := decidedRE.FindStringSubmatch(p)
	if m == nil {
		return Turn{}, false
	}
	t := Turn{Action: m[1], WantsSummary: strings.Contains(p, "\nSummary required: yes")}
	if a := allowedRE.FindStringSubmatch(p); a != nil {
		t.Allowed = strings.Split(a[1], ", ")
	}
	if c := citesRE.FindStringSubmatch(p); c != nil && c[1] != "(none)" {
		t.Cites = strings.Split(c[1], ", ")
	}
	for _, b := range Blocks(req) {
		if b.ID == "draft" {
			t.Draft = b.Text
		}
	}
	// The new messages are the blocks between their heading and the decided action.
	if i := strings.LastIndex(p, "New customer messages:"); i >= 0 {
		section := p[i:]
		if j := strings.Index(section, "Decided action:"); j >= 0 {
			section = section[:j]
		}
		for _, g := range blockRE.FindAllStringSubmatch(section, -1) {
			if g[1] == "customer" {
				t.Customer = append(t.Customer, g[2])
			}
		}
	}
	return t, true
}

// TurnJSON is the model's answer to a turn call.
type TurnJSON struct {
	Reply   string              `json:"reply"`
	Action  string              `json:"action"`
	Cited   []string            `json:"cited_chunk_ids"`
	Intent  *string             `json:"intent"`
	Details []map[string]string `json:"details"`
	Summary map[string]string   `json:"summary"`
}

// Echo is the answer a well-behaved model gives to a turn call: the draft as it is, the
// decided action and the draft's citations, and a summary when one is due. Other requests
// get "ok".
func Echo(req openai.ChatCompletionRequest) Response {
	t, ok := ReadTurn(req)
	if !ok {
		return Response{Content: "ok"}
	}
	out := TurnJSON{Reply: t.Draft, Action: t.Action, Cited: t.Cites, Details: []map[string]string{}}
	if out.Cited == nil {
		out.Cited = []string{}
	}
	if t.WantsSummary {
		issue := strings.Join(t.Customer, " ")
		if issue == "" {
			issue = "(none)"
		}
		out.Summary = map[string]string{"issue": issue, "tried": "the bot replied: " + t.Draft,
			"details": "", "sentiment": "neutral", "next_step": t.Action}
	}
	return Response{Content: Marshal(out)}
}

// Marshal encodes v as JSON for a scripted Content.
func Marshal(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return string(b)
}

// FailChats makes a share of the chat completions (rate, 0..1) fail with a 500 or a 429
// (with Retry-After 0), chosen by a generator seeded with seed; the failed requests are
// recorded like the others. 0 stops the failures.
func (f *OpenAI) FailChats(rate float64, seed uint64) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.failRate, f.failRand = rate, rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
}

// Failed returns how many chat completions FailChats failed.
func (f *OpenAI) Failed() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.failed
}

// injectFailure reports the failure to answer a chat completion with, if one is due.
func (f *OpenAI) injectFailure() (Response, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.failRate <= 0 || f.failRand.Float64() >= f.failRate {
		return Response{}, false
	}
	f.failed++
	if f.failRand.IntN(2) == 0 {
		return Response{Status: http.StatusTooManyRequests, RetryAfter: "0"}, true
	}
	return Response{Status: http.StatusInternalServerError}, true
}
