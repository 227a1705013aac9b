package pii_test

import (
	"fmt"
	"math/rand/v2"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/batonhq/baton/pii"
)

// found renders spans as "kind:text" for readable comparisons.
func found(text string, spans []pii.Span) []string {
	var out []string
	for _, s := range spans {
		out = append(out, s.Kind+":"+text[s.Start:s.End])
	}
	return out
}

var orderNumber = pii.Pattern{Name: "order_number", Regexp: regexp.MustCompile(`\b[A-Z]-\d{5}\b|\bORD\d{16}\b`)}

func TestFind(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		text string
		want []string // "kind:text" in order; nil: nothing
	}{
		// Emails.
		{name: "email plain", text: "mail ana@example.com please", want: []string{"email:ana@example.com"}},
		{name: "email plus addressing", text: "use ana.silva+orders@example.com.", want: []string{"email:ana.silva+orders@example.com"}},
		{name: "email subdomain", text: "it's bob@mail.eu.example.co.uk", want: []string{"email:bob@mail.eu.example.co.uk"}},
		{name: "email upper case", text: "JOHN.DOE@EXAMPLE.COM is mine", want: []string{"email:JOHN.DOE@EXAMPLE.COM"}},
		{name: "email with digits is not a phone", text: "x5551234567@example.org", want: []string{"email:x5551234567@example.org"}},
		{name: "no top-level domain", text: "root@localhost and @handle", want: nil},

		// Phones.
		{name: "E.164", text: "call +14155552671 now", want: []string{"phone:+14155552671"}},
		{name: "E.164 with spaces", text: "call +44 20 7946 0958", want: []string{"phone:+44 20 7946 0958"}},
		{name: "trunk zero in brackets", text: "on +44 (0)20 7946 0958.", want: []string{"phone:+44 (0)20 7946 0958"}},
		{name: "US brackets and dash", text: "my number is (555) 123-4567", want: []string{"phone:(555) 123-4567"}},
		{name: "US dashes", text: "555-123-4567", want: []string{"phone:555-123-4567"}},
		{name: "US dots", text: "555.123.4567", want: []string{"phone:555.123.4567"}},
		{name: "UK national spaces", text: "ring 020 7946 0958 after 5", want: []string{"phone:020 7946 0958"}},
		{name: "mobile unseparated", text: "07911123456", want: []string{"phone:07911123456"}},
		{name: "local with dash", text: "555-1234", want: []string{"phone:555-1234"}},
		{name: "German slash", text: "030/1234567", want: []string{"phone:030/1234567"}},
		{name: "after an amount", text: "paid 1,299.00 020 7946 0958", want: []string{"phone:020 7946 0958"}},
		{name: "two phones", text: "+1 415 555 2671 or 020 7946 0958", want: []string{"phone:+1 415 555 2671", "phone:020 7946 0958"}},
		{name: "two national phones", text: "555-123-4567 020 7946 0958", want: []string{"phone:555-123-4567", "phone:020 7946 0958"}},
		{name: "country code then dashes", text: "+1 415-555-2671", want: []string{"phone:+1 415-555-2671"}},
		{name: "ISO date", text: "on 2024-05-01 please", want: nil},
		{name: "European date", text: "on 01.05.2024 or 1/5/24", want: nil},
		{name: "date then phone", text: "2024-05-01 555-123-4567", want: []string{"phone:555-123-4567"}},
		{name: "year range", text: "from 2019-2024", want: nil},
		{name: "amount", text: "it cost 1,299.00 and $1299.00", want: nil},
		{name: "dotted thousands", text: "1.299.000 EUR", want: nil},
		{name: "decimal", text: "3.14159265", want: nil},
		{name: "IP address", text: "from 192.168.100.10", want: nil},
		{name: "order number with letter", text: "order A-10293 and ORD-5551234567", want: nil},
		{name: "hash order", text: "order #5551234567", want: nil},
		{name: "short number", text: "I have 12345 points", want: nil},
		{name: "unseparated 8 digits", text: "ticket 12345678", want: nil},
		{name: "uuid", text: "id 3f2a9c1e-1234-5678-9abc-def012345678", want: nil},
		{name: "time", text: "at 10:30 on 5 May", want: nil},

		// Cards.
		{name: "visa", text: "card 4242424242424242", want: []string{"card:4242424242424242"}},
		{name: "visa spaces", text: "4111 1111 1111 1111 exp 12/27", want: []string{"card:4111 1111 1111 1111"}},
		{name: "visa dashes", text: "4012-8888-8888-1881", want: []string{"card:4012-8888-8888-1881"}},
		{name: "mastercard", text: "5555555555554444 and 5105 1051 0510 5100", want: []string{"card:5555555555554444", "card:5105 1051 0510 5100"}},
		{name: "mastercard 2-series", text: "2223003122003222", want: []string{"card:2223003122003222"}},
		{name: "amex", text: "378282246310005 or 3714 496353 98431", want: []string{"card:378282246310005", "card:3714 496353 98431"}},
		{name: "discover", text: "6011-1111-1111-1117", want: []string{"card:6011-1111-1111-1117"}},
		{name: "16 digits failing Luhn", text: "4242424242424241", want: nil},
		{name: "Luhn but no card network", text: "1234567812345670", want: nil},
		{name: "card then phone", text: "4242 4242 4242 4242 555-123-4567", want: []string{"card:4242 4242 4242 4242", "phone:555-123-4567"}},
		{name: "date then card", text: "2024-05-01 4242 4242 4242 4242", want: []string{"card:4242 4242 4242 4242"}},
		{name: "nothing", text: "where is my parcel?", want: nil},
	}
	m := pii.NewMasker(pii.Options{})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := found(tt.text, m.Find(tt.text)); !slices.Equal(got, tt.want) {
				t.Errorf("Find(%q) = %q, want %q", tt.text, got, tt.want)
			}
		})
	}
}

