package knowledge

import (
	"cmp"
	"maps"
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	txt "github.com/batonhq/baton/text"
)

// The extractive answer's size: at most this many sentences (a list or a table counts as
// one) and about this many characters, so it reads as a chat reply, not an article.
const (
	extractSentences = 3
	extractChars     = 400
)

// cue is a kind of fact a question asks for, recognised from its question words.
type cue int

const (
	cueDuration   cue = iota // how long, how many days: "3–7 working days"
	cueMoney                 // how much, cost, price, fee: "€4.95", "free"
	cueTime                  // when, what time: "before 2 pm", "when the order ships"
	cuePermission            // can I, is it possible, do you accept: "you can…", "we accept…"
	cueSteps                 // how do I, how to: "Go to…", "Click…", numbered steps
	cueOutcome               // what happens if, what if: "we'll charge…", "you'll move to…"
	cueContact               // what number, which email, how do I reach: "call 0800 123 456", "write to help@…"
	numCues
)

var (
	askDuration = regexp.MustCompile(`\b(window|time limit|deadline|forever)\b|\bhow much (notice|time|longer|warning)\b|\bhow (long|many (working |business )?(days?|hours?|weeks?|months?|years?)|fast|soon|quickly)\b|\bvalid\b|\bexpir`)
	askMoney    = regexp.MustCompile(`\bhow much\b|\bcosts?\b|\bprices?\b|\bpricing\b|\bfees?\b|\bcharged?\b|\bexpensive\b|\bcheap(er|est)?\b|\bafford|\bmoney back\b|\bcompensat|\bfree\b|\bpay for\b|\bshipping rates?\b`)
	// "when" asks only when a verb follows: "when will I…", not "…fees when my order arrives".
	askTime          = regexp.MustCompile(`\bwhen (will|do|does|did|is|are|was|can|could|should|would|shall)\b|^when\b|\bwhat time\b|\bwhich day\b|\bwhat day\b|\bhow soon\b`)
	askPermission    = regexp.MustCompile(`^(can|could|may|is it possible|am i allowed|are you able|do you|does|is|are|will|do i)\b|\b(can|could|may) (i|we|you)\b|\bis it possible\b|\bam i allowed\b|\bdo (i|you) (need|have to|accept|ship|deliver|offer|take|allow)\b`)
	startsPermission = regexp.MustCompile(`^(can|could|may|is it possible|am i allowed|are you able|do you|does|is|are|will|do i)\b`)
	askOutcome       = regexp.MustCompile(`\bwhat (happens|will happen|would happen|happened)\b|\bwhat if\b`)
	hasOutcome       = regexp.MustCompile(`\bwill\b|['’]ll\b`)
	askContact       = regexp.MustCompile(`\b(phone|telephone|contact|helpline|hotline) (number|details)\b|\bnumber (for|of|to)\b|\b(what|which)( is|'s)? (the )?(number|email|e-mail|address)\b|\bemail address\b|\bhow (do|can) i (reach|contact|call|phone|email|write to)\b|\bwho (do|can|should) i (call|contact|email|write to)\b`)
	askSteps         = regexp.MustCompile(`\bhow (do|can|should|would|could) (i|we|you)\b|\bhow to\b|\bwhere (do|can|should) i\b|\bwhat (should|do) i do\b|\bsteps?\b|\bprocess\b`)

	// Run on lower-cased text: case-insensitive matching is several times slower.
	hasDuration = regexp.MustCompile(`\d+([.,]\d+)?\s*([–-]|to)?\s*\d*\s*(working |business |calendar )?(days?|hours?|h|weeks?|months?|years?|minutes?|min)\b|\b(one|two|three|four|five|six|seven|eight|nine|ten|twelve|a|an)[ -](working |business )?(days?|hours?|weeks?|months?|years?|minutes?)\b|\b(next|same) (working |business )?day\b|\b(two|three|one)-year\b`)
	hasMoney    = regexp.MustCompile(`[€$£¥]\s?\d|\d\s?(€|eur|euros?|usd|dollars?|gbp|pounds?|chf)\b`)
	hasContact  = regexp.MustCompile(`\+?\d[\d ()-]{6,}\d|[a-z0-9._%+-]+@[a-z0-9.-]+\.[a-z]{2,}`)
	hasClock    = regexp.MustCompile(`\d{1,2}([:.]\d{2})?\s?(am|pm|h|o'clock)\b`)
	alternative = regexp.MustCompile(`^(Otherwise|If not|Else)\b`)
	anaphora    = regexp.MustCompile(`^(It|Its|It's|This|That|They|These|Those|Then|There|So|Also|Otherwise)\b`)
)

