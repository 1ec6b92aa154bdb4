package auth

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/confab-chat/confab"
	"github.com/confab-chat/confab/store/sqlite"
	"github.com/golang-jwt/jwt/v5"
)

// clock is a settable test clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time      { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

func newService(t testing.TB) (*Service, *clock) {
	t.Helper()
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "confab.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	clk := &clock{t: time.Now()}
	s, err := New(st, Config{KeyFile: filepath.Join(t.TempDir(), "key.pem"), Issuer: "http://confab.test", Now: clk.now})
	if err != nil {
		t.Fatal(err)
	}
	return s, clk
}

func wantCode(t *testing.T, err error, want confab.Code) {
	t.Helper()
	if got := confab.ErrorCode(err); got != want {
		t.Fatalf("error code = %q (%v), want %q", got, err, want)
	}
}

var ctx = context.Background()

func signUpAndLogin(t *testing.T, s *Service, email string) *Tokens {
	t.Helper()
	if _, err := s.SignUp(ctx, SignUpInput{Email: email, Password: "Passw0rd!"}, ""); err != nil {
		t.Fatal(err)
	}
	tok, err := s.Login(ctx, email, "Passw0rd!", "10.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func TestPasswordPolicy_Check(t *testing.T) {
	tests := []struct {
		pw string
		ok bool
	}{
		{"Passw0rd", true},
		{"TestPassword123!", true},
		{"short1A", false},
		{"alllowercase1", false},
		{"ALLUPPERCASE1", false},
		{"NoDigitsHere", false},
		{strings.Repeat("Aa1", 100), false},
	}
	for _, tt := range tests {
		err := DefaultPasswordPolicy.Check(tt.pw)
		if (err == nil) != tt.ok {
			t.Errorf("Check(%q) = %v, want ok=%v", tt.pw, err, tt.ok)
		}
		if err != nil && !IsPasswordPolicyError(err) {
			t.Errorf("Check(%q) error is not a policy error", tt.pw)
		}
	}
}

func TestPassword_HashAndCheck(t *testing.T) {
	h := hashPassword("Secret123")
	if !strings.HasPrefix(h, "$argon2id$") || !checkPassword("Secret123", h) || checkPassword("Secret124", h) {
		t.Fatalf("argon2id round trip failed for %q", h)
	}
	if checkPassword("x", "$argon2id$v=19$m=99999999,t=1,p=1$AA$AA") {
		t.Fatal("a hash with absurd parameters was accepted")
	}
}

func TestService_Verify(t *testing.T) {
	s, clk := newService(t)
	tok := signUpAndLogin(t, s, "ann@example.com")
	claimsOf := func(tok string) jwt.MapClaims {
		c := jwt.MapClaims{}
		jwt.NewParser().ParseUnverified(tok, c)
		return c
	}
	resign := func(key any, method jwt.SigningMethod, c jwt.MapClaims, kid string) string {
		t.Helper()
		tk := jwt.NewWithClaims(method, c)
		tk.Header["kid"] = kid
		out, err := tk.SignedString(key)
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	other, _ := rsa.GenerateKey(rand.Reader, 2048)
	base := claimsOf(tok.IDToken)
	with := func(k string, v any) jwt.MapClaims {
		c := jwt.MapClaims{}
		for kk, vv := range base {
			c[kk] = vv
		}
		c[k] = v
		return c
	}
	none, _ := jwt.NewWithClaims(jwt.SigningMethodNone, base).SignedString(jwt.UnsafeAllowNoneSignatureType)
	pubDER := s.key.PublicKey.N.Bytes()
	parts := strings.Split(tok.IDToken, ".")

	tests := []struct {
		name  string
		token string
		ok    bool
	}{
		{"IDToken", tok.IDToken, true},
		{"AccessToken", tok.AccessToken, true},
		{"Bearer", "Bearer " + tok.AccessToken, true},
		{"ErrEmpty", "", false},
		{"ErrGarbage", "a.b.c", false},
		{"ErrOtherKey", resign(other, jwt.SigningMethodRS256, base, s.kid), false},
		{"ErrAlgNone", none, false},
		{"ErrHS256WithPublicKey", resign(pubDER, jwt.SigningMethodHS256, base, s.kid), false},
		{"ErrTamperedPayload", parts[0] + "." + base64.RawURLEncoding.EncodeToString([]byte(`{"sub":"someone-else"}`)) + "." + parts[2], false},
		{"ErrWrongIssuer", resign(s.key, jwt.SigningMethodRS256, with("iss", "https://evil"), s.kid), false},
		{"ErrWrongAudience", resign(s.key, jwt.SigningMethodRS256, with("aud", "other-client"), s.kid), false},
		{"ErrUnknownKid", resign(s.key, jwt.SigningMethodRS256, base, "nope"), false},
		{"ErrTokenUse", resign(s.key, jwt.SigningMethodRS256, with("token_use", "refresh"), s.kid), false},
		{"ErrExpired", resign(s.key, jwt.SigningMethodRS256, with("exp", clk.now().Add(-time.Second).Unix()), s.kid), false},
		{"ErrNoExpiry", resign(s.key, jwt.SigningMethodRS256, with("exp", nil), s.kid), false},
		{"ErrHuge", strings.Repeat("a", maxTokenBytes+1), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			id, err := s.Verify(tt.token)
			if tt.ok {
				if err != nil || id.UserID != base["sub"] || id.ExpiresAt.IsZero() {
					t.Fatalf("Verify = %+v, %v; want the user", id, err)
				}
				return
			}
			wantCode(t, err, confab.CodeUnauthenticated)
		})
	}
	t.Run("CachedUntilExpiry", func(t *testing.T) {
		if _, err := s.Verify(tok.IDToken); err != nil {
			t.Fatal(err)
		}
		clk.add(2 * time.Hour)
		_, err := s.Verify(tok.IDToken)
		wantCode(t, err, confab.CodeUnauthenticated)
	})
}

func TestService_Login(t *testing.T) {
	s, clk := newService(t)
	signUpAndLogin(t, s, "ann@example.com")
	t.Run("ErrSameAnswerUnknownAndWrong", func(t *testing.T) {
		_, unknown := s.Login(ctx, "nobody@example.com", "Passw0rd!", "10.0.0.2")
		_, wrong := s.Login(ctx, "ann@example.com", "Wrong0000", "10.0.0.3")
		if unknown == nil || wrong == nil || unknown.Error() != wrong.Error() {
			t.Fatalf("unknown user %v vs wrong password %v: must be identical", unknown, wrong)
		}
	})
	t.Run("ErrLockoutPerAccount", func(t *testing.T) {
		for i := range 10 {
			addr := "10.1.0." + string(rune('0'+i))
			if _, err := s.Login(ctx, "ANN@example.com", "Wrong0000", addr); confab.ErrorCode(err) == confab.CodeLimited {
				break
			}
		}
		_, err := s.Login(ctx, "ann@example.com", "Passw0rd!", "10.9.9.9")
		wantCode(t, err, confab.CodeLimited)
		if RetryAfter(err) <= 0 {
			t.Fatal("a lockout must say when to retry")
		}
		clk.add(time.Hour)
		if _, err := s.Login(ctx, "ann@example.com", "Passw0rd!", "10.9.9.9"); err != nil {
			t.Fatalf("after the lockout: %v", err)
		}
	})
	t.Run("ErrLockoutPerAddress", func(t *testing.T) {
		for i := range 10 {
			s.Login(ctx, "guess"+string(rune('a'+i))+"@example.com", "Wrong0000", "10.7.7.7")
		}
		_, err := s.Login(ctx, "ann@example.com", "Passw0rd!", "10.7.7.7")
		wantCode(t, err, confab.CodeLimited)
	})
}

func TestService_SignUp(t *testing.T) {
	s, _ := newService(t)
	tests := []struct {
		name string
		in   SignUpInput
		want confab.Code
	}{
		{"OK", SignUpInput{Email: "Bo@Example.com", Password: "Passw0rd!", Username: "bo"}, ""},
		{"ErrDuplicateEmail", SignUpInput{Email: "bo@example.com", Password: "Passw0rd!", Username: "bo2"}, confab.CodeConflict},
		{"ErrDuplicateUsername", SignUpInput{Email: "x@example.com", Password: "Passw0rd!", Username: "bo"}, confab.CodeConflict},
		{"ErrBadEmail", SignUpInput{Email: "not-an-email", Password: "Passw0rd!"}, confab.CodeInvalid},
		{"ErrBadUsername", SignUpInput{Email: "y@example.com", Password: "Passw0rd!", Username: "has space"}, confab.CodeInvalid},
		{"ErrWeakPassword", SignUpInput{Email: "z@example.com", Password: "password"}, confab.CodeInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := s.SignUp(ctx, tt.in, "")
			wantCode(t, err, tt.want)
		})
	}
}

