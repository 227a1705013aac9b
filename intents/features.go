package intents

import (
	"math"
	"strings"
	"unicode"
)

// Features are hashed word unigrams and bigrams plus character 2-5-grams inside word
// boundaries. Character n-grams carry typos, plurals and unseen inflections ("refunded",
// "refnd"); hashing keeps the model free of a stored vocabulary of strings.

const (
	nsWord   = 'w'
	nsBigram = 'b'
	nsChar   = 'c'
)

const (
	fnvOffset = 14695981039346656037
	fnvPrime  = 1099511628211
)

type feat struct {
	id  uint64
	val float32
}

// tokens lower-cases text and splits it into words of letters and digits; every run of digits
// becomes "0" so that order numbers and amounts share features.
func tokens(text string) []string {
	var out []string
	var b strings.Builder
	flush := func() {
		if b.Len() > 0 {
			out = append(out, b.String())
			b.Reset()
		}
	}
	prevDigit := false
	for _, r := range text {
		switch {
		case unicode.IsDigit(r):
			if !prevDigit {
				b.WriteByte('0')
			}
			prevDigit = true
			continue
		case unicode.IsLetter(r):
			b.WriteRune(unicode.ToLower(r))
		case r == '\'' || r == '’':
			// "don't" and "dont" are the same word to customers.
		default:
			flush()
		}
		prevDigit = false
	}
	flush()
	return out
}

func hashString(ns byte, s string) uint64 {
	h := uint64(fnvOffset)
	h ^= uint64(ns)
	h *= fnvPrime
	for i := 0; i < len(s); i++ {
		h ^= uint64(s[i])
		h *= fnvPrime
	}
	return h
}

func hashPair(a, b string) uint64 {
	h := hashString(nsBigram, a)
	h ^= ' '
	h *= fnvPrime
	for i := 0; i < len(b); i++ {
		h ^= uint64(b[i])
		h *= fnvPrime
	}
	return h
}

// rawFeatures returns feature ids with raw counts.
func rawFeatures(text string) map[uint64]float32 {
	toks := tokens(text)
	m := make(map[uint64]float32, len(toks)*16)
	for i, t := range toks {
		m[hashString(nsWord, t)]++
		if i > 0 {
			m[hashPair(toks[i-1], t)]++
		}
		padded := []rune(" " + t + " ")
		for n := 2; n <= 5; n++ {
			for j := 0; j+n <= len(padded); j++ {
				if n == 2 && len(padded) > 4 && j > 0 && j+n < len(padded) {
					// Interior bigrams are noise; keep only word-edge ones.
					continue
				}
				m[hashString(nsChar, string(padded[j:j+n]))]++
			}
		}
	}
	return m
}

// vectorize turns raw counts into a unit-length sublinear tf-idf vector. Features the model has
// never seen still count towards the norm (with the highest idf), so text full of unknown words
// scores lower, which helps out-of-scope detection.
func vectorize(raw map[uint64]float32, idf func(uint64) (float32, bool), unseen float32) []feat {
	out := make([]feat, 0, len(raw))
	var norm float64
	for id, c := range raw {
		w, ok := idf(id)
		if !ok {
			w = unseen
		}
		v := (1 + float32(math.Log(float64(c)))) * w
		norm += float64(v) * float64(v)
		if ok {
			out = append(out, feat{id, v})
		}
	}
	if norm == 0 {
		return out
	}
	inv := float32(1 / math.Sqrt(norm))
	for i := range out {
		out[i].val *= inv
	}
	return out
}
