package app

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/batonhq/baton/bot"
	"github.com/batonhq/baton/intents"
	"github.com/batonhq/baton/internal/config"
	"github.com/batonhq/baton/internal/llm"
	"github.com/batonhq/baton/internal/postgres"
	"github.com/batonhq/baton/knowledge"
	"github.com/batonhq/baton/prompts"
)

// Embedder is the configured embedding model: OpenAI-compatible embeddings when an LLM
// endpoint is configured, else the local embedder, both at BATON_EMBEDDING_DIM.
func Embedder(cfg *config.Config, client *llm.Client) (knowledge.Embedder, error) {
	if client != nil {
		return client.Embedder(), nil
	}
	e, err := llm.NewLocalEmbedder(cfg.EmbeddingDim)
	if err != nil {
		return nil, fmt.Errorf("BATON_EMBEDDING_DIM: %w", err)
	}
	return e, nil
}

// queryEmbedder gives the knowledge base embedders for older models it can still compute
// here (the local ones), so search keeps its vectors while a new model is built.
func queryEmbedder(model string, dim int) knowledge.Embedder {
	e, err := llm.NewLocalEmbedder(dim)
	if err != nil || e.Model() != model {
		return nil
	}
	return e
}

// kbCompleter adapts *llm.Client to knowledge.Completer.
type kbCompleter struct{ c *llm.Client }

func (k kbCompleter) CompleteJSON(ctx context.Context, system, user, name string, schema json.RawMessage, out any) (knowledge.Completion, error) {
	u, err := k.c.ChatJSON(ctx, llm.ChatRequest{Messages: []llm.Message{
		{Role: llm.RoleSystem, Content: system}, {Role: llm.RoleUser, Content: user}}, MaxTokens: 600},
		llm.JSONSchema{Name: name, Schema: schema}, out)
	return knowledge.Completion{Model: k.c.ChatModel(), PromptTokens: u.PromptTokens, CompletionTokens: u.CompletionTokens}, err
}

// NewKnowledge builds the knowledge base for a configuration. client is nil without an LLM
// endpoint; enq is nil where no workers run (the CLI), and then embedding happens inline.
func NewKnowledge(cfg *config.Config, db *postgres.DB, client *llm.Client, enq knowledge.Enqueuer, src prompts.Source, log *slog.Logger) (*knowledge.Service, error) {
	emb, err := Embedder(cfg, client)
	if err != nil {
		return nil, err
	}
	o := knowledge.Options{Embedder: emb, QueryEmbedder: queryEmbedder, Enqueuer: enq, Log: log, Clock: db.Clock,
		HTTPClient: &http.Client{Timeout: 20 * time.Second}, Fetch: knowledge.FetchOptions{AllowHosts: cfg.FetchAllowHosts}, Prompts: src,
		MinConfidence: cfg.AnswerMinConfidence}
	if client != nil {
		o.Completer = kbCompleter{client}
	}
	return knowledge.New(db, o), nil
}

// kbAnswerer is bot.Answerer over the knowledge base.
type kbAnswerer struct{ kb *knowledge.Service }

func (k kbAnswerer) Answer(ctx context.Context, question, language string) (bot.Answer, error) {
	return k.answer(ctx, question, knowledge.AnswerOptions{Language: language})
}

func (k kbAnswerer) AnswerFrom(ctx context.Context, question, language string, articleID int64) (bot.Answer, error) {
	return k.answer(ctx, question, knowledge.AnswerOptions{Language: language, MinConfidence: knowledge.ClarifyConfidence,
		Filter: knowledge.SearchFilter{Articles: []int64{articleID}}})
}

func (k kbAnswerer) answer(ctx context.Context, question string, o knowledge.AnswerOptions) (bot.Answer, error) {
	a, err := k.kb.Answer(ctx, question, o)
	if err != nil {
		return bot.Answer{}, err
	}
	ans := bot.Answer{Text: a.Text, Citations: a.Citations, Confidence: a.Confidence, NoAnswer: a.NoAnswer,
		Reason: a.Reason, Trace: a.Trace}
	if a.NoAnswer && a.Suggest != nil {
		ans.Suggestion, ans.SuggestionArticle = a.Suggest.Title, a.Suggest.ArticleID
	}
	return ans, nil
}

func (k kbAnswerer) RecordGap(ctx context.Context, question string, conversationID, messageID int64, reason string) error {
	return k.kb.RecordGap(ctx, question, conversationID, messageID, reason)
}

// llmUnderstander is bot.Understander over an OpenAI-compatible endpoint.
type llmUnderstander struct {
	client  *llm.Client
	prompts prompts.Source
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
	set := u.prompts.Current()
	system, err := set.Render(prompts.ClassifySystem, in)
	if err != nil {
		return intents.Result{}, err
	}
	user, err := set.Render(prompts.ClassifyUser, in)
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
