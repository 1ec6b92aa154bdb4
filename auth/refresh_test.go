package auth

import (
	"testing"
	"time"

	"github.com/confab-chat/confab"
)

func TestService_Refresh(t *testing.T) {
	t.Run("OKRotates", func(t *testing.T) {
		s, _ := newService(t)
		tok := signUpAndLogin(t, s, "ann@example.com")
		next, err := s.Refresh(ctx, tok.RefreshToken, "")
		if err != nil || next.RefreshToken == tok.RefreshToken || next.RefreshToken == "" {
			t.Fatalf("Refresh = %+v, %v; want a rotated token", next, err)
		}
		id, err := s.Verify(next.IDToken)
		if err != nil || id.Email != "ann@example.com" {
			t.Fatalf("Verify(refreshed id token) = %+v, %v", id, err)
		}
		stored, err := s.store.GetRefreshToken(ctx, hashToken(next.RefreshToken))
		if err != nil || stored.Hash != hashToken(next.RefreshToken) {
			t.Fatalf("stored by its hash: %+v, %v", stored, err)
		}
		if _, err := s.store.GetRefreshToken(ctx, next.RefreshToken); confab.ErrorCode(err) != confab.CodeNotFound {
			t.Errorf("the raw token must never be stored: %v", err)
		}
	})
	t.Run("ErrReuseRevokesFamily", func(t *testing.T) {
		s, _ := newService(t)
		tok := signUpAndLogin(t, s, "ann@example.com")
		next, err := s.Refresh(ctx, tok.RefreshToken, "")
		if err != nil {
			t.Fatal(err)
		}
		other := signUpAndLogin(t, s, "bo@example.com")
		_, err = s.Refresh(ctx, tok.RefreshToken, "") // replay of the rotated token
		wantCode(t, err, confab.CodeUnauthenticated)
		_, err = s.Refresh(ctx, next.RefreshToken, "") // the newer token of the family dies too
		wantCode(t, err, confab.CodeUnauthenticated)
		if _, err := s.Refresh(ctx, other.RefreshToken, ""); err != nil {
			t.Errorf("another family: %v", err)
		}
	})
	t.Run("ErrExpired", func(t *testing.T) {
		s, clk := newService(t)
		tok := signUpAndLogin(t, s, "ann@example.com")
		clk.add(30 * 24 * time.Hour)
		_, err := s.Refresh(ctx, tok.RefreshToken, "")
		wantCode(t, err, confab.CodeUnauthenticated)
	})
	t.Run("LogoutRevokesFamily", func(t *testing.T) {
		s, _ := newService(t)
		tok := signUpAndLogin(t, s, "ann@example.com")
		next, err := s.Refresh(ctx, tok.RefreshToken, "")
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Logout(ctx, next.RefreshToken); err != nil {
			t.Fatal(err)
		}
		_, err = s.Refresh(ctx, next.RefreshToken, "")
		wantCode(t, err, confab.CodeUnauthenticated)
	})
	t.Run("LogoutUnknownIsNoError", func(t *testing.T) {
		s, _ := newService(t)
		for _, tok := range []string{"", "made-up", string(make([]byte, 300))} {
			if err := s.Logout(ctx, tok); err != nil {
				t.Errorf("Logout(%.10q) = %v", tok, err)
			}
		}
	})
	t.Run("ErrUnknown", func(t *testing.T) {
		s, _ := newService(t)
		for _, tok := range []string{"", "made-up"} {
			_, err := s.Refresh(ctx, tok, "")
			wantCode(t, err, confab.CodeUnauthenticated)
		}
	})
}
