package bot

import (
	"context"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/intents"
	"github.com/batonhq/baton/pii"
)

// With an LLM configured a turn makes one structured call: understanding, retrieval and the
// policy stay local, the local renderer writes a draft, and the model rewrites the draft for
// the conversation (see Brain.write). Anything wrong with the call or its output sends the
// draft: the customer always gets a sensible reply, and the policy keeps the last word.

// Passage is one retrieved knowledge chunk, as the model may cite it.
type Passage struct {
	Citation baton.Citation
	Text     string
}

// ref is how a passage is named to the model and cited back.
func (p Passage) ref() string {
	return fmt.Sprintf("kb-%d#%d", p.Citation.ArticleID, p.Citation.ChunkID)
}

// Line is one earlier message, as the model sees it.
type Line struct {
	Author string // "customer", "bot" or "agent"
	Text   string
}

// ComposeRequest is everything the turn's model call gets. Its texts are already masked
// (placeholders such as [EMAIL_1] stand for personal data).
type ComposeRequest struct {
	ConversationID int64
	Language       string
	Stage          string
	OpenIntent     string
	Awaiting       []string // labels of the awaited details
	Summary        string
	Details        map[string]string // label → value
	Passages       []ComposePassage
	History        []Line   // bounded window, oldest first
	Messages       []string // the turn's new customer messages
	Action         string   // the policy's primary action
	Allowed        []string // the closed set the reply's action must come from
	Draft          string
	DraftCites     []string // refs of the passages the draft cites
	WantSummary    bool     // the running summary is due: the same call writes it
}

// ComposePassage is a passage as sent: its ref, title and text.
type ComposePassage struct {
	ID    string
	Title string
	Text  string
}

// ModelSummary is the running summary the model writes when it is due.
type ModelSummary struct {
	Issue     string `json:"issue"`
	Tried     string `json:"tried"`
	Details   string `json:"details"`
	Sentiment string `json:"sentiment"`
	NextStep  string `json:"next_step"`
}

// Composition is the model's answer. Nothing in it is trusted until Brain.write checks it.
type Composition struct {
	Reply   string
	Action  string
	Cited   []string // passage refs
	Intent  string
	Details map[string]string // detail type → value
	Summary *ModelSummary
	// What the call cost, also when it failed.
	PromptTokens, CompletionTokens int
	Model                          string
	PromptVersion                  string
}

// Composer makes the turn's one structured model call. It returns an error when the call
// failed after its retries (rate limits, server errors, timeouts) or the output could not be
// decoded; the token counts of a failed call are still filled in.
type Composer interface {
	Compose(ctx context.Context, req ComposeRequest) (Composition, error)
}

// Budget counts the tokens the model spent, per conversation and per UTC day.
type Budget interface {
	LLMTokensUsed(ctx context.Context, convID int64, day time.Time) (conversation, total int64, err error)
	SpendLLMTokens(ctx context.Context, convID int64, day time.Time, n int64) error
}

// ModelOptions configure the turn's model call (Brain.Model).
type ModelOptions struct {
	Composer Composer
	Budget   Budget // nil: tokens are neither counted nor capped
	// Token caps (0: none); beyond either the draft is sent without a call.
	TokensPerConversation int64
	TokensPerDay          int64
	// MaskPII replaces emails, phone numbers, card numbers, gathered details and Patterns with
	// placeholders before any text reaches the model, and puts them back in its reply.
	MaskPII  bool
	Patterns []pii.Pattern
	History  int // earlier messages the model sees; default 8
	// Observe, if set, hears each turn's outcome ("model", "error", "rejected", "budget",
	// "skipped") and token use, for metrics.
	Observe func(outcome string, promptTokens, completionTokens int)
}

// Limits on what goes to the model and what comes back.
const (
	defaultHistory = 8
	maxPassages    = 6
	maxLineRunes   = 600
	maxPassage     = 1500
	maxReplyRunes  = 1500
)

// placeholder matches what a Vault issues: an unmasked reply that still has one invented it.
var placeholder = regexp.MustCompile(`\[[A-Z][A-Z0-9_]*_[0-9]+\]`)

