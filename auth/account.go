package auth

import (
	"context"
	"net/mail"
	"strings"
	"time"

	"github.com/confab-chat/confab"
	"github.com/confab-chat/confab/internal/ratelimit"
	"github.com/google/uuid"
)

// SignUp creates a confirmed account and its user record (a new UUID as
// userId). The email is stored lowercased; the username defaults to it. A
// username may contain "@" only when it is the user's own email, so nobody
// can take a name that reads as someone else's address. clientAddr, when
// not empty, counts against Config.SignupsPerMinute.
//
// The workspace's sign-up policy applies (signup.go): in.Invitation is the
// invitation token it may ask for.
//
// Errors: CodeInvalid (IsPasswordPolicyError tells the password policy
// apart), CodeForbidden when the sign-up policy refuses, CodeConflict when
// the email or username is taken, CodeLimited (RetryAfter says how long).
func (s *Service) SignUp(ctx context.Context, in SignUpInput, clientAddr string) (*confab.User, error) {
	return s.signUp(ctx, in, clientAddr, bySelf, false)
}

// CreateAccount creates a confirmed account like SignUp, for an operator
// (the CLI's user create, demo data): the workspace's sign-up policy and
// the sign-up rate limit do not apply, and in.Invitation is ignored.
func (s *Service) CreateAccount(ctx context.Context, in SignUpInput) (*confab.User, error) {
	return s.signUp(ctx, in, "", byAdmin, false)
}

// signUpBy says who makes an account: the person (the workspace's sign-up
// policy applies, signup.go) or an administrator (it does not).
type signUpBy int

const (
	bySelf signUpBy = iota
	byAdmin
)

