package prompts

import (
	"fmt"
	"strings"

	"github.com/batonhq/baton/text"
)

// DiffLine is one line of a diff: Op is " " (kept), "-" (removed) or "+" (added).
type DiffLine = text.DiffLine

func diffLines(a, b []string) []DiffLine { return text.DiffLines(a, b) }

// unified renders lines as a unified diff with up to two lines of context around changes and
// @@ where kept lines were left out.
func unified(lines []DiffLine, from, to string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "--- %s\n+++ %s\n", from, to)
	text.WriteHunks(&b, lines)
	return b.String()
}

// splitLines splits a body into lines; a final newline does not make an empty last line.
func splitLines(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(strings.TrimSuffix(s, "\n"), "\n")
}
