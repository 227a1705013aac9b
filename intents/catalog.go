package intents

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/batonhq/baton"
)

// Store keeps the admins' intents and detail types. Errors: baton.ErrNotFound,
// baton.ErrConflict.
type Store interface {
	ListIntents(ctx context.Context) ([]Intent, error)
	// SaveIntents upserts intents (create=true refuses existing names) and audits each change.
	SaveIntents(ctx context.Context, actorID int64, list []Intent, create bool) (added, updated int, err error)
	DeleteIntent(ctx context.Context, actorID int64, name string) error
	// ListDetailTypes returns the admin-defined detail types, by name.
	ListDetailTypes(ctx context.Context) ([]DetailType, error)
	// SaveDetailTypes upserts detail types and audits each change; created counts new names.
	SaveDetailTypes(ctx context.Context, actorID int64, list []DetailType) (created int, err error)
	DeleteDetailType(ctx context.Context, actorID int64, name string) error
	// IntentsVersion changes whenever any intent or detail type changes.
	IntentsVersion(ctx context.Context) (string, error)
}

// Catalog is the admins' intents with the classifier trained on them. Every change retrains
// the classifier before it is stored, so a change that cannot train is refused; other
// processes notice the new version with Watch and retrain too — no restart. The classifier
// always knows the built-in system intents (see WithBuiltins) next to the stored ones.
type Catalog struct {
	store   Store
	model   *Model
	log     *slog.Logger
	mu      sync.Mutex // serialises changes, so stored and the model move together
	stored  []Intent   // the admins' intents as stored
	version string
}

// NewCatalog loads the intents from store and trains on them; an empty store trains on the
// web-shop defaults (not written to the store: `baton intents import` or the demo do that).
func NewCatalog(ctx context.Context, store Store, log *slog.Logger) (*Catalog, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	c := &Catalog{store: store, log: log}
	stored, types, version, err := c.load(ctx)
	if err != nil {
		return nil, err
	}
	if c.model, err = NewModelWith(trainingSet(stored), types, Options{}); err != nil {
		return nil, fmt.Errorf("train intents: %w", err)
	}
	c.stored, c.version = stored, version
	return c, nil
}

// trainingSet is what the classifier learns for the stored intents: the web-shop defaults
// when nothing is stored, and always the built-in system intents.
func trainingSet(stored []Intent) []Intent {
	if len(stored) == 0 {
		return WithBuiltins(DefaultIntents())
	}
	return WithBuiltins(stored)
}

func (c *Catalog) load(ctx context.Context) ([]Intent, []DetailType, string, error) {
	version, err := c.store.IntentsVersion(ctx)
	if err != nil {
		return nil, nil, "", err
	}
	list, err := c.store.ListIntents(ctx)
	if err != nil {
		return nil, nil, "", err
	}
	types, err := c.store.ListDetailTypes(ctx)
	if err != nil {
		return nil, nil, "", err
	}
	return list, types, version, nil
}

// Model is the current classifier holder.
func (c *Catalog) Model() *Model { return c.model }

// List returns the current intents: what the classifier knows, built-ins included.
func (c *Catalog) List() []Intent { return c.model.Intents() }

// Builtins returns how many of the current intents are built-in system intents.
func (c *Catalog) Builtins() int { return CountBuiltins(c.model.Intents()) }

// Get returns one intent.
func (c *Catalog) Get(name string) (Intent, error) {
	in, ok := c.model.Intent(name)
	if !ok {
		return Intent{}, baton.Errorf(baton.ErrNotFound, "not_found", "intent %q not found", name)
	}
	return in, nil
}