// signUp creates the account, unconfirmed when asked, with its SRP
// verifier when SRP is on.
func (s *Service) signUp(ctx context.Context, in SignUpInput, clientAddr string, by signUpBy, unconfirmed bool) (*confab.User, error) {
	if clientAddr != "" {
		key := "addr:" + ratelimit.AddrKey(clientAddr)
		if blocked, d := s.signups.blocked(key); blocked {
			return nil, limited("Too many sign-ups from this address.", d)
		}
		s.signups.hit(key)
	}
	email, err := validEmail(in.Email)
	if err != nil {
		return nil, err
	}
	if by == bySelf {
		if err := s.admit(email, in.Invitation); err != nil {
			return nil, err
		}
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
		if err := confab.CheckName("displayName", d, confab.MaxDisplayNameBytes); err != nil {
			return nil, err
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
	// A second write: should it fail, the account is there without a
	// verifier, and gets one at its next password sign-in.
	up := confab.CredentialsUpdate{UpdatedAt: u.CreatedAt}
	if unconfirmed {
		up.Unconfirmed = &unconfirmed
	}
	if s.SRPEnabled() {
		up.SRP = s.srpVerifier(u.UserID, in.Password)
	}
	if up.Unconfirmed != nil || up.SRP != nil {
		if err := s.store.UpdateCredentials(ctx, u.UserID, up); err != nil {
			return nil, err
		}
	}
	return &u, nil
}

// CurrentUser returns the user an access token was issued to (Cognito's
// GetUser).
func (s *Service) CurrentUser(ctx context.Context, accessToken string) (*confab.User, error) {
	id, err := s.VerifyAccess(accessToken)
	if err != nil {
		return nil, err
	}
	u, err := s.store.GetUser(ctx, id.UserID)
	if confab.ErrorCode(err) == confab.CodeNotFound {
		return nil, errRevoked
	}
	return u, err
}

// validEmail returns the address lowercased, or CodeInvalid: a bare
// address (no display name, no comments) of at most MaxEmailBytes.
func validEmail(in string) (string, error) {
	email := strings.ToLower(strings.TrimSpace(in))
	if email == "" || !confab.ValidText(email, confab.MaxEmailBytes) {
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
// issues tokens with a new refresh-token family: SignIn for clients that
// cannot answer a challenge (the /auth REST API). An account that must
// choose a new password first is refused (ReasonPasswordResetRequired).
func (s *Service) Login(ctx context.Context, login, password, clientAddr string) (*Tokens, error) {
	r, err := s.SignIn(ctx, login, password, clientAddr)
	if err != nil {
		return nil, err
	}
	if r.Tokens == nil {
		return nil, reasonError(confab.CodeUnauthenticated, ReasonPasswordResetRequired, "A new password must be set before signing in.")
	}
	return r.Tokens, nil
}

// checkLogin checks a password the way every password sign-in does, and
// returns the account. Unknown users, wrong passwords and disabled
// accounts get the same answer after the same work.
//
// Attempts from one client address are bounded by Config.LoginsPerMinute.
// Failures lock the (account, address) pair and throttle the account for
// addresses it never signed in from (lockout.go); a refusal is CodeLimited,
// before any password check.
func (s *Service) checkLogin(ctx context.Context, login, password, clientAddr string) (*confab.Account, *confab.Credentials, error) {
	login = strings.TrimSpace(login)
	if login == "" || password == "" {
		return nil, nil, confab.Errorf(confab.CodeInvalid, "A login and a password are required.")
	}
	if err := s.allowAttempt(clientAddr); err != nil {
		return nil, nil, err
	}
	a, err := s.lookup(ctx, login)
	if err != nil {
		return nil, nil, err
	}
	// Count per account, whichever of its names was typed; an unknown
	// login counts under its own name.
	acct := "login:" + strings.ToLower(login)
	hash := s.dummyHash
	if a != nil {
		acct, hash = "acct:"+a.User.UserID, a.PasswordHash
	}
	keys := newSignInKeys(acct, clientAddr)
	if err := s.lockedOut(keys); err != nil {
		return nil, nil, err
	}
	if len(password) > maxPasswordBytes {
		password = "" // still do the work of a check, which then fails
	}
	ok, err := s.check(ctx, password, hash)
	if err != nil {
		return nil, nil, err
	}
	if !ok || password == "" || a == nil {
		s.failed(keys, clientAddr)
		return nil, nil, errBadLogin
	}
	if a.Disabled {
		lifted, err := s.liftExpiredBan(ctx, a.User.UserID)
		if err != nil {
			return nil, nil, err
		}
		if !lifted {
			s.failed(keys, clientAddr)
			return nil, nil, errBadLogin
		}
	}
	s.succeeded(keys)
	cred, err := s.store.GetCredentials(ctx, a.User.UserID)
	if err != nil {
		return nil, nil, err
	}
	return a, cred, nil
}

// allowAttempt refuses a sign-in attempt from a locked or too busy client
// address (none when clientAddr is empty: the CLI).
func (s *Service) allowAttempt(clientAddr string) error {
	if clientAddr == "" {
		return nil
	}
	addr := "addr:" + ratelimit.AddrKey(clientAddr)
	if blocked, d := s.failures.blocked(addr); blocked {
		return limited("Too many failed sign-in attempts.", d)
	}
	if ok, d := s.logins.Allow(addr); !ok {
		return limited("Too many sign-in attempts from this address.", d)
	}
	return nil
}

// lookup finds the account a login names: a user id, an email address or
// a username, in that order. A missing account is (nil, nil).
func (s *Service) lookup(ctx context.Context, login string) (*confab.Account, error) {
	if !confab.ValidText(login, confab.MaxEmailBytes) {
		return nil, nil // no account has such a name
	}
	if uuid.Validate(login) == nil {
		if a, err := s.accountByID(ctx, login); err != nil || a != nil {
			return a, err
		}
	}
	a, err := s.store.GetAccountByLogin(ctx, login)
	if confab.ErrorCode(err) == confab.CodeNotFound {
		return nil, nil
	}
	return a, err
}

// accountByID returns the account of a user id, (nil, nil) if none.
func (s *Service) accountByID(ctx context.Context, userID string) (*confab.Account, error) {
	u, err := s.store.GetUser(ctx, userID)
	if confab.ErrorCode(err) == confab.CodeNotFound {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	cred, err := s.store.GetCredentials(ctx, userID)
	if confab.ErrorCode(err) == confab.CodeNotFound {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return &confab.Account{User: *u, PasswordHash: cred.PasswordHash, Disabled: cred.Disabled}, nil
}
