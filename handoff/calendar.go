package handoff

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/batonhq/baton"
)

// Calendar is a team's business hours: a weekly schedule of open intervals in local wall-clock
// time, the timezone that local time is in, and holidays (whole local dates, closed). A nil or
// empty Calendar is always open; one with holidays but no weekly hours is open around the
// clock except on the holidays. Calendars are immutable and safe for concurrent use.
//
// Wall-clock times follow the timezone's daylight saving changes: "09:00-17:00" opens at
// 09:00 local time in summer and in winter. On a spring-forward day an interval that starts in
// the skipped hour opens when the clock jumps; on a fall-back day the repeated hour is open if
// its wall-clock time is inside an interval (both times).
type Calendar struct {
	loc      *time.Location
	weekly   [7][]Interval // by time.Weekday, sorted, not overlapping
	hours    bool          // some weekday has an interval
	holidays map[civilDate]bool
}

// Interval is an open period of one day in local wall-clock time, in minutes after midnight:
// [Start, End), with End at most 24:00 (1440) and after Start. An interval never crosses
// midnight: "22:00-24:00" on Friday and "00:00-02:00" on Saturday are one open stretch.
type Interval struct {
	Start, End int
}

const dayMinutes = 24 * 60

// String formats the interval as "09:00-17:30".
func (iv Interval) String() string {
	return clockString(iv.Start) + "-" + clockString(iv.End)
}

func clockString(minutes int) string { return fmt.Sprintf("%02d:%02d", minutes/60, minutes%60) }

// ParseInterval reads "09:00-17:30" (a single-digit hour is accepted; 24:00 only as the end).
func ParseInterval(s string) (Interval, error) {
	from, to, ok := strings.Cut(s, "-")
	if !ok {
		return Interval{}, fmt.Errorf("want HH:MM-HH:MM")
	}
	start, err := parseClock(strings.TrimSpace(from))
	if err != nil {
		return Interval{}, fmt.Errorf("start: %w", err)
	}
	end, err := parseClock(strings.TrimSpace(to))
	if err != nil {
		return Interval{}, fmt.Errorf("end: %w", err)
	}
	if start == dayMinutes {
		return Interval{}, fmt.Errorf("start 24:00 is the next day's 00:00")
	}
	if end <= start {
		return Interval{}, fmt.Errorf("end must be after start (an interval cannot cross midnight: split it at 24:00)")
	}
	return Interval{Start: start, End: end}, nil
}

func parseClock(s string) (int, error) {
	h, m, ok := strings.Cut(s, ":")
	if !ok || len(h) < 1 || len(h) > 2 || len(m) != 2 {
		return 0, fmt.Errorf("%q is not HH:MM", s)
	}
	hh, err1 := strconv.Atoi(h)
	mm, err2 := strconv.Atoi(m)
	if err1 != nil || err2 != nil || hh < 0 || mm < 0 || mm > 59 || hh > 24 || (hh == 24 && mm != 0) {
		return 0, fmt.Errorf("%q is not a time of day between 00:00 and 24:00", s)
	}
	return hh*60 + mm, nil
}

// civilDate is a date on a wall calendar, without a timezone.
type civilDate struct {
	year  int
	month time.Month
	day   int
}

func dateOf(t time.Time) civilDate {
	y, m, d := t.Date()
	return civilDate{y, m, d}
}

func (d civilDate) before(e civilDate) bool {
	if d.year != e.year {
		return d.year < e.year
	}
	if d.month != e.month {
		return d.month < e.month
	}
	return d.day < e.day
}

func (d civilDate) String() string { return fmt.Sprintf("%04d-%02d-%02d", d.year, d.month, d.day) }

// dayKeys are the weekday names of the JSON form, by time.Weekday.
var dayKeys = [7]string{"sun", "mon", "tue", "wed", "thu", "fri", "sat"}