// Word-level evidence, checked on a unit's words joined by single spaces.
var (
	rulePhrases = []string{" you can ", " you may ", " we accept ", " we ship ", " we deliver ", " we offer ",
		" we take ", " is free ", " are free ", " can be ", " we can ", " you are able ", " is possible ",
		" is allowed ", " are allowed ", " you need to ", " you must ", " have to "}
	moneyPhrases = []string{" free ", " no charge ", " no extra charge ", " no cost ", " no fee ", " at your cost ",
		" charge ", " charged ", " cost ", " costs "}
	negations = txt.SetOf("cannot", "cant", "not", "dont", "doesnt", "isnt", "arent", "wont", "never",
		"except", "excluding", "only")
	timeWords = txt.SetOf("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday",
		"weekday", "weekdays", "weekend", "weekends", "midnight", "noon", "today", "tomorrow", "when",
		"once", "after", "before", "until", "within")
)

const digits = "0123456789"

// durationUnits are the words a duration ends with; the regular expression runs only on a
// unit that has one.
var durationUnits = txt.SetOf("day", "days", "hour", "hours", "h", "week", "weeks", "month", "months",
	"year", "years", "minute", "minutes", "min")

func mentionsDuration(words []string, lower string) bool {
	return slices.ContainsFunc(words, func(w string) bool { return durationUnits[w] }) && hasDuration.MatchString(lower)
}

func containsAny(s string, phrases []string) bool {
	for _, p := range phrases {
		if strings.Contains(s, p) {
			return true
		}
	}
	return false
}

// askNotMoney is "how much" asking for something other than an amount of money.
var askNotMoney = regexp.MustCompile(`\bhow much (notice|time|longer|warning|data|space)\b`)

// chatSpellings are the chat spellings of question words, so that "wat should i do" asks for
// steps like "what should I do".
var chatSpellings = map[string]string{"wat": "what", "wot": "what", "wut": "what", "u": "you", "ur": "your",
	"r": "are", "hw": "how", "cn": "can", "shud": "should", "wen": "when"}

// questionCues returns the kinds of fact a question asks for.
func questionCues(question string) [numCues]bool {
	words := txt.Words(question)
	for i, w := range words {
		if n, ok := chatSpellings[w]; ok {
			words[i] = n
		}
	}
	q := strings.Join(words, " ")
	var c [numCues]bool
	c[cueDuration] = askDuration.MatchString(q)
	c[cueMoney] = askMoney.MatchString(askNotMoney.ReplaceAllString(q, ""))
	c[cueTime] = askTime.MatchString(q) && !c[cueDuration]
	// "How much notice do you need?" asks for a duration: a permission phrase after another
	// kind of question word is not what is asked.
	c[cuePermission] = askPermission.MatchString(q) && !askSteps.MatchString(q) &&
		(startsPermission.MatchString(q) || !c[cueDuration] && !c[cueMoney] && !c[cueTime])
	c[cueSteps] = askSteps.MatchString(q)
	c[cueOutcome] = askOutcome.MatchString(q)
	c[cueContact] = askContact.MatchString(q)
	return c
}

// instructionVerbs start an instruction ("Go to…", "Click…"): the sentences that answer "how
// do I".
var instructionVerbs = txt.SetOf(
	"go", "click", "tap", "select", "choose", "open", "enter", "start", "print", "drop", "write",
	"contact", "check", "look", "sign", "log", "add", "remove", "send", "fill", "follow", "visit",
	"call", "email", "use", "press", "type", "pack", "attach", "scan", "upload", "confirm",
	"complete", "download", "install", "create", "update", "change", "save", "submit", "find",
	"make", "return", "ship", "take", "put", "include", "keep", "wait", "reply", "navigate",
)

// unit is a piece of an answer: a sentence, a list item or a table row, with where it stands.
type unit struct {
	text  string
	chunk int  // index of its chunk among the candidates
	seq   int  // order within its chunk
	list  int  // items of one list or rows of one table share a non-zero id
	table bool // a table row: rendered as its own sentence, not joined with "; "
	lead  bool // ends with ":": introduces what follows
	step  bool // an instruction (imperative or a list item)

	words   string        // its words, lower-cased, between single spaces
	vocab   vocab         // its words for matching question terms
	states  [numCues]bool // the kinds of fact it states, whatever is asked
	neg     bool          // has a negation
	has     [numCues]bool // states the kind of fact (for the question's cues only)
	isRule  bool          // states a rule without exception ("you can…")
	isExc   bool          // states an exception or a negative rule
	negHead bool          // its heading is negative: a section of exceptions

	match []float64 // per question term: 1 exact, typoWeight misspelt, 0
	head  []float64 // per question term: its match in the unit's heading or title, discounted
	score float64
}

func (u unit) rule() bool      { return u.isRule }
func (u unit) exception() bool { return u.isExc }

func (u unit) satisfies(c cue) bool { return u.has[c] }

