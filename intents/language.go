package intents

import (
	"strings"
	"unicode"
)

// Language codes DetectLanguage returns besides ISO 639-1 codes.
const LanguageUnknown = "und"

// stopwords of the languages customers most often write in besides English. A handful of
// function words identifies a language well enough for routing and for choosing the English
// pipeline or not.
var stopwords = map[string][]string{
	"en": strings.Fields("the and is are was to of in for on my you your it this that with have has not what where when how can i me we please thanks thank hi hello order do does did an be will would no yes"),
	"es": strings.Fields("el la los las de del que y en un una es por para con mi mis su no se lo como pero gracias hola pedido dónde donde cuándo está estoy quiero tengo"),
	"fr": strings.Fields("le la les de des du et est un une pour pas que qui je vous mon ma mes avec sur dans ce merci bonjour commande où quand suis ai il elle"),
	"de": strings.Fields("der die das und ist nicht ich sie es ein eine mit für auf zu den dem mein meine bitte danke hallo bestellung wo wann habe haben wie"),
	"pt": strings.Fields("o a os as de do da que e em um uma é para com não meu minha por obrigado obrigada olá pedido onde quando estou tenho está"),
	"it": strings.Fields("il lo la gli le di del della che e è un una per con non mio mia sono ho grazie ciao ordine dove quando come"),
	"nl": strings.Fields("de het een en is van ik je niet dat met voor op mijn bedankt hallo bestelling waar wanneer hoe heb"),
}

// DetectLanguage guesses the language of text: "en", another ISO 639-1 code, or "und" when
// the text is too short or unclear. Scripts decide first (Cyrillic, Arabic, CJK, …); Latin
// text is scored by function words.
func DetectLanguage(text string) string {
	scripts := map[string]int{}
	letters := 0
	for _, r := range text {
		if !unicode.IsLetter(r) {
			continue
		}
		letters++
		switch {
		case unicode.Is(unicode.Cyrillic, r):
			scripts["ru"]++
		case unicode.Is(unicode.Arabic, r):
			scripts["ar"]++
		case unicode.Is(unicode.Hebrew, r):
			scripts["he"]++
		case unicode.Is(unicode.Greek, r):
			scripts["el"]++
		case unicode.Is(unicode.Devanagari, r):
			scripts["hi"]++
		case unicode.Is(unicode.Hangul, r):
			scripts["ko"]++
		case unicode.Is(unicode.Hiragana, r), unicode.Is(unicode.Katakana, r):
			scripts["ja"]++
		case unicode.Is(unicode.Han, r):
			scripts["zh"]++
		case unicode.Is(unicode.Thai, r):
			scripts["th"]++
		}
	}
	if letters == 0 {
		return LanguageUnknown
	}
	best, bestN := "", 0
	for s, n := range scripts {
		if n > bestN || (n == bestN && s < best) {
			best, bestN = s, n
		}
	}
	if best == "zh" && scripts["ja"] > 0 {
		best = "ja" // Japanese mixes kanji with kana
	}
	if bestN*2 >= letters {
		return best
	}
	words := strings.FieldsFunc(strings.ToLower(text), func(r rune) bool { return !unicode.IsLetter(r) && r != '\'' })
	score := map[string]int{}
	for _, w := range words {
		for lang, list := range stopwordSet {
			if list[w] {
				score[lang]++
			}
		}
	}
	best, bestN = "", 0
	for _, lang := range []string{"en", "es", "fr", "de", "pt", "it", "nl"} {
		if score[lang] > bestN {
			best, bestN = lang, score[lang]
		}
	}
	if bestN == 0 {
		if len(words) <= 3 {
			return LanguageUnknown
		}
		// Latin text with no known function word: not English, language unknown.
		return LanguageUnknown
	}
	return best
}

var stopwordSet = func() map[string]map[string]bool {
	out := map[string]map[string]bool{}
	for lang, ws := range stopwords {
		out[lang] = map[string]bool{}
		for _, w := range ws {
			out[lang][w] = true
		}
	}
	return out
}()

// IsEnglish reports whether text is English or too short to tell (a bare name, an order number),
// which is the safe default for the English pipeline.
func IsEnglish(text string) bool {
	l := DetectLanguage(text)
	return l == "en" || l == LanguageUnknown
}
