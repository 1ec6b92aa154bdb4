package main

import (
	"io"
	"mime"
	"mime/quotedprintable"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

const (
	digestAdminKey, digestAdminSecret = "AKIDDIGEST", "digest-secret"
	digestPublicURL                   = "https://chat.example.test"
)

// adminAccount creates a confirmed account with the admin API (no
// confirmation e-mail) and signs it in.
func (a *app) adminAccount(t *testing.T, email string) *account {
	t.Helper()
	if _, errName, out := a.cognitoAdmin(t, "AdminCreateUser", map[string]any{"UserPoolId": defaultUserPoolID, "Username": email,
		"TemporaryPassword": "TempPassword123!", "MessageAction": "SUPPRESS"}, digestAdminKey, digestAdminSecret); errName != "" {
		t.Fatalf("AdminCreateUser: %s %v", errName, out)
	}
	if _, errName, out := a.cognitoAdmin(t, "AdminSetUserPassword", map[string]any{"UserPoolId": defaultUserPoolID, "Username": email,
		"Password": "Passw0rd!x", "Permanent": true}, digestAdminKey, digestAdminSecret); errName != "" {
		t.Fatalf("AdminSetUserPassword: %s %v", errName, out)
	}
	status, body := a.postJSON(t, "/auth/login", map[string]string{"email": email, "password": "Passw0rd!x"}, nil)
	if status != http.StatusOK {
		t.Fatalf("login: %d %v", status, body)
	}
	acct := &account{email: email, idToken: body["idToken"].(string)}
	claims := jwt.MapClaims{}
	if _, _, err := jwt.NewParser().ParseUnverified(acct.idToken, claims); err != nil {
		t.Fatal(err)
	}
	acct.userID = claims["sub"].(string)
	return acct
}

// TestMain_EmailDigest: with --digest-delay, a member who is not connected
// gets one e-mail digest of a burst of messages through the --smtp-url
// server; its unsubscribe link, served by the real server, turns digests
// off (a forged one is refused), and the setting reads back in GraphQL.
// On SQLite, and on PostgreSQL when CONFAB_TEST_POSTGRES is set.
func TestMain_EmailDigest(t *testing.T) {
	t.Run("sqlite", func(t *testing.T) { testEmailDigest(t) })
	t.Run("postgres", func(t *testing.T) { testEmailDigest(t, "--store", "postgres", "--postgres", postgresURL(t)) })
}

func testEmailDigest(t *testing.T, store ...string) {
	in := startInbox(t)
	a := runMain(t, append([]string{"--smtp-url", "smtp://" + in.addr, "--mail-from", "confab <no-reply@chat.example.com>",
		"--digest-delay", "300ms", "--public-url", digestPublicURL,
		"--admin-access-key-id", digestAdminKey, "--admin-secret-access-key", digestAdminSecret}, store...)...)
	alice, bob := a.adminAccount(t, "alice-digest@example.com"), a.adminAccount(t, "bob-digest@example.com")
	cid := a.mustGQL(t, alice.idToken, createConv, map[string]any{"p": []string{bob.userID}})["createConversation"].(map[string]any)["conversationId"].(string)
	for _, text := range []string{"are you there?", "hello?", "lunch at noon"} {
		a.mustGQL(t, alice.idToken, sendMsg, map[string]any{"c": cid, "t": text})
	}

	var body string
	select {
	case m := <-in.got:
		subject, _ := new(mime.WordDecoder).DecodeHeader(m.Header.Get("Subject"))
		if to := m.Header.Get("To"); !strings.Contains(to, "bob-digest@example.com") || subject != "3 unread messages on chat.example.test" {
			t.Fatalf("mail to %q, subject %q; want bob's digest of 3", to, subject)
		}
		b, err := io.ReadAll(quotedprintable.NewReader(m.Body))
		if err != nil {
			t.Fatal(err)
		}
		body = string(b)
	case <-time.After(30 * time.Second):
		t.Fatal("no digest within 30s")
	}
	for _, want := range []string{"* team: 3 unread", "lunch at noon", digestPublicURL + "/c/" + cid} {
		if !strings.Contains(body, want) {
			t.Errorf("digest lacks %q:\n%s", want, body)
		}
	}

	link := regexp.MustCompile(regexp.QuoteMeta(digestPublicURL) + `/notifications/unsubscribe\?\S+`).FindString(body)
	if link == "" {
		t.Fatalf("no unsubscribe link in:\n%s", body)
	}
	local := a.url + strings.TrimPrefix(link, digestPublicURL) // the public URL's host is not this test server
	u, _ := url.Parse(local)
	q := u.Query()
	q.Set("u", alice.userID) // bob's token for alice's account
	forged := *u
	forged.RawQuery = q.Encode()
	get := func(raw string) int {
		t.Helper()
		resp, err := http.Get(raw)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/html") {
			t.Errorf("unsubscribe answered %s", ct)
		}
		return resp.StatusCode
	}
	digests := func(acct *account) any {
		t.Helper()
		return a.mustGQL(t, acct.idToken, `{ notificationSettings { emailDigests } }`, nil)["notificationSettings"].(map[string]any)["emailDigests"]
	}
	if code := get(forged.String()); code != http.StatusBadRequest {
		t.Fatalf("forged unsubscribe link: %d, want 400", code)
	}
	if digests(alice) != true || digests(bob) != true {
		t.Fatal("digests are off before the unsubscribe link was followed")
	}
	if code := get(local); code != http.StatusOK {
		t.Fatalf("unsubscribe link: %d, want 200", code)
	}
	if digests(bob) != false || digests(alice) != true {
		t.Fatalf("after bob's unsubscribe: bob %v, alice %v; want false, true", digests(bob), digests(alice))
	}
	upd := `mutation{ updateNotificationSettings(input:{emailDigests:true}){ emailDigests } }`
	if on := a.mustGQL(t, bob.idToken, upd, nil)["updateNotificationSettings"].(map[string]any)["emailDigests"]; on != true {
		t.Fatalf("turning digests back on: %v", on)
	}
}

// TestMain_EmailDigestFlags: digests are off by default (no channel, no
// route); turning them on without SMTP or a public URL is a usage error.
func TestMain_EmailDigestFlags(t *testing.T) {
	if chs, h, err := emailDigests(nil, &serveConfig{}, nil, nil); chs != nil || h != nil || err != nil {
		t.Fatalf("--digest-delay 0: %v, %v, %v; want nothing", chs, h, err)
	}
	a := runMain(t)
	if code := getStatus(t, a.url+"/notifications/unsubscribe?u=x&t=y"); code == http.StatusBadRequest {
		t.Error("the unsubscribe route is served with digests off")
	}
	for name, args := range map[string][]string{
		"no smtp":       {"--digest-delay", "30m", "--public-url", digestPublicURL},
		"no public url": {"--digest-delay", "30m", "--smtp-url", "smtp://127.0.0.1:25", "--mail-from", "a@example.com"},
		"negative":      {"--digest-delay", "-1m"},
	} {
		m := &Main{Stdout: io.Discard, Stderr: io.Discard, Getenv: func(string) string { return "" }, Ready: func(string) { t.Errorf("%s: serve started", name) }}
		err := m.Run(t.Context(), append([]string{"serve", "--http", "127.0.0.1:0", "--data", t.TempDir()}, args...))
		if err == nil || !strings.Contains(err.Error(), "--digest-delay") {
			t.Errorf("%s: %v, want a --digest-delay error", name, err)
		}
	}
}

func getStatus(t *testing.T, raw string) int {
	t.Helper()
	resp, err := http.Get(raw)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}