// write is the turn's model call. It runs after the local engine rendered out's reply (the
// draft) and refreshed the summary when due; on success it replaces the reply's text and
// citations, and the summary, with the model's. Every failure keeps the draft.
func (b *Brain) write(ctx context.Context, st baton.TurnState, d Decision, u understood, out *baton.TurnOutcome) {
	m := b.Model
	if m == nil || m.Composer == nil {
		return
	}
	trace := map[string]any{"used": false}
	outcome := "skipped"
	var prompt, completion int
	defer func() {
		out.Trace["llm"] = trace
		if m.Observe != nil {
			m.Observe(outcome, prompt, completion)
		}
	}()
	draft := -1
	for i, r := range out.Replies {
		if r.Author == baton.AuthorBot && r.Visibility == baton.Public {
			draft = i
		}
	}
	if draft < 0 {
		trace["reason"] = "no reply"
		return
	}
	conv := st.Conversation
	now := b.Clock.Now()
	if m.Budget != nil {
		used, day, err := m.Budget.LLMTokensUsed(ctx, conv.ID, now)
		switch {
		case err != nil:
			// Without the count the cap cannot be kept: the draft is the safe reply.
			b.Log.WarnContext(ctx, "read llm token budget", "conversation_id", conv.ID, "err", err)
			trace["reason"], outcome = "budget unreadable", "budget"
			return
		case m.TokensPerConversation > 0 && used >= m.TokensPerConversation:
			trace["reason"], outcome = "conversation token budget spent", "budget"
			return
		case m.TokensPerDay > 0 && day >= m.TokensPerDay:
			trace["reason"], outcome = "daily token budget spent", "budget"
			return
		}
	}
	vault := pii.NewVault()
	req, sent := b.composeRequest(st, d, u, out, draft, vault)
	trace["passages"], trace["history"], trace["masked"] = len(req.Passages), len(req.History), vault.Len()
	t0 := time.Now()
	res, err := m.Composer.Compose(ctx, req)
	trace["ms"] = float64(time.Since(t0).Microseconds()) / 1000
	prompt, completion = res.PromptTokens, res.CompletionTokens
	trace["prompt_tokens"], trace["completion_tokens"] = prompt, completion
	if res.Model != "" {
		trace["model"] = res.Model
	}
	if res.PromptVersion != "" {
		trace["prompt_version"] = res.PromptVersion
	}
	if m.Budget != nil && prompt+completion > 0 {
		if err := m.Budget.SpendLLMTokens(ctx, conv.ID, now, int64(prompt+completion)); err != nil {
			b.Log.WarnContext(ctx, "count llm tokens", "conversation_id", conv.ID, "err", err)
		}
	}
	if err != nil {
		b.Log.WarnContext(ctx, "llm turn call failed; sending the local reply", "conversation_id", conv.ID, "err", err)
		trace["error"], outcome = clip(err.Error(), 300), "error"
		return
	}
	reply, cites, why := b.accept(res, req, sent, d, vault, out.Replies[draft].Text, lastBotText(st))
	if why != "" {
		b.Log.WarnContext(ctx, "llm reply rejected; sending the local reply", "conversation_id", conv.ID, "reason", why)
		trace["rejected"], outcome = why, "rejected"
		return
	}
	r := &out.Replies[draft]
	r.Meta = maps.Clone(r.Meta)
	if r.Meta == nil {
		r.Meta = map[string]any{}
	}
	r.Text, r.Citations, r.Meta["writer"] = reply, cites, "llm"
	trace["used"], trace["action"], outcome = true, res.Action, "model"
	if res.Action != req.Action {
		trace["policy_action"] = req.Action
	}
	if res.Intent != "" {
		trace["intent"] = clip(res.Intent, 60)
	}
	b.modelDetails(res, vault, u, out)
	if out.Summary != nil && res.Summary != nil {
		if s, ok := summaryText(res.Summary, vault); ok {
			out.Summary = &s
			trace["summary"] = true
		}
	}
}

// composeRequest builds the call's input from the turn, masking every text with vault, and
// the citation of each passage it sends, by ref.
func (b *Brain) composeRequest(st baton.TurnState, d Decision, u understood, out *baton.TurnOutcome, draft int, vault *pii.Vault) (ComposeRequest, map[string]baton.Citation) {
	m := b.Model
	conv := st.Conversation
	mask := func(s string) string { return s }
	if m.MaskPII {
		// A gathered detail is masked wherever it appears, also where no pattern would see it
		// (an order number, a name).
		patterns := slices.Clone(m.Patterns)
		if b.Intents != nil {
			for _, dt := range b.Intents.DetailTypes() {
				if re, err := regexp.Compile(dt.Pattern); err == nil && !dt.Builtin && dt.Pattern != "" {
					patterns = append(patterns, pii.Pattern{Name: dt.Name, Regexp: re})
				}
			}
		}
		for _, t := range slices.Sorted(maps.Keys(u.details)) {
			if re := literal(u.details[t]); re != nil {
				patterns = append(patterns, pii.Pattern{Name: t, Regexp: re})
			}
		}
		for _, part := range strings.Fields(conv.Customer.Name) {
			if re := literal(part); re != nil {
				patterns = append(patterns, pii.Pattern{Name: intents.DetailName, Regexp: re})
			}
		}
		masker := pii.NewMasker(pii.Options{Patterns: patterns})
		mask = func(s string) string { return masker.MaskWith(vault, s) }
	}
	req := ComposeRequest{
		ConversationID: conv.ID, Language: firstNonEmpty(u.language, conv.State.Language),
		Stage: string(d.State.Stage), OpenIntent: d.State.OpenIntent,
		Summary: mask(conv.Summary), Details: map[string]string{},
		Action: string(d.Primary()), Allowed: allowedActions(d), WantSummary: out.Summary != nil,
	}
	for _, t := range d.State.Awaiting {
		req.Awaiting = append(req.Awaiting, detailLabel(b.Intents, t))
	}
	for t, v := range u.details {
		req.Details[detailLabel(b.Intents, t)] = mask(v)
	}
	// The passages the draft's answers stand on come first, then the rest of what was retrieved.
	sent := map[string]baton.Citation{}
	add := func(p Passage) {
		if ref := p.ref(); sent[ref] == (baton.Citation{}) && len(req.Passages) < maxPassages {
			sent[ref] = p.Citation
			req.Passages = append(req.Passages, ComposePassage{ID: ref, Title: p.Citation.Title, Text: mask(clip(p.Text, maxPassage))})
		}
	}
	var rest []Passage
	for _, a := range d.Actions {
		if a.Answer == nil {
			continue
		}
		for _, p := range a.Answer.Passages {
			if slices.ContainsFunc(a.Answer.Citations, func(c baton.Citation) bool { return c.ChunkID == p.Citation.ChunkID }) {
				add(p)
			} else {
				rest = append(rest, p)
			}
		}
		for _, c := range a.Answer.Citations {
			add(Passage{Citation: c, Text: a.Answer.Text}) // a cited chunk the answerer gave no passage for
		}
	}
	for _, msg := range u.msgs {
		for _, a := range msg.Answers {
			rest = append(rest, a.Passages...)
		}
	}
	for _, p := range rest {
		add(p)
	}
	n := m.History
	if n <= 0 {
		n = defaultHistory
	}
	var hist []Line
	for i := len(st.History) - 1; i >= 0 && len(hist) < n; i-- {
		h := st.History[i]
		if h.Visibility != baton.Public || strings.TrimSpace(h.Text) == "" {
			continue
		}
		hist = append(hist, Line{Author: string(h.Author), Text: mask(clip(h.Text, maxLineRunes))})
	}
	slices.Reverse(hist)
	req.History = hist
	for _, p := range st.Pending {
		req.Messages = append(req.Messages, mask(clip(p.Text, 4*maxLineRunes)))
	}
	r := out.Replies[draft]
	req.Draft = mask(r.Text)
	for _, c := range r.Citations {
		req.DraftCites = append(req.DraftCites, Passage{Citation: c}.ref())
	}
	return req, sent
}

// allowedActions is the closed set the model's action must come from: what the policy
// decided, and declining to answer (a clarifying question) where it decided to answer.
func allowedActions(d Decision) []string {
	var out []string
	for _, a := range d.Actions {
		if !slices.Contains(out, string(a.Kind)) {
			out = append(out, string(a.Kind))
		}
	}
	if slices.Contains(out, string(ActAnswer)) && d.Handoff == nil && !slices.Contains(out, string(ActClarify)) {
		out = append(out, string(ActClarify))
	}
	return out
}

// accept checks the model's reply against the turn and returns it unmasked with its
// citations, or why it was rejected.
func (b *Brain) accept(res Composition, req ComposeRequest, sent map[string]baton.Citation, d Decision, vault *pii.Vault, draft, last string) (string, []baton.Citation, string) {
	if !slices.Contains(req.Allowed, res.Action) {
		return "", nil, fmt.Sprintf("action %q is not one the policy allows", clip(res.Action, 40))
	}
	text := strings.TrimSpace(vault.Unmask(res.Reply))
	switch {
	case text == "":
		return "", nil, "empty reply"
	case len([]rune(text)) > maxReplyRunes:
		return "", nil, "reply too long"
	case placeholder.MatchString(text):
		return "", nil, "reply has a placeholder that stands for nothing"
	case text == last && draft != last:
		return "", nil, "reply repeats the previous message"
	}
	var cites []baton.Citation
	for _, ref := range res.Cited {
		ref = strings.TrimSpace(ref)
		c, ok := sent[ref]
		if !ok {
			return "", nil, fmt.Sprintf("cites %q, which was not retrieved", clip(ref, 40))
		}
		if !slices.Contains(cites, c) {
			cites = append(cites, c)
		}
	}
	if res.Action == string(ActAnswer) && len(cites) == 0 {
		return "", nil, "an answer without a citation"
	}
	if res.Action == string(ActClarify) && d.Primary() != ActClarify {
		cites = nil // declined to answer: nothing is cited
	}
	return text, cites, ""
}

// modelDetails files the details the model read in the new messages that local extraction
// missed, when they pass the same validators.
func (b *Brain) modelDetails(res Composition, vault *pii.Vault, u understood, out *baton.TurnOutcome) {
	for t, v := range res.Details {
		if _, known := u.details[t]; known || b.Intents == nil {
			continue
		}
		if _, ok := b.Intents.DetailType(t); !ok {
			continue
		}
		v = strings.TrimSpace(vault.Unmask(v))
		if v == "" || placeholder.MatchString(v) {
			continue
		}
		if det, ok := intents.Validate(t, v, intents.ExtractContext{Now: b.Clock.Now()}); ok && det.Valid {
			out.Details[t] = det.Value
		}
	}
}

// summaryText lays the model's summary out as the running summary is stored.
func summaryText(s *ModelSummary, vault *pii.Vault) (string, bool) {
	issue := strings.TrimSpace(vault.Unmask(s.Issue))
	if issue == "" {
		return "", false
	}
	var b strings.Builder
	fmt.Fprintf(&b, "Issue: %s", clip(issue, 300))
	for _, f := range []struct{ label, text string }{{"Tried", s.Tried}, {"Details", s.Details},
		{"Sentiment", s.Sentiment}, {"Next step", s.NextStep}} {
		if t := strings.TrimSpace(vault.Unmask(f.text)); t != "" {
			fmt.Fprintf(&b, "\n%s: %s", f.label, clip(t, 300))
		}
	}
	return b.String(), true
}

// literal matches v as a whole word (or run of words); nil for values too short to mask
// without hiding ordinary words.
func literal(v string) *regexp.Regexp {
	r := []rune(strings.TrimSpace(v))
	if len(r) < 3 {
		return nil
	}
	expr := regexp.QuoteMeta(string(r))
	if isWordRune(r[0]) {
		expr = `\b` + expr
	}
	if isWordRune(r[len(r)-1]) {
		expr += `\b`
	}
	return regexp.MustCompile(expr)
}

func isWordRune(c rune) bool {
	return c < 128 && (unicode.IsLetter(c) || unicode.IsDigit(c) || c == '_')
}

func firstNonEmpty(ss ...string) string {
	for _, s := range ss {
		if s != "" {
			return s
		}
	}
	return ""
}
