package webpush_test

import (
	"bytes"
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/ecdh"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/confab-chat/confab"
	"github.com/confab-chat/confab/notify"
	"github.com/confab-chat/confab/notify/webpush"
	"github.com/confab-chat/confab/store/sqlite"
	"github.com/golang-jwt/jwt/v5"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// subscriber is a browser's side of a push subscription: the keys a
// payload is encrypted to (RFC 8291 §3).
type subscriber struct {
	priv *ecdh.PrivateKey
	auth []byte
}

func newSubscriber(t *testing.T) *subscriber {
	t.Helper()
	priv, err := ecdh.P256().GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	auth := make([]byte, 16)
	rand.Read(auth)
	return &subscriber{priv: priv, auth: auth}
}

func (s *subscriber) p256dh() string {
	return base64.RawURLEncoding.EncodeToString(s.priv.PublicKey().Bytes())
}

// decrypt opens an aes128gcm body (RFC 8188 §2, keys of RFC 8291 §3.4),
// written from the RFCs only: header salt(16) rs(4) idlen(1) keyid (the
// sender's ephemeral public key), then one record ending in the 0x02
// delimiter and zero padding.
func (s *subscriber) decrypt(body []byte) ([]byte, error) {
	if len(body) < 21 {
		return nil, errors.New("body shorter than the aes128gcm header")
	}
	salt, rs, idlen := body[:16], binary.BigEndian.Uint32(body[16:20]), int(body[20])
	if len(body) < 21+idlen || rs < 18 {
		return nil, errors.New("bad aes128gcm header")
	}
	asPublic, record := body[21:21+idlen], body[21+idlen:]
	if uint32(len(record)) > rs {
		return nil, fmt.Errorf("record of %d bytes exceeds rs %d: more than one record", len(record), rs)
	}
	asKey, err := ecdh.P256().NewPublicKey(asPublic)
	if err != nil {
		return nil, fmt.Errorf("keyid is not a P-256 point: %w", err)
	}
	secret, err := s.priv.ECDH(asKey)
	if err != nil {
		return nil, err
	}
	keyInfo := append(append([]byte("WebPush: info\x00"), s.priv.PublicKey().Bytes()...), asPublic...)
	ikm, err := hkdf.Key(sha256.New, secret, s.auth, string(keyInfo), 32)
	if err != nil {
		return nil, err
	}
	cek, err := hkdf.Key(sha256.New, ikm, salt, "Content-Encoding: aes128gcm\x00", 16)
	if err != nil {
		return nil, err
	}
	nonce, err := hkdf.Key(sha256.New, ikm, salt, "Content-Encoding: nonce\x00", 12)
	if err != nil {
		return nil, err
	}
	block, _ := aes.NewCipher(cek)
	gcm, _ := cipher.NewGCM(block)
	plain, err := gcm.Open(nil, nonce, record, nil)
	if err != nil {
		return nil, fmt.Errorf("decrypt: %w", err)
	}
	plain = bytes.TrimRight(plain, "\x00")
	if len(plain) == 0 || plain[len(plain)-1] != 2 {
		return nil, errors.New("the last record does not end with the 0x02 delimiter")
	}
	return plain[:len(plain)-1], nil
}

// pushed is one request the test push service got.
type pushed struct {
	path, encoding, ttl, auth string
	body                      []byte
}

// pushService is a push service on 127.0.0.1 that answers status and
// sends every request on got.
func pushService(t *testing.T, status int) (*httptest.Server, chan pushed) {
	t.Helper()
	got := make(chan pushed, 100)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		got <- pushed{r.URL.Path, r.Header.Get("Content-Encoding"), r.Header.Get("TTL"), r.Header.Get("Authorization"), body}
		w.WriteHeader(status)
	}))
	t.Cleanup(srv.Close)
	return srv, got
}

func next(t *testing.T, got chan pushed) pushed {
	t.Helper()
	select {
	case p := <-got:
		return p
	case <-time.After(10 * time.Second):
		t.Fatal("no push request within 10s")
		return pushed{}
	}
}