// analyse works out, once per chunk text, what the unit states: its words and vocabulary and
// every kind of fact, whatever a question will ask.
func (u *unit) analyse() {
	words := txt.Words(u.text)
	u.words = " " + strings.Join(words, " ") + " "
	u.vocab = cachedVocab(u.text)
	lower := strings.ToLower(u.text)
	for c := range numCues {
		switch cue(c) {
		case cueDuration:
			u.states[c] = mentionsDuration(words, lower)
		case cueMoney:
			u.states[c] = strings.ContainsAny(lower, digits) && hasMoney.MatchString(lower) || containsAny(u.words, moneyPhrases)
		case cueTime:
			u.states[c] = strings.ContainsAny(lower, digits) && hasClock.MatchString(lower) || mentionsDuration(words, lower) ||
				slices.ContainsFunc(words, func(w string) bool { return timeWords[w] }) ||
				strings.Contains(u.words, " working day ") || strings.Contains(u.words, " as soon as ")
		case cuePermission:
			u.states[c] = containsAny(u.words, rulePhrases)
		case cueSteps:
			u.states[c] = u.step
		case cueOutcome:
			u.states[c] = hasOutcome.MatchString(lower)
		case cueContact:
			u.states[c] = strings.ContainsAny(lower, digits+"@") && hasContact.MatchString(lower)
		}
	}
	u.neg = slices.ContainsFunc(words, func(w string) bool { return negations[w] })
}

// classify keeps the kinds of fact the unit states that the question asks for.
func (u *unit) classify(cues [numCues]bool) {
	for c := range numCues {
		u.has[c] = cues[c] && u.states[c]
	}
	if cues[cuePermission] {
		u.isExc = u.neg
		u.isRule = !u.isExc && u.has[cuePermission]
	}
}

// candidate is a chunk extraction may quote: a retrieved hit or a neighbour of one.
type candidate struct {
	hit   Hit
	prior float64 // how much its retrieval rank is trusted: 1 for the top hit's article
}

// candidates collects the retrieved chunks and their neighbours, without repeats; chunks of
// the top hit's article come first.
func candidates(hits []Hit) []candidate {
	var out []candidate
	seen := map[int64]bool{}
	add := func(h Hit, prior float64) {
		if seen[h.ID] || strings.TrimSpace(h.Text) == "" {
			return
		}
		seen[h.ID] = true
		out = append(out, candidate{h, prior})
	}
	for _, h := range hits {
		// Another article than the top hit's must match clearly better to be quoted.
		prior := 1.0
		if h.ArticleID != hits[0].ArticleID {
			prior = otherArticlePrior
		}
		add(h, prior)
		for _, c := range h.Context {
			add(Hit{Chunk: c}, prior)
		}
	}
	return out
}

// otherArticleNoCue further discounts a sentence of another article that does not state the
// kind of fact asked for: the top article's sentences that do are likelier answers.
const otherArticleNoCue = 0.8

// openingNoCue discounts a sentence of an article's opening (before its first heading) that
// does not state the kind of fact asked for.
const openingNoCue = 0.75

// otherArticlePrior discounts sentences of other articles than the top hit's: retrieval ranked
// that article first, so another must match the question clearly better to be quoted.
const otherArticlePrior = 0.9

// Extract answers from one chunk (and its neighbouring context): see ExtractFrom.
func Extract(question string, h Hit) string {
	text, _ := ExtractFrom(question, []Hit{h})
	return text
}

// ExtractFrom answers a question from retrieved hits without a language model: the sentences
// (list items, table rows) of one article that best match the question's content words,
// spelling-tolerantly, and the kind of fact it asks for (a duration for "how long", an amount
// for "how much", a time for "when", a rule for "can I", instructions for "how do I"). It
// quotes at most three sentences (about 400 characters) in the article's order, adds the
// sentence a fragment or a lead-in needs, prefers a rule over its exceptions unless the
// question names an excepted thing, and keeps lists and tables readable. The article is the
// top hit's unless another retrieved article matches clearly better; used is the chunk of the
// best sentence, for the citation. With nothing matching it gives the top chunk's opening.
func ExtractFrom(question string, hits []Hit) (text string, used Hit) {
	return extractFrom(question, hits, nil)
}