func TestService_Refresh(t *testing.T) {
	s, _ := newService(t)
	tok := signUpAndLogin(t, s, "ann@example.com")
	next, err := s.Refresh(ctx, tok.RefreshToken, "")
	if err != nil || next.RefreshToken == tok.RefreshToken {
		t.Fatalf("Refresh = %+v, %v; want a rotated token", next, err)
	}
	if _, err := s.Verify(next.IDToken); err != nil {
		t.Fatal(err)
	}
	t.Run("ErrReuseRevokesFamily", func(t *testing.T) {
		_, err := s.Refresh(ctx, tok.RefreshToken, "") // replay of the rotated token
		wantCode(t, err, confab.CodeUnauthenticated)
		_, err = s.Refresh(ctx, next.RefreshToken, "") // the thief's (or victim's) newer token dies too
		wantCode(t, err, confab.CodeUnauthenticated)
	})
	t.Run("LogoutRevokes", func(t *testing.T) {
		tok := signUpAndLogin(t, s, "bo@example.com")
		if err := s.Logout(ctx, tok.RefreshToken); err != nil {
			t.Fatal(err)
		}
		_, err := s.Refresh(ctx, tok.RefreshToken, "")
		wantCode(t, err, confab.CodeUnauthenticated)
	})
	t.Run("ErrUnknown", func(t *testing.T) {
		_, err := s.Refresh(ctx, "made-up", "")
		wantCode(t, err, confab.CodeUnauthenticated)
	})
}

func BenchmarkService_Verify(b *testing.B) {
	st, _ := sqlite.Open(context.Background(), filepath.Join(b.TempDir(), "confab.db"))
	defer st.Close()
	s, _ := New(st, Config{KeyFile: filepath.Join(b.TempDir(), "key.pem")})
	s.SignUp(ctx, SignUpInput{Email: "a@example.com", Password: "Passw0rd!"}, "")
	tok, _ := s.Login(ctx, "a@example.com", "Passw0rd!", "")
	b.Run("Cached", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := s.Verify(tok.IDToken); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("Uncached", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			clear(s.cache.entries)
			if _, err := s.Verify(tok.IDToken); err != nil {
				b.Fatal(err)
			}
		}
	})
}
