package llm

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/batonhq/baton/bot"
	"github.com/batonhq/baton/prompts"
)

// TurnComposer is bot.Composer over an OpenAI-compatible server: one structured chat
// completion per turn, rendered from the compose_system and compose_user templates.
type TurnComposer struct {
	Client  *Client
	Prompts prompts.Source
	Brand   prompts.BrandInput
	// MaxTokens caps the reply (default 700: a chat message and a summary).
	MaxTokens int
}

var _ bot.Composer = (*TurnComposer)(nil)

// composeReply is the JSON the model returns.
type composeReply struct {
	Reply   string        `json:"reply"`
	Action  string        `json:"action"`
	Cited   []string      `json:"cited_chunk_ids"`
	Intent  *string       `json:"intent"`
	Details []detailReply `json:"details"`
	Summary *summaryReply `json:"summary"`
}

type detailReply struct {
	Type  string `json:"type"`
	Value string `json:"value"`
}

type summaryReply struct {
	Issue     string `json:"issue"`
	Tried     string `json:"tried"`
	Details   string `json:"details"`
	Sentiment string `json:"sentiment"`
	NextStep  string `json:"next_step"`
}

// composeSchema is the reply's JSON schema for one turn: the action is an enum of the actions
// the policy allows, so even the decoder refuses anything else.
func composeSchema(allowed []string) json.RawMessage {
	enum, _ := json.Marshal(allowed)
	str := `{"type":"string"}`
	summary := `{"type":"object","additionalProperties":false,"required":["issue","tried","details","sentiment","next_step"],` +
		`"properties":{"issue":` + str + `,"tried":` + str + `,"details":` + str + `,"sentiment":` + str + `,"next_step":` + str + `}}`
	return json.RawMessage(`{"type":"object","additionalProperties":false,` +
		`"required":["reply","action","cited_chunk_ids","intent","details","summary"],"properties":{` +
		`"reply":` + str + `,` +
		`"action":{"type":"string","enum":` + string(enum) + `},` +
		`"cited_chunk_ids":{"type":"array","items":` + str + `},` +
		`"intent":{"type":["string","null"]},` +
		`"details":{"type":"array","items":{"type":"object","additionalProperties":false,"required":["type","value"],` +
		`"properties":{"type":` + str + `,"value":` + str + `}}},` +
		`"summary":{"anyOf":[{"type":"null"},` + summary + `]}}}`)
}

// Compose implements bot.Composer. Errors wrap ErrRateLimited, ErrUnavailable, ErrBadRequest
// or ErrMalformed; the token counts cover every request made.
func (t *TurnComposer) Compose(ctx context.Context, req bot.ComposeRequest) (bot.Composition, error) {
	set := t.Prompts.Current()
	in := prompts.ComposeInput{
		Brand: t.Brand, Language: req.Language, Stage: req.Stage, OpenIntent: req.OpenIntent, Awaiting: req.Awaiting,
		Summary: req.Summary, Messages: req.Messages, Action: req.Action, Allowed: req.Allowed, Draft: req.Draft,
		DraftCites: req.DraftCites, WantSummary: req.WantSummary,
	}
	for label, v := range req.Details {
		in.Details = append(in.Details, prompts.DetailInput{Label: label, Value: v})
	}
	slices.SortFunc(in.Details, func(a, b prompts.DetailInput) int { return strings.Compare(a.Label, b.Label) })
	for _, p := range req.Passages {
		in.Chunks = append(in.Chunks, prompts.ChunkInput{ID: p.ID, Title: p.Title, Text: p.Text})
	}
	for _, l := range req.History {
		in.History = append(in.History, prompts.LineInput{Author: l.Author, Text: l.Text})
	}
	out := bot.Composition{Model: t.Client.ChatModel(),
		PromptVersion: set.Version(prompts.ComposeSystem) + "/" + set.Version(prompts.ComposeUser)}
	system, err := set.Render(prompts.ComposeSystem, in)
	if err != nil {
		return out, fmt.Errorf("compose turn: %w", err)
	}
	user, err := set.Render(prompts.ComposeUser, in)
	if err != nil {
		return out, fmt.Errorf("compose turn: %w", err)
	}
	maxTokens := t.MaxTokens
	if maxTokens <= 0 {
		maxTokens = 700
	}
	var reply composeReply
	schema := JSONSchema{Name: "turn_reply", Schema: composeSchema(req.Allowed), Validate: func(any) error {
		switch {
		case strings.TrimSpace(reply.Reply) == "":
			return errors.New(`"reply" is empty`)
		case reply.Action == "":
			return errors.New(`"action" is missing`)
		}
		return nil
	}}
	u, err := t.Client.ChatJSON(ctx, ChatRequest{Messages: []Message{
		{Role: RoleSystem, Content: system}, {Role: RoleUser, Content: user}}, MaxTokens: maxTokens}, schema, &reply)
	out.PromptTokens, out.CompletionTokens = u.PromptTokens, u.CompletionTokens
	if err != nil {
		return out, fmt.Errorf("compose turn: %w", err)
	}
	out.Reply, out.Action, out.Cited = reply.Reply, reply.Action, reply.Cited
	if reply.Intent != nil {
		out.Intent = *reply.Intent
	}
	for _, d := range reply.Details {
		if d.Type != "" && d.Value != "" {
			if out.Details == nil {
				out.Details = map[string]string{}
			}
			out.Details[d.Type] = d.Value
		}
	}
	if s := reply.Summary; s != nil {
		out.Summary = &bot.ModelSummary{Issue: s.Issue, Tried: s.Tried, Details: s.Details, Sentiment: s.Sentiment, NextStep: s.NextStep}
	}
	return out, nil
}
