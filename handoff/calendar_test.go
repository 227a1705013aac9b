package handoff_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/handoff"
)

func mustLoad(t testing.TB, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Fatalf("load %s: %v", name, err)
	}
	return loc
}

func mustCalendar(t testing.TB, s handoff.Schedule) *handoff.Calendar {
	t.Helper()
	c, err := s.Calendar()
	if err != nil {
		t.Fatalf("schedule %+v: %v", s, err)
	}
	return c
}

// utc reads "2026-03-29 01:00" as UTC.
func utc(t testing.TB, s string) time.Time {
	t.Helper()
	x, err := time.Parse("2006-01-02 15:04:05", s)
	if err != nil {
		x, err = time.Parse("2006-01-02 15:04", s)
	}
	if err != nil {
		t.Fatalf("parse %q: %v", s, err)
	}
	return x
}

var officeWeek = map[string][]string{
	"mon": {"09:00-17:00"}, "tue": {"09:00-17:00"}, "wed": {"09:00-17:00"},
	"thu": {"09:00-17:00"}, "fri": {"09:00-12:30", "13:30-17:00"},
}

// calendars used across the tests. Sunday carries the odd hours because in 2026 every daylight
// saving change in Europe/Berlin and America/New_York falls on a Sunday.
func calendars(t testing.TB) map[string]*handoff.Calendar {
	t.Helper()
	return map[string]*handoff.Calendar{
		"berlin office": mustCalendar(t, handoff.Schedule{Timezone: "Europe/Berlin", Weekly: officeWeek,
			Holidays: []string{"2026-12-25", "2026-12-31"}}),
		"berlin sunday 09-17": mustCalendar(t, handoff.Schedule{Timezone: "Europe/Berlin", Weekly: map[string][]string{"sun": {"09:00-17:00"}}}),
		"berlin night":        mustCalendar(t, handoff.Schedule{Timezone: "Europe/Berlin", Weekly: map[string][]string{"sun": {"02:30-05:00"}}}),
		"berlin in the gap":   mustCalendar(t, handoff.Schedule{Timezone: "Europe/Berlin", Weekly: map[string][]string{"sun": {"02:00-02:45", "10:00-11:00"}}}),
		"berlin repeated":     mustCalendar(t, handoff.Schedule{Timezone: "Europe/Berlin", Weekly: map[string][]string{"sun": {"02:30-02:40"}}}),
		"new york night":      mustCalendar(t, handoff.Schedule{Timezone: "America/New_York", Weekly: map[string][]string{"sun": {"02:00-04:00"}}}),
		"new york repeated":   mustCalendar(t, handoff.Schedule{Timezone: "America/New_York", Weekly: map[string][]string{"sun": {"01:30-01:45"}}}),
		"late friday": mustCalendar(t, handoff.Schedule{Timezone: "Europe/Berlin", Weekly: map[string][]string{
			"fri": {"18:00-24:00"}, "sat": {"00:00-02:00"}, "mon": {"00:00-06:00"}}}),
		"holidays only": mustCalendar(t, handoff.Schedule{Timezone: "Europe/Berlin", Holidays: []string{"2026-12-25"}}),
		"empty":         nil,
	}
}

