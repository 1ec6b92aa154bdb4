package auth

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/confab-chat/confab"
	"github.com/golang-jwt/jwt/v5"
)

// claimsOf decodes a token's payload without verifying it.
func claimsOf(t *testing.T, tok string) jwt.MapClaims {
	t.Helper()
	c := jwt.MapClaims{}
	if _, _, err := jwt.NewParser().ParseUnverified(tok, c); err != nil {
		t.Fatal(err)
	}
	return c
}

// sign signs c with key and method, with kid in the header when not empty.
func sign(t *testing.T, key any, method jwt.SigningMethod, c jwt.MapClaims, kid string) string {
	t.Helper()
	tk := jwt.NewWithClaims(method, c)
	if kid != "" {
		tk.Header["kid"] = kid
	}
	out, err := tk.SignedString(key)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// with returns a copy of c with k set to v (deleted when v is nil).
func with(c jwt.MapClaims, k string, v any) jwt.MapClaims {
	out := jwt.MapClaims{}
	for kk, vv := range c {
		out[kk] = vv
	}
	if v == nil {
		delete(out, k)
	} else {
		out[k] = v
	}
	return out
}

func TestService_Verify(t *testing.T) {
	s, clk := newService(t)
	tok := signUpAndLogin(t, s, "ann@example.com")
	idc, accc := claimsOf(t, tok.IDToken), claimsOf(t, tok.AccessToken)

	// A service on the same key whose clock is two hours behind issues
	// tokens that are already expired for s: the documented way to mint one.
	past, err := New(s.store, Config{KeyFile: s.cfg.KeyFile, Issuer: s.cfg.Issuer, Now: func() time.Time { return clk.now().Add(-2 * time.Hour) }})
	if err != nil {
		t.Fatal(err)
	}
	expired, err := past.Login(ctx, "ann@example.com", testPassword, "")
	if err != nil {
		t.Fatal(err)
	}

	other, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	none, err := jwt.NewWithClaims(jwt.SigningMethodNone, idc).SignedString(jwt.UnsafeAllowNoneSignatureType)
	if err != nil {
		t.Fatal(err)
	}
	pubDER, err := x509.MarshalPKIXPublicKey(&s.key.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	pubPEM := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pubDER})
	parts := strings.Split(tok.IDToken, ".")
	tampered := parts[0] + "." + base64.RawURLEncoding.EncodeToString(func() []byte {
		b, _ := json.Marshal(with(idc, "sub", "someone-else"))
		return b
	}()) + "." + parts[2]

	tests := []struct {
		name  string
		token string
		ok    bool
	}{
		{"OKIDToken", tok.IDToken, true},
		{"OKAccessToken", tok.AccessToken, true},
		{"OKBearer", "Bearer " + tok.AccessToken, true},
		{"OKBearerLowercase", "bearer " + tok.IDToken, true},
		{"ErrExpired", expired.IDToken, false},
		{"ErrExpiredAccess", expired.AccessToken, false},
		{"ErrOtherKey", sign(t, other, jwt.SigningMethodRS256, idc, s.kid), false},
		{"ErrAlgNone", none, false},
		{"ErrHS256WithPublicKeyPEM", sign(t, pubPEM, jwt.SigningMethodHS256, idc, s.kid), false},
		{"ErrHS256WithPublicKeyDER", sign(t, pubDER, jwt.SigningMethodHS256, idc, s.kid), false},
		{"ErrRS512", sign(t, s.key, jwt.SigningMethodRS512, idc, s.kid), false},
		{"ErrTamperedPayload", tampered, false},
		{"ErrWrongIssuer", sign(t, s.key, jwt.SigningMethodRS256, with(idc, "iss", "https://evil.example"), s.kid), false},
		{"ErrWrongAudience", sign(t, s.key, jwt.SigningMethodRS256, with(idc, "aud", "other-client"), s.kid), false},
		{"ErrNoAudience", sign(t, s.key, jwt.SigningMethodRS256, with(idc, "aud", nil), s.kid), false},
		{"ErrWrongClientID", sign(t, s.key, jwt.SigningMethodRS256, with(accc, "client_id", "other-client"), s.kid), false},
		{"ErrUnknownKid", sign(t, s.key, jwt.SigningMethodRS256, idc, "nope"), false},
		{"ErrNoKid", sign(t, s.key, jwt.SigningMethodRS256, idc, ""), false},
		{"ErrTokenUseRefresh", sign(t, s.key, jwt.SigningMethodRS256, with(idc, "token_use", "refresh"), s.kid), false},
		{"ErrNoTokenUse", sign(t, s.key, jwt.SigningMethodRS256, with(idc, "token_use", nil), s.kid), false},
		{"ErrNoExpiry", sign(t, s.key, jwt.SigningMethodRS256, with(idc, "exp", nil), s.kid), false},
		{"ErrNoSubject", sign(t, s.key, jwt.SigningMethodRS256, with(idc, "sub", nil), s.kid), false},
		{"ErrNotYetValid", sign(t, s.key, jwt.SigningMethodRS256, with(idc, "nbf", clk.now().Add(time.Hour).Unix()), s.kid), false},
		{"ErrGarbage", "a.b.c", false},
		{"ErrNotAJWT", "hello", false},
		{"ErrBearerOnly", "Bearer ", false},
		{"ErrEmpty", "", false},
		{"ErrHuge", strings.Repeat("a", maxTokenBytes+1), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			id, err := s.Verify(tt.token)
			if tt.ok {
				if err != nil {
					t.Fatalf("Verify = %v, want ok", err)
				}
				if id.UserID != idc["sub"] || id.Username != "ann@example.com" {
					t.Errorf("identity = %+v, want sub %v", id, idc["sub"])
				}
				if want := time.Unix(int64(idc["exp"].(float64)), 0); !id.ExpiresAt.Equal(want) {
					t.Errorf("ExpiresAt = %v, want %v", id.ExpiresAt, want)
				}
				return
			}
			wantCode(t, err, confab.CodeUnauthenticated)
			if id != (confab.Identity{}) {
				t.Errorf("identity on failure = %+v, want zero", id)
			}
		})
	}
}

