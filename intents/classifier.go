package intents

import (
	"cmp"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"time"
)

// Example is one labelled message. Intent is OutOfScope (or "") for an out-of-scope message.
type Example struct {
	Text   string `json:"text"`
	Intent string `json:"intent"`
}

// Options tune Train. The zero value is a good default.
type Options struct {
	// Dev holds labelled development rows: temperature and out-of-scope threshold are chosen on
	// them, never on training rows. When empty, DevFraction of each intent's examples is held
	// out (chosen by a hash of the text, so the split is deterministic).
	Dev []Example
	// OutOfScope adds out-of-scope messages to the development rows (see DefaultOutOfScope).
	OutOfScope []string
	// DevFraction is the share of each intent's examples held out when Dev is empty (0.2).
	DevFraction float64
	// Threshold, when > 0, fixes the out-of-scope threshold instead of choosing it on Dev.
	Threshold float64
	// MaxInScopeLoss caps how much in-scope dev accuracy the threshold may give up to catch
	// out-of-scope rows (0.005, and at least one dev row): turning away a customer whose
	// request was understood costs more than answering an off-topic one with a fallback.
	MaxInScopeLoss float64
	// NoRefit keeps the model trained without the dev rows. By default, after temperature and
	// threshold are chosen, the model is retrained on training and in-scope dev rows together
	// with the same settings, since every example counts when admins give only a dozen.
	NoRefit bool
	// Epochs, L2 and LearningRate tune the optimiser (auto: 12 passes, more for small sets;
	// 1e-5; 0.5).
	Epochs       int
	L2           float64
	LearningRate float64
	// Seed makes shuffling reproducible (1).
	Seed uint64
}

func (o Options) withDefaults() Options {
	if o.DevFraction <= 0 || o.DevFraction >= 1 {
		o.DevFraction = 0.2
	}
	if o.MaxInScopeLoss <= 0 {
		o.MaxInScopeLoss = 0.005
	}
	if o.L2 <= 0 {
		o.L2 = 1e-5
	}
	if o.LearningRate <= 0 {
		o.LearningRate = 0.5
	}
	if o.Seed == 0 {
		o.Seed = 1
	}
	return o
}

// Scored is one intent with its calibrated probability.
type Scored struct {
	Intent string  `json:"intent"`
	Score  float64 `json:"score"`
}

// Prediction is the classifier's answer for one message. Intent is OutOfScope when the best
// score is below the threshold; Top still lists the best candidates.
type Prediction struct {
	Intent     string   `json:"intent"`
	Score      float64  `json:"score"`
	OutOfScope bool     `json:"out_of_scope"`
	Top        []Scored `json:"top"`
}

// TopN is how many candidates a Prediction lists.
const TopN = 3

// Classifier is a multinomial logistic regression over hashed word and character n-grams,
// calibrated by temperature scaling. It is immutable and safe for concurrent use.
type Classifier struct {
	classes   []string
	index     map[uint64]int32 // feature id -> row
	idf       []float32        // per row
	rowStart  []int32          // CSR rows over cls/w, len(rows)+1
	cls       []uint16
	w         []float32
	bias      []float32
	unseenIDF float32
	temp      float64
	threshold float64

	stats Stats
}

// Stats describe how a classifier was trained.
type Stats struct {
	Classes       int           `json:"classes"`
	TrainExamples int           `json:"train_examples"`
	DevExamples   int           `json:"dev_examples"`
	DevOOS        int           `json:"dev_oos"`
	Features      int           `json:"features"`
	Weights       int           `json:"weights"`
	Temperature   float64       `json:"temperature"`
	Threshold     float64       `json:"threshold"`
	DevAccuracy   float64       `json:"dev_accuracy"`
	DevECE        float64       `json:"dev_ece"`
	TrainTime     time.Duration `json:"train_time"`
}

// Stats returns training facts for logs and evaluation.
func (c *Classifier) Stats() Stats { return c.stats }