// verifyVAPID checks the Authorization header of RFC 8292 §3: "vapid
// t=<JWT>, k=<public key>", the JWT signed ES256 by k, for the push
// service's origin, with a contact and an expiry within 24 hours.
func verifyVAPID(header, origin string, keys webpush.Keys) error {
	rest, ok := strings.CutPrefix(header, "vapid ")
	if !ok {
		return fmt.Errorf("authorization %q is not vapid", header)
	}
	var token, k string
	for _, part := range strings.Split(rest, ",") {
		name, v, _ := strings.Cut(strings.TrimSpace(part), "=")
		switch name {
		case "t":
			token = v
		case "k":
			k = v
		}
	}
	if k != keys.Public {
		return fmt.Errorf("k = %q, want the server's public key %q", k, keys.Public)
	}
	pub, err := base64.RawURLEncoding.DecodeString(k)
	if err != nil || len(pub) != 65 {
		return fmt.Errorf("k is not an uncompressed point: %v", err)
	}
	key, err := ecdsa.ParseUncompressedPublicKey(elliptic.P256(), pub)
	if err != nil {
		return fmt.Errorf("k: %w", err)
	}
	claims := jwt.MapClaims{}
	if _, err := jwt.ParseWithClaims(token, claims, func(*jwt.Token) (any, error) { return key, nil },
		jwt.WithValidMethods([]string{"ES256"}), jwt.WithAudience(origin), jwt.WithExpirationRequired()); err != nil {
		return fmt.Errorf("JWT: %w", err)
	}
	if exp, _ := claims.GetExpirationTime(); exp.After(time.Now().Add(24 * time.Hour)) {
		return fmt.Errorf("exp %v is more than 24h away", exp)
	}
	if sub, _ := claims["sub"].(string); !strings.HasPrefix(sub, "mailto:") && !strings.HasPrefix(sub, "https:") {
		return fmt.Errorf("sub = %q, want a mailto: or https: contact", sub)
	}
	return nil
}

type env struct {
	t    *testing.T
	st   *sqlite.Store
	keys webpush.Keys
}