func TestService_Verify_Cache(t *testing.T) {
	t.Run("HitSkipsRSA", func(t *testing.T) {
		s, _ := newService(t)
		tok := signUpAndLogin(t, s, "ann@example.com")
		first, err := s.Verify(tok.IDToken)
		if err != nil {
			t.Fatal(err)
		}
		if n := s.cache.len(); n != 1 {
			t.Fatalf("cache entries = %d, want 1", n)
		}
		// With the public key swapped, only a cache hit can still succeed.
		saved := s.key
		s.key, _ = rsa.GenerateKey(rand.Reader, 2048)
		t.Cleanup(func() { s.key = saved })
		second, err := s.Verify("Bearer " + tok.IDToken)
		if err != nil {
			t.Fatalf("second Verify = %v, want a cache hit", err)
		}
		if first != second {
			t.Errorf("cached identity = %+v, want %+v", second, first)
		}
		if _, err := s.Verify(tok.AccessToken); err == nil {
			t.Error("an uncached token verified against the wrong key")
		}
	})
	t.Run("ErrExpiredWhileCached", func(t *testing.T) {
		s, clk := newService(t)
		tok := signUpAndLogin(t, s, "ann@example.com")
		if _, err := s.Verify(tok.IDToken); err != nil {
			t.Fatal(err)
		}
		clk.add(time.Hour)
		_, err := s.Verify(tok.IDToken)
		wantCode(t, err, confab.CodeUnauthenticated)
		if confab.ErrorMessage(err) != "Token has expired." {
			t.Errorf("message = %q, want Token has expired.", confab.ErrorMessage(err))
		}
	})
	t.Run("BoundedOldestEvicted", func(t *testing.T) {
		c := newTokenCache(2)
		exp := time.Now().Add(time.Hour)
		keys := [][32]byte{{1}, {2}, {3}}
		for i, k := range keys {
			c.put(k, cacheEntry{id: confab.Identity{UserID: string(rune('a' + i)), ExpiresAt: exp}})
		}
		c.put(keys[2], cacheEntry{id: confab.Identity{UserID: "dup", ExpiresAt: exp}})
		if n := c.len(); n != 2 {
			t.Fatalf("entries = %d, want 2", n)
		}
		if _, ok := c.get(keys[0], time.Now()); ok {
			t.Error("the oldest entry survived")
		}
		if e, ok := c.get(keys[2], time.Now()); !ok || e.id.UserID != "c" {
			t.Errorf("newest entry = %+v, %v", e, ok)
		}
	})
}

