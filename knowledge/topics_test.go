package knowledge

import (
	"slices"
	"testing"
)

func TestTopicsOf(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		arts []Article
		want []string
	}{
		{name: "tags shared by two articles or more, most shared first",
			arts: []Article{{Title: "A", Tags: []string{"billing", "wifi"}}, {Title: "B", Tags: []string{"Mobile", "billing"}},
				{Title: "C", Tags: []string{"mobile", "router"}}, {Title: "D", Tags: []string{"billing"}}},
			want: []string{"billing", "Mobile"}},
		{name: "too few shared tags: shortest titles",
			arts: []Article{{Title: "Riding an e-scooter safely", Tags: []string{"safety"}}, {Title: "Lost property", Tags: []string{"items"}},
				{Title: "Battery and range"}},
			want: []string{"Lost property", "Battery and range", "Riding an e-scooter safely"}},
		{name: "nothing published", arts: nil, want: []string{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := topicsOf(tt.arts); !slices.Equal(got, tt.want) {
				t.Errorf("topicsOf = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestIrregularFormsMatch(t *testing.T) {
	t.Parallel()
	v := newVocab("Items left behind are kept for 30 days.")
	for _, w := range []string{"leave", "keep", "left"} {
		q := questionTerms(w)
		if len(q) != 1 || v.match(q[0]) != 1 {
			t.Errorf("%q does not match %q", w, "left … kept")
		}
	}
}
