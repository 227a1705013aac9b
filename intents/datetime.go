package intents

import (
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

var numberWords = map[string]int{
	"one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
	"nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14,
	"fifteen": 15, "sixteen": 16, "seventeen": 17, "eighteen": 18, "nineteen": 19, "twenty": 20,
	"a": 1, "an": 1, "a couple of": 2, "couple of": 2,
}

const numWord = `(?:\d{1,3}|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|thirteen|fourteen|fifteen|sixteen|seventeen|eighteen|nineteen|twenty)`

func parseCount(s string) (int, bool) {
	s = strings.ToLower(strings.TrimSpace(s))
	if n, ok := numberWords[s]; ok {
		return n, true
	}
	n, err := strconv.Atoi(s)
	return n, err == nil
}

var months = map[string]time.Month{
	"jan": 1, "january": 1, "feb": 2, "february": 2, "mar": 3, "march": 3, "apr": 4, "april": 4,
	"may": 5, "jun": 6, "june": 6, "jul": 7, "july": 7, "aug": 8, "august": 8, "sep": 9, "sept": 9,
	"september": 9, "oct": 10, "october": 10, "nov": 11, "november": 11, "dec": 12, "december": 12,
}

var weekdays = map[string]time.Weekday{
	"sunday": 0, "sun": 0, "monday": 1, "mon": 1, "tuesday": 2, "tue": 2, "tues": 2,
	"wednesday": 3, "wed": 3, "thursday": 4, "thu": 4, "thur": 4, "thurs": 4, "friday": 5,
	"fri": 5, "saturday": 6, "sat": 6,
}

const (
	monthRe   = `(jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sept?(?:ember)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\.?`
	weekdayRe = `(monday|tuesday|wednesday|thursday|friday|saturday|sunday|mon|tues?|wed|thu(?:rs?)?|fri|sat|sun)`
	ordRe     = `(\d{1,2})(?:st|nd|rd|th)?`
)

var (
	reRelDay    = regexp.MustCompile(`(?i)\b(the day after tomorrow|the day before yesterday|day after tomorrow|day before yesterday|today|tonight|tomorrow|tmrw|tmr|yesterday)\b`)
	reInDays    = regexp.MustCompile(`(?i)\b(?:in (` + numWord + `) (days?|weeks?)|(` + numWord + `) (days?|weeks?) (from now|from today|ago|later|time))\b`)
	reWeekday   = regexp.MustCompile(`(?i)\b(?:(next|this|last|coming|this coming|on)\s+)?` + weekdayRe + `\b`)
	reMonthDay  = regexp.MustCompile(`(?i)\b` + monthRe + `\s+(?:the\s+)?` + ordRe + `\b(?:,?\s+(\d{4}))?`)
	reDayMonth  = regexp.MustCompile(`(?i)\b` + ordRe + `(?:\s+of)?\s+` + monthRe + `\b(?:,?\s+(\d{4}))?`)
	reISO       = regexp.MustCompile(`\b(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})\b`)
	reNumeric   = regexp.MustCompile(`\b(\d{1,2})[/.-](\d{1,2})(?:[/.-](\d{2}|\d{4}))?\b`)
	reOrdinalOn = regexp.MustCompile(`(?i)\b(?:on |for )?the ((\d{1,2})(?:st|nd|rd|th))\b`)
)

func extractDates(text string, ctx ExtractContext) []Detail {
	now := ctx.now()
	today := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, now.Location())
	var out []Detail
	add := func(s, e int, d time.Time, ok bool, problem string) {
		for _, o := range out {
			if s < o.End && o.Start < e {
				return
			}
		}
		det := Detail{Type: DetailDate, Text: text[s:e], Start: s, End: e, Valid: ok, Problem: problem}
		if ok {
			det.Value = d.Format("2006-01-02")
		}
		out = append(out, det)
	}
	// Calendar arithmetic with time.Date, never Add(24h): days are 23 or 25 hours long across a
	// daylight-saving change.
	var weekdaySpans []int // starts of spans that come from a weekday name alone
	day := func(n int) time.Time {
		return time.Date(today.Year(), today.Month(), today.Day()+n, 0, 0, 0, 0, today.Location())
	}

	for _, m := range reISO.FindAllStringSubmatchIndex(text, -1) {
		y, _ := strconv.Atoi(text[m[2]:m[3]])
		mo, _ := strconv.Atoi(text[m[4]:m[5]])
		d, _ := strconv.Atoi(text[m[6]:m[7]])
		t, ok := mkDate(y, mo, d, today.Location())
		add(m[0], m[1], t, ok, problemIf(!ok, "that date does not exist"))
	}
	for _, re := range []*regexp.Regexp{reMonthDay, reDayMonth} {
		for _, m := range re.FindAllStringSubmatchIndex(text, -1) {
			var mon, dd string
			if re == reMonthDay {
				mon, dd = text[m[2]:m[3]], text[m[4]:m[5]]
			} else {
				dd, mon = text[m[2]:m[3]], text[m[4]:m[5]]
			}
			mo := months[strings.ToLower(strings.TrimSuffix(mon, "."))]
			d, _ := strconv.Atoi(dd)
			if re == reMonthDay && strings.EqualFold(mon, "may") && !strings.ContainsAny(text[m[0]:m[1]], "0123456789") {
				continue
			}
			if m[6] >= 0 {
				y, _ := strconv.Atoi(text[m[6]:m[7]])
				t, ok := mkDate(y, int(mo), d, today.Location())
				add(m[0], m[1], t, ok, problemIf(!ok, "that date does not exist"))
				continue
			}
			t, ok := nearestYear(today, int(mo), d)
			add(m[0], m[1], t, ok, problemIf(!ok, "that date does not exist"))
		}
	}
	for _, m := range reNumeric.FindAllStringSubmatchIndex(text, -1) {
		a, _ := strconv.Atoi(text[m[2]:m[3]])
		b, _ := strconv.Atoi(text[m[4]:m[5]])
		if m[6] < 0 && !strings.Contains(text[m[0]:m[1]], "/") {
			continue // 12.50 or 3-4 without a year is an amount or a range, not a date
		}
		mo, d := a, b
		if ctx.region() != "US" {
			mo, d = b, a
		}
		if mo > 12 && d <= 12 {
			mo, d = d, mo // only one reading exists
		}
		if m[6] >= 0 {
			y, _ := strconv.Atoi(text[m[6]:m[7]])
			if y < 100 {
				y += 2000
			}
			t, ok := mkDate(y, mo, d, today.Location())
			add(m[0], m[1], t, ok, problemIf(!ok, "that date does not exist"))
		} else {
			t, ok := nearestYear(today, mo, d)
			add(m[0], m[1], t, ok, problemIf(!ok, "that date does not exist"))
		}
	}
	for _, m := range reInDays.FindAllStringSubmatchIndex(text, -1) {
		var cnt, unit, dir string
		if m[2] >= 0 {
			cnt, unit = text[m[2]:m[3]], text[m[4]:m[5]]
		} else {
			cnt, unit, dir = text[m[6]:m[7]], text[m[8]:m[9]], strings.ToLower(text[m[10]:m[11]])
		}
		n, ok := parseCount(cnt)
		if !ok {
			continue
		}
		if strings.HasPrefix(strings.ToLower(unit), "week") {
			n *= 7
		}
		if dir == "ago" {
			n = -n
		}
		add(m[0], m[1], day(n), true, "")
	}
	for _, m := range reRelDay.FindAllStringSubmatchIndex(text, -1) {
		w := strings.ToLower(text[m[2]:m[3]])
		n := 0
		switch strings.TrimPrefix(w, "the ") {
		case "tomorrow", "tmrw", "tmr":
			n = 1
		case "yesterday":
			n = -1
		case "day after tomorrow":
			n = 2
		case "day before yesterday":
			n = -2
		}
		add(m[0], m[1], day(n), true, "")
	}
	for _, m := range reWeekday.FindAllStringSubmatchIndex(text, -1) {
		wd := weekdays[strings.ToLower(text[m[4]:m[5]])]
		mod := ""
		s := m[0]
		if m[2] >= 0 {
			mod = strings.ToLower(text[m[2]:m[3]])
			if mod == "on" {
				s = m[4] // "on Tuesday": the preposition is not part of the date
			}
		}
		short := m[5]-m[4] <= 4
		if short && mod == "" && !isCapitalized(text[m[4]:m[5]]) {
			continue // "sat", "wed", "sun" are words too
		}
		delta := (int(wd) - int(today.Weekday()) + 7) % 7
		switch mod {
		case "last":
			delta = -((int(today.Weekday()) - int(wd) + 7) % 7)
			if delta == 0 {
				delta = -7
			}
		case "next", "coming", "this coming":
			// "next Monday": the first Monday after today.
			if delta == 0 {
				delta = 7
			}
		}
		add(s, m[1], day(delta), true, "")
		weekdaySpans = append(weekdaySpans, s)
	}
	for _, m := range reOrdinalOn.FindAllStringSubmatchIndex(text, -1) {
		d, _ := strconv.Atoi(text[m[4]:m[5]])
		// "the 19th": this month's, or next month's once it has passed.
		t, ok := mkDate(today.Year(), int(today.Month()), d, today.Location())
		if ok && t.Before(today) {
			t, ok = mkDate(today.Year(), int(today.Month())+1, d, today.Location())
		}
		add(m[2], m[3], t, ok, problemIf(!ok, "that date does not exist"))
	}
	return mergeDates(text, out, weekdaySpans)
}

