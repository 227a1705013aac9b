package intents

import (
	"slices"
	"strings"
	"unicode"
)

// builtinNames are the system intents every catalog knows, whatever admins import: without
// them "Hi", "ok thanks" or "agent please" would be out of scope or sent to the knowledge base.
var builtinNames = []string{"greeting", "thanks", "goodbye", "are_you_a_bot", "talk_to_human", "complaint"}

// IsBuiltin reports whether name is a built-in system intent, which cannot be deleted.
func IsBuiltin(name string) bool { return slices.Contains(builtinNames, name) }

// Builtins returns the built-in system intents as defined in the embedded defaults. Each call
// returns a fresh copy.
func Builtins() []Intent {
	var out []Intent
	for _, in := range DefaultIntents() {
		if IsBuiltin(in.Name) {
			out = append(out, in)
		}
	}
	return out
}

// WithBuiltins returns the intents the classifier trains on for an admin's stored list: the
// stored intents plus every built-in the admin did not define. An admin intent with a
// built-in's name keeps its own reply, action and team (falling back to the built-in's when
// empty), and its examples are the union with the built-in examples, so overriding the reply
// of "greeting" cannot make "Hi" unrecognisable.
func WithBuiltins(stored []Intent) []Intent {
	out := make([]Intent, 0, len(stored)+len(builtinNames))
	out = append(out, stored...)
	for _, b := range Builtins() {
		i := slices.IndexFunc(out, func(x Intent) bool { return x.Name == b.Name })
		if i < 0 {
			out = append(out, b)
			continue
		}
		out[i] = mergeBuiltin(out[i], b)
	}
	return out
}

func mergeBuiltin(admin, b Intent) Intent {
	admin.Examples = append([]string(nil), admin.Examples...)
	for _, e := range b.Examples {
		if !slices.Contains(admin.Examples, e) {
			admin.Examples = append(admin.Examples, e)
		}
	}
	if admin.Description == "" {
		admin.Description = b.Description
	}
	if admin.Action == "" {
		admin.Action = b.Action
		if admin.Team == "" {
			admin.Team = b.Team
		}
	}
	if admin.Action == ActionReply && strings.TrimSpace(admin.Reply) == "" {
		admin.Reply = b.Reply
	}
	return admin
}

// CountBuiltins returns how many of list are built-in intents.
func CountBuiltins(list []Intent) int {
	n := 0
	for _, in := range list {
		if IsBuiltin(in.Name) {
			n++
		}
	}
	return n
}

// exactKey is the form in which a message counts as one of an intent's examples: lower case,
// punctuation and extra spaces dropped, emoji kept ("Ok, thanks!" = "ok thanks", "👍").
func exactKey(s string) string {
	var b strings.Builder
	space := false
	for _, r := range strings.ToLower(s) {
		switch {
		case r == '’':
			b.WriteRune('\'')
			space = false
		case unicode.IsLetter(r) || unicode.IsDigit(r) || r == '\'' || unicode.Is(unicode.So, r):
			if space && b.Len() > 0 {
				b.WriteByte(' ')
			}
			b.WriteRune(r)
			space = false
		case unicode.Is(unicode.Sk, r) || unicode.Is(unicode.Mn, r) || r == '\u200d' || r == '\ufe0f':
			// skin tones and emoji joiners belong to the symbol before them
			b.WriteRune(r)
		default:
			space = true
		}
	}
	return b.String()
}

// acknowledgements are one-word replies that mean "thanks, understood" after an answer. They
// are matched exactly rather than trained on: as training rows, single words teach the
// classifier that any one-word message ("pizza", "tomorrow") is an acknowledgement.
var acknowledgements = []string{"ok", "okay", "k", "kk", "great", "perfect", "cool", "alright", "understood",
	"noted", "excellent", "awesome", "👍", "👌", "🙏", "ok 👍", "great 👍", "👍👍"}

// exactIndex maps each example's exactKey to its intent; a key shared by two intents is
// ambiguous and left out, so the classifier decides.
func exactIndex(list []Intent) map[string]string {
	idx := map[string]string{}
	for _, in := range list {
		examples := in.Examples
		if in.Name == "thanks" {
			examples = append(slices.Clip(examples), acknowledgements...)
		}
		for _, e := range examples {
			k := exactKey(e)
			if k == "" {
				continue
			}
			if prev, ok := idx[k]; ok && prev != in.Name {
				idx[k] = ""
				continue
			}
			idx[k] = in.Name
		}
	}
	for k, v := range idx {
		if v == "" {
			delete(idx, k)
		}
	}
	return idx
}
