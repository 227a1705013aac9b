package knowledge

import (
	"crypto/sha256"
	txt "github.com/batonhq/baton/text"
	"regexp"
	"strings"
	"unicode/utf8"
)

// ChunkOptions bound chunk sizes, in characters (runes).
type ChunkOptions struct {
	// Max is the size a chunk's text should not exceed; a section that is longer is split at
	// block, then sentence boundaries. Default 1000 (about 250 tokens).
	Max int
	// Overlap is how much of the end of a chunk (whole sentences, at most this long) is repeated
	// at the start of the next chunk of the same section. Default 200; negative disables it.
	Overlap int
	// FAQMax is the size up to which a FAQ answer stays one chunk. Default 8000.
	FAQMax int
}

func (o ChunkOptions) withDefaults() ChunkOptions {
	if o.Max <= 0 {
		o.Max = 1000
	}
	if o.Overlap == 0 {
		o.Overlap = 200
	}
	if o.Overlap < 0 || o.Overlap > o.Max/2 {
		o.Overlap = max(0, min(o.Overlap, o.Max/2))
	}
	if o.FAQMax <= 0 {
		o.FAQMax = 8000
	}
	return o
}

var (
	atxHeading   = regexp.MustCompile(`^ {0,3}(#{1,6})(?:[ \t]+(.*?))?[ \t]*#*[ \t]*$`)
	thematic     = regexp.MustCompile(`^ {0,3}((\*[ \t]*){3,}|(-[ \t]*){3,}|(_[ \t]*){3,})$`)
	fenceOpen    = regexp.MustCompile("^ {0,3}(`{3,}|~{3,})")
	setextMarker = regexp.MustCompile(`^ {0,3}(=+|-+)[ \t]*$`)
)

// section is the text under one heading path, up to the next heading or thematic break.
type section struct {
	path   []string
	blocks []string
}

// parseSections splits Markdown into sections: a heading starts one (its path is the stack of
// enclosing headings), a thematic break ends one (the next keeps the path). Blocks are
// paragraphs, lists and fenced code, separated by blank lines. An H1 equal to title is dropped
// from paths: the title is part of every chunk already.
func parseSections(title, body string) []section {
	lines := strings.Split(strings.ReplaceAll(body, "\r\n", "\n"), "\n")
	type heading struct {
		level int
		text  string
	}
	var stack []heading
	path := func() []string {
		out := make([]string, 0, len(stack))
		for _, h := range stack {
			out = append(out, h.text)
		}
		return out
	}
	var out []section
	cur := section{}
	var para []string
	flushPara := func() {
		if len(para) > 0 {
			cur.blocks = append(cur.blocks, strings.Join(para, "\n"))
			para = nil
		}
	}
	flushSection := func() {
		flushPara()
		if len(cur.blocks) > 0 {
			out = append(out, cur)
		}
		cur = section{path: path()}
	}
	pushHeading := func(level int, text string) {
		flushSection()
		for len(stack) > 0 && stack[len(stack)-1].level >= level {
			stack = stack[:len(stack)-1]
		}
		if !(level == 1 && len(stack) == 0 && strings.EqualFold(strings.TrimSpace(text), strings.TrimSpace(title))) {
			stack = append(stack, heading{level, text})
		}
		cur = section{path: path()}
	}
	for i := 0; i < len(lines); i++ {
		line := lines[i]
		if m := fenceOpen.FindStringSubmatch(line); m != nil {
			flushPara()
			fence := m[1]
			block := []string{line}
			for i++; i < len(lines); i++ {
				block = append(block, lines[i])
				if strings.HasPrefix(strings.TrimSpace(lines[i]), fence[:3]) && strings.Trim(strings.TrimSpace(lines[i]), fence[:1]) == "" {
					break
				}
			}
			cur.blocks = append(cur.blocks, strings.Join(block, "\n"))
			continue
		}
		trimmed := strings.TrimSpace(line)
		switch {
		case trimmed == "":
			flushPara()
		case atxHeading.MatchString(line) && strings.HasPrefix(trimmed, "#"):
			m := atxHeading.FindStringSubmatch(line)
			pushHeading(len(m[1]), strings.TrimSpace(m[2]))
		case len(para) > 0 && setextMarker.MatchString(line):
			// The paragraph above is a heading.
			text := strings.Join(para, " ")
			para = nil
			level := 2
			if strings.HasPrefix(trimmed, "=") {
				level = 1
			}
			pushHeading(level, text)
		case thematic.MatchString(line):
			flushSection()
		default:
			para = append(para, line)
		}
	}
	flushSection()
	return out
}

