package auth

import (
	"context"
	"crypto/rsa"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/confab-chat/confab"
	"github.com/confab-chat/confab/internal/ratelimit"
)

// The defaults of the settings an operator may change (cmd/confab's flags
// show them); a zero Config field stands for its default.
const (
	DefaultAccessTTL        = time.Hour
	DefaultSignupsPerMinute = 30
	DefaultLoginsPerMinute  = 60
)

// Config configures the Service. Zero values mean the defaults beside each
// field, filled in by New (the one place defaults live).
type Config struct {
	Issuer   string // token iss, and the base of jwks_uri; default "http://localhost:8080"
	ClientID string // token aud (id) and client_id (access); default "confab"
	// KeyFile is the RSA signing key (PEM, PKCS#1 or PKCS#8, at least 2048
	// bits). When missing it is created (2048 bits, mode 0600); nodes that
	// verify each other's tokens share one file. Required.
	KeyFile    string
	AccessTTL  time.Duration // id and access tokens; default 1 h
	RefreshTTL time.Duration // refresh tokens, renewed on each rotation; default 30 days
	Policy     PasswordPolicy
	// LoginFailures is how many failed sign-ins of one account from one
	// client address, or from one address over all accounts, lock sign-in
	// for that pair or address. The failures count within LockoutWindow;
	// the lockout lasts one window, doubling on each repeat up to a day.
	// As many failures of an account from all addresses throttle it for
	// addresses it has not signed in from: a delay from 1 s doubling up to
	// LockoutWindow (lockout.go says the whole policy). Default 5 in 15
	// minutes; negative disables.
	LoginFailures int
	LockoutWindow time.Duration
	// SignupsPerMinute bounds sign-ups per client address; the next one is
	// refused with CodeLimited. Default 30; negative disables (load tests,
	// which sign up thousands of users from one address). Sign-ups with no
	// client address (the CLI, demo data) are never limited.
	SignupsPerMinute int
	// LoginsPerMinute bounds sign-in attempts, successful or not, per
	// client address (a token bucket holding a minute's worth): each costs
	// a password hash, so this bounds the CPU one address can take.
	// Default 60; negative disables. Over it is CodeLimited with the wait.
	LoginsPerMinute int
	// RevocationCheck is how long a verified token is trusted from the
	// cache before its sign-in is looked up again in the store: a sign-out
	// on another node reaches this one within it (on this node at once).
	// Default 1 minute.
	RevocationCheck time.Duration
	// UserPoolID names the Cognito user pool confab stands in for, like
	// "local_confab": the part after "_" is the SRP pool name, part of
	// every SRP verifier, so it must stay fixed once verifiers exist
	// (protocols.md §4.5, §4.6). Default "local_confab".
	UserPoolID string
	// DisableSRP turns SRP sign-in off: no verifiers are stored (a new
	// password removes the old one) and USER_SRP_AUTH is refused. An SRP
	// verifier is a fast salted hash of the password, weaker against
	// offline guessing than argon2id (protocols.md §4.6).
	DisableSRP bool
	// Mailer sends confirmation and password-reset codes. Nil: sign-ups
	// are confirmed at once and ForgotPassword sends nothing.
	Mailer Mailer
	// CodeTTL is how long an e-mailed code stays valid; default 1 hour.
	CodeTTL time.Duration
	// CodeAttempts is how many wrong entries a code survives; the next
	// wrong one destroys it. Default 5.
	CodeAttempts int
	// Now is the clock; default time.Now. A clock in the past issues tokens
	// that are already expired, which is how tests mint them.
	Now func() time.Time
	// Workspace is the workspace this service signs up, signs in and
	// verifies for (its zero value: the default workspace). Its tokens
	// carry the claim custom:workspace = Workspace.ID; the issuer tells
	// the workspaces apart (cmd/confab gives each its own, <default
	// issuer>/w/<id>), so a token is valid in one workspace only.
	// Workspace.Signup is the sign-up policy.
	Workspace confab.Workspace
	// InvitationKey signs and checks the workspace's invitation tokens
	// (sign-up policy "invitation").
	InvitationKey []byte
}

