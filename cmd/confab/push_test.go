package main

import (
	"crypto/ecdh"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"
)

const (
	registerPush   = `mutation($e:String!,$p:String!,$a:String!){ registerPushSubscription(endpoint:$e, p256dh:$p, auth:$a) }`
	unregisterPush = `mutation($e:String!){ unregisterPushSubscription(endpoint:$e) }`
)

// TestMain_WebPush: a member with a registered subscription and no live
// connection gets a push request, VAPID-signed with the key pair serve
// made in the data directory; bad subscriptions are refused; one that is
// unregistered gets nothing more.
func TestMain_WebPush(t *testing.T) {
	type req struct {
		path, encoding, auth string
		body                 []byte
	}
	got := make(chan req, 10)
	push := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		got <- req{r.URL.Path, r.Header.Get("Content-Encoding"), r.Header.Get("Authorization"), body}
		w.WriteHeader(http.StatusCreated)
	}))
	defer push.Close()

	a := runMain(t)
	alice, bob := a.signUp(t, "alice"), a.signUp(t, "bob")
	key := a.mustGQL(t, bob.idToken, `{ pushPublicKey }`, nil)["pushPublicKey"]
	var stored struct{ PublicKey string }
	b, err := os.ReadFile(filepath.Join(a.data, "vapid.json"))
	if err != nil || json.Unmarshal(b, &stored) != nil || key != stored.PublicKey || key == "" {
		t.Fatalf("pushPublicKey = %v, vapid.json %s (%v); want its publicKey", key, b, err)
	}

	priv, _ := ecdh.P256().GenerateKey(rand.Reader)
	authSecret := make([]byte, 16)
	rand.Read(authSecret)
	sub := map[string]any{"e": push.URL + "/bob", "p": base64.RawURLEncoding.EncodeToString(priv.PublicKey().Bytes()),
		"a": base64.RawURLEncoding.EncodeToString(authSecret)}
	for name, bad := range map[string]map[string]any{
		"plain http": {"e": "http://push.example/x", "p": sub["p"], "a": sub["a"]},
		"short key":  {"e": sub["e"], "p": "BAAA", "a": sub["a"]},
		"short auth": {"e": sub["e"], "p": sub["p"], "a": "AAAA"},
	} {
		if _, body := a.gql(t, bob.idToken, registerPush, bad); errCode(body) != "BAD_USER_INPUT" {
			t.Errorf("%s: registerPushSubscription = %v, want BAD_USER_INPUT", name, body)
		}
	}
	if ok := a.mustGQL(t, bob.idToken, registerPush, sub)["registerPushSubscription"]; ok != true {
		t.Fatalf("registerPushSubscription = %v", ok)
	}

	cid := a.mustGQL(t, alice.idToken, createConv, map[string]any{"p": []string{bob.userID}})["createConversation"].(map[string]any)["conversationId"].(string)
	a.mustGQL(t, alice.idToken, sendMsg, map[string]any{"c": cid, "t": "are you there?"})
	select {
	case r := <-got:
		if r.path != "/bob" || r.encoding != "aes128gcm" || len(r.body) < 86 || r.auth == "" {
			t.Fatalf("push request %s, encoding %q, %d bytes, auth %q; want /bob, aes128gcm, a VAPID header", r.path, r.encoding, len(r.body), r.auth)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("no push request within 30s")
	}

	// alice cannot unregister bob's subscription; bob can, once.
	if ok := a.mustGQL(t, alice.idToken, unregisterPush, map[string]any{"e": sub["e"]})["unregisterPushSubscription"]; ok != false {
		t.Fatalf("alice unregistering bob's subscription = %v, want false", ok)
	}
	if ok := a.mustGQL(t, bob.idToken, unregisterPush, map[string]any{"e": sub["e"]})["unregisterPushSubscription"]; ok != true {
		t.Fatalf("bob unregistering = %v, want true", ok)
	}
}
