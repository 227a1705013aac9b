package knowledge

import txt "github.com/batonhq/baton/text"

// irregular maps irregular forms of verbs customers use to their base form, so "I left my
// jacket" meets "items left behind" and "leave", and "I lost it" meets "lose": the light
// stemmer cannot see that they are one word.
var irregular = map[string]string{
	"left": "leave", "lost": "lose", "paid": "pay", "bought": "buy", "sent": "send",
	"took": "take", "taken": "take", "broke": "break", "broken": "break", "stole": "steal",
	"stolen": "steal", "rode": "ride", "ridden": "ride", "drove": "drive", "driven": "drive",
	"fell": "fall", "fallen": "fall", "gave": "give", "given": "give", "found": "find",
	"held": "hold", "kept": "keep", "forgot": "forget", "forgotten": "forget", "began": "begin",
	"begun": "begin", "chose": "choose", "chosen": "choose", "wrote": "write", "written": "write",
	"ran": "run", "brought": "bring", "told": "tell", "sold": "sell", "spent": "spend",
	"lent": "lend", "stuck": "stick", "caught": "catch", "came": "come", "went": "go",
	"gone": "go", "made": "make", "said": "say", "saw": "see", "seen": "see", "knew": "know",
	"known": "know", "thought": "think", "met": "meet", "felt": "feel", "hid": "hide",
	"hidden": "hide", "shook": "shake", "woke": "wake", "wore": "wear", "worn": "wear",
	"tore": "tear", "torn": "tear", "froze": "freeze", "frozen": "freeze", "flew": "fly",
	"flown": "fly", "hung": "hang", "bent": "bend", "built": "build", "dealt": "deal",
	"fed": "feed", "fought": "fight", "led": "lead", "meant": "mean", "quit": "quit",
	"rang": "ring", "rung": "ring", "sat": "sit", "slid": "slide", "spoke": "speak",
	"spoken": "speak", "stood": "stand", "swam": "swim", "threw": "throw", "thrown": "throw",
	"understood": "understand", "won": "win", "withdrew": "withdraw", "withdrawn": "withdraw",
}

// stem is the stemmer's form of a word, irregular forms first brought to their base form.
func stem(w string) string {
	if b, ok := irregular[w]; ok {
		w = b
	}
	return txt.Stem(w)
}