// extractFrom is ExtractFrom knowing the words the articles use (see qterm.known).
func extractFrom(question string, hits []Hit, known map[string]bool) (text string, used Hit) {
	if len(hits) == 0 {
		return "", Hit{}
	}
	cands := candidates(hits)
	if len(cands) == 0 {
		return "", hits[0]
	}
	q := knownTerms(questionTerms(question), known)
	cues := questionCues(question)
	var units []unit
	listID := 0
	for ci, c := range cands {
		// The parsed units are shared: copy them, then number lists across the candidates.
		us := parsedChunks.get(c.hit.Text, parseChunk)
		last := listID
		for _, u := range us {
			if u.list != 0 {
				u.list += listID
				last = max(last, u.list)
			}
			u.chunk = ci
			units = append(units, u)
		}
		listID = last
	}
	if len(units) == 0 {
		return clip(plainText(hits[0].Text), extractChars), hits[0]
	}
	weights := scoreUnits(units, cands, q, cues, question)

	best := -1
	for i, u := range units {
		if best < 0 || u.score > units[best].score {
			best = i
		}
	}
	if units[best].score <= 0 {
		return opening(units, cands), hits[0]
	}
	used = cands[units[best].chunk].hit
	// Only the chosen article is quoted.
	var art []unit
	for _, u := range units {
		if cands[u.chunk].hit.ArticleID == used.ArticleID {
			art = append(art, u)
		}
	}
	slices.SortStableFunc(art, func(a, b unit) int {
		return cmp.Or(cmp.Compare(cands[a.chunk].hit.Position, cands[b.chunk].hit.Position), cmp.Compare(a.seq, b.seq))
	})
	bestIdx := slices.IndexFunc(art, func(u unit) bool { return u.chunk == units[best].chunk && u.seq == units[best].seq })
	numbers := make([]bool, len(q))
	for j, t := range q {
		numbers[j] = isDigits(strings.TrimRight(t.word, "stndrh"))
	}
	pick := selectUnits(art, bestIdx, weights, cues, numbers)
	return render(art, pick), used
}

// scoreUnits scores each unit against the question and returns the terms' weights: rarer
// terms among the candidates weigh more (idf), the unit's heading and title count at a
// discount, a unit with the kind of fact asked for gains, and earlier units win ties.
func scoreUnits(units []unit, cands []candidate, q []qterm, cues [numCues]bool, question string) []float64 {
	heads := make([][]float64, len(cands))
	negHeads := make([]bool, len(cands))
	for i, c := range cands {
		negHeads[i] = slices.ContainsFunc(txt.Words(strings.Join(c.hit.HeadingPath, " ")), func(w string) bool { return negations[w] })
		hv, tv := cachedVocab(strings.Join(c.hit.HeadingPath, " ")), cachedVocab(c.hit.Title)
		heads[i] = make([]float64, len(q))
		for j, t := range q {
			heads[i][j] = max(headingWeight*hv.match(t), 0.25*tv.match(t))
		}
	}
	df := make([]int, len(q))
	for i := range units {
		units[i].classify(cues)
		v := units[i].vocab
		units[i].match = make([]float64, len(q))
		for j, t := range q {
			m := v.match(t)
			if m > 0 && isDigits(t.word) && !sameAmount(question, units[i].text, t.word) {
				m = 0 // "8 months with you" is not "£8 per month"
			}
			if m == 0 && inRange(units[i].text, t.word) {
				m = 1 // "10 months into my contract": the row "7 to 12 months"
			}
			if m > 0 {
				units[i].match[j] = m
				df[j]++
			}
		}
	}
	weights := make([]float64, len(q))
	for j := range q {
		weights[j] = 1 + math.Log(float64(len(units)+1)/float64(df[j]+1))
	}
	for i := range units {
		u := &units[i]
		s, matched := 0.0, 0.0
		u.head = heads[u.chunk]
		u.negHead = negHeads[u.chunk]
		for j := range q {
			m := max(u.match[j], heads[u.chunk][j])
			s += weights[j] * m
			matched += u.match[j]
		}
		if s > 0 {
			for c := range numCues {
				if cues[c] && u.satisfies(cue(c)) {
					s += cueBonus
				}
			}
			if cues[cuePermission] && u.rule() {
				s += cueBonus / 2
			}
			if cues[cueSteps] && u.step && u.list != 0 && !u.table {
				// A procedure is usually a list of steps, more than a lone imperative sentence.
				s += cueBonus / 2
			}
			if cues[cuePermission] && u.exception() && !cues[cueSteps] {
				s -= cueBonus / 2
			}
			if matched == 0 {
				// Only the heading matches: the unit is on topic but says nothing asked for.
				s *= 0.6
			}
		}
		if c := cands[u.chunk].hit; c.Position == 0 && len(c.HeadingPath) == 0 && anyCue(cues) && !satisfiesAny(*u, cues) {
			// An article's opening restates its topic in the question's words; asked for a
			// kind of fact it does not state, a section that does is the likelier answer.
			s *= openingNoCue
		}
		prior := cands[u.chunk].prior
		if prior < 1 && anyCue(cues) && !satisfiesAny(*u, cues) {
			prior *= otherArticleNoCue
		}
		u.score = s*prior - 0.01*float64(u.seq)
	}
	return weights
}

