package auth

import (
	"sync"
	"time"
)

// limiter counts events per key in a fixed window and locks a key out once
// it has max events in one window. The lockout lasts one window the first
// time (or what throttling says) and doubles on each repeat, capped at
// maxLockout (or throttling's cap); the doubling is forgotten once a key
// has been quiet for maxLockout.
//
// Memory is bounded: at most maxLimiterKeys keys. When full, keys that are
// quiet and not locked are swept first; if that is not enough, an arbitrary
// half is dropped (an attacker who can fill the table only resets counters,
// the cost of keeping the process's memory bounded).
type limiter struct {
	max     int           // events allowed per window; <= 0 disables the limiter
	window  time.Duration // counting window
	lockout time.Duration // first lockout; default window
	longest time.Duration // cap of the doubling; default maxLockout
	each    bool          // after a lockout, each further event in the window locks again (withLockout)
	now     func() time.Time

	mu   sync.Mutex
	keys map[string]*limitEntry // guarded by mu
}

type limitEntry struct {
	first       time.Time // start of the current window
	count       int       // events in the current window
	lockedUntil time.Time
	lockouts    int       // lockouts so far: the next lasts window × 2^lockouts
	seen        time.Time // last event
}

const (
	maxLimiterKeys = 100_000        // keys per limiter; about 100 bytes each
	maxLockout     = 24 * time.Hour // longest lockout, and the quiet time that forgets past ones
)

func newLimiter(max int, window time.Duration, now func() time.Time) *limiter {
	return &limiter{max: max, window: window, lockout: window, longest: maxLockout, now: now, keys: make(map[string]*limitEntry)}
}

// throttling makes l a throttle rather than a lockout: the first lockout
// lasts first, and once a key was locked, each further event within a
// window of the last one locks it again, twice as long, up to longest.
func (l *limiter) throttling(first, longest time.Duration) *limiter {
	l.lockout, l.longest, l.each = first, longest, true
	return l
}

// blocked reports whether key is locked out, and for how much longer.
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

// hit counts one event for key. When this is the max-th event of the
// window, key is locked out and hit reports for how long.
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
	if now.Sub(e.seen) > maxLockout && !now.Before(e.lockedUntil) {
		e.lockouts = 0
	}
	e.seen = now
	if now.Sub(e.first) >= l.window {
		e.first, e.count = now, 0
	}
	e.count++
	if e.count < l.max {
		return false, 0
	}
	d := l.lockout
	for i := 0; i < e.lockouts && d < l.longest; i++ {
		d *= 2
	}
	d = min(d, l.longest)
	e.lockouts++
	e.lockedUntil = now.Add(d)
	e.first, e.count = now, 0
	if l.each {
		e.count = l.max - 1
	}
	return true, d
}

// reset clears key's count (after a successful sign-in). Past lockouts
// still lengthen the next one until the key has been quiet for maxLockout,
// so a victim's sign-in between an attacker's rounds does not shorten them.
func (l *limiter) reset(key string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if e, ok := l.keys[key]; ok {
		e.count = 0
	}
}

// makeRoom keeps the map bounded. Callers hold mu.
func (l *limiter) makeRoom(now time.Time) {
	if len(l.keys) < maxLimiterKeys {
		return
	}
	for k, e := range l.keys {
		if now.Sub(e.seen) >= l.window && !now.Before(e.lockedUntil) {
			delete(l.keys, k)
		}
	}
	if len(l.keys) < maxLimiterKeys {
		return
	}
	n := 0
	for k := range l.keys { // map order is random: drop an arbitrary half
		delete(l.keys, k)
		if n++; n >= maxLimiterKeys/2 {
			break
		}
	}
}