func newEnv(t *testing.T) *env {
	t.Helper()
	dir := t.TempDir()
	st, err := sqlite.Open(t.Context(), filepath.Join(dir, "confab.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	keys, err := webpush.LoadKeys(filepath.Join(dir, webpush.KeysFile))
	if err != nil {
		t.Fatal(err)
	}
	return &env{t: t, st: st, keys: keys}
}

func (e *env) channel() *webpush.Channel {
	e.t.Helper()
	c, err := webpush.New(e.st, webpush.Config{Keys: e.keys, Subject: "mailto:ops@example.com", AllowPrivate: true})
	if err != nil {
		e.t.Fatal(err)
	}
	return c
}

func (e *env) user(id, display string) *confab.User {
	e.t.Helper()
	u := &confab.User{UserID: id, Username: id, Email: id + "@example.com", CreatedAt: time.Now().UTC()}
	if display != "" {
		u.DisplayName = &display
	}
	if err := e.st.InsertAccount(e.t.Context(), &confab.Account{User: *u}); err != nil {
		e.t.Fatal(err)
	}
	return u
}

func (e *env) conversation(name string, members ...*confab.User) *confab.Conversation {
	e.t.Helper()
	now := time.Now().UTC()
	c := &confab.Conversation{ConversationID: "c-" + name, Name: &name, CreatedBy: members[0].UserID, CreatedAt: now}
	for _, m := range members {
		c.Members = append(c.Members, confab.Member{UserID: m.UserID, JoinedAt: now})
	}
	if err := e.st.InsertConversation(e.t.Context(), c); err != nil {
		e.t.Fatal(err)
	}
	return c
}

func (e *env) subscribe(u *confab.User, endpoint string, s *subscriber) {
	e.t.Helper()
	p := &confab.PushSubscription{Endpoint: endpoint, UserID: u.UserID, P256dh: s.p256dh(),
		Auth: base64.RawURLEncoding.EncodeToString(s.auth), CreatedAt: time.Now().UTC()}
	if err := p.Validate(); err != nil {
		e.t.Fatal(err)
	}
	if err := e.st.PutPushSubscription(e.t.Context(), p); err != nil {
		e.t.Fatal(err)
	}
}

func (e *env) send(c *confab.Conversation, from *confab.User, content string) *confab.Message {
	e.t.Helper()
	now := time.Now().UTC()
	m := &confab.Message{MessageID: fmt.Sprintf("m-%d", now.UnixNano()), ConversationID: c.ConversationID, UserID: from.UserID,
		Content: content, MessageType: confab.MessageText, CreatedAt: now}
	if _, err := e.st.AppendMessage(e.t.Context(), m); err != nil {
		e.t.Fatal(err)
	}
	return m
}

// connect counts one live connection of u on a node, as chat does.
func (e *env) connect(u *confab.User) {
	e.t.Helper()
	now := time.Now()
	if _, err := e.st.AdjustConnections(e.t.Context(), u.UserID, "node-a", +1, now, now.Add(-time.Minute)); err != nil {
		e.t.Fatal(err)
	}
}

// TestChannel_EndToEnd sends a message through the store and the outbox
// worker; the push service decrypts what it gets with bob's private key.
func TestChannel_EndToEnd(t *testing.T) {
	e := newEnv(t)
	srv, got := pushService(t, http.StatusCreated)
	ann, bob := e.user("ann", "Ann Lee"), e.user("bob", "")
	conv := e.conversation("team", ann, bob)
	bobKeys := newSubscriber(t)
	e.subscribe(bob, srv.URL+"/push/bob", bobKeys)
	m := e.send(conv, ann, "lunch at noon?")

	w, err := notify.Open(e.st, notify.Config{Owner: "node-a", Poll: 10 * time.Millisecond}, e.channel())
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()

	p := next(t, got)
	if p.path != "/push/bob" || p.encoding != "aes128gcm" || p.ttl != "86400" {
		t.Fatalf("request to %s, Content-Encoding %q, TTL %q; want /push/bob, aes128gcm, 86400", p.path, p.encoding, p.ttl)
	}
	if err := verifyVAPID(p.auth, srv.URL, e.keys); err != nil {
		t.Fatalf("VAPID: %v", err)
	}
	plain, err := bobKeys.decrypt(p.body)
	if err != nil {
		t.Fatalf("decrypt with bob's key: %v", err)
	}
	var pl webpush.Payload
	if err := json.Unmarshal(plain, &pl); err != nil {
		t.Fatalf("payload %s: %v", plain, err)
	}
	want := webpush.Payload{Type: "message", ConversationID: conv.ConversationID, ConversationName: "team", MessageID: m.MessageID,
		Seq: 1, SenderID: ann.UserID, Sender: "Ann Lee", Preview: "lunch at noon?", Unread: 1}
	if pl != want {
		t.Fatalf("payload = %+v, want %+v", pl, want)
	}
	if _, err := newSubscriber(t).decrypt(p.body); err == nil {
		t.Fatal("another subscriber's key decrypted the payload")
	}
}

// TestChannel_Fanout checks who gets a delivery: members other than the
// sender, not connected, with a subscription.
func TestChannel_Fanout(t *testing.T) {
	e := newEnv(t)
	ann, bob, cat, dan := e.user("ann", ""), e.user("bob", ""), e.user("cat", ""), e.user("dan", "")
	conv := e.conversation("team", ann, bob, cat, dan)
	for _, u := range []*confab.User{ann, bob, cat} { // dan has no subscription
		e.subscribe(u, "https://push.example/"+u.UserID, newSubscriber(t))
	}
	e.subscribe(bob, "https://push.example/bob-phone", newSubscriber(t))
	e.connect(cat) // cat's open client shows the message
	e.send(conv, ann, "hi")

	ev := e.event(confab.OutboxMessageSent)
	ds, err := e.channel().Fanout(t.Context(), ev)
	if err != nil {
		t.Fatal(err)
	}
	var targets []string
	for _, d := range ds {
		if d.Channel != confab.ChannelWebPush || d.EventID != ev.EventID || d.ConversationID != conv.ConversationID {
			t.Errorf("delivery %+v: want channel webpush, the event's id and conversation", d)
		}
		targets = append(targets, d.Target)
	}
	if got := strings.Join(targets, " "); got != "https://push.example/bob https://push.example/bob-phone" {
		t.Fatalf("targets = %q, want bob's two subscriptions only (ann sent, cat is connected, dan has none)", got)
	}
	// Windows are claimed only for members pushed to (dan has no subscription).
	for _, w := range []struct {
		u    *confab.User
		free bool
	}{{bob, false}, {dan, true}, {cat, true}} {
		if ok, err := e.st.ClaimPushWindow(t.Context(), w.u.UserID, conv.ConversationID, time.Now(), time.Second); err != nil || ok != w.free {
			t.Errorf("%s's coalescing window free = %v, %v; want %v", w.u.UserID, ok, err, w.free)
		}
	}
	for _, other := range []confab.OutboxEvent{confab.OutboxConversationCreated, confab.OutboxUserCreated} {
		if ds, err := e.channel().Fanout(t.Context(), e.event(other)); err != nil || len(ds) != 0 {
			t.Fatalf("Fanout(%s) = %d deliveries, %v; want none", other, len(ds), err)
		}
	}
}

// event returns the pending outbox event of kind k.
func (e *env) event(k confab.OutboxEvent) *confab.OutboxEntry {
	e.t.Helper()
	evs, err := e.st.ListOutboxEvents(e.t.Context(), time.Time{}, 0, 100)
	if err != nil {
		e.t.Fatal(err)
	}
	for _, ev := range evs {
		if ev.Event == k {
			return ev
		}
	}
	e.t.Fatalf("no %s event in the outbox", k)
	return nil
}

// TestChannel_DeliverStatus checks the push service's answers: 404 and
// 410 drop the subscription for good; 429 and 5xx are retried and keep it.
func TestChannel_DeliverStatus(t *testing.T) {
	for _, tt := range []struct {
		status        int
		permanent, ok bool
		kept          bool
	}{
		{http.StatusCreated, false, true, true},
		{http.StatusGone, true, false, false},
		{http.StatusNotFound, true, false, false},
		{http.StatusTooManyRequests, false, false, true},
		{http.StatusServiceUnavailable, false, false, true},
		{http.StatusBadRequest, true, false, true},
	} {
		t.Run(http.StatusText(tt.status), func(t *testing.T) {
			e := newEnv(t)
			srv, got := pushService(t, tt.status)
			ann, bob := e.user("ann", ""), e.user("bob", "")
			conv := e.conversation("team", ann, bob)
			e.subscribe(bob, srv.URL+"/push/bob", newSubscriber(t))
			e.send(conv, ann, "hi")
			ch := e.channel()
			ds, err := ch.Fanout(t.Context(), e.event(confab.OutboxMessageSent))
			if err != nil || len(ds) != 1 {
				t.Fatalf("Fanout = %d deliveries, %v; want 1", len(ds), err)
			}
			err = ch.Deliver(t.Context(), ds[0])
			next(t, got)
			if (err == nil) != tt.ok || errors.Is(err, notify.ErrPermanent) != tt.permanent {
				t.Fatalf("Deliver = %v; want ok %v, permanent %v", err, tt.ok, tt.permanent)
			}
			_, err = e.st.GetPushSubscription(t.Context(), srv.URL+"/push/bob")
			if kept := err == nil; kept != tt.kept {
				t.Fatalf("subscription kept = %v (%v), want %v", kept, err, tt.kept)
			}
			if !tt.kept {
				if err := ch.Deliver(t.Context(), ds[0]); !errors.Is(err, notify.ErrPermanent) {
					t.Fatalf("Deliver to a dropped subscription = %v, want permanent", err)
				}
			}
		})
	}
}

func TestLoadKeys(t *testing.T) {
	path := filepath.Join(t.TempDir(), "data", webpush.KeysFile)
	k1, err := webpush.LoadKeys(path)
	if err != nil {
		t.Fatal(err)
	}
	k2, err := webpush.LoadKeys(path)
	if err != nil || k2 != k1 {
		t.Fatalf("second LoadKeys = %+v, %v; want the stored pair %+v", k2, err, k1)
	}
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("key file mode = %v, %v; want 0600", fi.Mode(), err)
	}
	other, _ := webpush.LoadKeys(filepath.Join(t.TempDir(), webpush.KeysFile))
	mixed, _ := json.Marshal(webpush.Keys{Public: other.Public, Private: k1.Private})
	if err := os.WriteFile(path, mixed, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := webpush.LoadKeys(path); err == nil || !strings.Contains(err.Error(), "not the private key's") {
		t.Fatalf("LoadKeys of a mismatched pair = %v, want an error", err)
	}
	if _, err := webpush.New(nil, webpush.Config{Keys: k1}); err == nil {
		t.Fatal("New without a Subject succeeded")
	}
}

// eventOf returns the message.sent outbox event of m.
func (e *env) eventOf(m *confab.Message) *confab.OutboxEntry {
	e.t.Helper()
	evs, err := e.st.ListOutboxEvents(e.t.Context(), time.Time{}, 0, 1000)
	if err != nil {
		e.t.Fatal(err)
	}
	for _, ev := range evs {
		var d confab.MessageData
		if ev.Event == confab.OutboxMessageSent && json.Unmarshal(ev.Data, &d) == nil && d.MessageID == m.MessageID {
			return ev
		}
	}
	e.t.Fatalf("no message.sent event of %s", m.MessageID)
	return nil
}

// TestChannel_WhoIsNotified checks each rule of the settings: bob is
// offline and subscribed; ann sends; the clock is fixed per case.
func TestChannel_WhoIsNotified(t *testing.T) {
	noon := time.Date(2026, 12, 3, 11, 0, 0, 0, time.UTC) // 12:00 in Berlin
	past, future := noon.Add(-time.Minute), noon.Add(time.Hour)
	for _, tt := range []struct {
		name      string
		settings  *confab.NotificationSettings
		direct    bool // a conversation of ann and bob only (else cat is in it too)
		mentioned bool
		now       time.Time
		want      bool
	}{
		{"DefaultAll", nil, false, false, noon, true},
		{"None", &confab.NotificationSettings{Level: confab.NotifyNone}, true, true, noon, false},
		{"MentionsNotMentioned", &confab.NotificationSettings{Level: confab.NotifyMentionsAndDirect}, false, false, noon, false},
		{"MentionsMentioned", &confab.NotificationSettings{Level: confab.NotifyMentionsAndDirect}, false, true, noon, true},
		{"MentionsDirect", &confab.NotificationSettings{Level: confab.NotifyMentionsAndDirect}, true, false, noon, true},
		{"MutedForever", &confab.NotificationSettings{Mutes: map[string]*time.Time{"c-team": nil}}, false, true, noon, false},
		{"MutedUntilLater", &confab.NotificationSettings{Mutes: map[string]*time.Time{"c-team": &future}}, false, false, noon, false},
		{"MuteExpired", &confab.NotificationSettings{Mutes: map[string]*time.Time{"c-team": &past}}, false, false, noon, true},
		{"OtherConversationMuted", &confab.NotificationSettings{Mutes: map[string]*time.Time{"c-other": nil}}, false, false, noon, true},
		{"QuietHoursAcrossMidnight", &confab.NotificationSettings{QuietStart: "22:00", QuietEnd: "07:00", TimeZone: "Europe/Berlin"},
			false, false, time.Date(2026, 12, 3, 22, 30, 0, 0, time.UTC), false}, // 23:30 in Berlin
		{"QuietHoursOver", &confab.NotificationSettings{QuietStart: "22:00", QuietEnd: "07:00", TimeZone: "Europe/Berlin"},
			false, false, time.Date(2026, 12, 3, 6, 0, 0, 0, time.UTC), true}, // 07:00 in Berlin
		{"QuietHoursInUTC", &confab.NotificationSettings{QuietStart: "10:00", QuietEnd: "12:00"}, false, false, noon, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			ann, bob, cat := e.user("ann", ""), e.user("bob", ""), e.user("cat", "")
			members := []*confab.User{ann, bob, cat}
			if tt.direct {
				members = members[:2]
			}
			conv := e.conversation("team", members...)
			e.subscribe(bob, "https://push.example/bob", newSubscriber(t))
			if tt.settings != nil {
				if err := tt.settings.Validate(); err != nil {
					t.Fatal(err)
				}
				if err := e.st.PutNotificationSettings(t.Context(), bob.UserID, tt.settings); err != nil {
					t.Fatal(err)
				}
			}
			m := &confab.Message{MessageID: "m-1", ConversationID: conv.ConversationID, UserID: ann.UserID, Content: "hi", MessageType: confab.MessageText, CreatedAt: tt.now}
			if tt.mentioned {
				m.Mentions = []string{bob.UserID}
			}
			if _, err := e.st.AppendMessage(t.Context(), m); err != nil {
				t.Fatal(err)
			}
			ch, err := webpush.New(e.st, webpush.Config{Keys: e.keys, Subject: "mailto:ops@example.com", AllowPrivate: true, Now: func() time.Time { return tt.now }})
			if err != nil {
				t.Fatal(err)
			}
			ds, err := ch.Fanout(t.Context(), e.eventOf(m))
			if err != nil {
				t.Fatal(err)
			}
			if got := len(ds) == 1 && ds[0].Target == "https://push.example/bob"; got != tt.want || len(ds) > 1 {
				t.Fatalf("%d deliveries %v; want bob notified: %v", len(ds), ds, tt.want)
			}
		})
	}
}

// TestChannel_Coalescing: a burst in one conversation is one push; the
// next push after the window counts every unread message; a message read
// before its push leaves is not pushed; hidden previews are left out.
func TestChannel_Coalescing(t *testing.T) {
	e := newEnv(t)
	srv, got := pushService(t, http.StatusCreated)
	ann, bob := e.user("ann", ""), e.user("bob", "")
	conv := e.conversation("team", ann, bob)
	bobKeys := newSubscriber(t)
	e.subscribe(bob, srv.URL+"/bob", bobKeys)
	if err := e.st.PutNotificationSettings(t.Context(), bob.UserID, &confab.NotificationSettings{HidePreviews: true}); err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 12, 3, 11, 0, 0, 0, time.UTC)
	ch, err := webpush.New(e.st, webpush.Config{Keys: e.keys, Subject: "mailto:ops@example.com", AllowPrivate: true, Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	fanout := func(m *confab.Message) []*confab.OutboxEntry {
		t.Helper()
		ds, err := ch.Fanout(t.Context(), e.eventOf(m))
		if err != nil {
			t.Fatal(err)
		}
		return ds
	}
	deliver := func(d *confab.OutboxEntry) *webpush.Payload {
		t.Helper()
		if err := ch.Deliver(t.Context(), d); err != nil {
			t.Fatal(err)
		}
		select { // Deliver returns after the push service answered
		case p := <-got:
			plain, err := bobKeys.decrypt(p.body)
			if err != nil {
				t.Fatal(err)
			}
			var pl webpush.Payload
			if err := json.Unmarshal(plain, &pl); err != nil {
				t.Fatal(err)
			}
			return &pl
		default:
			return nil
		}
	}

	first := fanout(e.send(conv, ann, "one"))
	if len(first) != 1 {
		t.Fatalf("first message: %d deliveries, want 1", len(first))
	}
	if p := deliver(first[0]); p == nil || p.Unread != 1 || p.Preview != "" {
		t.Fatalf("first push = %+v, want unread 1 and no preview (bob hides previews)", p)
	}
	now = now.Add(webpush.DefaultCoalesceWindow - time.Millisecond)
	if ds := fanout(e.send(conv, ann, "two")); len(ds) != 0 {
		t.Fatalf("a message inside the window: %d deliveries, want 0", len(ds))
	}
	now = now.Add(time.Millisecond)
	third := fanout(e.send(conv, ann, "three"))
	if len(third) != 1 {
		t.Fatalf("a message after the window: %d deliveries, want 1", len(third))
	}
	if p := deliver(third[0]); p == nil || p.Unread != 3 || p.Seq != 3 {
		t.Fatalf("push after the window = %+v, want seq 3 counting 3 unread", p)
	}

	now = now.Add(webpush.DefaultCoalesceWindow)
	fourth := fanout(e.send(conv, ann, "four"))
	if len(fourth) != 1 {
		t.Fatalf("fourth message: %d deliveries, want 1", len(fourth))
	}
	if err := e.st.MarkRead(t.Context(), conv.ConversationID, bob.UserID, 4, now); err != nil {
		t.Fatal(err)
	}
	if p := deliver(fourth[0]); p != nil {
		t.Fatalf("a message read before its push left was pushed: %+v", p)
	}
}

// TestChannel_RefusesPrivateEndpoints: without AllowPrivate, an endpoint
// that leads inside the network (here the push service on 127.0.0.1, or a
// name resolving to it) is never dialled: the delivery fails for good and
// the subscription is dropped, so a user cannot make the server POST to
// its own network.
func TestChannel_RefusesPrivateEndpoints(t *testing.T) {
	for _, host := range []string{"127.0.0.1", "localhost"} {
		t.Run(host, func(t *testing.T) {
			e := newEnv(t)
			srv, got := pushService(t, http.StatusCreated)
			endpoint := strings.Replace(srv.URL, "127.0.0.1", host, 1) + "/push/bob"
			ann, bob := e.user("ann", ""), e.user("bob", "")
			conv := e.conversation("team", ann, bob)
			e.subscribe(bob, endpoint, newSubscriber(t))
			e.send(conv, ann, "hi")
			ch, err := webpush.New(e.st, webpush.Config{Keys: e.keys, Subject: "mailto:ops@example.com"})
			if err != nil {
				t.Fatal(err)
			}
			ds, err := ch.Fanout(t.Context(), e.event(confab.OutboxMessageSent))
			if err != nil || len(ds) != 1 {
				t.Fatalf("Fanout = %d deliveries, %v; want 1", len(ds), err)
			}
			if err := ch.Deliver(t.Context(), ds[0]); !errors.Is(err, notify.ErrPermanent) {
				t.Fatalf("Deliver = %v, want a permanent refusal", err)
			}
			select {
			case r := <-got:
				t.Fatalf("the push service got a request %v; want none", r)
			default:
			}
			if _, err := e.st.GetPushSubscription(t.Context(), endpoint); confab.ErrorCode(err) != confab.CodeNotFound {
				t.Fatalf("subscription after the refusal: %v; want it dropped", err)
			}
		})
	}
}

// countingStore counts GetConversation and ClaimPushWindows calls on a
// real store.
type countingStore struct {
	*sqlite.Store
	mu            sync.Mutex
	convs, claims int
}

func (s *countingStore) ClaimPushWindows(ctx context.Context, userIDs []string, conversationID string, now time.Time, window time.Duration) (map[string]bool, error) {
	s.mu.Lock()
	s.claims++
	s.mu.Unlock()
	return s.Store.ClaimPushWindows(ctx, userIDs, conversationID, now, window)
}

func (s *countingStore) GetConversation(ctx context.Context, id string) (*confab.Conversation, error) {
	s.mu.Lock()
	s.convs++
	s.mu.Unlock()
	return s.Store.GetConversation(ctx, id)
}

func (s *countingStore) reads() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.convs
}

// TestChannel_UnreadSnapshot: the deliveries of one event count Unread
// from one read of the conversation, retaken once it is
// notify.UnreadSnapshotAge old; a read mark made before then is seen.
func TestChannel_UnreadSnapshot(t *testing.T) {
	e := newEnv(t)
	srv, got := pushService(t, http.StatusCreated)
	ann, bob, cat := e.user("ann", ""), e.user("bob", ""), e.user("cat", "")
	conv := e.conversation("team", ann, bob, cat)
	e.subscribe(bob, srv.URL+"/bob", newSubscriber(t))
	e.subscribe(cat, srv.URL+"/cat", newSubscriber(t))
	now := time.Date(2026, 12, 3, 11, 0, 0, 0, time.UTC)
	st := &countingStore{Store: e.st}
	ch, err := webpush.New(st, webpush.Config{Keys: e.keys, Subject: "mailto:ops@example.com", AllowPrivate: true, Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	ds, err := ch.Fanout(t.Context(), e.eventOf(e.send(conv, ann, "hi")))
	if err != nil || len(ds) != 2 {
		t.Fatalf("Fanout = %d deliveries, %v; want 2", len(ds), err)
	}
	before := st.reads()
	for _, d := range ds {
		if err := ch.Deliver(t.Context(), d); err != nil {
			t.Fatal(err)
		}
		next(t, got)
	}
	if n := st.reads() - before; n != 1 {
		t.Fatalf("two deliveries of one event read the conversation %d times, want once", n)
	}
	if err := e.st.MarkRead(t.Context(), conv.ConversationID, cat.UserID, 1, now); err != nil {
		t.Fatal(err)
	}
	now = now.Add(notify.UnreadSnapshotAge)
	if err := ch.Deliver(t.Context(), ds[1]); err != nil {
		t.Fatal(err)
	}
	if n := st.reads() - before; n != 2 {
		t.Fatalf("a delivery after the snapshot aged: %d reads in all, want 2", n)
	}
	select {
	case p := <-got:
		t.Fatalf("a push to %s, who read the message before the fresh snapshot", p.path)
	default:
	}
}

// TestChannel_VAPIDReused: pushes to one push service carry one VAPID
// token, signed once, and each is encrypted to its own subscriber.
func TestChannel_VAPIDReused(t *testing.T) {
	e := newEnv(t)
	srv, got := pushService(t, http.StatusCreated)
	ann, bob, cat := e.user("ann", ""), e.user("bob", ""), e.user("cat", "")
	conv := e.conversation("team", ann, bob, cat)
	keys := map[string]*subscriber{"/bob": newSubscriber(t), "/cat": newSubscriber(t)}
	e.subscribe(bob, srv.URL+"/bob", keys["/bob"])
	e.subscribe(cat, srv.URL+"/cat", keys["/cat"])
	ch := e.channel()
	ds, err := ch.Fanout(t.Context(), e.eventOf(e.send(conv, ann, "hi")))
	if err != nil || len(ds) != 2 {
		t.Fatalf("Fanout = %d deliveries, %v; want 2", len(ds), err)
	}
	var auths []string
	for _, d := range ds {
		if err := ch.Deliver(t.Context(), d); err != nil {
			t.Fatal(err)
		}
		p := next(t, got)
		if err := verifyVAPID(p.auth, srv.URL, e.keys); err != nil {
			t.Fatalf("VAPID of %s: %v", p.path, err)
		}
		if plain, err := keys[p.path].decrypt(p.body); err != nil || !strings.Contains(string(plain), `"preview":"hi"`) {
			t.Fatalf("push to %s: %q, %v", p.path, plain, err)
		}
		auths = append(auths, p.auth)
	}
	if auths[0] != auths[1] {
		t.Fatalf("two pushes to one push service signed two VAPID tokens:\n%s\n%s", auths[0], auths[1])
	}
}

// TestChannel_Senders: no more than Config.Senders pushes are in flight;
// a delivery beyond them waits (here until its context ends) without
// reaching the push service.
func TestChannel_Senders(t *testing.T) {
	e := newEnv(t)
	arrived, release := make(chan string, 10), make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		arrived <- r.URL.Path
		<-release
		w.WriteHeader(http.StatusCreated)
	}))
	t.Cleanup(srv.Close)
	t.Cleanup(func() { close(release) }) // before srv.Close: no handler is left blocked
	ann := e.user("ann", "")
	members := []*confab.User{ann}
	for _, name := range []string{"bob", "cat", "dan"} {
		u := e.user(name, "")
		members = append(members, u)
		e.subscribe(u, srv.URL+"/"+name, newSubscriber(t))
	}
	conv := e.conversation("team", members...)
	ch, err := webpush.New(e.st, webpush.Config{Keys: e.keys, Subject: "mailto:ops@example.com", AllowPrivate: true, Senders: 2})
	if err != nil {
		t.Fatal(err)
	}
	ds, err := ch.Fanout(t.Context(), e.eventOf(e.send(conv, ann, "hi")))
	if err != nil || len(ds) != 3 {
		t.Fatalf("Fanout = %d deliveries, %v; want 3", len(ds), err)
	}
	errs := make(chan error, 2)
	for _, d := range ds[:2] {
		go func() { errs <- ch.Deliver(t.Context(), d) }()
	}
	for range 2 {
		select {
		case <-arrived:
		case <-time.After(10 * time.Second):
			t.Fatal("the first two pushes did not reach the push service within 10s")
		}
	}
	ctx, cancel := context.WithTimeout(t.Context(), time.Second)
	defer cancel()
	if err := ch.Deliver(ctx, ds[2]); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("a third delivery while two are in flight = %v, want it to wait until its context ends", err)
	}
	select {
	case p := <-arrived:
		t.Fatalf("a third push reached the push service (%s) while two were in flight", p)
	default:
	}
	release <- struct{}{}
	release <- struct{}{}
	for range 2 {
		if err := <-errs; err != nil {
			t.Fatalf("a held push: %v", err)
		}
	}
}

