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
func TestMain_WebPush(t *testing.T) { testWebPush(t) }

// TestMain_WebPushDynamoDB is TestMain_WebPush on --store dynamodb.
func TestMain_WebPushDynamoDB(t *testing.T) { testWebPush(t, dynamoStoreArgs(t)...) }

func testWebPush(t *testing.T, store ...string) {
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

	a := runMain(t, append([]string{"--push-allow-private"}, store...)...) // the push service is on 127.0.0.1
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

	// Settings: defaults, an update, the update read back, bad input refused.
	const settingsFields = `level previews quietStart quietEnd timeZone mutes { conversationId until }`
	def := a.mustGQL(t, bob.idToken, `{ notificationSettings { `+settingsFields+` } }`, nil)["notificationSettings"].(map[string]any)
	if def["level"] != "ALL" || def["previews"] != true || def["quietStart"] != nil || len(def["mutes"].([]any)) != 0 {
		t.Fatalf("default settings = %v", def)
	}
	upd := `mutation($i:NotificationSettingsInput!){ updateNotificationSettings(input:$i){ ` + settingsFields + ` } }`
	in := map[string]any{"level": "MENTIONS_AND_DIRECT", "previews": false, "quietStart": "22:00", "quietEnd": "07:00", "timeZone": "Europe/Berlin",
		"mute": []any{map[string]any{"conversationId": cid, "until": "2999-01-01T00:00:00.000Z"}, map[string]any{"conversationId": "c-old", "until": "2000-01-01T00:00:00.000Z"}}}
	a.mustGQL(t, bob.idToken, upd, map[string]any{"i": in})
	s := a.mustGQL(t, bob.idToken, `{ notificationSettings { `+settingsFields+` } }`, nil)["notificationSettings"].(map[string]any)
	mutes := s["mutes"].([]any)
	if s["level"] != "MENTIONS_AND_DIRECT" || s["previews"] != false || s["quietStart"] != "22:00" || s["timeZone"] != "Europe/Berlin" ||
		len(mutes) != 1 || mutes[0].(map[string]any)["conversationId"] != cid {
		t.Fatalf("settings after the update = %v; want them, the ended mute dropped", s)
	}
	for name, bad := range map[string]map[string]any{
		"zone":       {"timeZone": "Mars/Olympus"},
		"hour":       {"quietStart": "25:00", "quietEnd": "07:00"},
		"half quiet": {"quietStart": "", "quietEnd": "07:00"},
	} {
		if _, body := a.gql(t, bob.idToken, upd, map[string]any{"i": bad}); errCode(body) != "BAD_USER_INPUT" {
			t.Errorf("%s: updateNotificationSettings = %v, want BAD_USER_INPUT", name, body)
		}
	}
}
