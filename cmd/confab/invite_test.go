package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/confab-chat/confab"
	"github.com/confab-chat/confab/auth"
	"github.com/confab-chat/confab/store/sqlite"
)

func TestSignupConfig_DefaultWorkspace(t *testing.T) {
	tests := []struct {
		name    string
		c       signupConfig
		want    confab.Workspace
		wantErr bool
	}{
		{"OKOpen", signupConfig{Policy: "open"}, confab.Workspace{Signup: confab.SignupOpen}, false},
		{"OKInvitation", signupConfig{Policy: "invitation"}, confab.Workspace{Signup: confab.SignupInvitation}, false},
		{"OKDomain", signupConfig{Policy: "domain", Domains: "a.example, b.example"}, confab.Workspace{Signup: confab.SignupDomain, Domains: []string{"a.example", "b.example"}}, false},
		{"ErrEmpty", signupConfig{}, confab.Workspace{}, true},
		{"ErrUnknown", signupConfig{Policy: "closed"}, confab.Workspace{}, true},
		{"ErrDomainWithoutDomains", signupConfig{Policy: "domain"}, confab.Workspace{}, true},
		{"ErrDomainsWithoutDomainPolicy", signupConfig{Policy: "open", Domains: "a.example"}, confab.Workspace{}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.c.defaultWorkspace()
			var ue usageError
			if tt.wantErr {
				if !errors.As(err, &ue) {
					t.Fatalf("defaultWorkspace = %v, want a usage error", err)
				}
				return
			}
			if err != nil || got.Signup != tt.want.Signup || strings.Join(got.Domains, ",") != strings.Join(tt.want.Domains, ",") {
				t.Fatalf("defaultWorkspace = %+v, %v, want %+v", got, err, tt.want)
			}
		})
	}
}

