package auth

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"time"

	"github.com/confab-chat/confab"
)

// tokens issues id and access tokens for u around a refresh token of the
// family origin, for a sign-in at authTime.
func (s *Service) tokens(u *confab.User, authTime time.Time, refresh, origin string) (*Tokens, error) {
	id, access, err := s.issue(u, authTime, origin)
	if err != nil {
		return nil, err
	}
	return &Tokens{IDToken: id, AccessToken: access, RefreshToken: refresh, ExpiresIn: int(s.cfg.AccessTTL.Seconds()), TokenType: "Bearer"}, nil
}

// newRefreshToken returns a new opaque token (32 random bytes, base64url)
// and its stored form, which holds only the hash.
func (s *Service) newRefreshToken(userID, family string, now time.Time) (string, *confab.RefreshToken) {
	b := make([]byte, 32)
	rand.Read(b) // never fails (crypto/rand documents it)
	tok := base64.RawURLEncoding.EncodeToString(b)
	return tok, &confab.RefreshToken{Hash: hashToken(tok), UserID: userID, FamilyID: family, CreatedAt: now.UTC().Truncate(time.Millisecond), ExpiresAt: now.Add(s.cfg.RefreshTTL).UTC().Truncate(time.Millisecond)}
}

// hashToken is the stored form of a refresh token: hex SHA-256.
func hashToken(tok string) string {
	sum := sha256.Sum256([]byte(tok))
	return hex.EncodeToString(sum[:])
}

var errBadRefresh = confab.Errorf(confab.CodeUnauthenticated, "Invalid refresh token.")

// Refresh exchanges a refresh token for new id and access tokens and a new
// refresh token of the same family (rotation; the new one lives RefreshTTL
// from now). A token that was already rotated means it was stolen or
// replayed: its whole family is revoked, and the answer is the same
// CodeUnauthenticated as for an unknown, expired or revoked token, or a
// disabled account. Of two concurrent uses of one token exactly one
// succeeds (the store's RotateRefreshToken decides), and the other revokes
// the family. The new tokens keep the sign-in's auth_time.
// clientAddr is accepted for a future per-address limit; refresh tokens
// have 256 bits of entropy, so guessing them needs none today.
func (s *Service) Refresh(ctx context.Context, refreshToken, clientAddr string) (*Tokens, error) {
	old, u, authTime, err := s.usableRefreshToken(ctx, refreshToken)
	if err != nil {
		return nil, err
	}
	refresh, next := s.newRefreshToken(old.UserID, old.FamilyID, s.now())
	if err := s.store.RotateRefreshToken(ctx, old.Hash, next); err != nil {
		if confab.ErrorCode(err) == confab.CodeConflict { // lost a race with another use: a replay
			if err := s.store.RevokeRefreshFamily(ctx, old.FamilyID); err != nil {
				return nil, err
			}
			return nil, errBadRefresh
		}
		return nil, err
	}
	return s.tokens(u, authTime, refresh, old.FamilyID)
}

// RefreshKeep is Refresh without rotation: new id and access tokens, and
// the same refresh token stays valid (Tokens.RefreshToken is empty). It is
// Cognito's REFRESH_TOKEN_AUTH, whose clients (Amplify up to 6.15.3,
// amazon-cognito-identity-js) keep using the token they have
// (protocols.md §4.3); rotating under them would look like a replay.
func (s *Service) RefreshKeep(ctx context.Context, refreshToken, clientAddr string) (*Tokens, error) {
	old, u, authTime, err := s.usableRefreshToken(ctx, refreshToken)
	if err != nil {
		return nil, err
	}
	return s.tokens(u, authTime, "", old.FamilyID)
}

// usableRefreshToken returns the stored token, its user and the sign-in
// time of its family, or errBadRefresh: unknown, expired, revoked, already
// rotated (which revokes the family), or its account is disabled.
func (s *Service) usableRefreshToken(ctx context.Context, refreshToken string) (*confab.RefreshToken, *confab.User, time.Time, error) {
	fail := func(err error) (*confab.RefreshToken, *confab.User, time.Time, error) {
		return nil, nil, time.Time{}, err
	}
	if refreshToken == "" || len(refreshToken) > 256 {
		return fail(errBadRefresh)
	}
	old, err := s.store.GetRefreshToken(ctx, hashToken(refreshToken))
	if confab.ErrorCode(err) == confab.CodeNotFound {
		return fail(errBadRefresh)
	}
	if err != nil {
		return fail(err)
	}
	switch {
	case old.Revoked || !s.now().Before(old.ExpiresAt):
		return fail(errBadRefresh)
	case old.Used:
		if err := s.store.RevokeRefreshFamily(ctx, old.FamilyID); err != nil {
			return fail(err)
		}
		return fail(errBadRefresh)
	}
	cred, err := s.store.GetCredentials(ctx, old.UserID)
	if confab.ErrorCode(err) == confab.CodeNotFound {
		return fail(errBadRefresh)
	}
	if err != nil {
		return fail(err)
	}
	if cred.Disabled {
		return fail(errBadRefresh)
	}
	fam, err := s.store.GetRefreshFamily(ctx, old.FamilyID)
	if err != nil {
		return fail(err)
	}
	u, err := s.store.GetUser(ctx, old.UserID)
	if err != nil {
		return fail(err)
	}
	return old, u, fam.AuthTime, nil
}

// Logout revokes the refresh token's family, and with it the id and access
// tokens minted from it (RevokeToken). An unknown token is not an error:
// the client is signed out either way.
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
	if err := s.store.RevokeRefreshFamily(ctx, t.FamilyID); err != nil {
		return err
	}
	s.cache.drop(func(e cacheEntry) bool { return e.origin == t.FamilyID })
	s.revoked(ctx, t.UserID)
	return nil
}

// GlobalSignOut revokes every sign-in of the access token's user: all
// refresh tokens and the id and access tokens minted from them, the
// presented one included.
func (s *Service) GlobalSignOut(ctx context.Context, accessToken string) error {
	id, err := s.VerifyAccess(accessToken)
	if err != nil {
		return err
	}
	return s.SignOutUser(ctx, id.UserID)
}

// SignOutUser revokes every sign-in of the user (GlobalSignOut for
// administrators, and part of disabling an account).
func (s *Service) SignOutUser(ctx context.Context, userID string) error {
	if _, err := s.store.RevokeUserRefreshTokens(ctx, userID); err != nil {
		return err
	}
	s.cache.drop(func(e cacheEntry) bool { return e.id.UserID == userID })
	s.revoked(ctx, userID)
	return nil
}

// RefreshTokenOwner returns the user a refresh token belongs to, without
// using it, for wire formats that check a proof tied to the user before
// refreshing (Cognito's SECRET_HASH on REFRESH_TOKEN_AUTH). An unknown
// token is errBadRefresh.
func (s *Service) RefreshTokenOwner(ctx context.Context, refreshToken string) (*confab.User, error) {
	if refreshToken == "" || len(refreshToken) > 256 {
		return nil, errBadRefresh
	}
	t, err := s.store.GetRefreshToken(ctx, hashToken(refreshToken))
	if confab.ErrorCode(err) == confab.CodeNotFound {
		return nil, errBadRefresh
	}
	if err != nil {
		return nil, err
	}
	u, err := s.store.GetUser(ctx, t.UserID)
	if confab.ErrorCode(err) == confab.CodeNotFound {
		return nil, errBadRefresh
	}
	return u, err
}
