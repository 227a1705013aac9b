package intents

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"
)

// compiledType is a custom detail type ready to match.
type compiledType struct {
	t        DetailType
	re       *regexp.Regexp    // the pattern, or an alternation of the values
	canon    map[string]string // lower-cased value -> the listed spelling (values types)
	keywords []string          // lower case
}

// compiled caches custom types by their definition: ExtractContext carries plain values, and
// compiling patterns on every message would cost more than extracting. Admins define a handful
// of types, so the cache stays small.
var compiled sync.Map // string -> *compiledType

func compileType(t DetailType) (*compiledType, bool) {
	key := strings.Join([]string{t.Name, t.Label, t.Pattern, strings.Join(t.Values, "\x01"), strings.Join(t.Keywords, "\x01"), t.Normalize}, "\x00")
	if c, ok := compiled.Load(key); ok {
		return c.(*compiledType), c.(*compiledType).re != nil
	}
	c := &compiledType{t: t}
	for _, k := range t.Keywords {
		if k = strings.ToLower(strings.TrimSpace(k)); k != "" {
			c.keywords = append(c.keywords, k)
		}
	}
	switch {
	case t.Pattern != "":
		c.re, _ = regexp.Compile(t.Pattern) // invalid patterns never pass Validate; skip them here
	case len(t.Values) > 0:
		c.canon = map[string]string{}
		var alts []string
		for _, v := range t.Values {
			if v = strings.TrimSpace(v); v != "" {
				c.canon[strings.ToLower(v)] = v
				alts = append(alts, regexp.QuoteMeta(v))
			}
		}
		// Longest first, so "gold plus" wins over "gold".
		slices.SortFunc(alts, func(a, b string) int { return len(b) - len(a) })
		if len(alts) > 0 {
			c.re = regexp.MustCompile(`(?i)(?:` + strings.Join(alts, "|") + `)`)
		}
	}
	compiled.Store(key, c)
	return c, c.re != nil
}

func compileTypes(list []DetailType) []*compiledType {
	var out []*compiledType
	for _, t := range list {
		if t.Builtin || KnownDetail(t.Name) {
			continue
		}
		if c, ok := compileType(t.Normalized()); ok {
			out = append(out, c)
		}
	}
	return out
}

// customMatch is one place where a custom type's pattern or value occurs.
type customMatch struct {
	s, e   int // the whole match, checked against word boundaries
	vs, ve int // the value (the first capture group, if any)
}

func (c *compiledType) matches(text string) []customMatch {
	var out []customMatch
	for _, m := range c.re.FindAllStringSubmatchIndex(text, -1) {
		if m[1] == m[0] || !boundary(text, m[0], m[1]) {
			continue
		}
		cm := customMatch{s: m[0], e: m[1], vs: m[0], ve: m[1]}
		if c.canon == nil && len(m) >= 4 && m[2] >= 0 && m[3] > m[2] {
			cm.vs, cm.ve = m[2], m[3]
		}
		out = append(out, cm)
	}
	return out
}

// boundary reports whether text[s:e] stands on its own: no letter or digit glued to either end
// ("10115" is not inside "101152", "gold" not inside "goldfish").
func boundary(text string, s, e int) bool {
	if s > 0 {
		r, _ := utf8.DecodeLastRuneInString(text[:s])
		if isWordRune(r) {
			return false
		}
	}
	if e < len(text) {
		r, _ := utf8.DecodeRuneInString(text[e:])
		if isWordRune(r) {
			return false
		}
	}
	return true
}

func isWordRune(r rune) bool { return unicode.IsLetter(r) || unicode.IsDigit(r) || r == '_' }

// fillers may stand between a keyword and its value: "zip code 10115", "username is ana_88",
// "membership level: gold".
var fillers = map[string]bool{
	"is": true, "was": true, "are": true, "its": true, "it's": true, "it’s": true, "number": true, "no": true,
	"code": true, "id": true, "level": true, "tier": true, "of": true, "will": true, "be": true, "should": true,
	"name": true, "my": true, "the": true, "type": true, "status": true,
}

// cuedBy reports whether text just before s ends with one of keywords, allowing a few filler
// words and separators in between.
func cuedBy(text string, s int, keywords []string) bool {
	if len(keywords) == 0 {
		return false
	}
	before := strings.ToLower(text[max(0, s-60):s])
	for range 4 { // the keyword, then at most three fillers before the value
		before = strings.TrimRight(before, " \t:=#-–.,")
		for _, k := range keywords {
			if start := len(before) - len(k); strings.HasSuffix(before, k) && (start == 0 || !isWordRune(lastRune(before[:start]))) {
				return true
			}
		}
		i := strings.LastIndexFunc(before, func(r rune) bool { return !isWordRune(r) && r != '\'' && r != '’' })
		cut := 0
		if i >= 0 {
			_, w := utf8.DecodeRuneInString(before[i:])
			cut = i + w
		}
		if !fillers[before[cut:]] {
			return false
		}
		before = before[:cut]
	}
	return false
}

