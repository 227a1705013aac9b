package eval

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"math"
	"path/filepath"
	"strings"

	"github.com/batonhq/baton/intents/sentiment"
)

// SentimentReport is what `baton eval sentiment --json` prints; fields that do not apply to the
// file's format are nil.
type SentimentReport struct {
	Examples  int                       `json:"examples"`
	Accuracy  *float64                  `json:"accuracy"`
	MacroF1   *float64                  `json:"macro_f1"`
	PearsonR  *float64                  `json:"pearson_r"`
	Confusion map[string]map[string]int `json:"confusion,omitempty"`
}

var sentimentLabels = []string{sentiment.Negative, sentiment.Neutral, sentiment.Positive}

// VADERNeutralBand is the raters' mean (on -4..4) at or below which a VADER text counts as
// neutral when 3 classes are derived from it: half a step of the rating scale.
const VADERNeutralBand = 0.5

// Sentiment runs `baton eval sentiment`.
func Sentiment(ctx context.Context, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("eval sentiment", flag.ContinueOnError)
	fs.SetOutput(stdout)
	data := fs.String("data", "", "labelled file: airline CSV (airline_sentiment,text) VADER JSONL (mean_rating,text) or labelled JSONL (label,text)")
	fit := fs.Bool("fit-thresholds", false, "VADER JSONL only: print the label cut-offs that maximise macro-F1 on this file")
	asJSON := fs.Bool("json", false, "print JSON instead of a table")
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: baton eval sentiment --data FILE [--json] [--fit-thresholds]")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *data == "" {
		fs.Usage()
		return fmt.Errorf("eval sentiment: --data is required")
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	texts, gold, ratings, err := readSentiment(*data)
	if err != nil {
		return err
	}
	if *fit {
		if ratings == nil {
			// Thresholds are set on MIT-licensed VADER data only, never on evaluation-only sets.
			return fmt.Errorf("eval sentiment: --fit-thresholds needs VADER JSONL with mean_rating")
		}
		neg, pos, f1 := FitThresholds(texts, ratings)
		fmt.Fprintf(stdout, "negative below %.2f, positive above %.2f (macro-F1 %.3f on %d texts)\n", neg, pos, f1, len(texts))
		return nil
	}
	rep := SentimentReport{Examples: len(texts)}
	scores := make([]float64, len(texts))
	pred := make([]string, len(texts))
	for i, t := range texts {
		r := sentiment.Score(t)
		scores[i], pred[i] = r.Score, r.Label
	}
	if ratings != nil {
		r := pearson(scores, ratings)
		rep.PearsonR = &r
		gold = make([]string, len(ratings))
		for i, v := range ratings {
			gold[i] = vaderClass(v)
		}
	}
	acc, f1, conf := classMetrics(gold, pred)
	rep.Accuracy, rep.MacroF1, rep.Confusion = &acc, &f1, conf
	if *asJSON {
		if ratings != nil {
			// 3 classes derived from ratings are shown in the table only; the JSON keeps
			// accuracy for labelled sets as the report format asks.
			rep.Accuracy, rep.MacroF1, rep.Confusion = nil, nil, nil
		}
		return writeJSON(stdout, rep)
	}
	t := newTable(stdout)
	t.row("examples", fmt.Sprint(rep.Examples))
	if rep.PearsonR != nil {
		t.row("pearson r (score vs mean rating)", f3(*rep.PearsonR))
		t.row(fmt.Sprintf("3-class accuracy (|mean| <= %.1f neutral)", VADERNeutralBand), f3(acc))
		t.row("3-class macro-F1", f3(f1))
	} else {
		t.row("accuracy", f3(acc))
		t.row("macro-F1", f3(f1))
	}
	t.row("")
	t.row(append([]string{"gold \\ predicted"}, sentimentLabels...)...)
	for _, g := range sentimentLabels {
		cols := []string{g}
		for _, p := range sentimentLabels {
			cols = append(cols, fmt.Sprint(conf[g][p]))
		}
		t.row(cols...)
	}
	return t.flush()
}

func vaderClass(r float64) string {
	switch {
	case r > VADERNeutralBand:
		return sentiment.Positive
	case r < -VADERNeutralBand:
		return sentiment.Negative
	}
	return sentiment.Neutral
}

