package prompts

import "testing"

func TestUnifiedDiff(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, a, b, want string
	}{
		{"same", "a\nb\n", "a\nb", "--- x\n+++ y\n"},
		{"changed line", "a\nb\nc\n", "a\nB\nc\n", "--- x\n+++ y\n a\n-b\n+B\n c\n"},
		{"from nothing", "", "a", "--- x\n+++ y\n+a\n"},
		{"context is two lines", "1\n2\n3\n4\n5\n6\n7\n8\n", "1\n2\n3\n4\n5\n6\n7\nX\n", "--- x\n+++ y\n@@\n 6\n 7\n-8\n+X\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := unified(diffLines(splitLines(tt.a), splitLines(tt.b)), "x", "y"); got != tt.want {
				t.Errorf("diff:\n%s\nwant:\n%s", got, tt.want)
			}
		})
	}
}
