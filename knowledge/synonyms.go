package knowledge

import (
	"slices"
	"strings"
)

// synonymGroups are words customers use for what help centres say in other words ("my payment
// bounced" for "if a payment fails", "relocating" for "moving home"). They are everyday
// English of customer service, not any one knowledge base's vocabulary: a word of a group
// matches the others at synonymWeight in confidence and answer extraction, and retrieval also
// searches for the group's other words.
var synonymGroups = [][]string{
	// moving, cancelling, failing
	{"move", "moving", "relocate", "relocating", "relocation"},
	{"cancel", "cancelling", "cancellation", "ditch", "quit", "terminate", "termination", "unsubscribe"},
	{"fail", "failed", "fails", "bounce", "bounced", "declined", "rejected"},
	{"fault", "faulty", "broken", "dead", "outage", "offline", "defective", "malfunction", "malfunctioning"},
	{"damage", "damaged", "bent", "cracked", "scratched", "dented"},
	{"repair", "fix", "mend", "fixed"},
	{"replace", "replacement", "swap"},
	// money
	{"cheap", "cheaper", "cheapest", "affordable", "low-cost", "discount", "discounted", "concession", "reduced", "reduction"},
	{"price", "cost", "costs", "pricing", "tariff", "rate", "rates"},
	{"compensation", "refund", "reimburse", "reimbursed", "repay", "repaid"},
	{"fine", "fined", "penalty", "penalties", "penalised", "penalized"},
	{"overcharged", "overcharge", "double-charged"},
	{"bill", "invoice", "receipt", "statement"},
	{"free", "complimentary", "gratis"},
	{"voucher", "coupon", "promo", "promotional"},
	{"buy", "purchase", "bought", "purchased"},
	{"rent", "hire", "rental", "borrow"},
	{"vat", "tax"},
	{"subscription", "membership", "plan", "pass"},
	{"renew", "renewal", "re-contract", "recontract"},
	{"expire", "expired", "expiry", "expiration", "validity"},
	{"yearly", "annual", "annually"},
	{"monthly", "month"},
	{"weekly", "week"},
	// people
	{"senior", "seniors", "pensioner", "pensioners", "retired", "retiree", "elderly", "older"},
	{"student", "students", "pupil", "pupils"},
	{"child", "children", "kid", "kids", "son", "daughter", "minor", "minors", "teenager", "teen", "underage"},
	{"girlfriend", "boyfriend", "wife", "husband", "spouse", "partner", "friend", "friends"},
	{"disabled", "disability", "disabilities", "accessibility", "accessible", "wheelchair", "impairment"},
	{"employee", "employees", "staff", "colleague", "colleagues"},
	{"cv", "resume", "job", "jobs", "career", "careers", "hiring", "vacancy", "vacancies", "recruitment"},
	// time
	{"night", "evening", "overnight", "late-night"},
	{"hours", "schedule", "timetable"},
	{"weekend", "saturday", "sunday"},
	{"immediately", "instantly", "straightaway"},
	{"fast", "faster", "fastest", "quicker", "quickest", "speed"},
	{"slow", "sluggish", "laggy"},
	{"wait", "waiting", "queue"},
	{"delay", "delayed", "late"},
	// trouble
	{"stolen", "nicked", "pinched", "robbed", "theft", "steal"},
	{"lost", "missing", "misplaced", "forgot", "forgotten"},
	{"belongings", "stuff", "items", "item", "things", "possessions", "property"},
	{"crash", "crashed", "accident", "collision", "collided"},
	{"injured", "injury", "injuries", "hurt"},
	{"appeal", "dispute", "contest", "challenge", "fight"},
	{"complain", "complaint", "complaints", "grievance"},
	{"wrong", "incorrect", "mistake", "wrongly", "unfair", "error"},
	{"problem", "issue", "trouble"},
	{"help", "support", "assistance"},
	{"drunk", "alcohol", "drinking", "intoxicated"},
	// account
	{"login", "logon", "signin"},
	{"locked", "blocked", "suspended", "disabled", "banned", "deactivated"},
	{"phone", "mobile", "cellphone", "cell", "smartphone"},
	{"email", "e-mail"},
	{"delete", "erase", "remove"},
	{"change", "update", "edit", "modify", "amend"},
	{"id", "identity", "identification", "passport", "licence", "license"},
	{"keep", "retain", "store", "storing", "hold"},
	{"privacy", "gdpr"},
	{"contact", "reach", "call", "ring"},
	{"allowed", "permitted", "allow", "permit"},
	{"max", "maximum", "limit", "limits", "cap"},
	{"minimum", "min"},
	{"app", "application"},
	{"business", "corporate", "company"},
	// orders and travel
	{"delivery", "shipping", "postage", "courier", "dispatch", "shipment"},
	{"parcel", "package"},
	{"arrive", "arrival", "receive"},
	{"return", "returns", "exchange"},
	{"track", "tracking", "trace"},
	{"size", "fit", "fits"},
	{"warranty", "guarantee"},
	{"insurance", "insured", "insurer"},
	{"abroad", "overseas", "roaming", "holiday", "international"},
	{"area", "zone", "region", "district"},
	{"house", "home", "flat"},
	{"warning", "notice"},
	{"weather", "rain", "snow", "wind", "storm", "ice"},
	{"luggage", "bag", "bags", "suitcase", "baggage"},
	{"dog", "pet", "pets", "animal"},
	{"bike", "bicycle", "cycle"},
	{"internet", "broadband", "wifi", "wi-fi", "connection"},
	{"router", "modem"},
	{"signal", "reception", "coverage"},
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
			stems = append(stems, stem(strings.ReplaceAll(w, "-", "")))
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

// synonymWordsOf maps a word's stem to its groups' other words as written, for query
// expansion (full text stems them itself).
var synonymWordsOf = func() map[string][]string {
	m := map[string][]string{}
	for _, g := range synonymGroups {
		for _, w := range g {
			ws := stem(strings.ReplaceAll(w, "-", ""))
			for _, o := range g {
				if stem(strings.ReplaceAll(o, "-", "")) != ws && !slices.Contains(m[ws], o) {
					m[ws] = append(m[ws], o)
				}
			}
		}
	}
	return m
}()

// expandQuery appends the synonyms of the query's content words, so that both retrievers
// look for an article's words as well as the customer's. With known, only words the articles
// never use are expanded: a word they use finds its articles itself, and its synonyms would
// only bring in others.
func expandQuery(query string, known map[string]bool) string {
	var extra []string
	seen := map[string]bool{}
	for _, t := range questionTerms(query) {
		if known[t.stem] {
			continue
		}
		for _, o := range synonymWordsOf[t.stem] {
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