// keywordBefore reports whether one of keywords occurs in text before s more recently than the
// other cue at position other (-1: none): the nearer announcement decides what a value is.
func keywordBefore(text string, s int, keywords []string, other int) bool {
	lo := max(0, s-40)
	before := strings.ToLower(text[lo:s])
	for _, k := range keywords {
		for i := strings.LastIndex(before, k); i >= 0; i = strings.LastIndex(before[:i], k) {
			end := i + len(k)
			okStart := i == 0 || !isWordRune(lastRune(before[:i]))
			okEnd := end == len(before) || !isWordRune(firstRune(before[end:]))
			if okStart && okEnd {
				if lo+i > other {
					return true
				}
				break
			}
		}
	}
	return false
}

func lastRune(s string) rune  { r, _ := utf8.DecodeLastRuneInString(s); return r }
func firstRune(s string) rune { r, _ := utf8.DecodeRuneInString(s); return r }

// customModes say which custom candidates one pass keeps.
const (
	customCued      = 1 << iota // announced by one of the type's keywords
	customRequested             // the type the bot just asked for
	customExpected              // required by the conversation's open intent
)

func extractCustom(text string, ctx ExtractContext, types []*compiledType, mode int) []Detail {
	var out []Detail
	for _, c := range types {
		requested := ctx.Requested == c.t.Name
		expected := slices.Contains(ctx.Expect, c.t.Name)
		for _, m := range c.matches(text) {
			cued := cuedBy(text, m.s, c.keywords)
			keep := (mode&customCued != 0 && cued) || (mode&customRequested != 0 && requested) ||
				(mode&customExpected != 0 && expected && !cued && !requested)
			raw := text[m.vs:m.ve]
			// Expected but unannounced, a loose pattern would match the words of the sentence
			// ("reset my login" for a username): only values with a digit or symbol count.
			if keep && !cued && !requested && c.canon == nil && strings.IndexFunc(raw, func(r rune) bool { return !unicode.IsLetter(r) }) < 0 {
				keep = false
			}
			if !keep || slices.Contains(c.keywords, strings.ToLower(raw)) || fillers[strings.ToLower(raw)] {
				continue // "username is ana_88": the keyword itself is not the value
			}
			v := raw
			if c.canon != nil {
				v = c.canon[strings.ToLower(raw)]
			}
			v = normalizeValue(c.t.Normalize, v)
			if v == "" {
				continue
			}
			out = append(out, Detail{Type: c.t.Name, Value: v, Text: raw, Start: m.vs, End: m.ve, Valid: true})
		}
	}
	return out
}

// customProblem is the detail for a requested custom type whose answer did not fit: a short
// reply that is not a question, so the bot can say what was wrong and ask again.
func customProblem(text string, ctx ExtractContext, types []*compiledType, found []Detail) (Detail, bool) {
	i := slices.IndexFunc(types, func(c *compiledType) bool { return c.t.Name == ctx.Requested })
	if i < 0 || slices.ContainsFunc(found, func(d Detail) bool { return d.Type == ctx.Requested }) {
		return Detail{}, false
	}
	c := types[i]
	s := strings.TrimSpace(text)
	if s == "" || strings.Contains(s, "?") || len(strings.Fields(s)) > 4 {
		return Detail{}, false
	}
	start := strings.Index(text, s)
	d := Detail{Type: c.t.Name, Text: s, Start: start, End: start + len(s)}
	if c.canon != nil {
		d.Problem = fmt.Sprintf("that isn't a %s I know (it can be %s)", c.t.Label, orList(c.t.Values))
	} else {
		d.Problem = fmt.Sprintf("that doesn't look like a valid %s", c.t.Label)
	}
	return d, true
}

// orList writes "a, b or c".
func orList(items []string) string {
	switch len(items) {
	case 0:
		return ""
	case 1:
		return items[0]
	}
	return strings.Join(items[:len(items)-1], ", ") + " or " + items[len(items)-1]
}

// builtinForeign are words that announce a number that is neither a phone nor an order
// number, whether or not the admins defined a type for it.
var builtinForeign = []string{
	"zip", "zipcode", "postcode", "post code", "postal code", "plz", "account", "customer id", "customer number",
	"member id", "member number", "membership", "user id", "userid", "username", "user name", "login", "pin",
	"passcode", "iban", "sort code", "routing number", "card number", "tax id", "vat number", "vat id", "ssn",
	"social security", "licence", "license", "serial", "sku", "model number", "apartment", "apt", "suite",
	"house number", "street", "extension", "ext",
}

// foreignKeywords are builtinForeign plus every custom type's keywords.
func foreignKeywords(types []*compiledType) []string {
	out := builtinForeign
	if len(types) > 0 {
		out = slices.Clone(builtinForeign)
		for _, c := range types {
			out = append(out, c.keywords...)
		}
	}
	return out
}
