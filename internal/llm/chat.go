package llm

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"reflect"
	"strings"
	"time"

	"github.com/sashabaranov/go-openai"
)

// Message roles.
const (
	RoleSystem    = openai.ChatMessageRoleSystem
	RoleUser      = openai.ChatMessageRoleUser
	RoleAssistant = openai.ChatMessageRoleAssistant
)

// Message is one chat message.
type Message struct {
	Role    string // RoleSystem, RoleUser or RoleAssistant
	Content string
}

// ChatRequest is a chat completion request. The model comes from Config.
type ChatRequest struct {
	Messages    []Message
	Temperature *float32 // nil = server default (go-openai also omits an explicit 0)
	MaxTokens   int      // 0 = server default
}

// ChatResponse is the assistant's reply.
type ChatResponse struct {
	Content string
	Usage   Usage
	Model   string // as reported by the server
}

// JSONSchema describes the JSON object ChatJSON must produce.
type JSONSchema struct {
	Name   string          // [a-zA-Z0-9_-], e.g. "classification"
	Schema json.RawMessage // a JSON Schema object; for strict servers: additionalProperties false, all required
	// Validate, if set, checks the decoded value (the out passed to ChatJSON) beyond the schema.
	Validate func(out any) error
}

// Structured-output modes, most capable first. Client.jsonMode only moves down.
const (
	modeSchema int32 = iota // response_format json_schema, strict
	modeObject              // response_format json_object + schema in the system prompt
	modePlain               // no response_format; instructions + extraction from text
)

// Chat sends one chat completion. Errors wrap ErrRateLimited, ErrUnavailable, ErrBadRequest or
// ErrMalformed (no choices in the reply), or the caller's context error.
func (c *Client) Chat(ctx context.Context, req ChatRequest) (ChatResponse, error) {
	return c.chat(ctx, c.buildRequest(req, nil))
}

func (c *Client) chat(ctx context.Context, req openai.ChatCompletionRequest) (ChatResponse, error) {
	start := time.Now()
	var resp openai.ChatCompletionResponse
	attempts := 0
	err := c.call(ctx, "chat completion", func(ctx context.Context) error {
		attempts++
		var err error
		resp, err = c.api.CreateChatCompletion(ctx, req)
		if err == nil && len(resp.Choices) == 0 {
			return fmt.Errorf("reply has no choices: %w", ErrMalformed)
		}
		return err
	})
	if err != nil {
		c.log.DebugContext(ctx, "llm_chat_failed", "model", req.Model, "attempts", attempts,
			"latency_ms", time.Since(start).Milliseconds(), "class", className(classOf(err)))
		return ChatResponse{}, err
	}
	u := fromOpenAIUsage(resp.Usage)
	c.addUsage(u)
	c.log.DebugContext(ctx, "llm_chat", "model", resp.Model, "attempts", attempts,
		"latency_ms", time.Since(start).Milliseconds(), "prompt_tokens", u.PromptTokens,
		"completion_tokens", u.CompletionTokens, "finish_reason", string(resp.Choices[0].FinishReason))
	return ChatResponse{Content: resp.Choices[0].Message.Content, Usage: u, Model: resp.Model}, nil
}

func (c *Client) buildRequest(req ChatRequest, format *openai.ChatCompletionResponseFormat) openai.ChatCompletionRequest {
	msgs := make([]openai.ChatCompletionMessage, len(req.Messages))
	for i, m := range req.Messages {
		msgs[i] = openai.ChatCompletionMessage{Role: m.Role, Content: m.Content}
	}
	out := openai.ChatCompletionRequest{
		Model:          c.cfg.ChatModel,
		Messages:       msgs,
		ResponseFormat: format,
	}
	// Reasoning models refuse max_tokens and custom temperatures (go-openai checks this
	// client-side); most other compatible servers only know max_tokens.
	if isReasoningModel(c.cfg.ChatModel) {
		out.MaxCompletionTokens = req.MaxTokens
	} else {
		//lint:ignore SA1019 max_tokens is what non-OpenAI servers (vLLM, Ollama, llama.cpp) understand.
		out.MaxTokens = req.MaxTokens
		if req.Temperature != nil {
			out.Temperature = *req.Temperature
		}
	}
	return out
}