// Threshold returns the out-of-scope threshold on calibrated scores.
func (c *Classifier) Threshold() float64 { return c.threshold }

// Intents returns the class names in training order.
func (c *Classifier) Intents() []string { return slices.Clone(c.classes) }

// Train builds a classifier from the intents' examples. See Options for how the development
// split is formed. It returns an error when there is nothing to learn from.
func Train(list []Intent, opts Options) (*Classifier, error) {
	start := time.Now()
	opts = opts.withDefaults()
	classOf := map[string]int{}
	var classes []string
	for _, in := range list {
		if _, dup := classOf[in.Name]; dup || in.Name == "" || in.Name == OutOfScope {
			continue
		}
		classOf[in.Name] = len(classes)
		classes = append(classes, in.Name)
	}
	if len(classes) == 0 {
		return nil, errors.New("train intent classifier: no intents")
	}
	if len(classes) > math.MaxUint16 {
		return nil, fmt.Errorf("train intent classifier: %d intents is too many", len(classes))
	}
	type row struct {
		text  string
		class int // -1: out of scope
	}
	var train, dev []row
	carve := len(opts.Dev) == 0
	for _, in := range list {
		ci, ok := classOf[in.Name]
		if !ok {
			continue
		}
		for _, ex := range in.Examples {
			// An example without words ("👍") has no features: it would teach only the bias, and
			// pull every message of unseen words into its intent. Model.Classify matches it
			// exactly instead.
			if len(tokens(ex)) == 0 {
				continue
			}
			// Keep at least one training row per intent by never holding out the first example.
			if carve && len(in.Examples) > 1 && ex != in.Examples[0] && heldOut(ex, opts.DevFraction) {
				dev = append(dev, row{ex, ci})
			} else {
				train = append(train, row{ex, ci})
			}
		}
	}
	for _, ex := range opts.Dev {
		ci, ok := classOf[ex.Intent]
		if !ok {
			if ex.Intent != "" && ex.Intent != OutOfScope && ex.Intent != "oos" {
				continue // an intent that no longer exists
			}
			ci = -1
		}
		dev = append(dev, row{ex.Text, ci})
	}
	for _, t := range opts.OutOfScope {
		dev = append(dev, row{t, -1})
	}
	if len(train) == 0 {
		return nil, errors.New("train intent classifier: no examples")
	}

	toExamples := func(rows []row) ([]string, []int) {
		texts := make([]string, len(rows))
		labels := make([]int, len(rows))
		for i, r := range rows {
			texts[i], labels[i] = r.text, r.class
		}
		return texts, labels
	}
	trTexts, trLabels := toExamples(train)
	devTexts, devLabels := toExamples(dev)

	c := fit(classes, trTexts, trLabels, opts)
	c.temp = 1
	c.threshold = opts.Threshold
	var devAcc, devECE float64
	var nDevOOS int
	if len(dev) > 0 {
		logits := make([][]float64, len(dev))
		for i, t := range devTexts {
			logits[i] = c.logits(t)
		}
		c.temp = fitTemperature(logits, devLabels)
		probs := make([][]float64, len(dev))
		for i := range logits {
			probs[i] = softmax(logits[i], c.temp)
		}
		if opts.Threshold <= 0 {
			c.threshold = chooseThreshold(probs, devLabels, opts.MaxInScopeLoss)
		}
		devAcc, devECE, nDevOOS = devMetrics(probs, devLabels, c.threshold)
	}
	if !opts.NoRefit && len(dev) > 0 {
		for i, l := range devLabels {
			if l >= 0 {
				trTexts = append(trTexts, devTexts[i])
				trLabels = append(trLabels, l)
			}
		}
		refit := fit(classes, trTexts, trLabels, opts)
		refit.temp, refit.threshold = c.temp, c.threshold
		c = refit
	}
	c.stats = Stats{
		Classes: len(classes), TrainExamples: len(trTexts), DevExamples: len(dev), DevOOS: nDevOOS,
		Features: len(c.index), Weights: len(c.w), Temperature: c.temp, Threshold: c.threshold,
		DevAccuracy: devAcc, DevECE: devECE, TrainTime: time.Since(start),
	}
	return c, nil
}

