package auth

import (
	"context"
	"net/url"
	"strings"

	"github.com/confab-chat/confab"
)

// The methods in this file are the signed-in user's own: each takes the
// user's access token (Cognito's GetUser family, protocols.md §4.3).

// ChangePassword replaces the password after checking the current one;
// a wrong one counts as a failed sign-in. Other sessions stay signed in,
// as in Cognito.
func (s *Service) ChangePassword(ctx context.Context, accessToken, current, next, clientAddr string) error {
	id, err := s.VerifyAccess(accessToken)
	if err != nil {
		return err
	}
	if _, _, err := s.checkLogin(ctx, id.UserID, current, clientAddr); err != nil {
		return err
	}
	if err := s.cfg.Policy.Check(next); err != nil {
		return err
	}
	return s.setPassword(ctx, id.UserID, next, false)
}

// AttributesUpdate changes some of the user's attributes; nil stays.
type AttributesUpdate struct {
	DisplayName *string // Cognito "name"; "" clears
	AvatarURL   *string // Cognito "picture"; "" clears
	Email       *string // a new address; not verified by code
}

// UpdateAttributes applies u to the access token's user. A taken email is
// CodeConflict (ReasonAliasExists).
func (s *Service) UpdateAttributes(ctx context.Context, accessToken string, u AttributesUpdate) error {
	id, err := s.VerifyAccess(accessToken)
	if err != nil {
		return err
	}
	now := s.now()
	if u.Email != nil {
		email, err := validEmail(*u.Email)
		if err != nil {
			return err
		}
		err = s.store.UpdateCredentials(ctx, id.UserID, confab.CredentialsUpdate{Email: &email, UpdatedAt: now})
		if confab.ErrorCode(err) == confab.CodeConflict {
			return reasonError(confab.CodeConflict, ReasonAliasExists, "An account with the given email already exists.")
		}
		if err != nil {
			return err
		}
	}
	if u.DisplayName == nil && u.AvatarURL == nil {
		return nil
	}
	up := confab.UserUpdate{UpdatedAt: now}
	if u.DisplayName != nil {
		d := strings.TrimSpace(*u.DisplayName)
		if err := confab.CheckName("name", d, confab.MaxDisplayNameBytes); err != nil {
			return err
		}
		up.DisplayName = &d
	}
	if u.AvatarURL != nil {
		a := strings.TrimSpace(*u.AvatarURL)
		if a != "" {
			p, err := url.Parse(a)
			if err != nil || p.Scheme == "" || len(a) > confab.MaxAvatarURLBytes {
				return confab.Errorf(confab.CodeInvalid, "picture is a URL of at most %d bytes.", confab.MaxAvatarURLBytes)
			}
		}
		up.AvatarURL = &a
	}
	_, err = s.store.UpdateUser(ctx, id.UserID, up)
	return err
}

// DeleteUser deletes the access token's user: the account, its sessions
// and memberships; messages stay.
func (s *Service) DeleteUser(ctx context.Context, accessToken string) error {
	id, err := s.VerifyAccess(accessToken)
	if err != nil {
		return err
	}
	return s.deleteUser(ctx, id.UserID)
}
