package llm_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sashabaranov/go-openai"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/internal/fake"
	"github.com/batonhq/baton/internal/llm"
)

// sleeps records the waits the client asks for and returns at once.
type sleeps struct {
	mu sync.Mutex
	ds []time.Duration
}

func (s *sleeps) sleep(ctx context.Context, d time.Duration) error {
	s.mu.Lock()
	s.ds = append(s.ds, d)
	s.mu.Unlock()
	return ctx.Err()
}

func (s *sleeps) get() []time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.ds)
}

type bundle struct {
	fake   *fake.OpenAI
	client *llm.Client
	sleeps *sleeps
}

// setup starts a fake server and a client pointed at it with instant, un-jittered retries.
func setup(t testing.TB, cfg llm.Config, opts ...llm.Option) bundle {
	t.Helper()
	f := fake.NewOpenAI(t)
	s := &sleeps{}
	cfg.BaseURL = f.URL
	if cfg.APIKey == "" {
		cfg.APIKey = "sk-test"
	}
	if cfg.ChatModel == "" {
		cfg.ChatModel = "test-chat"
	}
	opts = append([]llm.Option{
		llm.WithSleep(s.sleep),
		llm.WithJitter(func(d time.Duration) time.Duration { return d }),
	}, opts...)
	return bundle{fake: f, client: llm.New(cfg, opts...), sleeps: s}
}

func userSays(text string) llm.ChatRequest {
	return llm.ChatRequest{Messages: []llm.Message{{Role: llm.RoleUser, Content: text}}}
}