// sameAmount reports whether text states the number n as the question does: a sum of money
// ("£8") only matches a sum, and a count only a count.
func sameAmount(question, text, n string) bool {
	if qMoney, _ := numberKinds(question, n); qMoney {
		money, _ := numberKinds(text, n)
		return money
	}
	_, plain := numberKinds(text, n)
	return plain
}

// numberKinds reports whether s has the whole number n as a sum of money (after a currency
// sign) and as a plain number.
func numberKinds(s, n string) (money, plain bool) {
	for i := 0; ; {
		j := strings.Index(s[i:], n)
		if j < 0 {
			return money, plain
		}
		j += i
		end := j + len(n)
		i = end
		before, _ := utf8.DecodeLastRuneInString(s[:j])
		if before == ' ' && j > 1 {
			if r, _ := utf8.DecodeLastRuneInString(s[:j-1]); strings.ContainsRune(currencySigns, r) {
				before = r
			}
		}
		after, _ := utf8.DecodeRuneInString(s[end:])
		if j > 0 && (unicode.IsDigit(before) || before == '.' || before == ',') || end < len(s) && unicode.IsDigit(after) {
			continue
		}
		if j > 0 && strings.ContainsRune(currencySigns, before) || currencyAfter.MatchString(s[end:]) {
			money = true
		} else {
			plain = true
		}
	}
}

const currencySigns = "£€$¥"

// currencyAfter is a currency named after a sum: "50 euros", "20 quid".
var currencyAfter = regexp.MustCompile(`^\s?(?i:euros?|eur|pounds?|quid|gbp|dollars?|usd|p)\b`)

// numberRange is a range of numbers: "7 to 12", "1–6", "from the 1st to the 28th", "between 3 and 5".
var numberRange = regexp.MustCompile(`(\d+)(?:st|nd|rd|th)?\s*(?:to|–|-|and)\s*(?:the\s+)?(\d+)(?:st|nd|rd|th)?\b`)

// inRange reports whether text states a range of numbers that includes the number n.
func inRange(text, n string) bool {
	if !strings.ContainsAny(text, digits) {
		return false
	}
	x, err := strconv.Atoi(strings.TrimRight(n, "stndrh"))
	if err != nil {
		return false
	}
	for _, m := range numberRange.FindAllStringSubmatch(text, -1) {
		lo, err1 := strconv.Atoi(m[1])
		hi, err2 := strconv.Atoi(m[2])
		if err1 == nil && err2 == nil && lo < hi && lo <= x && x <= hi {
			return true
		}
	}
	return false
}

func anyCue(cues [numCues]bool) bool { return slices.Contains(cues[:], true) }

func satisfiesAny(u unit, cues [numCues]bool) bool {
	for c := range numCues {
		if cues[c] && u.satisfies(cue(c)) {
			return true
		}
	}
	return false
}

// headingWeight is what a question term in a unit's heading counts, against 1 in the unit:
// a section whose heading asks the question ("The tracking link doesn't work") answers it.
const headingWeight = 0.8

// cueBonus is what having the kind of fact asked for is worth: about one content word.
const cueBonus = 1.2

