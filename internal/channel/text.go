package channel

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// Keyword is a messaging compliance keyword (SMS, WhatsApp).
type Keyword int

const (
	NoKeyword Keyword = iota
	KeywordStop
	KeywordStart
	KeywordHelp
)

// ParseKeyword recognises the carriers' standard keywords when they are the whole message
// (case, spaces and trailing punctuation ignored): STOP and its variants opt out, START
// opts back in, HELP asks for the help text.
func ParseKeyword(text string) Keyword {
	w := strings.ToUpper(strings.TrimFunc(text, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsPunct(r) }))
	switch w {
	case "STOP", "STOPALL", "STOP ALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "OPTOUT", "OPT OUT", "REVOKE":
		return KeywordStop
	case "START", "UNSTOP", "YES", "OPTIN", "OPT IN":
		return KeywordStart
	case "HELP", "INFO":
		return KeywordHelp
	}
	return NoKeyword
}

// Split cuts text into parts of at most max characters (runes), at sentence ends where it
// can, else at spaces, else anywhere. Text within max is one part.
func Split(text string, max int) []string {
	if max <= 0 || utf8.RuneCountInString(text) <= max {
		return []string{text}
	}
	var parts []string
	rest := []rune(text)
	for len(rest) > max {
		cut := lastBreak(rest[:max+1])
		parts = append(parts, strings.TrimSpace(string(rest[:cut])))
		rest = []rune(strings.TrimLeftFunc(string(rest[cut:]), unicode.IsSpace))
	}
	if s := strings.TrimSpace(string(rest)); s != "" {
		parts = append(parts, s)
	}
	return parts
}

// lastBreak is where to cut window (max+1 runes): after the last sentence end followed by a
// space, else at the last space, else at max.
func lastBreak(window []rune) int {
	limit := len(window) - 1
	space := -1
	for i := limit; i > 0; i-- {
		if !unicode.IsSpace(window[i]) {
			continue
		}
		if space < 0 {
			space = i
		}
		if p := window[i-1]; p == '.' || p == '!' || p == '?' || p == '\n' || p == '…' {
			return i
		}
	}
	if space > 0 {
		return space
	}
	return limit
}

// TextOnly is the one answer to a message Baton cannot read (media, location, …).
const TextOnly = "Sorry, I can only read text for now. Could you type your question?"
