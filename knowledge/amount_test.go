package knowledge

import "testing"

func TestSameAmount(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, question, text, n string
		want                    bool
	}{
		{name: "a count is not a sum", question: "with you 8 months", text: "£8 per month higher", n: "8", want: false},
		{name: "a count matches a count", question: "with you 8 months", text: "after 8 months", n: "8", want: true},
		{name: "a sum matches a sum", question: "is it £8?", text: "it costs £8 a month", n: "8", want: true},
		{name: "a sum with a space", question: "€ 5 fee", text: "a fee of € 5", n: "5", want: true},
		{name: "a sum named after its number", question: "free over 50 euros?", text: "free over €50", n: "50", want: true},
		{name: "a sum is not a count", question: "is it £8?", text: "8 days", n: "8", want: false},
		{name: "part of a bigger number is no match", question: "8 months", text: "18 months or £2.8", n: "8", want: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := sameAmount(tt.question, tt.text, tt.n); got != tt.want {
				t.Errorf("sameAmount(%q, %q, %q) = %v, want %v", tt.question, tt.text, tt.n, got, tt.want)
			}
		})
	}
}