func TestService_TokenClaims(t *testing.T) {
	s, _ := newService(t)
	tok := signUpAndLogin(t, s, "ann@example.com")
	for _, tt := range []struct {
		name, token, use string
		want, absent     []string
	}{
		{"ID", tok.IDToken, "id", []string{"sub", "email", "email_verified", "cognito:username", "aud", "iss", "exp", "iat", "auth_time", "jti", "origin_jti", "event_id"}, []string{"client_id"}},
		{"Access", tok.AccessToken, "access", []string{"sub", "username", "client_id", "scope", "iss", "exp", "iat", "auth_time", "jti", "origin_jti", "event_id"}, []string{"aud", "email"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			tk, _, err := jwt.NewParser().ParseUnverified(tt.token, jwt.MapClaims{})
			if err != nil {
				t.Fatal(err)
			}
			if tk.Header["alg"] != "RS256" || tk.Header["kid"] != s.kid || tk.Header["typ"] != nil {
				t.Errorf("header = %v, want {alg RS256, kid %s}", tk.Header, s.kid)
			}
			c := tk.Claims.(jwt.MapClaims)
			if c["token_use"] != tt.use || c["iss"] != "http://confab.test" {
				t.Errorf("token_use, iss = %v, %v", c["token_use"], c["iss"])
			}
			for _, k := range tt.want {
				if _, ok := c[k]; !ok {
					t.Errorf("claim %s missing from %v", k, c)
				}
			}
			for _, k := range tt.absent {
				if _, ok := c[k]; ok {
					t.Errorf("claim %s present", k)
				}
			}
			if exp, iat := c["exp"].(float64), c["iat"].(float64); exp-iat != 3600 {
				t.Errorf("exp - iat = %v, want 3600", exp-iat)
			}
		})
	}
}

func TestService_JWKS(t *testing.T) {
	s, _ := newService(t)
	tok := signUpAndLogin(t, s, "ann@example.com")
	var set struct {
		Keys []struct{ Kty, Alg, Use, Kid, N, E string }
	}
	if err := json.Unmarshal(s.JWKS(), &set); err != nil {
		t.Fatal(err)
	}
	if len(set.Keys) != 1 {
		t.Fatalf("keys = %d, want 1", len(set.Keys))
	}
	k := set.Keys[0]
	if k.Kty != "RSA" || k.Alg != "RS256" || k.Use != "sig" || k.Kid != s.kid {
		t.Errorf("key = %+v", k)
	}
	n, err1 := base64.RawURLEncoding.DecodeString(k.N)
	e, err2 := base64.RawURLEncoding.DecodeString(k.E)
	if err1 != nil || err2 != nil {
		t.Fatalf("n, e not base64url: %v, %v", err1, err2)
	}
	pub := &rsa.PublicKey{N: new(big.Int).SetBytes(n), E: int(new(big.Int).SetBytes(e).Int64())}
	// A third party verifies our token with nothing but the JWKS.
	if _, err := jwt.Parse(tok.IDToken, func(*jwt.Token) (any, error) { return pub, nil }, jwt.WithValidMethods([]string{"RS256"}), jwt.WithTimeFunc(s.now)); err != nil {
		t.Fatalf("token does not verify with the JWKS key: %v", err)
	}

	var oidc map[string]any
	if err := json.Unmarshal(s.OpenIDConfiguration("https://asked.example"), &oidc); err != nil {
		t.Fatal(err)
	}
	if oidc["issuer"] != "http://confab.test" || oidc["jwks_uri"] != "http://confab.test/.well-known/jwks.json" {
		t.Errorf("issuer, jwks_uri = %v, %v", oidc["issuer"], oidc["jwks_uri"])
	}
	// An issuer that is no URL (the default urn:confab:…) puts the endpoints
	// on the address the document was asked for on.
	urn, _ := newService(t, Config{Issuer: "urn:confab:abc", Now: s.now})
	oidc = nil
	if err := json.Unmarshal(urn.OpenIDConfiguration("https://asked.example"), &oidc); err != nil {
		t.Fatal(err)
	}
	if oidc["issuer"] != "urn:confab:abc" || oidc["jwks_uri"] != "https://asked.example/.well-known/jwks.json" {
		t.Errorf("urn issuer: issuer, jwks_uri = %v, %v", oidc["issuer"], oidc["jwks_uri"])
	}
	if algs, _ := oidc["id_token_signing_alg_values_supported"].([]any); len(algs) != 1 || algs[0] != "RS256" {
		t.Errorf("id_token_signing_alg_values_supported = %v", oidc["id_token_signing_alg_values_supported"])
	}
}

func benchService(b *testing.B) (*Service, string) {
	b.Helper()
	s, _ := newService(b, Config{Now: time.Now})
	if _, err := s.SignUp(ctx, SignUpInput{Email: "a@example.com", Password: testPassword}, ""); err != nil {
		b.Fatal(err)
	}
	tok, err := s.Login(ctx, "a@example.com", testPassword, "")
	if err != nil {
		b.Fatal(err)
	}
	return s, "Bearer " + tok.IDToken
}

// BenchmarkService_Verify is the per-request cost: a cached token.
func BenchmarkService_Verify(b *testing.B) {
	s, tok := benchService(b)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := s.Verify(tok); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkService_VerifyUncached is a token's first use: a full RSA
// verification.
func BenchmarkService_VerifyUncached(b *testing.B) {
	s, tok := benchService(b)
	b.ReportAllocs()
	for b.Loop() {
		s.cache.reset()
		if _, err := s.Verify(tok); err != nil {
			b.Fatal(err)
		}
	}
}
