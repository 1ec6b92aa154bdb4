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
	"strings"
	"time"
	"unicode/utf8"

	"github.com/confab-chat/confab"
	"github.com/google/uuid"
)

// Config configures the Service. Zero values mean the defaults beside each
// field, filled in by New.
type Config struct {
	Issuer   string // token iss; default "http://localhost:8080"
	ClientID string // token aud / client_id; default "confab"
	// KeyFile is the RSA signing key (PEM); created if missing. Required.
	KeyFile    string
	AccessTTL  time.Duration // id and access tokens; default 1 h
	RefreshTTL time.Duration // refresh tokens; default 30 days
	Policy     PasswordPolicy
	// LoginFailures is how many failed sign-ins per account, and per client
	// address, are allowed within LockoutWindow before sign-in is refused
	// for a lockout that doubles each time (up to a day). Default 5 and 15
	// minutes; negative disables.
	LoginFailures int
	LockoutWindow time.Duration
	// SignupsPerMinute bounds sign-ups per client address. Default 30;
	// negative disables (load tests).
	SignupsPerMinute int
	Now              func() time.Time
}

// Service implements accounts and tokens. It is safe for concurrent use.
type Service struct {
	store     confab.Store
	cfg       Config
	key       *rsa.PrivateKey
	kid       string
	now       func() time.Time
	cache     *tokenCache
	failures  *limiter // failed sign-ins, by "acct:<login>" and "addr:<ip>"
	signups   *limiter // sign-ups by client address
	dummyHash string   // checked for unknown users so timing reveals nothing
}

// Tokens is what sign-in and refresh return.
type Tokens struct {
	IDToken      string `json:"idToken"`
	AccessToken  string `json:"accessToken"`
	RefreshToken string `json:"refreshToken"`
	ExpiresIn    int    `json:"expiresIn"`
	TokenType    string `json:"tokenType"`
}

// SignUpInput is a new account.
type SignUpInput struct {
	Email, Password, Username, DisplayName string
}

// New returns a Service, loading or creating the signing key.
func New(store confab.Store, cfg Config) (*Service, error) {
	if cfg.KeyFile == "" {
		return nil, errors.New("auth: Config.KeyFile is required")
	}
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
		cache:     &tokenCache{entries: make(map[[32]byte]confab.Identity), max: 100_000},
		failures:  newLimiter(cfg.LoginFailures, cfg.LockoutWindow, cfg.Now),
		signups:   newLimiter(cfg.SignupsPerMinute, time.Minute, cfg.Now),
		dummyHash: hashPassword("confab-dummy-password"),
	}, nil
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

// SignUp creates a confirmed account. The username defaults to the email
// address; the email is stored lowercased.
func (s *Service) SignUp(ctx context.Context, in SignUpInput, clientAddr string) (*confab.User, error) {
	if clientAddr != "" {
		key := "addr:" + clientAddr
		if blocked, d := s.signups.blocked(key); blocked {
			return nil, limited("Too many sign-ups from this address.", d)
		}
		if over, d := s.signups.hit(key); over {
			return nil, limited("Too many sign-ups from this address.", d)
		}
	}
	email := strings.ToLower(strings.TrimSpace(in.Email))
	if a, err := mail.ParseAddress(email); err != nil || a.Address != email || len(email) > confab.MaxEmailBytes {
		return nil, confab.Errorf(confab.CodeInvalid, "A valid email address is required.")
	}
	username := strings.TrimSpace(in.Username)
	if username == "" {
		username = email
	}
	if !validUsername(username) {
		return nil, confab.Errorf(confab.CodeInvalid, "A username is 1 to %d letters, digits and . _ - @ +.", confab.MaxUsernameBytes)
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
	u := confab.User{UserID: uuid.NewString(), Username: username, Email: email, DisplayName: display, CreatedAt: s.now().UTC().Truncate(time.Millisecond)}
	if err := s.store.InsertAccount(ctx, &confab.Account{User: u, PasswordHash: hashPassword(in.Password)}); err != nil {
		if confab.ErrorCode(err) == confab.CodeConflict {
			return nil, &confab.Error{Code: confab.CodeConflict, Message: "An account with the given email or username already exists.", Err: err}
		}
		return nil, err
	}
	return &u, nil
}

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

var errBadLogin = confab.Errorf(confab.CodeUnauthenticated, "Incorrect username or password.")

// Login checks a password and issues tokens. Unknown users and wrong
// passwords get the same answer after the same work. Failures count per
// account and per client address; beyond the limit sign-in is refused with
// RATE_LIMITED until the lockout ends.
func (s *Service) Login(ctx context.Context, login, password, clientAddr string) (*Tokens, error) {
	acctKey := "acct:" + strings.ToLower(strings.TrimSpace(login))
	addrKey := "addr:" + clientAddr
	for _, k := range []string{acctKey, addrKey} {
		if blocked, d := s.failures.blocked(k); blocked {
			return nil, limited("Too many failed sign-in attempts.", d)
		}
	}
	if login == "" || len(login) > confab.MaxEmailBytes || len(password) > 1024 {
		return nil, errBadLogin
	}
	a, err := s.store.GetAccountByLogin(ctx, strings.TrimSpace(login))
	if err != nil && confab.ErrorCode(err) != confab.CodeNotFound {
		return nil, err
	}
	hash := s.dummyHash
	if a != nil {
		hash = a.PasswordHash
	}
	if !checkPassword(password, hash) || a == nil || a.Disabled {
		s.failures.hit(acctKey)
		if clientAddr != "" {
			s.failures.hit(addrKey)
		}
		return nil, errBadLogin
	}
	s.failures.reset(acctKey)
	now := s.now()
	family := uuid.NewString()
	refresh, rt := s.newRefreshToken(a.User.UserID, family, now)
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

// Refresh exchanges a refresh token for new tokens and a new refresh
// token. A token that was already used means it was stolen or replayed: its
// whole family is revoked.
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
