// Package sentiment scores customer messages from -1 (angry) to 1 (delighted) with a label, and
// keeps a conversation trend. It is offline and deterministic: VADER's lexicon and rules
// (negation, intensifiers, punctuation and capitals, emoji) extended with customer-service
// knowledge, since complaints are often negative without a negative word ("still waiting",
// "charged twice", "nobody answers").
package sentiment

import (
	"math"
	"regexp"
	"strings"
	"sync"

	"github.com/jonreiter/govader"
)

// Labels.
const (
	Negative = "negative"
	Neutral  = "neutral"
	Positive = "positive"
)

// Result is the sentiment of one message.
type Result struct {
	Score float64 `json:"score"`
	Label string  `json:"label"`
}

// Label cut-offs on the score, chosen on VADER's MIT-licensed ground truth (tweets and Amazon
// review snippets, dev halves): gold classes from the raters' mean on -4..4 with |mean| <= 0.5
// as neutral, cut-offs maximising macro-F1 (see `baton eval sentiment --fit-thresholds`).
const (
	NegativeBelow = -0.10
	PositiveAbove = 0.10
)

// LabelFor maps a score to a label with the package cut-offs.
func LabelFor(score float64) string {
	switch {
	case score < NegativeBelow:
		return Negative
	case score > PositiveAbove:
		return Positive
	}
	return Neutral
}

// csLexicon adjusts VADER's general-purpose lexicon for messages to customer service. Words
// that are positive in general but are request markers here ("please help") are neutralised;
// service-failure words get the weight a complaint carries. Written for Baton, not fitted to
// any dataset.
var csLexicon = map[string]float64{
	// Request markers, not praise.
	"help": 0, "helping": 0, "please": 0, "pls": 0, "plz": 0, "kindly": 0, "want": 0,
	"like": 0, "ok": 0, "okay": 0, "yes": 0, "sure": 0, "hope": 0, "hoping": 0,
	"joke": -1.5, "jokes": -1.5, // "what a joke"
	// Names of things in a shop, not feelings: customer support/care, credit card, free
	// shipping, gift card, reward points, interest rate; "cancel my order" is a request.
	"support": 0, "care": 0, "credit": 0, "free": 0, "gift": 0, "reward": 0, "rewards": 0,
	"interest": 0, "bonus": 0, "special": 0, "secure": 0, "save": 0, "share": 0, "cancel": 0,
	"pouting": -2.0, // VADER describes 😡 as "pouting face"
	// Service failures.
	"delayed": -1.6, "delay": -1.4, "delays": -1.4, "cancelled": -1.6, "canceled": -1.6,
	"cancellation": -0.8, "late": -1.2, "later": 0, "stuck": -1.6, "stranded": -2.2,
	"overbooked": -1.8, "overcharged": -2.3, "unresolved": -1.6, "unanswered": -1.6,
	"misplaced": -1.5, "unreachable": -1.5, "disconnected": -1.2, "rerouted": -0.8,
	"diverted": -0.8, "rebooked": -0.6, "incompetent": -2.4, "incompetence": -2.4,
	"unprofessional": -2.0, "unhelpful": -1.9, "useless": -2.0, "ripoff": -2.5,
	"scam": -2.6, "refused": -1.4, "refuses": -1.4, "declined": -1.0, "wrong": -1.6,
	"waiting": -0.6, "waited": -1.0, "nobody": -0.6, "ignoring": -1.6, "ignored": -1.6,
	"worse": -2.1, "smh": -1.5, "wtf": -2.0, "ugh": -1.6, "seriously": -0.4,
	"ridiculous": -2.0, "unacceptable": -2.4, "pathetic": -2.4, "fail": -2.0,
	"fails": -2.0, "failed": -1.8, "hung": -0.5, "rude": -2.2, "lied": -2.0,
	"lies": -1.8, "lying": -1.9, "excuse": -1.0, "excuses": -1.5, "issue": -0.6,
	"issues": -0.8, "problem": -1.5, "problems": -1.6, "complaint": -1.5,
	"complain": -1.5, "refund": -0.3, "broke": -1.6, "leaking": -1.4, "leaks": -1.2,
	"defective": -2.0, "faulty": -1.9, "missing": -1.4, "lost": -1.5,
}

type phrase struct {
	re      *regexp.Regexp
	valence float64
}

