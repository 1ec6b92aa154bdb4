package server

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/confab-chat/confab"
	"github.com/confab-chat/confab/auth"
	"github.com/confab-chat/confab/store/sqlite"
)

// authTestKeyPEM is one RSA key for the package's auth tests: generating a
// key per test would dominate the run time under -race.
var authTestKeyPEM = sync.OnceValue(func() []byte {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(k)})
})

// newAuthTestServer serves the real auth handler on loopback, backed by a
// real SQLite store.
func newAuthTestServer(t *testing.T, cfg auth.Config) (*httptest.Server, *auth.Service) {
	t.Helper()
	dir := t.TempDir()
	st, err := sqlite.Open(context.Background(), filepath.Join(dir, "confab.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	cfg.KeyFile = filepath.Join(dir, "key.pem")
	if err := os.WriteFile(cfg.KeyFile, authTestKeyPEM(), 0o600); err != nil {
		t.Fatal(err)
	}
	a, err := auth.New(st, cfg)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(newAuthHandler(a, slog.New(slog.NewTextHandler(t.Output(), nil)), ""))
	t.Cleanup(srv.Close)
	return srv, a
}

// authResponse is a decoded /auth answer.
type authResponse struct {
	status int
	header http.Header
	raw    []byte
	body   map[string]any
}

// code returns the error code of an error body.
func (r authResponse) code() string {
	e, _ := r.body["error"].(map[string]any)
	s, _ := e["code"].(string)
	return s
}

// message returns the message of an error body.
func (r authResponse) message() string {
	e, _ := r.body["error"].(map[string]any)
	s, _ := e["message"].(string)
	return s
}

func (r authResponse) str(key string) string {
	s, _ := r.body[key].(string)
	return s
}

// authPost sends body to path with the given content type.
func authPost(t *testing.T, srv *httptest.Server, path, contentType string, body io.Reader) authResponse {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, srv.URL+path, body)
	if err != nil {
		t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	return authDo(t, srv, req)
}

// authPostJSON sends v as a JSON body.
func authPostJSON(t *testing.T, srv *httptest.Server, path string, v any) authResponse {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return authPost(t, srv, path, "application/json", bytes.NewReader(b))
}

func authDo(t *testing.T, srv *httptest.Server, req *http.Request) authResponse {
	t.Helper()
	res, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	out := authResponse{status: res.StatusCode, header: res.Header, raw: raw}
	if !strings.HasPrefix(res.Header.Get("Content-Type"), "application/json") {
		t.Fatalf("%s %s: Content-Type = %q, want JSON (body %s)", req.Method, req.URL.Path, res.Header.Get("Content-Type"), raw)
	}
	if err := json.Unmarshal(raw, &out.body); err != nil {
		t.Fatalf("%s %s: body %s is not a JSON object: %v", req.Method, req.URL.Path, raw, err)
	}
	return out
}

// authWantError checks an error answer: status, code in body and header.
func authWantError(t *testing.T, r authResponse, status int, code string) {
	t.Helper()
	if r.status != status || r.code() != code {
		t.Fatalf("answer = %d %s, want %d %s (body %s)", r.status, r.code(), status, code, r.raw)
	}
	if got := r.header.Get("x-amzn-ErrorType"); got != code {
		t.Errorf("x-amzn-ErrorType = %q, want %q", got, code)
	}
	if r.message() == "" {
		t.Errorf("error without a message: %s", r.raw)
	}
}

const authTestPassword = "Passw0rd!"

func TestAuthHandler_Flow(t *testing.T) {
	srv, a := newAuthTestServer(t, auth.Config{})

	su := authPostJSON(t, srv, "/auth/signup", map[string]string{"email": "Ann@Example.com", "password": authTestPassword, "username": "ann", "displayName": "Ann"})
	if su.status != http.StatusOK || su.str("userId") == "" || su.str("username") != "ann" || su.str("email") != "ann@example.com" || su.body["userConfirmed"] != true {
		t.Fatalf("signup = %d %s", su.status, su.raw)
	}

	var tokens []authResponse
	for _, field := range []string{"email", "username", "login"} {
		login := "ann"
		if field == "email" {
			login = "ann@example.com"
		}
		r := authPostJSON(t, srv, "/auth/login", map[string]string{field: login, "password": authTestPassword})
		if r.status != http.StatusOK {
			t.Fatalf("login by %s = %d %s", field, r.status, r.raw)
		}
		for _, k := range []string{"idToken", "accessToken", "refreshToken"} {
			if r.str(k) == "" {
				t.Errorf("login by %s: %s missing from %s", field, k, r.raw)
			}
		}
		if r.body["expiresIn"] != 3600.0 || r.str("tokenType") != "Bearer" {
			t.Errorf("login by %s: expiresIn, tokenType = %v, %v", field, r.body["expiresIn"], r.body["tokenType"])
		}
		if r.header.Get("Cache-Control") != "no-store" {
			t.Errorf("tokens must not be cached: Cache-Control = %q", r.header.Get("Cache-Control"))
		}
		tokens = append(tokens, r)
	}
	id, err := a.Verify(tokens[0].str("idToken"))
	if err != nil || id.UserID != su.str("userId") {
		t.Fatalf("Verify(id token) = %+v, %v; want user %s", id, err, su.str("userId"))
	}

	old := tokens[0].str("refreshToken")
	ref := authPostJSON(t, srv, "/auth/refresh", map[string]string{"refreshToken": old})
	if ref.status != http.StatusOK || ref.str("refreshToken") == "" || ref.str("refreshToken") == old || ref.str("accessToken") == "" {
		t.Fatalf("refresh = %d %s", ref.status, ref.raw)
	}
	if _, err := a.Verify("Bearer " + ref.str("accessToken")); err != nil {
		t.Fatalf("Verify(refreshed access token) = %v", err)
	}
	authWantError(t, authPostJSON(t, srv, "/auth/refresh", map[string]string{"refreshToken": old}), http.StatusUnauthorized, "NotAuthorized")

	lo := authPostJSON(t, srv, "/auth/logout", map[string]string{"refreshToken": tokens[1].str("refreshToken")})
	if lo.status != http.StatusOK || string(bytes.TrimSpace(lo.raw)) != "{}" {
		t.Fatalf("logout = %d %s, want 200 {}", lo.status, lo.raw)
	}
	authWantError(t, authPostJSON(t, srv, "/auth/refresh", map[string]string{"refreshToken": tokens[1].str("refreshToken")}), http.StatusUnauthorized, "NotAuthorized")
	if r := authPostJSON(t, srv, "/auth/refresh", map[string]string{"refreshToken": tokens[2].str("refreshToken")}); r.status != http.StatusOK {
		t.Errorf("another session's refresh after logout = %d %s, want 200", r.status, r.raw)
	}
}

func TestAuthHandler_Errors(t *testing.T) {
	srv, _ := newAuthTestServer(t, auth.Config{})
	if r := authPostJSON(t, srv, "/auth/signup", map[string]string{"email": "bo@example.com", "password": authTestPassword, "username": "bo"}); r.status != http.StatusOK {
		t.Fatalf("signup = %d %s", r.status, r.raw)
	}
	tests := []struct {
		name   string
		path   string
		body   any
		status int
		code   string
	}{
		{"SignupDuplicateEmail", "/auth/signup", map[string]string{"email": "BO@example.com", "password": authTestPassword}, http.StatusBadRequest, "InvalidParameter"},
		{"SignupDuplicateUsername", "/auth/signup", map[string]string{"email": "b2@example.com", "password": authTestPassword, "username": "bo"}, http.StatusBadRequest, "InvalidParameter"},
		{"SignupDuplicateUsernameOtherCase", "/auth/signup", map[string]string{"email": "b3@example.com", "password": authTestPassword, "username": "Bo"}, http.StatusBadRequest, "InvalidParameter"},
		{"SignupWeakPassword", "/auth/signup", map[string]string{"email": "cy@example.com", "password": "password"}, http.StatusBadRequest, "InvalidPassword"},
		{"SignupBadEmail", "/auth/signup", map[string]string{"email": "cy", "password": authTestPassword}, http.StatusBadRequest, "InvalidParameter"},
		{"SignupBadUsername", "/auth/signup", map[string]string{"email": "cy@example.com", "password": authTestPassword, "username": "c y"}, http.StatusBadRequest, "InvalidParameter"},
		{"SignupLongDisplayName", "/auth/signup", map[string]string{"email": "cy@example.com", "password": authTestPassword, "displayName": strings.Repeat("x", 129)}, http.StatusBadRequest, "InvalidParameter"},
		{"LoginWrongPassword", "/auth/login", map[string]string{"email": "bo@example.com", "password": "Wrong0000"}, http.StatusUnauthorized, "NotAuthorized"},
		{"LoginUnknownUser", "/auth/login", map[string]string{"email": "nobody@example.com", "password": "Wrong0000"}, http.StatusUnauthorized, "NotAuthorized"},
		{"LoginNoPassword", "/auth/login", map[string]string{"email": "bo@example.com"}, http.StatusBadRequest, "InvalidParameter"},
		{"LoginNoLogin", "/auth/login", map[string]string{"password": authTestPassword}, http.StatusBadRequest, "InvalidParameter"},
		{"RefreshUnknown", "/auth/refresh", map[string]string{"refreshToken": "made-up"}, http.StatusUnauthorized, "NotAuthorized"},
		{"RefreshMissing", "/auth/refresh", map[string]string{}, http.StatusBadRequest, "InvalidParameter"},
		{"LogoutMissing", "/auth/logout", map[string]string{}, http.StatusBadRequest, "InvalidParameter"},
		{"WrongType", "/auth/login", map[string]any{"email": 1, "password": authTestPassword}, http.StatusBadRequest, "InvalidParameter"},
		{"UnknownField", "/auth/signup", map[string]any{"email": "dd@example.com", "password": authTestPassword, "admin": true}, http.StatusBadRequest, "InvalidParameter"},
		{"Array", "/auth/login", []string{"bo", authTestPassword}, http.StatusBadRequest, "InvalidParameter"},
		{"Null", "/auth/refresh", nil, http.StatusBadRequest, "InvalidParameter"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			authWantError(t, authPostJSON(t, srv, tt.path, tt.body), tt.status, tt.code)
		})
	}

	t.Run("SameAnswerUnknownUserAndWrongPassword", func(t *testing.T) {
		wrong := authPostJSON(t, srv, "/auth/login", map[string]string{"username": "bo", "password": "Wrong0000"})
		unknown := authPostJSON(t, srv, "/auth/login", map[string]string{"username": "nobody", "password": "Wrong0000"})
		if wrong.status != unknown.status || !bytes.Equal(wrong.raw, unknown.raw) {
			t.Fatalf("wrong password %d %s vs unknown user %d %s: must be identical", wrong.status, wrong.raw, unknown.status, unknown.raw)
		}
		if wrong.message() != "Incorrect username or password." {
			t.Errorf("message = %q", wrong.message())
		}
	})
	// A registered email must not be told apart by the answer's status or
	// code (issue 18: 409 against 400 enumerated accounts), nor named.
	t.Run("SignupTakenEmailLikeOtherRefusals", func(t *testing.T) {
		taken := authPostJSON(t, srv, "/auth/signup", map[string]string{"email": "bo@example.com", "password": authTestPassword, "username": "fresh"})
		other := authPostJSON(t, srv, "/auth/signup", map[string]string{"email": "cy@example.com", "password": authTestPassword, "username": "c y"})
		if taken.status != other.status || taken.code() != other.code() || taken.header.Get("x-amzn-ErrorType") != other.header.Get("x-amzn-ErrorType") {
			t.Fatalf("taken email %d %s vs another refusal %d %s: want the same status and code", taken.status, taken.raw, other.status, other.raw)
		}
		if m := strings.ToLower(taken.message()); strings.Contains(m, "exist") || strings.Contains(m, "taken") {
			t.Errorf("message %q says an account exists", taken.message())
		}
	})
	t.Run("LogoutUnknownIsOK", func(t *testing.T) {
		if r := authPostJSON(t, srv, "/auth/logout", map[string]string{"refreshToken": "made-up"}); r.status != http.StatusOK {
			t.Fatalf("logout = %d %s, want 200", r.status, r.raw)
		}
	})
}

// authHiddenLength hides a reader's length so the request goes out chunked,
// with no Content-Length to refuse it early.
type authHiddenLength struct{ io.Reader }

func TestAuthHandler_Bodies(t *testing.T) {
	srv, _ := newAuthTestServer(t, auth.Config{})
	valid := `{"email":"nobody@example.com","password":"Wrong0000"}`
	big := `{"email":"` + strings.Repeat("a", 70<<10) + `","password":"x"}`
	tests := []struct {
		name        string
		contentType string
		body        io.Reader
		status      int
	}{
		{"OKCharset", "application/json; charset=utf-8", strings.NewReader(valid), http.StatusUnauthorized},
		{"OKTrailingWhiteSpace", "application/json", strings.NewReader(valid + "\n\t "), http.StatusUnauthorized},
		{"Oversized", "application/json", strings.NewReader(big), http.StatusRequestEntityTooLarge},
		{"OversizedChunked", "application/json", authHiddenLength{strings.NewReader(big)}, http.StatusRequestEntityTooLarge},
		{"OversizedByPadding", "application/json", authHiddenLength{strings.NewReader(valid + strings.Repeat(" ", 70<<10))}, http.StatusRequestEntityTooLarge},
		{"Malformed", "application/json", strings.NewReader(`{"email":`), http.StatusBadRequest},
		{"NotJSON", "application/json", strings.NewReader(`email=a&password=b`), http.StatusBadRequest},
		{"Empty", "application/json", strings.NewReader(""), http.StatusBadRequest},
		{"TwoObjects", "application/json", strings.NewReader(valid + valid), http.StatusBadRequest},
		{"TrailingGarbage", "application/json", strings.NewReader(valid + " x"), http.StatusBadRequest},
		{"WrongContentType", "text/plain", strings.NewReader(valid), http.StatusUnsupportedMediaType},
		{"FormContentType", "application/x-www-form-urlencoded", strings.NewReader(valid), http.StatusUnsupportedMediaType},
		{"NoContentType", "", strings.NewReader(valid), http.StatusUnsupportedMediaType},
		{"BadContentType", "application/json; =", strings.NewReader(valid), http.StatusUnsupportedMediaType},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := authPost(t, srv, "/auth/login", tt.contentType, tt.body)
			code := "InvalidParameter"
			if tt.status == http.StatusUnauthorized {
				code = "NotAuthorized"
			}
			authWantError(t, r, tt.status, code)
		})
	}
}

