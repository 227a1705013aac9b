package intents

import (
	"errors"
	"fmt"
	"net/mail"
	"regexp"
	"strconv"
	"strings"

	"github.com/nyaruka/phonenumbers"
)

// emailCandidate is deliberately loose: anything with an @ between word characters is looked
// at, so that near-misses ("ana@example", "ana@@shop.com") are reported as invalid instead of
// silently ignored.
var emailCandidate = regexp.MustCompile(`[\p{L}0-9._%+\-']*[\p{L}0-9_%+\-]@+[\p{L}0-9.\-]*[\p{L}0-9]`)

// reservedTLD can never receive mail (RFC 2606, RFC 6761).
var reservedTLD = map[string]bool{"example": true, "test": true, "invalid": true, "localhost": true, "local": true}

var tldPattern = regexp.MustCompile(`^[a-z]{2,24}$|^xn--[a-z0-9-]{2,59}$`)

func extractEmails(text string) []Detail {
	var out []Detail
	for _, m := range emailCandidate.FindAllStringIndex(text, -1) {
		s, e := m[0], m[1]
		// A leading apostrophe is quoting, not part of the address.
		for s < e && text[s] == '\'' {
			s++
		}
		raw := text[s:e]
		value, problem := ValidateEmail(raw)
		out = append(out, Detail{Type: DetailEmail, Value: value, Text: raw, Start: s, End: e, Valid: problem == "", Problem: problem})
	}
	return out
}

// ValidateEmail returns the normalised address (domain lower-cased) or a problem.
func ValidateEmail(s string) (string, string) {
	if strings.Count(s, "@") != 1 {
		return "", "that email address should have exactly one @"
	}
	local, domain, _ := strings.Cut(s, "@")
	switch {
	case local == "":
		return "", "that email address is missing the part before the @"
	case len(local) > 64:
		return "", "the part before the @ in that email address is too long"
	case strings.HasPrefix(local, ".") || strings.HasSuffix(local, ".") || strings.Contains(local, ".."):
		return "", "that email address has a dot in the wrong place before the @"
	case domain == "":
		return "", "that email address is missing the part after the @"
	}
	domain = strings.ToLower(domain)
	labels := strings.Split(domain, ".")
	if len(labels) < 2 {
		return "", "that email address is missing an ending like .com"
	}
	for _, l := range labels {
		if l == "" || strings.HasPrefix(l, "-") || strings.HasSuffix(l, "-") || len(l) > 63 {
			return "", "the part after the @ in that email address doesn't look right"
		}
	}
	if tld := labels[len(labels)-1]; !tldPattern.MatchString(tld) || reservedTLD[tld] {
		return "", "that email address doesn't end in a real domain like .com"
	}
	addr := local + "@" + domain
	if _, err := mail.ParseAddress(addr); err != nil {
		return "", "that email address doesn't look right"
	}
	return addr, ""
}

// phoneCandidate: an optional + or 00, then digits with the separators people type.
var phoneCandidate = regexp.MustCompile(`(?:\+|\b00)?\(?\d[\d \t().\-/]{5,20}\d\b`)

// phoneCue words announce a phone number; "number" alone also announces order numbers.
var (
	phoneCue  = regexp.MustCompile(`(?i)\b(phone|call|cell|mobile|tel|telephone|text me|reach me|whatsapp|sms|ring|fax)\b`)
	numberCue = regexp.MustCompile(`(?i)\b(number|contact|no\.)`)
)

var orderCue = regexp.MustCompile(`(?i)\b(order|orders|ref|reference|confirmation|invoice|tracking|purchase|parcel|package|shipment)\b|#\s*$`)

func extractPhones(text string, ctx ExtractContext) []Detail {
	var out []Detail
	for _, m := range phoneCandidate.FindAllStringIndex(text, -1) {
		s, e := m[0], m[1]
		raw := text[s:e]
		digits := onlyDigits(raw)
		if len(digits) < 7 || len(digits) > 15 {
			continue
		}
		if looksLikeDateOrMoney(text, s, e, raw) {
			continue
		}
		plus := strings.HasPrefix(raw, "+")
		international := plus || strings.HasPrefix(raw, "00")
		separated := strings.ContainsAny(strings.TrimPrefix(raw, "+"), " -().")
		before := text[max(0, s-40):s]
		cue := phoneCue.MatchString(before) || ctx.Requested == DetailPhone
		weak := numberCue.MatchString(before)
		orderish := orderCue.MatchString(before) || ctx.Requested == DetailOrderNumber
		if orderish && !plus && !(cue && lastIndex(phoneCue, before) > lastIndex(orderCue, before)) {
			continue // an order number that happens to be long
		}
		if !plus && keywordBefore(text, s, ctx.foreign, max(0, s-40)+lastIndex(phoneCue, before)) {
			continue // "account number 12345678": announced as something else
		}
		if !international && !cue && !weak && !separated {
			continue
		}
		value, problem := ValidatePhone(raw, ctx.region())
		if problem != "" && !international && !cue && !weak {
			continue // separated digits without a cue that are no phone: leave them alone
		}
		out = append(out, Detail{Type: DetailPhone, Value: value, Text: raw, Start: s, End: e, Valid: problem == "", Problem: problem})
	}
	return out
}