// selectUnits picks the units to quote from one article's units (in order), starting with the
// best: its context when it is a fragment or lead-in, then units that cover question terms not
// yet covered or give a kind of fact still missing.
func selectUnits(art []unit, best int, weights []float64, cues [numCues]bool, numbers []bool) []int {
	picked := map[int]bool{}
	n := 0 // sentences picked, a list counting once
	chars := 0
	covered := make([]float64, len(weights))
	lists := map[int]bool{}
	add := func(i int) bool {
		if picked[i] {
			return true
		}
		l := utf8.RuneCountInString(art[i].text)
		grouped := art[i].list != 0 && lists[art[i].list]
		if len(picked) > 0 && (chars+l > extractChars || !grouped && n >= extractSentences) {
			return false
		}
		picked[i] = true
		chars += l + 1
		if !grouped {
			n++
		}
		if art[i].list != 0 {
			lists[art[i].list] = true
		}
		for j, m := range art[i].match {
			covered[j] = max(covered[j], m, art[i].head[j])
		}
		return true
	}
	add(best)
	b := art[best]
	sameChunk := func(i int) bool { return i >= 0 && i < len(art) && art[i].chunk == b.chunk }
	// A lead-in or a fragment needs what follows; a sentence opening with "It" or "This" needs
	// what it refers to.
	if (b.lead || utf8.RuneCountInString(b.text) < 60) && sameChunk(best+1) {
		add(best + 1)
	}
	if anaphora.MatchString(b.text) && sameChunk(best-1) && art[best-1].list == 0 {
		add(best - 1)
	}
	// A section whose heading asks the question ("The tracking link doesn't work") answers it
	// from its start.
	if first := sectionStart(art, best); first < best && headingCovers(b, weights) {
		add(first)
	}
	// A list item comes with its lead-in; instructions come with all their steps.
	if b.list != 0 {
		for i := best - 1; i >= 0 && art[i].chunk == b.chunk; i-- {
			if art[i].list != b.list {
				if art[i].lead {
					add(i)
				}
				break
			}
			if cues[cueSteps] {
				add(i)
			}
		}
		if cues[cueSteps] {
			for i := best + 1; i < len(art) && art[i].list == b.list; i++ {
				add(i)
			}
		}
	}
	if b.lead {
		// The list or table after a lead-in: its items that match, or its first ones.
		var items []int
		for i := best + 1; i < len(art) && art[i].chunk == b.chunk && art[i].list != 0 && art[i].list == art[best+1].list; i++ {
			items = append(items, i)
		}
		any := false
		for _, i := range items {
			if slices.ContainsFunc(art[i].match, func(m float64) bool { return m > 0 }) {
				any = true
				add(i)
			}
		}
		if !any || cues[cueSteps] {
			for _, i := range items {
				add(i)
			}
		}
	}
	// Rule before exceptions: for "can I…" quote the rule; quote an exception only when it
	// names something the question asks about that the rule does not ("can I return
	// swimwear?"), and then after the rule.
	if cues[cuePermission] {
		// The rule may come from another section only when the best is in a section of
		// exceptions ("Items that can't be returned"); otherwise the best's section has the
		// rule that matters.
		r := -1
		for i, u := range art {
			if u.rule() && overlap(u.match) > 0 && (u.chunk == b.chunk || b.negHead) && (r < 0 || u.score > art[r].score) {
				r = i
			}
		}
		if r >= 0 && add(r) {
			for i := range picked {
				if i != r && art[i].exception() && !addsTerm(art[i].match, art[r].match, weights) {
					delete(picked, i)
				}
			}
			x := -1
			for i, u := range art {
				if !picked[i] && u.exception() && addsTerm(u.match, covered, weights) && (x < 0 || u.score > art[x].score) {
					x = i
				}
			}
			if x >= 0 {
				add(x)
			}
		}
	}
	// The kind of fact asked for must be there: if nothing picked states it, the unit of the
	// article that states it and matches the question best ("is there a cheaper deal?" about
	// the eligible benefits: add the price).
	for c := range numCues {
		if !cues[c] || cue(c) == cueSteps || cue(c) == cuePermission || pickedSatisfies(art, picked, cue(c)) {
			continue
		}
		x := -1
		for i, u := range art {
			if !picked[i] && u.score > 0 && u.satisfies(cue(c)) && (x < 0 || u.score > art[x].score) {
				x = i
			}
		}
		if x >= 0 {
			add(x)
		}
	}
	// Then whatever covers what is still missing.
	for {
		bestGain, next := 0.0, -1
		for i, u := range art {
			if picked[i] {
				continue
			}
			gain := 0.0
			for j, m := range u.match {
				if m > covered[j] {
					gain += weights[j] * (m - covered[j])
				}
			}
			if gain == 0 {
				continue
			}
			if u.chunk != b.chunk && !matchesNumber(u.match, numbers) {
				// A number the question names ("10 months") is as specific in any section.
				gain *= otherSectionGain
			}
			for c := range numCues {
				if cues[c] && u.satisfies(cue(c)) && !pickedSatisfies(art, picked, cue(c)) {
					gain += cueBonus
				}
			}
			if gain > bestGain {
				bestGain, next = gain, i
			}
		}
		if next < 0 || bestGain < minGain(weights) || !add(next) {
			break
		}
	}
	// A lone short sentence reads better with the next one of its section.
	if n == 1 && chars < 160 {
		switch {
		case sameChunk(best+1) && art[best+1].list == 0:
			add(best + 1)
		}
	}
	// A condition comes with its alternative: "free after 12 months" with "Otherwise there's a
	// £45 fee".
	for _, i := range slices.Sorted(maps.Keys(picked)) {
		if i+1 < len(art) && art[i+1].chunk == art[i].chunk && !picked[i+1] && alternative.MatchString(art[i+1].text) {
			add(i + 1)
		}
	}
	// Room left: the sentences right around the quote in its section that share a question
	// word are its likeliest context ("Each QR code can only be used once." after "request a
	// new QR code"), the one after first.
	for lo, hi := best, best; n < extractSentences; {
		for lo > 0 && picked[lo-1] {
			lo--
		}
		for hi+1 < len(art) && picked[hi+1] {
			hi++
		}
		// An exception to the rule quoted for "can I…" stays out (see above).
		context := func(i int) bool {
			return sameChunk(i) && overlap(art[i].match) > 0 && !(cues[cuePermission] && art[i].exception())
		}
		next := -1
		switch {
		case context(hi + 1):
			next = hi + 1
		case context(lo - 1):
			next = lo - 1
		}
		if next < 0 || !add(next) {
			break
		}
	}
	out := make([]int, 0, len(picked))
	for i := range picked {
		out = append(out, i)
	}
	slices.Sort(out)
	return out
}

