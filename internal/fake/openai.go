// Package fake holds hand-written test doubles. OpenAI is a real HTTP server (httptest) that speaks
// the OpenAI wire format, so adapters are tested through their actual HTTP stack.
package fake

import (
	"encoding/json"
	"fmt"
	"hash/fnv"
	"io"
	"math"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sashabaranov/go-openai"
)

// Paths the fake serves, relative to URL (which ends in /v1).
const (
	PathChat       = "/chat/completions"
	PathEmbeddings = "/embeddings"
)

// DefaultEmbeddingDim is the vector size the default embeddings handler returns when the request
// does not ask for specific dimensions.
const DefaultEmbeddingDim = 8

// ToolCall is a function call the fake replies with instead of text.
type ToolCall struct {
	Name      string
	Arguments string // JSON
}

// Response scripts one answer of the fake.
type Response struct {
	Status     int           // HTTP status; 0 means 200
	RetryAfter string        // value of the Retry-After header, if set
	Delay      time.Duration // wait before answering; cut short when the client goes away
	// Body is sent verbatim when set (e.g. malformed JSON); otherwise the body is built from the
	// fields below.
	Body string
	// Error is the error message for a Status >= 400; defaults to the status text.
	Error string
	// Content is the assistant message of a chat completion.
	Content string
	// ToolCall, when set, makes the chat completion a tool call.
	ToolCall *ToolCall
	// Embeddings are the vectors of an embeddings reply; nil means deterministic vectors derived
	// from each input text (see Vector).
	Embeddings [][]float32
	// Token counts reported in usage; when both are 0 they are estimated from the text (chars/4).
	PromptTokens, CompletionTokens int
}

// Request is one request the fake received.
type Request struct {
	Path   string // relative to URL, e.g. "/chat/completions"
	Header http.Header
	Body   []byte
	Chat   *openai.ChatCompletionRequest // set for chat completions that decoded
	Embed  *openai.EmbeddingRequest      // set for embeddings that decoded
}

// ResponseFormat returns the response_format type of a chat request, or "" if none was sent.
func (r Request) ResponseFormat() string {
	if r.Chat == nil || r.Chat.ResponseFormat == nil {
		return ""
	}
	return string(r.Chat.ResponseFormat.Type)
}

// Inputs returns the texts of an embeddings request.
func (r Request) Inputs() []string {
	if r.Embed == nil {
		return nil
	}
	return embedInputs(r.Embed.Input)
}

// OpenAI is an OpenAI-compatible server for tests. Scripted responses queued per path are used
// first; after that, the default handlers answer. Safe for concurrent use.
type OpenAI struct {
	URL string // base URL including /v1, for openai.ClientConfig.BaseURL

	srv *httptest.Server

	mu       sync.Mutex
	queues   map[string][]Response
	onChat   func(req openai.ChatCompletionRequest) Response
	onEmbed  func(req openai.EmbeddingRequest) Response
	reject   map[string]bool
	requests []Request
	seq      int
	failRate float64
	failRand *rand.Rand
	failed   int
}

// NewOpenAI starts a fake OpenAI server that is closed when the test ends.
func NewOpenAI(t testing.TB) *OpenAI {
	t.Helper()
	f := &OpenAI{
		queues: make(map[string][]Response),
		reject: make(map[string]bool),
	}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	f.URL = f.srv.URL + "/v1"
	t.Cleanup(f.srv.Close)
	return f
}

// Enqueue appends scripted responses for path ("/chat/completions" or "/embeddings"); each request
// to that path consumes one.
func (f *OpenAI) Enqueue(path string, rs ...Response) {
	path = normalizePath(path)
	f.mu.Lock()
	defer f.mu.Unlock()
	f.queues[path] = append(f.queues[path], rs...)
}

// OnChat sets the handler for chat completions once the queue is empty. The default replies with
// the content "ok".
func (f *OpenAI) OnChat(fn func(req openai.ChatCompletionRequest) Response) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.onChat = fn
}

// OnEmbed sets the handler for embeddings once the queue is empty. The default replies with
// Vector(text, dimensions) for each input, dimensions defaulting to DefaultEmbeddingDim.
func (f *OpenAI) OnEmbed(fn func(req openai.EmbeddingRequest) Response) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.onEmbed = fn
}