// TestChannel_HeldWindowsSkipped: a message inside the coalescing windows
// this node claimed selects nobody without claiming (or reading the
// settings and subscriptions of) those members again; after the window it
// pushes.
func TestChannel_HeldWindowsSkipped(t *testing.T) {
	e := newEnv(t)
	srv, _ := pushService(t, http.StatusCreated)
	ann, bob := e.user("ann", ""), e.user("bob", "")
	conv := e.conversation("team", ann, bob)
	e.subscribe(bob, srv.URL+"/bob", newSubscriber(t))
	now := time.Date(2026, 12, 3, 11, 0, 0, 0, time.UTC)
	st := &countingStore{Store: e.st}
	ch, err := webpush.New(st, webpush.Config{Keys: e.keys, Subject: "mailto:ops@example.com", AllowPrivate: true, Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	claims := func() int {
		st.mu.Lock()
		defer st.mu.Unlock()
		return st.claims
	}
	fanout := func(content string) int {
		t.Helper()
		ds, err := ch.Fanout(t.Context(), e.eventOf(e.send(conv, ann, content)))
		if err != nil {
			t.Fatal(err)
		}
		return len(ds)
	}
	if n := fanout("one"); n != 1 || claims() != 1 {
		t.Fatalf("first message: %d deliveries, %d claims; want 1 and 1", n, claims())
	}
	now = now.Add(webpush.DefaultCoalesceWindow - time.Millisecond)
	if n := fanout("two"); n != 0 || claims() != 1 {
		t.Fatalf("inside the window: %d deliveries, %d claims in all; want 0 and still 1", n, claims())
	}
	now = now.Add(time.Millisecond)
	if n := fanout("three"); n != 1 || claims() != 2 {
		t.Fatalf("after the window: %d deliveries, %d claims in all; want 1 and 2", n, claims())
	}
}
