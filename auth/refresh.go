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

// tokens issues id and access tokens for u around a refresh token.
func (s *Service) tokens(u *confab.User, authTime time.Time, refresh string) (*Tokens, error) {
	id, access, err := s.issue(u, authTime)
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