// heldOut decides deterministically, from the text alone, whether a row goes to the dev split.
func heldOut(text string, frac float64) bool {
	h := hashString('d', strings.ToLower(strings.TrimSpace(text)))
	return float64(h%10000) < frac*10000
}

// fit trains the weights by stochastic gradient descent on the softmax loss with L2 decay.
func fit(classes []string, texts []string, labels []int, opts Options) *Classifier {
	nc := len(classes)
	raws := make([]map[uint64]float32, len(texts))
	df := map[uint64]int32{}
	for i, t := range texts {
		raws[i] = rawFeatures(t)
		for id := range raws[i] {
			df[id]++
		}
	}
	n := float64(len(texts))
	index := make(map[uint64]int32, len(df))
	ids := make([]uint64, 0, len(df))
	for id := range df {
		ids = append(ids, id)
	}
	slices.Sort(ids) // deterministic row order
	idf := make([]float32, len(ids))
	for i, id := range ids {
		index[id] = int32(i)
		idf[i] = float32(math.Log((n+1)/(float64(df[id])+1)) + 1)
	}
	unseen := float32(math.Log(n+1) + 1)
	lookup := func(id uint64) (float32, bool) {
		r, ok := index[id]
		if !ok {
			return 0, false
		}
		return idf[r], true
	}
	type sparse struct {
		rows []int32
		vals []float32
	}
	vecs := make([]sparse, len(texts))
	for i, raw := range raws {
		fs := sortedFeatures(vectorize(raw, lookup, unseen))
		s := sparse{rows: make([]int32, len(fs)), vals: make([]float32, len(fs))}
		for j, f := range fs {
			s.rows[j], s.vals[j] = index[f.id], f.val
		}
		vecs[i] = s
	}

	// Dense while training (rows x classes); pruned to sparse rows afterwards.
	W := make([]float32, len(ids)*nc)
	bias := make([]float64, nc)
	scale := 1.0 // W_true = scale * W, so L2 decay costs O(1) per step
	order := make([]int, len(texts))
	for i := range order {
		order[i] = i
	}
	rng := rand.New(rand.NewPCG(opts.Seed, 0x9e3779b97f4a7c15))
	z := make([]float64, nc)
	p := make([]float64, nc)
	active := make([]int, 0, nc)
	epochs := opts.Epochs
	if epochs <= 0 {
		// A dozen examples per intent need many more passes than CLINC's 15,000 rows.
		epochs = max(12, min(200, 30000/max(len(texts), 1)))
	}
	steps := epochs * len(texts)
	t := 0
	for ep := 0; ep < epochs; ep++ {
		rng.Shuffle(len(order), func(i, j int) { order[i], order[j] = order[j], order[i] })
		for _, i := range order {
			lr := opts.LearningRate * (1 - float64(t)/float64(steps+1))
			t++
			v := vecs[i]
			copy(z, bias)
			for j, r := range v.rows {
				x := float64(v.vals[j]) * scale
				row := W[int(r)*nc : int(r)*nc+nc]
				for k, w := range row {
					z[k] += x * float64(w)
				}
			}
			softmaxInto(p, z, 1)
			p[labels[i]] -= 1 // gradient of the loss wrt the logits
			scale *= 1 - lr*opts.L2
			if scale < 1e-3 {
				for k := range W {
					W[k] *= float32(scale)
				}
				scale = 1
			}
			// Only classes with a real gradient are touched: after the first passes that is
			// the true class and a few confusable ones, not all of them.
			active = active[:0]
			for k, g := range p {
				if g > 1e-5 || g < -1e-5 {
					active = append(active, k)
				}
			}
			for j, r := range v.rows {
				x := lr * float64(v.vals[j]) / scale
				row := W[int(r)*nc : int(r)*nc+nc]
				for _, k := range active {
					row[k] -= float32(x * p[k])
				}
			}
			for k, g := range p {
				bias[k] -= lr * g * 0.1
			}
		}
	}

	// Prune weights far below the row's largest: they never change a decision but cost memory.
	c := &Classifier{classes: classes, index: index, idf: idf, unseenIDF: unseen}
	c.rowStart = make([]int32, len(ids)+1)
	for r := range ids {
		row := W[r*nc : r*nc+nc]
		var mx float32
		for _, w := range row {
			mx = max(mx, abs32(w))
		}
		cut := mx * 0.02
		for k, w := range row {
			if w != 0 && abs32(w) >= cut {
				c.cls = append(c.cls, uint16(k))
				c.w = append(c.w, w*float32(scale))
			}
		}
		c.rowStart[r+1] = int32(len(c.w))
	}
	c.bias = make([]float32, nc)
	for k, b := range bias {
		c.bias[k] = float32(b)
	}
	return c
}

