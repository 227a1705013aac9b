package sentiment

import (
	"regexp"
	"regexp/syntax"
	"strings"
	"unicode/utf8"
)

// rx is a regexp with the strings one of which every match must contain. Go's regexp engine
// costs microseconds per rule and message, and most messages contain none of a rule's words,
// so may checks them with strings.Contains first; this keeps the ~60 rules far under a
// millisecond per message. Results are the same as without the check.
type rx struct {
	*regexp.Regexp
	keys []string // lower case; nil: no check possible, always run the regexp
}

func mustRx(expr string) rx {
	re := regexp.MustCompile(expr)
	parsed, err := syntax.Parse(expr, syntax.Perl)
	if err != nil {
		panic(err)
	}
	return rx{re, required(parsed)}
}

// may reports whether the rule can match lower, the lower-cased text.
func (r rx) may(lower string) bool {
	if r.keys == nil {
		return true
	}
	for _, k := range r.keys {
		if strings.Contains(lower, k) {
			return true
		}
	}
	return false
}

// required returns strings one of which every match of re contains, or nil if there are none
// it can name (a branch made only of classes, or an optional part).
func required(re *syntax.Regexp) []string {
	if set, ok := exact(re); ok && shortest(set) > 0 {
		return set
	}
	switch re.Op {
	case syntax.OpCapture, syntax.OpPlus:
		return required(re.Sub[0])
	case syntax.OpRepeat:
		if re.Min >= 1 {
			return required(re.Sub[0])
		}
	case syntax.OpConcat:
		// Any part's strings will do, and so will those of a run of parts with finite
		// sets ("t" then "hanks|hx|y"); take the most selective.
		var best []string
		consider := func(keys []string) {
			if keys != nil && shortest(keys) > 0 && (best == nil || shortest(keys) > shortest(best)) {
				best = keys
			}
		}
		for i, sub := range re.Sub {
			consider(required(sub))
			run := []string{""}
			for _, next := range re.Sub[i:] {
				set, ok := exact(next)
				if !ok {
					break
				}
				if run = product(run, set); run == nil {
					break
				}
				consider(run)
			}
		}
		return best
	case syntax.OpAlternate:
		var all []string
		for _, sub := range re.Sub {
			keys := required(sub)
			if keys == nil {
				return nil
			}
			all = append(all, keys...)
		}
		return all
	}
	return nil
}

// maxExact bounds the sets exact and product build.
const maxExact = 64

// exact returns every string re matches, lower-cased, when they are few.
func exact(re *syntax.Regexp) ([]string, bool) {
	switch re.Op {
	case syntax.OpLiteral:
		return []string{strings.ToLower(string(re.Rune))}, true
	case syntax.OpEmptyMatch, syntax.OpWordBoundary, syntax.OpBeginText, syntax.OpEndText,
		syntax.OpBeginLine, syntax.OpEndLine:
		return []string{""}, true
	case syntax.OpCapture:
		return exact(re.Sub[0])
	case syntax.OpQuest:
		set, ok := exact(re.Sub[0])
		return append(set, ""), ok
	case syntax.OpCharClass:
		var set []string
		for i := 0; i+1 < len(re.Rune); i += 2 {
			for r := re.Rune[i]; r <= re.Rune[i+1]; r++ {
				if len(set) == maxExact {
					return nil, false
				}
				set = append(set, strings.ToLower(string(r)))
			}
		}
		return set, true
	case syntax.OpAlternate:
		var set []string
		for _, sub := range re.Sub {
			s, ok := exact(sub)
			if !ok || len(set)+len(s) > maxExact {
				return nil, false
			}
			set = append(set, s...)
		}
		return set, true
	case syntax.OpConcat:
		set := []string{""}
		for _, sub := range re.Sub {
			s, ok := exact(sub)
			if !ok {
				return nil, false
			}
			if set = product(set, s); set == nil {
				return nil, false
			}
		}
		return set, true
	}
	return nil, false
}

// product returns every a+b, or nil if there would be more than maxExact.
func product(as, bs []string) []string {
	if len(as)*len(bs) > maxExact {
		return nil
	}
	out := make([]string, 0, len(as)*len(bs))
	for _, a := range as {
		for _, b := range bs {
			out = append(out, a+b)
		}
	}
	return out
}

func shortest(keys []string) int {
	n := -1
	for _, k := range keys {
		if l := utf8.RuneCountInString(k); n < 0 || l < n {
			n = l
		}
	}
	return n
}
