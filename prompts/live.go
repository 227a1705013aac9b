package prompts

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"maps"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/batonhq/baton"
)

// Version is one saved body of a template. Version 0 is the embedded default; it is never
// stored, and activating it removes the override.
type Version struct {
	Name      Name      `json:"name"`
	Version   int       `json:"version"`
	Body      string    `json:"body"`
	Active    bool      `json:"active"`
	CreatedBy int64     `json:"created_by,omitempty"`
	CreatedAt time.Time `json:"created_at,omitzero"`
}

// Store keeps the versions admins saved and which one of each template is active. Names are
// checked before the store is called. Errors: baton.ErrNotFound for a version that does not
// exist.
type Store interface {
	// SavePromptVersion stores body as name's next version (1, 2, …), not active; audited.
	SavePromptVersion(ctx context.Context, actorID int64, name Name, body string) (Version, error)
	// PromptVersions lists name's stored versions, newest first (none: empty).
	PromptVersions(ctx context.Context, name Name) ([]Version, error)
	// PromptVersion returns one stored version (version ≥ 1).
	PromptVersion(ctx context.Context, name Name, version int) (Version, error)
	// ActivatePrompt makes version name's active one (0: back to the default); audited.
	ActivatePrompt(ctx context.Context, actorID int64, name Name, version int) error
	// ActivePrompts returns the active stored version of every name that has one.
	ActivePrompts(ctx context.Context) ([]Version, error)
	// PromptsVersion changes whenever an activation changes what is active.
	PromptsVersion(ctx context.Context) (string, error)
}

// Live is the prompt set every turn should render with: the embedded defaults with the active
// overrides applied. An activation in this process takes effect at once; other processes
// notice it with Watch (as intents.Catalog does), so a change reaches every process within
// one polling interval and never needs a deploy. It also carries the admin operations (save,
// diff, activate, preview), which validate before anything is stored.
type Live struct {
	store   Store
	log     *slog.Logger
	cur     atomic.Pointer[Set]
	mu      sync.Mutex // serialises reloads
	loaded  string     // PromptsVersion of cur
	started bool       // the first load happened
}

// NewLive loads the active overrides from store.
func NewLive(ctx context.Context, store Store, log *slog.Logger) (*Live, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	l := &Live{store: store, log: log}
	l.cur.Store(Default())
	if err := l.reload(ctx); err != nil {
		return nil, err
	}
	return l, nil
}

// Current is the set to render with now; read it once per turn so a turn is consistent.
func (l *Live) Current() *Set { return l.cur.Load() }

// Refresh reloads the active overrides if another process changed them since the last load.
func (l *Live) Refresh(ctx context.Context) error {
	v, err := l.store.PromptsVersion(ctx)
	if err != nil {
		return fmt.Errorf("read prompts version: %w", err)
	}
	l.mu.Lock()
	same := v == l.loaded
	l.mu.Unlock()
	if same {
		return nil
	}
	return l.reload(ctx)
}

// Watch refreshes every interval until ctx is done.
func (l *Live) Watch(ctx context.Context, every time.Duration) {
	baton.Repeat(ctx, every, l.Refresh, func(err error) { l.log.WarnContext(ctx, "refresh prompts", "err", err) })
}

func (l *Live) reload(ctx context.Context) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	// The version first: a change landing between the two reads is loaded again next time.
	v, err := l.store.PromptsVersion(ctx)
	if err != nil {
		return fmt.Errorf("read prompts version: %w", err)
	}
	active, err := l.store.ActivePrompts(ctx)
	if err != nil {
		return fmt.Errorf("load active prompts: %w", err)
	}
	l.cur.Store(l.build(ctx, active))
	if l.started && v != l.loaded {
		l.log.InfoContext(ctx, "prompts reloaded", "overrides", len(active), "prompts_version", v)
	}
	l.loaded, l.started = v, true
	return nil
}

// build applies the active versions to the defaults. A stored body that no longer passes the
// check (its input type lost a field in a release) keeps the default: a broken override must
// not take down the turn.
func (l *Live) build(ctx context.Context, active []Version) *Set {
	d := Default()
	s := &Set{bodies: maps.Clone(d.bodies), tmpls: maps.Clone(d.tmpls)}
	for _, v := range active {
		typ := InputType(v.Name)
		if typ == nil {
			l.log.WarnContext(ctx, "active prompt has no template", "prompt", v.Name, "version", v.Version)
			continue
		}
		t, err := checked(v.Name, v.Body, typ)
		if err != nil {
			l.log.ErrorContext(ctx, "active prompt is invalid; using the default", "prompt", v.Name, "version", v.Version, "err", err)
			continue
		}
		s.bodies[v.Name], s.tmpls[v.Name] = v.Body, t
	}
	return s
}