// withDefaults returns cfg with every zero value replaced by its default.
func (cfg Config) withDefaults() Config {
	if cfg.Issuer == "" {
		cfg.Issuer = "http://localhost:8080"
	}
	cfg.Issuer = strings.TrimSuffix(cfg.Issuer, "/")
	if cfg.ClientID == "" {
		cfg.ClientID = "confab"
	}
	if cfg.AccessTTL <= 0 {
		cfg.AccessTTL = DefaultAccessTTL
	}
	if cfg.RefreshTTL <= 0 {
		cfg.RefreshTTL = 30 * 24 * time.Hour
	}
	if cfg.Policy == (PasswordPolicy{}) {
		cfg.Policy = DefaultPasswordPolicy
	}
	if cfg.LoginFailures == 0 {
		cfg.LoginFailures = 5
	}
	if cfg.LockoutWindow <= 0 {
		cfg.LockoutWindow = 15 * time.Minute
	}
	if cfg.SignupsPerMinute == 0 {
		cfg.SignupsPerMinute = DefaultSignupsPerMinute
	}
	if cfg.LoginsPerMinute == 0 {
		cfg.LoginsPerMinute = DefaultLoginsPerMinute
	}
	if cfg.RevocationCheck <= 0 {
		cfg.RevocationCheck = time.Minute
	}
	if cfg.UserPoolID == "" {
		cfg.UserPoolID = "local_confab"
	}
	if cfg.CodeTTL <= 0 {
		cfg.CodeTTL = time.Hour
	}
	if cfg.CodeAttempts <= 0 {
		cfg.CodeAttempts = 5
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return cfg
}

// Service implements accounts and tokens. It is safe for concurrent use and
// starts no goroutines.
type Service struct {
	store     confab.Store
	cfg       Config
	key       *rsa.PrivateKey
	kid       string
	now       func() time.Time
	cache     *tokenCache
	failures  *limiter         // failed sign-ins, by signInKeys.pair and .addr (lockout.go)
	throttle  *limiter         // failed sign-ins, by signInKeys.acct (lockout.go)
	known     *knownAddrs      // signInKeys.pair of successful sign-ins
	signups   *limiter         // sign-ups, by "addr:"+ratelimit.AddrKey
	mails     *limiter         // codes mailed, by "mail:<userId>"
	logins    *ratelimit.Keyed // sign-in attempts, by ratelimit.AddrKey; nil when unlimited
	argon     argonParams      // cost of new hashes: owaspArgon (tests lower it)
	hashing   chan struct{}    // one slot per password hash in progress (each holds 19 MiB)
	dummyHash string           // hash with argon's cost, checked for unknown users so timing reveals nothing
	sealKey   []byte           // AEAD key of sessions and SRP secret blocks, derived from the signing key

	hooksMu  sync.Mutex
	onRevoke []func(userID string) // guarded by hooksMu; see OnRevoke
	peers    *peerLink             // guarded by hooksMu; nil until ShareRevocations
}

// ClientID returns the app client id tokens are issued for.
func (s *Service) ClientID() string { return s.cfg.ClientID }

// UserPoolID returns the user pool id (Config.UserPoolID).
func (s *Service) UserPoolID() string { return s.cfg.UserPoolID }

// SRPEnabled reports whether SRP sign-in is on (Config.DisableSRP).
func (s *Service) SRPEnabled() bool { return !s.cfg.DisableSRP }

// MailEnabled reports whether codes are e-mailed (Config.Mailer), that is
// whether sign-ups wait for a confirmation code.
func (s *Service) MailEnabled() bool { return s.cfg.Mailer != nil }

// OnRevoke registers f to run after a user's sign-ins were revoked
// (sign-out everywhere, a revoked refresh token, a disabled or deleted
// account), with that user's id: the server closes the user's live
// WebSockets with it. f runs on the revoking caller's goroutine and must
// not block.
func (s *Service) OnRevoke(f func(userID string)) {
	s.hooksMu.Lock()
	defer s.hooksMu.Unlock()
	s.onRevoke = append(s.onRevoke, f)
}

// revoked runs after userID's sign-ins were revoked in the store and
// dropped from this node's cache: it runs the hooks here and tells the
// other nodes (ShareRevocations).
func (s *Service) revoked(ctx context.Context, userID string) {
	s.runHooks(userID)
	s.publishRevocation(ctx, userID)
}

func (s *Service) runHooks(userID string) {
	s.hooksMu.Lock()
	hooks := s.onRevoke
	s.hooksMu.Unlock()
	for _, f := range hooks {
		f(userID)
	}
}

// Tokens is what sign-in and refresh return.
type Tokens struct {
	IDToken      string `json:"idToken"`
	AccessToken  string `json:"accessToken"`
	RefreshToken string `json:"refreshToken"`
	ExpiresIn    int    `json:"expiresIn"` // seconds
	TokenType    string `json:"tokenType"` // "Bearer"
}

// SignUpInput is a new account. Username and DisplayName are optional;
// Invitation is the invitation token a workspace with the sign-up policy
// "invitation" asks for (signup.go).
type SignUpInput struct {
	Email, Password, Username, DisplayName string
	Invitation                             string
}

// New returns a Service, loading the signing key from cfg.KeyFile or
// creating it there.
func New(store confab.Store, cfg Config) (*Service, error) {
	if cfg.KeyFile == "" {
		return nil, errors.New("auth: Config.KeyFile is required")
	}
	cfg = cfg.withDefaults()
	if i := strings.IndexByte(cfg.UserPoolID, '_'); i < 0 || i == len(cfg.UserPoolID)-1 {
		return nil, fmt.Errorf("auth: Config.UserPoolID %q must be <region>_<name>", cfg.UserPoolID)
	}
	ws, err := signupWorkspace(cfg.Workspace, cfg.InvitationKey)
	if err != nil {
		return nil, err
	}
	cfg.Workspace = ws
	key, err := loadOrCreateKey(cfg.KeyFile)
	if err != nil {
		return nil, err
	}
	return &Service{
		store:     store,
		cfg:       cfg,
		key:       key,
		kid:       keyID(&key.PublicKey),
		now:       cfg.Now,
		cache:     newTokenCache(maxCachedTokens),
		failures:  newLimiter(cfg.LoginFailures, cfg.LockoutWindow, cfg.Now),
		throttle:  newLimiter(cfg.LoginFailures, cfg.LockoutWindow, cfg.Now).throttling(firstThrottle, cfg.LockoutWindow),
		known:     newKnownAddrs(cfg.RefreshTTL, cfg.Now),
		signups:   newLimiter(cfg.SignupsPerMinute, time.Minute, cfg.Now),
		mails:     newLimiter(mailsPerHour, time.Hour, cfg.Now),
		logins:    ratelimit.New(float64(cfg.LoginsPerMinute)/60, cfg.LoginsPerMinute).WithClock(cfg.Now),
		argon:     owaspArgon,
		hashing:   make(chan struct{}, max(2, runtime.GOMAXPROCS(0))),
		dummyHash: owaspArgon.hash("confab-dummy-password"),
		sealKey:   deriveSealKey(key),
	}, nil
}

// hash and check run the password hash with at most cap(s.hashing) at once:
// argon2id holds 19 MiB for each, so a burst of sign-ins waits here instead
// of exhausting memory. A caller that gives up while waiting gets
// CodeUnavailable.
func (s *Service) hash(ctx context.Context, pw string) (string, error) {
	if err := s.acquireHashing(ctx); err != nil {
		return "", err
	}
	defer func() { <-s.hashing }()
	return s.argon.hash(pw), nil
}

func (s *Service) check(ctx context.Context, pw, hash string) (bool, error) {
	if err := s.acquireHashing(ctx); err != nil {
		return false, err
	}
	defer func() { <-s.hashing }()
	return checkPassword(pw, hash), nil
}

func (s *Service) acquireHashing(ctx context.Context) error {
	select {
	case s.hashing <- struct{}{}:
		return nil
	case <-ctx.Done():
		return &confab.Error{Code: confab.CodeUnavailable, Message: "The service is busy. Try again.", Op: "auth.hash", Err: ctx.Err()}
	}
}

func limited(msg string, d time.Duration) error {
	return confab.Limited(d, "%s", msg)
}