// Schedule is the JSON form of a Calendar, as the admin API reads and writes it:
//
//	{"timezone":"Europe/Berlin","weekly":{"mon":["09:00-17:00"]},"holidays":["2026-12-25"]}
//
// Weekdays are mon…sun; a missing day is closed; holidays are local dates.
type Schedule struct {
	Timezone string              `json:"timezone,omitempty"`
	Weekly   map[string][]string `json:"weekly"`
	Holidays []string            `json:"holidays"`
}

// Calendar validates the schedule and compiles it. The error matches baton.ErrInvalid and its
// message names every field at fault ("weekly.mon[1]", "timezone", "holidays[0]").
func (s Schedule) Calendar() (*Calendar, error) {
	var problems []string
	bad := func(field, format string, args ...any) {
		problems = append(problems, field+": "+fmt.Sprintf(format, args...))
	}
	c := &Calendar{holidays: make(map[civilDate]bool)}
	for _, key := range slices.Sorted(maps.Keys(s.Weekly)) {
		day := slices.Index(dayKeys[:], strings.ToLower(key))
		if day < 0 {
			bad("weekly."+key, "unknown day (want mon, tue, wed, thu, fri, sat or sun)")
			continue
		}
		for i, raw := range s.Weekly[key] {
			iv, err := ParseInterval(raw)
			if err != nil {
				bad(fmt.Sprintf("weekly.%s[%d]", key, i), "%q: %v", raw, err)
				continue
			}
			c.weekly[day] = append(c.weekly[day], iv)
			c.hours = true
		}
	}
	for day, ivs := range c.weekly {
		slices.SortFunc(ivs, func(a, b Interval) int { return a.Start - b.Start })
		for i := 1; i < len(ivs); i++ {
			if ivs[i].Start < ivs[i-1].End {
				bad("weekly."+dayKeys[day], "%s overlaps %s", ivs[i-1], ivs[i])
			}
		}
	}
	for i, raw := range s.Holidays {
		d, err := time.Parse(time.DateOnly, strings.TrimSpace(raw))
		if err != nil {
			bad(fmt.Sprintf("holidays[%d]", i), "%q is not a date like 2026-12-25", raw)
			continue
		}
		c.holidays[dateOf(d)] = true
	}
	switch tz := strings.TrimSpace(s.Timezone); {
	case tz == "" && (c.hours || len(c.holidays) > 0):
		bad("timezone", "required with weekly hours or holidays (an IANA name such as Europe/Berlin)")
	case tz == "Local":
		bad("timezone", "%q depends on the server; name the zone, such as Europe/Berlin", tz)
	case tz != "":
		loc, err := time.LoadLocation(tz)
		if err != nil {
			bad("timezone", "%q is not an IANA timezone such as Europe/Berlin", tz)
		}
		c.loc = loc
	}
	if len(problems) > 0 {
		slices.Sort(problems)
		return nil, baton.Invalid("business hours: %s", strings.Join(problems, "; "))
	}
	if c.loc == nil {
		return nil, nil // empty: always open
	}
	return c, nil
}

// Schedule returns the JSON form of c, in canonical order (intervals sorted, holidays sorted).
func (c *Calendar) Schedule() Schedule {
	s := Schedule{Weekly: map[string][]string{}, Holidays: []string{}}
	if c.empty() {
		return s
	}
	s.Timezone = c.loc.String()
	for day, ivs := range c.weekly {
		for _, iv := range ivs {
			s.Weekly[dayKeys[day]] = append(s.Weekly[dayKeys[day]], iv.String())
		}
	}
	for d := range c.holidays {
		s.Holidays = append(s.Holidays, d.String())
	}
	slices.Sort(s.Holidays)
	return s
}

// MarshalJSON writes the Schedule form.
func (c *Calendar) MarshalJSON() ([]byte, error) { return json.Marshal(c.Schedule()) }