func TestConfigured(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		cfg  llm.Config
		want bool
	}{
		{name: "empty", cfg: llm.Config{ChatModel: "x", Timeout: time.Second}, want: false},
		{name: "base url", cfg: llm.Config{BaseURL: "http://localhost:11434/v1"}, want: true},
		{name: "api key", cfg: llm.Config{APIKey: "sk-1"}, want: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := llm.Configured(tt.cfg); got != tt.want {
				t.Errorf("Configured = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestChatRetries(t *testing.T) {
	t.Parallel()
	clock := baton.NewManualClock(time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC))
	tests := []struct {
		name         string
		maxRetries   int
		responses    []fake.Response
		always       *fake.Response // answers once the queue is empty
		wantErr      error
		wantAttempts int
		wantSleeps   []time.Duration
		wantRetryAft time.Duration // checked with RetryAfter(err) when > 0
	}{
		{
			name:         "429 with Retry-After seconds then success",
			responses:    []fake.Response{{Status: 429, RetryAfter: "3"}, {Content: "ok"}},
			wantAttempts: 2,
			wantSleeps:   []time.Duration{3 * time.Second},
		},
		{
			name:         "503 with Retry-After date then success",
			responses:    []fake.Response{{Status: 503, RetryAfter: clock.Now().Add(7 * time.Second).Format(http.TimeFormat)}, {Content: "ok"}},
			wantAttempts: 2,
			wantSleeps:   []time.Duration{7 * time.Second},
		},
		{
			name:         "Retry-After above the cap is shortened",
			responses:    []fake.Response{{Status: 429, RetryAfter: "120"}, {Content: "ok"}},
			wantAttempts: 2,
			wantSleeps:   []time.Duration{30 * time.Second},
		},
		{
			name:         "5xx then success backs off exponentially",
			responses:    []fake.Response{{Status: 500}, {Status: 502}, {Content: "ok"}},
			wantAttempts: 3,
			wantSleeps:   []time.Duration{200 * time.Millisecond, 400 * time.Millisecond},
		},
		{
			name:         "500 forever gives up after MaxRetries+1 attempts",
			always:       &fake.Response{Status: 500},
			wantErr:      llm.ErrUnavailable,
			wantAttempts: 4,
			wantSleeps:   []time.Duration{200 * time.Millisecond, 400 * time.Millisecond, 800 * time.Millisecond},
		},
		{
			name:         "custom MaxRetries",
			maxRetries:   1,
			always:       &fake.Response{Status: 503},
			wantErr:      llm.ErrUnavailable,
			wantAttempts: 2,
			wantSleeps:   []time.Duration{200 * time.Millisecond},
		},
		{
			name:         "negative MaxRetries means one attempt",
			maxRetries:   -1,
			always:       &fake.Response{Status: 503},
			wantErr:      llm.ErrUnavailable,
			wantAttempts: 1,
		},
		{
			name:         "429 forever keeps the Retry-After",
			always:       &fake.Response{Status: 429, RetryAfter: "2"},
			wantErr:      llm.ErrRateLimited,
			wantAttempts: 4,
			wantSleeps:   []time.Duration{2 * time.Second, 2 * time.Second, 2 * time.Second},
			wantRetryAft: 2 * time.Second,
		},
		{
			name:         "400 is not retried",
			responses:    []fake.Response{{Status: 400, Error: "bad messages"}, {Content: "never"}},
			wantErr:      llm.ErrBadRequest,
			wantAttempts: 1,
		},
		{
			name:         "401 is not retried",
			responses:    []fake.Response{{Status: 401}, {Content: "never"}},
			wantErr:      llm.ErrBadRequest,
			wantAttempts: 1,
		},
		{
			name:         "malformed JSON body",
			responses:    []fake.Response{{Body: `{"choices": [{"message": `}, {Content: "never"}},
			wantErr:      llm.ErrMalformed,
			wantAttempts: 1,
		},
		{
			name:         "invalid JSON body",
			responses:    []fake.Response{{Body: `{"choices": nope}`}, {Content: "never"}},
			wantErr:      llm.ErrMalformed,
			wantAttempts: 1,
		},
		{
			name:         "reply without choices",
			responses:    []fake.Response{{Body: `{"id":"x","choices":[]}`}},
			wantErr:      llm.ErrMalformed,
			wantAttempts: 1,
		},
		{
			name:         "non-JSON 502 from a proxy is retried",
			responses:    []fake.Response{{Status: 502, Body: "<html>bad gateway</html>"}, {Content: "ok"}},
			wantAttempts: 2,
			wantSleeps:   []time.Duration{200 * time.Millisecond},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t, llm.Config{MaxRetries: tt.maxRetries}, llm.WithClock(clock))
			b.fake.Enqueue(fake.PathChat, tt.responses...)
			if tt.always != nil {
				b.fake.OnChat(func(openai.ChatCompletionRequest) fake.Response { return *tt.always })
			}

			resp, err := b.client.Chat(t.Context(), userSays("hi"))

			if got := len(b.fake.Requests()); got != tt.wantAttempts {
				t.Errorf("attempts = %d, want %d", got, tt.wantAttempts)
			}
			if got := b.sleeps.get(); !slices.Equal(got, tt.wantSleeps) {
				t.Errorf("sleeps = %v, want %v", got, tt.wantSleeps)
			}
			if tt.wantErr == nil {
				if err != nil {
					t.Fatalf("Chat: %v", err)
				}
				if resp.Content != "ok" {
					t.Errorf("content = %q, want ok", resp.Content)
				}
				return
			}
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			transient := tt.wantErr == llm.ErrUnavailable || tt.wantErr == llm.ErrRateLimited
			if got := errors.Is(err, baton.ErrUnavailable); got != transient {
				t.Errorf("errors.Is(err, baton.ErrUnavailable) = %v, want %v", got, transient)
			}
			ra, ok := llm.RetryAfter(err)
			if tt.wantRetryAft > 0 && (!ok || ra != tt.wantRetryAft) {
				t.Errorf("RetryAfter = %v, %v; want %v", ra, ok, tt.wantRetryAft)
			}
			if tt.wantRetryAft == 0 && ok {
				t.Errorf("RetryAfter = %v, want none", ra)
			}
		})
	}
}

