package eval

import (
	"context"
	"flag"
	"fmt"
	"hash/fnv"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/batonhq/baton/intents"
)

// IntentsReport is what `baton eval intents --json` prints. OOS fields are nil when the test
// file has no out-of-scope rows.
type IntentsReport struct {
	Examples        int      `json:"examples"`
	InScopeAccuracy float64  `json:"in_scope_accuracy"`
	OOSRecall       *float64 `json:"oos_recall"`
	OOSPrecision    *float64 `json:"oos_precision"`
	Threshold       float64  `json:"threshold"`
	ECE             float64  `json:"ece"`
	TrainSeconds    float64  `json:"train_seconds"`
	P99Ms           float64  `json:"p99_ms"`

	extra intentsExtra
}

type intentsExtra struct {
	trainRows, devRows, devOOS, classes, features, weights int
	devAccuracy, devECE, temperature, rawAccuracy          float64
	p50Ms                                                  float64
}

// Intents runs `baton eval intents`.
func Intents(ctx context.Context, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("eval intents", flag.ContinueOnError)
	fs.SetOutput(stdout)
	train := fs.String("train", "", "training file: CLINC150 JSONL (text,intent,in_scope) or Banking77 CSV (text,category)")
	dev := fs.String("dev", "", "development file for calibration and the out-of-scope threshold (default: hold out part of --train)")
	test := fs.String("test", "", "test file, same formats")
	testSplit := fs.Float64("test-split", 0, "without --test: hold out this share of --train as the test set (deterministic, by text hash)")
	devFrac := fs.Float64("dev-fraction", 0.1, "share of each intent's training rows held out when --dev is absent")
	maxLoss := fs.Float64("max-inscope-loss", 0, "most in-scope dev accuracy the threshold may give up (default: the classifier's)")
	epochs := fs.Int("epochs", 0, "training epochs (default: the classifier's)")
	lr := fs.Float64("lr", 0, "learning rate (default: the classifier's)")
	l2 := fs.Float64("l2", 0, "L2 decay (default: the classifier's)")
	noRefit := fs.Bool("no-refit", false, "keep the model trained without the dev rows")
	asJSON := fs.Bool("json", false, "print JSON instead of a table")
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: baton eval intents --train FILE [--dev FILE] --test FILE [--json]")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *train == "" || (*test == "" && (*testSplit <= 0 || *testSplit >= 1)) {
		fs.Usage()
		return fmt.Errorf("eval intents: --train and either --test or --test-split are required")
	}
	rep, err := RunIntents(ctx, *train, *dev, *test, *testSplit, intents.Options{DevFraction: *devFrac, MaxInScopeLoss: *maxLoss, NoRefit: *noRefit, Epochs: *epochs, LearningRate: *lr, L2: *l2})
	if err != nil {
		return err
	}
	if *asJSON {
		return writeJSON(stdout, rep)
	}
	t := newTable(stdout)
	t.row("examples (test)", fmt.Sprint(rep.Examples))
	t.row("train rows / dev rows (oos)", fmt.Sprintf("%d / %d (%d)", rep.extra.trainRows, rep.extra.devRows, rep.extra.devOOS))
	t.row("intents / features / weights", fmt.Sprintf("%d / %d / %d", rep.extra.classes, rep.extra.features, rep.extra.weights))
	t.row("in-scope accuracy", f3(rep.InScopeAccuracy))
	t.row("in-scope accuracy, no threshold", f3(rep.extra.rawAccuracy))
	t.row("oos recall", fp3(rep.OOSRecall))
	t.row("oos precision", fp3(rep.OOSPrecision))
	t.row("threshold (chosen on dev)", f3(rep.Threshold))
	t.row("temperature (fit on dev)", f3(rep.extra.temperature))
	t.row("ece (test, in-scope)", f3(rep.ECE))
	t.row("ece (dev)", f3(rep.extra.devECE))
	t.row("dev accuracy", f3(rep.extra.devAccuracy))
	t.row("train seconds", fmt.Sprintf("%.2f", rep.TrainSeconds))
	t.row("latency p50 / p99 ms", fmt.Sprintf("%.3f / %.3f", rep.extra.p50Ms, rep.P99Ms))
	return t.flush()
}