// readSentiment returns texts and either gold labels (CSV, or JSONL with label) or mean
// ratings (JSONL with mean_rating).
func readSentiment(path string) (texts, gold []string, ratings []float64, err error) {
	switch strings.ToLower(filepath.Ext(path)) {
	case ".csv":
		rows, err := readCSV(path, "airline_sentiment", "text")
		if err != nil {
			return nil, nil, nil, err
		}
		for _, m := range rows {
			texts = append(texts, m["text"])
			gold = append(gold, strings.ToLower(strings.TrimSpace(m["airline_sentiment"])))
		}
	case ".jsonl", ".json":
		err := readJSONL(path, func(_ int, raw []byte) error {
			var r struct {
				Text       string   `json:"text"`
				MeanRating *float64 `json:"mean_rating"`
				Label      *string  `json:"label"`
			}
			if err := json.Unmarshal(raw, &r); err != nil {
				return err
			}
			switch {
			case r.MeanRating != nil && len(gold) == 0:
				ratings = append(ratings, *r.MeanRating)
			case r.Label != nil && len(ratings) == 0:
				gold = append(gold, strings.ToLower(strings.TrimSpace(*r.Label)))
			case r.MeanRating == nil && r.Label == nil:
				return fmt.Errorf("missing mean_rating or label")
			default:
				return fmt.Errorf("rows mix mean_rating and label")
			}
			texts = append(texts, r.Text)
			return nil
		})
		if err != nil {
			return nil, nil, nil, err
		}
	default:
		return nil, nil, nil, fmt.Errorf("%s: unknown format (want .csv or .jsonl)", path)
	}
	if len(texts) == 0 {
		return nil, nil, nil, fmt.Errorf("%s: no rows", path)
	}
	return texts, gold, ratings, nil
}

// FitThresholds grid-searches the label cut-offs that maximise 3-class macro-F1 against classes
// derived from VADER mean ratings.
func FitThresholds(texts []string, ratings []float64) (neg, pos, bestF1 float64) {
	scores := make([]float64, len(texts))
	gold := make([]string, len(texts))
	for i, t := range texts {
		scores[i] = sentiment.Score(t).Score
		gold[i] = vaderClass(ratings[i])
	}
	pred := make([]string, len(texts))
	bestF1 = -1
	for n := -0.60; n <= 0.001; n += 0.05 {
		for p := 0.0; p <= 0.601; p += 0.05 {
			for i, s := range scores {
				switch {
				case s < n:
					pred[i] = sentiment.Negative
				case s > p:
					pred[i] = sentiment.Positive
				default:
					pred[i] = sentiment.Neutral
				}
			}
			if _, f1, _ := classMetrics(gold, pred); f1 > bestF1+1e-9 {
				bestF1, neg, pos = f1, n, p
			}
		}
	}
	return math.Round(neg*100) / 100, math.Round(pos*100) / 100, bestF1
}

// classMetrics returns accuracy, macro-F1 over the three labels, and the confusion matrix.
func classMetrics(gold, pred []string) (acc, macroF1 float64, conf map[string]map[string]int) {
	conf = map[string]map[string]int{}
	for _, g := range sentimentLabels {
		conf[g] = map[string]int{}
	}
	ok := 0
	for i := range gold {
		if conf[gold[i]] == nil {
			conf[gold[i]] = map[string]int{}
		}
		conf[gold[i]][pred[i]]++
		if gold[i] == pred[i] {
			ok++
		}
	}
	for _, l := range sentimentLabels {
		tp := conf[l][l]
		fp, fn := 0, 0
		for _, g := range sentimentLabels {
			if g != l {
				fp += conf[g][l]
				fn += conf[l][g]
			}
		}
		if tp > 0 {
			p, r := float64(tp)/float64(tp+fp), float64(tp)/float64(tp+fn)
			macroF1 += 2 * p * r / (p + r)
		}
	}
	return ratio(ok, len(gold)), macroF1 / float64(len(sentimentLabels)), conf
}

func pearson(x, y []float64) float64 {
	n := float64(len(x))
	if n == 0 {
		return 0
	}
	var mx, my float64
	for i := range x {
		mx += x[i]
		my += y[i]
	}
	mx /= n
	my /= n
	var sxy, sxx, syy float64
	for i := range x {
		dx, dy := x[i]-mx, y[i]-my
		sxy += dx * dy
		sxx += dx * dx
		syy += dy * dy
	}
	if sxx == 0 || syy == 0 {
		return 0
	}
	return sxy / math.Sqrt(sxx*syy)
}
