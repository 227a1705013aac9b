package intents

import (
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"
)

// nameWord is a capitalised word of letters (with ' and - inside: O'Neil, Anne-Marie).
const nameWord = `\p{Lu}[\p{L}'’\-]*[\p{L}]|\p{Lu}`

var (
	// Cues after which a capitalised name follows.
	reNameCue = regexp.MustCompile(`(?i:\b(?:my name is|my name's|my names|name is|name's|i am|i'm|im|this is|call me|it's|it is|under(?: the name)?(?: of)?|in the name of|booked as|signed|name:|regards,?|thanks,?|cheers,?|i'm with|with))\s+((?:` + nameWord + `)(?:\s+(?:` + nameWord + `)){0,2})`)
	// "my name is ana": an explicit cue accepts lower case.
	reNameExplicit = regexp.MustCompile(`(?i)\b(?:my name is|my name's|name is|call me|name:)\s+([\p{L}'’\-]+(?:\s+[\p{L}'’\-]+)?)`)
	reNameAfter    = regexp.MustCompile(`((?:` + nameWord + `)(?:\s+(?:` + nameWord + `)){0,2})\s+(?i:is my name|here|speaking)\b`)
	reBareName     = regexp.MustCompile(`^\s*(?i:(?:it's|it is|its|sure,?|yes,?|ok,?|okay,?|hi,?|name:|the name is|i'm|i am|this is)\s+)?([\p{L}'’\-]+(?:\s+[\p{L}'’\-]+){0,2})\s*[.!]?\s*$`)
)

// notNames are capitalised words that follow "I'm" or "this is" without being names.
var notNames = map[string]bool{}

func init() {
	for _, w := range strings.Fields(`not sorry fine good ok okay looking trying waiting here back so very still
		just the a an having going interested calling writing from in at on glad happy afraid sure
		unable able about still new wondering hoping asking contacting reaching following disappointed
		frustrated upset angry annoyed confused tired done ready really also never always now currently
		trying concerned worried unhappy pleased thrilled excited busy late early out getting
		it this that what my your our their his her yes no hi hello hey thanks thank dear regards
		customer support service team order monday tuesday wednesday thursday friday saturday sunday
		january february march april may june july august september october november december
		today tomorrow yesterday tonight please i me we you he she they us them there`) {
		notNames[w] = true
	}
}

func extractNames(text string, ctx ExtractContext) []Detail {
	var out []Detail
	add := func(s, e int) {
		raw := text[s:e]
		words := strings.Fields(raw)
		// Drop trailing words that are clearly not part of a name.
		for len(words) > 0 && notNames[strings.ToLower(words[len(words)-1])] {
			words = words[:len(words)-1]
		}
		if len(words) == 0 || notNames[strings.ToLower(words[0])] {
			return
		}
		raw = strings.Join(words, " ")
		if !strings.HasPrefix(text[s:], raw) {
			return
		}
		e = s + len(raw)
		for _, o := range out {
			if s < o.End && o.Start < e {
				return
			}
		}
		out = append(out, Detail{Type: DetailName, Value: titleName(raw), Text: raw, Start: s, End: e, Valid: true})
	}
	for _, m := range reNameExplicit.FindAllStringSubmatchIndex(text, -1) {
		add(m[2], m[3])
	}
	for _, m := range reNameCue.FindAllStringSubmatchIndex(text, -1) {
		add(m[2], m[3])
	}
	for _, m := range reNameAfter.FindAllStringSubmatchIndex(text, -1) {
		add(m[2], m[3])
	}
	requested := ctx.Requested == DetailName || ctx.Requested == "first_name" || ctx.Requested == "last_name"
	if requested && len(out) == 0 {
		if m := reBareName.FindStringSubmatchIndex(text); m != nil {
			add(m[2], m[3])
		}
	}
	return out
}

// titleName capitalises each part of a name typed in lower case ("ana silva" → "Ana Silva").
func titleName(s string) string {
	words := strings.Fields(s)
	for i, w := range words {
		r, n := utf8.DecodeRuneInString(w)
		if unicode.IsLower(r) {
			words[i] = string(unicode.ToUpper(r)) + w[n:]
		}
	}
	return strings.Join(words, " ")
}
