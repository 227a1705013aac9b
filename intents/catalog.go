package intents

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/batonhq/baton"
)

// Store keeps the admins' intents. Errors: baton.ErrNotFound, baton.ErrConflict.
type Store interface {
	ListIntents(ctx context.Context) ([]Intent, error)
	// SaveIntents upserts intents (create=true refuses existing names) and audits each change.
	SaveIntents(ctx context.Context, actorID int64, list []Intent, create bool) (added, updated int, err error)
	DeleteIntent(ctx context.Context, actorID int64, name string) error
	// IntentsVersion changes whenever any intent changes.
	IntentsVersion(ctx context.Context) (string, error)
}

// Catalog is the admins' intents with the classifier trained on them. Every change retrains
// the classifier before it is stored, so a change that cannot train is refused; other
// processes notice the new version with Watch and retrain too — no restart.
type Catalog struct {
	store   Store
	model   *Model
	log     *slog.Logger
	version string
}

// NewCatalog loads the intents from store and trains on them; an empty store trains on the
// web-shop defaults (not written to the store: `baton intents import` or the demo do that).
func NewCatalog(ctx context.Context, store Store, log *slog.Logger) (*Catalog, error) {
	c := &Catalog{store: store, log: log}
	list, version, err := c.load(ctx)
	if err != nil {
		return nil, err
	}
	if c.model, err = NewModel(list, Options{}); err != nil {
		return nil, fmt.Errorf("train intents: %w", err)
	}
	c.version = version
	return c, nil
}

func (c *Catalog) load(ctx context.Context) ([]Intent, string, error) {
	version, err := c.store.IntentsVersion(ctx)
	if err != nil {
		return nil, "", err
	}
	list, err := c.store.ListIntents(ctx)
	if err != nil {
		return nil, "", err
	}
	if len(list) == 0 {
		list = DefaultIntents()
	}
	return list, version, nil
}

// Model is the current classifier holder.
func (c *Catalog) Model() *Model { return c.model }

// List returns the current intents.
func (c *Catalog) List() []Intent { return c.model.Intents() }

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
	next := c.List()
	for _, in := range list {
		in = normalise(in)
		i := slices.IndexFunc(next, func(x Intent) bool { return x.Name == in.Name })
		switch {
		case i >= 0 && create:
			return 0, 0, baton.Errorf(baton.ErrConflict, "conflict", "intent %q already exists", in.Name)
		case i >= 0:
			next[i] = in
		default:
			next = append(next, in)
		}
	}
	return c.apply(ctx, next, func() (int, int, error) { return c.store.SaveIntents(ctx, actorID, normaliseAll(list), create) })
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
	return in, nil
}

// Delete removes an intent.
func (c *Catalog) Delete(ctx context.Context, actorID int64, name string) error {
	if _, err := c.Get(name); err != nil {
		return err
	}
	next := slices.DeleteFunc(c.List(), func(x Intent) bool { return x.Name == name })
	if len(next) < 2 {
		return baton.Invalid("at least two intents must remain")
	}
	_, _, err := c.apply(ctx, next, func() (int, int, error) { return 0, 0, c.store.DeleteIntent(ctx, actorID, name) })
	return err
}

// apply trains on next, writes the change, and makes the new classifier current.
func (c *Catalog) apply(ctx context.Context, next []Intent, write func() (int, int, error)) (int, int, error) {
	if err := ValidateAll(next); err != nil {
		return 0, 0, baton.Invalid("%v", err)
	}
	candidate, err := NewModel(next, Options{})
	if err != nil {
		return 0, 0, baton.Invalid("the intents cannot be trained: %v", err)
	}
	added, updated, err := write()
	if err != nil {
		return 0, 0, err
	}
	if err := c.model.Retrain(candidate.Intents()); err != nil {
		return 0, 0, err
	}
	if v, err := c.store.IntentsVersion(ctx); err == nil {
		c.version = v
	}
	return added, updated, nil
}

// Watch retrains whenever another process changed the intents, polling every interval.
func (c *Catalog) Watch(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if err := c.Refresh(ctx); err != nil && !errors.Is(err, context.Canceled) {
				c.log.WarnContext(ctx, "refresh intents", "err", err)
			}
		}
	}
}

// Refresh retrains if the stored intents changed since the last load.
func (c *Catalog) Refresh(ctx context.Context) error {
	v, err := c.store.IntentsVersion(ctx)
	if err != nil || v == c.version {
		return err
	}
	list, v, err := c.load(ctx)
	if err != nil {
		return err
	}
	if err := c.model.Retrain(list); err != nil {
		return err
	}
	c.version = v
	c.log.InfoContext(ctx, "intents retrained", "intents", len(list))
	return nil
}

func normalise(in Intent) Intent {
	in.Name = strings.TrimSpace(in.Name)
	if in.Action == "" {
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
