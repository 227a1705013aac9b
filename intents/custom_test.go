package intents

import (
	"strings"
	"testing"
	"time"
)

// shopTypes are the custom detail types a business asked for.
var shopTypes = []DetailType{
	{Name: "zip_code", Pattern: `\d{5}`, Keywords: []string{"zip", "zip code", "postcode"}, Ask: "What's your zip code?", Reask: "Could you send the 5-digit zip code?"},
	{Name: "username", Pattern: `[A-Za-z][A-Za-z0-9_.]{2,30}`, Keywords: []string{"username", "user name", "login"}, Normalize: NormalizeLower,
		Ask: "What's your username?", Reask: "Could you send your username exactly as you log in?"},
	{Name: "account_id", Pattern: `(?i)acc-?(\d{6})`, Keywords: []string{"account id", "account"}, Normalize: NormalizeDigits,
		Ask: "What's your account id?", Reask: "Your account id looks like ACC-123456."},
	{Name: "membership", Label: "membership level", Values: []string{"Gold", "Silver", "Bronze"}, Keywords: []string{"membership", "member", "tier"},
		Ask: "Which membership do you have?", Reask: "Is it Gold, Silver or Bronze?"},
}

func TestExtractRules(t *testing.T) {
	t.Parallel()
	base := ExtractContext{Now: time.Date(2025, 3, 14, 10, 0, 0, 0, time.UTC), Location: time.UTC, Types: shopTypes}
	type want struct{ typ, value string }
	tests := []struct {
		name      string
		text      string
		requested string
		expect    []string
		want      []want   // valid details, in order of position
		invalid   []string // types found invalid
		absent    []string // types that must not be found at all
	}{
		{name: "a shop name is not a name", text: "For Less Money", requested: DetailName, absent: []string{DetailName}},
		{name: "ok thanks is not a name", text: "ok thanks", requested: DetailName, absent: []string{DetailName}},
		{name: "a question is not a name", text: "why?", requested: DetailName, absent: []string{DetailName}},
		{name: "bare name after a name request", text: "Ana", requested: DetailName, want: []want{{DetailName, "Ana"}}},
		{name: "bare lower-case full name", text: "ana de la cruz", requested: DetailName, want: []want{{DetailName, "Ana De La Cruz"}}},
		{name: "explicit name still works", text: "my name is Ana and I need help", want: []want{{DetailName, "Ana"}}},
		{name: "this is", text: "Hi, this is Ana Silva", want: []want{{DetailName, "Ana Silva"}}},
		{name: "a shouted word is not a name", text: "I got a parking fee and it's WRONG, I parked IN the bay!!", absent: []string{DetailName}},
		{name: "it's with a capitalised word", text: "it's Broken again", absent: []string{DetailName}},
		{name: "a name typed in capitals by a shouting customer", text: "THIS IS ANA SILVA", want: []want{{DetailName, "Ana Silva"}}},
		{name: "name colon", text: "name: ana", want: []want{{DetailName, "Ana"}}},
		{name: "username is not a name", text: "my username is ana_88", requested: DetailName, want: []want{{"username", "ana_88"}}, absent: []string{DetailName}},
		{name: "username cue without custom type", text: "my username is Ana_88", absent: []string{DetailName}},
		{name: "zip after zip request is not an order", text: "10115", requested: "zip_code", want: []want{{"zip_code", "10115"}}, absent: []string{DetailOrderNumber}},
		{name: "zip and order in one message", text: "my zip is 10115 and order 48213", want: []want{{"zip_code", "10115"}, {DetailOrderNumber, "48213"}}},
		{name: "order then zip", text: "order 48213, zip code 10115", want: []want{{DetailOrderNumber, "48213"}, {"zip_code", "10115"}}},
		{name: "zip keyword blocks order when order requested", text: "zip code 10115", requested: DetailOrderNumber, want: []want{{"zip_code", "10115"}}, absent: []string{DetailOrderNumber}},
		{name: "postcode without a custom type is no order", text: "postcode 10115", requested: DetailOrderNumber, absent: []string{DetailOrderNumber}},
		{name: "bare number without request is no order", text: "it is 48213", absent: []string{DetailOrderNumber}},
		{name: "order cue", text: "order no. 48213", want: []want{{DetailOrderNumber, "48213"}}},
		{name: "hash cue", text: "#48213", want: []want{{DetailOrderNumber, "48213"}}},
		{name: "account id is no phone", text: "account number 41555501", absent: []string{DetailPhone, DetailOrderNumber}},
		{name: "account id capture group and digits", text: "my account id is ACC-123456", want: []want{{"account_id", "123456"}}},
		{name: "membership from values", text: "membership: gold", want: []want{{"membership", "Gold"}}},
		{name: "membership requested bare", text: "silver", requested: "membership", want: []want{{"membership", "Silver"}}},
		{name: "membership not inside a word", text: "goldfish", requested: "membership", invalid: []string{"membership"}},
		{name: "membership unknown value", text: "platinum", requested: "membership", invalid: []string{"membership"}},
		{name: "values only with a cue or request", text: "I bought a gold ring", absent: []string{"membership"}},
		{name: "expected custom type without keyword", text: "it's gold", expect: []string{"membership"}, want: []want{{"membership", "Gold"}}},
		{name: "zip requested but wrong", text: "1011", requested: "zip_code", invalid: []string{"zip_code"}},
		{name: "requested custom wins over a phone", text: "12345678", requested: "account_id", invalid: []string{"account_id"}, absent: []string{DetailPhone}},
		{name: "invalid phone is reported", text: "call me on +44 20 7946", requested: DetailPhone, invalid: []string{DetailPhone}},
		{name: "too short phone reply is reported", text: "555-01", requested: DetailPhone, invalid: []string{DetailPhone}},
		{name: "too short order reply is reported", text: "it's 123", requested: DetailOrderNumber, invalid: []string{DetailOrderNumber}},
		{name: "a question is no invalid phone", text: "why do you need 1 number?", requested: DetailPhone, absent: []string{DetailPhone}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ctx := base
			ctx.Requested, ctx.Expect = tt.requested, tt.expect
			got := Extract(tt.text, ctx)
			var valid []want
			for _, d := range got {
				if tt.text[d.Start:d.End] != d.Text {
					t.Errorf("offsets [%d:%d] give %q, Text is %q", d.Start, d.End, tt.text[d.Start:d.End], d.Text)
				}
				if d.Valid {
					valid = append(valid, want{d.Type, d.Value})
				}
			}
			if len(tt.want) > 0 || len(tt.invalid) == 0 {
				for _, w := range tt.want {
					found := false
					for _, v := range valid {
						found = found || v == w
					}
					if !found {
						t.Errorf("Extract(%q) = %+v, want %s=%q", tt.text, got, w.typ, w.value)
					}
				}
			}
			for _, typ := range tt.invalid {
				ds := only(got, typ)
				if len(ds) == 0 || ds[0].Valid || ds[0].Problem == "" {
					t.Errorf("Extract(%q) = %+v, want an invalid %s with a problem", tt.text, got, typ)
				}
			}
			for _, typ := range tt.absent {
				if ds := only(got, typ); len(ds) > 0 {
					t.Errorf("Extract(%q) = %+v, want no %s", tt.text, got, typ)
				}
			}
			// A value is never filed under two types.
			for i := range got {
				for j := i + 1; j < len(got); j++ {
					if got[i].Start < got[j].End && got[j].Start < got[i].End {
						t.Errorf("Extract(%q): %+v and %+v overlap", tt.text, got[i], got[j])
					}
				}
			}
		})
	}
}

