package app

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"time"

	"github.com/batonhq/baton/bot"
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

// kbAnswerer is bot.Answerer over the knowledge base. With extractive set (the turn's own
// model call words the reply) answers never call the LLM, and carry the retrieved passages.
type kbAnswerer struct {
	kb         *knowledge.Service
	extractive bool
}

func (k kbAnswerer) Answer(ctx context.Context, question, language string) (bot.Answer, error) {
	return k.answer(ctx, question, knowledge.AnswerOptions{Language: language, Extractive: k.extractive})
}

func (k kbAnswerer) AnswerFrom(ctx context.Context, question, language string, articleID int64) (bot.Answer, error) {
	return k.answer(ctx, question, knowledge.AnswerOptions{Language: language, Extractive: k.extractive,
		MinConfidence: knowledge.ClarifyConfidence, Filter: knowledge.SearchFilter{Articles: []int64{articleID}}})
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
	if k.extractive && !a.NoAnswer {
		for _, h := range a.Chunks {
			ans.Passages = append(ans.Passages, bot.Passage{Citation: h.Citation(), Text: h.Text})
		}
		// The extract may come from a neighbouring chunk: the model must see what is cited.
		for _, c := range a.Citations {
			if !slices.ContainsFunc(ans.Passages, func(p bot.Passage) bool { return p.Citation.ChunkID == c.ChunkID }) {
				ans.Passages = append(ans.Passages, bot.Passage{Citation: c, Text: a.Text})
			}
		}
	}
	return ans, nil
}

func (k kbAnswerer) RecordGap(ctx context.Context, question string, conversationID, messageID int64, reason string) error {
	return k.kb.RecordGap(ctx, question, conversationID, messageID, reason)
}

// Topics names what the published articles cover (bot.TopicLister).
func (k kbAnswerer) Topics(ctx context.Context, n int) ([]string, error) { return k.kb.Topics(ctx, n) }
