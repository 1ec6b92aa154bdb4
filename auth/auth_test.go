package auth

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"os"
	"path/filepath"
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
