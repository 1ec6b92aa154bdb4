// Package ratelimit limits the rate of events per key (a user, an address)
// with one token bucket per key and a bounded number of keys.
package ratelimit

import (
	"net"
	"net/netip"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// DefaultMaxKeys bounds the keys a Keyed tracks (about 150 bytes each).
const DefaultMaxKeys = 100_000

// Keyed is a token bucket per key: each key may have burst events at once
// and perSecond on average. It is safe for concurrent use. A nil *Keyed
// allows everything.
//
// Memory is bounded by maxKeys. When full, keys whose bucket is full again
// (idle for burst/perSecond) are forgotten first, which changes nothing for
// them; if that is not enough, an arbitrary half is dropped: a client that
// can fill the table only resets buckets, the price of bounded memory.
type Keyed struct {
	limit   rate.Limit
	burst   int
	maxKeys int
	now     func() time.Time

	mu   sync.Mutex
	keys map[string]*rate.Limiter // guarded by mu
}

// New returns a Keyed allowing perSecond events per key on average with
// bursts of burst (at least 1). perSecond <= 0 means unlimited: New returns
// nil, which allows everything.
func New(perSecond float64, burst int) *Keyed {
	if perSecond <= 0 {
		return nil
	}
	return &Keyed{
		limit:   rate.Limit(perSecond),
		burst:   max(1, burst),
		maxKeys: DefaultMaxKeys,
		now:     time.Now,
		keys:    make(map[string]*rate.Limiter),
	}
}

// WithClock sets the time source (tests) and returns k.
func (k *Keyed) WithClock(now func() time.Time) *Keyed {
	if k == nil {
		return nil
	}
	k.now = now
	return k
}

// Allow takes one token from key's bucket. When the bucket is empty it
// takes nothing and reports how long until a token is available.
func (k *Keyed) Allow(key string) (ok bool, retryAfter time.Duration) {
	if k == nil {
		return true, 0
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	now := k.now()
	l, found := k.keys[key]
	if !found {
		k.makeRoom(now)
		l = rate.NewLimiter(k.limit, k.burst)
		k.keys[key] = l
	}
	r := l.ReserveN(now, 1)
	if d := r.DelayFrom(now); d > 0 {
		r.CancelAt(now)
		return false, d
	}
	return true, 0
}

// Len returns the number of keys tracked.
func (k *Keyed) Len() int {
	if k == nil {
		return 0
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	return len(k.keys)
}

// makeRoom keeps the map under maxKeys. Callers hold mu.
func (k *Keyed) makeRoom(now time.Time) {
	if len(k.keys) < k.maxKeys {
		return
	}
	for key, l := range k.keys {
		if l.TokensAt(now) >= float64(k.burst) {
			delete(k.keys, key)
		}
	}
	if len(k.keys) < k.maxKeys {
		return
	}
	n := 0
	for key := range k.keys { // map order is random: drop an arbitrary half
		delete(k.keys, key)
		if n++; n >= k.maxKeys/2 {
			break
		}
	}
}

// AddrKey is the key of a client address (an IP, or host:port): IPv4
// addresses count alone, IPv6 ones by their /64, the block one subscriber
// usually holds, so that rotating through it does not reset a limit.
// Anything unparsable is its own key.
func AddrKey(addr string) string {
	if host, _, err := net.SplitHostPort(addr); err == nil {
		addr = host
	}
	a, err := netip.ParseAddr(addr)
	if err != nil {
		return addr
	}
	a = a.Unmap()
	if a.Is6() {
		if p, err := a.WithZone("").Prefix(64); err == nil {
			return p.String()
		}
	}
	return a.String()
}
