package auth

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math/big"
	"strings"
	"time"

	"github.com/confab-chat/confab"
)

// Purposes of verification codes.
const (
	purposeSignUp = "signup"
	purposeReset  = "reset"
)

// mailsPerHour bounds the codes mailed to one account in an hour, so
// nobody can flood a mailbox through ResendConfirmationCode or
// ForgotPassword. Over it the request is CodeLimited.
const mailsPerHour = 5

var (
	errCodeMismatch = reasonError(confab.CodeInvalid, ReasonCodeMismatch, "Invalid verification code provided, please try again.")
	errCodeExpired  = reasonError(confab.CodeInvalid, ReasonCodeExpired, "Invalid code provided, please request a code again.")
	errCodeAttempts = reasonError(confab.CodeLimited, ReasonTooManyAttempts, "Attempt limit exceeded, please request a code again.")
)

// codeHash is the stored form of a code: keyed, so a leaked table does
// not give six-digit codes away to a lookup.
func (s *Service) codeHash(userID, purpose, code string) string {
	m := hmac.New(sha256.New, s.sealKey)
	m.Write([]byte(userID + "\x00" + purpose + "\x00" + code))
	return hex.EncodeToString(m.Sum(nil))
}

// sendCode makes a new six-digit code for the user and purpose (replacing
// any earlier one) and mails it.
func (s *Service) sendCode(ctx context.Context, u *confab.User, purpose string) error {
	if s.cfg.Mailer == nil {
		return nil
	}
	key := "mail:" + u.UserID
	if blocked, d := s.mails.blocked(key); blocked {
		return limited("Too many codes were sent to this account.", d)
	}
	s.mails.hit(key)
	n, err := rand.Int(rand.Reader, big.NewInt(1_000_000))
	if err != nil {
		return fmt.Errorf("auth: code: %w", err)
	}
	code := fmt.Sprintf("%06d", n.Int64())
	c := &confab.VerificationCode{UserID: u.UserID, Purpose: purpose, Hash: s.codeHash(u.UserID, purpose, code), ExpiresAt: s.now().Add(s.cfg.CodeTTL).UTC().Truncate(time.Millisecond)}
	if err := s.store.InsertVerificationCode(ctx, c); err != nil {
		return err
	}
	subject, what := "Your confab verification code", "confirm your account"
	if purpose == purposeReset {
		subject, what = "Your confab password reset code", "reset your password"
	}
	body := fmt.Sprintf("Your code to %s is %s.\r\nIt expires in %d minutes. If you did not ask for it, ignore this message.\r\n", what, code, int(s.cfg.CodeTTL.Minutes()))
	if err := s.cfg.Mailer.Send(ctx, u.Email, subject, body); err != nil {
		return &confab.Error{Code: confab.CodeUnavailable, Message: "The code could not be sent; try again.", Op: "auth.sendCode", Err: err}
	}
	return nil
}

// useCode checks a code the user entered and consumes it: single use, at
// most Config.CodeAttempts wrong entries (the last destroys it), never
// after it expired.
func (s *Service) useCode(ctx context.Context, userID, purpose, code string) error {
	c, err := s.store.GetVerificationCode(ctx, userID, purpose)
	if confab.ErrorCode(err) == confab.CodeNotFound {
		return errCodeExpired
	}
	if err != nil {
		return err
	}
	if !s.now().Before(c.ExpiresAt) {
		if err := s.store.DeleteVerificationCode(ctx, userID, purpose); err != nil && confab.ErrorCode(err) != confab.CodeNotFound {
			return err
		}
		return errCodeExpired
	}
	code = strings.TrimSpace(code)
	if !hmac.Equal([]byte(c.Hash), []byte(s.codeHash(userID, purpose, code))) {
		n, err := s.store.AddVerificationCodeAttempt(ctx, userID, purpose)
		if confab.ErrorCode(err) == confab.CodeNotFound {
			return errCodeExpired
		}
		if err != nil {
			return err
		}
		if n >= s.cfg.CodeAttempts {
			if err := s.store.DeleteVerificationCode(ctx, userID, purpose); err != nil && confab.ErrorCode(err) != confab.CodeNotFound {
				return err
			}
			return errCodeAttempts
		}
		return errCodeMismatch
	}
	err = s.store.DeleteVerificationCode(ctx, userID, purpose)
	if confab.ErrorCode(err) == confab.CodeNotFound {
		return errCodeExpired // used by a concurrent request first
	}
	return err
}

