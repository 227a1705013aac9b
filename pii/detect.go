package pii

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// findEmails finds a local part (plus-addressing included), an @, one or more domain labels and
// a letters-only top-level domain; case does not matter. It is hand-written rather than a
// regexp because it runs on every log line with an '@', and it reads only around each '@'.
func findEmails(text string) []Span {
	var out []Span
	from := 0
	for {
		at := strings.IndexByte(text[from:], '@')
		if at < 0 {
			return out
		}
		at += from
		from = at + 1
		start := at
		for start > 0 {
			c, n := utf8.DecodeLastRuneInString(text[:start])
			if !isLocalRune(c) {
				break
			}
			start -= n
		}
		if start > 0 && len(out) > 0 && out[len(out)-1].End > start {
			start = out[len(out)-1].End
		}
		if start == at || text[at-1] == '.' || text[at-1] == '\'' {
			continue
		}
		if end := domainEnd(text, at+1); end > 0 {
			out = append(out, Span{Kind: KindEmail, Start: start, End: end})
			from = end
		}
	}
}

func isLocalRune(c rune) bool {
	return c < utf8.RuneSelf && (isDigit(byte(c)) || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || strings.ContainsRune("._%+-'", c)) ||
		c >= utf8.RuneSelf && unicode.IsLetter(c)
}