func TestPatternsAndPrecedence(t *testing.T) {
	t.Parallel()
	// ORD4242424242424242 holds a Luhn-valid card number; "ORD" glues it to a word only for phones.
	const text = "order ORD4242424242424242, A-10293, card 4111 1111 1111 1111, phone 555-123-4567"
	spans := []pii.Span{{Kind: "order_number", Start: strings.Index(text, "ORD"), End: strings.Index(text, "ORD") + 19}}
	tests := []struct {
		name string
		o    pii.Options
		want []string
	}{
		{name: "card wins by default", o: pii.Options{Patterns: []pii.Pattern{orderNumber}},
			want: []string{"card:4242424242424242", "order_number:A-10293", "card:4111 1111 1111 1111", "phone:555-123-4567"}},
		{name: "pattern wins when asked", o: pii.Options{Patterns: []pii.Pattern{orderNumber}, PatternsWin: true},
			want: []string{"order_number:ORD4242424242424242", "order_number:A-10293", "card:4111 1111 1111 1111", "phone:555-123-4567"}},
		{name: "kept pattern is left alone and blocks the card", o: pii.Options{Patterns: []pii.Pattern{orderNumber},
			Keep: func(s pii.Span) bool { return s.Kind == "order_number" }},
			want: []string{"card:4111 1111 1111 1111", "phone:555-123-4567"}},
		{name: "kept spans from the caller", o: pii.Options{Keep: pii.KeepSpans(spans)},
			want: []string{"card:4111 1111 1111 1111", "phone:555-123-4567"}},
		{name: "pattern beats phone", o: pii.Options{Patterns: []pii.Pattern{{Name: "account", Regexp: regexp.MustCompile(`555-\d{3}-\d{4}`)}}},
			want: []string{"card:4242424242424242", "card:4111 1111 1111 1111", "account:555-123-4567"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := found(text, pii.NewMasker(tt.o).Find(text)); !slices.Equal(got, tt.want) {
				t.Errorf("Find = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestMask(t *testing.T) {
	t.Parallel()
	m := pii.NewMasker(pii.Options{Patterns: []pii.Pattern{orderNumber}})
	tests := []struct {
		name string
		text string
		want string
	}{
		{name: "each kind", text: "I'm ana@example.com, +44 20 7946 0958, order A-10293, card 4242 4242 4242 4242",
			want: "I'm [EMAIL_1], [PHONE_1], order [ORDER_NUMBER_1], card [CARD_1]"},
		{name: "same value same placeholder", text: "A-10293? yes A-10293, not A-55555",
			want: "[ORDER_NUMBER_1]? yes [ORDER_NUMBER_1], not [ORDER_NUMBER_2]"},
		{name: "nothing to mask", text: "where is my parcel?", want: "where is my parcel?"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, v := m.Mask(tt.text)
			if got != tt.want {
				t.Errorf("Mask(%q) = %q, want %q", tt.text, got, tt.want)
			}
			if back := v.Unmask(got); back != tt.text {
				t.Errorf("Unmask(%q) = %q, want %q", got, back, tt.text)
			}
		})
	}
}

func TestVaultAcrossTexts(t *testing.T) {
	t.Parallel()
	m := pii.NewMasker(pii.Options{Patterns: []pii.Pattern{orderNumber}})
	v := pii.NewVault()
	history := m.MaskWith(v, "my order is A-10293, email ana@example.com")
	latest := m.MaskWith(v, "any news on A-10293? also try bob@example.com")
	if want := "my order is [ORDER_NUMBER_1], email [EMAIL_1]"; history != want {
		t.Errorf("history = %q, want %q", history, want)
	}
	if want := "any news on [ORDER_NUMBER_1]? also try [EMAIL_2]"; latest != want {
		t.Errorf("latest = %q, want %q", latest, want)
	}
	if v.Len() != 3 {
		t.Errorf("Len = %d, want 3", v.Len())
	}
	reply := "Order [ORDER_NUMBER_1] ships today; we'll write to [EMAIL_2], not [EMAIL_9], [EMAIL 1] or [PHONE_1"
	want := "Order A-10293 ships today; we'll write to bob@example.com, not [EMAIL_9], [EMAIL 1] or [PHONE_1"
	if got := v.Unmask(reply); got != want {
		t.Errorf("Unmask = %q, want %q", got, want)
	}
}

func TestUnmaskNeverPanics(t *testing.T) {
	t.Parallel()
	m := pii.NewMasker(pii.Options{})
	_, v := m.Mask("ana@example.com")
	var nilVault *pii.Vault
	for _, s := range []string{"", "[", "]", "[[EMAIL_1]", "[EMAIL_1", "[EMAIL_1]]", "x[EMAIL_1]" + strings.Repeat("[", 100), "[EMAIL_1]"} {
		_ = v.Unmask(s)
		_ = v.UnmaskJSON([]byte(s))
		_ = nilVault.Unmask(s)
	}
	if got := v.Unmask("[[EMAIL_1]]"); got != "[ana@example.com]" {
		t.Errorf("Unmask = %q", got)
	}
}

func TestUnmaskJSONEscapes(t *testing.T) {
	t.Parallel()
	m := pii.NewMasker(pii.Options{Patterns: []pii.Pattern{{Name: "ref", Regexp: regexp.MustCompile(`REF"\S+`)}}})
	masked, v := m.Mask(`ref REF"a\b and ana@example.com`)
	raw := []byte(`{"details":{"ref":"` + strings.Fields(masked)[1] + `","email":"[EMAIL_1]"}}`)
	want := `{"details":{"ref":"REF\"a\\b","email":"ana@example.com"}}`
	if got := string(v.UnmaskJSON(raw)); got != want {
		t.Errorf("UnmaskJSON = %s, want %s", got, want)
	}
}

func TestMaskCards(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		text string
		want string
	}{
		{name: "visa spaces", text: "my card is 4242 4242 4242 4242 thanks", want: "my card is •••• 4242 thanks"},
		{name: "amex dashes", text: "3782-822463-10005", want: "•••• 0005"},
		{name: "two cards", text: "5555555555554444 / 4012888888881881", want: "•••• 4444 / •••• 1881"},
		{name: "other data stays", text: "ana@example.com 555-123-4567 order A-10293", want: "ana@example.com 555-123-4567 order A-10293"},
		{name: "not Luhn", text: "4242424242424241", want: "4242424242424241"},
		{name: "no digits", text: "hello", want: "hello"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := pii.MaskCards(tt.text); got != tt.want {
				t.Errorf("MaskCards(%q) = %q, want %q", tt.text, got, tt.want)
			}
		})
	}
	keep := pii.NewMasker(pii.Options{Patterns: []pii.Pattern{orderNumber}, Keep: func(s pii.Span) bool { return s.Kind == "order_number" }})
	if got, want := keep.MaskCards("ORD4242424242424242 and 4242424242424242"), "ORD4242424242424242 and •••• 4242"; got != want {
		t.Errorf("MaskCards keeping order numbers = %q, want %q", got, want)
	}
}

// Pieces for random mixes: every secret must be masked, and Unmask must restore the text.
var (
	secrets = []string{"ana@example.com", "Bob.Smith+shop@Mail.Example.ORG", "x_y-z@sub.domain.io",
		"+14155552671", "+44 20 7946 0958", "(555) 123-4567", "555-123-4567", "020 7946 0958", "07911123456",
		"4242 4242 4242 4242", "4111-1111-1111-1111", "5555555555554444", "378282246310005", "A-10293", "B-55501"}
	plain = []string{"hello", "my", "order", "is", "on", "2024-05-01", "1,299.00", "€15.50", "ORD", "12345",
		"please", "call", "[note]", "thanks!", "ünïcödé", "3.5", "10:30", "at", "\n", "card", "email:"}
	seps = []string{" ", " ", " ", ", ", ". ", "; ", " - ", "\n"}
)

func TestRoundTripRandomMixes(t *testing.T) {
	t.Parallel()
	m := pii.NewMasker(pii.Options{Patterns: []pii.Pattern{orderNumber}})
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range 200 {
		var b strings.Builder
		var used []string
		for range 3 + rng.IntN(20) {
			if rng.IntN(3) == 0 {
				s := secrets[rng.IntN(len(secrets))]
				used = append(used, s)
				b.WriteString(s)
			} else {
				b.WriteString(plain[rng.IntN(len(plain))])
			}
			b.WriteString(seps[rng.IntN(len(seps))])
		}
		text := b.String()
		v := pii.NewVault()
		// Half the cases mask in two parts with one vault, as a turn masks history and news.
		cut := len(text)
		if i%2 == 1 {
			cut = strings.LastIndex(text[:len(text)/2+1], "\n") + 1
		}
		masked := m.MaskWith(v, text[:cut]) + m.MaskWith(v, text[cut:])
		for _, s := range used {
			if strings.Contains(masked, s) {
				t.Errorf("case %d: %q survives masking: %q", i, s, masked)
			}
		}
		if back := v.Unmask(masked); back != text {
			t.Fatalf("case %d: round trip\n text %q\nmasked %q\n  back %q", i, text, masked, back)
		}
	}
}

func Example() {
	m := pii.NewMasker(pii.Options{Patterns: []pii.Pattern{orderNumber}})
	masked, vault := m.Mask("Order A-10293, reach me at ana@example.com or +44 20 7946 0958")
	fmt.Println(masked)
	fmt.Println(vault.Unmask("I've emailed [EMAIL_1] about [ORDER_NUMBER_1]."))
	fmt.Println(pii.MaskCards("card 4242 4242 4242 4242"))
	// Output:
	// Order [ORDER_NUMBER_1], reach me at [EMAIL_1] or [PHONE_1]
	// I've emailed ana@example.com about A-10293.
	// card •••• 4242
}

func TestFindEmailEdges(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		text string
		want []string
	}{
		{name: "unicode", text: "josé@exämple.de!", want: []string{"email:josé@exämple.de"}},
		{name: "trailing dot", text: "write to a@b.example.com.", want: []string{"email:a@b.example.com"}},
		{name: "numeric tld", text: "a@example.123", want: nil},
		{name: "tld then dash", text: "a@example.com-x", want: []string{"email:a@example.com"}},
		{name: "double dot", text: "a@example..com", want: nil},
		{name: "dot before at", text: "a.@example.com", want: nil},
		{name: "two at signs", text: "a@b@c.org", want: []string{"email:b@c.org"}},
		{name: "back to back", text: "a@b.com,c@d.org", want: []string{"email:a@b.com", "email:c@d.org"}},
		{name: "in brackets", text: "<Ana@Example.COM>", want: []string{"email:Ana@Example.COM"}},
	}
	m := pii.NewMasker(pii.Options{})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := found(tt.text, m.Find(tt.text)); !slices.Equal(got, tt.want) {
				t.Errorf("Find(%q) = %q, want %q", tt.text, got, tt.want)
			}
		})
	}
}

func TestMaskTextWithLiteralPlaceholder(t *testing.T) {
	t.Parallel()
	const text = "I typed [EMAIL_1] by mistake; mine is ana@example.com"
	masked, v := pii.NewMasker(pii.Options{}).Mask(text)
	if want := "I typed [EMAIL_1] by mistake; mine is [EMAIL_2]"; masked != want {
		t.Errorf("Mask = %q, want %q", masked, want)
	}
	if back := v.Unmask(masked); back != text {
		t.Errorf("Unmask = %q, want %q", back, text)
	}
}

func FuzzMaskRoundTrip(f *testing.F) {
	for _, s := range append(append([]string{message300()}, secrets...), plain...) {
		f.Add(s)
	}
	m := pii.NewMasker(pii.Options{Patterns: []pii.Pattern{orderNumber}})
	f.Fuzz(func(t *testing.T, text string) {
		masked, v := m.Mask(text)
		if back := v.Unmask(masked); back != text {
			t.Fatalf("round trip\n text %q\nmasked %q\n  back %q", text, masked, back)
		}
		_ = pii.MaskCards(text)
		_ = pii.MaskLog(text)
	})
}
