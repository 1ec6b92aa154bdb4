package auth

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/confab-chat/confab"
	"github.com/confab-chat/confab/store/sqlite"
)

var ctx = context.Background()

// clock is a settable test clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time      { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

// testKeyPEM is one RSA key for the package's tests: generating a key per
// test would dominate the run time under -race.
var testKeyPEM = sync.OnceValue(func() []byte {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(k)})
})

// writeTestKey writes the shared test key to a new file and returns its path.
func writeTestKey(t testing.TB) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "key.pem")
	if err := os.WriteFile(path, testKeyPEM(), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// openStore opens a real SQLite store in a temporary directory.
func openStore(t testing.TB) confab.Store {
	t.Helper()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "confab.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// newService returns a Service on a fresh store with a test clock; cfg's
// KeyFile, Issuer and Now are filled in when empty.
func newService(t testing.TB, cfgs ...Config) (*Service, *clock) {
	t.Helper()
	var cfg Config
	if len(cfgs) > 0 {
		cfg = cfgs[0]
	}
	clk := &clock{t: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)}
	if cfg.Now == nil {
		cfg.Now = clk.now
	}
	if cfg.KeyFile == "" {
		cfg.KeyFile = writeTestKey(t)
	}
	if cfg.Issuer == "" {
		cfg.Issuer = "http://confab.test"
	}
	s, err := New(openStore(t), cfg)
	if err != nil {
		t.Fatal(err)
	}
	// Cheap hashes keep the package's tests fast under -race; the OWASP
	// cost itself is checked in TestPassword_HashAndCheck.
	s.argon = testArgon
	s.dummyHash = testArgon.hash("confab-dummy-password")
	return s, clk
}

func wantCode(t *testing.T, err error, want confab.Code) {
	t.Helper()
	if got := confab.ErrorCode(err); got != want {
		t.Fatalf("error code = %q (%v), want %q", got, err, want)
	}
}

const testPassword = "Passw0rd!"

var testArgon = argonParams{time: 1, memory: 64, threads: 1}

func signUpAndLogin(t *testing.T, s *Service, email string) *Tokens {
	t.Helper()
	if _, err := s.SignUp(ctx, SignUpInput{Email: email, Password: testPassword}, ""); err != nil {
		t.Fatal(err)
	}
	tok, err := s.Login(ctx, email, testPassword, "10.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func TestNew_Key(t *testing.T) {
	t.Run("OKCreatedPrivateAndReloaded", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "sub", "key.pem")
		st := openStore(t)
		a, err := New(st, Config{KeyFile: path})
		if err != nil {
			t.Fatal(err)
		}
		fi, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if mode := fi.Mode().Perm(); mode != 0o600 {
			t.Errorf("key file mode = %o, want 600", mode)
		}
		if a.key.N.BitLen() != 2048 {
			t.Errorf("key bits = %d, want 2048", a.key.N.BitLen())
		}
		b, err := New(st, Config{KeyFile: path})
		if err != nil {
			t.Fatal(err)
		}
		if a.kid != b.kid {
			t.Errorf("kid after reload = %s, want %s", b.kid, a.kid)
		}
		entries, _ := os.ReadDir(filepath.Dir(path))
		if len(entries) != 1 {
			t.Errorf("key directory holds %d files, want only the key", len(entries))
		}
	})
	t.Run("OKSharedByNodes", func(t *testing.T) {
		path := writeTestKey(t)
		st := openStore(t)
		a, err := New(st, Config{KeyFile: path})
		if err != nil {
			t.Fatal(err)
		}
		b, err := New(st, Config{KeyFile: path})
		if err != nil {
			t.Fatal(err)
		}
		tok := signUpAndLogin(t, a, "ann@example.com")
		if _, err := b.Verify(tok.AccessToken); err != nil {
			t.Fatalf("another node's Verify = %v, want ok", err)
		}
	})
	tests := []struct {
		name string
		data []byte
	}{
		{"ErrNotPEM", []byte("not a key")},
		{"ErrNotAKey", pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: []byte("junk")})},
		{"ErrSmallKey", func() []byte {
			k, err := rsa.GenerateKey(rand.Reader, 1024)
			if err != nil {
				t.Fatal(err)
			}
			return pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(k)})
		}()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "key.pem")
			if err := os.WriteFile(path, tt.data, 0o600); err != nil {
				t.Fatal(err)
			}
			if _, err := New(openStore(t), Config{KeyFile: path}); err == nil {
				t.Fatal("New = nil error, want a key error")
			}
		})
	}
	t.Run("ErrNoKeyFile", func(t *testing.T) {
		if _, err := New(openStore(t), Config{}); err == nil {
			t.Fatal("New without KeyFile = nil error")
		}
	})
}