// TestMain_WorkspaceInvite runs confab workspace invite and checks the
// link's token against the key the server derives from the same file.
func TestMain_WorkspaceInvite(t *testing.T) {
	data := t.TempDir()
	st, err := sqlite.Open(context.Background(), filepath.Join(data, "confab.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	keyFile := filepath.Join(data, "jwt-signing-key.pem")
	if _, err := auth.New(st, auth.Config{KeyFile: keyFile}); err != nil { // makes the key, as serve's first start does
		t.Fatal(err)
	}
	key, err := deriveKey(keyFile, invitationKeyPurpose)
	if err != nil {
		t.Fatal(err)
	}
	run := func(args ...string) (string, error) {
		var out, errOut bytes.Buffer
		m := &Main{Stdout: &out, Stderr: &errOut, Getenv: func(string) string { return "" }}
		err := m.Run(context.Background(), append([]string{"workspace", "invite", "--data", data}, args...))
		return strings.TrimSpace(out.String()), err
	}
	tests := []struct {
		name      string
		args      []string
		path      string // of the link
		workspace string // the token is for
		email     string // signing up
	}{
		{"OKWorkspace", []string{"--workspace", "acme", "--public-url", "https://chat.example.com/"}, "/w/acme/", "acme", "any@x.example"},
		{"OKDefault", []string{"--public-url", "https://chat.example.com"}, "/", "", "any@x.example"},
		{"OKDefaultByName", []string{"--workspace", "default", "--public-url", "https://chat.example.com"}, "/", "", "any@x.example"},
		{"OKBound", []string{"--workspace", "acme", "--email", "ann@x.example", "--public-url", "https://chat.example.com"}, "/w/acme/", "acme", "ann@x.example"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			link, err := run(tt.args...)
			if err != nil {
				t.Fatal(err)
			}
			u, err := url.Parse(link)
			if err != nil || u.Scheme != "https" || u.Host != "chat.example.com" || u.Path != tt.path {
				t.Fatalf("link = %q, want https://chat.example.com%s?invite=…", link, tt.path)
			}
			token := u.Query().Get("invite")
			if err := auth.VerifyInvitation(key, token, tt.workspace, tt.email, time.Now()); err != nil {
				t.Fatalf("the link's token: %v", err)
			}
			if err := auth.VerifyInvitation(key, token, tt.workspace, tt.email, time.Now().Add(168*time.Hour+time.Second)); err == nil {
				t.Error("the link's token is valid after the default --ttl")
			}
		})
	}
	t.Run("OKShortTTL", func(t *testing.T) {
		link, err := run("--workspace", "acme", "--ttl", "1m", "--public-url", "http://localhost:8080")
		if err != nil {
			t.Fatal(err)
		}
		u, _ := url.Parse(link)
		if err := auth.VerifyInvitation(key, u.Query().Get("invite"), "acme", "a@x.example", time.Now().Add(2*time.Minute)); err == nil {
			t.Error("a 1m invitation is valid 2 minutes later")
		}
	})
	refusals := []struct {
		name string
		args []string
	}{
		{"ErrNoPublicURL", []string{"--workspace", "acme"}},
		{"ErrBadWorkspace", []string{"--workspace", "Acme", "--public-url", "https://chat.example.com"}},
		{"ErrBadPublicURL", []string{"--workspace", "acme", "--public-url", "chat.example.com"}},
		{"ErrNegativeTTL", []string{"--workspace", "acme", "--ttl", "-1h", "--public-url", "https://chat.example.com"}},
		{"ErrBadEmail", []string{"--workspace", "acme", "--email", "Ann <ann@x.example>", "--public-url", "https://chat.example.com"}},
		{"ErrNoKey", []string{"--workspace", "acme", "--key-file", filepath.Join(data, "absent.pem"), "--public-url", "https://chat.example.com"}},
	}
	wsFile := filepath.Join(data, "workspaces.json")
	if err := os.WriteFile(wsFile, []byte(`[{"id":"acme","signup":"invitation"},{"id":"open-co"}]`), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Run("OKListed", func(t *testing.T) {
		if _, err := run("--workspace", "acme", "--workspaces", wsFile, "--public-url", "https://chat.example.com"); err != nil {
			t.Fatal(err)
		}
	})
	refusals = append(refusals, struct {
		name string
		args []string
	}{"ErrNotListed", []string{"--workspace", "globex", "--workspaces", wsFile, "--public-url", "https://chat.example.com"}})
	for _, tt := range refusals {
		t.Run(tt.name, func(t *testing.T) {
			var ue usageError
			if _, err := run(tt.args...); !errors.As(err, &ue) {
				t.Fatalf("workspace invite %v = %v, want a usage error", tt.args, err)
			}
		})
	}
	if _, err := os.Stat(filepath.Join(data, "absent.pem")); err == nil {
		t.Error("workspace invite made a signing key")
	}
}

// TestMain_WorkspaceSignupPolicy runs serve with workspaces of each policy
// and signs up through /w/<id>/auth/signup and /w/<id>/cognito: the link of
// workspace invite admits a sign-up in its workspace only, and a domain
// workspace admits its domains only.
func TestMain_WorkspaceSignupPolicy(t *testing.T) {
	data := t.TempDir()
	wsFile := filepath.Join(t.TempDir(), "workspaces.json")
	if err := os.WriteFile(wsFile, []byte(`[{"id":"acme","signup":"invitation"},{"id":"globex","signup":"domain","domains":["Globex.example"]}]`), 0o600); err != nil {
		t.Fatal(err)
	}
	a, stop := startMain(t, data, "--workspaces", wsFile)
	t.Cleanup(stop)
	link := func(workspace string) string {
		t.Helper()
		var out bytes.Buffer
		m := &Main{Stdout: &out, Stderr: io.Discard, Getenv: func(string) string { return "" }}
		if err := m.Run(context.Background(), []string{"workspace", "invite", "--data", data, "--workspace", workspace, "--public-url", a.url, "--workspaces", wsFile}); err != nil {
			t.Fatal(err)
		}
		return strings.TrimSpace(out.String())
	}
	tokenOf := func(link string) string {
		u, err := url.Parse(link)
		if err != nil {
			t.Fatal(err)
		}
		return u.Query().Get("invite")
	}
	acmeLink := link("acme")
	if !strings.HasPrefix(acmeLink, a.url+"/w/acme/?invite=") {
		t.Fatalf("link = %q, want %s/w/acme/?invite=…", acmeLink, a.url)
	}
	signup := func(path, email, invitation string) (int, string) {
		t.Helper()
		status, body := a.postJSON(t, path, map[string]string{"email": email, "password": "Passw0rd!x", "invitation": invitation}, nil)
		e, _ := body["error"].(map[string]any)
		code, _ := e["code"].(string)
		return status, code
	}
	tests := []struct {
		name, path, email, invitation string
		status                        int
	}{
		{"ErrAcmeNoInvitation", "/w/acme/auth/signup", "a@x.example", "", http.StatusForbidden},
		{"ErrAcmeDefaultsInvitation", "/w/acme/auth/signup", "a@x.example", tokenOf(link("default")), http.StatusForbidden},
		{"OKAcme", "/w/acme/auth/signup", "a@x.example", tokenOf(acmeLink), http.StatusOK},
		{"OKDefaultOpen", "/auth/signup", "b@x.example", "", http.StatusOK},
		{"ErrGlobexOtherDomain", "/w/globex/auth/signup", "c@x.example", "", http.StatusForbidden},
		{"ErrGlobexSubdomain", "/w/globex/auth/signup", "c@sub.globex.example", "", http.StatusForbidden},
		{"OKGlobex", "/w/globex/auth/signup", "c@GLOBEX.example", "", http.StatusOK},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, code := signup(tt.path, tt.email, tt.invitation)
			if status != tt.status || (status == http.StatusForbidden) != (code == "NotAuthorized") {
				t.Fatalf("sign-up = %d %s, want %d", status, code, tt.status)
			}
		})
	}
	// The invited account is acme's: unknown at the root.
	if status, body := a.postJSON(t, "/auth/login", map[string]string{"email": "a@x.example", "password": "Passw0rd!x"}, nil); status != http.StatusUnauthorized {
		t.Errorf("acme's account at the root: login = %d %v, want 401", status, body)
	}
	// Cognito's SignUp takes the invitation in ClientMetadata.
	cognito := func(metadata map[string]string, email string) int {
		t.Helper()
		b, _ := json.Marshal(map[string]any{"ClientId": "confab", "Username": email, "Password": "Passw0rd!x", "ClientMetadata": metadata})
		req, _ := http.NewRequest(http.MethodPost, a.url+"/w/acme/cognito", bytes.NewReader(b))
		req.Header.Set("Content-Type", "application/x-amz-json-1.1")
		req.Header.Set("X-Amz-Target", "AWSCognitoIdentityProviderService.SignUp")
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res.StatusCode
	}
	if got := cognito(nil, "d@x.example"); got != http.StatusBadRequest {
		t.Errorf("Cognito SignUp without an invitation = %d, want 400 NotAuthorizedException", got)
	}
	if got := cognito(map[string]string{"invitation": tokenOf(link("acme"))}, "d@x.example"); got != http.StatusOK {
		t.Errorf("Cognito SignUp with an invitation = %d, want 200", got)
	}
}