func isReasoningModel(model string) bool {
	for _, p := range []string{"o1", "o3", "o4", "gpt-5", "gpt-6"} {
		if strings.HasPrefix(model, p) {
			return true
		}
	}
	return false
}

// ChatJSON asks for a JSON object matching schema and decodes it into out (a non-nil pointer).
// It uses the best structured-output mode the server accepts: json_schema (strict), else
// json_object with the schema in the system prompt, else plain instructions with the first JSON
// object extracted from the text; a rejected mode is remembered by the Client. An undecodable or
// invalid reply gets one repair attempt, then ErrMalformed. The returned Usage covers every
// request made, including rejected modes' replies and the repair.
func (c *Client) ChatJSON(ctx context.Context, req ChatRequest, schema JSONSchema, out any) (Usage, error) {
	rv := reflect.ValueOf(out)
	if !rv.IsValid() || rv.Kind() != reflect.Pointer || rv.IsNil() {
		return Usage{}, fmt.Errorf("chat json %s: out must be a non-nil pointer, got %T: %w", schema.Name, out, ErrBadRequest)
	}
	if !json.Valid(schema.Schema) {
		return Usage{}, fmt.Errorf("chat json %s: schema is not valid JSON: %w", schema.Name, ErrBadRequest)
	}

	var total Usage
	for {
		mode := c.jsonMode.Load()
		resp, err := c.chat(ctx, c.jsonRequest(req, schema, mode, nil))
		if err != nil {
			if mode < modePlain && rejectsFormat(err) {
				// Degrade for this and every later call; CAS so concurrent callers skip at most once.
				if c.jsonMode.CompareAndSwap(mode, mode+1) {
					c.log.InfoContext(ctx, "llm_json_mode_fallback", "from", modeName(mode), "to", modeName(mode+1),
						"status", StatusCode(err))
				}
				continue
			}
			return total, fmt.Errorf("chat json %s: %w", schema.Name, err)
		}
		total = total.Add(resp.Usage)

		derr := decodeJSON(resp.Content, schema, out)
		if derr == nil {
			return total, nil
		}
		c.log.DebugContext(ctx, "llm_json_repair", "schema", schema.Name, "mode", modeName(mode))
		repair := &repairTurn{previous: resp.Content, problem: derr}
		resp, err = c.chat(ctx, c.jsonRequest(req, schema, mode, repair))
		if err != nil {
			return total, fmt.Errorf("chat json %s: repair: %w", schema.Name, err)
		}
		total = total.Add(resp.Usage)
		if derr := decodeJSON(resp.Content, schema, out); derr != nil {
			return total, fmt.Errorf("chat json %s: %w: %w", schema.Name, ErrMalformed, derr)
		}
		return total, nil
	}
}

type repairTurn struct {
	previous string
	problem  error
}

func (c *Client) jsonRequest(req ChatRequest, schema JSONSchema, mode int32, repair *repairTurn) openai.ChatCompletionRequest {
	msgs := req.Messages
	var format *openai.ChatCompletionResponseFormat
	switch mode {
	case modeSchema:
		format = &openai.ChatCompletionResponseFormat{
			Type: openai.ChatCompletionResponseFormatTypeJSONSchema,
			JSONSchema: &openai.ChatCompletionResponseFormatJSONSchema{
				Name:   schema.Name,
				Schema: schema.Schema,
				Strict: true,
			},
		}
	case modeObject:
		format = &openai.ChatCompletionResponseFormat{Type: openai.ChatCompletionResponseFormatTypeJSONObject}
		msgs = withSystemNote(msgs, fmt.Sprintf(
			"Respond with a single JSON object that conforms to this JSON Schema (%s):\n%s",
			schema.Name, compactJSON(schema.Schema)))
	default:
		msgs = withSystemNote(msgs, fmt.Sprintf(
			"Respond with only a single JSON object that conforms to this JSON Schema (%s), "+
				"with no other text and no code fences:\n%s",
			schema.Name, compactJSON(schema.Schema)))
	}
	if repair != nil {
		msgs = append(msgs[:len(msgs):len(msgs)],
			Message{Role: RoleAssistant, Content: repair.previous},
			Message{Role: RoleUser, Content: fmt.Sprintf(
				"That reply was not a valid JSON object for the schema (%v). "+
					"Reply again with only the corrected JSON object.", repair.problem)},
		)
	}
	return c.buildRequest(ChatRequest{Messages: msgs, Temperature: req.Temperature, MaxTokens: req.MaxTokens}, format)
}

