package apns_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
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
	"github.com/confab-chat/confab/notify/apns"
	"github.com/confab-chat/confab/store/sqlite"
	"github.com/golang-jwt/jwt/v5"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

const (
	topic  = "chat.confab.app"
	keyID  = "ABC123DEFG"
	teamID = "DEF123GHIJ"
)

// request is one request the local APNs server got.
type request struct {
	proto       int
	path        string
	header      http.Header
	body        []byte
	claims      jwt.MapClaims
	kid, jwtErr string
}

// apnsServer is an HTTP/2 server on 127.0.0.1 (TLS) that reads requests
// as APNs does: the provider token is verified with pub; it answers
// status with reason and sends every request on got.
type apnsServer struct {
	*httptest.Server
	got chan request
	mu  sync.Mutex
	// status and reason are the next answers.
	status int
	reason string
}

func newAPNsServer(t *testing.T, pub *ecdsa.PublicKey) *apnsServer {
	t.Helper()
	s := &apnsServer{got: make(chan request, 100), status: http.StatusOK}
	s.Server = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		req := request{proto: r.ProtoMajor, path: r.URL.Path, header: r.Header, body: body, claims: jwt.MapClaims{}}
		raw, _ := strings.CutPrefix(r.Header.Get("Authorization"), "bearer ")
		tok, err := jwt.ParseWithClaims(raw, req.claims, func(*jwt.Token) (any, error) { return pub, nil }, jwt.WithValidMethods([]string{"ES256"}))
		if err != nil {
			req.jwtErr = err.Error()
		} else {
			req.kid, _ = tok.Header["kid"].(string)
		}
		s.got <- req
		s.mu.Lock()
		status, reason := s.status, s.reason
		s.mu.Unlock()
		w.Header().Set("apns-id", "6d1f0e7a-0000-4000-8000-000000000000")
		w.WriteHeader(status)
		if reason != "" {
			fmt.Fprintf(w, `{"reason":%q}`, reason)
		}
	}))
	s.EnableHTTP2 = true
	s.StartTLS()
	t.Cleanup(s.Close)
	return s
}

func (s *apnsServer) answer(status int, reason string) {
	s.mu.Lock()
	s.status, s.reason = status, reason
	s.mu.Unlock()
}

func (s *apnsServer) next(t *testing.T) request {
	t.Helper()
	select {
	case r := <-s.got:
		return r
	case <-time.After(10 * time.Second):
		t.Fatal("no APNs request within 10s")
		return request{}
	}
}

// client is the channel's HTTP/2-only client, trusting the server's
// certificate.
func (s *apnsServer) client() *http.Client {
	c := notify.HTTP2Client(5 * time.Second)
	pool := x509.NewCertPool()
	pool.AddCert(s.Certificate())
	c.Transport.(*http.Transport).TLSClientConfig = &tls.Config{RootCAs: pool}
	return c
}

type env struct {
	t      *testing.T
	st     *sqlite.Store
	key    *ecdsa.PrivateKey
	srv    *apnsServer
	fanout *notify.PushFanout
	now    time.Time
	mu     sync.Mutex
}

func newEnv(t *testing.T) *env {
	t.Helper()
	st, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "confab.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	e := &env{t: t, st: st, key: key, srv: newAPNsServer(t, &key.PublicKey), now: time.Now()}
	e.fanout = notify.NewPushFanout(st, notify.PushConfig{})
	return e
}

func (e *env) clock() time.Time {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.now
}

func (e *env) advance(d time.Duration) {
	e.mu.Lock()
	e.now = e.now.Add(d)
	e.mu.Unlock()
}