func TestCalendarOpen(t *testing.T) {
	t.Parallel()
	cals := calendars(t)
	tests := []struct {
		name     string
		calendar string
		at       string // UTC
		want     bool
	}{
		{"weekday in winter (09:00 CET is 08:00 UTC)", "berlin office", "2026-11-30 08:00", true},
		{"a minute before opening", "berlin office", "2026-11-30 07:59:59", false},
		{"closing time is closed", "berlin office", "2026-11-30 16:00", false},
		{"the last second is open", "berlin office", "2026-11-30 15:59:59", true},
		{"lunch break on friday", "berlin office", "2026-12-04 12:00", false},
		{"weekend", "berlin office", "2026-12-05 10:00", false},
		{"holiday on a friday", "berlin office", "2026-12-25 10:00", false},
		{"the day after a holiday is a normal day", "berlin office", "2026-12-28 10:00", true},
		{"summer: 09:00 CEST is 07:00 UTC", "berlin sunday 09-17", "2026-07-05 07:00", true},
		{"summer: 16:30 CEST is open", "berlin sunday 09-17", "2026-07-05 14:30", true},
		{"summer: 15:00 UTC is 17:00 CEST, closed", "berlin sunday 09-17", "2026-07-05 15:00", false},
		{"spring forward: 01:59 CET is before the interval", "berlin night", "2026-03-29 00:59", false},
		{"spring forward: the jump to 03:00 CEST is inside it", "berlin night", "2026-03-29 01:00", true},
		{"fall back: 02:35 CEST", "berlin repeated", "2026-10-25 00:35", true},
		{"fall back: 02:45 CEST is closed", "berlin repeated", "2026-10-25 00:45", false},
		{"fall back: 02:35 CET, the repeated hour", "berlin repeated", "2026-10-25 01:35", true},
		{"new york spring forward: 03:00 EDT", "new york night", "2026-03-08 07:00", true},
		{"new york spring forward: 01:59 EST", "new york night", "2026-03-08 06:59", false},
		{"new york fall back: 01:40 EST, repeated", "new york repeated", "2026-11-01 06:40", true},
		{"midnight opens the day", "late friday", "2026-11-29 23:00", true}, // Monday 00:00 CET
		{"an interval ending 24:00 is open at 23:59:59", "late friday", "2026-12-04 22:59:59", true},
		{"and the next day's 00:00-02:00 carries on", "late friday", "2026-12-04 23:00", true},
		{"24:00 without a following interval is closed", "late friday", "2026-11-30 05:00", false},
		{"holidays only: an ordinary day is open", "holidays only", "2026-12-24 03:00", true},
		{"holidays only: the holiday is closed", "holidays only", "2026-12-25 03:00", false},
		{"empty is always open", "empty", "2026-12-25 03:00", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := cals[tt.calendar].Open(utc(t, tt.at)); got != tt.want {
				t.Errorf("%s: Open(%s UTC) = %v, want %v", tt.calendar, tt.at, got, tt.want)
			}
		})
	}
}

func TestCalendarNextOpening(t *testing.T) {
	t.Parallel()
	cals := calendars(t)
	tests := []struct {
		name     string
		calendar string
		at, want string // UTC
	}{
		{"open now returns now", "berlin office", "2026-11-30 10:11:12", "2026-11-30 10:11:12"},
		{"before opening the same day", "berlin office", "2026-11-30 06:00", "2026-11-30 08:00"},
		{"after closing: next morning", "berlin office", "2026-11-30 17:00", "2026-12-01 08:00"},
		{"lunch break", "berlin office", "2026-12-04 11:45", "2026-12-04 12:30"},
		{"friday evening: monday", "berlin office", "2026-12-04 18:00", "2026-12-07 08:00"},
		{"before a friday holiday: monday", "berlin office", "2026-12-24 17:00", "2026-12-28 08:00"},
		{"holiday on new year's eve, open again in the new year", "berlin office", "2026-12-30 20:00", "2027-01-01 08:00"},
		{"winter to summer: same wall time, an hour earlier in UTC", "berlin sunday 09-17", "2026-03-28 12:00", "2026-03-29 07:00"},
		{"summer to winter", "berlin sunday 09-17", "2026-10-24 12:00", "2026-10-25 08:00"},
		{"spring forward: a start in the skipped hour opens at the jump", "berlin night", "2026-03-28 19:00", "2026-03-29 01:00"},
		{"spring forward: an interval wholly skipped is skipped", "berlin in the gap", "2026-03-28 19:00", "2026-03-29 08:00"},
		{"the same interval exists on a normal sunday", "berlin in the gap", "2026-03-21 19:00", "2026-03-22 01:00"},
		{"fall back: the first 02:30", "berlin repeated", "2026-10-24 19:00", "2026-10-25 00:30"},
		{"fall back: after the first pass comes the second 02:30", "berlin repeated", "2026-10-25 00:45", "2026-10-25 01:30"},
		{"fall back: after both passes, next week", "berlin repeated", "2026-10-25 01:45", "2026-11-01 01:30"},
		{"new york spring forward: opens at the jump", "new york night", "2026-03-07 12:00", "2026-03-08 07:00"},
		{"new york fall back: second 01:30", "new york repeated", "2026-11-01 05:50", "2026-11-01 06:30"},
		{"just before midnight: the midnight opening", "late friday", "2026-11-29 22:59:59", "2026-11-29 23:00"},
		{"after the 24:00 close and the saturday extension: monday", "late friday", "2026-12-05 01:00", "2026-12-06 23:00"},
		{"holidays only: the next day at midnight", "holidays only", "2026-12-25 11:00", "2026-12-25 23:00"},
		{"empty: now", "empty", "2026-12-25 11:00", "2026-12-25 11:00"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := cals[tt.calendar]
			got := c.NextOpening(utc(t, tt.at))
			if want := utc(t, tt.want); !got.Equal(want) {
				t.Errorf("%s: NextOpening(%s UTC) = %s, want %s UTC", tt.calendar, tt.at, got.UTC().Format(time.DateTime), tt.want)
			}
			if !c.Open(got) {
				t.Errorf("%s: the next opening %s is not open", tt.calendar, got)
			}
		})
	}
}

