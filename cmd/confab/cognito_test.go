package main

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
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

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/emersion/go-smtp"
	"github.com/golang-jwt/jwt/v5"
)

// cognitoCall posts one AWS JSON 1.1 request to /cognito, unsigned, as
// Amplify does; it returns the status, the exception name (empty on
// success) and the decoded body.
func (a *app) cognitoCall(t *testing.T, op string, body any) (int, string, map[string]any) {
	t.Helper()
	return a.cognitoDo(t, a.cognitoRequest(op, body))
}

// cognitoAdmin posts an admin operation signed with the AWS SDK's SigV4
// signer and the key pair, as the AWS CLI signs it.
func (a *app) cognitoAdmin(t *testing.T, op string, body any, keyID, secret string) (int, string, map[string]any) {
	t.Helper()
	req := a.cognitoRequest(op, body)
	b, _ := json.Marshal(body)
	sum := sha256.Sum256(b)
	creds := aws.Credentials{AccessKeyID: keyID, SecretAccessKey: secret}
	if err := v4.NewSigner().SignHTTP(context.Background(), creds, req, hex.EncodeToString(sum[:]), "cognito-idp", "local", time.Now()); err != nil {
		t.Fatal(err)
	}
	return a.cognitoDo(t, req)
}

func (a *app) cognitoRequest(op string, body any) *http.Request {
	b, _ := json.Marshal(body)
	req, _ := http.NewRequest(http.MethodPost, a.url+"/cognito/", bytes.NewReader(b))
	req.Header.Set("Content-Type", "application/x-amz-json-1.1")
	req.Header.Set("X-Amz-Target", "AWSCognitoIdentityProviderService."+op)
	return req
}

func (a *app) cognitoDo(t *testing.T, req *http.Request) (int, string, map[string]any) {
	t.Helper()
	op := strings.TrimPrefix(req.Header.Get("X-Amz-Target"), "AWSCognitoIdentityProviderService.")
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
// shared-credentials file, and admin calls signed with it are served; a
// file without one stops serve.
func TestMain_AdminCredentialsFile(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good")
	os.WriteFile(good, []byte("# admin\n[default]\naws_access_key_id = AKIDCONFAB\naws_secret_access_key = s3cret\n"), 0o600)
	id, secret, err := readAWSCredentials(good)
	if err != nil || id != "AKIDCONFAB" || secret != "s3cret" {
		t.Errorf("read %q %q %v", id, secret, err)
	}
	a := runMain(t, "--admin-credentials-file", good)
	if _, errName, out := a.cognitoAdmin(t, "ListUsers", map[string]any{"UserPoolId": defaultUserPoolID}, "AKIDCONFAB", "s3cret"); errName != "" {
		t.Errorf("ListUsers signed with the file's key: %s %v", errName, out)
	}
	if _, errName, _ := a.cognitoAdmin(t, "ListUsers", map[string]any{"UserPoolId": defaultUserPoolID}, "AKIDCONFAB", "other"); errName == "" {
		t.Error("ListUsers signed with another secret was accepted")
	}

	bad := filepath.Join(dir, "bad")
	os.WriteFile(bad, []byte("[other]\naws_access_key_id = X\n[more]\n"), 0o600)
	m := &Main{Stdout: io.Discard, Stderr: io.Discard, Getenv: func(string) string { return "" }, Ready: func(string) { t.Error("serve started") }}
	err = m.Run(t.Context(), []string{"serve", "--http", "127.0.0.1:0", "--data", t.TempDir(), "--admin-credentials-file", bad})
	if err == nil || !strings.Contains(err.Error(), "--admin-credentials-file") {
		t.Errorf("bad credentials file: %v", err)
	}
}

// TestMain_AdminKeyAndClientSecret: the admin key pair given as flags signs
// admin calls, and --client-secret makes Cognito calls carry SECRET_HASH.
func TestMain_AdminKeyAndClientSecret(t *testing.T) {
	a := runMain(t, "--admin-access-key-id", "AKIDFLAGS", "--admin-secret-access-key", "flag-secret", "--client-secret", "app-secret")
	if _, errName, out := a.cognitoAdmin(t, "AdminCreateUser", map[string]any{"UserPoolId": defaultUserPoolID, "Username": "dave@example.com",
		"TemporaryPassword": "TempPassword123!", "MessageAction": "SUPPRESS"}, "AKIDFLAGS", "flag-secret"); errName != "" {
		t.Fatalf("AdminCreateUser: %s %v", errName, out)
	}
	if _, errName, out := a.cognitoAdmin(t, "AdminSetUserPassword", map[string]any{"UserPoolId": defaultUserPoolID, "Username": "dave@example.com",
		"Password": "Passw0rd!x", "Permanent": true}, "AKIDFLAGS", "flag-secret"); errName != "" {
		t.Fatalf("AdminSetUserPassword: %s %v", errName, out)
	}
	if _, errName, _ := a.cognitoCall(t, "InitiateAuth", passwordAuth(defaultClientID, "dave@example.com")); errName == "" {
		t.Error("InitiateAuth without SECRET_HASH was accepted by a client with a secret")
	}
	mac := hmac.New(sha256.New, []byte("app-secret"))
	mac.Write([]byte("dave@example.com" + defaultClientID))
	in := passwordAuth(defaultClientID, "dave@example.com")
	in["AuthParameters"].(map[string]string)["SECRET_HASH"] = base64.StdEncoding.EncodeToString(mac.Sum(nil))
	if _, errName, out := a.cognitoCall(t, "InitiateAuth", in); errName != "" {
		t.Errorf("InitiateAuth with SECRET_HASH: %s %v", errName, out)
	}
}
