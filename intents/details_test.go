package intents

import (
	"regexp"
	"testing"
	"time"
)

func mustLoc(tb testing.TB, name string) *time.Location {
	tb.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		tb.Skipf("timezone %s not available: %v", name, err)
	}
	return loc
}

// only returns the details of type t.
func only(ds []Detail, t string) []Detail {
	var out []Detail
	for _, d := range ds {
		if d.Type == t {
			out = append(out, d)
		}
	}
	return out
}

func TestExtractEdgeCases(t *testing.T) {
	t.Parallel()
	ctx := ExtractContext{Now: time.Date(2025, 3, 14, 10, 0, 0, 0, time.UTC), Location: time.UTC}
	tests := []struct {
		name      string
		text      string
		ctx       func(ExtractContext) ExtractContext
		typ       string
		wantValue string // "" with wantValid false: found but invalid; "-" : nothing of that type
		wantValid bool
	}{
		{name: "email normalised domain", text: "mail Ana.Silva@Example.COM please", typ: DetailEmail, wantValue: "Ana.Silva@example.com", wantValid: true},
		{name: "email without tld", text: "my email is ana@example", typ: DetailEmail, wantValid: false},
		{name: "email double at", text: "ana@@example.com", typ: DetailEmail, wantValid: false},
		{name: "email double dot", text: "ana..b@example.com", typ: DetailEmail, wantValid: false},
		{name: "email reserved tld", text: "x@shop.example", typ: DetailEmail, wantValid: false},
		{name: "phone UK international", text: "call me on +44 20 7946 0958", typ: DetailPhone, wantValue: "+442079460958", wantValid: true},
		{name: "phone 00 prefix", text: "mobile 0049 30 901820", typ: DetailPhone, wantValue: "+4930901820", wantValid: true},
		{name: "phone US national", text: "my number is (415) 555-0132", typ: DetailPhone, wantValue: "+14155550132", wantValid: true},
		{name: "phone national in region", text: "call 030 901820", ctx: func(c ExtractContext) ExtractContext { c.Region = "DE"; return c }, typ: DetailPhone, wantValue: "+4930901820", wantValid: true},
		{name: "phone Brazil mobile", text: "whatsapp +55 11 91234-5678", typ: DetailPhone, wantValue: "+5511912345678", wantValid: true},
		{name: "phone too short", text: "call me on +44 20 7946", typ: DetailPhone, wantValid: false},
		{name: "phone unknown country code", text: "call +999 1234 5678", typ: DetailPhone, wantValid: false},
		{name: "long order number is no phone", text: "order 4155550123 please", typ: DetailPhone, wantValue: "-"},
		{name: "order lowercase id", text: "it's order a-10293", typ: DetailOrderNumber, wantValue: "A-10293", wantValid: true},
		{name: "order hash", text: "#55219 never came", typ: DetailOrderNumber, wantValue: "55219", wantValid: true},
		{name: "bare number when asked", text: "48213", ctx: func(c ExtractContext) ExtractContext { c.Requested = DetailOrderNumber; return c }, typ: DetailOrderNumber, wantValue: "48213", wantValid: true},
		{name: "zip code is no order", text: "I live at 90210", typ: DetailOrderNumber, wantValue: "-"},
		{name: "custom order pattern", text: "it is SHOP/2024/0042", ctx: func(c ExtractContext) ExtractContext {
			c.OrderPattern = regexp.MustCompile(`(?i)\b(shop/\d{4}/\d{4})\b`)
			return c
		}, typ: DetailOrderNumber, wantValue: "SHOP/2024/0042", wantValid: true},
		{name: "money dollars", text: "charged $49.99 twice", typ: DetailMoney, wantValue: "49.99 USD", wantValid: true},
		{name: "money decimal comma", text: "it cost 1.234,56 €", typ: DetailMoney, wantValue: "1234.56 EUR", wantValid: true},
		{name: "money word", text: "I want my 75 euros back", typ: DetailMoney, wantValue: "75.00 EUR", wantValid: true},
		{name: "percent is no money", text: "50% off did not apply", typ: DetailMoney, wantValue: "-"},
		{name: "yesterday", text: "I ordered yesterday", typ: DetailDate, wantValue: "2025-03-13", wantValid: true},
		{name: "in days", text: "it should come in 3 days", typ: DetailDate, wantValue: "2025-03-17", wantValid: true},
		{name: "month day", text: "delivered on March 3rd", typ: DetailDate, wantValue: "2025-03-03", wantValid: true},
		{name: "impossible date", text: "on 2025-02-30", typ: DetailDate, wantValid: false},
		{name: "time pm", text: "call me at 7:30pm", typ: DetailTime, wantValue: "19:30", wantValid: true},
		{name: "time 24h", text: "after 18:45", typ: DetailTime, wantValue: "18:45", wantValid: true},
		{name: "name I'm", text: "Hi, I'm Ana", typ: DetailName, wantValue: "Ana", wantValid: true},
		{name: "name my name is lower", text: "my name is ana silva", typ: DetailName, wantValue: "Ana Silva", wantValid: true},
		{name: "I'm waiting is no name", text: "I'm waiting for my order", typ: DetailName, wantValue: "-"},
		{name: "bare name when asked", text: "Ana Silva", ctx: func(c ExtractContext) ExtractContext { c.Requested = DetailName; return c }, typ: DetailName, wantValue: "Ana Silva", wantValid: true},
		{name: "bare name not asked", text: "Ana Silva", typ: DetailName, wantValue: "-"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := ctx
			if tt.ctx != nil {
				c = tt.ctx(c)
			}
			got := only(Extract(tt.text, c), tt.typ)
			if tt.wantValue == "-" {
				for _, d := range got {
					if d.Valid {
						t.Fatalf("Extract(%q) found %+v, want no valid %s", tt.text, d, tt.typ)
					}
				}
				return
			}
			if len(got) == 0 {
				t.Fatalf("Extract(%q) found no %s", tt.text, tt.typ)
			}
			d := got[0]
			if d.Valid != tt.wantValid {
				t.Fatalf("Extract(%q) = %+v, want valid=%v", tt.text, d, tt.wantValid)
			}
			if tt.wantValid && d.Value != tt.wantValue {
				t.Errorf("Extract(%q) value = %q, want %q", tt.text, d.Value, tt.wantValue)
			}
			if !tt.wantValid && d.Problem == "" {
				t.Errorf("invalid %s has no problem text", tt.typ)
			}
			if tt.text[d.Start:d.End] != d.Text {
				t.Errorf("offsets [%d:%d] give %q, Text is %q", d.Start, d.End, tt.text[d.Start:d.End], d.Text)
			}
		})
	}
}