var dateGap = regexp.MustCompile(`(?i)^[\s,.]*(?:on\s+|the\s+)?$`)

// mergeDates joins a weekday and a calendar date written together ("Saturday, September 8th",
// "Mon 27th", "August 06, Monday") into one detail whose value is the calendar date.
func mergeDates(text string, ds []Detail, weekdayStarts []int) []Detail {
	if len(ds) < 2 {
		return ds
	}
	slices.SortFunc(ds, func(a, b Detail) int { return a.Start - b.Start })
	isWeekday := func(d Detail) bool { return slices.Contains(weekdayStarts, d.Start) }
	out := []Detail{ds[0]}
	for _, d := range ds[1:] {
		last := &out[len(out)-1]
		if d.Start >= last.End && dateGap.MatchString(text[last.End:d.Start]) && isWeekday(*last) != isWeekday(d) {
			keep := d
			if isWeekday(d) {
				keep = *last
			}
			keep.Start, keep.End = last.Start, d.End
			keep.Text = text[keep.Start:keep.End]
			*last = keep
			continue
		}
		out = append(out, d)
	}
	return out
}

func isCapitalized(s string) bool { return s != "" && s[0] >= 'A' && s[0] <= 'Z' }

func problemIf(bad bool, p string) string {
	if bad {
		return p
	}
	return ""
}