// RunIntents trains on trainPath (dev from devPath, or held out of the training rows) and
// scores testPath.
func RunIntents(ctx context.Context, trainPath, devPath, testPath string, testSplit float64, opts intents.Options) (IntentsReport, error) {
	var rep IntentsReport
	trainRows, err := ReadIntentRows(trainPath)
	if err != nil {
		return rep, fmt.Errorf("read training rows: %w", err)
	}
	var testRows []IntentRow
	if testPath != "" {
		testRows, err = ReadIntentRows(testPath)
		if err != nil {
			return rep, fmt.Errorf("read test rows: %w", err)
		}
	} else {
		var rest []IntentRow
		for _, r := range trainRows {
			if splitHash("test", r.Text) < testSplit {
				testRows = append(testRows, r)
			} else {
				rest = append(rest, r)
			}
		}
		trainRows = rest
	}
	list := groupIntents(trainRows)
	for _, r := range trainRows {
		if !r.InScope {
			// Out-of-scope training rows are never trained on; they tune the threshold.
			opts.OutOfScope = append(opts.OutOfScope, r.Text)
		}
	}
	if devPath != "" {
		devRows, err := ReadIntentRows(devPath)
		if err != nil {
			return rep, fmt.Errorf("read dev rows: %w", err)
		}
		for _, r := range devRows {
			label := r.Intent
			if !r.InScope {
				label = intents.OutOfScope
			}
			opts.Dev = append(opts.Dev, intents.Example{Text: r.Text, Intent: label})
		}
	}
	if err := ctx.Err(); err != nil {
		return rep, err
	}
	start := time.Now()
	clf, err := intents.Train(list, opts)
	if err != nil {
		return rep, fmt.Errorf("train: %w", err)
	}
	rep.TrainSeconds = time.Since(start).Seconds()
	st := clf.Stats()
	rep.Threshold = clf.Threshold()
	rep.extra = intentsExtra{
		trainRows: st.TrainExamples, devRows: st.DevExamples, devOOS: st.DevOOS, classes: st.Classes,
		features: st.Features, weights: st.Weights, devAccuracy: st.DevAccuracy, devECE: st.DevECE,
		temperature: st.Temperature,
	}

	var nIn, okIn, rawOK, nOOS, caught, predOOS int
	var conf []float64
	var correct []bool
	lat := make([]time.Duration, 0, len(testRows))
	for i, r := range testRows {
		if i%1000 == 0 {
			if err := ctx.Err(); err != nil {
				return rep, err
			}
		}
		t0 := time.Now()
		p := clf.Classify(r.Text)
		lat = append(lat, time.Since(t0))
		if p.OutOfScope {
			predOOS++
		}
		if !r.InScope {
			nOOS++
			if p.OutOfScope {
				caught++
			}
			continue
		}
		nIn++
		top := p.Top[0]
		if top.Intent == r.Intent {
			rawOK++
			if !p.OutOfScope {
				okIn++
			}
		}
		conf = append(conf, top.Score)
		correct = append(correct, top.Intent == r.Intent)
	}
	rep.Examples = len(testRows)
	rep.InScopeAccuracy = ratio(okIn, nIn)
	rep.extra.rawAccuracy = ratio(rawOK, nIn)
	if nOOS > 0 {
		rec := ratio(caught, nOOS)
		prec := ratio(caught, predOOS)
		rep.OOSRecall, rep.OOSPrecision = &rec, &prec
	}
	rep.ECE = intents.ECE(conf, correct, 15)
	slices.Sort(lat)
	rep.P99Ms = quantileMs(lat, 0.99)
	rep.extra.p50Ms = quantileMs(lat, 0.50)
	return rep, nil
}

// splitHash maps text to [0,1) deterministically; salt keeps splits independent.
func splitHash(salt, text string) float64 {
	h := fnv.New64a()
	h.Write([]byte(salt))
	h.Write([]byte{0})
	h.Write([]byte(strings.ToLower(strings.Join(strings.Fields(text), " "))))
	return float64(h.Sum64()%1_000_000) / 1_000_000
}

func groupIntents(rows []IntentRow) []intents.Intent {
	idx := map[string]int{}
	var list []intents.Intent
	for _, r := range rows {
		if !r.InScope {
			continue
		}
		i, ok := idx[r.Intent]
		if !ok {
			i = len(list)
			idx[r.Intent] = i
			list = append(list, intents.Intent{Name: r.Intent, Action: intents.ActionAnswer})
		}
		list[i].Examples = append(list[i].Examples, r.Text)
	}
	return list
}

func quantileMs(sorted []time.Duration, q float64) float64 {
	if len(sorted) == 0 {
		return 0
	}
	i := min(int(q*float64(len(sorted))), len(sorted)-1)
	return float64(sorted[i].Microseconds()) / 1000
}
