package knowledge

import (
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/prompts"
)

// Reasons an answer is declined; the bot clarifies or offers a person.
const (
	ReasonEmpty         = "empty_question"
	ReasonNoResults     = "no_results"     // nothing in the knowledge base matched
	ReasonLowConfidence = "low_confidence" // the best match is probably not an answer
	ReasonLLMNoAnswer   = "llm_declined"   // the model found the excerpts do not answer it
)

// ClarifyConfidence is the confidence below which a declined answer suggests nothing; between
// it and the answer threshold the bot may ask "did you mean <Suggest's title>?". On the dev half
// of testdata/answer_questions.jsonl out-of-scope questions score 0.105 or less unless they share
// a content word with an article, and in-scope questions 0.3 or more: 0.2 lies between.
const ClarifyConfidence = 0.2

// AnswerOptions tune one answer.
type AnswerOptions struct {
	Filter        SearchFilter // default: published articles of any language and tag
	Language      string       // the customer's language, for full text and the reply
	MinConfidence float64      // 0 = the service's threshold
	Chunks        int          // chunks given to the model, default 4
	Extractive    bool         // never call the Completer (the turn's own model call words the answer)
}

// Answer is what the bot may say, with the chunks it is based on.
type Answer struct {
	Text       string           `json:"text"`
	Citations  []baton.Citation `json:"citations"`
	Confidence float64          `json:"confidence"`
	NoAnswer   bool             `json:"no_answer"`
	Reason     string           `json:"reason,omitempty"`
	// Suggest, on an answer declined for low confidence at ClarifyConfidence or more, is the
	// article the question is probably about, for a "did you mean…?" reply.
	Suggest *baton.Citation `json:"suggest,omitempty"`
	Chunks  []Hit           `json:"chunks"`
	Trace   map[string]any  `json:"trace"`
}

// Engines, recorded in traces.
const (
	EngineExtractive = "extractive"
	EngineLLM        = "llm"
)

// Answer answers a customer question from published articles. Below the confidence threshold
// (or with nothing retrieved) it returns NoAnswer with the reason. With a Completer the answer
// is one grounded generation whose citations must be among the retrieved chunks; an invalid
// reply, a citation of anything else, or an LLM error falls back to the extractive answer: the
// best chunk's most relevant sentences. The error is for retrieval failures only.
func (s *Service) Answer(ctx context.Context, question string, o AnswerOptions) (Answer, error) {
	start := time.Now()
	question = strings.TrimSpace(question)
	ans := Answer{Citations: []baton.Citation{}, Chunks: []Hit{}, Trace: map[string]any{}}
	if question == "" {
		ans.NoAnswer, ans.Reason = true, ReasonEmpty
		return ans, nil
	}
	if o.Chunks <= 0 {
		o.Chunks = 4
	}
	minConf := o.MinConfidence
	if minConf <= 0 {
		minConf = s.o.MinConfidence
	}
	// Neighbouring chunks come along: an answer may start in the section before the best match,
	// or be the section after next ("Step 3: the ombudsman" after "Step 1: tell us").
	res, err := s.Search(ctx, question, SearchOptions{Filter: o.Filter, Language: o.Language, Limit: o.Chunks, Neighbours: 2})
	if err != nil {
		return ans, err
	}
	ans.Chunks, ans.Confidence = res.Hits, res.Confidence
	ans.Trace["retrieval"] = res.Trace
	ans.Trace["model"] = res.Model
	ans.Trace["chunks"] = hitTrace(res.Hits)
	ans.Trace["min_confidence"] = minConf
	defer func() { ans.Trace["total_ms"] = ms(time.Since(start)) }()
	switch {
	case len(res.Hits) == 0:
		ans.NoAnswer, ans.Reason = true, ReasonNoResults
		return ans, nil
	case res.Confidence < minConf:
		ans.NoAnswer, ans.Reason = true, ReasonLowConfidence
		if res.Confidence >= min(ClarifyConfidence, minConf) {
			c := res.Hits[0].Citation()
			ans.Suggest = &c
		}
		return ans, nil
	}
	if s.o.Completer != nil && !o.Extractive {
		if s.llmAnswer(ctx, question, o.Language, &ans) {
			return ans, nil
		}
	}
	ans.Trace["engine"] = EngineExtractive
	text, used := extractFrom(question, res.Hits, res.known)
	ans.Text, ans.Citations = text, []baton.Citation{used.Citation()}
	ans.Trace["extract_chunk_id"] = used.ID
	return ans, nil
}

func hitTrace(hits []Hit) []map[string]any {
	out := make([]map[string]any, 0, len(hits))
	for _, h := range hits {
		m := map[string]any{"chunk_id": h.ID, "article_id": h.ArticleID, "rank": h.Rank, "fused": h.Fused}
		if h.Vector != nil {
			m["vector_score"], m["vector_rank"] = h.Vector.Score, h.Vector.Rank
		}
		if h.FTS != nil {
			m["fts_score"], m["fts_rank"] = h.FTS.Score, h.FTS.Rank
		}
		out = append(out, m)
	}
	return out
}

// llmReply is the model's structured answer. The action set is closed: anything but "answer"
// and "no_answer" is refused, so text in an article cannot make the bot do something else.
type llmReply struct {
	Answer        string   `json:"answer"`
	CitedChunkIDs []string `json:"cited_chunk_ids"`
	Action        string   `json:"action"`
}