// mkDate builds a date and reports false for impossible ones (February 30th).
func mkDate(y, m, d int, loc *time.Location) (time.Time, bool) {
	if m < 1 || m > 12 || d < 1 || d > 31 || y < 1900 || y > 2200 {
		return time.Time{}, false
	}
	t := time.Date(y, time.Month(m), d, 0, 0, 0, 0, loc)
	if t.Day() != d {
		return time.Time{}, false
	}
	return t, true
}

// nearestYear picks the year that puts month/day closest to today: "March 3" in December
// is next March, in April it is last month's.
func nearestYear(today time.Time, m, d int) (time.Time, bool) {
	var best time.Time
	found := false
	for _, y := range []int{today.Year() - 1, today.Year(), today.Year() + 1} {
		t, ok := mkDate(y, m, d, today.Location())
		if !ok {
			continue
		}
		if !found || absDur(t.Sub(today)) < absDur(best.Sub(today)) {
			best, found = t, true
		}
	}
	return best, found
}

func absDur(d time.Duration) time.Duration {
	if d < 0 {
		return -d
	}
	return d
}

var (
	reClock    = regexp.MustCompile(`(?i)\b(\d{1,2})(?:[:.](\d{2}))?\s?([ap])\.?\s?m\b\.?`)
	reClock4   = regexp.MustCompile(`(?i)\b(\d{2})(\d{2})\s?([ap])\.?m\b\.?`)
	reClock24  = regexp.MustCompile(`\b([01]?\d|2[0-3])[:h]([0-5]\d)\b`)
	reNamedT   = regexp.MustCompile(`(?i)\b(noon|midday|midnight)\b`)
	reOClock   = regexp.MustCompile(`(?i)\b(` + numWord + `) o'?clock\b`)
	reHalfPast = regexp.MustCompile(`(?i)\b(half|quarter) (past|to) (` + numWord + `)\b`)
	reInMins   = regexp.MustCompile(`(?i)\bin (half an hour|an hour|(` + numWord + `) (minutes?|mins?|hours?))\b`)
	reBareHour = regexp.MustCompile(`(?i)^\s*(?:at\s+)?(\d{1,2})\s*[.!]?\s*$`)
)