// RejectResponseFormat makes chat requests whose response_format has one of these types
// ("json_schema", "json_object") fail with 400, as servers without that capability do. Rejected
// requests do not consume scripted responses.
func (f *OpenAI) RejectResponseFormat(kinds ...string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, k := range kinds {
		f.reject[k] = true
	}
}

// Requests returns a copy of the requests received so far, in arrival order.
func (f *OpenAI) Requests() []Request {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make([]Request, len(f.requests))
	copy(out, f.requests)
	return out
}

// RequestsTo returns the received requests for one path.
func (f *OpenAI) RequestsTo(path string) []Request {
	path = normalizePath(path)
	var out []Request
	for _, r := range f.Requests() {
		if r.Path == path {
			out = append(out, r)
		}
	}
	return out
}

func normalizePath(p string) string {
	p = strings.TrimPrefix(p, "/v1")
	if !strings.HasPrefix(p, "/") {
		p = "/" + p
	}
	return p
}

func (f *OpenAI) serve(w http.ResponseWriter, r *http.Request) {
	path := normalizePath(r.URL.Path)
	body, err := io.ReadAll(r.Body)
	if err != nil {
		writeError(w, http.StatusBadRequest, "reading body: "+err.Error(), "")
		return
	}
	rec := Request{Path: path, Header: r.Header.Clone(), Body: body}

	if r.Method != http.MethodPost || (path != PathChat && path != PathEmbeddings) {
		f.record(rec)
		writeError(w, http.StatusNotFound, fmt.Sprintf("unknown url %s %s", r.Method, r.URL.Path), "unknown_url")
		return
	}

	var (
		chat  openai.ChatCompletionRequest
		embed openai.EmbeddingRequest
	)
	switch path {
	case PathChat:
		err = json.Unmarshal(body, &chat)
		if err == nil {
			rec.Chat = &chat
		}
	case PathEmbeddings:
		err = json.Unmarshal(body, &embed)
		if err == nil {
			rec.Embed = &embed
		}
	}
	f.record(rec)
	if err != nil {
		writeError(w, http.StatusBadRequest, "invalid JSON body: "+err.Error(), "invalid_json")
		return
	}

	if path == PathChat && chat.ResponseFormat != nil && f.rejects(string(chat.ResponseFormat.Type)) {
		writeErrorParam(w, http.StatusBadRequest,
			fmt.Sprintf("Invalid parameter: 'response_format' of type '%s' is not supported with this model.", chat.ResponseFormat.Type),
			"unsupported_response_format", "response_format")
		return
	}

	resp, failed := Response{}, false
	if path == PathChat {
		resp, failed = f.injectFailure()
	}
	if !failed {
		resp = f.next(path, chat, embed)
	}

	if resp.Delay > 0 {
		t := time.NewTimer(resp.Delay)
		select {
		case <-t.C:
		case <-r.Context().Done():
			t.Stop()
			return // the client gave up; nobody reads the answer
		}
	}
	if resp.RetryAfter != "" {
		w.Header().Set("Retry-After", resp.RetryAfter)
	}
	status := resp.Status
	if status == 0 {
		status = http.StatusOK
	}
	if resp.Body != "" {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_, _ = io.WriteString(w, resp.Body)
		return
	}
	if status >= http.StatusBadRequest {
		msg := resp.Error
		if msg == "" {
			msg = http.StatusText(status)
		}
		writeError(w, status, msg, "")
		return
	}

	var out any
	if path == PathChat {
		out = f.chatReply(chat, resp)
	} else {
		out = embedReply(embed, resp)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(out)
}

func (f *OpenAI) record(r Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.requests = append(f.requests, r)
}

func (f *OpenAI) rejects(kind string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.reject[kind]
}

// next pops the queue for path or asks the default handler. The handler runs outside the lock so
// it may call the fake's own methods.
func (f *OpenAI) next(path string, chat openai.ChatCompletionRequest, embed openai.EmbeddingRequest) Response {
	f.mu.Lock()
	if q := f.queues[path]; len(q) > 0 {
		f.queues[path] = q[1:]
		f.mu.Unlock()
		return q[0]
	}
	onChat, onEmbed := f.onChat, f.onEmbed
	f.mu.Unlock()

	switch {
	case path == PathChat && onChat != nil:
		return onChat(chat)
	case path == PathChat:
		return Response{Content: "ok"}
	case onEmbed != nil:
		return onEmbed(embed)
	default:
		return Response{}
	}
}

func (f *OpenAI) chatReply(req openai.ChatCompletionRequest, resp Response) openai.ChatCompletionResponse {
	f.mu.Lock()
	f.seq++
	id := fmt.Sprintf("chatcmpl-fake-%d", f.seq)
	f.mu.Unlock()

	msg := openai.ChatCompletionMessage{Role: openai.ChatMessageRoleAssistant, Content: resp.Content}
	finish := openai.FinishReasonStop
	if resp.ToolCall != nil {
		msg.ToolCalls = []openai.ToolCall{{
			ID:   id + "-call",
			Type: openai.ToolTypeFunction,
			Function: openai.FunctionCall{
				Name:      resp.ToolCall.Name,
				Arguments: resp.ToolCall.Arguments,
			},
		}}
		finish = openai.FinishReasonToolCalls
	}

	prompt, completion := resp.PromptTokens, resp.CompletionTokens
	if prompt == 0 && completion == 0 {
		for _, m := range req.Messages {
			prompt += estimateTokens(m.Content)
		}
		completion = estimateTokens(resp.Content)
	}
	model := req.Model
	if model == "" {
		model = "fake-chat"
	}
	return openai.ChatCompletionResponse{
		ID:      id,
		Object:  "chat.completion",
		Created: time.Now().Unix(),
		Model:   model,
		Choices: []openai.ChatCompletionChoice{{Index: 0, Message: msg, FinishReason: finish}},
		Usage: openai.Usage{
			PromptTokens:     prompt,
			CompletionTokens: completion,
			TotalTokens:      prompt + completion,
		},
	}
}

func embedReply(req openai.EmbeddingRequest, resp Response) openai.EmbeddingResponse {
	inputs := embedInputs(req.Input)
	vecs := resp.Embeddings
	if vecs == nil {
		dim := req.Dimensions
		if dim <= 0 {
			dim = DefaultEmbeddingDim
		}
		vecs = make([][]float32, len(inputs))
		for i, in := range inputs {
			vecs[i] = Vector(in, dim)
		}
	}
	data := make([]openai.Embedding, len(vecs))
	for i, v := range vecs {
		data[i] = openai.Embedding{Object: "embedding", Embedding: v, Index: i}
	}
	prompt := resp.PromptTokens
	if prompt == 0 {
		for _, in := range inputs {
			prompt += estimateTokens(in)
		}
	}
	model := req.Model
	if model == "" {
		model = "fake-embedding"
	}
	return openai.EmbeddingResponse{
		Object: "list",
		Data:   data,
		Model:  model,
		Usage:  openai.Usage{PromptTokens: prompt, TotalTokens: prompt},
	}
}

// embedInputs accepts the shapes the API allows for text input: a string or a list of strings.
func embedInputs(in any) []string {
	switch v := in.(type) {
	case string:
		return []string{v}
	case []string:
		return v
	case []any:
		out := make([]string, 0, len(v))
		for _, x := range v {
			s, _ := x.(string)
			out = append(out, s)
		}
		return out
	default:
		return nil
	}
}

// Vector is the deterministic unit vector the default embeddings handler returns for text, so
// tests can compute what an adapter should have received.
func Vector(text string, dim int) []float32 {
	v := make([]float32, dim)
	var norm float64
	for i := range v {
		h := fnv.New64a()
		_, _ = io.WriteString(h, strconv.Itoa(i))
		_, _ = io.WriteString(h, "\x00")
		_, _ = io.WriteString(h, text)
		// Map the hash to [-1, 1).
		x := float64(h.Sum64()>>11)/float64(1<<53)*2 - 1
		v[i] = float32(x)
		norm += x * x
	}
	if norm == 0 {
		return v
	}
	n := math.Sqrt(norm)
	for i := range v {
		v[i] = float32(float64(v[i]) / n)
	}
	return v
}

func estimateTokens(s string) int {
	return (len([]rune(s)) + 3) / 4
}

func writeError(w http.ResponseWriter, status int, msg, code string) {
	writeErrorParam(w, status, msg, code, "")
}

func writeErrorParam(w http.ResponseWriter, status int, msg, code, param string) {
	typ := "invalid_request_error"
	switch {
	case status == http.StatusTooManyRequests:
		typ = "rate_limit_exceeded"
	case status >= http.StatusInternalServerError:
		typ = "server_error"
	}
	var c, p any
	if code != "" {
		c = code
	}
	if param != "" {
		p = param
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{
		"error": map[string]any{"message": msg, "type": typ, "code": c, "param": p},
	})
}