var llmSchema = json.RawMessage(`{"type":"object","properties":{` +
	`"answer":{"type":"string"},` +
	`"cited_chunk_ids":{"type":"array","items":{"type":"string"}},` +
	`"action":{"type":"string","enum":["answer","no_answer"]}},` +
	`"required":["answer","cited_chunk_ids","action"],"additionalProperties":false}`)

// chunkRef is how a chunk is named to the model: article and chunk id.
func chunkRef(h Hit) string { return fmt.Sprintf("kb-%d#%d", h.ArticleID, h.ID) }

// llmAnswer runs the grounded generation; it reports false when the extractive answer must be
// used instead (the reason is in the trace).
func (s *Service) llmAnswer(ctx context.Context, question, language string, ans *Answer) bool {
	in := prompts.AnswerInput{Question: question, Language: language}
	byRef := map[string]Hit{}
	for _, h := range ans.Chunks {
		ref := chunkRef(h)
		byRef[ref] = h
		in.Chunks = append(in.Chunks, prompts.ChunkInput{ID: ref, Title: h.Title, Text: h.Text})
	}
	set := s.o.Prompts.Current()
	system, err := set.Render(prompts.AnswerSystem, in)
	if err == nil {
		var user string
		user, err = set.Render(prompts.AnswerUser, in)
		if err == nil {
			ans.Trace["prompt_version"] = set.Version(prompts.AnswerSystem) + "/" + set.Version(prompts.AnswerUser)
			var reply llmReply
			var c Completion
			t := time.Now()
			c, err = s.o.Completer.CompleteJSON(ctx, system, user, "kb_answer", llmSchema, &reply)
			ans.Trace["llm_ms"] = ms(time.Since(t))
			ans.Trace["llm_model"], ans.Trace["prompt_tokens"], ans.Trace["completion_tokens"] = c.Model, c.PromptTokens, c.CompletionTokens
			if err == nil {
				return s.acceptReply(reply, byRef, ans)
			}
		}
	}
	s.log.WarnContext(ctx, "llm answer failed; answering extractively", "err", err)
	ans.Trace["llm_fallback"] = "error: " + clip(err.Error(), 200)
	return false
}

// acceptReply validates the model's reply against what was retrieved.
func (s *Service) acceptReply(r llmReply, byRef map[string]Hit, ans *Answer) bool {
	switch r.Action {
	case "no_answer":
		ans.Trace["engine"] = EngineLLM
		ans.NoAnswer, ans.Reason = true, ReasonLLMNoAnswer
		return true
	case "answer":
	default:
		ans.Trace["llm_fallback"] = fmt.Sprintf("action %q is not answer or no_answer", clip(r.Action, 40))
		return false
	}
	text := strings.TrimSpace(r.Answer)
	if text == "" {
		ans.Trace["llm_fallback"] = "empty answer"
		return false
	}
	if len(r.CitedChunkIDs) == 0 {
		ans.Trace["llm_fallback"] = "no citation"
		return false
	}
	var cites []baton.Citation
	seen := map[string]bool{}
	for _, ref := range r.CitedChunkIDs {
		h, ok := byRef[strings.TrimSpace(ref)]
		if !ok {
			ans.Trace["llm_fallback"] = fmt.Sprintf("cited %q, which was not retrieved", clip(ref, 40))
			return false
		}
		if !seen[ref] {
			seen[ref] = true
			cites = append(cites, h.Citation())
		}
	}
	ans.Trace["engine"] = EngineLLM
	ans.Text, ans.Citations = text, cites
	return true
}

var (
	mdLink     = regexp.MustCompile(`\[([^\]]+)\]\((https?://[^)\s]+)\)`)
	mdEmphasis = regexp.MustCompile(`(\*\*|__)(.+?)(\*\*|__)`)
	mdListItem = regexp.MustCompile(`(?m)^\s*([-*+]|\d+\.)\s+`)
	mdHeading  = regexp.MustCompile(`(?m)^#{1,6}\s+`)
	mdFence    = regexp.MustCompile("(?m)^```.*$")
)

// plainText strips Markdown markup that reads badly in a chat message. List items end with a
// full stop when they have no punctuation, so each becomes a sentence; a table becomes one
// readable sentence per row (see tableRows).
func plainText(md string) string {
	s := mdFence.ReplaceAllString(md, "")
	s = tablesToText(s)
	s = mdLink.ReplaceAllString(s, "$1 ($2)")
	s = mdEmphasis.ReplaceAllString(s, "$2")
	s = mdHeading.ReplaceAllString(s, "")
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		if mdListItem.MatchString(l) {
			l = strings.TrimSpace(mdListItem.ReplaceAllString(l, ""))
			if l != "" && !strings.ContainsAny(l[len(l)-1:], ".!?:") {
				l += "."
			}
			lines[i] = l
		}
	}
	return strings.TrimSpace(strings.Join(lines, "\n"))
}

// tablesToText replaces each Markdown table by its rows as sentences, one a line.
func tablesToText(s string) string {
	if !strings.Contains(s, "|") {
		return s
	}
	lines := strings.Split(s, "\n")
	var out []string
	for i := 0; i < len(lines); i++ {
		if !isTableLine(strings.TrimSpace(lines[i])) {
			out = append(out, lines[i])
			continue
		}
		j := i
		for j < len(lines) && isTableLine(strings.TrimSpace(lines[j])) {
			j++
		}
		out = append(out, tableRows(lines[i:j])...)
		i = j - 1
	}
	return strings.Join(out, "\n")
}