// withSystemNote appends note to the first system message, or prepends one; some chat
// templates accept only a single, leading system message.
func withSystemNote(msgs []Message, note string) []Message {
	out := make([]Message, 0, len(msgs)+1)
	if len(msgs) > 0 && msgs[0].Role == RoleSystem {
		out = append(out, Message{Role: RoleSystem, Content: msgs[0].Content + "\n\n" + note})
		return append(out, msgs[1:]...)
	}
	out = append(out, Message{Role: RoleSystem, Content: note})
	return append(out, msgs...)
}

func compactJSON(raw json.RawMessage) string {
	var b bytes.Buffer
	if err := json.Compact(&b, raw); err != nil {
		return string(raw)
	}
	return b.String()
}

// rejectsFormat reports whether err is a server refusing response_format rather than the request
// as a whole.
func rejectsFormat(err error) bool {
	switch StatusCode(err) {
	case http.StatusNotFound, http.StatusUnprocessableEntity:
		return true
	case http.StatusBadRequest:
	default:
		return false
	}
	var text string
	var (
		apiErr *openai.APIError
		reqErr *openai.RequestError
	)
	switch {
	case errors.As(err, &apiErr):
		text = apiErr.Message
		if apiErr.Param != nil {
			text += " " + *apiErr.Param
		}
		if code, ok := apiErr.Code.(string); ok {
			text += " " + code
		}
	case errors.As(err, &reqErr):
		text = string(reqErr.Body)
	}
	text = strings.ToLower(text)
	for _, s := range []string{"response_format", "response format", "json_schema", "json_object"} {
		if strings.Contains(text, s) {
			return true
		}
	}
	return false
}

// decodeJSON resets out and decodes content into it, falling back to the first JSON object
// embedded in the text (models like to add prose or code fences).
func decodeJSON(content string, schema JSONSchema, out any) error {
	reset := func() { reflect.ValueOf(out).Elem().SetZero() }
	reset()
	err := json.Unmarshal([]byte(strings.TrimSpace(content)), out)
	if err != nil {
		obj, ok := extractJSONObject(content)
		if !ok {
			return fmt.Errorf("no JSON object in reply: %w", err)
		}
		reset()
		if err = json.Unmarshal([]byte(obj), out); err != nil {
			return fmt.Errorf("decoding reply: %w", err)
		}
	}
	if schema.Validate != nil {
		if err := schema.Validate(out); err != nil {
			return fmt.Errorf("validating reply: %w", err)
		}
	}
	return nil
}

// extractJSONObject returns the first balanced {...} in s that is valid JSON.
func extractJSONObject(s string) (string, bool) {
	for start := strings.IndexByte(s, '{'); start >= 0; {
		if end, ok := matchBrace(s, start); ok && json.Valid([]byte(s[start:end])) {
			return s[start:end], true
		}
		next := strings.IndexByte(s[start+1:], '{')
		if next < 0 {
			break
		}
		start += 1 + next
	}
	return "", false
}

// matchBrace returns the index just past the brace closing s[start], skipping JSON strings.
func matchBrace(s string, start int) (int, bool) {
	depth, inString, escaped := 0, false, false
	for i := start; i < len(s); i++ {
		ch := s[i]
		switch {
		case inString && escaped:
			escaped = false
		case inString && ch == '\\':
			escaped = true
		case inString && ch == '"':
			inString = false
		case inString:
		case ch == '"':
			inString = true
		case ch == '{':
			depth++
		case ch == '}':
			depth--
			if depth == 0 {
				return i + 1, true
			}
		}
	}
	return 0, false
}

func modeName(m int32) string {
	switch m {
	case modeSchema:
		return "json_schema"
	case modeObject:
		return "json_object"
	default:
		return "plain"
	}
}

func classOf(err error) error {
	for _, k := range []error{ErrRateLimited, ErrUnavailable, ErrBadRequest, ErrMalformed} {
		if errors.Is(err, k) {
			return k
		}
	}
	return nil
}
