package main

import (
	"bytes"
	"encoding/json"
	"io"
	"log"
	"net"
	"net/http"
	"net/mail"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-smtp"
	"github.com/golang-jwt/jwt/v5"
)

// cognitoCall posts one AWS JSON 1.1 request to /cognito, unsigned, as
// Amplify does; it returns the status, the exception name (empty on
// success) and the decoded body.
func (a *app) cognitoCall(t *testing.T, op string, body any) (int, string, map[string]any) {
	t.Helper()
	b, _ := json.Marshal(body)
	req, _ := http.NewRequest(http.MethodPost, a.url+"/cognito", bytes.NewReader(b))
	req.Header.Set("Content-Type", "application/x-amz-json-1.1")
	req.Header.Set("X-Amz-Target", "AWSCognitoIdentityProviderService."+op)
	client := a.client
	if client == nil {
		client = http.DefaultClient
	}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		t.Fatalf("%s: body is not JSON: %v", op, err)
	}
	name, _ := out["__type"].(string)
	return resp.StatusCode, name, out
}

func (a *app) cognitoSignUp(t *testing.T, clientID, email string) map[string]any {
	t.Helper()
	_, errName, out := a.cognitoCall(t, "SignUp", map[string]any{"ClientId": clientID, "Username": email, "Password": "Passw0rd!x",
		"UserAttributes": []map[string]string{{"Name": "email", "Value": email}}})
	if errName != "" {
		t.Fatalf("SignUp: %s %v", errName, out)
	}
	return out
}

func passwordAuth(clientID, login string) map[string]any {
	return map[string]any{"AuthFlow": "USER_PASSWORD_AUTH", "ClientId": clientID, "AuthParameters": map[string]string{"USERNAME": login, "PASSWORD": "Passw0rd!x"}}
}

// srpStart is a well-formed USER_SRP_AUTH first step (A = 2).
func srpStart(clientID, login string) map[string]any {
	return map[string]any{"AuthFlow": "USER_SRP_AUTH", "ClientId": clientID, "AuthParameters": map[string]string{"USERNAME": login, "SRP_A": "2"}}
}

// TestMain_CognitoSettings: the pool, client, SRP and admin-key flags reach
// the Cognito API and the tokens it issues.
func TestMain_CognitoSettings(t *testing.T) {
	a := runMain(t, "--user-pool-id", "eu_chat", "--client-id", "web")
	a.cognitoSignUp(t, "web", "alice@example.com")
	if _, errName, _ := a.cognitoCall(t, "InitiateAuth", passwordAuth(defaultClientID, "alice@example.com")); errName != "ResourceNotFoundException" {
		t.Errorf("the default client id still works: %q", errName)
	}
	_, errName, out := a.cognitoCall(t, "InitiateAuth", passwordAuth("web", "alice@example.com"))
	if errName != "" {
		t.Fatalf("InitiateAuth: %s %v", errName, out)
	}
	access := out["AuthenticationResult"].(map[string]any)["AccessToken"].(string)
	claims := jwt.MapClaims{}
	if _, _, err := jwt.NewParser().ParseUnverified(access, claims); err != nil || claims["client_id"] != "web" {
		t.Errorf("access token client_id = %v (%v), want web", claims["client_id"], err)
	}
	if _, errName, out := a.cognitoCall(t, "InitiateAuth", srpStart("web", "alice@example.com")); out["ChallengeName"] != "PASSWORD_VERIFIER" {
		t.Errorf("SRP is on by default, got %s %v", errName, out)
	}
	// With no admin key configured, admin operations are refused.
	if status, errName, _ := a.cognitoCall(t, "ListUsers", map[string]any{"UserPoolId": "eu_chat"}); status != http.StatusBadRequest || errName == "" {
		t.Errorf("ListUsers without an admin key: %d %q", status, errName)
	}

	b := runMain(t, "--srp=false")
	b.cognitoSignUp(t, defaultClientID, "bob@example.com")
	if _, errName, out := b.cognitoCall(t, "InitiateAuth", srpStart(defaultClientID, "bob@example.com")); errName == "" {
		t.Errorf("--srp=false still answers USER_SRP_AUTH: %v", out)
	}
	if _, errName, out := b.cognitoCall(t, "InitiateAuth", passwordAuth(defaultClientID, "bob@example.com")); errName != "" {
		t.Errorf("--srp=false refuses USER_PASSWORD_AUTH too: %s %v", errName, out)
	}
}