func lastIndex(re *regexp.Regexp, s string) int {
	all := re.FindAllStringIndex(s, -1)
	if len(all) == 0 {
		return -1
	}
	return all[len(all)-1][0]
}

// looksLikeDateOrMoney rejects 2024-03-05, 03/05/2024, 12.05.2024 and amounts.
var dateLike = regexp.MustCompile(`^\d{1,4}[-/.]\d{1,2}[-/.]\d{1,4}$`)

func looksLikeDateOrMoney(text string, s, e int, raw string) bool {
	if dateLike.MatchString(strings.TrimSpace(raw)) {
		return true
	}
	before := strings.TrimRight(text[max(0, s-4):s], " ")
	if strings.HasSuffix(before, "$") || strings.HasSuffix(before, "€") || strings.HasSuffix(before, "£") {
		return true
	}
	return false
}

// ValidatePhone returns the number in E.164 or a problem. region applies to numbers without a
// country code.
func ValidatePhone(raw, region string) (string, string) {
	s := strings.TrimSpace(raw)
	if strings.HasPrefix(s, "00") {
		s = "+" + s[2:]
	}
	n, err := phonenumbers.Parse(s, region)
	if err != nil {
		if errors.Is(err, phonenumbers.ErrInvalidCountryCode) {
			return "", "that phone number starts with a country code I don't know"
		}
		return "", "that doesn't look like a phone number"
	}
	if !phonenumbers.IsValidNumber(n) {
		switch phonenumbers.IsPossibleNumberWithReason(n) {
		case phonenumbers.TOO_SHORT, phonenumbers.IS_POSSIBLE_LOCAL_ONLY:
			return "", "that phone number looks incomplete"
		case phonenumbers.TOO_LONG:
			return "", "that phone number has too many digits"
		case phonenumbers.INVALID_COUNTRY_CODE:
			return "", "that phone number starts with a country code I don't know"
		}
		// Shorter than the country's usual numbers: a digit group is probably missing.
		if ex := phonenumbers.GetExampleNumber(phonenumbers.GetRegionCodeForCountryCode(int(n.GetCountryCode()))); ex != nil {
			switch have, want := len(phonenumbers.GetNationalSignificantNumber(n)), len(phonenumbers.GetNationalSignificantNumber(ex)); {
			case have < want:
				return "", "that phone number looks incomplete"
			case have > want+1:
				return "", "that phone number has too many digits"
			}
		}
		if strings.HasPrefix(s, "+") {
			return "", "that phone number doesn't match its country code"
		}
		return "", fmt.Sprintf("that phone number doesn't look valid in %s; could you add the country code (like +44)?", region)
	}
	return phonenumbers.Format(n, phonenumbers.E164), ""
}

func onlyDigits(s string) string {
	var b strings.Builder
	for _, r := range s {
		if r >= '0' && r <= '9' {
			b.WriteRune(r)
		}
	}
	return b.String()
}

// defaultOrderPattern: letters-dash-digits ids (A-10293, WEB123456) or 5-10 digits.
var defaultOrderPattern = regexp.MustCompile(`(?i)#?\b([a-z]{1,4}-?\d{4,10}(?:-\d{1,4})?|\d{5,10})\b`)

func extractOrders(text string, ctx ExtractContext) []Detail {
	re := ctx.OrderPattern
	custom := re != nil
	if !custom {
		re = defaultOrderPattern
	}
	var out []Detail
	for _, m := range re.FindAllStringSubmatchIndex(text, -1) {
		s, e := m[0], m[1]
		if len(m) >= 4 && m[2] >= 0 {
			s, e = m[2], m[3]
		}
		raw := text[s:e]
		// "zip code 10115", "account id 48213": a number announced as something else is not an
		// order number, unless an order cue comes after that announcement.
		if wb := text[max(0, s-40):s]; keywordBefore(text, s, ctx.foreign, max(0, s-40)+lastIndex(orderCue, wb)) {
			continue
		}
		if !custom {
			before := text[max(0, s-30):s]
			hasLetters := strings.IndexFunc(raw, func(r rune) bool { return r > '9' }) >= 0
			cue := orderCue.MatchString(before) || strings.HasSuffix(strings.TrimSpace(text[max(0, s-2):s]), "#") ||
				ctx.Requested == DetailOrderNumber
			if !hasLetters && !cue {
				continue // a bare number could be a zip code, a year or a quantity
			}
			if hasLetters && !cue && !hasDigitRun(raw, 5) {
				continue // "ABC-2024" without an order cue is more likely a product or a year
			}
			if s >= 2 && (text[s-1] == '-' || text[s-1] == '/') && text[s-2] >= '0' && text[s-2] <= '9' {
				continue // the tail of a longer number such as 98-76543
			}
			after := text[e:]
			if !hasLetters && (strings.HasPrefix(after, ".") && len(after) > 1 && after[1] >= '0' && after[1] <= '9') {
				continue // a decimal amount
			}
			if !hasLetters && isMoneyContext(text, s, e) {
				continue
			}
		}
		out = append(out, Detail{Type: DetailOrderNumber, Value: strings.ToUpper(raw), Text: raw, Start: s, End: e, Valid: true})
	}
	return out
}

