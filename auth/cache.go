package auth

import (
	"sync"
	"time"

	"github.com/confab-chat/confab"
)

// maxCachedTokens bounds the verified-token cache: about 200 bytes an
// entry, so 100k tokens take some 20 MB. Beyond it the oldest entries go.
const maxCachedTokens = 100_000

// cacheEntry is what a verified token proved.
type cacheEntry struct {
	id      confab.Identity
	origin  string    // origin_jti: the refresh-token family it was minted from
	use     string    // token_use: "id" or "access"
	checked time.Time // when the family was last found not revoked
}

// tokenCache remembers verified tokens, keyed by the SHA-256 of the token,
// until they expire, so that a request costs a hash and a map lookup rather
// than an RSA verification. Only tokens that passed verification enter, so
// garbage cannot fill it. It is bounded: keys are also kept in insertion
// order in a ring, and when the ring is full the oldest entry is evicted
// (tokens of one service share a lifetime, so the oldest inserted is about
// the first to expire).
type tokenCache struct {
	mu      sync.Mutex
	entries map[[32]byte]cacheEntry // guarded by mu
	ring    [][32]byte              // guarded by mu; insertion order, len = capacity
	next    int                     // guarded by mu; ring slot of the next insertion
	full    bool                    // guarded by mu; the ring has wrapped
}

func newTokenCache(capacity int) *tokenCache {
	return &tokenCache{entries: make(map[[32]byte]cacheEntry), ring: make([][32]byte, capacity)}
}

// get returns the entry cached for key, if its token has not expired at now.
func (c *tokenCache) get(key [32]byte, now time.Time) (cacheEntry, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[key]
	if !ok {
		return cacheEntry{}, false
	}
	if !now.Before(e.id.ExpiresAt) {
		delete(c.entries, key)
		return cacheEntry{}, false
	}
	return e, true
}

// put caches e under key, evicting the oldest entry when full.
func (c *tokenCache) put(key [32]byte, e cacheEntry) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.entries[key]; ok {
		return // a concurrent verification of the same token got here first
	}
	if c.full {
		delete(c.entries, c.ring[c.next])
	}
	c.ring[c.next] = key
	c.entries[key] = e
	if c.next++; c.next == len(c.ring) {
		c.next, c.full = 0, true
	}
}

// update replaces the entry of key if it is still cached.
func (c *tokenCache) update(key [32]byte, e cacheEntry) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.entries[key]; ok {
		c.entries[key] = e
	}
}

// drop removes every entry for which match is true: the tokens of a
// revoked sign-in or user, which must be verified (and refused) afresh. It
// scans the whole cache, which revocations, being rare, can afford. Their
// ring slots stay and are reused in turn.
func (c *tokenCache) drop(match func(cacheEntry) bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for k, e := range c.entries {
		if match(e) {
			delete(c.entries, k)
		}
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