func TestNextMondayAcrossDST(t *testing.T) {
	t.Parallel()
	ny := mustLoc(t, "America/New_York")
	berlin := mustLoc(t, "Europe/Berlin")
	tests := []struct {
		name string
		now  time.Time
		loc  *time.Location
		text string
		want string
	}{
		// Saturday 23:30 before US clocks go forward on Sunday 9 March 2025: adding 48 hours
		// would land on Tuesday 00:30.
		{name: "spring forward late evening", now: time.Date(2025, 3, 8, 23, 30, 0, 0, ny), loc: ny, text: "next Monday", want: "2025-03-10"},
		// Autumn: Europe goes back on Sunday 26 October 2025; a 25-hour day.
		{name: "fall back just after midnight", now: time.Date(2025, 10, 25, 0, 30, 0, 0, berlin), loc: berlin, text: "next Monday", want: "2025-10-27"},
		{name: "tomorrow across spring forward", now: time.Date(2025, 3, 8, 23, 30, 0, 0, ny), loc: ny, text: "tomorrow", want: "2025-03-09"},
		// 03:30 UTC on Monday is still Sunday evening in New York: "yesterday" is Saturday.
		{name: "yesterday in customer timezone", now: time.Date(2025, 3, 10, 3, 30, 0, 0, time.UTC), loc: ny, text: "yesterday", want: "2025-03-08"},
		{name: "next Monday on a Monday", now: time.Date(2025, 3, 10, 9, 0, 0, 0, ny), loc: ny, text: "next Monday", want: "2025-03-17"},
		{name: "last Friday", now: time.Date(2025, 3, 10, 9, 0, 0, 0, ny), loc: ny, text: "last Friday", want: "2025-03-07"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := only(Extract(tt.text, ExtractContext{Now: tt.now, Location: tt.loc}), DetailDate)
			if len(got) != 1 || got[0].Value != tt.want {
				t.Errorf("Extract(%q) at %v = %+v, want %s", tt.text, tt.now, got, tt.want)
			}
		})
	}
}

func TestValidate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		typ   string
		value string
		want  string
		ok    bool
	}{
		{name: "email", typ: DetailEmail, value: "a@B.com", want: "a@b.com", ok: true},
		{name: "email invalid", typ: DetailEmail, value: "a@b", ok: false},
		{name: "phone", typ: DetailPhone, value: "+44 20 7946 0958", want: "+442079460958", ok: true},
		{name: "phone garbage", typ: DetailPhone, value: "call me", ok: false},
		{name: "order", typ: DetailOrderNumber, value: "a-10293", want: "A-10293", ok: true},
		{name: "order with extra words", typ: DetailOrderNumber, value: "my order is 12345 i think", ok: false},
		{name: "date iso", typ: DetailDate, value: "2025-03-10", want: "2025-03-10", ok: true},
		{name: "money", typ: DetailMoney, value: "49.99 USD", want: "49.99 USD", ok: true},
		{name: "empty", typ: DetailEmail, value: " ", ok: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			d, ok := Validate(tt.typ, tt.value, ExtractContext{})
			if ok != tt.ok {
				t.Fatalf("Validate(%s, %q) ok = %v (%+v), want %v", tt.typ, tt.value, ok, d, tt.ok)
			}
			if ok && d.Value != tt.want {
				t.Errorf("Validate(%s, %q) = %q, want %q", tt.typ, tt.value, d.Value, tt.want)
			}
			if !ok && d.Problem == "" {
				t.Error("invalid value without a problem text")
			}
		})
	}
}

func TestReaskTemplates(t *testing.T) {
	t.Parallel()
	for _, typ := range []string{DetailEmail, DetailPhone, DetailOrderNumber, DetailDate, DetailMoney, DetailName} {
		if ReaskTemplate(typ) == "" {
			t.Errorf("no re-ask template for %s", typ)
		}
	}
}

// BenchmarkUnderstand measures the offline understanding of one message (intent, details,
// sentiment, language) on the default intents, as every turn runs it.
func BenchmarkUnderstand(b *testing.B) {
	m, err := NewModel(DefaultIntents(), Options{})
	if err != nil {
		b.Fatal(err)
	}
	texts := []string{"How long does standard delivery take?", "Do you ship to Switzerland?",
		"where is my order 48213? it's been 10 days!!", "Hi, my name is Dana Kim, email dana@example.com",
		"Can I exchange shoes for another size?", "ok thanks"}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		m.Understand(texts[i%len(texts)], ExtractContext{})
	}
}
