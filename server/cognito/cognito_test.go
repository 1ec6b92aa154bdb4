package cognito_test

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/confab-chat/confab/auth"
	"github.com/confab-chat/confab/server/cognito"
	"github.com/confab-chat/confab/store/sqlite"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

const (
	poolID   = "local_confab"
	clientID = "confab-web"
	password = "Passw0rd-1"
)

// env is a Cognito endpoint on 127.0.0.1 over a real SQLite store.
type env struct {
	t        *testing.T
	url      string
	accounts *auth.Service
	mail     *mailbox
}

// mailbox records mailed messages (the SMTP adapter is another package's;
// auth only needs the Mailer interface).
type mailbox struct {
	mu   sync.Mutex
	sent []mail
}

type mail struct{ to, subject, body string }

func (m *mailbox) Send(_ context.Context, to, subject, body string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.sent = append(m.sent, mail{to, subject, body})
	return nil
}

func (m *mailbox) last(t *testing.T) mail {
	t.Helper()
	m.mu.Lock()
	defer m.mu.Unlock()
	if len(m.sent) == 0 {
		t.Fatal("no mail was sent")
	}
	return m.sent[len(m.sent)-1]
}

func (m *mailbox) count() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.sent)
}

// newEnv starts an endpoint; opts adjust the configurations.
func newEnv(t *testing.T, opts ...func(*auth.Config, *cognito.Config)) *env {
	t.Helper()
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "confab.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	acfg := auth.Config{KeyFile: filepath.Join(t.TempDir(), "key.pem"), ClientID: clientID, UserPoolID: poolID, LoginsPerMinute: -1}
	var ccfg cognito.Config
	for _, o := range opts {
		o(&acfg, &ccfg)
	}
	accounts, err := auth.New(st, acfg)
	if err != nil {
		t.Fatal(err)
	}
	h, err := cognito.New(ccfg, accounts, nil)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	e := &env{t: t, url: srv.URL + "/cognito", accounts: accounts}
	if m, ok := acfg.Mailer.(*mailbox); ok {
		e.mail = m
	}
	return e
}

func withMail(a *auth.Config, _ *cognito.Config) { a.Mailer = &mailbox{} }

// reply is a decoded answer.
type reply struct {
	status int
	header http.Header
	body   map[string]any
}

func (r reply) str(keys ...string) string {
	var v any = r.body
	for _, k := range keys {
		m, _ := v.(map[string]any)
		v = m[k]
	}
	s, _ := v.(string)
	return s
}

// wantError checks an error answer: status, x-amzn-ErrorType and __type.
func (r reply) wantError(t *testing.T, name string) {
	t.Helper()
	wantStatus := http.StatusBadRequest
	if name == "InternalErrorException" {
		wantStatus = http.StatusInternalServerError
	}
	if r.status != wantStatus || r.header.Get("x-amzn-ErrorType") != name || r.str("__type") != name || r.str("message") == "" {
		t.Fatalf("answer = %d %q %v, want %d %s with a message", r.status, r.header.Get("x-amzn-ErrorType"), r.body, wantStatus, name)
	}
}

func (r reply) wantOK(t *testing.T) {
	t.Helper()
	if r.status != http.StatusOK {
		t.Fatalf("answer = %d %v, want 200", r.status, r.body)
	}
}

// post sends a raw request and decodes the answer, which must be JSON.
func (e *env) post(req *http.Request) reply {
	e.t.Helper()
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	if err != nil {
		e.t.Fatal(err)
	}
	if ct := res.Header.Get("Content-Type"); ct != "application/x-amz-json-1.1" {
		e.t.Fatalf("Content-Type = %q, want application/x-amz-json-1.1 (body %s)", ct, raw)
	}
	var body map[string]any
	if err := json.Unmarshal(raw, &body); err != nil {
		e.t.Fatalf("answer is not a JSON object: %q", raw)
	}
	return reply{status: res.StatusCode, header: res.Header, body: body}
}