func (e *env) channel() *apns.Channel {
	e.t.Helper()
	c, err := apns.New(e.st, apns.Config{Key: e.key, KeyID: keyID, TeamID: teamID, Topic: topic, URL: e.srv.URL,
		Client: e.srv.client(), Fanout: e.fanout, Now: e.clock})
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

func (e *env) register(u *confab.User, endpoint string) {
	e.t.Helper()
	p := &confab.PushSubscription{Endpoint: endpoint, UserID: u.UserID, CreatedAt: time.Now().UTC()}
	if !strings.HasPrefix(endpoint, "apns:") { // a browser's
		p.P256dh = "BAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
		p.Auth = "AAAAAAAAAAAAAAAAAAAAAA"
	}
	if err := p.Validate(); err != nil {
		e.t.Fatal(err)
	}
	if err := e.st.PutPushSubscription(e.t.Context(), p); err != nil {
		e.t.Fatal(err)
	}
}

func (e *env) send(c *confab.Conversation, from *confab.User, content string) *confab.OutboxEntry {
	e.t.Helper()
	now := time.Now().UTC()
	m := &confab.Message{MessageID: fmt.Sprintf("m-%d", now.UnixNano()), ConversationID: c.ConversationID, UserID: from.UserID,
		Content: content, MessageType: confab.MessageText, CreatedAt: now}
	if _, err := e.st.AppendMessage(e.t.Context(), m); err != nil {
		e.t.Fatal(err)
	}
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

var bobToken = strings.Repeat("b0", 32)

// TestChannel_EndToEnd sends a message through the store and the outbox
// worker; the local APNs server checks the request as APNs would.
func TestChannel_EndToEnd(t *testing.T) {
	e := newEnv(t)
	ann, bob := e.user("ann", "Ann Lee"), e.user("bob", "")
	conv := e.conversation("team", ann, bob)
	e.register(bob, "apns:"+bobToken)
	e.send(conv, ann, "lunch at noon?")

	w, err := notify.Open(e.st, notify.Config{Owner: "node-a", Poll: 10 * time.Millisecond}, e.channel())
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()

	r := e.srv.next(t)
	if r.proto != 2 || r.path != "/3/device/"+bobToken {
		t.Fatalf("HTTP/%d request to %s; want HTTP/2 to /3/device/%s", r.proto, r.path, bobToken)
	}
	if r.jwtErr != "" || r.kid != keyID || r.claims["iss"] != teamID {
		t.Fatalf("provider token: err %q, kid %q, claims %v; want one signed by the key, kid %s, iss %s", r.jwtErr, r.kid, r.claims, keyID, teamID)
	}
	if iat, _ := r.claims.GetIssuedAt(); iat == nil || time.Since(iat.Time) > time.Minute {
		t.Fatalf("iat = %v, want now", iat)
	}
	for h, want := range map[string]string{"apns-topic": topic, "apns-push-type": "alert", "apns-priority": "10",
		"apns-collapse-id": apns.CollapseID(conv.ConversationID), "content-type": "application/json"} {
		if got := r.header.Get(h); got != want {
			t.Errorf("%s = %q, want %q", h, got, want)
		}
	}
	var body struct {
		APS struct {
			Alert    struct{ Title, Body string }
			Badge    int64
			ThreadID string `json:"thread-id"`
		}
		ConversationID, MessageID, SenderID string
	}
	if err := json.Unmarshal(r.body, &body); err != nil {
		t.Fatalf("body %s: %v", r.body, err)
	}
	if body.APS.Alert.Title != "team" || body.APS.Alert.Body != "Ann Lee: lunch at noon?" || body.APS.Badge != 1 ||
		body.APS.ThreadID != conv.ConversationID || body.ConversationID != conv.ConversationID || body.SenderID != "ann" || body.MessageID == "" {
		t.Fatalf("body = %s; want the alert of Web Push's text, badge 1 and the ids", r.body)
	}
}

// TestChannel_SharedFanout: bob has a browser and a phone; the Web Push
// channel gets the browser only, APNs the phone only, although both claim
// from one coalescing window; previews follow bob's settings.
func TestChannel_SharedFanout(t *testing.T) {
	e := newEnv(t)
	ann, bob := e.user("ann", ""), e.user("bob", "")
	conv := e.conversation("team", ann, bob)
	e.register(bob, "https://push.example/bob")
	e.register(bob, "apns:"+bobToken)
	if err := e.st.PutNotificationSettings(t.Context(), bob.UserID, &confab.NotificationSettings{Level: confab.NotifyAll, HidePreviews: true}); err != nil {
		t.Fatal(err)
	}
	ev := e.send(conv, ann, "secret plans")

	web, err := e.fanout.Fanout(t.Context(), ev, confab.ChannelWebPush, "")
	if err != nil {
		t.Fatal(err)
	}
	dev, err := e.channel().Fanout(t.Context(), ev)
	if err != nil {
		t.Fatal(err)
	}
	if len(web) != 1 || web[0].Target != "https://push.example/bob" || len(dev) != 1 || dev[0].Target != "apns:"+bobToken || dev[0].Channel != confab.ChannelAPNs {
		t.Fatalf("web push %v, apns %v; want the browser and the phone, one each", web, dev)
	}
	if strings.Contains(string(dev[0].Data), "secret") {
		t.Fatalf("payload %s shows the preview bob hides", dev[0].Data)
	}

	// The next message is within the window: nothing for anyone.
	ev2 := e.send(conv, ann, "more")
	if ds, err := e.channel().Fanout(t.Context(), ev2); err != nil || len(ds) != 0 {
		t.Fatalf("second message in the window: %v, %v; want nothing", ds, err)
	}
}

// TestChannel_DeliverStatus checks APNs' answers: 410 and 400
// BadDeviceToken drop the registration for good; 500, 429 and 403 are
// retried and keep it.
func TestChannel_DeliverStatus(t *testing.T) {
	for _, tt := range []struct {
		status    int
		reason    string
		permanent bool
		ok        bool
		kept      bool
	}{
		{http.StatusOK, "", false, true, true},
		{http.StatusGone, "Unregistered", true, false, false},
		{http.StatusBadRequest, "BadDeviceToken", true, false, false},
		{http.StatusBadRequest, "PayloadTooLarge", true, false, true},
		{http.StatusInternalServerError, "InternalServerError", false, false, true},
		{http.StatusTooManyRequests, "TooManyRequests", false, false, true},
		{http.StatusForbidden, "InvalidProviderToken", false, false, true},
	} {
		t.Run(fmt.Sprintf("%d %s", tt.status, tt.reason), func(t *testing.T) {
			e := newEnv(t)
			e.srv.answer(tt.status, tt.reason)
			ann, bob := e.user("ann", ""), e.user("bob", "")
			conv := e.conversation("team", ann, bob)
			e.register(bob, "apns:"+bobToken)
			c := e.channel()
			ds, err := c.Fanout(t.Context(), e.send(conv, ann, "hi"))
			if err != nil || len(ds) != 1 {
				t.Fatalf("Fanout = %v, %v", ds, err)
			}
			err = c.Deliver(t.Context(), ds[0])
			e.srv.next(t)
			if (err == nil) != tt.ok || errors.Is(err, notify.ErrPermanent) != tt.permanent {
				t.Fatalf("Deliver = %v; want ok %v, permanent %v", err, tt.ok, tt.permanent)
			}
			_, gerr := e.st.GetPushSubscription(t.Context(), "apns:"+bobToken)
			if kept := gerr == nil; kept != tt.kept {
				t.Fatalf("registration kept = %v (%v), want %v", kept, gerr, tt.kept)
			}
		})
	}
}

// TestChannel_ProviderTokenRefresh: the JWT is reused within
// TokenRefresh and signed anew after it.
func TestChannel_ProviderTokenRefresh(t *testing.T) {
	e := newEnv(t)
	ann, bob := e.user("ann", ""), e.user("bob", "")
	conv := e.conversation("team", ann, bob)
	e.register(bob, "apns:"+bobToken)
	c := e.channel()
	ds, err := c.Fanout(t.Context(), e.send(conv, ann, "hi"))
	if err != nil || len(ds) != 1 {
		t.Fatalf("Fanout = %v, %v", ds, err)
	}
	token := func() string {
		t.Helper()
		if err := c.Deliver(t.Context(), ds[0]); err != nil {
			t.Fatal(err)
		}
		return e.srv.next(t).header.Get("Authorization")
	}
	first := token()
	e.advance(apns.TokenRefresh - time.Minute)
	if again := token(); again != first {
		t.Fatal("the provider token changed before TokenRefresh")
	}
	e.advance(2 * time.Minute)
	if renewed := token(); renewed == first {
		t.Fatal("the provider token was not renewed after TokenRefresh")
	}
}

func TestLoadKey(t *testing.T) {
	dir := t.TempDir()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	der, _ := x509.MarshalPKCS8PrivateKey(key)
	good := filepath.Join(dir, "AuthKey.p8")
	os.WriteFile(good, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600)
	if k, err := apns.LoadKey(good); err != nil || !k.Equal(key) {
		t.Fatalf("LoadKey = %v, %v; want the key", k, err)
	}
	bad := filepath.Join(dir, "bad.p8")
	os.WriteFile(bad, []byte("not a key"), 0o600)
	if _, err := apns.LoadKey(bad); err == nil {
		t.Fatal("LoadKey of junk succeeded")
	}
}

func TestNew_RefusesPlainHTTPElsewhere(t *testing.T) {
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	_, err := apns.New(nil, apns.Config{Key: key, KeyID: keyID, TeamID: teamID, Topic: topic, URL: "http://api.push.apple.com",
		Fanout: notify.NewPushFanout(nil, notify.PushConfig{})})
	if err == nil {
		t.Fatal("an http:// URL off loopback was accepted")
	}
}