func TestChatPerCallTimeout(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name         string
		responses    []fake.Response
		wantErr      bool
		wantAttempts int
	}{
		{
			name:         "slow then fast",
			responses:    []fake.Response{{Delay: 5 * time.Second, Content: "late"}, {Content: "ok"}},
			wantAttempts: 2,
		},
		{
			name:         "always slow",
			responses:    []fake.Response{{Delay: 5 * time.Second}, {Delay: 5 * time.Second}, {Delay: 5 * time.Second}},
			wantErr:      true,
			wantAttempts: 2,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t, llm.Config{Timeout: 300 * time.Millisecond, MaxRetries: 1})
			b.fake.Enqueue(fake.PathChat, tt.responses...)
			start := time.Now()
			resp, err := b.client.Chat(t.Context(), userSays("hi"))
			if elapsed := time.Since(start); elapsed > 3*time.Second {
				t.Errorf("took %v; the per-call deadline was not applied", elapsed)
			}
			if got := len(b.fake.Requests()); got != tt.wantAttempts {
				t.Errorf("attempts = %d, want %d", got, tt.wantAttempts)
			}
			if !tt.wantErr {
				if err != nil || resp.Content != "ok" {
					t.Fatalf("Chat = %q, %v; want ok", resp.Content, err)
				}
				return
			}
			if !errors.Is(err, llm.ErrUnavailable) || !errors.Is(err, context.DeadlineExceeded) {
				t.Errorf("err = %v, want ErrUnavailable wrapping DeadlineExceeded", err)
			}
		})
	}
}

func TestChatCallerContextEndsRetries(t *testing.T) {
	t.Parallel()
	b := setup(t, llm.Config{Timeout: 10 * time.Second})
	b.fake.Enqueue(fake.PathChat, fake.Response{Delay: 5 * time.Second}, fake.Response{Content: "never"})
	ctx, cancel := context.WithTimeout(t.Context(), 100*time.Millisecond)
	defer cancel()

	_, err := b.client.Chat(ctx, userSays("hi"))
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("err = %v, want DeadlineExceeded", err)
	}
	if errors.Is(err, llm.ErrUnavailable) {
		t.Errorf("err = %v; the caller's deadline must not look like an outage", err)
	}
	if got := len(b.fake.Requests()); got != 1 {
		t.Errorf("attempts = %d, want 1", got)
	}
	if got := b.sleeps.get(); len(got) != 0 {
		t.Errorf("slept %v, want no retry", got)
	}
}

func TestRetryAfterBeyondCallerDeadline(t *testing.T) {
	t.Parallel()
	b := setup(t, llm.Config{})
	b.fake.Enqueue(fake.PathChat, fake.Response{Status: 429, RetryAfter: "20"}, fake.Response{Content: "never"})
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Second)
	defer cancel()

	_, err := b.client.Chat(ctx, userSays("hi"))
	if !errors.Is(err, llm.ErrRateLimited) {
		t.Fatalf("err = %v, want ErrRateLimited", err)
	}
	if ra, ok := llm.RetryAfter(err); !ok || ra != 20*time.Second {
		t.Errorf("RetryAfter = %v, %v; want 20s", ra, ok)
	}
	if got := llm.StatusCode(err); got != 429 {
		t.Errorf("StatusCode = %d, want 429", got)
	}
	if got := len(b.fake.Requests()); got != 1 {
		t.Errorf("attempts = %d, want 1", got)
	}
	if got := b.sleeps.get(); len(got) != 0 {
		t.Errorf("slept %v, want an immediate error", got)
	}
}

func TestChatRealSleep(t *testing.T) {
	t.Parallel()
	// Without WithSleep the client really waits; Retry-After: 0 keeps that short.
	f := fake.NewOpenAI(t)
	c := llm.New(llm.Config{BaseURL: f.URL, APIKey: "k", ChatModel: "m"})
	f.Enqueue(fake.PathChat, fake.Response{Status: 503, RetryAfter: "0"}, fake.Response{Content: "ok"})
	resp, err := c.Chat(t.Context(), userSays("hi"))
	if err != nil || resp.Content != "ok" {
		t.Fatalf("Chat = %q, %v", resp.Content, err)
	}
	if got := len(f.Requests()); got != 2 {
		t.Errorf("attempts = %d, want 2", got)
	}
}