func extractTimes(text string, ctx ExtractContext) []Detail {
	var out []Detail
	add := func(s, e, h, m int) {
		for _, o := range out {
			if s < o.End && o.Start < e {
				return
			}
		}
		ok := h >= 0 && h < 24 && m >= 0 && m < 60
		d := Detail{Type: DetailTime, Text: text[s:e], Start: s, End: e, Valid: ok}
		if ok {
			d.Value = fmt.Sprintf("%02d:%02d", h, m)
		} else {
			d.Problem = "that time does not exist"
		}
		out = append(out, d)
	}
	ampm := func(h int, p string) int {
		if h > 12 || h == 0 {
			return -1
		}
		if strings.EqualFold(p, "p") && h < 12 {
			return h + 12
		}
		if strings.EqualFold(p, "a") && h == 12 {
			return 0
		}
		return h
	}
	for _, m := range reClock4.FindAllStringSubmatchIndex(text, -1) {
		h, _ := strconv.Atoi(text[m[2]:m[3]])
		mi, _ := strconv.Atoi(text[m[4]:m[5]])
		add(m[0], m[1], ampm(h, text[m[6]:m[7]]), mi)
	}
	for _, m := range reClock.FindAllStringSubmatchIndex(text, -1) {
		h, _ := strconv.Atoi(text[m[2]:m[3]])
		mi := 0
		if m[4] >= 0 {
			mi, _ = strconv.Atoi(text[m[4]:m[5]])
		}
		add(m[0], m[1], ampm(h, text[m[6]:m[7]]), mi)
	}
	for _, m := range reClock24.FindAllStringSubmatchIndex(text, -1) {
		h, _ := strconv.Atoi(text[m[2]:m[3]])
		mi, _ := strconv.Atoi(text[m[4]:m[5]])
		add(m[0], m[1], h, mi)
	}
	for _, m := range reNamedT.FindAllStringSubmatchIndex(text, -1) {
		h := 12
		if strings.EqualFold(text[m[2]:m[3]], "midnight") {
			h = 0
		}
		add(m[0], m[1], h, 0)
	}
	for _, m := range reOClock.FindAllStringSubmatchIndex(text, -1) {
		if h, ok := parseCount(text[m[2]:m[3]]); ok {
			add(m[0], m[1], h, 0)
		}
	}
	for _, m := range reHalfPast.FindAllStringSubmatchIndex(text, -1) {
		h, ok := parseCount(text[m[6]:m[7]])
		if !ok {
			continue
		}
		mi := 30
		if strings.EqualFold(text[m[2]:m[3]], "quarter") {
			mi = 15
		}
		if strings.EqualFold(text[m[4]:m[5]], "to") {
			h, mi = h-1, 60-mi
		}
		add(m[0], m[1], h, mi)
	}
	now := ctx.now()
	for _, m := range reInMins.FindAllStringSubmatchIndex(text, -1) {
		phrase := strings.ToLower(text[m[2]:m[3]])
		var d time.Duration
		switch {
		case phrase == "half an hour":
			d = 30 * time.Minute
		case phrase == "an hour":
			d = time.Hour
		default:
			n, ok := parseCount(text[m[4]:m[5]])
			if !ok {
				continue
			}
			d = time.Duration(n) * time.Minute
			if strings.HasPrefix(strings.ToLower(text[m[6]:m[7]]), "h") {
				d = time.Duration(n) * time.Hour
			}
		}
		t := now.Add(d) // elapsed time, so Add is right here
		add(m[0], m[1], t.Hour(), t.Minute())
	}
	if ctx.Requested == DetailTime && len(out) == 0 {
		if m := reBareHour.FindStringSubmatchIndex(text); m != nil {
			h, _ := strconv.Atoi(text[m[2]:m[3]])
			if h >= 1 && h <= 11 {
				h += 12 // a bare hour for a booking or a callback means the afternoon or evening
			}
			add(m[2], m[3], h, 0)
		}
	}
	return out
}