// csPhrases are complaint patterns with no negative word in them. Each match adds its valence
// to VADER's sum before normalisation, as one more lexicon word would.
var csPhrases = []phrase{
	{regexp.MustCompile(`\bstill (waiting|have ?n[o']t|has ?n[o']t|not|no|nothing|haven't|hasn't|don't|didn't|can't|cannot|unable)\b`), -2.0},
	{regexp.MustCompile(`\b(\d+|an?|one|two|three|four|five|six|several|few|many|multiple) (more )?(hours?|hrs?|days?|weeks?|months?) (late|delay(ed)?|wait(ing)?|on hold|and (still|counting|nothing)|now|later|ago and)\b`), -2.0},
	{regexp.MustCompile(`\b(late|delayed|waiting|wait(ed)?|on hold|stuck) (for |by )?(over |more than |almost |nearly )?(\d+|an?|one|two|three|four|five|six|several|few|many) (hours?|hrs?|days?|weeks?|months?|mins?|minutes)\b`), -2.0},
	{regexp.MustCompile(`\b(charged|billed|paid|debited) (me )?(twice|two times|double|three times|again|the wrong|too much|extra)\b|\bdouble[- ]charged\b`), -2.5},
	{regexp.MustCompile(`\b(no ?one|nobody|no body|no-one) (is )?(answer|respond|repl|help|pick|call|get|got|ever|seems|cares|knows|bothered)\w*`), -2.5},
	{regexp.MustCompile(`\bnever (received|arrived|got|came|showed|heard|responded|answered|replied|called|refunded|again|shipped|delivered)\b`), -2.5},
	{regexp.MustCompile(`\b(has ?n[o']t|have ?n[o']t|did ?n[o']t|has not|have not|did not|still not|not yet|is ?n[o']t|was ?n[o']t) (arrived|received|shipped|been|heard|gotten|got|come|showed|responded|answered|replied|refunded|delivered|resolved|fixed|working|work)\b`), -1.8},
	{regexp.MustCompile(`\b(wrong|missing|damaged|broken|defective|lost) (item|order|size|product|package|parcel|bag|bags|luggage|delivery|address|charge|amount)\b`), -1.5},
	{regexp.MustCompile(`\bon hold\b`), -1.5},
	{regexp.MustCompile(`\b(hung up|cut off|no (response|reply|answer|update|refund|help|one)|any update|what'?s (going on|the hold ?up|taking so long)|how (much )?longer)\b`), -1.8},
	{regexp.MustCompile(`\b(for the|this is the|it'?s the) (second|third|fourth|fifth|2nd|3rd|4th|5th|\d+th|umpteenth|nth) time\b|\b(again and again|yet again|once again)\b`), -2.0},
	{regexp.MustCompile(`\bwhy (is|isn't|isnt|hasn't|hasnt|haven't|havent|does|doesn't|doesnt|did|didn't|didnt|won't|wont|can't|cant|are|aren't|do|would|was)\b`), -1.0},
	{regexp.MustCompile(`\b(doesn't|does not|didn't|did not|won't|will not|can't|cannot|couldn't) (work|load|open|arrive|fit|respond|help|answer|let me|accept)\b`), -1.5},
	{regexp.MustCompile(`\bwaste of (time|money)\b|\bthanks for nothing\b|\bwhat a (joke|mess|nightmare)\b`), -2.5},
	{regexp.MustCompile(`\b(want|need|demand) (a|my) (refund|money back)\b|\bmoney back\b`), -1.2},
	// People mention durations to customer service mostly to say how long they have waited.
	{regexp.MustCompile(`\b(\d+|an?|one|two|three|four|five|six|several|few|many|multiple)\+? ?(more )?(hours?|hrs?|days?|weeks?|months?|mins?|minutes)\b`), -1.0},
	{regexp.MustCompile(`\b(can'?t|cannot|couldn'?t|unable to|impossible to|trying to|tried to) (get|reach|talk|speak|find|call|contact|log|sign|book|rebook|change|cancel|check)\b`), -1.5},
	// Broken promises, repeated failures, regret and churn threats.
	{regexp.MustCompile(`\b(was|were|is|are|am) supposed to\b|\bonly to (find|be told|get|have|learn|see)\b|\bexpected better\b`), -1.5},
	{regexp.MustCompile(`\b(been|keep|kept) (trying|calling|waiting|asking|emailing|chasing)\b|\bfor (hours|days|weeks|ages)\b`), -1.5},
	{regexp.MustCompile(`\b(last time i|never (again|flying|ordering|buying|using)|(switch|switching|move|moving) to (another|a different|your competitor)|take my business)\b`), -2.0},
	{regexp.MustCompile(`\b(how is (this|that) (ok|okay|acceptable|possible|fair)|do better|get it together|what happened to|where(?: is|'s) my)\b|\?\?|\?!|!\?`), -1.2},
	{regexp.MustCompile(`\bno (wifi|info|information|email|call|callback|notice|notification|explanation|apology|compensation|tracking|status|food|seat|seats|bag|bags|luggage|agent|agents|human|way)\b`), -1.5},
}

