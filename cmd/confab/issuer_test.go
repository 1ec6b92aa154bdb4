package main

import (
	"encoding/json"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/golang-jwt/jwt/v5"
)

// freeAddr returns a loopback address with a port nothing listens on now.
func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

func issuerOf(t *testing.T, token string) string {
	t.Helper()
	claims := jwt.MapClaims{}
	if _, _, err := jwt.NewParser().ParseUnverified(token, claims); err != nil {
		t.Fatal(err)
	}
	iss, _ := claims["iss"].(string)
	return iss
}

func (a *app) discoveryIssuer(t *testing.T) string {
	t.Helper()
	resp, err := http.Get(a.url + "/.well-known/openid-configuration")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var doc struct{ Issuer string }
	if err := json.NewDecoder(resp.Body).Decode(&doc); err != nil {
		t.Fatal(err)
	}
	return doc.Issuer
}

const listMine = `query($u:ID!){ listConversations(userId:$u){ items { conversationId } } }`

// TestMain_RestartOnAnotherPortKeepsSessions (#11 item 3): the default
// issuer does not come from the listen address, so tokens and refresh
// tokens issued on one port stay valid after a restart on another.
func TestMain_RestartOnAnotherPortKeepsSessions(t *testing.T) {
	data := t.TempDir()
	a, stop := startMain(t, data, "--http", freeAddr(t))
	alice := a.signUp(t, "alice")
	iss := issuerOf(t, alice.idToken)
	stop()

	b, stop := startMain(t, data, "--http", freeAddr(t))
	defer stop()
	if a.url == b.url {
		t.Fatalf("both runs on %s; the test needs two ports", a.url)
	}
	if !strings.HasPrefix(iss, "urn:confab:") || strings.Contains(iss, "127.0.0.1") {
		t.Errorf("default issuer %q, want urn:confab:<key hash>", iss)
	}
	if got := b.discoveryIssuer(t); got != iss {
		t.Errorf("after the restart the issuer is %q, was %q", got, iss)
	}
	for _, tok := range []string{alice.idToken, alice.accessToken} {
		b.mustGQL(t, tok, listMine, map[string]any{"u": alice.userID})
	}
	if status, body := b.postJSON(t, "/auth/refresh", map[string]string{"refreshToken": alice.refreshToken}, nil); status != http.StatusOK {
		t.Fatalf("refresh with the old refresh token: %d %v", status, body)
	}
}

// TestMain_NodesSharingKeyFile: two nodes given copies of one key file
// (at other paths, on other ports, no --issuer) name the same issuer.
// TestMultiNode_PostgresNATS shows such nodes accepting each other's
// tokens (that needs the shared store, where sign-ins are recorded).
func TestMain_NodesSharingKeyFile(t *testing.T) {
	key := filepath.Join(t.TempDir(), "key.pem")
	a, stopA := startMain(t, t.TempDir(), "--http", freeAddr(t), "--key-file", key)
	defer stopA()
	pem, err := os.ReadFile(key)
	if err != nil {
		t.Fatal(err)
	}
	copyOf := filepath.Join(t.TempDir(), "copy.pem")
	if err := os.WriteFile(copyOf, pem, 0o600); err != nil {
		t.Fatal(err)
	}
	b, stopB := startMain(t, t.TempDir(), "--http", freeAddr(t), "--key-file", copyOf)
	defer stopB()
	if ia, ib := a.discoveryIssuer(t), b.discoveryIssuer(t); ia != ib {
		t.Errorf("issuers %q and %q differ", ia, ib)
	}
}

// TestMain_PublicURLIsTheIssuer: with --public-url the tokens, the
// discovery document and its jwks_uri all name that URL.
func TestMain_PublicURLIsTheIssuer(t *testing.T) {
	a := runMain(t, "--public-url", "https://chat.example.com/")
	alice := a.signUp(t, "alice")
	if got := issuerOf(t, alice.accessToken); got != "https://chat.example.com" {
		t.Errorf("iss = %q, want https://chat.example.com", got)
	}
	if got := a.discoveryIssuer(t); got != "https://chat.example.com" {
		t.Errorf("discovery issuer = %q", got)
	}
	// --issuer still overrides.
	b := runMain(t, "--public-url", "https://chat.example.com", "--issuer", "https://id.example.com/")
	if got := issuerOf(t, b.signUp(t, "bob").idToken); got != "https://id.example.com" {
		t.Errorf("with --issuer: iss = %q", got)
	}
}
