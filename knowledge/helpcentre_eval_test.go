package knowledge_test

import (
	"bufio"
	"encoding/json"
	"github.com/batonhq/baton/bot"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/batonhq/baton/knowledge"
)

// The second help centre (internal/eval/testdata/helpcentre): an invented broadband provider,
// written independently of the demo. Only its dev half is read here; questions_test.jsonl is
// held out and run once by `baton eval answers`, never by a unit test.
const (
	helpCentreArticles = "../internal/eval/testdata/helpcentre/articles"
	helpCentreDev      = "../internal/eval/testdata/helpcentre/questions_dev.jsonl"
	// helpCentreDev2 was written later, from the articles alone, to check that rules tuned on
	// the first dev half generalise (they had not: the held-out half scored like this one).
	helpCentreDev2 = "../internal/eval/testdata/helpcentre/questions_dev2.jsonl"
)

type helpCentreQuestion struct {
	QID         string   `json:"qid"`
	Text        string   `json:"text"`
	Gold        *string  `json:"gold"`
	MustContain []string `json:"must_contain"`
}

// TestHelpCentreDevEvaluation answers the second help centre's dev questions (both dev files) through
// Service.Answer at the default threshold and keeps its figures from regressing: a guard that
// the engine's rules are not tuned to the demo help centre alone. BATON_EVAL_VERBOSE=1 lists
// every question.
func TestHelpCentreDevEvaluation(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name          string
		path          string
		floorRight    float64
		floorDeclined float64
	}{
		{name: "dev", path: helpCentreDev, floorRight: helpCentreFloorDevRight, floorDeclined: helpCentreFloorDeclined},
		{name: "dev2", path: helpCentreDev2, floorRight: helpCentreFloorDev2Right, floorDeclined: helpCentreFloorDev2Declined},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			helpCentreEval(t, tt.path, tt.floorRight, tt.floorDeclined)
		})
	}
}

func helpCentreEval(t *testing.T, path string, floorRight, floorDeclined float64) {
	b := setup(t, func(o *knowledge.Options) { o.Embedder = newCountingEmbedder(t, 384) })
	io := knowledge.ImportOptions{Status: knowledge.StatusPublished, Language: "en"}
	items, err := b.svc.ReadSource(t.Context(), helpCentreArticles, io)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.svc.ImportItems(t.Context(), 0, "helpcentre", items, io, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := b.svc.EmbedPending(t.Context(), nil); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	verbose := os.Getenv("BATON_EVAL_VERBOSE") != ""
	var in, out, right, declined, noAnswer int
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var q helpCentreQuestion
		if err := json.Unmarshal(sc.Bytes(), &q); err != nil {
			t.Fatal(err)
		}
		// Like the bot, each question of a message is asked on its own.
		var texts, cites []string
		var ans knowledge.Answer
		for _, part := range bot.Questions(q.Text) {
			a, err := b.svc.Answer(t.Context(), part, knowledge.AnswerOptions{})
			if err != nil {
				t.Fatalf("answer %q: %v", part, err)
			}
			if len(ans.Chunks) == 0 || !a.NoAnswer {
				ans = a
			}
			if a.NoAnswer || len(a.Citations) == 0 {
				continue
			}
			texts = append(texts, a.Text)
			for _, h := range a.Chunks {
				if h.ArticleID == a.Citations[0].ArticleID {
					cites = append(cites, h.ExternalKey)
					break
				}
			}
		}
		reply := strings.ToLower(strings.Join(texts, " "))
		cited := strings.Join(cites, ",")
		ok := false
		if q.Gold == nil {
			out++
			ok = len(cites) == 0
			if ok {
				declined++
			}
		} else {
			in++
			ok = slices.Contains(cites, *q.Gold)
			for _, m := range q.MustContain {
				ok = ok && strings.Contains(reply, strings.ToLower(m))
			}
			if len(cites) == 0 {
				noAnswer++
			}
			if ok {
				right++
			}
		}
		if verbose {
			gold := "-"
			if q.Gold != nil {
				gold = *q.Gold
			}
			var top []string
			for _, h := range ans.Chunks {
				s := h.ExternalKey
				if h.FTS != nil {
					s += "/f" + itoa(h.FTS.Rank)
				}
				if h.Vector != nil {
					s += "/v" + itoa(h.Vector.Rank)
				}
				top = append(top, s)
			}
			sig, _ := ans.Trace["retrieval"].(map[string]any)["confidence"]
			t.Logf("%s ok=%v conf=%.3f %v gold=%s cited=%s\n  Q: %s\n  hits: %v\n  A: %s", q.QID, ok, ans.Confidence, sig, gold, cited, q.Text, top, reply)
		}
	}
	t.Logf("helpcentre %s: answered_right %.3f (%d/%d), no_answer %.3f, out_of_scope_declined %.3f (%d/%d)",
		path[strings.LastIndex(path, "/")+1:], float64(right)/float64(in), right, in, float64(noAnswer)/float64(in), float64(declined)/float64(out), declined, out)
	if r := float64(right) / float64(in); r < floorRight {
		t.Errorf("helpcentre answered_right %.3f, floor %.2f", r, floorRight)
	}
	if r := float64(declined) / float64(out); r < floorDeclined {
		t.Errorf("helpcentre out-of-scope declined %.3f, floor %.2f", r, floorDeclined)
	}
}

// Floors for TestHelpCentreDevEvaluation: the figures measured at the last tuning less about
// 0.05. dev: answered_right 0.762, out of scope declined 1.0; dev2: answered_right 0.690,
// out of scope declined 0.833 (5/6).
const (
	helpCentreFloorDevRight = 0.71
	helpCentreFloorDeclined = 0.83

	helpCentreFloorDev2Right    = 0.64
	helpCentreFloorDev2Declined = 0.78
)

func itoa(n int) string { return strconv.Itoa(n) }