// TestNextOpeningIsTheFirstOpenMinute checks NextOpening against brute force: around every
// daylight saving change of 2026 in both zones, nothing between t and the answer is open.
// Every interval edge in these calendars is a multiple of five minutes and the zones change on
// the hour, so checking every fifth minute is exhaustive.
func TestNextOpeningIsTheFirstOpenMinute(t *testing.T) {
	t.Parallel()
	cals := calendars(t)
	weeks := []string{"2026-03-05 00:00", "2026-03-26 00:00", "2026-10-22 00:00", "2026-10-29 00:00", "2026-12-22 00:00"}
	for name, c := range cals {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			for _, w := range weeks {
				start := utc(t, w)
				for at := start; at.Before(start.Add(4 * 24 * time.Hour)); at = at.Add(193 * time.Minute) {
					next := c.NextOpening(at)
					if next.Before(at) || !c.Open(next) {
						t.Fatalf("NextOpening(%s) = %s: before t or not open", at, next)
					}
					for m := at.Truncate(5 * time.Minute).Add(5 * time.Minute); m.Before(next); m = m.Add(5 * time.Minute) {
						if c.Open(m) {
							t.Fatalf("NextOpening(%s) = %s, but %s is open", at, next, m)
						}
					}
				}
			}
		})
	}
}

func TestNextOpeningNeverWhenEveryOpenDayIsAHoliday(t *testing.T) {
	t.Parallel()
	var holidays []string
	for d := utc(t, "2026-11-30 00:00"); d.Year() < 2030; d = d.AddDate(0, 0, 7) {
		holidays = append(holidays, d.Format(time.DateOnly)) // every Monday
	}
	c := mustCalendar(t, handoff.Schedule{Timezone: "UTC", Weekly: map[string][]string{"mon": {"09:00-10:00"}}, Holidays: holidays})
	if got := c.NextOpening(utc(t, "2026-11-29 12:00")); !got.IsZero() {
		t.Errorf("NextOpening = %s, want the zero time", got)
	}
}