// inbox is a real SMTP server (go-smtp) on 127.0.0.1:0 that hands each
// message it receives to got.
type inbox struct {
	addr string
	got  chan *mail.Message
}

func startInbox(t *testing.T) *inbox {
	t.Helper()
	in := &inbox{got: make(chan *mail.Message, 10)}
	s := smtp.NewServer(smtp.BackendFunc(func(*smtp.Conn) (smtp.Session, error) { return inboxSession{in}, nil }))
	s.Domain = "localhost"
	s.ErrorLog = log.New(io.Discard, "", 0)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	in.addr = l.Addr().String()
	go s.Serve(l)
	t.Cleanup(func() { s.Close() })
	return in
}

type inboxSession struct{ in *inbox }

func (inboxSession) Mail(string, *smtp.MailOptions) error { return nil }
func (inboxSession) Rcpt(string, *smtp.RcptOptions) error { return nil }
func (inboxSession) Reset()                               {}
func (inboxSession) Logout() error                        { return nil }
func (s inboxSession) Data(r io.Reader) error {
	m, err := mail.ReadMessage(r)
	if err == nil {
		s.in.got <- m
	}
	return err
}

// TestMain_SMTPConfirmation: with --smtp-url a sign-up is not confirmed at
// once; its code arrives by mail at the address signed up with.
func TestMain_SMTPConfirmation(t *testing.T) {
	in := startInbox(t)
	a := runMain(t, "--smtp-url", "smtp://"+in.addr, "--mail-from", "confab <no-reply@chat.example.com>")
	out := a.cognitoSignUp(t, defaultClientID, "carol@example.com")
	if out["UserConfirmed"] != false {
		t.Errorf("SignUp with mail: %v, want UserConfirmed false", out)
	}
	select {
	case m := <-in.got:
		if to := m.Header.Get("To"); !strings.Contains(to, "carol@example.com") {
			t.Errorf("mail to %q", to)
		}
		body, _ := io.ReadAll(m.Body)
		if !regexp.MustCompile(`\b\d{6}\b`).Match(body) {
			t.Errorf("no six-digit code in %q", body)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("no mail arrived")
	}
	if _, errName, _ := a.cognitoCall(t, "InitiateAuth", passwordAuth(defaultClientID, "carol@example.com")); errName != "UserNotConfirmedException" {
		t.Errorf("sign-in before confirmation: %q, want UserNotConfirmedException", errName)
	}
}

// TestMain_AdminCredentialsFile: the admin key pair can come from an AWS
// shared-credentials file; a file without one stops serve.
func TestMain_AdminCredentialsFile(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good")
	os.WriteFile(good, []byte("# admin\n[default]\naws_access_key_id = AKIDCONFAB\naws_secret_access_key = s3cret\n"), 0o600)
	id, secret, err := readAWSCredentials(good)
	if err != nil || id != "AKIDCONFAB" || secret != "s3cret" {
		t.Errorf("read %q %q %v", id, secret, err)
	}
	bad := filepath.Join(dir, "bad")
	os.WriteFile(bad, []byte("[other]\naws_access_key_id = X\n[more]\n"), 0o600)
	m := &Main{Stdout: io.Discard, Stderr: io.Discard, Getenv: func(string) string { return "" }, Ready: func(string) { t.Error("serve started") }}
	err = m.Run(t.Context(), []string{"serve", "--http", "127.0.0.1:0", "--data", t.TempDir(), "--admin-credentials-file", bad})
	if err == nil || !strings.Contains(err.Error(), "--admin-credentials-file") {
		t.Errorf("bad credentials file: %v", err)
	}
}