func abs32(x float32) float32 {
	if x < 0 {
		return -x
	}
	return x
}

func sortedFeatures(fs []feat) []feat {
	slices.SortFunc(fs, func(a, b feat) int { return cmp.Compare(a.id, b.id) })
	return fs
}

// logits returns the uncalibrated class scores of text.
func (c *Classifier) logits(text string) []float64 {
	fs := sortedFeatures(vectorize(rawFeatures(text), func(id uint64) (float32, bool) {
		r, ok := c.index[id]
		if !ok {
			return 0, false
		}
		return c.idf[r], true
	}, c.unseenIDF))
	z := make([]float64, len(c.classes))
	for k, b := range c.bias {
		z[k] = float64(b)
	}
	for _, f := range fs {
		r := c.index[f.id]
		for j := c.rowStart[r]; j < c.rowStart[r+1]; j++ {
			z[c.cls[j]] += float64(f.val) * float64(c.w[j])
		}
	}
	return z
}

// Classify returns the calibrated prediction for one message.
func (c *Classifier) Classify(text string) Prediction {
	p := softmax(c.logits(text), c.temp)
	idx := make([]int, len(p))
	for i := range idx {
		idx[i] = i
	}
	slices.SortStableFunc(idx, func(a, b int) int { return cmp.Compare(p[b], p[a]) })
	top := make([]Scored, 0, TopN)
	for _, i := range idx[:min(TopN, len(idx))] {
		top = append(top, Scored{Intent: c.classes[i], Score: p[i]})
	}
	pred := Prediction{Intent: top[0].Intent, Score: top[0].Score, Top: top}
	if strings.TrimSpace(text) == "" || pred.Score < c.threshold {
		pred.Intent, pred.OutOfScope = OutOfScope, true
	}
	return pred
}

func softmax(z []float64, temp float64) []float64 {
	p := make([]float64, len(z))
	softmaxInto(p, z, temp)
	return p
}

func softmaxInto(p, z []float64, temp float64) {
	mx := math.Inf(-1)
	for _, v := range z {
		mx = max(mx, v)
	}
	var sum float64
	for i, v := range z {
		p[i] = math.Exp((v - mx) / temp)
		sum += p[i]
	}
	for i := range p {
		p[i] /= sum
	}
}

// fitTemperature picks the temperature that minimises the negative log-likelihood of the
// in-scope dev rows (out-of-scope rows have no correct class to calibrate against).
func fitTemperature(logits [][]float64, labels []int) float64 {
	nll := func(T float64) float64 {
		var s float64
		n := 0
		for i, z := range logits {
			if labels[i] < 0 {
				continue
			}
			p := softmax(z, T)
			s -= math.Log(max(p[labels[i]], 1e-12))
			n++
		}
		if n == 0 {
			return 0
		}
		return s / float64(n)
	}
	best, bestT := math.Inf(1), 1.0
	for T := 0.02; T <= 5; T *= 1.05 {
		if v := nll(T); v < best {
			best, bestT = v, T
		}
	}
	return bestT
}

