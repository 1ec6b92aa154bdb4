package chat

import (
	"context"
	"net/url"
	"strings"

	"github.com/confab-chat/confab"
)

// ProfileUpdate is updateUserProfile's input; nil fields stay unchanged.
type ProfileUpdate struct {
	UserID      string
	DisplayName *string
	AvatarURL   *string
}

// GetUser returns one user's public profile. Any signed-in user may look
// up a user by id; ids are not guessable and no operation lists users.
func (s *Service) GetUser(ctx context.Context, caller confab.Identity, userID string) (*confab.User, error) {
	if err := s.requireCaller(caller); err != nil {
		return nil, err
	}
	if !confab.ValidID(userID) {
		return nil, confab.Errorf(confab.CodeNotFound, "User not found.")
	}
	u, err := s.store.GetUser(ctx, userID)
	if confab.ErrorCode(err) == confab.CodeNotFound {
		return nil, confab.Errorf(confab.CodeNotFound, "User not found.")
	}
	return u, err
}

// GetUsers returns the users among ids that exist (for batching authors).
func (s *Service) GetUsers(ctx context.Context, caller confab.Identity, ids []string) ([]*confab.User, error) {
	if err := s.requireCaller(caller); err != nil {
		return nil, err
	}
	return s.store.GetUsers(ctx, ids)
}

// FindUser returns the user whose username or email is exactly q, or
// NOT_FOUND. It finds one person someone already knows how to address; there
// is no operation that lists users.
func (s *Service) FindUser(ctx context.Context, caller confab.Identity, q string) (*confab.User, error) {
	if err := s.requireCaller(caller); err != nil {
		return nil, err
	}
	q = strings.TrimSpace(q)
	if q == "" || len(q) > confab.MaxEmailBytes {
		return nil, confab.Errorf(confab.CodeInvalid, "Give a username or an email address.")
	}
	if !confab.ValidText(q, confab.MaxEmailBytes) { // no stored name is like it
		return nil, confab.Errorf(confab.CodeNotFound, "User not found.")
	}
	a, err := s.store.GetAccountByLogin(ctx, q)
	if confab.ErrorCode(err) == confab.CodeNotFound {
		return nil, confab.Errorf(confab.CodeNotFound, "User not found.")
	}
	if err != nil {
		return nil, err
	}
	return &a.User, nil
}

// UpdateUserProfile changes the caller's own display name or avatar URL.
func (s *Service) UpdateUserProfile(ctx context.Context, caller confab.Identity, in ProfileUpdate) (*confab.User, error) {
	if err := s.requireSelf(caller, in.UserID); err != nil {
		return nil, err
	}
	if in.DisplayName != nil {
		n := strings.TrimSpace(*in.DisplayName)
		if err := confab.CheckName("displayName", n, confab.MaxDisplayNameBytes); err != nil {
			return nil, err
		}
		in.DisplayName = &n
	}
	if in.AvatarURL != nil && *in.AvatarURL != "" {
		u, err := url.Parse(*in.AvatarURL)
		if err != nil || !confab.ValidText(*in.AvatarURL, confab.MaxAvatarURLBytes) || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			return nil, confab.Errorf(confab.CodeInvalid, "avatarUrl must be an http(s) URL of at most %d bytes.", confab.MaxAvatarURLBytes)
		}
	}
	return s.store.UpdateUser(ctx, in.UserID, confab.UserUpdate{
		DisplayName: in.DisplayName, AvatarURL: in.AvatarURL, UpdatedAt: s.nowUTC(),
	})
}
