package auth

import (
	"sync"
	"time"

	"github.com/confab-chat/confab"
)

// maxCachedTokens bounds the verified-token cache: about 150 bytes an
// entry, so 100k tokens take some 15 MB. Beyond it the oldest entries go.
const maxCachedTokens = 100_000

// tokenCache remembers verified tokens, keyed by the SHA-256 of the token,
// until they expire, so that a request costs a hash and a map lookup rather
// than an RSA verification. Only tokens that passed verification enter, so
// garbage cannot fill it. It is bounded: keys are also kept in insertion
// order in a ring, and when the ring is full the oldest entry is evicted
// (tokens of one service share a lifetime, so the oldest inserted is about
// the first to expire).
type tokenCache struct {
	mu      sync.Mutex
	entries map[[32]byte]confab.Identity // guarded by mu
	ring    [][32]byte                   // guarded by mu; insertion order, len = capacity
	next    int                          // guarded by mu; ring slot of the next insertion
	full    bool                         // guarded by mu; the ring has wrapped
}

func newTokenCache(capacity int) *tokenCache {
	return &tokenCache{entries: make(map[[32]byte]confab.Identity), ring: make([][32]byte, capacity)}
}

// get returns the identity cached for key, if it has not expired at now.
func (c *tokenCache) get(key [32]byte, now time.Time) (confab.Identity, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	id, ok := c.entries[key]
	if !ok {
		return confab.Identity{}, false
	}
	if !now.Before(id.ExpiresAt) {
		delete(c.entries, key)
		return confab.Identity{}, false
	}
	return id, true
}

// put caches id under key, evicting the oldest entry when full.
func (c *tokenCache) put(key [32]byte, id confab.Identity) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.entries[key]; ok {
		return // a concurrent verification of the same token got here first
	}
	if c.full {
		delete(c.entries, c.ring[c.next])
	}
	c.ring[c.next] = key
	c.entries[key] = id
	if c.next++; c.next == len(c.ring) {
		c.next, c.full = 0, true
	}
}

// len returns the number of cached entries, expired ones included.
func (c *tokenCache) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.entries)
}

// reset empties the cache.
func (c *tokenCache) reset() {
	c.mu.Lock()
	defer c.mu.Unlock()
	clear(c.entries)
	c.next, c.full = 0, false
}
