package fake_test

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sashabaranov/go-openai"

	"github.com/batonhq/baton/internal/fake"
)

func newClient(t testing.TB, f *fake.OpenAI) *openai.Client {
	t.Helper()
	cfg := openai.DefaultConfig("test-key")
	cfg.BaseURL = f.URL
	return openai.NewClientWithConfig(cfg)
}

func chat(ctx context.Context, c *openai.Client) (openai.ChatCompletionResponse, error) {
	return c.CreateChatCompletion(ctx, openai.ChatCompletionRequest{
		Model:    "m",
		Messages: []openai.ChatCompletionMessage{{Role: "user", Content: "hello there"}},
	})
}

func TestQueueThenDefault(t *testing.T) {
	t.Parallel()
	f := fake.NewOpenAI(t)
	c := newClient(t, f)
	f.Enqueue(fake.PathChat, fake.Response{Content: "first", PromptTokens: 7, CompletionTokens: 2})
	f.OnChat(func(req openai.ChatCompletionRequest) fake.Response {
		return fake.Response{Content: "echo " + req.Messages[0].Content}
	})

	got := []string{}
	for range 2 {
		resp, err := chat(t.Context(), c)
		if err != nil {
			t.Fatalf("chat: %v", err)
		}
		got = append(got, resp.Choices[0].Message.Content)
		if resp.Model != "m" {
			t.Errorf("model = %q, want m", resp.Model)
		}
	}
	if want := []string{"first", "echo hello there"}; !slices.Equal(got, want) {
		t.Errorf("contents = %q, want %q", got, want)
	}

	reqs := f.Requests()
	if len(reqs) != 2 {
		t.Fatalf("recorded %d requests, want 2", len(reqs))
	}
	if reqs[0].Path != fake.PathChat || reqs[0].Chat == nil || reqs[0].Chat.Model != "m" {
		t.Errorf("request 0 = %+v", reqs[0])
	}
	if got := reqs[0].Header.Get("Authorization"); got != "Bearer test-key" {
		t.Errorf("Authorization = %q", got)
	}
}

func TestUsageAndToolCall(t *testing.T) {
	t.Parallel()
	f := fake.NewOpenAI(t)
	c := newClient(t, f)
	f.Enqueue(fake.PathChat,
		fake.Response{Content: "x", PromptTokens: 7, CompletionTokens: 2},
		fake.Response{ToolCall: &fake.ToolCall{Name: "lookup", Arguments: `{"id":1}`}},
	)
	resp, err := chat(t.Context(), c)
	if err != nil {
		t.Fatal(err)
	}
	if u := resp.Usage; u.PromptTokens != 7 || u.CompletionTokens != 2 || u.TotalTokens != 9 {
		t.Errorf("usage = %+v, want 7/2/9", u)
	}
	resp, err = chat(t.Context(), c)
	if err != nil {
		t.Fatal(err)
	}
	tc := resp.Choices[0].Message.ToolCalls
	if len(tc) != 1 || tc[0].Function.Name != "lookup" || tc[0].Function.Arguments != `{"id":1}` {
		t.Errorf("tool calls = %+v", tc)
	}
	if resp.Choices[0].FinishReason != openai.FinishReasonToolCalls {
		t.Errorf("finish reason = %q", resp.Choices[0].FinishReason)
	}
}

func TestErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		resp       fake.Response
		wantStatus int
		wantType   string
		wantMsg    string
	}{
		{name: "rate limited", resp: fake.Response{Status: 429, RetryAfter: "3"}, wantStatus: 429, wantType: "rate_limit_exceeded", wantMsg: "Too Many Requests"},
		{name: "server error", resp: fake.Response{Status: 503, Error: "overloaded"}, wantStatus: 503, wantType: "server_error", wantMsg: "overloaded"},
		{name: "bad request", resp: fake.Response{Status: 400}, wantStatus: 400, wantType: "invalid_request_error", wantMsg: "Bad Request"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := fake.NewOpenAI(t)
			f.Enqueue(fake.PathChat, tt.resp)
			_, err := chat(t.Context(), newClient(t, f))
			var apiErr *openai.APIError
			if !errors.As(err, &apiErr) {
				t.Fatalf("err = %v, want *openai.APIError", err)
			}
			if apiErr.HTTPStatusCode != tt.wantStatus || apiErr.Type != tt.wantType || apiErr.Message != tt.wantMsg {
				t.Errorf("error = %d %q %q, want %d %q %q", apiErr.HTTPStatusCode, apiErr.Type, apiErr.Message, tt.wantStatus, tt.wantType, tt.wantMsg)
			}
		})
	}
}