// TestMain_DefaultSignupPolicy: --signup-policy sets the default
// workspace's policy; the root link of workspace invite admits a sign-up;
// --demo still makes its users (an operator's accounts, not sign-ups).
func TestMain_DefaultSignupPolicy(t *testing.T) {
	t.Run("Invitation", func(t *testing.T) {
		data := t.TempDir()
		a, stop := startMain(t, data, "--signup-policy", "invitation")
		t.Cleanup(stop)
		if status, body := a.postJSON(t, "/auth/signup", map[string]string{"email": "a@x.example", "password": "Passw0rd!x"}, nil); status != http.StatusForbidden {
			t.Fatalf("sign-up without an invitation = %d %v, want 403", status, body)
		}
		var out bytes.Buffer
		m := &Main{Stdout: &out, Stderr: io.Discard, Getenv: func(string) string { return "" }}
		if err := m.Run(context.Background(), []string{"workspace", "invite", "--data", data, "--public-url", a.url}); err != nil {
			t.Fatal(err)
		}
		u, err := url.Parse(strings.TrimSpace(out.String()))
		if err != nil || u.Path != "/" {
			t.Fatalf("link = %q, want the root", out.String())
		}
		if status, body := a.postJSON(t, "/auth/signup", map[string]string{"email": "a@x.example", "password": "Passw0rd!x", "invitation": u.Query().Get("invite")}, nil); status != http.StatusOK {
			t.Fatalf("sign-up with the link's invitation = %d %v, want 200", status, body)
		}
	})
	t.Run("Domain", func(t *testing.T) {
		a := runMain(t, "--signup-policy", "domain", "--signup-domains", "corp.example", "--demo")
		if status, body := a.postJSON(t, "/auth/signup", map[string]string{"email": "a@x.example", "password": "Passw0rd!x"}, nil); status != http.StatusForbidden {
			t.Fatalf("sign-up outside the domain = %d %v, want 403", status, body)
		}
		if status, body := a.postJSON(t, "/auth/signup", map[string]string{"email": "a@corp.example", "password": "Passw0rd!x"}, nil); status != http.StatusOK {
			t.Fatalf("sign-up in the domain = %d %v, want 200", status, body)
		}
	})
}
