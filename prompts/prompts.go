// Package prompts renders Baton's named prompt and reply templates. Defaults are embedded from
// templates/*.tmpl (adding a file adds a template). Admins save versions of single templates
// through a Store and activate them; Live holds the defaults with the active versions, and
// every process reloads it within seconds of an activation. Every body is checked before it is
// stored or used: Check walks its parse tree against the template's input type (InputType),
// so a field that does not exist is refused even in a branch that no sample takes.
package prompts

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io/fs"
	"maps"
	"path"
	"slices"
	"strings"
	"sync"
	"text/template"
	"unicode"

	"github.com/batonhq/baton"
)

// ErrUnknown is returned (wrapped) for a template name that does not exist; it matches
// baton.ErrNotFound.
var ErrUnknown = fmt.Errorf("unknown prompt template: %w", baton.ErrNotFound)

// Name identifies a template: the file name without .tmpl.
type Name string

//go:embed templates/*.tmpl
var embedded embed.FS

// Set is an immutable collection of parsed templates; safe for concurrent use.
type Set struct {
	bodies map[Name]string
	tmpls  map[Name]*template.Template
}

var defaultSet = sync.OnceValue(func() *Set {
	s, err := parseFS(embedded, "templates")
	if err != nil {
		panic(fmt.Sprintf("prompts: embedded templates are broken: %v", err))
	}
	return s
})

// Default returns the embedded default templates.
func Default() *Set { return defaultSet() }

func parseFS(fsys fs.FS, dir string) (*Set, error) {
	files, err := fs.Glob(fsys, path.Join(dir, "*.tmpl"))
	if err != nil {
		return nil, fmt.Errorf("list templates: %w", err)
	}
	s := &Set{bodies: make(map[Name]string), tmpls: make(map[Name]*template.Template)}
	for _, f := range files {
		b, err := fs.ReadFile(fsys, f)
		if err != nil {
			return nil, fmt.Errorf("read template %s: %w", f, err)
		}
		name := Name(strings.TrimSuffix(path.Base(f), ".tmpl"))
		t, err := parse(name, string(b))
		if err != nil {
			return nil, err
		}
		s.bodies[name], s.tmpls[name] = string(b), t
	}
	return s, nil
}

func parse(name Name, body string) (*template.Template, error) {
	t, err := template.New(string(name)).Funcs(funcs).Option("missingkey=error").Parse(body)
	if err != nil {
		return nil, fmt.Errorf("parse prompt %s: %w", name, err)
	}
	return t, nil
}

// Render executes template name with data; the result is trimmed of surrounding white space.
// Errors wrap ErrUnknown for a missing template, or report a field the template needs but data
// lacks.
func (s *Set) Render(name Name, data any) (string, error) {
	t, ok := s.tmpls[name]
	if !ok {
		return "", fmt.Errorf("render prompt %q: %w", name, ErrUnknown)
	}
	var b strings.Builder
	if err := t.Execute(&b, data); err != nil {
		return "", fmt.Errorf("render prompt %s: %w", name, err)
	}
	return strings.TrimSpace(b.String()), nil
}

// Source gives the prompt set to use now: a *Set is its own source; a *Live follows the
// admins' activations.
type Source interface {
	Current() *Set
}

// Current returns s itself, so a fixed set is a Source.
func (s *Set) Current() *Set { return s }

// Names returns the template names, sorted.
func (s *Set) Names() []Name {
	return slices.Sorted(maps.Keys(s.tmpls))
}

// Body returns the source of template name, for the admin editor.
func (s *Set) Body(name Name) (string, error) {
	b, ok := s.bodies[name]
	if !ok {
		return "", fmt.Errorf("prompt body %q: %w", name, ErrUnknown)
	}
	return b, nil
}

// Version is a short content hash of template name's source, recorded in turn traces so an
// answer can be tied to the exact prompt that produced it; "" for an unknown name.
func (s *Set) Version(name Name) string {
	b, ok := s.bodies[name]
	if !ok {
		return ""
	}
	sum := sha256.Sum256([]byte(b))
	return hex.EncodeToString(sum[:6])
}

