package auth

import (
	"encoding/base64"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/confab-chat/confab"
	"github.com/confab-chat/confab/auth/srp"
	"github.com/confab-chat/confab/broker/inproc"
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

// With revocations shared through a broker, a sign-out, a disabled account
// and a deleted account take effect on the other node at once: its cached
// tokens are refused before RevocationCheck passes and its hooks close the
// user's connections.
func TestService_ShareRevocations(t *testing.T) {
	for _, tc := range []struct {
		name   string
		revoke func(a *Service, tok *Tokens) error
	}{
		{"Logout", func(a *Service, tok *Tokens) error { return a.Logout(ctx, tok.RefreshToken) }},
		{"Disable", func(a *Service, _ *Tokens) error { return a.SetDisabled(ctx, "ann@example.com", true) }},
		{"Delete", func(a *Service, _ *Tokens) error { return a.DeleteAccount(ctx, "ann@example.com") }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			clk := &clock{t: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)}
			key, st, br := writeTestKey(t), openStore(t), inproc.New()
			t.Cleanup(func() { br.Close() })
			cfg := Config{KeyFile: key, Issuer: "http://confab.test", Now: clk.now, RevocationCheck: time.Hour}
			var nodes [2]*Service
			var hooks [2]hookCalls
			for i := range nodes {
				s, err := New(st, cfg)
				if err != nil {
					t.Fatal(err)
				}
				s.argon = testArgon
				s.OnRevoke(hooks[i].record)
				sub, err := s.ShareRevocations(br, nil)
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(sub.Unsubscribe)
				nodes[i] = s
			}
			a, b := nodes[0], nodes[1]
			tok := signUpAndLogin(t, a, "ann@example.com")
			bo := signUpAndLogin(t, a, "bo@example.com")
			id, err := b.Verify(tok.AccessToken) // cached on b
			if err != nil {
				t.Fatal(err)
			}
			if _, err := b.Verify(bo.AccessToken); err != nil {
				t.Fatal(err)
			}
			if err := tc.revoke(a, tok); err != nil {
				t.Fatal(err)
			}
			_, err = b.Verify(tok.AccessToken)
			wantCode(t, err, confab.CodeUnauthenticated)
			if got := hooks[1].got(); !slices.Contains(got, id.UserID) {
				t.Errorf("other node's OnRevoke calls = %q, want %s", got, id.UserID)
			}
			if _, err := b.Verify(bo.AccessToken); err != nil {
				t.Errorf("another user's token on the other node: %v, want valid", err)
			}
		})
	}
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

// Accounts made before SRP existed (or while it was off) get a verifier at
// their next password sign-in, and SRP works from then on.
func TestService_SRPVerifierAtNextSignIn(t *testing.T) {
	s, _ := newService(t)
	s.cfg.DisableSRP = true
	if _, err := s.SignUp(ctx, SignUpInput{Email: "ann@example.com", Password: testPassword}, ""); err != nil {
		t.Fatal(err)
	}
	s.cfg.DisableSRP = false
	a, err := s.store.GetAccountByLogin(ctx, "ann@example.com")
	if err != nil {
		t.Fatal(err)
	}
	if c, _ := s.store.GetCredentials(ctx, a.User.UserID); c == nil || c.SRP != nil {
		t.Fatalf("credentials = %+v, want no verifier yet", c)
	}
	if _, err := s.SignIn(ctx, "ann@example.com", testPassword, ""); err != nil {
		t.Fatal(err)
	}
	c, err := s.store.GetCredentials(ctx, a.User.UserID)
	if err != nil || c.SRP == nil {
		t.Fatalf("credentials after a password sign-in = %+v, %v; want a verifier", c, err)
	}
	if _, err := srpSignIn(t, s, "ann@example.com", testPassword); err != nil {
		t.Fatalf("SRP sign-in after the password sign-in: %v", err)
	}
	if _, err := srpSignIn(t, s, "ann@example.com", "Wrong-Passw0rd"); confab.ErrorCode(err) != confab.CodeUnauthenticated {
		t.Fatalf("SRP sign-in with a wrong password: %v, want CodeUnauthenticated", err)
	}
}

// srpSignIn runs both SRP steps with the client's side computed by
// srp.ClientKey.
func srpSignIn(t *testing.T, s *Service, login, password string) (*SignInResult, error) {
	t.Helper()
	a, A := srp.ClientA()
	ch, err := s.StartSRP(ctx, login, A.Text(16), "")
	if err != nil {
		t.Fatal(err)
	}
	p := ch.Parameters
	salt, _ := srp.ParseHex(p["SALT"])
	B, _ := srp.ParseHex(p["SRP_B"])
	block, _ := base64.StdEncoding.DecodeString(p["SECRET_BLOCK"])
	ts := s.now().UTC().Format("Mon Jan 2 15:04:05 UTC 2006")
	key := srp.ClientKey("confab", p["USER_ID_FOR_SRP"], password, salt, a, A, B)
	return s.RespondSRP(ctx, SRPAnswer{UserID: p["USERNAME"], SecretBlock: p["SECRET_BLOCK"], Timestamp: ts,
		Signature: base64.StdEncoding.EncodeToString(srp.Signature(key, "confab", p["USER_ID_FOR_SRP"], block, ts))}, "")
}