// MaskEmail is an address as Cognito shows where a code went
// (CodeDeliveryDetails.Destination): "a***@e***".
func MaskEmail(email string) string {
	local, domain, _ := strings.Cut(email, "@")
	mask := func(s string) string {
		if s == "" {
			return "***"
		}
		return s[:1] + "***"
	}
	return mask(local) + "@" + mask(domain)
}

// Register is SignUp for clients that can confirm by code (the Cognito
// API), under the same sign-up policy: with a Mailer, the account stays
// unconfirmed and a code goes to its email; without, it is confirmed at
// once. It reports whether the account is confirmed.
func (s *Service) Register(ctx context.Context, in SignUpInput, clientAddr string) (*confab.User, bool, error) {
	u, err := s.signUp(ctx, in, clientAddr, bySelf, s.cfg.Mailer != nil)
	if err != nil {
		return nil, false, err
	}
	if s.cfg.Mailer == nil {
		return u, true, nil
	}
	if err := s.sendCode(ctx, u, purposeSignUp); err != nil {
		return nil, false, err
	}
	return u, false, nil
}

// ConfirmSignUp confirms an account with the code mailed at sign-up. An
// unknown login gets the answer of a wrong code.
func (s *Service) ConfirmSignUp(ctx context.Context, login, code string) error {
	a, err := s.lookup(ctx, strings.TrimSpace(login))
	if err != nil {
		return err
	}
	if a == nil {
		return errCodeMismatch
	}
	cred, err := s.store.GetCredentials(ctx, a.User.UserID)
	if err != nil {
		return err
	}
	if !cred.Unconfirmed {
		return reasonError(confab.CodeUnauthenticated, ReasonNone, "User cannot be confirmed. Current status is CONFIRMED")
	}
	if err := s.useCode(ctx, a.User.UserID, purposeSignUp, code); err != nil {
		return err
	}
	return s.store.UpdateCredentials(ctx, a.User.UserID, confab.CredentialsUpdate{Unconfirmed: ptrTo(false), UpdatedAt: s.now()})
}

// ResendConfirmationCode mails a new sign-up code to an unconfirmed
// account and returns the masked destination. Unknown and confirmed
// accounts get the same answer and no mail.
func (s *Service) ResendConfirmationCode(ctx context.Context, login string) (string, error) {
	if s.cfg.Mailer == nil {
		return "", confab.Errorf(confab.CodeInvalid, "Sign-ups are confirmed at once; there is no code to send.")
	}
	login = strings.TrimSpace(login)
	a, err := s.lookup(ctx, login)
	if err != nil || a == nil {
		return MaskEmail(login), err
	}
	cred, err := s.store.GetCredentials(ctx, a.User.UserID)
	if err != nil {
		return "", err
	}
	if cred.Unconfirmed {
		if err := s.sendCode(ctx, &a.User, purposeSignUp); err != nil {
			return "", err
		}
	}
	return MaskEmail(a.User.Email), nil
}

// ForgotPassword mails a password-reset code to the account login names
// and returns the masked destination. It never reveals whether the
// account exists: an unknown login gets a destination made from the login
// itself and no mail.
func (s *Service) ForgotPassword(ctx context.Context, login string) (string, error) {
	if s.cfg.Mailer == nil {
		return "", confab.Errorf(confab.CodeInvalid, "Password reset by e-mail is not configured on this server.")
	}
	login = strings.TrimSpace(login)
	a, err := s.lookup(ctx, login)
	if err != nil || a == nil || a.Disabled {
		return MaskEmail(login), err
	}
	if err := s.sendCode(ctx, &a.User, purposeReset); err != nil {
		return "", err
	}
	return MaskEmail(a.User.Email), nil
}

// ConfirmForgotPassword sets a new password with the code ForgotPassword
// mailed, and signs the account out everywhere (whoever knew the old
// password is out). An unknown login gets the answer of a wrong code.
func (s *Service) ConfirmForgotPassword(ctx context.Context, login, code, newPassword string) error {
	if err := s.cfg.Policy.Check(newPassword); err != nil {
		return err
	}
	a, err := s.lookup(ctx, strings.TrimSpace(login))
	if err != nil {
		return err
	}
	if a == nil {
		return errCodeMismatch
	}
	if err := s.useCode(ctx, a.User.UserID, purposeReset, code); err != nil {
		return err
	}
	if err := s.setPassword(ctx, a.User.UserID, newPassword, false); err != nil {
		return err
	}
	s.throttle.reset("acct:" + a.User.UserID) // the reset proves the owner: count the account's failures afresh
	return s.SignOutUser(ctx, a.User.UserID)
}

func ptrTo[T any](v T) *T { return &v }