// Status is a template's state for the admin list.
type Status struct {
	Name          Name   `json:"name"`
	ActiveVersion int    `json:"active_version"` // 0: the embedded default
	Default       bool   `json:"default"`        // the embedded default is what the bot says
	Input         string `json:"input"`          // the Go type of its data, e.g. GreetingInput
}

// Prompt is one template with the body the bot uses now, and the fields its body may use.
type Prompt struct {
	Status
	Body   string   `json:"body"`
	Fields []string `json:"fields"`
}

func status(name Name, active map[Name]Version) Status {
	v, ok := active[name]
	return Status{Name: name, ActiveVersion: v.Version, Default: !ok, Input: typeName(InputType(name))}
}

func (l *Live) activeByName(ctx context.Context) (map[Name]Version, error) {
	list, err := l.store.ActivePrompts(ctx)
	if err != nil {
		return nil, fmt.Errorf("load active prompts: %w", err)
	}
	out := make(map[Name]Version, len(list))
	for _, v := range list {
		out[v.Name] = v
	}
	return out, nil
}

func known(name Name) error {
	if InputType(name) == nil || !Default().has(name) {
		return fmt.Errorf("prompt %q: %w", name, ErrUnknown)
	}
	return nil
}

// List returns every template with its active version, by name. It reads the store, so it
// shows what is active even before this process's Watch has caught up.
func (l *Live) List(ctx context.Context) ([]Status, error) {
	active, err := l.activeByName(ctx)
	if err != nil {
		return nil, err
	}
	var out []Status
	for _, n := range Default().Names() {
		out = append(out, status(n, active))
	}
	return out, nil
}

// Get returns template name with its active body. Errors wrap ErrUnknown.
func (l *Live) Get(ctx context.Context, name Name) (Prompt, error) {
	if err := known(name); err != nil {
		return Prompt{}, err
	}
	active, err := l.activeByName(ctx)
	if err != nil {
		return Prompt{}, err
	}
	p := Prompt{Status: status(name, active), Body: Default().bodies[name]}
	if v, ok := active[name]; ok {
		p.Body = v.Body
	}
	t := indirect(InputType(name))
	for i := range t.NumField() {
		if f := t.Field(i); f.IsExported() {
			p.Fields = append(p.Fields, "."+f.Name)
		}
	}
	return p, nil
}

// Save checks body (see Check) and stores it as name's next version, not active. Errors: a
// *TemplateError (baton.ErrInvalid) with the line and reason; ErrUnknown.
func (l *Live) Save(ctx context.Context, actorID int64, name Name, body string) (Version, error) {
	if err := known(name); err != nil {
		return Version{}, err
	}
	if strings.TrimSpace(body) == "" {
		return Version{}, &TemplateError{Name: name, Reason: "the body is empty; activate version 0 to go back to the default"}
	}
	if err := Check(name, body); err != nil {
		return Version{}, err
	}
	v, err := l.store.SavePromptVersion(ctx, actorID, name, body)
	if err != nil {
		return Version{}, fmt.Errorf("save prompt %s: %w", name, err)
	}
	return v, nil
}

// Versions lists name's versions, newest first, ending with version 0 (the default).
func (l *Live) Versions(ctx context.Context, name Name) ([]Version, error) {
	if err := known(name); err != nil {
		return nil, err
	}
	list, err := l.store.PromptVersions(ctx, name)
	if err != nil {
		return nil, fmt.Errorf("list versions of prompt %s: %w", name, err)
	}
	def := Version{Name: name, Version: 0, Body: Default().bodies[name], Active: true}
	for _, v := range list {
		if v.Active {
			def.Active = false
		}
	}
	return append(list, def), nil
}

// version returns name's version n; 0 is the embedded default.
func (l *Live) version(ctx context.Context, name Name, n int) (Version, error) {
	if n < 0 {
		return Version{}, baton.Invalid("versions start at 0 (the default)")
	}
	if n == 0 {
		return Version{Name: name, Body: Default().bodies[name]}, nil
	}
	v, err := l.store.PromptVersion(ctx, name, n)
	if err != nil {
		return Version{}, fmt.Errorf("prompt %s version %d: %w", name, n, err)
	}
	return v, nil
}

