package llm_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/batonhq/baton/internal/fake"
	"github.com/batonhq/baton/internal/llm"
)

type verdict struct {
	Intent     string  `json:"intent"`
	Confidence float64 `json:"confidence"`
}

var verdictSchema = llm.JSONSchema{
	Name: "verdict",
	Schema: json.RawMessage(`{
		"type": "object",
		"properties": {"intent": {"type": "string"}, "confidence": {"type": "number"}},
		"required": ["intent", "confidence"],
		"additionalProperties": false
	}`),
}

func formats(reqs []fake.Request) []string {
	out := make([]string, len(reqs))
	for i, r := range reqs {
		out[i] = r.ResponseFormat()
	}
	return out
}

func TestChatJSONFallback(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name        string
		reject      []string
		first       fake.Response // the server's answer when rejected formats are exhausted
		wantFormats []string
	}{
		{
			name:        "json_schema accepted",
			first:       fake.Response{Content: `{"intent":"refund","confidence":0.9}`},
			wantFormats: []string{"json_schema"},
		},
		{
			name:        "json_schema rejected, json_object used",
			reject:      []string{"json_schema"},
			first:       fake.Response{Content: `{"intent":"refund","confidence":0.9}`},
			wantFormats: []string{"json_schema", "json_object"},
		},
		{
			name:        "both rejected, plain prompt with prose around the JSON",
			reject:      []string{"json_schema", "json_object"},
			first:       fake.Response{Content: "Sure! Here it is:\n```json\n{\"intent\":\"refund\",\"confidence\":0.9}\n```\nAnything else? {not json}"},
			wantFormats: []string{"json_schema", "json_object", ""},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t, llm.Config{})
			b.fake.RejectResponseFormat(tt.reject...)
			b.fake.Enqueue(fake.PathChat, tt.first, fake.Response{Content: `{"intent":"second","confidence":0.5}`})
			req := llm.ChatRequest{Messages: []llm.Message{
				{Role: llm.RoleSystem, Content: "You classify."},
				{Role: llm.RoleUser, Content: "I want my money back"},
			}}

			var got verdict
			if _, err := b.client.ChatJSON(t.Context(), req, verdictSchema, &got); err != nil {
				t.Fatalf("ChatJSON: %v", err)
			}
			if got != (verdict{Intent: "refund", Confidence: 0.9}) {
				t.Errorf("decoded %+v", got)
			}
			reqs := b.fake.Requests()
			if f := formats(reqs); !slices.Equal(f, tt.wantFormats) {
				t.Errorf("response formats = %q, want %q", f, tt.wantFormats)
			}

			last := reqs[len(reqs)-1].Chat
			switch last := last; tt.wantFormats[len(tt.wantFormats)-1] {
			case "json_schema":
				js := last.ResponseFormat.JSONSchema
				if js == nil || js.Name != "verdict" || !js.Strict {
					t.Errorf("json_schema = %+v, want strict schema named verdict", js)
				}
				if len(last.Messages) != 2 {
					t.Errorf("json_schema request has %d messages, want the caller's 2", len(last.Messages))
				}
			default:
				// The schema travels in the single leading system message.
				sys := last.Messages[0]
				if sys.Role != "system" || !strings.HasPrefix(sys.Content, "You classify.") ||
					!strings.Contains(sys.Content, `"confidence":{"type":"number"}`) || !strings.Contains(sys.Content, "JSON") {
					t.Errorf("system message = %q, want the caller's text plus the schema", sys.Content)
				}
				if len(last.Messages) != 2 || last.Messages[1].Role != "user" {
					t.Errorf("messages = %+v", last.Messages)
				}
			}

			// The capability is remembered: the next call goes straight to the working mode.
			if _, err := b.client.ChatJSON(t.Context(), req, verdictSchema, &got); err != nil {
				t.Fatalf("second ChatJSON: %v", err)
			}
			if got.Intent != "second" {
				t.Errorf("second decode = %+v", got)
			}
			after := b.fake.Requests()[len(reqs):]
			if f := formats(after); !slices.Equal(f, tt.wantFormats[len(tt.wantFormats)-1:]) {
				t.Errorf("second call formats = %q, want only %q", f, tt.wantFormats[len(tt.wantFormats)-1])
			}
		})
	}
}

