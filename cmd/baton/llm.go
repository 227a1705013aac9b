package main

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/batonhq/baton/intents"
	"github.com/batonhq/baton/internal/llm"
	"github.com/batonhq/baton/prompts"
)

// llmUnderstander is bot.Understander over an OpenAI-compatible endpoint.
type llmUnderstander struct {
	client  *llm.Client
	prompts *prompts.Set
}

var classifySchema = json.RawMessage(`{"type":"object","additionalProperties":false,
 "required":["intent","confidence","details","sentiment","language"],
 "properties":{"intent":{"type":"string"},"confidence":{"type":"number"},
  "details":{"type":"object","additionalProperties":{"type":"string"}},
  "sentiment":{"type":"number"},"language":{"type":"string"}}}`)

func (u *llmUnderstander) Understand(ctx context.Context, text, requested string, known []intents.Intent) (intents.Result, error) {
	in := prompts.ClassifyInput{Message: text, RequestedDetail: requested}
	for _, k := range known {
		ex := k.Examples
		if len(ex) > 5 {
			ex = ex[:5]
		}
		in.Intents = append(in.Intents, prompts.IntentInput{Name: k.Name, Description: k.Description, Examples: ex})
	}
	system, err := u.prompts.Render(prompts.ClassifySystem, in)
	if err != nil {
		return intents.Result{}, err
	}
	user, err := u.prompts.Render(prompts.ClassifyUser, in)
	if err != nil {
		return intents.Result{}, err
	}
	var raw json.RawMessage
	_, err = u.client.ChatJSON(ctx, llm.ChatRequest{Messages: []llm.Message{
		{Role: llm.RoleSystem, Content: system}, {Role: llm.RoleUser, Content: user}}, MaxTokens: 300},
		llm.JSONSchema{Name: "classification", Schema: classifySchema}, &raw)
	if err != nil {
		return intents.Result{}, fmt.Errorf("classify with llm: %w", err)
	}
	return intents.ParseLLM(raw, known)
}
