package intents

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strings"

	"go.yaml.in/yaml/v3"
)

// maxImportBytes bounds an import file; intents are small and admins upload them.
const maxImportBytes = 16 << 20

// Import is the content of an intents file: intents, custom detail types (the top-level
// detail_types key) and optional out-of-scope examples.
type Import struct {
	Intents     []Intent
	DetailTypes []DetailType
	OutOfScope  []string
}

// ParseFile reads intents from YAML (.yaml, .yml), JSON (.json) or CSV (.csv, columns
// name,example with an optional header). The file name only picks the format. YAML and JSON
// hold either a list of intents or an object {intents: [...], detail_types: [...],
// out_of_scope: [...]}. Errors name the line to fix. Every returned intent has passed Validate,
// and requires only built-in detail types or those the file defines.
func ParseFile(name string, r io.Reader) ([]Intent, error) {
	imp, err := ParseImport(name, r, nil)
	return imp.Intents, err
}

// ParseImport is ParseFile with the file's detail types; known reports custom detail types
// that already exist (stored earlier), which the file's intents may require too. known may be
// nil.
func ParseImport(name string, r io.Reader, known func(string) bool) (Import, error) {
	data, err := io.ReadAll(io.LimitReader(r, maxImportBytes+1))
	if err != nil {
		return Import{}, fmt.Errorf("read %s: %w", name, err)
	}
	if len(data) > maxImportBytes {
		return Import{}, fmt.Errorf("read %s: file larger than %d bytes", name, maxImportBytes)
	}
	var imp Import
	switch ext := strings.ToLower(filepath.Ext(name)); ext {
	case ".yaml", ".yml":
		imp, err = parseYAML(data, known)
	case ".json":
		if !json.Valid(data) {
			err = jsonSyntaxError(data)
		} else {
			// JSON is YAML, and the YAML parser keeps line numbers for validation errors.
			imp, err = parseYAML(data, known)
		}
	case ".csv":
		imp.Intents, err = parseCSV(data)
	default:
		err = fmt.Errorf("unknown format %q (want .yaml, .yml, .json or .csv)", ext)
	}
	if err != nil {
		return Import{}, fmt.Errorf("parse %s: %w", name, err)
	}
	return imp, nil
}

func jsonSyntaxError(data []byte) error {
	var v any
	err := json.Unmarshal(data, &v)
	var se *json.SyntaxError
	if errors.As(err, &se) {
		line := 1 + bytes.Count(data[:min(int(se.Offset), len(data))], []byte("\n"))
		return fmt.Errorf("line %d: %v", line, se)
	}
	return fmt.Errorf("invalid JSON: %v", err)
}

var intentKeys = map[string]bool{
	"name": true, "description": true, "examples": true, "required_details": true,
	"action": true, "team": true, "reply": true, "order_pattern": true,
}

var detailTypeKeys = map[string]bool{
	"name": true, "label": true, "pattern": true, "values": true, "keywords": true,
	"normalize": true, "ask": true, "reask": true,
}