// UnmarshalJSON reads and validates the Schedule form. An empty schedule leaves c empty
// (always open).
func (c *Calendar) UnmarshalJSON(b []byte) error {
	var s Schedule
	if err := json.Unmarshal(b, &s); err != nil {
		return baton.Invalid("business hours: %v", err)
	}
	parsed, err := s.Calendar()
	if err != nil {
		return err
	}
	if parsed == nil {
		*c = Calendar{}
		return nil
	}
	*c = *parsed
	return nil
}

// Location is the calendar's timezone (UTC for an empty calendar).
func (c *Calendar) Location() *time.Location {
	if c.empty() {
		return time.UTC
	}
	return c.loc
}

func (c *Calendar) empty() bool { return c == nil || c.loc == nil }

// Open reports whether the team is open at t.
func (c *Calendar) Open(t time.Time) bool {
	if c.empty() {
		return true
	}
	lt := t.In(c.loc)
	if c.holidays[dateOf(lt)] {
		return false
	}
	if !c.hours {
		return true
	}
	sec := lt.Hour()*3600 + lt.Minute()*60 + lt.Second()
	for _, iv := range c.weekly[lt.Weekday()] {
		if sec >= iv.Start*60 && sec < iv.End*60 {
			return true
		}
	}
	return false
}

// horizon bounds the search for the next opening: a schedule closed for longer (every day a
// holiday) has none.
const horizon = 2 * 366

// NextOpening returns the first instant at or after t when the team is open: t itself when it
// is open now. It returns the zero time when the calendar has no opening within two years.
func (c *Calendar) NextOpening(t time.Time) time.Time {
	if c.Open(t) {
		return t
	}
	y, m, d := t.In(c.loc).Date()
	for i := range horizon {
		// Date arithmetic in UTC: adding days never meets a daylight saving change there.
		day := dateOf(time.Date(y, m, d+i, 12, 0, 0, 0, time.UTC))
		if c.holidays[day] {
			continue
		}
		ivs := []Interval{{0, dayMinutes}}
		if c.hours {
			ivs = c.weekly[time.Date(day.year, day.month, day.day, 12, 0, 0, 0, time.UTC).Weekday()]
		}
		for _, iv := range ivs {
			if at, ok := c.firstOpen(day, iv, t); ok {
				return at
			}
		}
	}
	return time.Time{}
}

// firstOpen returns the earliest instant at or after t whose local date is day and whose wall
// clock is in iv. The open instants of one interval begin either where the wall clock shows
// its start (twice on a fall-back day) or, when the start falls in a spring-forward gap, where
// the clock jumps.
func (c *Calendar) firstOpen(day civilDate, iv Interval, t time.Time) (time.Time, bool) {
	var best time.Time
	consider := func(x time.Time) {
		if !x.Before(t) && (best.IsZero() || x.Before(best)) && c.Open(x) {
			best = x
		}
	}
	transitions, offsets := c.zoneChanges(day)
	wall := time.Date(day.year, day.month, day.day, iv.Start/60, iv.Start%60, 0, 0, time.UTC)
	for _, off := range offsets {
		x := wall.Add(-time.Duration(off) * time.Second).In(c.loc)
		if x.Hour()*60+x.Minute() == iv.Start && dateOf(x) == day {
			consider(x)
		}
	}
	for _, x := range transitions {
		if m := x.Hour()*60 + x.Minute(); m > iv.Start && m < iv.End {
			consider(x)
		}
	}
	return best, !best.IsZero()
}

// zoneChanges returns the instants on day when the zone's offset changes, and every offset
// in effect on day.
func (c *Calendar) zoneChanges(day civilDate) (transitions []time.Time, offsets []int) {
	// From well before local midnight, so a change at midnight itself is seen.
	at := time.Date(day.year, day.month, day.day, 0, 0, 0, 0, time.UTC).Add(-30 * time.Hour).In(c.loc)
	_, off := at.Zone()
	offsets = append(offsets, off)
	for range 8 {
		_, end := at.ZoneBounds()
		if end.IsZero() {
			break
		}
		end = end.In(c.loc)
		if day.before(dateOf(end)) {
			break
		}
		_, off := end.Zone()
		offsets = append(offsets, off)
		if dateOf(end) == day {
			transitions = append(transitions, end)
		}
		at = end
	}
	return transitions, offsets
}

