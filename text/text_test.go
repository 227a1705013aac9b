package text

import (
	"slices"
	"testing"
)

func TestWords(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, in string
		want     []string
	}{
		{"punctuation splits", "Where's my order #4471?", []string{"wheres", "my", "order", "4471"}},
		{"curly apostrophe joins", "don’t", []string{"dont"}},
		{"unicode letters", "Größe café", []string{"größe", "café"}},
		{"empty", "  ", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := Words(tt.in); !slices.Equal(got, tt.want) {
				t.Errorf("Words(%q) = %q; want %q", tt.in, got, tt.want)
			}
		})
	}
}