// Override returns a new Set in which template name has body; s is unchanged. The body must
// pass Check (every field it names, in every branch, exists on the name's input type) and
// render the name's sample input (see Sample), so a bad template is rejected here rather than
// in a customer's turn. Only existing names can be overridden (errors wrap ErrUnknown);
// invalid bodies give errors wrapping baton.ErrInvalid (a *TemplateError from the check).
func (s *Set) Override(name Name, body string) (*Set, error) {
	if _, ok := s.tmpls[name]; !ok {
		return nil, fmt.Errorf("override prompt %q: %w", name, ErrUnknown)
	}
	var t *template.Template
	var err error
	if typ := InputType(name); typ != nil {
		if t, err = checked(name, body, typ); err != nil {
			return nil, fmt.Errorf("override prompt: %w", err)
		}
	} else if t, err = parse(name, body); err != nil {
		return nil, fmt.Errorf("override prompt: %w: %w", baton.ErrInvalid, err)
	}
	if sample, ok := Sample(name); ok {
		if err := t.Execute(&bytes.Buffer{}, sample); err != nil {
			return nil, fmt.Errorf("override prompt %s: trial render: %w: %w", name, baton.ErrInvalid, err)
		}
	}
	out := &Set{bodies: maps.Clone(s.bodies), tmpls: maps.Clone(s.tmpls)}
	out.bodies[name], out.tmpls[name] = body, t
	return out, nil
}

// funcs are available in every template.
var funcs = template.FuncMap{
	"quote":    quote,
	"join":     join,
	"list":     list,
	"data":     dataBlock,
	"truncate": truncate,
}

// truncate shortens s to at most n runes, marking the cut with "…": customer text echoed back
// in a reply must not turn it into a wall of text.
func truncate(n int, s string) string {
	rs := []rune(s)
	switch {
	case len(rs) <= n:
		return s
	case n < 1:
		return ""
	}
	return string(rs[:n-1]) + "…"
}

// quote returns s as a JSON string literal, quotes included.
func quote(s string) string {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false) // keep <, > and & readable for the model
	if err := enc.Encode(s); err != nil {
		return `""` // unreachable: strings always encode
	}
	return strings.TrimSuffix(b.String(), "\n")
}

// join joins items with sep: {{join ", " .Examples}}.
func join(sep string, items []string) string {
	return strings.Join(items, sep)
}

// list writes items as a sentence's list: "a, b and c".
func list(items []string) string {
	if len(items) < 2 {
		return strings.Join(items, "")
	}
	return strings.Join(items[:len(items)-1], ", ") + " and " + items[len(items)-1]
}

// Data block delimiters. Untrusted text (customer messages, knowledge-base articles) goes
// between them; system prompts tell the model it is data, never instructions.
const (
	dataOpen  = "<<<DATA"
	dataClose = "<<<END DATA>>>"
)

// dataBlock wraps untrusted text as a delimited block. Any run of three or more angle brackets
// inside the text is broken up, so the text cannot close the block or forge a new one.
func dataBlock(id, text string) string {
	return dataOpen + " id=" + sanitizeID(id) + ">>>\n" + defuse(text) + "\n" + dataClose
}

func defuse(s string) string {
	for strings.Contains(s, "<<<") || strings.Contains(s, ">>>") {
		s = strings.ReplaceAll(s, "<<<", "< < <")
		s = strings.ReplaceAll(s, ">>>", "> > >")
	}
	return s
}

// sanitizeID keeps an id from ending the opening delimiter: angle brackets, quotes, white space
// and control characters become "_". Other characters pass, so the model cites ids verbatim.
func sanitizeID(id string) string {
	if id == "" {
		return "_"
	}
	return strings.Map(func(r rune) rune {
		if r == '<' || r == '>' || r == '"' || unicode.IsSpace(r) || unicode.IsControl(r) {
			return '_'
		}
		return r
	}, id)
}