// When says an opening as the customer reads it, relative to their local now and in their
// timezone (nil means UTC): "today at 14:00", "tomorrow at 09:00", "Monday at 09:00" within
// the coming week, "on 4 January at 09:00" beyond it (with the year when it differs), and
// "now" for an opening that is not in the future.
func When(opening, now time.Time, customer *time.Location) string {
	if customer == nil {
		customer = time.UTC
	}
	if !opening.After(now) {
		return "now"
	}
	o, n := opening.In(customer), now.In(customer)
	at := " at " + o.Format("15:04")
	days := int(time.Date(o.Year(), o.Month(), o.Day(), 12, 0, 0, 0, time.UTC).
		Sub(time.Date(n.Year(), n.Month(), n.Day(), 12, 0, 0, 0, time.UTC)).Hours() / 24)
	switch {
	case days == 0:
		return "today" + at
	case days == 1:
		return "tomorrow" + at
	case days < 7:
		return o.Weekday().String() + at
	case o.Year() != n.Year():
		return "on " + o.Format("2 January 2006") + at
	}
	return "on " + o.Format("2 January") + at
}

// NextClosing returns the first instant at or after t when the team is closed: t itself when
// it is closed now. It returns the zero time for a calendar that never closes (empty, or open
// around the clock for the next two years).
func (c *Calendar) NextClosing(t time.Time) time.Time {
	if !c.Open(t) {
		return t
	}
	if c.empty() {
		return time.Time{}
	}
	y, m, d := t.In(c.loc).Date()
	for i := range horizon {
		day := dateOf(time.Date(y, m, d+i, 12, 0, 0, 0, time.UTC))
		// Open turns to closed only where the wall clock passes an interval's end, where a day
		// begins (a holiday, or a day whose hours start later), or where the zone's offset jumps.
		transitions, offsets := c.zoneChanges(day)
		candidates := slices.Clone(transitions)
		minutes := []int{0}
		if c.hours {
			for _, iv := range c.weekly[time.Date(day.year, day.month, day.day, 12, 0, 0, 0, time.UTC).Weekday()] {
				if iv.End < dayMinutes {
					minutes = append(minutes, iv.End)
				}
			}
		}
		for _, mins := range minutes {
			wall := time.Date(day.year, day.month, day.day, mins/60, mins%60, 0, 0, time.UTC)
			for _, off := range offsets {
				if x := wall.Add(-time.Duration(off) * time.Second).In(c.loc); x.Hour()*60+x.Minute() == mins && dateOf(x) == day {
					candidates = append(candidates, x)
				}
			}
		}
		slices.SortFunc(candidates, func(a, b time.Time) int { return a.Compare(b) })
		for _, x := range candidates {
			if !x.Before(t) && !c.Open(x) {
				return x
			}
		}
	}
	return time.Time{}
}

// Due returns when d of open time will have passed after t: the SLA due time of a handoff
// queued at t. Closed time does not count, so a handoff queued on Friday evening with a
// 4-hour SLA is due on Monday at 13:00 for a team opening at 09:00. For a calendar that never
// closes it is t+d; it is the zero time when the calendar has no opening ahead.
func (c *Calendar) Due(t time.Time, d time.Duration) time.Time {
	cur := c.NextOpening(t)
	for range 4 * horizon {
		if cur.IsZero() {
			return time.Time{}
		}
		closing := c.NextClosing(cur)
		if closing.IsZero() || !cur.Add(d).After(closing) {
			return cur.Add(d)
		}
		d -= closing.Sub(cur)
		cur = c.NextOpening(closing)
	}
	return time.Time{}
}