func TestChatRequestShape(t *testing.T) {
	t.Parallel()
	temp := float32(0.3)
	tests := []struct {
		name          string
		model         string
		wantMaxTokens int
		wantMaxCompl  int
		wantTemp      float32
	}{
		{name: "ordinary model", model: "llama3.1", wantMaxTokens: 50, wantTemp: 0.3},
		{name: "reasoning model", model: "o3-mini", wantMaxCompl: 50, wantTemp: 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t, llm.Config{ChatModel: tt.model, APIKey: "sk-secret"})
			b.fake.Enqueue(fake.PathChat, fake.Response{Content: "fine"})
			resp, err := b.client.Chat(t.Context(), llm.ChatRequest{
				Messages: []llm.Message{
					{Role: llm.RoleSystem, Content: "be brief"},
					{Role: llm.RoleUser, Content: "hi"},
				},
				Temperature: &temp,
				MaxTokens:   50,
			})
			if err != nil {
				t.Fatal(err)
			}
			if resp.Model != tt.model {
				t.Errorf("response model = %q, want %q", resp.Model, tt.model)
			}
			r := b.fake.Requests()[0]
			if got := r.Header.Get("Authorization"); got != "Bearer sk-secret" {
				t.Errorf("Authorization = %q", got)
			}
			c := r.Chat
			if c.Model != tt.model || len(c.Messages) != 2 || c.Messages[0].Role != "system" || c.Messages[1].Content != "hi" {
				t.Errorf("request = %+v", c)
			}
			// Check the wire body: which token field is sent matters to servers.
			var wire struct {
				MaxTokens           int     `json:"max_tokens"`
				MaxCompletionTokens int     `json:"max_completion_tokens"`
				Temperature         float32 `json:"temperature"`
			}
			if err := json.Unmarshal(r.Body, &wire); err != nil {
				t.Fatal(err)
			}
			if wire.MaxTokens != tt.wantMaxTokens || wire.MaxCompletionTokens != tt.wantMaxCompl || wire.Temperature != tt.wantTemp {
				t.Errorf("max_tokens=%d max_completion_tokens=%d temperature=%v; want %d %d %v",
					wire.MaxTokens, wire.MaxCompletionTokens, wire.Temperature, tt.wantMaxTokens, tt.wantMaxCompl, tt.wantTemp)
			}
			if c.ResponseFormat != nil {
				t.Errorf("plain chat sent response_format %+v", c.ResponseFormat)
			}
		})
	}
}

func TestTokenAccounting(t *testing.T) {
	t.Parallel()
	b := setup(t, llm.Config{})
	b.fake.Enqueue(fake.PathChat,
		fake.Response{Content: "a", PromptTokens: 10, CompletionTokens: 5},
		fake.Response{Status: 500}, // failed attempts report no usage
		fake.Response{Content: "b", PromptTokens: 20, CompletionTokens: 7},
	)
	r1, err := b.client.Chat(t.Context(), userSays("one"))
	if err != nil {
		t.Fatal(err)
	}
	r2, err := b.client.Chat(t.Context(), userSays("two"))
	if err != nil {
		t.Fatal(err)
	}
	if want := (llm.Usage{PromptTokens: 10, CompletionTokens: 5, TotalTokens: 15}); r1.Usage != want {
		t.Errorf("first usage = %+v, want %+v", r1.Usage, want)
	}
	if want := (llm.Usage{PromptTokens: 20, CompletionTokens: 7, TotalTokens: 27}); r2.Usage != want {
		t.Errorf("second usage = %+v, want %+v", r2.Usage, want)
	}
	if want := (llm.Usage{PromptTokens: 30, CompletionTokens: 12, TotalTokens: 42}); b.client.Usage() != want {
		t.Errorf("total usage = %+v, want %+v", b.client.Usage(), want)
	}

	// Concurrent calls add up exactly.
	b.fake.OnChat(func(openai.ChatCompletionRequest) fake.Response {
		return fake.Response{Content: "c", PromptTokens: 2, CompletionTokens: 1}
	})
	var wg sync.WaitGroup
	for range 20 {
		wg.Go(func() {
			if _, err := b.client.Chat(t.Context(), userSays("many")); err != nil {
				t.Errorf("Chat: %v", err)
			}
		})
	}
	wg.Wait()
	if want := (llm.Usage{PromptTokens: 70, CompletionTokens: 32, TotalTokens: 102}); b.client.Usage() != want {
		t.Errorf("total after concurrent calls = %+v, want %+v", b.client.Usage(), want)
	}
}