func TestService_SignUp(t *testing.T) {
	s, _ := newService(t)
	long := func(n int) string {
		b := make([]byte, n)
		for i := range b {
			b[i] = 'a'
		}
		return string(b)
	}
	tests := []struct {
		name         string
		in           SignUpInput
		want         confab.Code
		wantUsername string
		wantEmail    string
	}{
		{"OK", SignUpInput{Email: "Bo@Example.com", Password: testPassword, Username: "bo", DisplayName: " Bo "}, "", "bo", "bo@example.com"},
		{"OKUsernameDefaultsToEmail", SignUpInput{Email: " Cy@Example.COM ", Password: testPassword}, "", "cy@example.com", "cy@example.com"},
		{"OKUsernameIsOwnEmail", SignUpInput{Email: "di@example.com", Password: testPassword, Username: "DI@example.com"}, "", "di@example.com", "di@example.com"},
		{"ErrDuplicateEmail", SignUpInput{Email: "BO@example.com", Password: testPassword, Username: "bo2"}, confab.CodeConflict, "", ""},
		{"ErrDuplicateUsername", SignUpInput{Email: "x@example.com", Password: testPassword, Username: "bo"}, confab.CodeConflict, "", ""},
		{"ErrBadEmail", SignUpInput{Email: "not-an-email", Password: testPassword}, confab.CodeInvalid, "", ""},
		{"ErrEmailWithName", SignUpInput{Email: "Ann <ann@example.com>", Password: testPassword}, confab.CodeInvalid, "", ""},
		{"ErrEmailTooLong", SignUpInput{Email: long(250) + "@example.com", Password: testPassword}, confab.CodeInvalid, "", ""},
		{"ErrEmptyEmail", SignUpInput{Password: testPassword}, confab.CodeInvalid, "", ""},
		{"ErrBadUsername", SignUpInput{Email: "y@example.com", Password: testPassword, Username: "has space"}, confab.CodeInvalid, "", ""},
		{"ErrUsernameTooLong", SignUpInput{Email: "y@example.com", Password: testPassword, Username: long(65)}, confab.CodeInvalid, "", ""},
		{"ErrUsernameOthersEmail", SignUpInput{Email: "y@example.com", Password: testPassword, Username: "victim@example.com"}, confab.CodeInvalid, "", ""},
		{"ErrWeakPassword", SignUpInput{Email: "z@example.com", Password: "password"}, confab.CodeInvalid, "", ""},
		{"ErrDisplayNameTooLong", SignUpInput{Email: "z@example.com", Password: testPassword, DisplayName: long(confab.MaxDisplayNameBytes + 1)}, confab.CodeInvalid, "", ""},
		{"ErrDisplayNameNotUTF8", SignUpInput{Email: "z@example.com", Password: testPassword, DisplayName: "\xff"}, confab.CodeInvalid, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			u, err := s.SignUp(ctx, tt.in, "")
			wantCode(t, err, tt.want)
			if err != nil {
				return
			}
			if u.Username != tt.wantUsername || u.Email != tt.wantEmail {
				t.Errorf("user = %q <%s>, want %q <%s>", u.Username, u.Email, tt.wantUsername, tt.wantEmail)
			}
			stored, err := s.store.GetUser(ctx, u.UserID)
			if err != nil {
				t.Fatalf("user record: %v", err)
			}
			if stored.Email != tt.wantEmail || stored.Username != tt.wantUsername {
				t.Errorf("stored user = %+v", stored)
			}
		})
	}
	t.Run("StoresArgon2idHash", func(t *testing.T) {
		a, err := s.store.GetAccountByLogin(ctx, "bo")
		if err != nil {
			t.Fatal(err)
		}
		if !checkPassword(testPassword, a.PasswordHash) {
			t.Fatalf("stored hash %q does not check", a.PasswordHash)
		}
		if a.User.DisplayName == nil || *a.User.DisplayName != "Bo" {
			t.Errorf("display name = %v, want Bo", a.User.DisplayName)
		}
	})
}