func sectionStart(art []unit, i int) int {
	for i > 0 && art[i-1].chunk == art[i].chunk {
		i--
	}
	return i
}

// headingCovers reports whether the unit's heading holds at least half the question's weight.
func headingCovers(u unit, weights []float64) bool {
	h, all := 0.0, 0.0
	for j, w := range weights {
		all += w
		if u.head[j] >= headingWeight {
			h += w
		}
	}
	return all > 0 && h >= all/2
}

// otherSectionGain discounts what a sentence from another section of the article adds: the
// best sentence's own section is its likeliest context.
const otherSectionGain = 0.5

// minGain is how much a further sentence must add: a full content word of average weight,
// so that a sentence sharing one common word with the question is not quoted.
func minGain(weights []float64) float64 {
	if len(weights) == 0 {
		return math.Inf(1)
	}
	s := 0.0
	for _, w := range weights {
		s += w
	}
	return max(1.5, s/float64(len(weights)))
}

// matchesNumber reports whether a unit matches one of the question's numbers.
func matchesNumber(match []float64, numbers []bool) bool {
	for j, m := range match {
		if m > 0 && numbers[j] {
			return true
		}
	}
	return false
}

func overlap(match []float64) float64 {
	s := 0.0
	for _, m := range match {
		s += m
	}
	return s
}

// addsTerm reports whether a matches a question term (of some weight) that b does not.
func addsTerm(a, b []float64, weights []float64) bool {
	for j := range a {
		if a[j] > 0 && b[j] == 0 && weights[j] > 1 {
			return true
		}
	}
	return false
}

func pickedSatisfies(art []unit, picked map[int]bool, c cue) bool {
	for i := range picked {
		if art[i].satisfies(c) {
			return true
		}
	}
	return false
}

// render joins the picked units in order: items of one list follow their lead-in separated by
// "; ", table rows and sentences by spaces.
func render(art []unit, pick []int) string {
	var b strings.Builder
	for k, i := range pick {
		u := art[i]
		inList := k > 0 && u.list != 0 && !u.table && art[pick[k-1]].list == u.list
		switch {
		case k == 0:
		case inList:
			b.WriteString("; ")
		default:
			b.WriteString(" ")
		}
		t := u.text
		if u.list != 0 && !u.table && !inList {
			t = dropStepFragment(t)
		}
		if u.list != 0 && !u.table {
			t = strings.TrimRight(t, ".;")
			if inList {
				t = lowerFirst(t)
			}
			last := k == len(pick)-1 || art[pick[k+1]].list != u.list
			if last {
				t += "."
			}
		}
		b.WriteString(t)
	}
	return clip(b.String(), extractChars+100)
}

// dropStepFragment drops the opening of a step quoted without the steps before it when it is
// a fragment of a word or two ("Confirm. Most upgrades take effect within 24 hours"): it only
// reads as the end of the steps.
func dropStepFragment(item string) string {
	ss := sentences(item)
	if len(ss) < 2 || len(txt.Words(ss[0])) > 2 {
		return item
	}
	return strings.Join(ss[1:], " ")
}

// lowerFirst lower-cases a list item's first letter when it continues a sentence, unless the
// word is an acronym or a name-like word in capitals ("PayPal", "EU").
func lowerFirst(s string) string {
	r, n := utf8.DecodeRuneInString(s)
	if n == 0 || !unicode.IsUpper(r) {
		return s
	}
	w, _, _ := strings.Cut(s, " ")
	for _, c := range w[n:] {
		if unicode.IsUpper(c) {
			return s
		}
	}
	return string(unicode.ToLower(r)) + s[n:]
}

// opening is the top chunk's first sentences, for a question nothing matches.
func opening(units []unit, cands []candidate) string {
	var parts []string
	n := 0
	for _, u := range units {
		if u.chunk != 0 || len(parts) == 2 || len(parts) > 0 && n+len(u.text) > extractChars {
			break
		}
		parts = append(parts, u.text)
		n += len(u.text) + 1
	}
	if len(parts) == 0 {
		return clip(plainText(cands[0].hit.Text), extractChars)
	}
	return strings.Join(parts, " ")
}

// chunkUnits splits a chunk's Markdown into units: paragraphs into sentences, each list item
// and each table row on its own (rows as "Header value: value" text). listID numbers lists
// across chunks.
// parseChunk is chunkUnits with each unit analysed: what a chunk's text alone tells.
func parseChunk(md string) []unit {
	listID := 0
	us := chunkUnits(md, &listID)
	for i := range us {
		us[i].analyse()
	}
	return slices.Clip(us)
}