// chooseThreshold picks the threshold on dev rows. With out-of-scope rows it maximises
// in-scope accuracy + out-of-scope recall, giving up at most maxLoss in-scope accuracy. Without
// them there is nothing to trade against, so it returns 0 (never reject).
func chooseThreshold(probs [][]float64, labels []int, maxLoss float64) float64 {
	type pt struct {
		score   float64
		oos     bool
		correct bool
	}
	var pts []pt
	nIn, nOOS, nCorrect := 0, 0, 0
	for i, p := range probs {
		best := 0
		for k := range p {
			if p[k] > p[best] {
				best = k
			}
		}
		q := pt{score: p[best], oos: labels[i] < 0, correct: labels[i] == best}
		pts = append(pts, q)
		if q.oos {
			nOOS++
		} else {
			nIn++
			if q.correct {
				nCorrect++
			}
		}
	}
	if nOOS == 0 || nIn == 0 {
		return 0
	}
	slices.SortFunc(pts, func(a, b pt) int { return cmp.Compare(a.score, b.score) })
	base := float64(nCorrect) / float64(nIn)
	maxLoss = max(maxLoss, 1/float64(nIn)+1e-9) // small dev sets: allow at least one row
	bestT, bestJ := 0.0, base
	lostCorrect, caught := 0, 0
	for i, q := range pts {
		// Threshold just above q.score rejects pts[0..i].
		if q.oos {
			caught++
		} else if q.correct {
			lostCorrect++
		}
		if i+1 < len(pts) && pts[i+1].score == q.score {
			continue
		}
		acc := float64(nCorrect-lostCorrect) / float64(nIn)
		if base-acc > maxLoss {
			break
		}
		j := acc + float64(caught)/float64(nOOS)
		if j > bestJ {
			next := 1.0
			if i+1 < len(pts) {
				next = pts[i+1].score
			}
			bestJ, bestT = j, (q.score+next)/2
		}
	}
	return bestT
}

// devMetrics returns in-scope accuracy (rejections count as errors), the expected calibration
// error of the top score on in-scope rows, and the number of out-of-scope rows.
func devMetrics(probs [][]float64, labels []int, threshold float64) (acc, ece float64, nOOS int) {
	var conf []float64
	var correct []bool
	n, ok := 0, 0
	for i, p := range probs {
		best := 0
		for k := range p {
			if p[k] > p[best] {
				best = k
			}
		}
		if labels[i] < 0 {
			nOOS++
			continue
		}
		n++
		if best == labels[i] && p[best] >= threshold {
			ok++
		}
		conf = append(conf, p[best])
		correct = append(correct, best == labels[i])
	}
	if n > 0 {
		acc = float64(ok) / float64(n)
	}
	return acc, ECE(conf, correct, 15), nOOS
}

// ECE is the expected calibration error of confidences against correctness, over equal-width
// bins: the weighted mean gap between accuracy and mean confidence per bin.
func ECE(conf []float64, correct []bool, bins int) float64 {
	if len(conf) == 0 || bins <= 0 {
		return 0
	}
	sumC := make([]float64, bins)
	sumA := make([]float64, bins)
	cnt := make([]int, bins)
	for i, c := range conf {
		b := min(int(c*float64(bins)), bins-1)
		b = max(b, 0)
		sumC[b] += c
		if correct[i] {
			sumA[b]++
		}
		cnt[b]++
	}
	var e float64
	for b := range bins {
		if cnt[b] == 0 {
			continue
		}
		e += math.Abs(sumA[b]-sumC[b]) / float64(len(conf))
	}
	return e
}
