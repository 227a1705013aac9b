package knowledge

import (
	"slices"
	"strings"

	txt "github.com/batonhq/baton/text"
)

// synonymGroups are words customers use for what help centres say in other words ("my payment
// bounced" for "if a payment fails", "relocating" for "moving home"). They are everyday
// English of customer service, not any one knowledge base's vocabulary: a word of a group
// matches the others at synonymWeight in confidence and answer extraction, and retrieval also
// searches for the group's other words.
var synonymGroups = [][]string{
	{"move", "moving", "relocate", "relocating", "relocation"},
	{"cancel", "cancelling", "cancellation", "ditch", "quit", "terminate", "termination"},
	{"fail", "failed", "fails", "bounce", "bounced", "declined", "rejected"},
	{"fault", "broken", "dead", "outage", "offline"},
	{"cheap", "cheaper", "cheapest", "affordable", "low-cost"},
	{"fast", "faster", "fastest", "quicker", "quickest", "speed"},
	{"abroad", "overseas", "roaming", "holiday"},
	{"stolen", "nicked", "pinched", "robbed", "theft"},
	{"compensation", "refund", "reimburse", "reimbursed"},
	{"renew", "renewal", "re-contract", "recontract"},
	{"house", "home", "property", "flat"},
	{"warning", "notice"},
}

// synonymWeight is what a synonym of a question word counts, against 1 for the word itself:
// like a misspelling, it is probably but not surely what was meant.
const synonymWeight = 0.7

// synonymsOf maps a stem to the stems of its groups' other words.
var synonymsOf = func() map[string][]string {
	m := map[string][]string{}
	for _, g := range synonymGroups {
		var stems []string
		for _, w := range g {
			stems = append(stems, txt.Stem(strings.ReplaceAll(w, "-", "")))
		}
		for _, s := range stems {
			for _, o := range stems {
				if o != s && !slices.Contains(m[s], o) {
					m[s] = append(m[s], o)
				}
			}
		}
	}
	return m
}()

// synonymWordsOf maps a word as typed to its groups' other words, for query expansion.
var synonymWordsOf = func() map[string][]string {
	m := map[string][]string{}
	for _, g := range synonymGroups {
		for _, w := range g {
			for _, o := range g {
				if o != w && txt.Stem(o) != txt.Stem(w) {
					m[w] = append(m[w], o)
				}
			}
		}
	}
	return m
}()

// expandQuery appends the synonyms of the query's content words, so that both retrievers
// look for an article's words as well as the customer's.
func expandQuery(query string) string {
	var extra []string
	seen := map[string]bool{}
	for _, t := range questionTerms(query) {
		for _, o := range synonymWordsOf[t.word] {
			if !seen[o] {
				seen[o] = true
				extra = append(extra, o)
			}
		}
	}
	if len(extra) == 0 {
		return query
	}
	return query + "\n" + strings.Join(extra, " ")
}