// formulas are polite set phrases whose words VADER would score ("good morning", "kind
// regards", "I'd love to know"); they are removed before scoring.
var formulas = regexp.MustCompile(`(?i)\b(good (morning|afternoon|evening|night|day)|(kind|best|warm) (regards|wishes)|(i'?d|i would|we'?d|we would) (like|love) to|the best way to|have a (nice|good|great) (day|one|weekend))\b`)

// gratitude words are formulas of politeness in a complaint ("thanks for nothing", "still no
// refund, thanks"): once a message reports a service failure they carry no sentiment.
var gratitude = []string{"thanks", "thank", "thx", "ty", "appreciate", "appreciated", "grateful"}

// failureWords mark a message as reporting a service failure.
var failureWords = regexp.MustCompile(`\b(supposed to|again|still|delay\w*|cancel+ed|late|lost|missing|broken|damaged|stuck|stranded|wrong|never|nobody|refund\w*|overbooked|overcharged|waiting|waited|complain\w*|problem\w*|issue\w*|unacceptable|ridiculous|worst|rude|terrible|horrible|awful|useless|fail\w*)\b`)

// requestWords mark a message that asks for something; thanks in it are politeness.
var requestWords = regexp.MustCompile(`\?|\b(can|could|would|will) (you|u|someone|somebody|anyone)\b|\b(please|pls|plz|need|how (do|can) i|is there|let me know)\b`)

// Analyzer variants by context: plain, a request (gratitude is politeness), and a reported
// service failure (gratitude is politeness and praise is mostly sarcasm or about something
// else, so it counts half).
const (
	ctxPlain = iota
	ctxRequest
	ctxFailure
)

var analyzers = sync.OnceValue(func() [3]*govader.SentimentIntensityAnalyzer {
	var out [3]*govader.SentimentIntensityAnalyzer
	for i := range out {
		a := govader.NewSentimentIntensityAnalyzer()
		for w, v := range csLexicon {
			a.Lexicon[w] = v
		}
		if i == ctxFailure {
			for w, v := range a.Lexicon {
				if v > 0 {
					a.Lexicon[w] = v / 2
				}
			}
		}
		if i != ctxPlain {
			for _, w := range gratitude {
				a.Lexicon[w] = 0
			}
		}
		out[i] = a
	}
	return out
})

// Score returns the sentiment of one customer message.
func Score(text string) Result {
	s := score(text)
	return Result{Score: s, Label: LabelFor(s)}
}

func score(text string) float64 {
	text = strings.TrimSpace(text)
	if text == "" {
		return 0
	}
	lower := strings.ToLower(text)
	extra := 0.0
	for _, p := range csPhrases {
		extra += p.valence * float64(len(p.re.FindAllStringIndex(lower, 2)))
	}
	a := analyzers()[ctxPlain]
	switch {
	case extra < 0 || failureWords.MatchString(lower):
		a = analyzers()[ctxFailure]
	case requestWords.MatchString(lower):
		a = analyzers()[ctxRequest]
	}
	s := a.PolarityScores(formulas.ReplaceAllString(text, " ")).Compound
	if extra == 0 {
		return s
	}
	// Fold phrase valences into VADER's normalised sum: invert its normalisation
	// x/sqrt(x²+15), add, and normalise again.
	s = math.Max(math.Min(s, 0.9999), -0.9999)
	sum := s * math.Sqrt(15/(1-s*s))
	sum += extra
	return sum / math.Sqrt(sum*sum+15)
}