func chunkUnits(md string, listID *int) []unit {
	var out []unit
	var para []string
	flush := func() {
		if len(para) == 0 {
			return
		}
		for _, s := range sentences(mdInline(strings.Join(para, "\n"))) {
			out = append(out, newUnit(s, 0, false))
		}
		para = nil
	}
	lines := strings.Split(md, "\n")
	inList := false
	for i := 0; i < len(lines); i++ {
		line := strings.TrimSpace(lines[i])
		switch {
		case line == "" || mdFence.MatchString(line) || thematic.MatchString(line):
			flush()
			inList = false
		case isTableLine(line):
			flush()
			j := i
			for j < len(lines) && isTableLine(strings.TrimSpace(lines[j])) {
				j++
			}
			*listID++
			for _, r := range tableRows(lines[i:j]) {
				u := newUnit(r, *listID, false)
				u.table = true
				out = append(out, u)
			}
			i = j - 1
			inList = false
		case mdListItem.MatchString(lines[i]):
			flush()
			if !inList {
				*listID++
				inList = true
			}
			item := mdInline(strings.TrimSpace(mdListItem.ReplaceAllString(line, "")))
			if item != "" {
				out = append(out, newUnit(item, *listID, true))
			}
		case inList && strings.HasPrefix(lines[i], " "):
			// A list item's continuation line.
			out[len(out)-1].text += " " + mdInline(line)
		default:
			inList = false
			if strings.HasPrefix(line, "#") {
				line = mdHeading.ReplaceAllString(line, "")
			}
			para = append(para, line)
		}
	}
	flush()
	for i := range out {
		out[i].seq = i
	}
	return out
}

func newUnit(s string, list int, item bool) unit {
	s = strings.TrimSpace(s)
	first, _, _ := strings.Cut(s, " ")
	w := txt.Words(first)
	return unit{text: s, list: list, lead: strings.HasSuffix(s, ":"),
		step: item || strings.Contains(s, "→") || len(w) > 0 && instructionVerbs[w[0]] && unicode.IsUpper([]rune(s)[0])}
}

// mdInline strips inline Markdown: links keep their text and address, emphasis its text.
func mdInline(s string) string {
	if strings.Contains(s, "](") {
		s = mdLink.ReplaceAllString(s, "$1 ($2)")
	}
	if strings.Contains(s, "**") || strings.Contains(s, "__") {
		s = mdEmphasis.ReplaceAllString(s, "$2")
	}
	return s
}

var tableSep = regexp.MustCompile(`^\|?\s*:?-{2,}:?\s*(\|\s*:?-{2,}:?\s*)*\|?$`)

// isTableLine reports a Markdown table row (or its separator row): a line starting with a pipe,
// or with at least two unescaped pipes.
func isTableLine(line string) bool {
	return strings.HasPrefix(line, "|") && strings.Count(line, "|") >= 2 || tableSep.MatchString(line) && strings.Contains(line, "|")
}

func tableCells(line string) []string {
	line = strings.TrimSpace(line)
	line = strings.TrimPrefix(line, "|")
	line = strings.TrimSuffix(line, "|")
	cells := strings.Split(line, "|")
	for i, c := range cells {
		cells[i] = strings.TrimSpace(mdInline(c))
	}
	return cells
}

// tableRows turns a Markdown table into one readable sentence per row: with a header row,
// "Header1 value1: value2" for two columns and "Header1 value1: Header2 value2, Header3
// value3" for more; without one, the cells joined by commas. The separator row is dropped.
func tableRows(lines []string) []string {
	var header []string
	var rows [][]string
	for i, l := range lines {
		l = strings.TrimSpace(l)
		if tableSep.MatchString(l) {
			if i == 1 && len(rows) == 1 {
				header, rows = rows[0], nil
			}
			continue
		}
		rows = append(rows, tableCells(l))
	}
	var out []string
	for _, r := range rows {
		var parts []string
		for j, c := range r {
			if c == "" {
				continue
			}
			h := ""
			if j < len(header) && (j == 0 || len(r) > 2) {
				h = header[j]
			}
			// "Zone 1" under "Zone" stays "Zone 1", not "Zone zone 1".
			if h != "" && !strings.HasPrefix(strings.ToLower(c), strings.ToLower(h)) {
				if j > 0 {
					c = lowerFirst(h) + " " + c // "countries Spain, Italy"
				} else {
					c = h + " " + lowerFirst(c)
				}
			}
			parts = append(parts, c)
		}
		if len(parts) == 0 {
			continue
		}
		// Columns are separated by semicolons: a cell may itself be a list ("EU countries,
		// Norway, Iceland").
		s := parts[0]
		if len(parts) > 1 {
			s += ": " + strings.Join(parts[1:], "; ")
		}
		if !strings.ContainsAny(s[len(s)-1:], ".!?") {
			s += "."
		}
		out = append(out, s)
	}
	return out
}