func TestRetryAfterHeader(t *testing.T) {
	t.Parallel()
	f := fake.NewOpenAI(t)
	f.Enqueue(fake.PathChat, fake.Response{Status: 429, RetryAfter: "5"})
	resp, err := http.Post(f.URL+fake.PathChat, "application/json", strings.NewReader(`{"model":"m","messages":[]}`))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 429 || resp.Header.Get("Retry-After") != "5" {
		t.Errorf("got %d Retry-After=%q, want 429 and 5", resp.StatusCode, resp.Header.Get("Retry-After"))
	}
}

func TestMalformedBodyAndUnknownPath(t *testing.T) {
	t.Parallel()
	f := fake.NewOpenAI(t)
	c := newClient(t, f)
	f.Enqueue(fake.PathChat, fake.Response{Body: `{"choices": [`})
	if _, err := chat(t.Context(), c); err == nil {
		t.Error("malformed body: want error")
	}

	resp, err := http.Post(f.URL+"/models", "application/json", strings.NewReader(`{}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("unknown path status = %d, want 404", resp.StatusCode)
	}
}

func TestRejectResponseFormat(t *testing.T) {
	t.Parallel()
	f := fake.NewOpenAI(t)
	c := newClient(t, f)
	f.RejectResponseFormat("json_schema")
	f.Enqueue(fake.PathChat, fake.Response{Content: `{"a":1}`})

	req := openai.ChatCompletionRequest{
		Model:          "m",
		Messages:       []openai.ChatCompletionMessage{{Role: "user", Content: "json please"}},
		ResponseFormat: &openai.ChatCompletionResponseFormat{Type: openai.ChatCompletionResponseFormatTypeJSONSchema},
	}
	_, err := c.CreateChatCompletion(t.Context(), req)
	var apiErr *openai.APIError
	if !errors.As(err, &apiErr) || apiErr.HTTPStatusCode != 400 || !strings.Contains(apiErr.Message, "response_format") {
		t.Fatalf("json_schema: err = %v, want 400 mentioning response_format", err)
	}

	// The rejection must not have eaten the scripted answer.
	req.ResponseFormat = &openai.ChatCompletionResponseFormat{Type: openai.ChatCompletionResponseFormatTypeJSONObject}
	resp, err := c.CreateChatCompletion(t.Context(), req)
	if err != nil {
		t.Fatalf("json_object: %v", err)
	}
	if got := resp.Choices[0].Message.Content; got != `{"a":1}` {
		t.Errorf("content = %q", got)
	}
	reqs := f.Requests()
	if got := []string{reqs[0].ResponseFormat(), reqs[1].ResponseFormat()}; !slices.Equal(got, []string{"json_schema", "json_object"}) {
		t.Errorf("recorded formats = %q", got)
	}
}

func TestDelayRespectsClientContext(t *testing.T) {
	t.Parallel()
	f := fake.NewOpenAI(t)
	f.Enqueue(fake.PathChat, fake.Response{Delay: time.Minute, Content: "late"})
	ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := chat(ctx, newClient(t, f))
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("err = %v, want deadline exceeded", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("took %v; the delay did not honour the client context", d)
	}
}

func TestEmbeddingsDeterministic(t *testing.T) {
	t.Parallel()
	f := fake.NewOpenAI(t)
	c := newClient(t, f)
	embed := func(dims int, in ...string) openai.EmbeddingResponse {
		t.Helper()
		resp, err := c.CreateEmbeddings(t.Context(), openai.EmbeddingRequestStrings{Input: in, Model: "e", Dimensions: dims})
		if err != nil {
			t.Fatalf("embeddings: %v", err)
		}
		return resp
	}

	a := embed(0, "alpha", "beta")
	if len(a.Data) != 2 || len(a.Data[0].Embedding) != fake.DefaultEmbeddingDim {
		t.Fatalf("got %d vectors of %d, want 2 of %d", len(a.Data), len(a.Data[0].Embedding), fake.DefaultEmbeddingDim)
	}
	if !slices.Equal(a.Data[0].Embedding, fake.Vector("alpha", fake.DefaultEmbeddingDim)) {
		t.Error("vector for alpha differs from fake.Vector")
	}
	if slices.Equal(a.Data[0].Embedding, a.Data[1].Embedding) {
		t.Error("different texts got the same vector")
	}
	b := embed(16, "alpha")
	if len(b.Data[0].Embedding) != 16 {
		t.Errorf("dimensions=16 gave %d", len(b.Data[0].Embedding))
	}
	if got := f.RequestsTo(fake.PathEmbeddings)[0].Inputs(); !slices.Equal(got, []string{"alpha", "beta"}) {
		t.Errorf("recorded inputs = %q", got)
	}

	f.OnEmbed(func(req openai.EmbeddingRequest) fake.Response {
		return fake.Response{Embeddings: [][]float32{{1, 2}}}
	})
	if got := embed(0, "x").Data[0].Embedding; !slices.Equal(got, []float32{1, 2}) {
		t.Errorf("OnEmbed vector = %v", got)
	}
}
