package convtest

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/batonhq/baton/prompts"
)

// PromptPins pin prompt templates to stored versions for a run (`--prompt-version name=N`,
// repeatable), so an admin plays the scripts against a draft before activating it. Version 0
// is the embedded default. It is a flag.Value.
type PromptPins map[prompts.Name]int

// String implements flag.Value.
func (p PromptPins) String() string {
	var parts []string
	for _, n := range slices.Sorted(maps.Keys(p)) {
		parts = append(parts, fmt.Sprintf("%s=%d", n, p[n]))
	}
	return strings.Join(parts, ",")
}

// Set implements flag.Value: NAME=VERSION of an existing template.
func (p PromptPins) Set(v string) error {
	name, ver, ok := strings.Cut(v, "=")
	n, err := strconv.Atoi(strings.TrimSpace(ver))
	switch {
	case !ok || strings.TrimSpace(name) == "":
		return fmt.Errorf("want NAME=VERSION, got %q", v)
	case err != nil || n < 0:
		return fmt.Errorf("%q: the version must be a number ≥ 0 (0: the default)", v)
	}
	pn := prompts.Name(strings.TrimSpace(name))
	if _, err := prompts.Default().Body(pn); err != nil {
		return fmt.Errorf("%q: no template named %s", v, pn)
	}
	if prev, dup := p[pn]; dup && prev != n {
		return fmt.Errorf("%s is pinned twice (%d and %d)", pn, prev, n)
	}
	p[pn] = n
	return nil
}

// Bodies reads the pinned versions' bodies from store (the deployment's database).
func (p PromptPins) Bodies(ctx context.Context, store prompts.Store) (map[prompts.Name]string, error) {
	out := map[prompts.Name]string{}
	for name, n := range p {
		if n == 0 {
			body, err := prompts.Default().Body(name)
			if err != nil {
				return nil, err
			}
			out[name] = body
			continue
		}
		v, err := store.PromptVersion(ctx, name, n)
		if err != nil {
			return nil, fmt.Errorf("read prompt %s version %d: %w", name, n, err)
		}
		out[name] = v.Body
	}
	return out, nil
}

// Activate saves each body as a version of its template in live and activates it: run it on
// the sandbox's template app, so every script's Baton starts with the pinned prompts.
func Activate(ctx context.Context, live *prompts.Live, bodies map[prompts.Name]string) error {
	for _, name := range slices.Sorted(maps.Keys(bodies)) {
		v, err := live.Save(ctx, 0, name, bodies[name])
		if err != nil {
			return fmt.Errorf("pin prompt %s: %w", name, err)
		}
		if _, err := live.Activate(ctx, 0, name, v.Version); err != nil {
			return fmt.Errorf("pin prompt %s: %w", name, err)
		}
	}
	return nil
}
