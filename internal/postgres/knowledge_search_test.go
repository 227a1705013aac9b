package postgres_test

import (
	"testing"

	"github.com/batonhq/baton/internal/postgres"
)

func TestSpellingFix(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, missing, known string
		want                 bool
	}{
		{name: "one letter missing", missing: "refnd", known: "refund", want: true},
		{name: "neighbours swapped", missing: "reciev", known: "receiv", want: true},
		{name: "two edits in a long word", missing: "instalaton", known: "installation", want: true},
		{name: "two edits in a short word", missing: "rfnud", known: "refund", want: false},
		{name: "too short to correct", missing: "cost", known: "cast", want: false},
		{name: "a different word", missing: "lasagn", known: "languag", want: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := postgres.SpellingFix(tt.missing, tt.known); got != tt.want {
				t.Errorf("SpellingFix(%q, %q) = %v, want %v", tt.missing, tt.known, got, tt.want)
			}
		})
	}
}
