package server

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/confab-chat/confab/auth"
	"github.com/confab-chat/confab/broker/inproc"
	"github.com/confab-chat/confab/chat"
	"github.com/confab-chat/confab/store/sqlite"
	"github.com/gorilla/websocket"
	"github.com/prometheus/client_golang/prometheus"
)

// newRevokeTestServer runs the whole server on 127.0.0.1:0 over SQLite and
// the in-process broker.
func newRevokeTestServer(t *testing.T) *Server {
	t.Helper()
	dir := t.TempDir()
	st := openTestStore(t, filepath.Join(dir, "confab.db"))
	br := inproc.New()
	t.Cleanup(func() { br.Close() })
	keyFile := filepath.Join(dir, "key.pem")
	if err := os.WriteFile(keyFile, authTestKeyPEM(), 0o600); err != nil {
		t.Fatal(err)
	}
	a, err := auth.New(st, auth.Config{KeyFile: keyFile, LoginsPerMinute: -1})
	if err != nil {
		t.Fatal(err)
	}
	svc := chat.New(st, br, chat.Config{})
	t.Cleanup(svc.Close)
	srv := New(Config{Addr: "127.0.0.1:0"}, svc, a, st, br, prometheus.NewRegistry(), nil)
	if err := srv.Open(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Close(ctx)
	})
	return srv
}

// cognitoCall posts one Cognito operation and decodes the answer.
func cognitoCall(t *testing.T, base, op string, in any) map[string]any {
	t.Helper()
	b, _ := json.Marshal(in)
	req, _ := http.NewRequest(http.MethodPost, base+"/cognito", bytes.NewReader(b))
	req.Header.Set("Content-Type", "application/x-amz-json-1.1")
	req.Header.Set("X-Amz-Target", "AWSCognitoIdentityProviderService."+op)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var out map[string]any
	if err := json.NewDecoder(res.Body).Decode(&out); err != nil || res.StatusCode != http.StatusOK {
		t.Fatalf("%s = %d %v (%v)", op, res.StatusCode, out, err)
	}
	return out
}

// signInCognito signs a new user up and in through /cognito and returns
// the access token.
func signInCognito(t *testing.T, base, email string) string {
	t.Helper()
	cognitoCall(t, base, "SignUp", map[string]any{"ClientId": "confab", "Username": email, "Password": "Passw0rd-1"})
	out := cognitoCall(t, base, "InitiateAuth", map[string]any{"AuthFlow": "USER_PASSWORD_AUTH", "ClientId": "confab",
		"AuthParameters": map[string]string{"USERNAME": email, "PASSWORD": "Passw0rd-1"}})
	return out["AuthenticationResult"].(map[string]any)["AccessToken"].(string)
}

// waitClose reads until the connection closes and returns its close code.
func waitClose(t *testing.T, ws *websocket.Conn) int {
	t.Helper()
	ws.SetReadDeadline(time.Now().Add(10 * time.Second))
	for {
		if _, _, err := ws.ReadMessage(); err != nil {
			var ce *websocket.CloseError
			if !errors.As(err, &ce) {
				t.Fatalf("read: %v, want a close frame", err)
			}
			return ce.Code
		}
	}
}

// A global sign-out closes the user's live WebSockets with the protocol's
// auth error, and leaves other users' connections open.
func TestServer_RevokeClosesSockets(t *testing.T) {
	srv := newRevokeTestServer(t)
	base := srv.URL()
	wsBase := "ws" + strings.TrimPrefix(base, "http")
	ann := signInCognito(t, base, "ann@example.com")
	bo := signInCognito(t, base, "bo@example.com")

	dialGQLWS := func(token string) *websocket.Conn {
		d := websocket.Dialer{Subprotocols: []string{"graphql-transport-ws"}}
		ws, _, err := d.Dial(wsBase+"/graphql", nil)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { ws.Close() })
		ws.WriteJSON(map[string]any{"type": "connection_init", "payload": map[string]string{"Authorization": token}})
		var ack map[string]any
		ws.SetReadDeadline(time.Now().Add(10 * time.Second))
		if err := ws.ReadJSON(&ack); err != nil || ack["type"] != "connection_ack" {
			t.Fatalf("connection_ack = %v, %v", ack, err)
		}
		return ws
	}
	dialAppSync := func(token string) *websocket.Conn {
		hdr, _ := json.Marshal(map[string]string{"Authorization": token, "host": strings.TrimPrefix(base, "http://")})
		d := websocket.Dialer{Subprotocols: []string{"graphql-ws", "header-" + base64.RawURLEncoding.EncodeToString(hdr)}}
		ws, _, err := d.Dial(wsBase+"/graphql/realtime", nil)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { ws.Close() })
		ws.WriteJSON(map[string]any{"type": "connection_init"})
		var ack map[string]any
		ws.SetReadDeadline(time.Now().Add(10 * time.Second))
		if err := ws.ReadJSON(&ack); err != nil || ack["type"] != "connection_ack" {
			t.Fatalf("connection_ack = %v, %v", ack, err)
		}
		return ws
	}
	annGQL, annAppSync, boGQL := dialGQLWS(ann), dialAppSync(ann), dialGQLWS(bo)

	cognitoCall(t, base, "GlobalSignOut", map[string]any{"AccessToken": ann})
	if code := waitClose(t, annGQL); code != 4403 {
		t.Errorf("graphql-transport-ws close = %d, want 4403", code)
	}
	if code := waitClose(t, annAppSync); code != 4401 {
		t.Errorf("AppSync close = %d, want 4401", code)
	}
	// bo's connection stays: it still answers a ping.
	boGQL.WriteJSON(map[string]any{"type": "ping"})
	var pong map[string]any
	boGQL.SetReadDeadline(time.Now().Add(10 * time.Second))
	if err := boGQL.ReadJSON(&pong); err != nil || pong["type"] != "pong" {
		t.Fatalf("another user's connection: %v, %v; want a pong", pong, err)
	}
}

func openTestStore(t *testing.T, path string) *sqlite.Store {
	t.Helper()
	st, err := sqlite.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// When the store cannot say whether a token's sign-in was revoked, POST
// /graphql answers 503 (retryable), not 401 (sign in again).
func TestServer_VerifyStoreUnavailable(t *testing.T) {
	dir := t.TempDir()
	st := openTestStore(t, filepath.Join(dir, "confab.db"))
	br := inproc.New()
	t.Cleanup(func() { br.Close() })
	keyFile := filepath.Join(dir, "key.pem")
	if err := os.WriteFile(keyFile, authTestKeyPEM(), 0o600); err != nil {
		t.Fatal(err)
	}
	a, err := auth.New(st, auth.Config{KeyFile: keyFile, LoginsPerMinute: -1})
	if err != nil {
		t.Fatal(err)
	}
	svc := chat.New(st, br, chat.Config{})
	t.Cleanup(svc.Close)
	srv := httptest.NewServer(New(Config{}, svc, a, st, br, prometheus.NewRegistry(), nil).Handler())
	t.Cleanup(srv.Close)
	token := signInCognito(t, srv.URL, "ann@example.com")
	st.Close()
	req, _ := http.NewRequest(http.MethodPost, srv.URL+"/graphql", strings.NewReader(`{"query":"{ __typename }"}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", token)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusServiceUnavailable || res.Header.Get("x-amzn-ErrorType") != "ServiceUnavailableException" {
		t.Fatalf("POST /graphql with the store down = %d %q, want 503 ServiceUnavailableException", res.StatusCode, res.Header.Get("x-amzn-ErrorType"))
	}
}