var (
	rePeopleNoun = regexp.MustCompile(`(?i)\b(` + numWord + `)\s+(people|persons?|guests?|adults?|pax|diners|ppl|of us)\b`)
	rePeopleMix  = regexp.MustCompile(`(?i)\b(` + numWord + `)\s+(adults?|men|women|people|grown-?ups)\s+and\s+(` + numWord + `)\s+(children|child|kids?|boys?|girls?|teens?|babies|baby|toddlers?)\b`)
	rePeopleOf   = regexp.MustCompile(`(?i)\b(?:party|group|table|booking|reservation) (?:of|for) (` + numWord + `)\b`)
	rePeopleFor  = regexp.MustCompile(`(?i)\bfor (` + numWord + `)\b`)
	reBareCount  = regexp.MustCompile(`(?i)^\s*(?:(?:just|only|about|around|we are|we're|there will be|there are|it's|it is|for)\s+)?(` + numWord + `)\s*[.!]?\s*$`)
)

func extractPeople(text string, ctx ExtractContext) []Detail {
	var out []Detail
	add := func(s, e, n int) {
		for _, o := range out {
			if s < o.End && o.Start < e {
				return
			}
		}
		out = append(out, Detail{Type: DetailPeople, Value: strconv.Itoa(n), Text: text[s:e], Start: s, End: e, Valid: n > 0 && n < 1000})
	}
	for _, m := range rePeopleMix.FindAllStringSubmatchIndex(text, -1) {
		a, ok1 := parseCount(text[m[2]:m[3]])
		b, ok2 := parseCount(text[m[6]:m[7]])
		if ok1 && ok2 {
			add(m[0], m[1], a+b)
		}
	}
	for _, m := range rePeopleNoun.FindAllStringSubmatchIndex(text, -1) {
		n, ok := parseCount(text[m[2]:m[3]])
		if !ok {
			continue
		}
		if strings.EqualFold(text[m[4]:m[5]], "of us") {
			add(m[2], m[3], n) // "8 of us": the count alone
		} else {
			add(m[0], m[1], n)
		}
	}
	for _, m := range rePeopleOf.FindAllStringSubmatchIndex(text, -1) {
		if n, ok := parseCount(text[m[2]:m[3]]); ok {
			add(m[2], m[3], n)
		}
	}
	for _, m := range rePeopleFor.FindAllStringSubmatchIndex(text, -1) {
		after := strings.ToLower(strings.TrimSpace(text[m[1]:]))
		if startsWithAny(after, ":", ".", "am", "pm", "a.m", "p.m", "o'clock", "hour", "hr", "min", "day", "week", "month", "year", "night", "dollar", "euro", "pound", "$", "%", "th", "st", "nd", "rd", "/", "item", "order") {
			continue
		}
		if strings.HasPrefix(text[m[1]:], ".") || strings.HasPrefix(text[m[1]:], ":") {
			if len(text) > m[1]+1 && text[m[1]+1] >= '0' && text[m[1]+1] <= '9' {
				continue
			}
		}
		n, ok := parseCount(text[m[2]:m[3]])
		if !ok || n > 50 {
			continue
		}
		if ctx.Requested != DetailPeople && !peopleContext.MatchString(text) {
			continue
		}
		add(m[2], m[3], n)
	}
	if ctx.Requested == DetailPeople && len(out) == 0 {
		if m := reBareCount.FindStringSubmatchIndex(text); m != nil {
			if n, ok := parseCount(text[m[2]:m[3]]); ok {
				add(m[2], m[3], n)
			}
		}
	}
	return out
}

var peopleContext = regexp.MustCompile(`(?i)\b(table|book|booking|reservation|reserve|seat|seats|party|people|guests|us|dinner|lunch|breakfast|brunch)\b`)

func startsWithAny(s string, prefixes ...string) bool {
	for _, p := range prefixes {
		if strings.HasPrefix(s, p) {
			return true
		}
	}
	return false
}
