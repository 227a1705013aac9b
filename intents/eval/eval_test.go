package eval

import (
	"bytes"
	"context"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func writeFile(tb testing.TB, name, body string) string {
	tb.Helper()
	p := filepath.Join(tb.TempDir(), name)
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		tb.Fatal(err)
	}
	return p
}

func TestDetailFixturesMeetTarget(t *testing.T) {
	t.Parallel()
	var out bytes.Buffer
	if err := Details(context.Background(), []string{"--json", "--data", "../testdata/details.jsonl"}, &out); err != nil {
		t.Fatal(err)
	}
	var rep DetailsReport
	if err := json.Unmarshal(out.Bytes(), &rep); err != nil {
		t.Fatalf("decode %s: %v", out.String(), err)
	}
	if rep.Examples < 200 {
		t.Errorf("fixture has %d rows, want at least 200", rep.Examples)
	}
	for _, slot := range []string{"email", "phone", "order_number", "money"} {
		r, ok := rep.PerSlot[slot]
		if !ok {
			t.Errorf("no %s rows in the fixture", slot)
			continue
		}
		if r.F1 < 0.95 {
			t.Errorf("%s F1 = %.3f, want >= 0.95", slot, r.F1)
		}
	}
}

func TestScoreDetailsCountsSpans(t *testing.T) {
	t.Parallel()
	rows := []DetailRow{
		{Text: "table for 4 people at 7pm", Spans: []GoldSpan{{Slot: "people", Start: 10, End: 18}, {Slot: "time", Start: 22, End: 25}}},
		{Text: "Ana Silva", RequestedSlots: []string{"first_name", "last_name"}, Spans: []GoldSpan{{Slot: "first_name", Start: 0, End: 3}, {Slot: "last_name", Start: 4, End: 9}}},
		{Text: "at 8pm", Spans: []GoldSpan{{Slot: "time", Start: 0, End: 6}}}, // gold includes "at": a miss and a false positive
	}
	rep, mism := ScoreDetails(context.Background(), rows)
	if got := rep.PerSlot["time"]; got.Gold != 2 || got.Correct != 1 || got.Predicted != 2 {
		t.Errorf("time = %+v, want 2 gold, 2 predicted, 1 correct", got)
	}
	if got := rep.PerSlot["last_name"]; got.Correct != 1 {
		t.Errorf("last_name = %+v, want the bare name split into first and last", got)
	}
	if len(mism) != 1 {
		t.Errorf("mismatches = %v, want the one row", mism)
	}
	if math.Abs(rep.F1-2*rep.Precision*rep.Recall/(rep.Precision+rep.Recall)) > 1e-12 {
		t.Errorf("F1 %v is not the harmonic mean of %v and %v", rep.F1, rep.Precision, rep.Recall)
	}
}

func TestClassMetrics(t *testing.T) {
	t.Parallel()
	gold := []string{"negative", "negative", "neutral", "positive"}
	pred := []string{"negative", "neutral", "neutral", "negative"}
	acc, f1, conf := classMetrics(gold, pred)
	if acc != 0.5 {
		t.Errorf("accuracy = %v, want 0.5", acc)
	}
	// negative: p=1/2 r=1/2 f=0.5; neutral: p=1/2 r=1 f=2/3; positive: 0.
	if want := (0.5 + 2.0/3) / 3; math.Abs(f1-want) > 1e-12 {
		t.Errorf("macro-F1 = %v, want %v", f1, want)
	}
	if conf["positive"]["negative"] != 1 {
		t.Errorf("confusion = %v", conf)
	}
	if r := pearson([]float64{1, 2, 3}, []float64{2, 4, 6}); math.Abs(r-1) > 1e-12 {
		t.Errorf("pearson of a line = %v, want 1", r)
	}
	if r := pearson([]float64{1, 2, 3}, []float64{3, 2, 1}); math.Abs(r+1) > 1e-12 {
		t.Errorf("pearson of a falling line = %v, want -1", r)
	}
}

