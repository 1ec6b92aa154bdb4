package auth

import (
	"sync"
	"time"
)

// limiter counts events per key in a sliding window and refuses a key with
// too many, with a lockout that doubles on each repeat (up to maxLockout).
// Memory is bounded: at most maxKeys keys; expired ones are swept as new ones
// arrive, and when full the oldest half is dropped.
type limiter struct {
	max    int           // events allowed per window; <= 0 disables
	window time.Duration // counting window
	now    func() time.Time

	mu   sync.Mutex
	keys map[string]*limitEntry // guarded by mu
}

type limitEntry struct {
	first       time.Time // start of the current window
	count       int
	lockedUntil time.Time
	lockouts    int // consecutive lockouts: the next one lasts window × 2^lockouts
	seen        time.Time
}

const (
	maxLimiterKeys = 100_000
	maxLockout     = 24 * time.Hour
)

func newLimiter(max int, window time.Duration, now func() time.Time) *limiter {
	return &limiter{max: max, window: window, now: now, keys: make(map[string]*limitEntry)}
}

// blocked reports whether key is locked out, and for how long.
func (l *limiter) blocked(key string) (bool, time.Duration) {
	if l.max <= 0 {
		return false, 0
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	e, ok := l.keys[key]
	now := l.now()
	if !ok || !now.Before(e.lockedUntil) {
		return false, 0
	}
	return true, e.lockedUntil.Sub(now)
}

// hit counts one event for key; it reports a lockout when this event
// exceeds the limit.
func (l *limiter) hit(key string) (bool, time.Duration) {
	if l.max <= 0 {
		return false, 0
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	e, ok := l.keys[key]
	if !ok {
		l.makeRoom(now)
		e = &limitEntry{first: now}
		l.keys[key] = e
	}
	e.seen = now
	if now.Sub(e.first) > l.window {
		e.first, e.count = now, 0
	}
	e.count++
	if e.count > l.max {
		d := l.window << min(e.lockouts, 10)
		if d > maxLockout {
			d = maxLockout
		}
		e.lockouts++
		e.lockedUntil = now.Add(d)
		e.first, e.count = now, 0
		return true, d
	}
	return false, 0
}

// reset forgets key (after a successful login).
func (l *limiter) reset(key string) {
	l.mu.Lock()
	delete(l.keys, key)
	l.mu.Unlock()
}

// makeRoom keeps the map bounded. Callers hold mu.
func (l *limiter) makeRoom(now time.Time) {
	if len(l.keys) < maxLimiterKeys {
		return
	}
	for k, e := range l.keys {
		if now.Sub(e.seen) > l.window && !now.Before(e.lockedUntil) {
			delete(l.keys, k)
		}
	}
	if len(l.keys) >= maxLimiterKeys {
		n := 0
		for k := range l.keys { // map order is random: drop an arbitrary half
			delete(l.keys, k)
			if n++; n >= maxLimiterKeys/2 {
				break
			}
		}
	}
}
