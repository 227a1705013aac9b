package soak

import (
	"encoding/json"
	"net/http"
	"regexp"
	"strings"
	"sync/atomic"

	"github.com/sashabaranov/go-openai"

	"github.com/batonhq/baton/internal/llm"
)

// model is a stand-in OpenAI-compatible server: every fifth chat completion fails with 500
// (a fifth of the calls), the others return the turn's draft as the model's reply; embeddings
// are the offline embedder's vectors.
type model struct {
	calls, failed atomic.Int64
}

var (
	blockRE   = regexp.MustCompile(`(?s)<<<DATA id=([^>]*)>>>\n(.*?)\n<<<END DATA>>>`)
	decidedRE = regexp.MustCompile(`(?m)^Decided action: (\S+)$`)
	citesRE   = regexp.MustCompile(`(?m)^Draft cites: (.*)$`)
)

func (m *model) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch {
	case strings.HasSuffix(r.URL.Path, "/embeddings"):
		m.embed(w, r)
	case strings.HasSuffix(r.URL.Path, "/chat/completions"):
		if m.calls.Add(1)%5 == 0 {
			m.failed.Add(1)
			http.Error(w, `{"error":{"message":"failing on purpose","type":"server_error"}}`, http.StatusInternalServerError)
			return
		}
		m.chat(w, r)
	default:
		http.NotFound(w, r)
	}
}

func (m *model) chat(w http.ResponseWriter, r *http.Request) {
	var req openai.ChatCompletionRequest
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		http.Error(w, "bad json", http.StatusBadRequest)
		return
	}
	var prompt strings.Builder
	for _, msg := range req.Messages {
		prompt.WriteString(msg.Content + "\n")
	}
	p := prompt.String()
	content := "ok"
	if d := decidedRE.FindStringSubmatch(p); d != nil {
		out := map[string]any{"reply": "", "action": d[1], "cited_chunk_ids": []string{}, "intent": nil, "details": []any{}}
		for _, b := range blockRE.FindAllStringSubmatch(p, -1) {
			if b[1] == "draft" {
				out["reply"] = b[2]
			}
		}
		if c := citesRE.FindStringSubmatch(p); c != nil && c[1] != "(none)" {
			out["cited_chunk_ids"] = strings.Split(c[1], ", ")
		}
		if strings.Contains(p, "\nSummary required: yes") {
			out["summary"] = map[string]string{"issue": "the customer's question", "tried": "the bot replied",
				"details": "", "sentiment": "neutral", "next_step": d[1]}
		}
		b, _ := json.Marshal(out)
		content = string(b)
	}
	writeJSON(w, openai.ChatCompletionResponse{ID: "soak", Object: "chat.completion", Model: req.Model,
		Choices: []openai.ChatCompletionChoice{{Message: openai.ChatCompletionMessage{Role: openai.ChatMessageRoleAssistant, Content: content},
			FinishReason: openai.FinishReasonStop}},
		Usage: openai.Usage{PromptTokens: len(p) / 4, CompletionTokens: len(content) / 4, TotalTokens: (len(p) + len(content)) / 4}})
}

func (m *model) embed(w http.ResponseWriter, r *http.Request) {
	var req openai.EmbeddingRequest
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		http.Error(w, "bad json", http.StatusBadRequest)
		return
	}
	dim := req.Dimensions
	if dim == 0 {
		dim = 384
	}
	e, err := llm.NewLocalEmbedder(dim)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	var inputs []string
	switch in := req.Input.(type) {
	case string:
		inputs = []string{in}
	case []any:
		for _, x := range in {
			s, _ := x.(string)
			inputs = append(inputs, s)
		}
	}
	out := openai.EmbeddingResponse{Object: "list", Model: req.Model}
	for i, s := range inputs {
		out.Data = append(out.Data, openai.Embedding{Object: "embedding", Index: i, Embedding: e.Vector(s)})
	}
	writeJSON(w, out)
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(v) //nolint:errcheck
}
