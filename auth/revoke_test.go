package auth

import (
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/confab-chat/confab"
)

// hookCalls records the user ids OnRevoke reports.
type hookCalls struct {
	mu  sync.Mutex
	ids []string
}

func (h *hookCalls) record(userID string) { h.mu.Lock(); h.ids = append(h.ids, userID); h.mu.Unlock() }
func (h *hookCalls) got() []string        { h.mu.Lock(); defer h.mu.Unlock(); return slices.Clone(h.ids) }

func TestService_RevokeToken(t *testing.T) {
	s, _ := newService(t)
	var hooks hookCalls
	s.OnRevoke(hooks.record)
	tok := signUpAndLogin(t, s, "ann@example.com")
	other, err := s.Login(ctx, "ann@example.com", testPassword, "")
	if err != nil {
		t.Fatal(err)
	}
	id, err := s.Verify(tok.AccessToken) // now cached
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Verify(tok.IDToken); err != nil {
		t.Fatal(err)
	}
	if err := s.Logout(ctx, tok.RefreshToken); err != nil {
		t.Fatal(err)
	}
	for _, tk := range []string{tok.AccessToken, tok.IDToken} {
		_, err := s.Verify(tk)
		wantCode(t, err, confab.CodeUnauthenticated)
		if ReasonOf(err) != ReasonTokenRevoked {
			t.Errorf("reason = %q, want %q", ReasonOf(err), ReasonTokenRevoked)
		}
	}
	if _, err := s.Verify(other.AccessToken); err != nil {
		t.Errorf("the other sign-in's token: %v, want valid", err)
	}
	if got := hooks.got(); !slices.Equal(got, []string{id.UserID}) {
		t.Errorf("OnRevoke calls = %q, want [%s]", got, id.UserID)
	}
}

func TestService_GlobalSignOut(t *testing.T) {
	s, _ := newService(t)
	var hooks hookCalls
	s.OnRevoke(hooks.record)
	tok := signUpAndLogin(t, s, "ann@example.com")
	second, err := s.Login(ctx, "ann@example.com", testPassword, "")
	if err != nil {
		t.Fatal(err)
	}
	bo := signUpAndLogin(t, s, "bo@example.com")
	for _, tk := range []string{tok.AccessToken, second.IDToken} {
		if _, err := s.Verify(tk); err != nil {
			t.Fatal(err)
		}
	}
	t.Run("ErrIDToken", func(t *testing.T) {
		err := s.GlobalSignOut(ctx, tok.IDToken)
		wantCode(t, err, confab.CodeUnauthenticated)
	})
	if err := s.GlobalSignOut(ctx, tok.AccessToken); err != nil {
		t.Fatal(err)
	}
	for _, tk := range []string{tok.AccessToken, tok.IDToken, second.AccessToken, second.IDToken} {
		_, err := s.Verify(tk)
		wantCode(t, err, confab.CodeUnauthenticated)
	}
	for _, rt := range []string{tok.RefreshToken, second.RefreshToken} {
		_, err := s.Refresh(ctx, rt, "")
		wantCode(t, err, confab.CodeUnauthenticated)
	}
	if _, err := s.Verify(bo.AccessToken); err != nil {
		t.Errorf("another user's token: %v, want valid", err)
	}
	if _, err := s.Refresh(ctx, bo.RefreshToken, ""); err != nil {
		t.Errorf("another user's refresh: %v, want valid", err)
	}
	if got := hooks.got(); len(got) != 1 {
		t.Errorf("OnRevoke calls = %q, want one", got)
	}
}

// A sign-out on one node reaches another node's verification cache within
// Config.RevocationCheck.
func TestService_RevocationAcrossNodes(t *testing.T) {
	clk := &clock{t: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)}
	key, st := writeTestKey(t), openStore(t)
	cfg := Config{KeyFile: key, Issuer: "http://confab.test", Now: clk.now, RevocationCheck: time.Minute}
	a, err := New(st, cfg)
	if err != nil {
		t.Fatal(err)
	}
	b, err := New(st, cfg)
	if err != nil {
		t.Fatal(err)
	}
	a.argon = testArgon
	tok := signUpAndLogin(t, a, "ann@example.com")
	if _, err := b.Verify(tok.AccessToken); err != nil {
		t.Fatal(err)
	}
	if err := a.Logout(ctx, tok.RefreshToken); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Verify(tok.AccessToken); err != nil {
		t.Fatalf("within RevocationCheck the other node's cache still answers: %v", err)
	}
	clk.add(time.Minute)
	_, err = b.Verify(tok.AccessToken)
	wantCode(t, err, confab.CodeUnauthenticated)
}

func TestService_VerifyAccess(t *testing.T) {
	s, _ := newService(t)
	tok := signUpAndLogin(t, s, "ann@example.com")
	if _, err := s.VerifyAccess(tok.AccessToken); err != nil {
		t.Fatal(err)
	}
	_, err := s.VerifyAccess(tok.IDToken)
	wantCode(t, err, confab.CodeUnauthenticated)
}
