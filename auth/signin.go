package auth

import (
	"context"
	"time"

	"github.com/confab-chat/confab"
	"github.com/google/uuid"
)

// Challenge names follow Cognito's (protocols.md §4.3).
const (
	ChallengeNewPassword      = "NEW_PASSWORD_REQUIRED"
	ChallengePasswordVerifier = "PASSWORD_VERIFIER"
)

// SignInResult is the outcome of one sign-in step: tokens, or a challenge
// the client must answer with Session and the Parameters it names.
type SignInResult struct {
	Tokens     *Tokens
	Challenge  string
	Session    string            // sealed; echoed back with the answer
	Parameters map[string]string // ChallengeParameters
	UserID     string
}

// sessionTTL bounds the time to answer a challenge.
const sessionTTL = 3 * time.Minute

// newPasswordSession is the sealed Session of NEW_PASSWORD_REQUIRED.
type newPasswordSession struct {
	UserID string `json:"u"`
}

var errNotConfirmed = reasonError(confab.CodeUnauthenticated, ReasonUserNotConfirmed, "User is not confirmed.")

// SignIn checks a password (see checkLogin for the limits) and either
// issues tokens with a new refresh-token family or, for an account whose
// password an administrator set as temporary, returns the
// NEW_PASSWORD_REQUIRED challenge. An unconfirmed account is refused with
// ReasonUserNotConfirmed, only after its password matched. A password
// sign-in gives an account made before SRP existed its SRP verifier.
func (s *Service) SignIn(ctx context.Context, login, password, clientAddr string) (*SignInResult, error) {
	a, cred, err := s.checkLogin(ctx, login, password, clientAddr)
	if err != nil {
		return nil, err
	}
	if cred.Unconfirmed {
		return nil, errNotConfirmed
	}
	if cred.SRP == nil && !cred.PasswordTemporary && s.SRPEnabled() {
		v := s.srpVerifier(a.User.UserID, password)
		if err := s.store.UpdateCredentials(ctx, a.User.UserID, confab.CredentialsUpdate{SRP: v, UpdatedAt: s.now()}); err != nil {
			return nil, err
		}
	}
	return s.finishSignIn(ctx, &a.User, cred)
}

// finishSignIn issues tokens after a proof of the password, or the
// NEW_PASSWORD_REQUIRED challenge when the password is temporary.
func (s *Service) finishSignIn(ctx context.Context, u *confab.User, cred *confab.Credentials) (*SignInResult, error) {
	if cred.PasswordTemporary {
		return &SignInResult{
			Challenge:  ChallengeNewPassword,
			Session:    s.seal(ChallengeNewPassword, sessionTTL, newPasswordSession{UserID: u.UserID}),
			Parameters: map[string]string{"USER_ID_FOR_SRP": u.UserID, "requiredAttributes": "[]", "userAttributes": userAttributesJSON(u)},
			UserID:     u.UserID,
		}, nil
	}
	tokens, err := s.newSession(ctx, u)
	if err != nil {
		return nil, err
	}
	return &SignInResult{Tokens: tokens, UserID: u.UserID}, nil
}

// newSession issues tokens with a new refresh-token family.
func (s *Service) newSession(ctx context.Context, u *confab.User) (*Tokens, error) {
	now := s.now()
	refresh, rt := s.newRefreshToken(u.UserID, uuid.NewString(), now)
	if err := s.store.InsertRefreshToken(ctx, rt); err != nil {
		return nil, err
	}
	return s.tokens(u, now, refresh, rt.FamilyID)
}

var errBadSession = confab.Errorf(confab.CodeUnauthenticated, "Invalid session for the user, session is expired.")

// RespondNewPassword answers NEW_PASSWORD_REQUIRED: session is the one
// SignIn returned, user the user id or login it was for. The new password
// must meet the policy; it replaces the temporary one and tokens follow.
func (s *Service) RespondNewPassword(ctx context.Context, session, user, newPassword string) (*SignInResult, error) {
	var sess newPasswordSession
	if !s.open(ChallengeNewPassword, session, &sess) {
		return nil, errBadSession
	}
	if user != "" && user != sess.UserID {
		a, err := s.lookup(ctx, user)
		if err != nil {
			return nil, err
		}
		if a == nil || a.User.UserID != sess.UserID {
			return nil, errBadSession
		}
	}
	if err := s.cfg.Policy.Check(newPassword); err != nil {
		return nil, err
	}
	if err := s.setPassword(ctx, sess.UserID, newPassword, false); err != nil {
		return nil, err
	}
	cred, err := s.store.GetCredentials(ctx, sess.UserID)
	if err != nil {
		return nil, err
	}
	if cred.Disabled {
		return nil, errBadLogin
	}
	u, err := s.store.GetUser(ctx, sess.UserID)
	if err != nil {
		return nil, err
	}
	return s.finishSignIn(ctx, u, cred)
}

// setPassword hashes a new password and stores it with its SRP verifier
// (none when SRP is off), permanent or temporary.
func (s *Service) setPassword(ctx context.Context, userID, password string, temporary bool) error {
	hash, err := s.hash(ctx, password)
	if err != nil {
		return err
	}
	up := confab.CredentialsUpdate{PasswordHash: &hash, PasswordTemporary: &temporary, UpdatedAt: s.now()}
	if s.SRPEnabled() {
		up.SRP = s.srpVerifier(userID, password)
	}
	return s.store.UpdateCredentials(ctx, userID, up)
}
