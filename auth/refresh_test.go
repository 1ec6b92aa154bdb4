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
	// Issue 17, defect 5: a disabled account kept refreshing for 30 days.
	t.Run("ErrDisabled", func(t *testing.T) {
		s, _ := newService(t)
		tok := signUpAndLogin(t, s, "ann@example.com")
		id, err := s.Verify(tok.AccessToken)
		if err != nil {
			t.Fatal(err)
		}
		if err := s.store.UpdateCredentials(ctx, id.UserID, confab.CredentialsUpdate{Disabled: ptr(true), UpdatedAt: s.now()}); err != nil {
			t.Fatal(err)
		}
		_, err = s.Refresh(ctx, tok.RefreshToken, "")
		wantCode(t, err, confab.CodeUnauthenticated)
		_, err = s.RefreshKeep(ctx, tok.RefreshToken, "")
		wantCode(t, err, confab.CodeUnauthenticated)
	})
	// Issue 17, defect 5: refreshed tokens claimed a sign-in at refresh time.
	t.Run("OKKeepsAuthTime", func(t *testing.T) {
		s, clk := newService(t)
		tok := signUpAndLogin(t, s, "ann@example.com")
		signedIn := clk.now()
		clk.add(2 * time.Hour)
		next, err := s.Refresh(ctx, tok.RefreshToken, "")
		if err != nil {
			t.Fatal(err)
		}
		clk.add(2 * time.Hour)
		kept, err := s.RefreshKeep(ctx, next.RefreshToken, "")
		if err != nil {
			t.Fatal(err)
		}
		for _, tk := range []string{next.IDToken, next.AccessToken, kept.IDToken, kept.AccessToken} {
			if got := claimsOf(t, tk)["auth_time"]; got != float64(signedIn.Unix()) {
				t.Errorf("auth_time = %v, want the sign-in's %d", got, signedIn.Unix())
			}
		}
	})
	t.Run("OKKeepDoesNotRotate", func(t *testing.T) {
		s, _ := newService(t)
		tok := signUpAndLogin(t, s, "ann@example.com")
		for range 2 {
			got, err := s.RefreshKeep(ctx, tok.RefreshToken, "")
			if err != nil || got.RefreshToken != "" || got.AccessToken == "" {
				t.Fatalf("RefreshKeep = %+v, %v; want new tokens and no refresh token", got, err)
			}
		}
		if _, err := s.Refresh(ctx, tok.RefreshToken, ""); err != nil {
			t.Fatalf("Refresh after RefreshKeep = %v; the token must still be unused", err)
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

func ptr[T any](v T) *T { return &v }