func TestSentimentCommand(t *testing.T) {
	t.Parallel()
	csv := writeFile(t, "a.csv", "tweet_id,airline_sentiment,text\n1,negative,\"still waiting, 3 hours late\"\n2,positive,thank you so much!\n3,neutral,what time do you open?\n")
	var out bytes.Buffer
	if err := Sentiment(context.Background(), []string{"--json", "--data", csv}, &out); err != nil {
		t.Fatal(err)
	}
	var rep map[string]any
	if err := json.Unmarshal(out.Bytes(), &rep); err != nil {
		t.Fatal(err)
	}
	if rep["examples"].(float64) != 3 || rep["pearson_r"] != nil || rep["accuracy"] == nil || rep["macro_f1"] == nil {
		t.Errorf("report = %v", rep)
	}
	jsonl := writeFile(t, "v.jsonl", `{"mean_rating": 2.5, "text": "I love it"}`+"\n"+`{"mean_rating": -2.5, "text": "I hate it"}`+"\n"+`{"mean_rating": 0.1, "text": "it is a box"}`+"\n")
	out.Reset()
	if err := Sentiment(context.Background(), []string{"--json", "--data", jsonl}, &out); err != nil {
		t.Fatal(err)
	}
	rep = nil
	if err := json.Unmarshal(out.Bytes(), &rep); err != nil {
		t.Fatal(err)
	}
	if r, ok := rep["pearson_r"].(float64); !ok || r < 0.9 {
		t.Errorf("pearson_r = %v, want a strong positive correlation", rep["pearson_r"])
	}
	if err := Sentiment(context.Background(), []string{"--fit-thresholds", "--data", csv}, &out); err == nil {
		t.Error("--fit-thresholds accepted the airline CSV; thresholds must come from VADER data only")
	}
	labelled := writeFile(t, "l.jsonl", `{"label": "negative", "text": "still waiting, 3 hours late"}`+"\n"+`{"label": "positive", "text": "thank you so much!"}`+"\n")
	out.Reset()
	if err := Sentiment(context.Background(), []string{"--json", "--data", labelled}, &out); err != nil {
		t.Fatal(err)
	}
	rep = nil
	if err := json.Unmarshal(out.Bytes(), &rep); err != nil {
		t.Fatal(err)
	}
	if rep["accuracy"] != 1.0 || rep["pearson_r"] != nil {
		t.Errorf("labelled JSONL report = %v; want accuracy 1", rep)
	}
	mixed := writeFile(t, "m.jsonl", `{"label": "negative", "text": "late"}`+"\n"+`{"mean_rating": 1, "text": "ok"}`+"\n")
	if err := Sentiment(context.Background(), []string{"--data", mixed}, &out); err == nil || !strings.Contains(err.Error(), "mix") {
		t.Errorf("mixed file: %v; want an error saying the rows mix formats", err)
	}
}

func TestIntentsCommand(t *testing.T) {
	t.Parallel()
	var b strings.Builder
	add := func(intent string, inScope bool, texts ...string) {
		for _, x := range texts {
			line, _ := json.Marshal(map[string]any{"text": x, "intent": intent, "in_scope": inScope})
			b.Write(line)
			b.WriteByte('\n')
		}
	}
	add("greet", true, "hi", "hello", "hey there", "good morning", "hello friend", "hi there", "hey", "morning!", "hiya", "greetings")
	add("order", true, "where is my order", "track my order", "has my order shipped", "order status", "my order is late",
		"when will my order come", "is my order on the way", "order not here", "status of my order please", "where's the order")
	add("oos", false, "what is the weather", "tell me a joke", "who is the president", "how tall is everest")
	train := writeFile(t, "train.jsonl", b.String())
	b.Reset()
	add("greet", true, "hello there")
	add("order", true, "where is my parcel order")
	add("oos", false, "play music by queen")
	test := writeFile(t, "test.jsonl", b.String())

	var out bytes.Buffer
	if err := Intents(context.Background(), []string{"--json", "--train", train, "--test", test}, &out); err != nil {
		t.Fatal(err)
	}
	var rep map[string]any
	if err := json.Unmarshal(out.Bytes(), &rep); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"examples", "in_scope_accuracy", "oos_recall", "oos_precision", "threshold", "ece", "train_seconds", "p99_ms"} {
		if _, ok := rep[k]; !ok {
			t.Errorf("report lacks %q: %s", k, out.String())
		}
	}
	if rep["examples"].(float64) != 3 {
		t.Errorf("examples = %v, want 3", rep["examples"])
	}
	if rep["oos_recall"] == nil {
		t.Error("oos_recall is null although the test file has OOS rows")
	}
	if err := Intents(context.Background(), []string{"--train", train}, &out); err == nil {
		t.Error("missing --test accepted")
	}
}

func TestImportCheck(t *testing.T) {
	t.Parallel()
	good := writeFile(t, "i.csv", "name,example\ngreeting,hi\ngreeting,hello\norder_status,where is my order\n")
	var out bytes.Buffer
	if err := ImportCheck(context.Background(), []string{good}, &out); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "would import 2 intents, 3 examples") {
		t.Errorf("output = %s", out.String())
	}
	bad := writeFile(t, "b.yaml", "- name: x\n  action: dance\n  examples: [a]\n")
	if err := ImportCheck(context.Background(), []string{bad}, &out); err == nil || !strings.Contains(err.Error(), "line 1") {
		t.Errorf("error = %v, want one naming line 1", err)
	}
}
