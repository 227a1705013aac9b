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
	reBareName     = regexp.MustCompile(`^\s*(?i:(?:it's|it is|its|sure,?|yes,?|ok,?|okay,?|hi,?|name:|the name is|i'm|i am|this is)\s+)?([\p{L}'’\-]+(?:\s+[\p{L}'’\-]+){0,3})\s*[.!]?\s*$`)
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

// commonWords are everyday words that a short reply is made of when it is not a name: "For
// Less Money", "yes", "why", "ok thanks". Names that are also words (Will, Rose, Grace, Mark)
// are deliberately absent.
var commonWords = map[string]bool{}

func init() {
	for w := range notNames {
		commonWords[w] = true
	}
	for _, w := range strings.Fields(`for less more most money cash yes yeah yep nope no nah ok okay k thanks thank thx ty
		hi hello hey why what who whom whose when where how which is are was were be been being am do does did done
		have has had can could would should shall might must not and or but if then than because
		with without to of by as into onto like only too much many some any none nothing something
		anything everything someone anyone everyone nobody these those its mine yours ours theirs
		him herself himself myself yourself sorry great perfect cool nice alright right wrong true false
		help need needs want wants know think get got give take make come see look lol haha idea
		number email phone address name username password account order orders item items product
		products price cost free cheap refund return returns delivery shipping shipment package parcel
		question answer problem issue card payment bill invoice store shop website app online
		yet again later soon ago anyway maybe perhaps probably definitely absolutely exactly
		same other another else whatever whenever stop cancel wait asap urgent ah oh um uh hmm well
		that's it's i'm i've i'd i'll what's let's there's here's don't can't won't didn't isn't doesn't
		wasn't aren't haven't you're we're they're`) {
		commonWords[w] = true
	}
}

// LooksLikeName reports whether s, on its own, could be a person's name: one to four words of
// letters (hyphens and apostrophes inside are fine: O'Neil, Anne-Marie), no digits, no common
// words, not a sentence or a question. "Ana", "ana silva", "Mary-Jane O'Neil" pass; "For Less
// Money", "ok thanks", "why?", "ana_88" do not.
func LooksLikeName(s string) bool {
	s = strings.TrimSpace(strings.TrimRight(strings.TrimSpace(s), ".!"))
	if s == "" || len(s) > 60 {
		return false
	}
	words := strings.Fields(s)
	if len(words) > 4 {
		return false
	}
	for _, w := range words {
		if !nameToken(w) || commonWords[strings.ToLower(w)] {
			return false
		}
	}
	return true
}

// nameToken is letters with ' or - only between letters.
func nameToken(w string) bool {
	rs := []rune(w)
	for i, r := range rs {
		switch {
		case unicode.IsLetter(r) || unicode.Is(unicode.Mn, r):
		case (r == '\'' || r == '’' || r == '-') && i > 0 && i < len(rs)-1:
		default:
			return false
		}
	}
	return len(rs) > 0
}

func extractNames(text string, ctx ExtractContext) []Detail {
	var out []Detail
	// strict: the cue does not require capitals, so the words must look like a name; bare: the
	// reply must, with only a trailing "today" or "please" trimmed ("Ah alright" is not "Ah").
	const (
		cued = iota
		strict
		bare
	)
	add := func(s, e int, mode int) {
		raw := text[s:e]
		words := strings.Fields(raw)
		// Drop trailing words that are clearly not part of a name.
		for len(words) > 0 && notNames[strings.ToLower(words[len(words)-1])] {
			words = words[:len(words)-1]
		}
		for mode == strict && len(words) > 0 && commonWords[strings.ToLower(words[len(words)-1])] {
			words = words[:len(words)-1]
		}
		if len(words) == 0 || notNames[strings.ToLower(words[0])] {
			return
		}
		if mode != cued && !LooksLikeName(strings.Join(words, " ")) {
			return
		}
		if mode == cued && (shouted(words, text) || allCommon(words)) {
			return // "it's WRONG", "it's Broken again": emphasis, not a name
		}
		if end := s + len(raw); end < len(text) {
			// "Ana_88", "Ana2": part of a handle, not a name.
			if r, _ := utf8.DecodeRuneInString(text[end:]); r == '_' || unicode.IsDigit(r) {
				return
			}
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
		add(m[2], m[3], strict)
	}
	requested := ctx.Requested == DetailName || ctx.Requested == "first_name" || ctx.Requested == "last_name"
	for _, m := range reNameCue.FindAllStringSubmatchIndex(text, -1) {
		// "it's Broken again", "with Express": these cues name someone only when asked to.
		if weakNameCue[strings.ToLower(strings.Join(strings.Fields(text[m[0]:m[2]]), " "))] && !requested {
			continue
		}
		add(m[2], m[3], cued)
	}
	for _, m := range reNameAfter.FindAllStringSubmatchIndex(text, -1) {
		add(m[2], m[3], cued)
	}
	// A bare reply is a name only when the bot asked for one and it looks like one.
	if requested && len(out) == 0 {
		if m := reBareName.FindStringSubmatchIndex(text); m != nil {
			add(m[2], m[3], bare)
		}
	}
	return out
}

// weakNameCue are the cues of reNameCue that introduce a name only in reply to a request for one.
var weakNameCue = map[string]bool{"it's": true, "it is": true, "with": true, "i'm with": true}

// shouted reports whether the words are capitals in a text that is not: a shouted word.
func shouted(words []string, text string) bool {
	if strings.ToUpper(text) == text {
		return false
	}
	for _, w := range words {
		if utf8.RuneCountInString(w) >= 2 && strings.ToUpper(w) == w {
			return true
		}
	}
	return false
}

// allCommon reports whether every word is an everyday word rather than a name.
func allCommon(words []string) bool {
	for _, w := range words {
		if !commonWords[strings.ToLower(w)] {
			return false
		}
	}
	return true
}

// titleName capitalises each part of a name typed in lower case ("ana silva" → "Ana Silva").
func titleName(s string) string {
	words := strings.Fields(s)
	for i, w := range words {
		r, n := utf8.DecodeRuneInString(w)
		if utf8.RuneCountInString(w) > 1 && strings.ToUpper(w) == w {
			words[i] = w[:n] + strings.ToLower(w[n:]) // "ANA" → "Ana"
			continue
		}
		if unicode.IsLower(r) {
			words[i] = string(unicode.ToUpper(r)) + w[n:]
		}
	}
	return strings.Join(words, " ")
}