func TestScheduleValidation(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		json  string
		field string // named in the error; empty = valid
	}{
		{"the admin example", `{"timezone":"Europe/Berlin","weekly":{"mon":["09:00-17:00"],"sat":["10:00-14:00"]},"holidays":["2026-12-25"]}`, ""},
		{"empty", `{}`, ""},
		{"adjacent intervals", `{"timezone":"UTC","weekly":{"mon":["09:00-12:00","12:00-17:00"]}}`, ""},
		{"a day ending at 24:00", `{"timezone":"UTC","weekly":{"fri":["18:00-24:00"]}}`, ""},
		{"a single-digit hour", `{"timezone":"UTC","weekly":{"fri":["9:00-17:00"]}}`, ""},
		{"an unknown timezone", `{"timezone":"Europe/Atlantis","weekly":{"mon":["09:00-17:00"]}}`, "timezone"},
		{"the server's local zone", `{"timezone":"Local","weekly":{"mon":["09:00-17:00"]}}`, "timezone"},
		{"hours without a timezone", `{"weekly":{"mon":["09:00-17:00"]}}`, "timezone"},
		{"holidays without a timezone", `{"holidays":["2026-12-25"]}`, "timezone"},
		{"an unknown day", `{"timezone":"UTC","weekly":{"monday":["09:00-17:00"]}}`, "weekly.monday"},
		{"not an interval", `{"timezone":"UTC","weekly":{"mon":["9 to 5"]}}`, "weekly.mon[0]"},
		{"minutes out of range", `{"timezone":"UTC","weekly":{"mon":["09:00-17:60"]}}`, "weekly.mon[0]"},
		{"past 24:00", `{"timezone":"UTC","weekly":{"mon":["09:00-24:30"]}}`, "weekly.mon[0]"},
		{"a start at 24:00", `{"timezone":"UTC","weekly":{"mon":["24:00-24:00"]}}`, "weekly.mon[0]"},
		{"end before start", `{"timezone":"UTC","weekly":{"tue":["09:00-17:00","17:00-09:00"]}}`, "weekly.tue[1]"},
		{"end equal to start", `{"timezone":"UTC","weekly":{"wed":["09:00-09:00"]}}`, "weekly.wed[0]"},
		{"overlapping intervals", `{"timezone":"UTC","weekly":{"thu":["09:00-13:00","12:00-17:00"]}}`, "weekly.thu: 09:00-13:00 overlaps 12:00-17:00"},
		{"the same day twice, overlapping", `{"timezone":"UTC","weekly":{"mon":["09:00-13:00"],"Mon":["12:00-17:00"]}}`, "weekly.mon: 09:00-13:00 overlaps 12:00-17:00"},
		{"a bad holiday", `{"timezone":"UTC","holidays":["2026-12-25","25.12.2026"]}`, "holidays[1]"},
		{"not a schedule", `{"timezone":7}`, "business hours"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var c handoff.Calendar
			err := json.Unmarshal([]byte(tt.json), &c)
			if tt.field == "" {
				if err != nil {
					t.Fatalf("valid schedule refused: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("invalid schedule accepted: %s", tt.json)
			}
			if !errors.Is(err, baton.ErrInvalid) {
				t.Errorf("error %v does not match baton.ErrInvalid", err)
			}
			if !strings.Contains(err.Error(), tt.field) {
				t.Errorf("error %q does not name %q", err, tt.field)
			}
		})
	}
}

func TestScheduleNamesEveryProblem(t *testing.T) {
	t.Parallel()
	_, err := handoff.Schedule{Timezone: "Nowhere/Else", Weekly: map[string][]string{"mon": {"x"}, "sun": {"10:00-09:00"}}, Holidays: []string{"soon"}}.Calendar()
	for _, field := range []string{"timezone", "weekly.mon[0]", "weekly.sun[0]", "holidays[0]"} {
		if err == nil || !strings.Contains(err.Error(), field) {
			t.Errorf("error %v does not name %s", err, field)
		}
	}
}