// Save creates or updates intents (create=true refuses existing names), retraining first.
func (c *Catalog) Save(ctx context.Context, actorID int64, list []Intent, create bool) (added, updated int, err error) {
	if len(list) == 0 {
		return 0, 0, baton.Invalid("no intents given")
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	next, err := c.withChanges(list, create)
	if err != nil {
		return 0, 0, err
	}
	return c.apply(ctx, next, c.model.CustomDetailTypes(), func() (int, int, error) {
		return c.store.SaveIntents(ctx, actorID, normaliseAll(list), create)
	})
}

// withChanges returns the stored intents with list saved over them.
func (c *Catalog) withChanges(list []Intent, create bool) ([]Intent, error) {
	next := slices.Clone(c.stored)
	for _, in := range list {
		in = normalise(in)
		if _, exists := c.model.Intent(in.Name); exists && create {
			return nil, baton.Errorf(baton.ErrConflict, "conflict", "intent %q already exists", in.Name)
		}
		if i := slices.IndexFunc(next, func(x Intent) bool { return x.Name == in.Name }); i >= 0 {
			next[i] = in
		} else {
			next = append(next, in)
		}
	}
	return next, nil
}

// ImportResult is what Import changed.
type ImportResult struct {
	Added, Updated int // intents
	DetailTypes    int // detail types saved (created or replaced)
	Known          int // intents the classifier now knows, built-ins included
	Builtins       int // of which built-in
}

// Import saves a file's detail types and intents (intents may require the file's types),
// validating and training on the whole result before anything is written.
func (c *Catalog) Import(ctx context.Context, actorID int64, imp Import) (ImportResult, error) {
	if len(imp.Intents) == 0 {
		return ImportResult{}, baton.Invalid("no intents given")
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	types, err := c.withTypes(imp.DetailTypes)
	if err != nil {
		return ImportResult{}, err
	}
	next, err := c.withChanges(imp.Intents, false)
	if err != nil {
		return ImportResult{}, err
	}
	var res ImportResult
	res.Added, res.Updated, err = c.apply(ctx, next, types, func() (int, int, error) {
		if len(imp.DetailTypes) > 0 {
			if _, err := c.store.SaveDetailTypes(ctx, actorID, imp.DetailTypes); err != nil {
				return 0, 0, err
			}
		}
		return c.store.SaveIntents(ctx, actorID, normaliseAll(imp.Intents), false)
	})
	if err != nil {
		return ImportResult{}, err
	}
	res.DetailTypes = len(imp.DetailTypes)
	res.Known, res.Builtins = len(c.List()), c.Builtins()
	return res, nil
}

// AddExamples appends example utterances to one intent.
func (c *Catalog) AddExamples(ctx context.Context, actorID int64, name string, examples []string) (Intent, error) {
	in, err := c.Get(name)
	if err != nil {
		return in, err
	}
	for _, e := range examples {
		if e = strings.TrimSpace(e); e != "" && !slices.Contains(in.Examples, e) {
			in.Examples = append(in.Examples, e)
		}
	}
	if _, _, err := c.Save(ctx, actorID, []Intent{in}, false); err != nil {
		return in, err
	}
	return c.Get(name)
}

// Delete removes an intent. Built-in intents cannot be deleted.
func (c *Catalog) Delete(ctx context.Context, actorID int64, name string) error {
	if IsBuiltin(name) {
		return baton.Invalid("%q is a built-in intent and cannot be deleted; change its reply, action or examples instead", name)
	}
	if _, err := c.Get(name); err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	next := slices.DeleteFunc(slices.Clone(c.stored), func(x Intent) bool { return x.Name == name })
	_, _, err := c.apply(ctx, next, c.model.CustomDetailTypes(), func() (int, int, error) { return 0, 0, c.store.DeleteIntent(ctx, actorID, name) })
	return err
}

// DetailTypes returns the built-in and admin-defined detail types.
func (c *Catalog) DetailTypes() []DetailType { return c.model.DetailTypes() }

// SaveDetailType creates or replaces an admin-defined detail type; created reports a new name.
func (c *Catalog) SaveDetailType(ctx context.Context, actorID int64, d DetailType) (DetailType, bool, error) {
	d = d.Normalized()
	c.mu.Lock()
	defer c.mu.Unlock()
	types, err := c.withTypes([]DetailType{d})
	if err != nil {
		return d, false, err
	}
	var created int
	_, _, err = c.apply(ctx, c.stored, types, func() (int, int, error) {
		var err error
		created, err = c.store.SaveDetailTypes(ctx, actorID, []DetailType{d})
		return 0, 0, err
	})
	return d, created > 0, err
}

// withTypes returns the current custom detail types with list saved over them.
func (c *Catalog) withTypes(list []DetailType) ([]DetailType, error) {
	next := c.model.CustomDetailTypes()
	for _, d := range list {
		d = d.Normalized()
		if err := d.Validate(); err != nil {
			return nil, baton.Invalid("%v", err)
		}
		if i := slices.IndexFunc(next, func(x DetailType) bool { return x.Name == d.Name }); i >= 0 {
			next[i] = d
		} else {
			next = append(next, d)
		}
	}
	return next, nil
}

// DeleteDetailType removes an admin-defined detail type that no intent requires.
func (c *Catalog) DeleteDetailType(ctx context.Context, actorID int64, name string) error {
	if KnownDetail(name) {
		return baton.Invalid("%q is a built-in detail type and cannot be deleted", name)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	types := c.model.CustomDetailTypes()
	if !slices.ContainsFunc(types, func(d DetailType) bool { return d.Name == name }) {
		return baton.Errorf(baton.ErrNotFound, "not_found", "detail type %q not found", name)
	}
	var users []string
	for _, in := range c.List() {
		if slices.Contains(in.RequiredDetails, name) {
			users = append(users, in.Name)
		}
	}
	if len(users) > 0 {
		return baton.Errorf(baton.ErrConflict, "conflict", "detail type %q is required by intent %s; remove it there first", name, strings.Join(users, ", "))
	}
	types = slices.DeleteFunc(types, func(d DetailType) bool { return d.Name == name })
	_, _, err := c.apply(ctx, c.stored, types, func() (int, int, error) { return 0, 0, c.store.DeleteDetailType(ctx, actorID, name) })
	return err
}

// apply trains on the stored intents next (with the built-ins) and the detail types, writes
// the change, and makes the new classifier current.
func (c *Catalog) apply(ctx context.Context, next []Intent, types []DetailType, write func() (int, int, error)) (int, int, error) {
	train := trainingSet(next)
	if err := ValidateAll(train, types...); err != nil {
		return 0, 0, baton.Invalid("%v", err)
	}
	candidate, err := NewModelWith(train, types, Options{})
	if err != nil {
		return 0, 0, baton.Invalid("the intents cannot be trained: %v", err)
	}
	added, updated, err := write()
	if err != nil {
		return 0, 0, err
	}
	c.model.adopt(candidate)
	c.stored = next
	if v, err := c.store.IntentsVersion(ctx); err == nil {
		c.version = v
	}
	return added, updated, nil
}

// Watch retrains whenever another process changed the intents, polling every interval.
func (c *Catalog) Watch(ctx context.Context, every time.Duration) {
	baton.Repeat(ctx, every, c.Refresh, func(err error) { c.log.WarnContext(ctx, "refresh intents", "err", err) })
}

// Refresh retrains if the stored intents or detail types changed since the last load.
func (c *Catalog) Refresh(ctx context.Context) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	v, err := c.store.IntentsVersion(ctx)
	if err != nil || v == c.version {
		return err
	}
	stored, types, v, err := c.load(ctx)
	if err != nil {
		return err
	}
	train := trainingSet(stored)
	if err := c.model.RetrainWith(train, types); err != nil {
		return err
	}
	c.stored, c.version = stored, v
	c.log.InfoContext(ctx, "intents retrained", "intents", len(train), "detail_types", len(types))
	return nil
}

func normalise(in Intent) Intent {
	in.Name = strings.TrimSpace(in.Name)
	// A built-in intent without an action keeps the built-in's (see WithBuiltins).
	if in.Action == "" && !IsBuiltin(in.Name) {
		in.Action = ActionAnswer
	}
	var ex []string
	for _, e := range in.Examples {
		if e = strings.TrimSpace(e); e != "" && !slices.Contains(ex, e) {
			ex = append(ex, e)
		}
	}
	in.Examples = ex
	return in
}

func normaliseAll(list []Intent) []Intent {
	out := make([]Intent, len(list))
	for i, in := range list {
		out[i] = normalise(in)
	}
	return out
}