func TestLooksLikeName(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   string
		want bool
	}{
		{"Ana", true}, {"ana silva", true}, {"Mary-Jane O'Neil", true}, {"José Álvarez", true}, {"Will", true},
		{"For Less Money", false}, {"yes", false}, {"no", false}, {"ok", false}, {"thanks", false}, {"hi", false},
		{"why", false}, {"what?", false}, {"ana_88", false}, {"Ana2", false}, {"a b c d e", false},
		{"I want a refund", false}, {"", false}, {"-Ana", false}, {"That's strange", false},
	}
	for _, tt := range tests {
		if got := LooksLikeName(tt.in); got != tt.want {
			t.Errorf("LooksLikeName(%q) = %v, want %v", tt.in, got, tt.want)
		}
	}
}

// Problems are read to the customer after "Sorry, ": a sentence, not an error code.
func TestProblemsAreReadable(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, text, typ string
		requested       string
		contains        string
	}{
		{name: "short phone", text: "call me on +44 20 7946", typ: DetailPhone, contains: "phone number looks incomplete"},
		{name: "short phone reply", text: "555-01", typ: DetailPhone, requested: DetailPhone, contains: "phone number looks incomplete"},
		{name: "email without domain", text: "my email is ana@", typ: DetailEmail},
		{name: "email without ending", text: "ana@example", typ: DetailEmail, contains: "email address"},
		{name: "double at", text: "ana@@example.com", typ: DetailEmail, contains: "exactly one @"},
		{name: "impossible date", text: "on 2025-02-30", typ: DetailDate, contains: "date"},
		{name: "custom values", text: "platinum", typ: "membership", requested: "membership", contains: "Gold, Silver or Bronze"},
		{name: "custom pattern", text: "abc", typ: "zip_code", requested: "zip_code", contains: "zip code"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ds := only(Extract(tt.text, ExtractContext{Types: shopTypes, Requested: tt.requested}), tt.typ)
			if len(ds) == 0 {
				if tt.contains == "" {
					return // not recognised at all is fine too
				}
				t.Fatalf("Extract(%q) found no %s", tt.text, tt.typ)
			}
			p := ds[0].Problem
			if ds[0].Valid || p == "" {
				t.Fatalf("Extract(%q) = %+v, want invalid with a problem", tt.text, ds[0])
			}
			if !strings.Contains(p, tt.contains) {
				t.Errorf("problem %q, want it to mention %q", p, tt.contains)
			}
			if p != strings.ToLower(p[:1])+p[1:] && !strings.HasPrefix(p, "I ") {
				t.Errorf("problem %q must read on after \"Sorry, \" (lower-case start)", p)
			}
			if strings.HasSuffix(p, ".") {
				t.Errorf("problem %q must not end with a full stop; the template adds it", p)
			}
		})
	}
	if _, p := ValidatePhone("+44 20 7946", "US"); p != "that phone number looks incomplete" {
		t.Errorf("ValidatePhone problem = %q", p)
	}
}

