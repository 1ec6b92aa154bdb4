// Package auth is confab's account service, the part of the recipe that
// Cognito played: sign-up with a password policy, sign-in with argon2id
// hashes and lockout, RS256 id and access tokens shaped like Cognito's
// (protocols.md §4.1) with a JWKS, and opaque refresh tokens that rotate on
// use and revoke their family when an old one is replayed.
//
// It stores through confab.Store and never imports a concrete store, the
// chat service, graph or server.
package auth

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"net/mail"
	"runtime"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/confab-chat/confab"
	"github.com/google/uuid"
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
	// LoginFailures is how many failed sign-ins per account, and per client
	// address, lock sign-in for that account or address. The failures count
	// within LockoutWindow; the lockout lasts one window, doubling on each
	// repeat up to a day. Default 5 in 15 minutes; negative disables.
	LoginFailures int
	LockoutWindow time.Duration
	// SignupsPerMinute bounds sign-ups per client address; the next one is
	// refused with CodeLimited. Default 30; negative disables (load tests,
	// which sign up thousands of users from one address). Sign-ups with no
	// client address (the CLI, demo data) are never limited.
	SignupsPerMinute int
	// Now is the clock; default time.Now. A clock in the past issues tokens
	// that are already expired, which is how tests mint them.
	Now func() time.Time
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
		cfg.AccessTTL = time.Hour
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
		cfg.SignupsPerMinute = 30
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
	failures  *limiter      // failed sign-ins, by "acct:<userId>", "login:<login>" and addrKey
	signups   *limiter      // sign-ups, by addrKey
	argon     argonParams   // cost of new hashes: owaspArgon (tests lower it)
	hashing   chan struct{} // one slot per password hash in progress (each holds 19 MiB)
	dummyHash string        // hash with argon's cost, checked for unknown users so timing reveals nothing
}

// Tokens is what sign-in and refresh return.
type Tokens struct {
	IDToken      string `json:"idToken"`
	AccessToken  string `json:"accessToken"`
	RefreshToken string `json:"refreshToken"`
	ExpiresIn    int    `json:"expiresIn"` // seconds
	TokenType    string `json:"tokenType"` // "Bearer"
}

// SignUpInput is a new account. Username and DisplayName are optional.
type SignUpInput struct {
	Email, Password, Username, DisplayName string
}

