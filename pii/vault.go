package pii

import (
	"encoding/json"
	"strconv"
	"strings"
)

// Vault remembers what each placeholder stands for. One vault serves one turn (its history and
// new messages, and the model's reply); it is not safe for concurrent use.
type Vault struct {
	values map[string]string // placeholder → original text
	index  map[string]string // label + "\x00" + original text → placeholder
	count  map[string]int    // label → placeholders issued
	// taken holds placeholder-like strings the masked texts already contained ("[EMAIL_1]"
	// typed by a customer): they are never issued, so unmasking cannot rewrite them.
	taken map[string]bool
}

// NewVault returns an empty vault.
func NewVault() *Vault {
	return &Vault{values: map[string]string{}, index: map[string]string{}, count: map[string]int{}, taken: map[string]bool{}}
}

// placeholder returns the placeholder for text, issuing the next one for label if it is new.
// The key is the text as written, so that unmasking restores it exactly.
func (v *Vault) placeholder(label, text string) string {
	key := label + "\x00" + text
	if p, ok := v.index[key]; ok {
		return p
	}
	var p string
	for {
		v.count[label]++
		p = "[" + label + "_" + strconv.Itoa(v.count[label]) + "]"
		if !v.taken[p] {
			break
		}
	}
	v.index[key], v.values[p] = p, text
	return p
}

// reserve marks the bracketed strings in text as taken: text is about to be masked, and a
// placeholder equal to one of them would be ambiguous when unmasked.
func (v *Vault) reserve(text string) {
	for i := strings.IndexByte(text, '['); i >= 0; {
		end := strings.IndexByte(text[i+1:min(len(text), i+maxPlaceholder)], ']')
		if end >= 0 {
			v.taken[text[i:i+end+2]] = true
		}
		next := strings.IndexByte(text[i+1:], '[')
		if next < 0 {
			return
		}
		i += next + 1
	}
}

// Len is the number of placeholders in the vault.
func (v *Vault) Len() int { return len(v.values) }

// Value returns what placeholder (e.g. "[EMAIL_1]") stands for.
func (v *Vault) Value(placeholder string) (string, bool) {
	s, ok := v.values[placeholder]
	return s, ok
}

// Unmask puts the original values back in place of the placeholders in text (a model's reply).
// Placeholders the vault did not issue — invented or mangled by the model — stay as they are.
func (v *Vault) Unmask(text string) string {
	return v.unmask(text, func(s string) string { return s })
}

// UnmaskJSON is Unmask for a JSON document: values are inserted escaped, so a value with a
// quote or a backslash (from an admin pattern) cannot break the document.
func (v *Vault) UnmaskJSON(raw []byte) []byte {
	return []byte(v.unmask(string(raw), func(s string) string {
		b, err := json.Marshal(s)
		if err != nil { // a string always marshals; keep the value unescaped rather than lose it
			return s
		}
		return string(b[1 : len(b)-1])
	}))
}

// maxPlaceholder bounds the scan for a closing bracket: labels are short.
const maxPlaceholder = 64

func (v *Vault) unmask(text string, escape func(string) string) string {
	if v == nil || len(v.values) == 0 || strings.IndexByte(text, '[') < 0 {
		return text
	}
	var b strings.Builder
	at := 0
	for i := 0; i < len(text); i++ {
		if text[i] != '[' {
			continue
		}
		end := strings.IndexByte(text[i+1:min(len(text), i+maxPlaceholder)], ']')
		if end < 0 {
			continue
		}
		p := text[i : i+end+2]
		val, ok := v.values[p]
		if !ok {
			continue
		}
		if at == 0 {
			b.Grow(len(text))
		}
		b.WriteString(text[at:i])
		b.WriteString(escape(val))
		at = i + len(p)
		i = at - 1
	}
	if at == 0 {
		return text
	}
	b.WriteString(text[at:])
	return b.String()
}