func TestAuthHandler_TooManyRequests(t *testing.T) {
	t.Run("LoginLockout", func(t *testing.T) {
		srv, _ := newAuthTestServer(t, auth.Config{})
		for i := range 5 {
			r := authPostJSON(t, srv, "/auth/login", map[string]string{"email": "nobody@example.com", "password": "Wrong0000"})
			if r.status != http.StatusUnauthorized {
				t.Fatalf("failure %d = %d %s, want 401", i+1, r.status, r.raw)
			}
		}
		r := authPostJSON(t, srv, "/auth/login", map[string]string{"email": "nobody@example.com", "password": "Wrong0000"})
		authWantError(t, r, http.StatusTooManyRequests, "TooManyRequests")
		if got := r.header.Get("Retry-After"); got != "900" {
			t.Errorf("Retry-After = %q, want 900", got)
		}
	})
	t.Run("Signups", func(t *testing.T) {
		srv, _ := newAuthTestServer(t, auth.Config{SignupsPerMinute: 1})
		if r := authPostJSON(t, srv, "/auth/signup", map[string]string{"email": "a@example.com", "password": authTestPassword}); r.status != http.StatusOK {
			t.Fatalf("first signup = %d %s", r.status, r.raw)
		}
		r := authPostJSON(t, srv, "/auth/signup", map[string]string{"email": "b@example.com", "password": authTestPassword})
		authWantError(t, r, http.StatusTooManyRequests, "TooManyRequests")
		if got := r.header.Get("Retry-After"); got != "60" {
			t.Errorf("Retry-After = %q, want 60", got)
		}
	})
}