func hasDigitRun(s string, n int) bool {
	run := 0
	for _, r := range s {
		if r >= '0' && r <= '9' {
			run++
			if run >= n {
				return true
			}
		} else {
			run = 0
		}
	}
	return false
}

func isMoneyContext(text string, s, e int) bool {
	before := strings.TrimRight(text[max(0, s-4):s], " ")
	after := strings.ToLower(strings.TrimLeft(text[e:min(len(text), e+10)], " "))
	for _, sym := range []string{"$", "€", "£", "¥", "usd", "eur", "gbp"} {
		if strings.HasSuffix(strings.ToLower(before), sym) {
			return true
		}
	}
	for _, w := range []string{"dollar", "euro", "pound", "usd", "eur", "gbp", "bucks", "€", "$", "£"} {
		if strings.HasPrefix(after, w) {
			return true
		}
	}
	return false
}

// Money: a currency symbol or code before or after a number, or a currency word after it.
var (
	moneyNum    = `(\d{1,3}(?:[,.' ]\d{3})+(?:[.,]\d{1,2})?|\d+(?:[.,]\d{1,2})?)`
	moneyBefore = regexp.MustCompile(`(?i)(US\$|C\$|A\$|\$|€|£|¥|\b(?:usd|eur|gbp|chf|cad|aud|jpy))\s?` + moneyNum + `(k\b)?`)
	moneyAfter  = regexp.MustCompile(`(?i)\b` + moneyNum + `(k)?\s?(€|\$|£|\b(?:usd|eur|gbp|chf|cad|aud|jpy|dollars?|bucks|euros?|pounds?|cents?|francs?|yen)\b)`)
)

var currencyCodes = map[string]string{
	"$": "USD", "us$": "USD", "c$": "CAD", "a$": "AUD", "€": "EUR", "£": "GBP", "¥": "JPY",
	"usd": "USD", "eur": "EUR", "gbp": "GBP", "chf": "CHF", "cad": "CAD", "aud": "AUD", "jpy": "JPY",
	"dollar": "USD", "dollars": "USD", "bucks": "USD", "euro": "EUR", "euros": "EUR",
	"pound": "GBP", "pounds": "GBP", "franc": "CHF", "francs": "CHF", "yen": "JPY", "cent": "", "cents": "",
}

func extractMoney(text string) []Detail {
	var out []Detail
	add := func(s, e int, cur, num string, kilo bool) {
		cur = strings.ToLower(cur)
		code := currencyCodes[cur]
		v, ok := parseAmount(num)
		if !ok {
			out = append(out, Detail{Type: DetailMoney, Text: text[s:e], Start: s, End: e, Problem: "I couldn't work out the amount"})
			return
		}
		if kilo {
			v *= 1000
		}
		if cur == "cent" || cur == "cents" {
			v /= 100
			code = "USD"
		}
		out = append(out, Detail{Type: DetailMoney, Value: strconv.FormatFloat(v, 'f', 2, 64) + " " + code, Text: text[s:e], Start: s, End: e, Valid: true})
	}
	for _, m := range moneyBefore.FindAllStringSubmatchIndex(text, -1) {
		add(m[0], m[1], text[m[2]:m[3]], text[m[4]:m[5]], m[6] >= 0)
	}
	for _, m := range moneyAfter.FindAllStringSubmatchIndex(text, -1) {
		overlap := false
		for _, d := range out {
			if m[0] < d.End && d.Start < m[1] {
				overlap = true
			}
		}
		if !overlap {
			add(m[0], m[1], text[m[6]:m[7]], text[m[2]:m[3]], m[4] >= 0)
		}
	}
	return out
}

// parseAmount reads 1,234.56, 1.234,56, 12,50, 1 234 and 1'234.50: a final separator followed
// by one or two digits is the decimal mark, any other separator groups thousands.
func parseAmount(s string) (float64, bool) {
	last := strings.LastIndexAny(s, ",.")
	intPart, frac := s, ""
	if last >= 0 && len(s)-last-1 <= 2 {
		intPart, frac = s[:last], s[last+1:]
	}
	intPart = strings.NewReplacer(",", "", ".", "", "'", "", " ", "").Replace(intPart)
	if intPart == "" {
		intPart = "0"
	}
	if frac != "" {
		intPart += "." + frac
	}
	v, err := strconv.ParseFloat(intPart, 64)
	return v, err == nil
}
