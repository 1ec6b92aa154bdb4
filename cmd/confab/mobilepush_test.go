package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

const (
	registerDevice   = `mutation($p:PushPlatform!,$t:String!,$b:String){ registerDeviceToken(platform:$p, token:$t, bundleId:$b) }`
	unregisterDevice = `mutation($p:PushPlatform!,$t:String!){ unregisterDeviceToken(platform:$p, token:$t) }`
)

// apnsRequest is one request the local APNs server got.
type apnsRequest struct {
	proto  int
	path   string
	header http.Header
	body   []byte
}

// TestMain_APNs: serve with the --apns-* flags pointing at a local APNs
// server (HTTP/2 without TLS, on loopback); bob registers his iPhone's
// token over GraphQL, is not connected, and gets an alert with a provider
// token signed by the configured key after alice's message. Bad tokens,
// another app's bundle id and an FCM token (FCM is off) are refused.
func TestMain_APNs(t *testing.T) {
	got := make(chan apnsRequest, 10)
	apnsSrv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		got <- apnsRequest{r.ProtoMajor, r.URL.Path, r.Header, body}
	}))
	apnsSrv.Config.Protocols = new(http.Protocols)
	apnsSrv.Config.Protocols.SetUnencryptedHTTP2(true)
	apnsSrv.Start()
	defer apnsSrv.Close()

	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	der, _ := x509.MarshalPKCS8PrivateKey(key)
	keyFile := filepath.Join(t.TempDir(), "AuthKey_ABC123DEFG.p8")
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	a := runMain(t, "--apns-key-file", keyFile, "--apns-key-id", "ABC123DEFG", "--apns-team-id", "DEF123GHIJ",
		"--apns-topic", "com.example.chat", "--apns-url", apnsSrv.URL)
	alice, bob := a.signUp(t, "alice"), a.signUp(t, "bob")

	token := strings.Repeat("9F", 32) // iOS may hand it over in upper case
	for name, tt := range map[string]struct {
		vars map[string]any
		code string
	}{
		"short":       {map[string]any{"p": "APNS", "t": "9f9f"}, "BAD_USER_INPUT"},
		"not hex":     {map[string]any{"p": "APNS", "t": strings.Repeat("zz", 32)}, "BAD_USER_INPUT"},
		"another app": {map[string]any{"p": "APNS", "t": token, "b": "com.example.other"}, "BAD_USER_INPUT"},
		"fcm is off":  {map[string]any{"p": "FCM", "t": strings.Repeat("x", 160)}, "UNAVAILABLE"},
	} {
		if _, body := a.gql(t, bob.idToken, registerDevice, tt.vars); errCode(body) != tt.code {
			t.Errorf("%s: registerDeviceToken = %v, want %s", name, body, tt.code)
		}
	}
	// A device cannot come in as a browser subscription, past the platform check.
	if _, body := a.gql(t, bob.idToken, registerPush, map[string]any{"e": "apns:" + strings.ToLower(token), "p": "", "a": ""}); errCode(body) != "BAD_USER_INPUT" {
		t.Errorf("registerPushSubscription of an apns: endpoint = %v, want BAD_USER_INPUT", body)
	}
	if ok := a.mustGQL(t, bob.idToken, registerDevice, map[string]any{"p": "APNS", "t": token, "b": "com.example.chat"})["registerDeviceToken"]; ok != true {
		t.Fatalf("registerDeviceToken = %v", ok)
	}

	cid := a.mustGQL(t, alice.idToken, createConv, map[string]any{"p": []string{bob.userID}})["createConversation"].(map[string]any)["conversationId"].(string)
	a.mustGQL(t, alice.idToken, sendMsg, map[string]any{"c": cid, "t": "are you there?"})
	var r apnsRequest
	select {
	case r = <-got:
	case <-time.After(30 * time.Second):
		t.Fatal("no APNs request within 30s")
	}
	if r.proto != 2 || r.path != "/3/device/"+strings.ToLower(token) || r.header.Get("apns-topic") != "com.example.chat" || r.header.Get("apns-push-type") != "alert" {
		t.Fatalf("HTTP/%d %s, apns-topic %q, apns-push-type %q; want HTTP/2 to bob's token, the bundle id, alert",
			r.proto, r.path, r.header.Get("apns-topic"), r.header.Get("apns-push-type"))
	}
	raw, _ := strings.CutPrefix(r.header.Get("Authorization"), "bearer ")
	claims := jwt.MapClaims{}
	tok, err := jwt.ParseWithClaims(raw, claims, func(*jwt.Token) (any, error) { return &key.PublicKey, nil }, jwt.WithValidMethods([]string{"ES256"}))
	if err != nil || tok.Header["kid"] != "ABC123DEFG" || claims["iss"] != "DEF123GHIJ" {
		t.Fatalf("provider token: %v, kid %v, claims %v", err, tok.Header["kid"], claims)
	}
	var body struct {
		APS struct {
			Alert struct{ Body string }
			Badge int
		}
		ConversationID string
	}
	if err := json.Unmarshal(r.body, &body); err != nil || !strings.HasSuffix(body.APS.Alert.Body, ": are you there?") || body.APS.Badge != 1 || body.ConversationID != cid {
		t.Fatalf("body %s (%v); want the preview, badge 1 and the conversation", r.body, err)
	}

	// alice cannot unregister bob's device; bob can, once.
	if ok := a.mustGQL(t, alice.idToken, unregisterDevice, map[string]any{"p": "APNS", "t": token})["unregisterDeviceToken"]; ok != false {
		t.Fatalf("alice unregistering bob's device = %v, want false", ok)
	}
	if ok := a.mustGQL(t, bob.idToken, unregisterDevice, map[string]any{"p": "APNS", "t": token})["unregisterDeviceToken"]; ok != true {
		t.Fatalf("bob unregistering = %v, want true", ok)
	}
}