func TestService_SignUp_RateLimit(t *testing.T) {
	s, clk := newService(t, Config{SignupsPerMinute: 3})
	signUp := func(i int, addr string) error {
		_, err := s.SignUp(ctx, SignUpInput{Email: string(rune('a'+i)) + "@example.com", Password: testPassword}, addr)
		return err
	}
	for i := range 3 {
		if err := signUp(i, "10.0.0.1"); err != nil {
			t.Fatalf("sign-up %d: %v", i, err)
		}
	}
	err := signUp(3, "10.0.0.1")
	wantCode(t, err, confab.CodeLimited)
	if d := RetryAfter(err); d <= 0 || d > time.Minute {
		t.Errorf("RetryAfter = %v, want within a minute", d)
	}
	if err := signUp(4, "10.0.0.2"); err != nil {
		t.Errorf("another address: %v", err)
	}
	if err := signUp(5, ""); err != nil {
		t.Errorf("no address (CLI): %v", err)
	}
	clk.add(time.Minute)
	if err := signUp(6, "10.0.0.1"); err != nil {
		t.Errorf("after a minute: %v", err)
	}

	t.Run("NegativeDisables", func(t *testing.T) {
		s, _ := newService(t, Config{SignupsPerMinute: -1, Policy: PasswordPolicy{MinLength: 1}})
		for i := range 40 {
			if _, err := s.SignUp(ctx, SignUpInput{Email: "u" + strconv.Itoa(i) + "@example.com", Password: "p"}, "127.0.0.1"); err != nil {
				t.Fatalf("sign-up %d: %v", i, err)
			}
		}
	})
}

func TestService_Login(t *testing.T) {
	t.Run("OK", func(t *testing.T) {
		s, _ := newService(t)
		if _, err := s.SignUp(ctx, SignUpInput{Email: "ann@example.com", Username: "ann", Password: testPassword}, ""); err != nil {
			t.Fatal(err)
		}
		for _, login := range []string{"ann@example.com", "ANN@Example.com", "ann", " ann "} {
			tok, err := s.Login(ctx, login, testPassword, "10.0.0.1")
			if err != nil {
				t.Fatalf("Login(%q) = %v", login, err)
			}
			if tok.ExpiresIn != 3600 || tok.TokenType != "Bearer" || tok.RefreshToken == "" {
				t.Errorf("tokens = %+v", tok)
			}
		}
	})
	t.Run("ErrSameAnswerUnknownAndWrong", func(t *testing.T) {
		s, _ := newService(t)
		signUpAndLogin(t, s, "ann@example.com")
		_, unknown := s.Login(ctx, "nobody@example.com", testPassword, "10.0.0.2")
		_, wrong := s.Login(ctx, "ann@example.com", "Wrong0000", "10.0.0.3")
		wantCode(t, unknown, confab.CodeUnauthenticated)
		if unknown.Error() != wrong.Error() || confab.ErrorMessage(wrong) != "Incorrect username or password." {
			t.Fatalf("unknown user %v vs wrong password %v: must be identical", unknown, wrong)
		}
	})
	t.Run("ErrDisabled", func(t *testing.T) {
		s, _ := newService(t)
		hash := testArgon.hash(testPassword)
		acct := &confab.Account{User: confab.User{UserID: "u-disabled", Username: "dis", Email: "dis@example.com", CreatedAt: time.Now()}, PasswordHash: hash, Disabled: true}
		if err := s.store.InsertAccount(ctx, acct); err != nil {
			t.Fatal(err)
		}
		_, err := s.Login(ctx, "dis", testPassword, "")
		wantCode(t, err, confab.CodeUnauthenticated)
		if confab.ErrorMessage(err) != "Incorrect username or password." {
			t.Errorf("message = %q", confab.ErrorMessage(err))
		}
	})
	t.Run("ErrMissing", func(t *testing.T) {
		s, _ := newService(t)
		_, err := s.Login(ctx, "", testPassword, "")
		wantCode(t, err, confab.CodeInvalid)
		_, err = s.Login(ctx, "ann", "", "")
		wantCode(t, err, confab.CodeInvalid)
	})
}