func TestCalendarJSONRoundTrip(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, in, want string
	}{
		{
			name: "canonical order",
			in:   `{"timezone":"Europe/Berlin","weekly":{"Fri":["13:30-17:00","9:00-12:30"],"mon":["09:00-17:00"]},"holidays":["2026-12-31","2026-12-25"]}`,
			want: `{"timezone":"Europe/Berlin","weekly":{"fri":["09:00-12:30","13:30-17:00"],"mon":["09:00-17:00"]},"holidays":["2026-12-25","2026-12-31"]}`,
		},
		{name: "empty", in: `{}`, want: `{"weekly":{},"holidays":[]}`},
		{name: "empty lists", in: `{"weekly":{"mon":[]},"holidays":[]}`, want: `{"weekly":{},"holidays":[]}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var c handoff.Calendar
			if err := json.Unmarshal([]byte(tt.in), &c); err != nil {
				t.Fatal(err)
			}
			out, err := json.Marshal(&c)
			if err != nil {
				t.Fatal(err)
			}
			if string(out) != tt.want {
				t.Errorf("got  %s\nwant %s", out, tt.want)
			}
			var again handoff.Calendar
			if err := json.Unmarshal(out, &again); err != nil {
				t.Fatalf("re-read %s: %v", out, err)
			}
			if out2, _ := json.Marshal(&again); string(out2) != string(out) {
				t.Errorf("not stable: %s then %s", out, out2)
			}
		})
	}
	var nilCal *handoff.Calendar
	if s := nilCal.Schedule(); s.Timezone != "" || len(s.Weekly) != 0 || s.Holidays == nil {
		t.Errorf("a nil calendar's schedule is %+v", s)
	}
}

func TestWhen(t *testing.T) {
	t.Parallel()
	berlin, ny, tokyo := mustLoad(t, "Europe/Berlin"), mustLoad(t, "America/New_York"), mustLoad(t, "Asia/Tokyo")
	office := calendars(t)["berlin office"]
	tests := []struct {
		name     string
		now      string // UTC
		customer *time.Location
		want     string
	}{
		{"berlin customer on friday evening", "2026-12-04 18:00", berlin, "Monday at 09:00"},
		{"new york customer sees their own clock", "2026-12-04 18:00", ny, "Monday at 03:00"},
		{"tokyo customer: monday 17:00 local is tomorrow for them", "2026-12-06 10:00", tokyo, "tomorrow at 17:00"},
		{"berlin customer early in the morning", "2026-11-30 05:00", berlin, "today at 09:00"},
		{"berlin customer after closing", "2026-11-30 19:00", berlin, "tomorrow at 09:00"},
		{"no timezone known: UTC", "2026-11-30 19:00", nil, "tomorrow at 08:00"},
		{"christmas: the next opening is after the weekend", "2026-12-24 17:00", berlin, "Monday at 09:00"},
		{"open now", "2026-11-30 10:00", berlin, "now"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			now := utc(t, tt.now)
			if got := handoff.When(office.NextOpening(now), now, tt.customer); got != tt.want {
				t.Errorf("When = %q, want %q", got, tt.want)
			}
		})
	}
	far := []struct {
		name, opening, now, want string
	}{
		{"beyond a week", "2026-12-14 08:00", "2026-12-04 18:00", "on 14 December at 09:00"},
		{"next year", "2027-01-08 08:00", "2026-12-24 18:00", "on 8 January 2027 at 09:00"},
		{"six days ahead is a weekday", "2026-12-10 08:00", "2026-12-04 18:00", "Thursday at 09:00"},
	}
	for _, tt := range far {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := handoff.When(utc(t, tt.opening), utc(t, tt.now), berlin); got != tt.want {
				t.Errorf("When = %q, want %q", got, tt.want)
			}
		})
	}
}

func ExampleWhen() {
	var c handoff.Calendar
	_ = json.Unmarshal([]byte(`{"timezone":"Europe/Berlin","weekly":{"mon":["09:00-17:00"]}}`), &c)
	now := time.Date(2026, 12, 4, 18, 0, 0, 0, time.UTC) // a Friday
	ny, _ := time.LoadLocation("America/New_York")
	fmt.Println(c.Open(now), handoff.When(c.NextOpening(now), now, ny))
	// Output: false Monday at 03:00
}

func TestCalendarNextClosing(t *testing.T) {
	t.Parallel()
	cals := calendars(t)
	tests := []struct {
		name     string
		calendar string
		at, want string // UTC; want "" = never
	}{
		{"closed now returns now", "berlin office", "2026-11-30 05:00", "2026-11-30 05:00"},
		{"open: at the end of the interval", "berlin office", "2026-11-30 10:00", "2026-11-30 16:00"},
		{"friday morning: the lunch break", "berlin office", "2026-12-04 09:00", "2026-12-04 11:30"},
		{"summer: 17:00 CEST", "berlin sunday 09-17", "2026-07-05 10:00", "2026-07-05 15:00"},
		{"an end in the skipped hour closes at the jump", "berlin night", "2026-03-22 03:00", "2026-03-22 04:00"},
		{"24:00 carried on by 00:00-02:00", "late friday", "2026-12-04 20:00", "2026-12-05 01:00"},
		{"24:00 followed by nothing", "late friday", "2026-11-30 02:00", "2026-11-30 05:00"},
		{"fall back: the first pass ends at 02:40 CEST", "berlin repeated", "2026-10-25 00:35", "2026-10-25 00:40"},
		{"holidays only: the holiday's midnight", "holidays only", "2026-12-20 10:00", "2026-12-24 23:00"},
		{"empty: never", "empty", "2026-12-20 10:00", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := cals[tt.calendar]
			got := c.NextClosing(utc(t, tt.at))
			if tt.want == "" {
				if !got.IsZero() {
					t.Errorf("NextClosing = %s, want never", got)
				}
				return
			}
			if want := utc(t, tt.want); !got.Equal(want) {
				t.Errorf("%s: NextClosing(%s UTC) = %s, want %s UTC", tt.calendar, tt.at, got.UTC().Format(time.DateTime), tt.want)
			}
		})
	}
}

// TestNextClosingIsTheFirstClosedMinute checks NextClosing against brute force around the
// daylight saving changes, as TestNextOpeningIsTheFirstOpenMinute does for openings.
func TestNextClosingIsTheFirstClosedMinute(t *testing.T) {
	t.Parallel()
	cals := calendars(t)
	delete(cals, "empty")
	delete(cals, "holidays only") // open for days on end; its table cases cover it
	weeks := []string{"2026-03-05 00:00", "2026-03-26 00:00", "2026-10-22 00:00", "2026-10-29 00:00", "2026-12-22 00:00"}
	for name, c := range cals {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			for _, w := range weeks {
				start := utc(t, w)
				for at := start; at.Before(start.Add(4 * 24 * time.Hour)); at = at.Add(53 * time.Minute) {
					if !c.Open(at) {
						continue
					}
					next := c.NextClosing(at)
					if next.Before(at) || c.Open(next) {
						t.Fatalf("NextClosing(%s) = %s: before t or open", at, next)
					}
					for m := at.Truncate(5 * time.Minute).Add(5 * time.Minute); m.Before(next); m = m.Add(5 * time.Minute) {
						if !c.Open(m) {
							t.Fatalf("NextClosing(%s) = %s, but %s is closed", at, next, m)
						}
					}
				}
			}
		})
	}
}

func TestCalendarDue(t *testing.T) {
	t.Parallel()
	cals := calendars(t)
	tests := []struct {
		name     string
		calendar string
		at       string // UTC
		sla      time.Duration
		want     string // UTC
	}{
		{"within the day", "berlin office", "2026-11-30 09:00", 2 * time.Hour, "2026-11-30 11:00"},
		{"ending exactly at closing", "berlin office", "2026-11-30 12:00", 4 * time.Hour, "2026-11-30 16:00"},
		{"over the night", "berlin office", "2026-11-30 15:00", 2 * time.Hour, "2026-12-01 09:00"},
		{"queued after hours starts at the opening", "berlin office", "2026-11-30 20:00", time.Hour, "2026-12-01 09:00"},
		{"friday evening: monday", "berlin office", "2026-12-04 18:00", 4 * time.Hour, "2026-12-07 12:00"},
		{"across the friday lunch break", "berlin office", "2026-12-04 11:00", time.Hour, "2026-12-04 13:00"},
		{"over christmas", "berlin office", "2026-12-24 15:00", 2 * time.Hour, "2026-12-28 09:00"},
		{"a day ending 24:00 carried into saturday", "late friday", "2026-12-04 22:00", 2 * time.Hour, "2026-12-05 00:00"},
		{"spring forward: the skipped hour is not counted", "berlin night", "2026-03-28 12:00", 90 * time.Minute, "2026-03-29 02:30"},
		{"empty calendar: plain time", "empty", "2026-12-24 15:00", 4 * time.Hour, "2026-12-24 19:00"},
		{"zero SLA: the next opening", "berlin office", "2026-12-05 10:00", 0, "2026-12-07 08:00"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := cals[tt.calendar].Due(utc(t, tt.at), tt.sla)
			if want := utc(t, tt.want); !got.Equal(want) {
				t.Errorf("%s: Due(%s UTC, %s) = %s, want %s UTC", tt.calendar, tt.at, tt.sla, got.UTC().Format(time.DateTime), tt.want)
			}
		})
	}
}

// TestDueCountsOpenTimeOnly checks Due against brute force: between t and the due time there
// are exactly d of open time, counted in five-minute steps (every boundary in these calendars
// falls on one).
func TestDueCountsOpenTimeOnly(t *testing.T) {
	t.Parallel()
	cals := calendars(t)
	delete(cals, "holidays only")
	sla := 95 * time.Minute
	for name, c := range cals {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			for _, w := range []string{"2026-03-26 00:00", "2026-10-22 00:00", "2026-12-22 00:00"} {
				start := utc(t, w)
				for at := start; at.Before(start.Add(4 * 24 * time.Hour)); at = at.Add(311 * time.Minute) {
					due := c.Due(at, sla)
					open := time.Duration(0)
					for m := at; m.Before(due); m = m.Add(5 * time.Minute) {
						if c.Open(m) {
							open += 5 * time.Minute
						}
					}
					if open != sla || !c.Open(due.Add(-time.Minute)) {
						t.Fatalf("Due(%s) = %s with %s of open time before it, want %s", at, due, open, sla)
					}
				}
			}
		})
	}
}