func TestDetailTypeValidate(t *testing.T) {
	t.Parallel()
	ok := DetailType{Name: "zip_code", Pattern: `\d{5}`, Ask: "a", Reask: "b"}
	tests := []struct {
		name    string
		mod     func(DetailType) DetailType
		wantErr string
	}{
		{name: "valid", mod: func(d DetailType) DetailType { return d }},
		{name: "values instead of pattern", mod: func(d DetailType) DetailType { d.Pattern, d.Values = "", []string{"gold"}; return d }},
		{name: "bad name", mod: func(d DetailType) DetailType { d.Name = "Zip Code"; return d }, wantErr: "lower_snake_case"},
		{name: "builtin name", mod: func(d DetailType) DetailType { d.Name = "email"; return d }, wantErr: "built-in"},
		{name: "both", mod: func(d DetailType) DetailType { d.Values = []string{"x"}; return d }, wantErr: "not both"},
		{name: "neither", mod: func(d DetailType) DetailType { d.Pattern = ""; return d }, wantErr: "needs a pattern"},
		{name: "bad regexp", mod: func(d DetailType) DetailType { d.Pattern = "(["; return d }, wantErr: "pattern"},
		{name: "matches empty", mod: func(d DetailType) DetailType { d.Pattern = `\d*`; return d }, wantErr: "empty"},
		{name: "no ask", mod: func(d DetailType) DetailType { d.Ask = " "; return d }, wantErr: "ask text"},
		{name: "no reask", mod: func(d DetailType) DetailType { d.Reask = ""; return d }, wantErr: "reask text"},
		{name: "bad normalize", mod: func(d DetailType) DetailType { d.Normalize = "shout"; return d }, wantErr: "normalize"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := tt.mod(ok).Validate()
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("Validate: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("Validate error = %v, want it to contain %q", err, tt.wantErr)
			}
		})
	}
	if got := (DetailType{Name: "zip_code"}).Normalized().Label; got != "zip code" {
		t.Errorf("default label = %q, want %q", got, "zip code")
	}
}

func TestIntentsRequireKnownDetailTypes(t *testing.T) {
	t.Parallel()
	in := Intent{Name: "reset_login", Examples: []string{"reset my login"}, RequiredDetails: []string{"username"}, Action: ActionGatherThenHandoff}
	if err := ValidateAll([]Intent{in}); err == nil || !strings.Contains(err.Error(), `"username"`) {
		t.Errorf("ValidateAll without the type = %v, want an error naming username", err)
	}
	if err := ValidateAll([]Intent{in}, shopTypes...); err != nil {
		t.Errorf("ValidateAll with the type: %v", err)
	}
	noText := shopTypes[1]
	noText.Reask = ""
	if err := ValidateAll([]Intent{in}, noText); err == nil || !strings.Contains(err.Error(), "re-ask") {
		t.Errorf("ValidateAll with a type without re-ask text = %v, want a refusal", err)
	}
}