// newRequest builds an operation's request the way Amplify sends it.
func (e *env) newRequest(op string, in any) *http.Request {
	e.t.Helper()
	b, err := json.Marshal(in)
	if err != nil {
		e.t.Fatal(err)
	}
	req, err := http.NewRequest(http.MethodPost, e.url, bytes.NewReader(b))
	if err != nil {
		e.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-amz-json-1.1")
	req.Header.Set("X-Amz-Target", "AWSCognitoIdentityProviderService."+op)
	return req
}

func (e *env) call(op string, in any) reply {
	e.t.Helper()
	return e.post(e.newRequest(op, in))
}

type obj = map[string]any

// signUp signs a user up and returns the UserSub.
func (e *env) signUp(email string) string {
	e.t.Helper()
	r := e.call("SignUp", obj{"ClientId": clientID, "Username": email, "Password": password,
		"UserAttributes": []obj{{"Name": "email", "Value": email}}})
	r.wantOK(e.t)
	return r.str("UserSub")
}

// signIn runs USER_PASSWORD_AUTH and returns the AuthenticationResult.
func (e *env) signIn(login, pw string) map[string]any {
	e.t.Helper()
	r := e.call("InitiateAuth", obj{"AuthFlow": "USER_PASSWORD_AUTH", "ClientId": clientID,
		"AuthParameters": obj{"USERNAME": login, "PASSWORD": pw}})
	r.wantOK(e.t)
	res, ok := r.body["AuthenticationResult"].(map[string]any)
	if !ok {
		e.t.Fatalf("InitiateAuth = %v, want an AuthenticationResult", r.body)
	}
	return res
}

func TestHandler_Transport(t *testing.T) {
	e := newEnv(t)
	t.Run("ErrGet", func(t *testing.T) {
		req, _ := http.NewRequest(http.MethodGet, e.url, nil)
		e.post(req).wantError(t, "UnknownOperationException")
	})
	t.Run("ErrNoTarget", func(t *testing.T) {
		req := e.newRequest("SignUp", obj{})
		req.Header.Del("X-Amz-Target")
		e.post(req).wantError(t, "UnknownOperationException")
	})
	t.Run("ErrUnknownOperation", func(t *testing.T) {
		e.call("CreateUserPool", obj{}).wantError(t, "UnknownOperationException")
	})
	t.Run("ErrOtherService", func(t *testing.T) {
		req := e.newRequest("SignUp", obj{})
		req.Header.Set("X-Amz-Target", "DynamoDB_20120810.SignUp")
		e.post(req).wantError(t, "UnknownOperationException")
	})
	t.Run("ErrBodyTooLarge", func(t *testing.T) {
		e.call("SignUp", obj{"ClientId": clientID, "Username": strings.Repeat("a", 70<<10)}).wantError(t, "InvalidParameterException")
	})
	t.Run("ErrNotJSON", func(t *testing.T) {
		req, _ := http.NewRequest(http.MethodPost, e.url, strings.NewReader("{not json"))
		req.Header.Set("X-Amz-Target", "AWSCognitoIdentityProviderService.SignUp")
		e.post(req).wantError(t, "SerializationException")
	})
	t.Run("ErrUnknownClient", func(t *testing.T) {
		e.call("InitiateAuth", obj{"AuthFlow": "USER_PASSWORD_AUTH", "ClientId": "other",
			"AuthParameters": obj{"USERNAME": "a@example.com", "PASSWORD": password}}).wantError(t, "ResourceNotFoundException")
	})
	t.Run("ErrUnsupportedFlow", func(t *testing.T) {
		e.call("InitiateAuth", obj{"AuthFlow": "CUSTOM_AUTH", "ClientId": clientID, "AuthParameters": obj{}}).wantError(t, "InvalidParameterException")
	})
	t.Run("OKTrailingSlash", func(t *testing.T) {
		req := e.newRequest("SignUp", obj{"ClientId": clientID, "Username": "slash@example.com", "Password": password})
		req.URL.Path = "/cognito/"
		e.post(req).wantOK(t)
	})
}

// secretHash is SECRET_HASH as the AWS documentation defines it.
func secretHash(secret, username string) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(username + clientID))
	return base64.StdEncoding.EncodeToString(m.Sum(nil))
}

func bytesReader(b []byte) *bytes.Reader { return bytes.NewReader(b) }

// testClock is a settable clock for auth.Config.Now.
type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *testClock) now() time.Time      { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *testClock) add(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }
