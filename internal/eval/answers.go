// Package eval measures Baton end to end: questions go in as customers through the real
// pipeline (webhook → turn → delivery) in a sandbox, and the replies are scored.
package eval

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math"
	"os"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/internal/app"
	"github.com/batonhq/baton/internal/convtest"
	"github.com/batonhq/baton/internal/sandbox"
	"github.com/batonhq/baton/knowledge"
)

// Question is one line of a questions file.
type Question struct {
	QID         string   `json:"qid"`
	Text        string   `json:"text"`
	Gold        *string  `json:"gold"` // external key of the article that answers it; nil = out of scope
	MustContain []string `json:"must_contain"`
}

// ReadQuestions reads JSONL questions; errors name the line.
func ReadQuestions(path string) ([]Question, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("open questions: %w", err)
	}
	defer f.Close()
	var out []Question
	seen := map[string]bool{}
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" {
			continue
		}
		var q Question
		dec := json.NewDecoder(strings.NewReader(line))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&q); err != nil {
			return nil, fmt.Errorf("%s:%d: %w", path, n, err)
		}
		if q.QID == "" || strings.TrimSpace(q.Text) == "" {
			return nil, fmt.Errorf("%s:%d: qid and text are required", path, n)
		}
		if seen[q.QID] {
			return nil, fmt.Errorf("%s:%d: duplicate qid %q", path, n, q.QID)
		}
		seen[q.QID] = true
		out = append(out, q)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read questions: %w", err)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%s: no questions", path)
	}
	return out, nil
}

// Answer is what Baton did with one question.
type Answer struct {
	Question  Question
	Reply     string   // the public replies, joined
	Replied   bool     // a reply was delivered in time
	Cites     []string // external keys of the cited articles
	Actions   []string // the turn traces' action and actions
	Why       []string // per turn: intent, answer confidence, handoff reason (for --verbose)
	LatencyMs float64  // post to delivery
	Err       string
}

// InScope reports whether the question has a gold article.
func (a Answer) InScope() bool { return a.Question.Gold != nil }

// CitedRight reports whether the gold article was cited.
func (a Answer) CitedRight() bool { return a.InScope() && slices.Contains(a.Cites, *a.Question.Gold) }

// Right reports whether every must_contain string is in the reply and the gold is cited.
func (a Answer) Right() bool {
	if !a.CitedRight() {
		return false
	}
	reply := strings.ToLower(a.Reply)
	for _, m := range a.Question.MustContain {
		if !strings.Contains(reply, strings.ToLower(m)) {
			return false
		}
	}
	return true
}

// Report is the summary of `baton eval answers --json`. Fractions are of the in-scope
// questions, except out_of_scope_uncited (of the out-of-scope ones); empty_replies is a count.
type Report struct {
	Questions         int     `json:"questions"`
	AnsweredRight     float64 `json:"answered_right"`
	CitedRight        float64 `json:"cited_right"`
	NoAnswer          float64 `json:"no_answer"`
	AskedForDetail    float64 `json:"asked_for_detail"`
	EmptyReplies      int     `json:"empty_replies"`
	OutOfScopeUncited float64 `json:"out_of_scope_uncited"`
	P50Ms             float64 `json:"p50_ms"`
	P99Ms             float64 `json:"p99_ms"`
}

// Score summarises answers.
func Score(as []Answer) Report {
	r := Report{Questions: len(as)}
	var in, out, right, cited, noAnswer, asked, outUncited int
	var lats []float64
	for _, a := range as {
		if !a.Replied || strings.TrimSpace(a.Reply) == "" {
			r.EmptyReplies++
		}
		if a.Replied {
			lats = append(lats, a.LatencyMs)
		}
		if !a.InScope() {
			out++
			if len(a.Cites) == 0 {
				outUncited++
			}
			continue
		}
		in++
		if a.Right() {
			right++
		}
		if a.CitedRight() {
			cited++
		}
		if len(a.Cites) == 0 {
			noAnswer++
		}
		if slices.Contains(a.Actions, "ask_detail") {
			asked++
		}
	}
	r.AnsweredRight, r.CitedRight = frac(right, in), frac(cited, in)
	r.NoAnswer, r.AskedForDetail = frac(noAnswer, in), frac(asked, in)
	r.OutOfScopeUncited = frac(outUncited, out)
	r.P50Ms, r.P99Ms = Percentile(lats, 50), Percentile(lats, 99)
	return r
}

func frac(n, of int) float64 {
	if of == 0 {
		return 0
	}
	return math.Round(float64(n)/float64(of)*1000) / 1000
}

// Percentile is the nearest-rank percentile, rounded to 0.1.
func Percentile(xs []float64, p float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := append([]float64(nil), xs...)
	sort.Float64s(s)
	i := int(math.Ceil(p/100*float64(len(s)))) - 1
	return math.Round(s[max(0, min(i, len(s)-1))]*10) / 10
}

// AnswersOptions configure an answer evaluation.
type AnswersOptions struct {
	KB        string // folder (or file) of articles, imported as `baton kb import` does
	Questions []Question
	Parallel  int           // questions in flight (default 8)
	Timeout   time.Duration // per question (default 30s)
	KeepLLM   bool          // keep the configured LLM settings
	Getenv    func(string) string
	Log       *slog.Logger
}

// Answers imports the articles into a sandbox (without the demo help centre) and sends each
// question as a new customer through the real pipeline, collecting the replies.
func Answers(ctx context.Context, o AnswersOptions) ([]Answer, error) {
	if o.Parallel <= 0 {
		o.Parallel = 8
	}
	if o.Timeout <= 0 {
		o.Timeout = 30 * time.Second
	}
	sb, err := sandbox.New(ctx, sandbox.Options{Getenv: o.Getenv, KeepLLM: o.KeepLLM, Log: o.Log,
		Prepare: func(ctx context.Context, a *app.App) error { return importKB(ctx, a, o.KB) }})
	if err != nil {
		return nil, err
	}
	defer sb.Close()
	b, err := sb.Start(ctx, sandbox.StartOptions{Env: map[string]string{"BATON_BURST_WINDOW": "0s"}})
	if err != nil {
		return nil, err
	}
	out := make([]Answer, len(o.Questions))
	sem := make(chan struct{}, o.Parallel)
	var wg sync.WaitGroup
	run := fmt.Sprintf("%d", time.Now().UnixNano())
	for i, q := range o.Questions {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			out[i] = ask(ctx, b, run, q, o.Timeout)
		}()
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return out, nil
}

// importKB reads the source and imports it published, then embeds it: the path of `baton kb import`.
func importKB(ctx context.Context, a *app.App, source string) error {
	o := knowledge.ImportOptions{Status: knowledge.StatusPublished, Language: "en"}
	items, err := a.Knowledge.ReadSource(ctx, source, o)
	if err != nil {
		return fmt.Errorf("read %s: %w", source, err)
	}
	sum, err := a.Knowledge.ImportItems(ctx, 0, "import "+source, items, o, nil)
	if err != nil {
		return fmt.Errorf("import %s: %w", source, err)
	}
	if sum.Failed > 0 {
		return fmt.Errorf("import %s: %d of %d articles failed: %+v", source, sum.Failed, sum.Total(), sum.Failures)
	}
	if sum.Added+sum.Updated == 0 {
		return fmt.Errorf("import %s: no articles", source)
	}
	if _, err := a.Knowledge.EmbedPending(ctx, nil); err != nil {
		return fmt.Errorf("embed %s: %w", source, err)
	}
	return nil
}

func ask(ctx context.Context, b *sandbox.Baton, run string, q Question, timeout time.Duration) Answer {
	a := Answer{Question: q}
	sender := baton.Sender{ID: "eval-" + run + "-" + q.QID}
	start := time.Now()
	res, err := b.Send(ctx, sender, sender.ID+"-1", q.Text)
	if err != nil {
		a.Err = err.Error()
		return a
	}
	wctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var got []sandbox.Delivery
	for {
		if got = b.Sink.For(res.ConversationID); len(got) > 0 {
			break
		}
		if err := b.Sink.Wait(wctx); err != nil {
			// A turn that sends nothing leaves the message processed with no reply.
			a.Err = "no reply within " + timeout.String()
			break
		}
	}
	if len(got) > 0 {
		a.Replied = true
		a.LatencyMs = float64(got[0].At.Sub(start).Microseconds()) / 1000
	}
	db := b.DB.Pool
	rows, err := db.Query(ctx, `SELECT m.body, coalesce((SELECT array_agg(a.external_key)
			FROM jsonb_array_elements(m.citations) c JOIN kb_articles a ON a.id = (c->>'article_id')::bigint), '{}')
		FROM messages m WHERE m.conversation_id = $1 AND m.author = 'bot' AND m.visibility = 'public' ORDER BY m.id`, res.ConversationID)
	if err != nil {
		a.Err = err.Error()
		return a
	}
	var texts []string
	for rows.Next() {
		var text string
		var keys []string
		if err := rows.Scan(&text, &keys); err != nil {
			a.Err = err.Error()
			break
		}
		texts = append(texts, text)
		for _, k := range keys {
			if !slices.Contains(a.Cites, k) {
				a.Cites = append(a.Cites, k)
			}
		}
	}
	rows.Close()
	a.Reply = strings.Join(texts, "\n")
	rows, err = db.Query(ctx, `SELECT coalesce(data->>'action', ''), coalesce(data->'actions', '[]'),
		concat_ws(' ', 'intent=' || (data->>'intent'), 'score=' || (data->>'score'), 'confidence=' || (data->>'confidence'),
			'handoff=' || (data->>'handoff_reason'))
		FROM turn_traces WHERE conversation_id = $1 ORDER BY id`, res.ConversationID)
	if err != nil {
		a.Err = err.Error()
		return a
	}
	defer rows.Close()
	for rows.Next() {
		var action, why string
		var raw []byte
		if rows.Scan(&action, &raw, &why) != nil {
			continue
		}
		a.Why = append(a.Why, why)
		if action != "" {
			a.Actions = append(a.Actions, action)
		}
		a.Actions = append(a.Actions, convtest.ActionNames(raw)...)
	}
	return a
}

// Write prints the report as JSON, or as text; verbose adds one line per question.
func Write(w io.Writer, as []Answer, asJSON, verbose bool) error {
	r := Score(as)
	if verbose {
		for _, a := range as {
			verdict := "out-of-scope"
			switch {
			case a.InScope() && a.Right():
				verdict = "right"
			case a.InScope():
				verdict = "wrong"
			case len(a.Cites) > 0:
				verdict = "out-of-scope-cited"
			}
			gold := "-"
			if a.Question.Gold != nil {
				gold = *a.Question.Gold
			}
			fmt.Fprintf(w, "%s\t%s\tgold=%s cited=%s actions=%s %.0fms%s\n\t%s\n\t%s\n\t→ %s\n", a.Question.QID, verdict, gold,
				strings.Join(a.Cites, ","), strings.Join(a.Actions, ","), a.LatencyMs, errSuffix(a.Err), a.Question.Text,
				strings.Join(a.Why, " | "),
				strings.ReplaceAll(a.Reply, "\n", " ⏎ "))
		}
	}
	if asJSON {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(r)
	}
	fmt.Fprintf(w, "questions            %d\nanswered right       %.3f\ncited right          %.3f\nno answer            %.3f\nasked for a detail   %.3f\nempty replies        %d\nout of scope uncited %.3f\nlatency p50 / p99    %.0f / %.0f ms\n",
		r.Questions, r.AnsweredRight, r.CitedRight, r.NoAnswer, r.AskedForDetail, r.EmptyReplies, r.OutOfScopeUncited, r.P50Ms, r.P99Ms)
	return nil
}

func errSuffix(e string) string {
	if e == "" {
		return ""
	}
	return " (" + e + ")"
}