func TestAuthHandler_Discovery(t *testing.T) {
	srv, a := newAuthTestServer(t, auth.Config{Issuer: "https://chat.example"})
	get := func(path string) authResponse {
		t.Helper()
		req, err := http.NewRequest(http.MethodGet, srv.URL+path, nil)
		if err != nil {
			t.Fatal(err)
		}
		r := authDo(t, srv, req)
		if r.status != http.StatusOK {
			t.Fatalf("GET %s = %d %s", path, r.status, r.raw)
		}
		return r
	}
	jwks := get("/.well-known/jwks.json")
	if !bytes.Equal(bytes.TrimSpace(jwks.raw), a.JWKS()) {
		t.Errorf("jwks = %s, want %s", jwks.raw, a.JWKS())
	}
	keys, _ := jwks.body["keys"].([]any)
	if len(keys) != 1 {
		t.Errorf("jwks keys = %v, want one", jwks.body["keys"])
	}
	oidc := get("/.well-known/openid-configuration")
	if oidc.str("issuer") != "https://chat.example" || oidc.str("jwks_uri") != "https://chat.example/.well-known/jwks.json" {
		t.Errorf("openid-configuration = %s", oidc.raw)
	}
}

func TestAuthWireCode(t *testing.T) {
	policy := auth.DefaultPasswordPolicy.Check("weak")
	tests := []struct {
		name string
		err  error
		want string
	}{
		{"PasswordPolicy", policy, "InvalidPassword"},
		{"PasswordPolicyWrapped", fmt.Errorf("signup: %w", policy), "InvalidPassword"},
		{"Invalid", confab.Errorf(confab.CodeInvalid, "bad"), "InvalidParameter"},
		{"Unauthenticated", confab.Errorf(confab.CodeUnauthenticated, "no"), "NotAuthorized"},
		{"Conflict", confab.Errorf(confab.CodeConflict, "taken"), "UsernameExists"},
		{"Limited", confab.Errorf(confab.CodeLimited, "slow down"), "TooManyRequests"},
		{"Unavailable", confab.Errorf(confab.CodeUnavailable, "down"), "ServiceUnavailable"},
		{"Internal", errors.New("disk on fire"), "InternalError"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := authWireCode(tt.err); got != tt.want {
				t.Errorf("authWireCode(%v) = %q, want %q", tt.err, got, tt.want)
			}
		})
	}
}

