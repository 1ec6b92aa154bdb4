package auth

import (
	"sync"
	"time"

	"github.com/confab-chat/confab/internal/ratelimit"
)

// The sign-in lockout policy (Cognito's adaptive lockout, OWASP's
// authentication cheat sheet): failures lock the pair (account, client
// address), not the account, so guessing from other addresses cannot lock
// the owner out. Failures of an account from all addresses together
// throttle it instead: after Config.LoginFailures within
// Config.LockoutWindow, each further failure refuses the account for a
// delay that starts at a second and doubles up to LockoutWindow, but only
// to addresses the account has not signed in from (known addresses,
// remembered for Config.RefreshTTL). The owner at a known address with
// the right password always passes; the owner at a new address waits at
// most LockoutWindow. Failures per address, over all accounts, still lock
// the address (password spraying from one host).

// firstThrottle is the first delay of a throttled account.
const firstThrottle = time.Second

// signInKeys are the limiter keys of one sign-in attempt.
type signInKeys struct {
	acct string // "acct:<userId>", or "login:<login>" for an unknown login
	pair string // acct + the client address: the lockout key
	addr string // "addr:" + ratelimit.AddrKey: all accounts from one address
}

func newSignInKeys(acct, clientAddr string) signInKeys {
	a := ratelimit.AddrKey(clientAddr)
	return signInKeys{acct: acct, pair: "pair:" + acct + "|" + a, addr: "addr:" + a}
}

// lockedOut refuses an attempt whose (account, address) pair is locked,
// or whose account is throttled and the address is not one it signed in
// from. It is checked before any password work.
func (s *Service) lockedOut(k signInKeys) error {
	if blocked, d := s.failures.blocked(k.pair); blocked {
		return limited("Too many failed sign-in attempts.", d)
	}
	if s.known.has(k.pair) {
		return nil
	}
	if blocked, d := s.throttle.blocked(k.acct); blocked {
		return limited("Too many failed sign-in attempts for this account; try again later, or from a device you have signed in from before.", d)
	}
	return nil
}

// failed counts a failed sign-in.
func (s *Service) failed(k signInKeys, clientAddr string) {
	s.failures.hit(k.pair)
	s.throttle.hit(k.acct)
	if clientAddr != "" {
		s.failures.hit(k.addr)
	}
}

// succeeded clears the pair's count (past lockouts still lengthen the next
// ones) and remembers the address as known. The account's throttle stays:
// the owner's sign-ins must not hand a guesser fresh attempts.
func (s *Service) succeeded(k signInKeys) {
	s.failures.reset(k.pair)
	s.known.add(k.pair)
}

// knownAddrs remembers the (account, address) pairs that signed in
// successfully, for ttl after the last success. It is bounded like the
// limiter (maxLimiterKeys; expired entries go first, then an arbitrary
// half), and kept per node: a node that has not seen an account's sign-in
// treats its addresses as new.
type knownAddrs struct {
	ttl time.Duration
	now func() time.Time

	mu   sync.Mutex
	seen map[string]time.Time // guarded by mu: pair key → last success
}

func newKnownAddrs(ttl time.Duration, now func() time.Time) *knownAddrs {
	return &knownAddrs{ttl: ttl, now: now, seen: make(map[string]time.Time)}
}

func (k *knownAddrs) has(key string) bool {
	k.mu.Lock()
	defer k.mu.Unlock()
	t, ok := k.seen[key]
	return ok && k.now().Sub(t) < k.ttl
}

func (k *knownAddrs) add(key string) {
	k.mu.Lock()
	defer k.mu.Unlock()
	now := k.now()
	if _, ok := k.seen[key]; !ok && len(k.seen) >= maxLimiterKeys {
		for key, t := range k.seen {
			if now.Sub(t) >= k.ttl {
				delete(k.seen, key)
			}
		}
		for key := range k.seen { // map order is random: drop an arbitrary half
			if len(k.seen) < maxLimiterKeys/2 {
				break
			}
			delete(k.seen, key)
		}
	}
	k.seen[key] = now
}
