package text

import "strings"

// DiffLine is one line of a diff: Op is " " (kept), "-" (removed) or "+" (added).
type DiffLine struct {
	Op   string `json:"op"`
	Text string `json:"text"`
}

// maxDiffCells bounds the LCS table; larger texts are shown as replaced whole.
const maxDiffCells = 4_000_000

// DiffLines is a longest-common-subsequence line diff of a and b.
func DiffLines(a, b []string) []DiffLine {
	var out []DiffLine
	if len(a)*len(b) > maxDiffCells {
		for _, l := range a {
			out = append(out, DiffLine{"-", l})
		}
		for _, l := range b {
			out = append(out, DiffLine{"+", l})
		}
		return out
	}
	// lcs[i][j] is the LCS length of a[i:] and b[j:].
	lcs := make([][]int, len(a)+1)
	for i := range lcs {
		lcs[i] = make([]int, len(b)+1)
	}
	for i := len(a) - 1; i >= 0; i-- {
		for j := len(b) - 1; j >= 0; j-- {
			if a[i] == b[j] {
				lcs[i][j] = lcs[i+1][j+1] + 1
			} else {
				lcs[i][j] = max(lcs[i+1][j], lcs[i][j+1])
			}
		}
	}
	i, j := 0, 0
	for i < len(a) && j < len(b) {
		switch {
		case a[i] == b[j]:
			out = append(out, DiffLine{" ", a[i]})
			i, j = i+1, j+1
		case lcs[i+1][j] >= lcs[i][j+1]:
			out = append(out, DiffLine{"-", a[i]})
			i++
		default:
			out = append(out, DiffLine{"+", b[j]})
			j++
		}
	}
	for ; i < len(a); i++ {
		out = append(out, DiffLine{"-", a[i]})
	}
	for ; j < len(b); j++ {
		out = append(out, DiffLine{"+", b[j]})
	}
	return out
}

// WriteHunks writes the changed lines with up to two lines of context around them, and "@@"
// where kept lines were left out.
func WriteHunks(b *strings.Builder, lines []DiffLine) {
	near := make([]bool, len(lines))
	for i, l := range lines {
		if l.Op != " " {
			for k := max(0, i-2); k <= min(len(lines)-1, i+2); k++ {
				near[k] = true
			}
		}
	}
	gap := false
	for i, l := range lines {
		if !near[i] {
			gap = true
			continue
		}
		if gap {
			b.WriteString("@@\n")
			gap = false
		}
		b.WriteString(l.Op + l.Text + "\n")
	}
}