// parseYAML returns the intents, detail types and out-of-scope examples of a YAML/JSON file.
func parseYAML(data []byte, known func(string) bool) (Import, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return Import{}, err
	}
	if doc.Kind == 0 || len(doc.Content) == 0 {
		return Import{}, errors.New("file holds no intents")
	}
	root := doc.Content[0]
	var items, typeItems *yaml.Node
	var imp Import
	switch root.Kind {
	case yaml.SequenceNode:
		items = root
	case yaml.MappingNode:
		for i := 0; i+1 < len(root.Content); i += 2 {
			k, v := root.Content[i], root.Content[i+1]
			switch k.Value {
			case "intents":
				items = v
			case "detail_types":
				typeItems = v
			case "out_of_scope":
				if err := v.Decode(&imp.OutOfScope); err != nil {
					return Import{}, fmt.Errorf("line %d: out_of_scope: %v", v.Line, err)
				}
			default:
				return Import{}, fmt.Errorf("line %d: unknown key %q (want intents, detail_types or out_of_scope)", k.Line, k.Value)
			}
		}
		if items == nil {
			return Import{}, fmt.Errorf("line %d: no intents key", root.Line)
		}
	default:
		return Import{}, fmt.Errorf("line %d: want a list of intents", root.Line)
	}
	if items.Kind != yaml.SequenceNode {
		return Import{}, fmt.Errorf("line %d: intents must be a list", items.Line)
	}
	var errs []error
	typeLines := map[string]int{}
	if typeItems != nil {
		if typeItems.Kind != yaml.SequenceNode {
			return Import{}, fmt.Errorf("line %d: detail_types must be a list", typeItems.Line)
		}
		for _, n := range typeItems.Content {
			if n.Kind != yaml.MappingNode {
				errs = append(errs, fmt.Errorf("line %d: a detail type must be an object", n.Line))
				continue
			}
			bad := false
			for i := 0; i+1 < len(n.Content); i += 2 {
				if k := n.Content[i]; !detailTypeKeys[k.Value] {
					errs = append(errs, fmt.Errorf("line %d: unknown detail type field %q", k.Line, k.Value))
					bad = true
				}
			}
			var d DetailType
			if err := n.Decode(&d); err != nil {
				errs = append(errs, fmt.Errorf("line %d: %v", n.Line, err))
				continue
			}
			d = d.Normalized()
			if err := d.Validate(); err != nil {
				errs = append(errs, fmt.Errorf("line %d: %w", n.Line, err))
				continue
			}
			if first, dup := typeLines[d.Name]; dup {
				errs = append(errs, fmt.Errorf("line %d: detail type %q already defined on line %d", n.Line, d.Name, first))
				continue
			}
			typeLines[d.Name] = n.Line
			if !bad {
				imp.DetailTypes = append(imp.DetailTypes, d)
			}
		}
	}
	imp.Intents = make([]Intent, 0, len(items.Content))
	lines := map[string]int{}
	for _, n := range items.Content {
		if n.Kind != yaml.MappingNode {
			errs = append(errs, fmt.Errorf("line %d: an intent must be an object", n.Line))
			continue
		}
		bad := false
		for i := 0; i+1 < len(n.Content); i += 2 {
			if k := n.Content[i]; !intentKeys[k.Value] {
				errs = append(errs, fmt.Errorf("line %d: unknown field %q", k.Line, k.Value))
				bad = true
			}
		}
		var in Intent
		if err := n.Decode(&in); err != nil {
			errs = append(errs, fmt.Errorf("line %d: %v", n.Line, err))
			continue
		}
		in = normalize(in)
		if err := in.Validate(); err != nil {
			errs = append(errs, fmt.Errorf("line %d: %w", n.Line, err))
			continue
		}
		for _, d := range in.RequiredDetails {
			if KnownDetail(d) {
				continue
			}
			if _, inFile := typeLines[d]; inFile || (known != nil && known(d)) {
				continue
			}
			errs = append(errs, fmt.Errorf("line %d: intent %q requires detail %q, which is not a known detail type (built-in: %s; define it under detail_types)",
				n.Line, in.Name, d, strings.Join(builtinTypeNames(), ", ")))
			bad = true
		}
		if first, dup := lines[in.Name]; dup {
			errs = append(errs, fmt.Errorf("line %d: intent %q already defined on line %d", n.Line, in.Name, first))
			continue
		}
		lines[in.Name] = n.Line
		if !bad {
			imp.Intents = append(imp.Intents, in)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return Import{}, err
	}
	if len(imp.Intents) == 0 {
		return Import{}, errors.New("file holds no intents")
	}
	return imp, nil
}

// parseCSV reads name,example rows; rows of one name become one intent, in first-seen order.
func parseCSV(data []byte) ([]Intent, error) {
	cr := csv.NewReader(bytes.NewReader(data))
	cr.FieldsPerRecord = -1
	byName := map[string]int{}
	var list []Intent
	var errs []error
	for row := 0; ; row++ {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		line, _ := cr.FieldPos(0)
		if err != nil {
			return nil, err // csv.ParseError already names the line
		}
		if len(rec) != 2 {
			errs = append(errs, fmt.Errorf("line %d: want 2 columns name,example, got %d", line, len(rec)))
			continue
		}
		name, ex := strings.TrimSpace(rec[0]), strings.TrimSpace(rec[1])
		if row == 0 && strings.EqualFold(name, "name") && strings.EqualFold(ex, "example") {
			continue
		}
		if !namePattern.MatchString(name) || name == OutOfScope {
			errs = append(errs, fmt.Errorf("line %d: intent name %q must be lower_snake_case and not %q", line, name, OutOfScope))
			continue
		}
		if ex == "" {
			errs = append(errs, fmt.Errorf("line %d: empty example", line))
			continue
		}
		i, ok := byName[name]
		if !ok {
			i = len(list)
			byName[name] = i
			list = append(list, normalize(Intent{Name: name}))
		}
		list[i].Examples = append(list[i].Examples, ex)
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	if len(list) == 0 {
		return nil, errors.New("file holds no intents")
	}
	return list, nil
}

// normalize trims examples and fills the default action.
func normalize(in Intent) Intent {
	in.Name = strings.TrimSpace(in.Name)
	ex := in.Examples[:0:0]
	for _, e := range in.Examples {
		if e = strings.TrimSpace(e); e != "" {
			ex = append(ex, e)
		}
	}
	in.Examples = ex
	// A built-in intent without an action keeps the built-in's (see WithBuiltins).
	if in.Action == "" && !IsBuiltin(in.Name) {
		in.Action = ActionAnswer
	}
	return in
}
