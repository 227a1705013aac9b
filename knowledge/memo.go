package knowledge

import "sync"

// memo remembers what is worked out from a text alone (its vocabulary, its answer units), so a
// chunk quoted again — the common case: a help centre's popular articles — costs a map lookup,
// not parsing. It is bounded: when full it starts over, which keeps the hot entries cheap to
// rebuild and memory flat whatever the knowledge base's size.
type memo[V any] struct {
	mu  sync.Mutex
	m   map[string]V
	max int
}

func newMemo[V any](max int) *memo[V] { return &memo[V]{m: map[string]V{}, max: max} }

// get returns f(key), computed once while the entry stays; f must be a pure function of key.
func (c *memo[V]) get(key string, f func(string) V) V {
	c.mu.Lock()
	v, ok := c.m[key]
	c.mu.Unlock()
	if ok {
		return v
	}
	v = f(key)
	c.mu.Lock()
	if len(c.m) >= c.max {
		clear(c.m)
	}
	c.m[key] = v
	c.mu.Unlock()
	return v
}

var (
	// vocabs holds the vocabulary of chunk texts, headings and titles.
	vocabs = newMemo[vocab](8192)
	// parsedChunks holds a chunk's units with what they state, before any question is asked.
	parsedChunks = newMemo[[]unit](4096)
)

func cachedVocab(text string) vocab { return vocabs.get(text, newVocab) }