// TestAuthHandler_SignupPolicy checks that /auth/signup carries the
// invitation token to the workspace's sign-up policy, and that a refusal
// has the shape of every other /auth error.
func TestAuthHandler_SignupPolicy(t *testing.T) {
	key := []byte("0123456789abcdef0123456789abcdef")
	acme := confab.Workspace{ID: "acme", Signup: confab.SignupInvitation}
	srv, a := newAuthTestServer(t, auth.Config{Workspace: acme, InvitationKey: key})
	now := time.Now()
	tests := []struct {
		name       string
		email      string
		invitation string
		status     int
		code       string
	}{
		{"ErrNoInvitation", "ann@example.com", "", http.StatusForbidden, "NotAuthorized"},
		{"ErrOtherWorkspace", "ann@example.com", auth.NewInvitation(key, "globex", "", time.Hour, now), http.StatusForbidden, "NotAuthorized"},
		{"ErrExpired", "ann@example.com", auth.NewInvitation(key, "acme", "", time.Hour, now.Add(-2*time.Hour)), http.StatusForbidden, "NotAuthorized"},
		{"OK", "ann@example.com", auth.NewInvitation(key, "acme", "ann@example.com", time.Hour, now), http.StatusOK, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := authPostJSON(t, srv, "/auth/signup", map[string]string{"email": tt.email, "password": authTestPassword, "invitation": tt.invitation})
			if r.status != tt.status || r.code() != tt.code {
				t.Fatalf("signup = %d %s, want %d %s", r.status, r.raw, tt.status, tt.code)
			}
			if tt.code != "" && (r.header.Get("x-amzn-ErrorType") != tt.code || !strings.Contains(r.message(), "invitation")) {
				t.Errorf("refusal = %v %s, want x-amzn-ErrorType %s and a message about the invitation", r.header, r.raw, tt.code)
			}
		})
	}
	if _, _, err := a.Account(context.Background(), "ann@example.com"); err != nil {
		t.Fatalf("the invited account: %v", err)
	}
}