// TestMain_FCM: serve with --fcm-credentials-file (a service account
// whose token_uri is a local token endpoint) and --fcm-url (a local FCM);
// bob's Android token registered over GraphQL gets alice's message with
// the access token of the service account.
func TestMain_FCM(t *testing.T) {
	type send struct {
		path, auth string
		body       []byte
	}
	got := make(chan send, 10)
	mux := http.NewServeMux()
	mux.HandleFunc("POST /token", func(w http.ResponseWriter, r *http.Request) {
		if r.FormValue("grant_type") != "urn:ietf:params:oauth:grant-type:jwt-bearer" || r.FormValue("assertion") == "" {
			http.Error(w, `{"error":"invalid_grant"}`, http.StatusBadRequest)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"access_token":"ya29.local","token_type":"Bearer","expires_in":3600}`)
	})
	mux.HandleFunc("POST /v1/projects/{project}/messages:send", func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		got <- send{r.URL.Path, r.Header.Get("Authorization"), body}
		io.WriteString(w, `{"name":"projects/p/messages/1"}`)
	})
	fcmSrv := httptest.NewServer(mux)
	defer fcmSrv.Close()

	key, _ := rsa.GenerateKey(rand.Reader, 2048)
	der, _ := x509.MarshalPKCS8PrivateKey(key)
	creds, _ := json.Marshal(map[string]string{"type": "service_account", "project_id": "confab-test", "private_key_id": "k1",
		"private_key":  string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})),
		"client_email": "push@confab-test.iam.gserviceaccount.com", "token_uri": fcmSrv.URL + "/token"})
	credsFile := filepath.Join(t.TempDir(), "firebase-sa.json")
	if err := os.WriteFile(credsFile, creds, 0o600); err != nil {
		t.Fatal(err)
	}
	a := runMain(t, "--fcm-credentials-file", credsFile, "--fcm-url", fcmSrv.URL)
	alice, bob := a.signUp(t, "alice"), a.signUp(t, "bob")
	token := "dX3k_-9:APA91bH" + strings.Repeat("q", 140)
	if _, body := a.gql(t, bob.idToken, registerDevice, map[string]any{"p": "APNS", "t": strings.Repeat("ab", 32)}); errCode(body) != "UNAVAILABLE" {
		t.Errorf("registering an APNs device with APNs off = %v, want UNAVAILABLE", body)
	}
	if ok := a.mustGQL(t, bob.idToken, registerDevice, map[string]any{"p": "FCM", "t": token})["registerDeviceToken"]; ok != true {
		t.Fatalf("registerDeviceToken = %v", ok)
	}
	cid := a.mustGQL(t, alice.idToken, createConv, map[string]any{"p": []string{bob.userID}})["createConversation"].(map[string]any)["conversationId"].(string)
	a.mustGQL(t, alice.idToken, sendMsg, map[string]any{"c": cid, "t": "are you there?"})
	var r send
	select {
	case r = <-got:
	case <-time.After(30 * time.Second):
		t.Fatal("no FCM request within 30s")
	}
	var body struct {
		Message struct {
			Token        string
			Notification struct{ Body string }
			Data         map[string]string
		}
	}
	if err := json.Unmarshal(r.body, &body); err != nil || r.path != "/v1/projects/confab-test/messages:send" || r.auth != "Bearer ya29.local" ||
		body.Message.Token != token || !strings.HasSuffix(body.Message.Notification.Body, ": are you there?") || body.Message.Data["conversationId"] != cid {
		t.Fatalf("%s with %q: %s (%v); want the key file's project, the access token, bob's token, the preview and the conversation",
			r.path, r.auth, r.body, err)
	}
}

func TestMobilePushConfig_Check(t *testing.T) {
	for name, m := range map[string]mobilePushConfig{
		"apns key only":      {APNsKeyFile: "k.p8"},
		"apns without topic": {APNsKeyFile: "k.p8", APNsKeyID: "k", APNsTeamID: "t"},
		"fcm project only":   {FCMProjectID: "p"},
	} {
		if err := m.check(); err == nil {
			t.Errorf("%s: check passed", name)
		}
	}
	if err := (&mobilePushConfig{APNsKeyFile: "k.p8", APNsKeyID: "k", APNsTeamID: "t", APNsTopic: "b"}).check(); err != nil {
		t.Fatalf("full APNs settings: %v", err)
	}
}