// flakyTransport fails the first n round trips as a dropped connection would.
type flakyTransport struct {
	mu   sync.Mutex
	n    int
	errs []error
}

func (f *flakyTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.errs) < f.n {
		err := io.EOF // what net/http reports when the server closes before answering
		f.errs = append(f.errs, err)
		return nil, err
	}
	return http.DefaultTransport.RoundTrip(req)
}

func TestChatNetworkErrorRetried(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name         string
		failures     int
		wantErr      error
		wantAttempts int // round trips, counted by the transport
	}{
		{name: "one dropped connection", failures: 1, wantAttempts: 2},
		{name: "always dropped", failures: 100, wantErr: llm.ErrUnavailable, wantAttempts: 4},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ft := &flakyTransport{n: tt.failures}
			b := setup(t, llm.Config{}, llm.WithTransport(ft))
			b.fake.Enqueue(fake.PathChat, fake.Response{Content: "ok"})
			resp, err := b.client.Chat(t.Context(), userSays("hi"))
			ft.mu.Lock()
			failed := len(ft.errs)
			ft.mu.Unlock()
			if got := failed + len(b.fake.Requests()); got != tt.wantAttempts {
				t.Errorf("round trips = %d, want %d", got, tt.wantAttempts)
			}
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Errorf("err = %v, want %v", err, tt.wantErr)
				}
				return
			}
			if err != nil || resp.Content != "ok" {
				t.Errorf("Chat = %q, %v; want ok", resp.Content, err)
			}
		})
	}
}

func TestLogsOmitPromptsAndKey(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	b := setup(t, llm.Config{APIKey: "sk-very-secret", Logger: logger})
	b.fake.Enqueue(fake.PathChat,
		fake.Response{Status: 503},
		fake.Response{Content: "SECRET-REPLY"},
		fake.Response{Content: "not json SECRET-REPLY"},
		fake.Response{Content: `{"intent":"x","confidence":1}`},
	)
	if _, err := b.client.Chat(t.Context(), userSays("SECRET-PROMPT")); err != nil {
		t.Fatal(err)
	}
	var v verdict
	if _, err := b.client.ChatJSON(t.Context(), userSays("SECRET-PROMPT"), verdictSchema, &v); err != nil {
		t.Fatal(err)
	}
	if _, err := b.client.Embedder().Embed(t.Context(), []string{"SECRET-PROMPT"}); err != nil {
		t.Fatal(err)
	}

	logs := buf.String()
	for _, want := range []string{"msg=llm_retry", "msg=llm_chat", "model=test-chat", "latency_ms=", "msg=llm_embed", "msg=llm_json_repair"} {
		if !strings.Contains(logs, want) {
			t.Errorf("logs lack %q:\n%s", want, logs)
		}
	}
	for _, secret := range []string{"SECRET-PROMPT", "SECRET-REPLY", "sk-very-secret"} {
		if strings.Contains(logs, secret) {
			t.Errorf("logs contain %q:\n%s", secret, logs)
		}
	}
}