func TestChatJSONFallbackOnStatus(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name        string
		status      int
		msg         string
		wantErr     error
		wantFormats []string
	}{
		{name: "404 means no such feature", status: 404, wantFormats: []string{"json_schema", "json_object"}},
		{name: "422 means unprocessable option", status: 422, wantFormats: []string{"json_schema", "json_object"}},
		{name: "400 naming json_schema", status: 400, msg: "json_schema is not supported", wantFormats: []string{"json_schema", "json_object"}},
		{name: "unrelated 400 is not a capability problem", status: 400, msg: "messages must not be empty", wantErr: llm.ErrBadRequest, wantFormats: []string{"json_schema"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t, llm.Config{})
			b.fake.Enqueue(fake.PathChat,
				fake.Response{Status: tt.status, Error: tt.msg},
				fake.Response{Content: `{"intent":"x","confidence":1}`})
			var got verdict
			_, err := b.client.ChatJSON(t.Context(), userSays("hi"), verdictSchema, &got)
			if !errors.Is(err, tt.wantErr) || (tt.wantErr == nil && err != nil) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			if f := formats(b.fake.Requests()); !slices.Equal(f, tt.wantFormats) {
				t.Errorf("formats = %q, want %q", f, tt.wantFormats)
			}
		})
	}
}

func TestChatJSONRepair(t *testing.T) {
	t.Parallel()
	onlyRefund := func(out any) error {
		if v := out.(*verdict); v.Intent != "refund" {
			return fmt.Errorf("intent %q is not a known intent", v.Intent)
		}
		return nil
	}
	tests := []struct {
		name         string
		replies      []string
		validate     func(any) error
		wantErr      error
		want         verdict
		wantRequests int
	}{
		{
			name:         "invalid JSON repaired once",
			replies:      []string{`{"intent": "refund", "confidence": }`, `{"intent":"refund","confidence":0.7}`},
			want:         verdict{Intent: "refund", Confidence: 0.7},
			wantRequests: 2,
		},
		{
			name:         "wrong types repaired once, stale fields cleared",
			replies:      []string{`{"intent": "refund", "confidence": "high"}`, `{"confidence":0.6}`},
			want:         verdict{Confidence: 0.6},
			wantRequests: 2,
		},
		{
			name:         "still malformed after repair",
			replies:      []string{`nope`, `still nope`, `{"intent":"never","confidence":1}`},
			wantErr:      llm.ErrMalformed,
			wantRequests: 2,
		},
		{
			name:         "validate hook failure repaired",
			replies:      []string{`{"intent":"weather","confidence":0.9}`, `{"intent":"refund","confidence":0.8}`},
			validate:     onlyRefund,
			want:         verdict{Intent: "refund", Confidence: 0.8},
			wantRequests: 2,
		},
		{
			name:         "validate hook failing twice",
			replies:      []string{`{"intent":"weather","confidence":0.9}`, `{"intent":"sport","confidence":0.8}`},
			validate:     onlyRefund,
			wantErr:      llm.ErrMalformed,
			wantRequests: 2,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t, llm.Config{})
			for _, r := range tt.replies {
				b.fake.Enqueue(fake.PathChat, fake.Response{Content: r, PromptTokens: 10, CompletionTokens: 3})
			}
			schema := verdictSchema
			schema.Validate = tt.validate

			var got verdict
			usage, err := b.client.ChatJSON(t.Context(), userSays("hi"), schema, &got)

			reqs := b.fake.Requests()
			if len(reqs) != tt.wantRequests {
				t.Errorf("requests = %d, want %d", len(reqs), tt.wantRequests)
			}
			if want := (llm.Usage{PromptTokens: 10 * len(reqs), CompletionTokens: 3 * len(reqs), TotalTokens: 13 * len(reqs)}); usage != want {
				t.Errorf("usage = %+v, want %+v (all requests)", usage, want)
			}
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("err = %v, want %v", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("ChatJSON: %v", err)
			}
			if got != tt.want {
				t.Errorf("decoded %+v, want %+v", got, tt.want)
			}
			// The repair request shows the model its reply and asks again.
			msgs := reqs[1].Chat.Messages
			n := len(msgs)
			if n < 3 || msgs[n-2].Role != "assistant" || msgs[n-2].Content != tt.replies[0] ||
				msgs[n-1].Role != "user" || !strings.Contains(msgs[n-1].Content, "corrected JSON") {
				t.Errorf("repair messages = %+v", msgs)
			}
		})
	}
}

func TestChatJSONBadArguments(t *testing.T) {
	t.Parallel()
	b := setup(t, llm.Config{})
	var v verdict
	tests := []struct {
		name   string
		schema llm.JSONSchema
		out    any
	}{
		{name: "nil out", schema: verdictSchema, out: nil},
		{name: "non-pointer out", schema: verdictSchema, out: v},
		{name: "schema not JSON", schema: llm.JSONSchema{Name: "x", Schema: json.RawMessage(`{`)}, out: &v},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if _, err := b.client.ChatJSON(t.Context(), userSays("hi"), tt.schema, tt.out); !errors.Is(err, llm.ErrBadRequest) {
				t.Errorf("err = %v, want ErrBadRequest", err)
			}
		})
	}
	t.Cleanup(func() {
		if n := len(b.fake.Requests()); n != 0 {
			t.Errorf("sent %d requests for invalid arguments", n)
		}
	})
}
