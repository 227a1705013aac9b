package eval

import (
	"bufio"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// readJSONL decodes one JSON object per non-empty line into fn, naming the line on errors.
func readJSONL(path string, fn func(line int, raw []byte) error) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("open %s: %w", path, err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	line := 0
	for sc.Scan() {
		line++
		b := sc.Bytes()
		if len(strings.TrimSpace(string(b))) == 0 {
			continue
		}
		if err := fn(line, b); err != nil {
			return fmt.Errorf("%s:%d: %w", path, line, err)
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("read %s: %w", path, err)
	}
	return nil
}

// readCSV returns the rows of a CSV file with a header as maps from column name to value.
func readCSV(path string, need ...string) ([]map[string]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	defer f.Close()
	cr := csv.NewReader(f)
	cr.FieldsPerRecord = -1
	header, err := cr.Read()
	if err != nil {
		return nil, fmt.Errorf("read header of %s: %w", path, err)
	}
	col := map[string]int{}
	for i, h := range header {
		col[strings.TrimSpace(strings.TrimPrefix(h, "\ufeff"))] = i
	}
	for _, n := range need {
		if _, ok := col[n]; !ok {
			return nil, fmt.Errorf("%s: missing column %q (have %s)", path, n, strings.Join(header, ","))
		}
	}
	var rows []map[string]string
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", path, err)
		}
		m := make(map[string]string, len(col))
		for name, i := range col {
			if i < len(rec) {
				m[name] = rec[i]
			}
		}
		rows = append(rows, m)
	}
	return rows, nil
}

// IntentRow is one labelled message; OOS rows have InScope false.
type IntentRow struct {
	Text    string
	Intent  string
	InScope bool
}

// ReadIntentRows reads CLINC150-style JSONL (text, intent, in_scope) or Banking77-style CSV
// (text, category), chosen by the file extension.
func ReadIntentRows(path string) ([]IntentRow, error) {
	var rows []IntentRow
	switch strings.ToLower(filepath.Ext(path)) {
	case ".jsonl", ".json":
		err := readJSONL(path, func(_ int, raw []byte) error {
			var r struct {
				Text    string `json:"text"`
				Intent  string `json:"intent"`
				InScope *bool  `json:"in_scope"`
			}
			if err := json.Unmarshal(raw, &r); err != nil {
				return err
			}
			in := r.Intent != "oos" && r.Intent != "" && r.Intent != "out_of_scope"
			if r.InScope != nil {
				in = *r.InScope
			}
			rows = append(rows, IntentRow{Text: r.Text, Intent: r.Intent, InScope: in})
			return nil
		})
		if err != nil {
			return nil, err
		}
	case ".csv":
		recs, err := readCSV(path, "text")
		if err != nil {
			return nil, err
		}
		for _, m := range recs {
			label := m["category"]
			if label == "" {
				label = m["intent"]
			}
			if label == "" {
				return nil, fmt.Errorf("%s: need a category or intent column", path)
			}
			in := label != "oos" && label != "out_of_scope"
			rows = append(rows, IntentRow{Text: m["text"], Intent: label, InScope: in})
		}
	default:
		return nil, fmt.Errorf("%s: unknown format (want .jsonl or .csv)", path)
	}
	if len(rows) == 0 {
		return nil, fmt.Errorf("%s: no rows", path)
	}
	return rows, nil
}