// Diff compares two versions of a template.
type Diff struct {
	Name    Name       `json:"name"`
	From    int        `json:"from"`
	To      int        `json:"to"`
	Lines   []DiffLine `json:"lines"`
	Unified string     `json:"unified"`
}

// Diff compares version from with version to of name (0 = the default) line by line.
func (l *Live) Diff(ctx context.Context, name Name, from, to int) (Diff, error) {
	if err := known(name); err != nil {
		return Diff{}, err
	}
	a, err := l.version(ctx, name, from)
	if err != nil {
		return Diff{}, err
	}
	b, err := l.version(ctx, name, to)
	if err != nil {
		return Diff{}, err
	}
	label := func(n int) string {
		if n == 0 {
			return fmt.Sprintf("%s (default)", name)
		}
		return fmt.Sprintf("%s version %d", name, n)
	}
	d := Diff{Name: name, From: from, To: to, Lines: diffLines(splitLines(a.Body), splitLines(b.Body))}
	d.Unified = unified(d.Lines, label(from), label(to))
	return d, nil
}

// Activate makes version (0 = the default) what the bot says for name: activating an older
// version rolls back. This process uses it at once; others within their Watch interval.
func (l *Live) Activate(ctx context.Context, actorID int64, name Name, version int) (Status, error) {
	if err := known(name); err != nil {
		return Status{}, err
	}
	if version < 0 {
		return Status{}, baton.Invalid("versions start at 0 (the default)")
	}
	if err := l.store.ActivatePrompt(ctx, actorID, name, version); err != nil {
		return Status{}, fmt.Errorf("activate prompt %s version %d: %w", name, version, err)
	}
	if err := l.reload(ctx); err != nil {
		// Stored: Watch picks it up; the admin should not retry a change that happened.
		l.log.WarnContext(ctx, "reload prompts after activation", "prompt", name, "err", err)
	}
	active, err := l.activeByName(ctx)
	if err != nil {
		return Status{}, err
	}
	return status(name, active), nil
}

// PreviewRequest says what to preview: an unsaved Body, or a saved Version (nil: the active
// one), with Data as the template's input (JSON of its input type; empty: Sample).
type PreviewRequest struct {
	Version *int            `json:"version,omitempty"`
	Body    *string         `json:"body,omitempty"`
	Data    json.RawMessage `json:"data,omitempty"`
}

// Preview is a rendered template, never sent anywhere.
type Preview struct {
	Name    Name   `json:"name"`
	Version *int   `json:"version,omitempty"` // nil for an unsaved body
	Text    string `json:"text"`
	Data    any    `json:"data"` // the input it was rendered with
	Empty   bool   `json:"empty"`
}

// Preview renders a version or an unsaved body of name against data or the sample input, so an
// admin sees the text before customers do. Errors: *TemplateError for a body that fails the
// check, baton.ErrInvalid for data that does not fit the input type or a failed render.
func (l *Live) Preview(ctx context.Context, name Name, req PreviewRequest) (Preview, error) {
	if err := known(name); err != nil {
		return Preview{}, err
	}
	if req.Version != nil && req.Body != nil {
		return Preview{}, baton.Invalid("give version or body, not both")
	}
	out := Preview{Name: name}
	body := ""
	switch {
	case req.Body != nil:
		body = *req.Body
	case req.Version != nil:
		v, err := l.version(ctx, name, *req.Version)
		if err != nil {
			return Preview{}, err
		}
		body, out.Version = v.Body, req.Version
	default:
		p, err := l.Get(ctx, name)
		if err != nil {
			return Preview{}, err
		}
		body, out.Version = p.Body, &p.ActiveVersion
	}
	t, err := checked(name, body, InputType(name))
	if err != nil {
		return Preview{}, err
	}
	data, err := previewData(name, req.Data)
	if err != nil {
		return Preview{}, err
	}
	var b bytes.Buffer
	if err := t.Execute(&b, data); err != nil {
		return Preview{}, baton.Invalid("render %s: %v", name, err)
	}
	out.Text, out.Data = strings.TrimSpace(b.String()), data
	out.Empty = out.Text == ""
	return out, nil
}

// previewData decodes raw into name's input type, or returns the sample when raw is empty.
func previewData(name Name, raw json.RawMessage) (any, error) {
	if len(bytes.TrimSpace(raw)) == 0 || string(bytes.TrimSpace(raw)) == "null" {
		s, _ := Sample(name)
		return s, nil
	}
	p := reflectNew(InputType(name))
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(p); err != nil {
		return nil, baton.Invalid("data does not fit %s: %v", typeName(InputType(name)), err)
	}
	return derefValue(p), nil
}
