package auth

import (
	"context"
	"crypto/rand"
	"strings"

	"github.com/confab-chat/confab"
)

// The methods in this file are for administrators: the server exposes
// them only behind an administrator's credentials (SigV4 on the Cognito
// API, the local CLI). They name accounts by user id, email or username
// and, unlike the users' own operations, say when an account does not
// exist (ReasonUserNotFound).

var errNoSuchUser = reasonError(confab.CodeNotFound, ReasonUserNotFound, "User does not exist.")

// CreateUserInput is an account made by an administrator.
type CreateUserInput struct {
	Email, Username, DisplayName string
	// TemporaryPassword must be changed at the first sign-in
	// (NEW_PASSWORD_REQUIRED). Empty: one is generated, and mailed to
	// the user unless Suppress or no Mailer is configured.
	TemporaryPassword string
	Suppress          bool
}

// CreateUser creates a confirmed account with a temporary password (with
// its SRP verifier, so the first sign-in may be SRP too). Errors as
// SignUp's; no sign-up rate limit applies.
func (s *Service) CreateUser(ctx context.Context, in CreateUserInput) (*confab.User, error) {
	pw := in.TemporaryPassword
	generated := pw == ""
	if generated {
		pw = temporaryPassword()
	}
	u, err := s.signUp(ctx, SignUpInput{Email: in.Email, Password: pw, Username: in.Username, DisplayName: in.DisplayName}, "", byAdmin, false)
	if err != nil {
		return nil, err
	}
	temporary := true
	if err := s.store.UpdateCredentials(ctx, u.UserID, confab.CredentialsUpdate{PasswordTemporary: &temporary, UpdatedAt: s.now()}); err != nil {
		return nil, err
	}
	if s.cfg.Mailer != nil && !in.Suppress {
		body := "An account was made for you. Your username is " + u.Username + " and your temporary password is " + pw + "\r\nYou will choose a new password at your first sign-in.\r\n"
		if err := s.cfg.Mailer.Send(ctx, u.Email, "Your temporary password", body); err != nil {
			return nil, &confab.Error{Code: confab.CodeUnavailable, Message: "The account was created but the invitation could not be sent.", Op: "auth.CreateUser", Err: err}
		}
	}
	return u, nil
}

// temporaryPassword returns a random password that meets the default
// policy: 16 characters from every class.
func temporaryPassword() string {
	const classes = "ABCDEFGHJKLMNPQRSTUVWXYZ" + "abcdefghijkmnopqrstuvwxyz" + "23456789"
	b := make([]byte, 12)
	rand.Read(b) // never fails (crypto/rand documents it)
	var sb strings.Builder
	sb.WriteString("Aa1-")
	for _, c := range b {
		sb.WriteByte(classes[int(c)%len(classes)])
	}
	return sb.String()
}

// Account returns an account and its credentials by user id, email or
// username; CodeNotFound (ReasonUserNotFound) when none.
func (s *Service) Account(ctx context.Context, login string) (*confab.User, *confab.Credentials, error) {
	a, err := s.lookup(ctx, strings.TrimSpace(login))
	if err != nil {
		return nil, nil, err
	}
	if a == nil {
		return nil, nil, errNoSuchUser
	}
	cred, err := s.store.GetCredentials(ctx, a.User.UserID)
	if confab.ErrorCode(err) == confab.CodeNotFound {
		return nil, nil, errNoSuchUser
	}
	if err != nil {
		return nil, nil, err
	}
	return &a.User, cred, nil
}

// SetPassword sets an account's password: permanent (which also confirms
// the account) or temporary (NEW_PASSWORD_REQUIRED at the next sign-in).
func (s *Service) SetPassword(ctx context.Context, login, password string, permanent bool) error {
	u, _, err := s.Account(ctx, login)
	if err != nil {
		return err
	}
	if err := s.cfg.Policy.Check(password); err != nil {
		return err
	}
	if err := s.setPassword(ctx, u.UserID, password, !permanent); err != nil {
		return err
	}
	if permanent {
		return s.store.UpdateCredentials(ctx, u.UserID, confab.CredentialsUpdate{Unconfirmed: ptrTo(false), UpdatedAt: s.now()})
	}
	return nil
}

// SetDisabled disables or enables an account. Disabling signs it out
// everywhere: its tokens stop working and its live connections close.
func (s *Service) SetDisabled(ctx context.Context, login string, disabled bool) error {
	u, _, err := s.Account(ctx, login)
	if err != nil {
		return err
	}
	if err := s.store.UpdateCredentials(ctx, u.UserID, confab.CredentialsUpdate{Disabled: &disabled, UpdatedAt: s.now()}); err != nil {
		return err
	}
	if disabled {
		return s.SignOutUser(ctx, u.UserID)
	}
	return nil
}

// SignOutAccount is SignOutUser by login, for administrators.
func (s *Service) SignOutAccount(ctx context.Context, login string) error {
	u, _, err := s.Account(ctx, login)
	if err != nil {
		return err
	}
	return s.SignOutUser(ctx, u.UserID)
}

// DeleteAccount deletes an account by login (see DeleteUser).
func (s *Service) DeleteAccount(ctx context.Context, login string) error {
	u, _, err := s.Account(ctx, login)
	if err != nil {
		return err
	}
	return s.deleteUser(ctx, u.UserID)
}

// deleteUser removes the account (its messages stay) and ends its
// sessions: cached tokens are dropped and live connections closed.
func (s *Service) deleteUser(ctx context.Context, userID string) error {
	if err := s.store.DeleteAccount(ctx, userID); err != nil {
		if confab.ErrorCode(err) == confab.CodeNotFound {
			return errNoSuchUser
		}
		return err
	}
	s.cache.drop(func(e cacheEntry) bool { return e.id.UserID == userID })
	s.revoked(ctx, userID)
	return nil
}

// ListAccounts lists accounts for administrators (see
// confab.CredentialStore.ListAccounts); each comes with its credentials.
func (s *Service) ListAccounts(ctx context.Context, f confab.AccountFilter) ([]*confab.User, []*confab.Credentials, error) {
	list, err := s.store.ListAccounts(ctx, f)
	if err != nil {
		return nil, nil, err
	}
	users := make([]*confab.User, len(list))
	creds := make([]*confab.Credentials, len(list))
	for i, a := range list {
		c, err := s.store.GetCredentials(ctx, a.User.UserID)
		if err != nil {
			return nil, nil, err
		}
		users[i], creds[i] = &a.User, c
	}
	return users, creds, nil
}