func TestService_Login_Lockout(t *testing.T) {
	t.Run("PerAccount", func(t *testing.T) {
		s, clk := newService(t)
		if _, err := s.SignUp(ctx, SignUpInput{Email: "ann@example.com", Username: "ann", Password: testPassword}, ""); err != nil {
			t.Fatal(err)
		}
		// Five failures from five addresses, under both of the account's names.
		logins := []string{"ann", "ANN@example.com", "ann", "ann@example.com", "ann"}
		for i, login := range logins {
			_, err := s.Login(ctx, login, "Wrong0000", "10.1.0."+string(rune('1'+i)))
			wantCode(t, err, confab.CodeUnauthenticated)
		}
		_, err := s.Login(ctx, "ann@example.com", testPassword, "10.9.9.9")
		wantCode(t, err, confab.CodeLimited)
		if d := RetryAfter(err); d != 15*time.Minute {
			t.Errorf("RetryAfter = %v, want 15m", d)
		}
		clk.add(15 * time.Minute)
		if _, err := s.Login(ctx, "ann", testPassword, "10.9.9.9"); err != nil {
			t.Fatalf("after the lockout: %v", err)
		}
		// Success cleared the count; a second lockout lasts twice as long.
		for range 5 {
			s.Login(ctx, "ann", "Wrong0000", "10.2.0.1")
		}
		_, err = s.Login(ctx, "ann", testPassword, "10.9.9.9")
		if d := RetryAfter(err); d != 30*time.Minute {
			t.Errorf("second lockout RetryAfter = %v, want 30m", d)
		}
	})
	t.Run("PerAddress", func(t *testing.T) {
		s, clk := newService(t)
		signUpAndLogin(t, s, "ann@example.com")
		for i := range 5 {
			s.Login(ctx, "guess"+string(rune('a'+i))+"@example.com", "Wrong0000", "10.7.7.7")
		}
		_, err := s.Login(ctx, "ann@example.com", testPassword, "10.7.7.7")
		wantCode(t, err, confab.CodeLimited)
		if _, err := s.Login(ctx, "ann@example.com", testPassword, "10.7.7.8"); err != nil {
			t.Errorf("another address: %v", err)
		}
		clk.add(15 * time.Minute)
		if _, err := s.Login(ctx, "ann@example.com", testPassword, "10.7.7.7"); err != nil {
			t.Errorf("after the lockout: %v", err)
		}
	})
	t.Run("PerIPv6Block", func(t *testing.T) {
		s, _ := newService(t)
		signUpAndLogin(t, s, "ann@example.com")
		for i := range 5 {
			s.Login(ctx, "guess"+string(rune('a'+i))+"@example.com", "Wrong0000", "2001:db8:1:2::"+string(rune('1'+i)))
		}
		_, err := s.Login(ctx, "ann@example.com", testPassword, "2001:db8:1:2:ffff::1")
		wantCode(t, err, confab.CodeLimited)
	})
	t.Run("UnderLimitNotLocked", func(t *testing.T) {
		s, clk := newService(t)
		signUpAndLogin(t, s, "ann@example.com")
		for range 4 {
			s.Login(ctx, "ann@example.com", "Wrong0000", "10.3.0.1")
		}
		clk.add(15 * time.Minute) // the window passed: counting starts again
		for range 4 {
			s.Login(ctx, "ann@example.com", "Wrong0000", "10.3.0.1")
		}
		if _, err := s.Login(ctx, "ann@example.com", testPassword, "10.3.0.1"); err != nil {
			t.Errorf("4 failures per window: %v", err)
		}
	})
	t.Run("NegativeDisables", func(t *testing.T) {
		s, _ := newService(t, Config{LoginFailures: -1})
		signUpAndLogin(t, s, "ann@example.com")
		for range 8 {
			s.Login(ctx, "ann@example.com", "Wrong0000", "10.4.0.1")
		}
		if _, err := s.Login(ctx, "ann@example.com", testPassword, "10.4.0.1"); err != nil {
			t.Errorf("lockout disabled: %v", err)
		}
	})
}

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

func TestAddrKey(t *testing.T) {
	tests := []struct{ in, want string }{
		{"10.0.0.1", "addr:10.0.0.1"},
		{"::ffff:10.0.0.1", "addr:10.0.0.1"},
		{"2001:db8:1:2:3:4:5:6", "addr:2001:db8:1:2::/64"},
		{"fe80::1%eth0", "addr:fe80::/64"},
		{"not-an-ip", "addr:not-an-ip"},
	}
	for _, tt := range tests {
		if got := addrKey(tt.in); got != tt.want {
			t.Errorf("addrKey(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestLimiter_Bounded(t *testing.T) {
	clk := &clock{t: time.Now()}
	l := newLimiter(5, time.Minute, clk.now)
	for i := range maxLimiterKeys + 10 {
		l.hit(strconv.Itoa(i))
	}
	if n := len(l.keys); n > maxLimiterKeys {
		t.Fatalf("limiter holds %d keys, want at most %d", n, maxLimiterKeys)
	}
}