// domainEnd returns where the domain starting at i ends (after a top-level domain of two or
// more letters), or 0 when there is none.
func domainEnd(text string, i int) int {
	end, label, runes, letters := 0, i, 0, true
	for j := i; j < len(text); {
		c, n := utf8.DecodeRuneInString(text[j:])
		switch {
		case c == '.':
			if runes == 0 {
				return end // ".." or a leading dot ends the domain
			}
			label, runes, letters = j+1, 0, true
			j++
			continue
		case c == '-' || c < utf8.RuneSelf && isDigit(byte(c)):
			letters = false
		case c < utf8.RuneSelf && (c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z') || c >= utf8.RuneSelf && unicode.IsLetter(c):
		default:
			return end
		}
		j += n
		runes++
		if letters && runes >= 2 && label > i {
			end = j // a top-level domain of letters after at least one label
		}
	}
	return end
}

// group is one run of digits; sep is the text between the previous group and this one.
type group struct {
	start, end int
	sep        string
	used       bool // taken by a date or a card
}

// run is digits joined by the separators people type in numbers: spaces, dashes, dots, slashes
// and brackets ("+44 (0)20 7946 0958", "4242-4242-4242-4242", "2024-05-01").
type run struct {
	start int  // includes a leading '+' or '('
	plus  bool // starts with '+'
	// glued to a word or a bigger number before or after ("A-10293", "1,299.00", "5551234567x"):
	// the groups at that end are part of a code or an amount, not a phone
	attachedBefore, attachedAfter bool
	groups                        []group
}

func isDigit(b byte) bool { return b >= '0' && b <= '9' }

func isNumSep(b byte) bool {
	switch b {
	case ' ', '-', '.', '/', '(', ')':
		return true
	}
	return false
}

// hasDigit is the fast path: text without a digit holds no phone or card.
func hasDigit(s string) bool {
	for i := 0; i < len(s); i++ {
		if isDigit(s[i]) {
			return true
		}
	}
	return false
}

// findNumbers finds cards and phones. Dates are recognised first so that "2024-05-01" is never
// a phone; cards next, so a card's digits are never read as a phone.
func findNumbers(text string) (cards, phones []Span) {
	if !hasDigit(text) {
		return nil, nil
	}
	var buf [16]group // enough for most runs without an allocation
	groups := buf[:0]
	for i := 0; i < len(text); {
		if !isDigit(text[i]) {
			i++
			continue
		}
		r := run{start: i}
		// A leading "(" or "+(" or "+" belongs to the number.
		if r.start > 0 && text[r.start-1] == '(' {
			r.start--
		}
		if r.start > 0 && text[r.start-1] == '+' {
			r.start--
			r.plus = true
		}
		r.attachedBefore = attachedBefore(text, r.start)
		groups = groups[:0]
		sep := ""
		for {
			s := i
			for i < len(text) && isDigit(text[i]) {
				i++
			}
			groups = append(groups, group{start: s, end: i, sep: sep})
			j := i
			for j < len(text) && j-i < 3 && isNumSep(text[j]) {
				j++
			}
			if j > i && j < len(text) && isDigit(text[j]) {
				sep = text[i:j]
				i = j
				continue
			}
			break
		}
		end := groups[len(groups)-1].end
		if end < len(text) {
			if c, _ := utf8.DecodeRuneInString(text[end:]); unicode.IsLetter(c) || c == '@' || c == '_' {
				r.attachedAfter = true
			}
			// "1,299" and "3.5" continue a number the separators above do not join.
			if c := text[end]; (c == ',' || c == '.') && end+1 < len(text) && isDigit(text[end+1]) {
				r.attachedAfter = true
			}
		}
		r.groups = groups
		markDates(text, r.groups)
		cards = appendCards(cards, text, r.groups)
		phones = appendPhones(phones, text, r)
	}
	return cards, phones
}

// attachedBefore reports whether the number starting at i continues a word or a bigger number.
func attachedBefore(text string, i int) bool {
	if i == 0 {
		return false
	}
	c, n := utf8.DecodeLastRuneInString(text[:i])
	if unicode.IsLetter(c) || c == '_' || c == '#' {
		return true
	}
	switch c {
	case '-', '/', '.', ',', ':':
		if i-n > 0 {
			p, _ := utf8.DecodeLastRuneInString(text[:i-n])
			return unicode.IsLetter(p) || unicode.IsDigit(p)
		}
	case '$', '€', '£', '¥':
		return true
	}
	return false
}

func atoiSmall(s string) int {
	n := 0
	for i := 0; i < len(s) && i < 4; i++ {
		n = n*10 + int(s[i]-'0')
	}
	return n
}

// markDates marks YYYY-MM-DD, DD/MM/YYYY, MM.DD.YY (one separator throughout) and year ranges
// like 2019-2024 as used: they are dates, not phone numbers.
func markDates(text string, g []group) {
	for i := 0; i+1 < len(g); i++ {
		a := g[i]
		b := g[i+1]
		if a.end-a.start == 4 && b.end-b.start == 4 && isYear(text[a.start:a.end]) && isYear(text[b.start:b.end]) && b.sep == "-" {
			g[i].used, g[i+1].used = true, true
			i++
			continue
		}
		if i+2 >= len(g) {
			continue
		}
		c := g[i+2]
		if len(b.sep) != 1 || b.sep != c.sep || !strings.Contains("-/.", b.sep) {
			continue
		}
		la, lb, lc := a.end-a.start, b.end-b.start, c.end-c.start
		x, y, z := atoiSmall(text[a.start:a.end]), atoiSmall(text[b.start:b.end]), atoiSmall(text[c.start:c.end])
		ymd := la == 4 && lb <= 2 && lc <= 2 && y >= 1 && y <= 12 && z >= 1 && z <= 31
		dmy := la <= 2 && lb <= 2 && (lc == 2 || lc == 4) && x >= 1 && x <= 31 && y >= 1 && y <= 31 && (x <= 12 || y <= 12)
		if ymd || dmy {
			g[i].used, g[i+1].used, g[i+2].used = true, true, true
			i += 2
		}
	}
}

func isYear(s string) bool {
	return (s[0] == '1' && s[1] == '9') || (s[0] == '2' && s[1] == '0')
}

// appendCards finds 13–19 digits in consecutive unused groups, joined by single spaces or
// dashes, with a card network's first digit (2–6) and a valid Luhn checksum; the longest
// candidate from the earliest group wins.
func appendCards(out []Span, text string, g []group) []Span {
	for i := 0; i < len(g); i++ {
		if g[i].used || text[g[i].start] < '2' || text[g[i].start] > '6' {
			continue
		}
		best := -1
		n := 0
		for j := i; j < len(g) && !g[j].used; j++ {
			if j > i && g[j].sep != " " && g[j].sep != "-" {
				break
			}
			n += g[j].end - g[j].start
			if n > 19 {
				break
			}
			if n >= 13 && luhn(text[g[i].start:g[j].end]) {
				best = j
			}
		}
		if best < 0 {
			continue
		}
		for k := i; k <= best; k++ {
			g[k].used = true
		}
		out = append(out, Span{Kind: KindCard, Start: g[i].start, End: g[best].end})
		i = best
	}
	return out
}

// luhn checks the Luhn checksum of the digits in s, skipping separators.
func luhn(s string) bool {
	sum, double := 0, false
	for i := len(s) - 1; i >= 0; i-- {
		if !isDigit(s[i]) {
			continue
		}
		d := int(s[i] - '0')
		if double {
			if d *= 2; d > 9 {
				d -= 9
			}
		}
		sum += d
		double = !double
	}
	return sum%10 == 0
}

// appendPhones reads stretches of unused groups as phone numbers when they have the shape of
// one: with a leading '+', 8–15 digits (E.164); otherwise 7–15 digits written with separators
// ("555-1234", "(020) 7946 0958") or 10–15 digits (9 after a trunk 0) written together.
// Decimals, dotted thousands, IP addresses and codes glued to words are not phones. Spaces
// join numbers that are not one ("1,299.00 020 7946 0958"), so a phone may start or end at
// any space between groups; the longest from the earliest start wins.
func appendPhones(out []Span, text string, r run) []Span {
	g := r.groups
	for i := 0; i < len(g); i++ {
		if g[i].used || i > 0 && !g[i-1].used && !strings.Contains(g[i].sep, " ") {
			continue // not the start of a token
		}
		for j := min(len(g)-1, i+7); j >= i; j-- {
			if !stretchUnused(g[i:j+1]) || j+1 < len(g) && !g[j+1].used && !strings.Contains(g[j+1].sep, " ") {
				continue
			}
			if s, ok := phoneSpan(text, r, g[i:j+1], i == 0, j == len(g)-1); ok {
				out = append(out, s)
				i = j
				break
			}
		}
	}
	return out
}

func stretchUnused(g []group) bool {
	for _, x := range g {
		if x.used {
			return false
		}
	}
	return true
}

func phoneSpan(text string, r run, g []group, first, last bool) (Span, bool) {
	if r.attachedBefore && first || r.attachedAfter && last {
		return Span{}, false
	}
	n, dots, threes := 0, 0, 0
	for k, x := range g {
		n += x.end - x.start
		if k > 0 {
			if x.sep == "." {
				dots++
			}
			if x.end-x.start == 3 {
				threes++
			}
		}
	}
	seps := len(g) - 1
	if spaceAfterMark(g) {
		return Span{}, false
	}
	if seps > 0 && dots == seps {
		// 3.50, 1.299.000, 192.168.1.10: numbers, not phones (US 555.123.4567 still passes).
		firstLen := g[0].end - g[0].start
		if seps == 1 || threes == seps && firstLen <= 3 || seps == 3 && n <= 12 && maxGroup(g) <= 3 {
			return Span{}, false
		}
	}
	start := g[0].start
	plus := first && r.plus
	if first {
		start = r.start
	} else if strings.HasSuffix(g[0].sep, "(") {
		start-- // "… (020) 7946 0958"
	}
	switch {
	case plus:
		if n < 8 || n > 15 {
			return Span{}, false
		}
	case n < 7 || n > 15:
		return Span{}, false
	case seps == 0 && n < 10 && !(text[g[0].start] == '0' && n >= 9):
		return Span{}, false
	}
	if !plus && start < g[0].start && text[start] == '(' && !strings.Contains(text[g[0].end:g[len(g)-1].end], ")") {
		start = g[0].start // "(5551234567" — the bracket is punctuation, not part of the number
	}
	return Span{Kind: KindPhone, Start: start, End: g[len(g)-1].end}, true
}

func maxGroup(g []group) int {
	m := 0
	for _, x := range g {
		m = max(m, x.end-x.start)
	}
	return m
}

// spaceAfterMark reports a space between groups after a dash, dot or slash did: "555-123-4567
// 020" is a number and the start of another, while "+1 415-555-2671" and "(555) 123-4567" are
// one.
func spaceAfterMark(g []group) bool {
	marked := false
	for _, x := range g[1:] {
		switch {
		case strings.ContainsAny(x.sep, "-./"):
			marked = true
		case marked && strings.Contains(x.sep, " "):
			return true
		}
	}
	return false
}
