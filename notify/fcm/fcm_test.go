package fcm_test

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/confab-chat/confab"
	"github.com/confab-chat/confab/notify"
	"github.com/confab-chat/confab/notify/fcm"
	"github.com/confab-chat/confab/store/sqlite"
	"github.com/golang-jwt/jwt/v5"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

const (
	project     = "confab-test"
	clientEmail = "push@confab-test.iam.gserviceaccount.com"
	accessToken = "ya29.local-test-token"
)

// sent is one messages:send request the local FCM server got.
type sent struct {
	proto       int
	path, auth  string
	body        []byte
	tokenFailed string // why the token request before it was refused, if it was
}

// fcmServer is an HTTP/2 (TLS) server on 127.0.0.1 speaking FCM's HTTP v1
// API and Google's OAuth 2.0 token endpoint: a token request must carry a
// JWT bearer assertion signed by the service account's key; a send must
// carry the access token it gave.
type fcmServer struct {
	*httptest.Server
	got    chan sent
	tokens chan struct{}
	mu     sync.Mutex
	status int
	body   string
	failed string
}

func newFCMServer(t *testing.T, pub *rsa.PublicKey) *fcmServer {
	t.Helper()
	s := &fcmServer{got: make(chan sent, 100), tokens: make(chan struct{}, 100), status: http.StatusOK, body: `{"name":"projects/confab-test/messages/1"}`}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /token", func(w http.ResponseWriter, r *http.Request) {
		s.tokens <- struct{}{}
		claims := jwt.MapClaims{}
		_, err := jwt.ParseWithClaims(r.FormValue("assertion"), claims, func(*jwt.Token) (any, error) { return pub, nil },
			jwt.WithValidMethods([]string{"RS256"}), jwt.WithAudience(s.URL+"/token"), jwt.WithIssuer(clientEmail))
		if err == nil && (r.FormValue("grant_type") != "urn:ietf:params:oauth:grant-type:jwt-bearer" || claims["scope"] != fcm.Scope) {
			err = fmt.Errorf("grant_type %q, scope %v", r.FormValue("grant_type"), claims["scope"])
		}
		if err != nil {
			s.mu.Lock()
			s.failed = err.Error()
			s.mu.Unlock()
			http.Error(w, `{"error":"invalid_grant"}`, http.StatusBadRequest)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"access_token":%q,"token_type":"Bearer","expires_in":3600}`, accessToken)
	})
	mux.HandleFunc("POST /v1/projects/{project}/messages:send", func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		s.mu.Lock()
		status, answer, failed := s.status, s.body, s.failed
		s.mu.Unlock()
		s.got <- sent{r.ProtoMajor, r.URL.Path, r.Header.Get("Authorization"), body, failed}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		io.WriteString(w, answer)
	})
	s.Server = httptest.NewUnstartedServer(mux)
	s.EnableHTTP2 = true
	s.StartTLS()
	t.Cleanup(s.Close)
	return s
}

func (s *fcmServer) answer(status int, body string) {
	s.mu.Lock()
	s.status, s.body = status, body
	s.mu.Unlock()
}

func (s *fcmServer) next(t *testing.T) sent {
	t.Helper()
	select {
	case r := <-s.got:
		return r
	case <-time.After(10 * time.Second):
		t.Fatal("no FCM request within 10s")
		return sent{}
	}
}

// serviceAccount is a service account JSON key file whose token_uri is
// the local server.
func serviceAccount(t *testing.T, key *rsa.PrivateKey, tokenURI string) []byte {
	t.Helper()
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(map[string]string{"type": "service_account", "project_id": project, "private_key_id": "k1",
		"private_key": string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})), "client_email": clientEmail,
		"token_uri": tokenURI})
	return b
}

var rsaKey = sync.OnceValue(func() *rsa.PrivateKey {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic(err)
	}
	return k
})

type env struct {
	t      *testing.T
	st     *sqlite.Store
	srv    *fcmServer
	fanout *notify.PushFanout
}

func newEnv(t *testing.T) *env {
	t.Helper()
	st, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "confab.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return &env{t: t, st: st, srv: newFCMServer(t, &rsaKey().PublicKey), fanout: notify.NewPushFanout(st, notify.PushConfig{})}
}

func (e *env) channel() *fcm.Channel {
	e.t.Helper()
	c, err := fcm.New(e.st, fcm.Config{Credentials: serviceAccount(e.t, rsaKey(), e.srv.URL+"/token"), URL: e.srv.URL,
		Client: e.srv.Client(), Fanout: e.fanout})
	if err != nil {
		e.t.Fatal(err)
	}
	return c
}

// message sends content from ann to bob, who has one FCM registration,
// and returns the event.
func (e *env) message(content string) (*confab.OutboxEntry, *confab.Conversation) {
	e.t.Helper()
	ctx, now := e.t.Context(), time.Now().UTC()
	for _, id := range []string{"ann", "bob"} {
		if err := e.st.InsertAccount(ctx, &confab.Account{User: confab.User{UserID: id, Username: id, Email: id + "@example.com", CreatedAt: now}}); err != nil {
			e.t.Fatal(err)
		}
	}
	name := "team"
	conv := &confab.Conversation{ConversationID: "c-team", Name: &name, CreatedBy: "ann", CreatedAt: now,
		Members: []confab.Member{{UserID: "ann", JoinedAt: now}, {UserID: "bob", JoinedAt: now}}}
	if err := e.st.InsertConversation(ctx, conv); err != nil {
		e.t.Fatal(err)
	}
	sub := &confab.PushSubscription{Endpoint: confab.DeviceEndpoint(confab.PushFCM, bobToken), UserID: "bob", CreatedAt: now}
	if err := sub.Validate(); err != nil {
		e.t.Fatal(err)
	}
	if err := e.st.PutPushSubscription(ctx, sub); err != nil {
		e.t.Fatal(err)
	}
	if _, err := e.st.AppendMessage(ctx, &confab.Message{MessageID: "m-1", ConversationID: conv.ConversationID, UserID: "ann",
		Content: content, MessageType: confab.MessageText, CreatedAt: now}); err != nil {
		e.t.Fatal(err)
	}
	evs, err := e.st.ListOutboxEvents(ctx, time.Time{}, 0, 100)
	if err != nil {
		e.t.Fatal(err)
	}
	for _, ev := range evs {
		if ev.Event == confab.OutboxMessageSent {
			return ev, conv
		}
	}
	e.t.Fatal("no message.sent event")
	return nil, nil
}

var bobToken = "dX3k_-9:APA91bH" + strings.Repeat("q", 140)

// TestChannel_EndToEnd runs the outbox worker; the local FCM server checks
// the access token (obtained with the service account's signed assertion)
// and the message.
func TestChannel_EndToEnd(t *testing.T) {
	e := newEnv(t)
	_, conv := e.message("lunch at noon?")
	w, err := notify.Open(e.st, notify.Config{Owner: "node-a", Poll: 10 * time.Millisecond}, e.channel())
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()

	r := e.srv.next(t)
	if r.tokenFailed != "" {
		t.Fatalf("token request refused: %s", r.tokenFailed)
	}
	if r.proto != 2 || r.path != "/v1/projects/"+project+"/messages:send" || r.auth != "Bearer "+accessToken {
		t.Fatalf("HTTP/%d %s, Authorization %q; want HTTP/2, the project's messages:send, the access token", r.proto, r.path, r.auth)
	}
	var body struct {
		Message struct {
			Token        string
			Notification struct{ Title, Body string }
			Data         map[string]string
			Android      struct {
				CollapseKey  string `json:"collapse_key"`
				Notification struct {
					Tag   string
					Count int64 `json:"notification_count"`
				}
			}
		}
	}
	if err := json.Unmarshal(r.body, &body); err != nil {
		t.Fatalf("body %s: %v", r.body, err)
	}
	m := body.Message
	if m.Token != bobToken || m.Notification.Title != "team" || m.Notification.Body != "ann: lunch at noon?" ||
		m.Data["conversationId"] != conv.ConversationID || m.Data["messageId"] != "m-1" || m.Data["unread"] != "1" ||
		m.Android.CollapseKey != conv.ConversationID || m.Android.Notification.Count != 1 {
		t.Fatalf("body = %s; want bob's token, Web Push's text, the ids and unread 1", r.body)
	}
}

// TestChannel_DeliverStatus checks FCM's answers: 404 UNREGISTERED drops
// the registration; 500, 429 and 401 are retried and keep it; 400 is
// permanent and keeps it. One access token serves every send.
func TestChannel_DeliverStatus(t *testing.T) {
	unregistered := `{"error":{"code":404,"status":"NOT_FOUND","message":"Requested entity was not found.","details":[{"@type":"type.googleapis.com/google.firebase.fcm.v1.FcmError","errorCode":"UNREGISTERED"}]}}`
	for _, tt := range []struct {
		status        int
		body          string
		permanent, ok bool
		kept          bool
	}{
		{http.StatusOK, `{"name":"projects/confab-test/messages/1"}`, false, true, true},
		{http.StatusNotFound, unregistered, true, false, false},
		{http.StatusInternalServerError, `{"error":{"code":500,"status":"INTERNAL"}}`, false, false, true},
		{http.StatusServiceUnavailable, `{"error":{"code":503,"status":"UNAVAILABLE"}}`, false, false, true},
		{http.StatusTooManyRequests, `{"error":{"code":429,"status":"RESOURCE_EXHAUSTED","details":[{"errorCode":"QUOTA_EXCEEDED"}]}}`, false, false, true},
		{http.StatusUnauthorized, `{"error":{"code":401,"status":"UNAUTHENTICATED"}}`, false, false, true},
		{http.StatusBadRequest, `{"error":{"code":400,"status":"INVALID_ARGUMENT"}}`, true, false, true},
	} {
		t.Run(fmt.Sprint(tt.status), func(t *testing.T) {
			e := newEnv(t)
			e.srv.answer(tt.status, tt.body)
			ev, _ := e.message("hi")
			c := e.channel()
			ds, err := c.Fanout(t.Context(), ev)
			if err != nil || len(ds) != 1 || ds[0].Channel != confab.ChannelFCM {
				t.Fatalf("Fanout = %v, %v; want one fcm delivery", ds, err)
			}
			for range 2 { // the second send reuses the access token
				err = c.Deliver(t.Context(), ds[0])
				if r := e.srv.next(t); r.auth != "Bearer "+accessToken {
					t.Fatalf("Authorization %q (token request: %s)", r.auth, r.tokenFailed)
				}
				if (err == nil) != tt.ok || errors.Is(err, notify.ErrPermanent) != tt.permanent {
					t.Fatalf("Deliver = %v; want ok %v, permanent %v", err, tt.ok, tt.permanent)
				}
				if !tt.kept {
					break
				}
			}
			if n := len(e.srv.tokens); n != 1 {
				t.Fatalf("%d token requests, want 1", n)
			}
			_, gerr := e.st.GetPushSubscription(t.Context(), ds[0].Target)
			if kept := gerr == nil; kept != tt.kept {
				t.Fatalf("registration kept = %v (%v), want %v", kept, gerr, tt.kept)
			}
		})
	}
}

func TestNew_RefusesBadCredentials(t *testing.T) {
	fanout := notify.NewPushFanout(nil, notify.PushConfig{})
	good := serviceAccount(t, rsaKey(), "https://oauth2.example/token")
	for name, cfg := range map[string]fcm.Config{
		"not JSON":      {Credentials: []byte("nope"), Fanout: fanout},
		"user account":  {Credentials: []byte(`{"type":"authorized_user","project_id":"p"}`), Fanout: fanout},
		"plain http":    {Credentials: good, URL: "http://fcm.example", Fanout: fanout},
		"no fanout":     {Credentials: good},
		"token on http": {Credentials: good, TokenURL: "http://oauth2.example/token", Fanout: fanout},
	} {
		if _, err := fcm.New(nil, cfg); err == nil {
			t.Errorf("%s: New succeeded", name)
		}
	}
	if _, err := fcm.New(nil, fcm.Config{Credentials: good, Fanout: fanout}); err != nil {
		t.Fatalf("New with a good key: %v", err)
	}
}
