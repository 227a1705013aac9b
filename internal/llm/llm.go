// Package llm adapts go-openai (any OpenAI-compatible server) to what Baton needs: chat and
// structured-JSON calls with per-call deadlines, retries that honour Retry-After, token
// accounting and a capability fallback for servers without json_schema output; plus an offline,
// deterministic LocalEmbedder used when no LLM is configured.
package llm

import (
	"context"
	"log/slog"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/sashabaranov/go-openai"

	"github.com/batonhq/baton"
)

// Defaults applied by New to zero Config fields.
const (
	DefaultTimeout        = 30 * time.Second
	DefaultMaxRetries     = 3
	DefaultChatModel      = "gpt-4o-mini"
	DefaultEmbeddingModel = "text-embedding-3-small"
)

// Config configures a Client. Zero fields take the defaults above.
type Config struct {
	BaseURL        string // e.g. https://api.openai.com/v1 or http://localhost:11434/v1; empty = OpenAI
	APIKey         string
	ChatModel      string
	EmbeddingModel string
	EmbeddingDim   int           // requested vector size (sent as `dimensions`); 0 = the model's own
	Timeout        time.Duration // deadline of each HTTP attempt; default 30s
	MaxRetries     int           // retries after the first attempt; 0 = default 3, negative = none
	Logger         *slog.Logger
}

// Configured reports whether cfg points at an LLM server at all; without one Baton runs offline.
func Configured(cfg Config) bool {
	return cfg.BaseURL != "" || cfg.APIKey != ""
}

// Usage counts tokens as reported by the server.
type Usage struct {
	PromptTokens     int
	CompletionTokens int
	TotalTokens      int
}

// Add returns the sum of u and v.
func (u Usage) Add(v Usage) Usage {
	return Usage{
		PromptTokens:     u.PromptTokens + v.PromptTokens,
		CompletionTokens: u.CompletionTokens + v.CompletionTokens,
		TotalTokens:      u.TotalTokens + v.TotalTokens,
	}
}

// Client talks to an OpenAI-compatible server. Safe for concurrent use.
type Client struct {
	cfg    Config
	api    *openai.Client
	log    *slog.Logger
	clock  baton.Clock
	sleep  func(ctx context.Context, d time.Duration) error
	jitter func(d time.Duration) time.Duration

	baseTransport http.RoundTripper

	// jsonMode is the most capable structured-output mode the server has not rejected yet;
	// it only moves down (see ChatJSON).
	jsonMode atomic.Int32

	promptTokens, completionTokens, totalTokens atomic.Int64
	learnedDim                                  atomic.Int64 // embedding size seen, when EmbeddingDim is 0
}

// Option adjusts a Client; mostly for tests.
type Option func(*Client)

// WithClock sets the clock used to read HTTP-date Retry-After values.
func WithClock(c baton.Clock) Option { return func(cl *Client) { cl.clock = c } }

// WithSleep replaces the wait between retries; it must return ctx's error if ctx ends first.
func WithSleep(fn func(ctx context.Context, d time.Duration) error) Option {
	return func(cl *Client) { cl.sleep = fn }
}

// WithJitter replaces the randomisation of backoff delays (the default picks uniformly in
// [d/2, d]); pass func(d time.Duration) time.Duration { return d } for exact delays.
func WithJitter(fn func(d time.Duration) time.Duration) Option {
	return func(cl *Client) { cl.jitter = fn }
}

// WithTransport sets the base HTTP transport (e.g. a fault-injecting wrapper); the Retry-After
// capture is layered on top of it.
func WithTransport(rt http.RoundTripper) Option {
	return func(cl *Client) { cl.baseTransport = rt }
}

// New builds a Client. It does not contact the server.
func New(cfg Config, opts ...Option) *Client {
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultTimeout
	}
	switch {
	case cfg.MaxRetries == 0:
		cfg.MaxRetries = DefaultMaxRetries
	case cfg.MaxRetries < 0:
		cfg.MaxRetries = 0
	}
	if cfg.ChatModel == "" {
		cfg.ChatModel = DefaultChatModel
	}
	if cfg.EmbeddingModel == "" {
		cfg.EmbeddingModel = DefaultEmbeddingModel
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	c := &Client{
		cfg:    cfg,
		log:    cfg.Logger.With("component", "llm"),
		clock:  baton.SystemClock{},
		sleep:  sleepCtx,
		jitter: equalJitter,
	}
	for _, o := range opts {
		o(c)
	}

	base := c.baseTransport
	if base == nil {
		base = http.DefaultTransport
	}
	oc := openai.DefaultConfig(cfg.APIKey)
	if cfg.BaseURL != "" {
		oc.BaseURL = cfg.BaseURL
	}
	// No client-wide timeout: every call carries its own context deadline instead.
	oc.HTTPClient = &http.Client{Transport: &headerCapture{base: base}}
	c.api = openai.NewClientWithConfig(oc)
	return c
}

// Usage returns the tokens used by all calls of this Client so far.
func (c *Client) Usage() Usage {
	return Usage{
		PromptTokens:     int(c.promptTokens.Load()),
		CompletionTokens: int(c.completionTokens.Load()),
		TotalTokens:      int(c.totalTokens.Load()),
	}
}

// ChatModel returns the chat model name, for traces.
func (c *Client) ChatModel() string { return c.cfg.ChatModel }

func (c *Client) addUsage(u Usage) {
	c.promptTokens.Add(int64(u.PromptTokens))
	c.completionTokens.Add(int64(u.CompletionTokens))
	c.totalTokens.Add(int64(u.TotalTokens))
}

func fromOpenAIUsage(u openai.Usage) Usage {
	total := u.TotalTokens
	if total == 0 {
		total = u.PromptTokens + u.CompletionTokens
	}
	return Usage{PromptTokens: u.PromptTokens, CompletionTokens: u.CompletionTokens, TotalTokens: total}
}