// ChunkArticle splits an article into chunks. Chunks never cross a heading or a thematic break; each
// keeps its heading path and position. A FAQ answer (kind faq) stays one chunk up to FAQMax.
func ChunkArticle(a ArticleInput, o ChunkOptions) []ChunkInput {
	o = o.withDefaults()
	var out []ChunkInput
	add := func(path []string, text string) {
		text = strings.TrimSpace(text)
		if text == "" {
			return
		}
		out = append(out, ChunkInput{Position: len(out), HeadingPath: path, Text: text})
	}
	for _, s := range parseSections(a.Title, a.Body) {
		whole := strings.Join(s.blocks, "\n\n")
		if a.Kind == KindFAQ && runes(whole) <= o.FAQMax || runes(whole) <= o.Max {
			add(s.path, whole)
			continue
		}
		for _, t := range packSection(s.blocks, o) {
			add(s.path, t)
		}
	}
	if len(out) == 0 && strings.TrimSpace(a.Title) != "" {
		// A title-only article is still findable by its title.
		out = append(out, ChunkInput{Position: 0, Text: strings.TrimSpace(a.Title)})
	}
	for i := range out {
		out[i].Embed = EmbedText(a.Title, out[i].HeadingPath, out[i].Text)
		sum := sha256.Sum256([]byte(out[i].Embed + "\x00" + a.Language))
		out[i].Hash = sum[:]
		out[i].Words = len(txt.Words(out[i].Embed))
	}
	return out
}

// EmbedText is what represents a chunk to the embedder and to full-text ranking: the article
// title, the heading path and the text.
func EmbedText(title string, path []string, text string) string {
	var b strings.Builder
	b.WriteString(title)
	if len(path) > 0 {
		b.WriteString("\n")
		b.WriteString(strings.Join(path, " › "))
	}
	b.WriteString("\n\n")
	b.WriteString(text)
	return b.String()
}

func runes(s string) int { return utf8.RuneCountInString(s) }

// packSection packs blocks into chunks of at most o.Max runes. Oversized blocks are split into
// sentences (code into lines); a chunk after the first of a run starts with the last sentences
// of the one before, up to o.Overlap runes.
func packSection(blocks []string, o ChunkOptions) []string {
	// Units are the smallest pieces kept whole; sep is what joins a unit to the previous one.
	type unit struct {
		text string
		sep  string
	}
	var units []unit
	for _, b := range blocks {
		sep := "\n\n"
		if runes(b) <= o.Max {
			units = append(units, unit{b, sep})
			continue
		}
		var parts []string
		if fenceOpen.MatchString(b) {
			parts = splitLines(b, o.Max)
		} else {
			for _, s := range sentences(b) {
				parts = append(parts, splitHard(s, o.Max)...)
			}
		}
		for i, p := range parts {
			if i > 0 {
				sep = " "
				if fenceOpen.MatchString(b) {
					sep = "\n"
				}
			}
			units = append(units, unit{p, sep})
		}
	}
	var out []string
	var cur strings.Builder
	var tail []string // sentences of the current chunk, for overlap
	for _, u := range units {
		if cur.Len() > 0 && runes(cur.String())+len(u.sep)+runes(u.text) > o.Max {
			out = append(out, cur.String())
			cur.Reset()
			// Overlap: the last sentences of the previous chunk, if they fit with this unit.
			var ov string
			for i := len(tail) - 1; i >= 0; i-- {
				cand := tail[i]
				if ov != "" {
					cand += " " + ov
				}
				if runes(cand) > o.Overlap || runes(cand)+1+runes(u.text) > o.Max {
					break
				}
				ov = cand
			}
			tail = nil
			if ov != "" {
				cur.WriteString(ov)
				tail = append(tail, ov)
			}
		}
		if cur.Len() > 0 {
			cur.WriteString(u.sep)
		}
		cur.WriteString(u.text)
		tail = append(tail, sentences(u.text)...)
	}
	if cur.Len() > 0 {
		out = append(out, cur.String())
	}
	return out
}

// splitLines splits a code block at line boundaries into pieces of at most max runes.
func splitLines(b string, max int) []string {
	var out []string
	var cur []string
	n := 0
	for _, l := range strings.Split(b, "\n") {
		for _, piece := range splitHard(l, max) {
			if n > 0 && n+1+runes(piece) > max {
				out = append(out, strings.Join(cur, "\n"))
				cur, n = nil, 0
			}
			cur = append(cur, piece)
			n += runes(piece) + 1
		}
	}
	if len(cur) > 0 {
		out = append(out, strings.Join(cur, "\n"))
	}
	return out
}

// splitHard cuts a text without usable boundaries at word boundaries, or mid-word as a last
// resort, into pieces of at most max runes.
func splitHard(s string, max int) []string {
	var out []string
	for runes(s) > max {
		rs := []rune(s)
		cut := max
		for i := max; i > max/2; i-- {
			if rs[i] == ' ' {
				cut = i
				break
			}
		}
		out = append(out, strings.TrimSpace(string(rs[:cut])))
		s = strings.TrimSpace(string(rs[cut:]))
	}
	if s != "" {
		out = append(out, s)
	}
	return out
}
