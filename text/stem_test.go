package text

import "testing"

func TestStem(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		words []string // all must share one stem
	}{
		{name: "plural s", words: []string{"order", "orders"}},
		{name: "ies", words: []string{"delivery", "deliveries"}},
		{name: "es", words: []string{"box", "boxes"}},
		{name: "ing and ed with doubled consonant", words: []string{"ship", "shipping", "shipped", "ships"}},
		{name: "silent e", words: []string{"change", "changed", "changing", "changes"}},
		{name: "ed", words: []string{"refund", "refunded", "refunding", "refunds"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			want := Stem(tt.words[0])
			for _, w := range tt.words[1:] {
				if got := Stem(w); got != want {
					t.Errorf("stem(%q) = %q, stem(%q) = %q; want equal", w, got, tt.words[0], want)
				}
			}
		})
	}
	// Words whose endings only look like inflections stay whole; non-ASCII words are untouched.
	for _, w := range []string{"status", "string", "red", "need", "café", "заказы"} {
		if got := Stem(w); got != w {
			t.Errorf("stem(%q) = %q, want unchanged", w, got)
		}
	}
}