// New returns a Service, loading the signing key from cfg.KeyFile or
// creating it there.
func New(store confab.Store, cfg Config) (*Service, error) {
	if cfg.KeyFile == "" {
		return nil, errors.New("auth: Config.KeyFile is required")
	}
	cfg = cfg.withDefaults()
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
		signups:   newLimiter(cfg.SignupsPerMinute, time.Minute, cfg.Now),
		argon:     owaspArgon,
		hashing:   make(chan struct{}, max(2, runtime.GOMAXPROCS(0))),
		dummyHash: owaspArgon.hash("confab-dummy-password"),
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

// RetryAfterError carries how long a rate-limited client should wait.
type RetryAfterError struct{ After time.Duration }

func (e *RetryAfterError) Error() string { return fmt.Sprintf("retry after %s", e.After) }

// RetryAfter returns the wait a CodeLimited error asks for, or 0.
func RetryAfter(err error) time.Duration {
	var e *RetryAfterError
	if errors.As(err, &e) {
		return e.After
	}
	return 0
}

func limited(msg string, d time.Duration) error {
	return &confab.Error{Code: confab.CodeLimited, Message: fmt.Sprintf("%s Try again in %d seconds.", msg, int(d.Seconds()+0.999)), Err: &RetryAfterError{After: d}}
}

// SignUp creates a confirmed account and its user record (a new UUID as
// userId). The email is stored lowercased; the username defaults to it. A
// username may contain "@" only when it is the user's own email, so nobody
// can take a name that reads as someone else's address. clientAddr, when
// not empty, counts against Config.SignupsPerMinute.
//
// Errors: CodeInvalid (IsPasswordPolicyError tells the password policy
// apart), CodeConflict when the email or username is taken, CodeLimited
// (RetryAfter says how long).
func (s *Service) SignUp(ctx context.Context, in SignUpInput, clientAddr string) (*confab.User, error) {
	if clientAddr != "" {
		key := addrKey(clientAddr)
		if blocked, d := s.signups.blocked(key); blocked {
			return nil, limited("Too many sign-ups from this address.", d)
		}
		s.signups.hit(key)
	}
	email, err := validEmail(in.Email)
	if err != nil {
		return nil, err
	}
	username := strings.TrimSpace(in.Username)
	if username == "" || strings.EqualFold(username, email) {
		username = email
	}
	if !validUsername(username) {
		return nil, confab.Errorf(confab.CodeInvalid, "A username is 1 to %d letters, digits and . _ - @ +.", confab.MaxUsernameBytes)
	}
	if strings.Contains(username, "@") && username != email {
		return nil, confab.Errorf(confab.CodeInvalid, "A username with @ must be your own email address.")
	}
	if err := s.cfg.Policy.Check(in.Password); err != nil {
		return nil, err
	}
	var display *string
	if d := strings.TrimSpace(in.DisplayName); d != "" {
		if !utf8.ValidString(d) || len(d) > confab.MaxDisplayNameBytes {
			return nil, confab.Errorf(confab.CodeInvalid, "displayName is valid UTF-8 of at most %d bytes.", confab.MaxDisplayNameBytes)
		}
		display = &d
	}
	hash, err := s.hash(ctx, in.Password)
	if err != nil {
		return nil, err
	}
	u := confab.User{UserID: uuid.NewString(), Username: username, Email: email, DisplayName: display, CreatedAt: s.now().UTC().Truncate(time.Millisecond)}
	if err := s.store.InsertAccount(ctx, &confab.Account{User: u, PasswordHash: hash}); err != nil {
		if confab.ErrorCode(err) == confab.CodeConflict {
			return nil, &confab.Error{Code: confab.CodeConflict, Message: "An account with the given email or username already exists.", Op: "auth.SignUp", Err: err}
		}
		return nil, err
	}
	return &u, nil
}

// validEmail returns the address lowercased, or CodeInvalid: a bare
// address (no display name, no comments) of at most MaxEmailBytes.
func validEmail(in string) (string, error) {
	email := strings.ToLower(strings.TrimSpace(in))
	if email == "" || len(email) > confab.MaxEmailBytes {
		return "", confab.Errorf(confab.CodeInvalid, "A valid email address is required.")
	}
	a, err := mail.ParseAddress(email)
	if err != nil || a.Name != "" || a.Address != email {
		return "", confab.Errorf(confab.CodeInvalid, "A valid email address is required.")
	}
	return email, nil
}

// validUsername reports whether u is 1 to MaxUsernameBytes ASCII letters,
// digits and . _ - @ +.
func validUsername(u string) bool {
	if u == "" || len(u) > confab.MaxUsernameBytes {
		return false
	}
	for _, r := range u {
		ok := r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("._-@+", r)
		if !ok {
			return false
		}
	}
	return true
}

// errBadLogin is the one answer to an unknown user, a wrong password and a
// disabled account, so accounts cannot be enumerated (Cognito's "prevent
// user existence errors", protocols.md §4.4).
var errBadLogin = confab.Errorf(confab.CodeUnauthenticated, "Incorrect username or password.")

// maxPasswordBytes bounds the password a sign-in hashes; longer ones cannot
// match any policy-conforming password anyway.
const maxPasswordBytes = 1024

// Login checks a password (login is an email address or a username) and
// issues tokens with a new refresh-token family. Unknown users, wrong
// passwords and disabled accounts get the same answer after the same work.
//
// Failures count per account and per client address (Config.LoginFailures
// within Config.LockoutWindow). A locked account or address is refused with
// CodeLimited, before any password check, until the lockout ends; a
// successful sign-in clears the account's count, not the address's.
func (s *Service) Login(ctx context.Context, login, password, clientAddr string) (*Tokens, error) {
	login = strings.TrimSpace(login)
	if login == "" || password == "" {
		return nil, confab.Errorf(confab.CodeInvalid, "A login and a password are required.")
	}
	addr := addrKey(clientAddr)
	if clientAddr != "" {
		if blocked, d := s.failures.blocked(addr); blocked {
			return nil, limited("Too many failed sign-in attempts.", d)
		}
	}
	var a *confab.Account
	if len(login) <= confab.MaxEmailBytes {
		var err error
		a, err = s.store.GetAccountByLogin(ctx, login)
		if err != nil && confab.ErrorCode(err) != confab.CodeNotFound {
			return nil, err
		}
	}
	// Count per account, whichever of its names was typed; an unknown
	// login counts under its own name.
	acct := "login:" + strings.ToLower(login)
	hash := s.dummyHash
	if a != nil {
		acct, hash = "acct:"+a.User.UserID, a.PasswordHash
	}
	if blocked, d := s.failures.blocked(acct); blocked {
		return nil, limited("Too many failed sign-in attempts.", d)
	}
	if len(password) > maxPasswordBytes {
		password = "" // still do the work of a check, which then fails
	}
	ok, err := s.check(ctx, password, hash)
	if err != nil {
		return nil, err
	}
	if !ok || password == "" || a == nil || a.Disabled {
		s.failures.hit(acct)
		if clientAddr != "" {
			s.failures.hit(addr)
		}
		return nil, errBadLogin
	}
	s.failures.reset(acct)
	now := s.now()
	refresh, rt := s.newRefreshToken(a.User.UserID, uuid.NewString(), now)
	if err := s.store.InsertRefreshToken(ctx, rt); err != nil {
		return nil, err
	}
	return s.tokens(&a.User, now, refresh)
}

func (s *Service) tokens(u *confab.User, authTime time.Time, refresh string) (*Tokens, error) {
	id, access, err := s.issue(u, authTime)
	if err != nil {
		return nil, err
	}
	return &Tokens{IDToken: id, AccessToken: access, RefreshToken: refresh, ExpiresIn: int(s.cfg.AccessTTL.Seconds()), TokenType: "Bearer"}, nil
}

func (s *Service) newRefreshToken(userID, family string, now time.Time) (string, *confab.RefreshToken) {
	b := make([]byte, 32)
	rand.Read(b) // never fails (crypto/rand documents it)
	tok := base64.RawURLEncoding.EncodeToString(b)
	return tok, &confab.RefreshToken{Hash: hashToken(tok), UserID: userID, FamilyID: family, CreatedAt: now.UTC().Truncate(time.Millisecond), ExpiresAt: now.Add(s.cfg.RefreshTTL).UTC().Truncate(time.Millisecond)}
}

func hashToken(tok string) string {
	sum := sha256.Sum256([]byte(tok))
	return hex.EncodeToString(sum[:])
}

var errBadRefresh = confab.Errorf(confab.CodeUnauthenticated, "Invalid refresh token.")

// Refresh exchanges a refresh token for new id and access tokens and a new
// refresh token of the same family (rotation; the new one lives RefreshTTL
// from now). A token that was already rotated means it was stolen or
// replayed: its whole family is revoked, and the answer is the same
// CodeUnauthenticated as for an unknown, expired or revoked token. Of two
// concurrent uses of one token exactly one succeeds (the store's
// RotateRefreshToken decides), and the other revokes the family.
// clientAddr is accepted for a future per-address limit; refresh tokens
// have 256 bits of entropy, so guessing them needs none today.
func (s *Service) Refresh(ctx context.Context, refreshToken, clientAddr string) (*Tokens, error) {
	if refreshToken == "" || len(refreshToken) > 256 {
		return nil, errBadRefresh
	}
	old, err := s.store.GetRefreshToken(ctx, hashToken(refreshToken))
	if confab.ErrorCode(err) == confab.CodeNotFound {
		return nil, errBadRefresh
	}
	if err != nil {
		return nil, err
	}
	now := s.now()
	switch {
	case old.Revoked || !now.Before(old.ExpiresAt):
		return nil, errBadRefresh
	case old.Used:
		if err := s.store.RevokeRefreshFamily(ctx, old.FamilyID); err != nil {
			return nil, err
		}
		return nil, errBadRefresh
	}
	refresh, next := s.newRefreshToken(old.UserID, old.FamilyID, now)
	if err := s.store.RotateRefreshToken(ctx, old.Hash, next); err != nil {
		if confab.ErrorCode(err) == confab.CodeConflict { // lost a race with another use: a replay
			if err := s.store.RevokeRefreshFamily(ctx, old.FamilyID); err != nil {
				return nil, err
			}
			return nil, errBadRefresh
		}
		return nil, err
	}
	u, err := s.store.GetUser(ctx, old.UserID)
	if err != nil {
		return nil, err
	}
	return s.tokens(u, now, refresh)
}

// Logout revokes the refresh token's family. An unknown token is not an
// error: the client is signed out either way.
func (s *Service) Logout(ctx context.Context, refreshToken string) error {
	if refreshToken == "" || len(refreshToken) > 256 {
		return nil
	}
	t, err := s.store.GetRefreshToken(ctx, hashToken(refreshToken))
	if confab.ErrorCode(err) == confab.CodeNotFound {
		return nil
	}
	if err != nil {
		return err
	}
	return s.store.RevokeRefreshFamily(ctx, t.FamilyID)
}
