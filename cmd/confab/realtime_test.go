package main

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// TestMain_TokenExpiryClosesWebSocket: when the connection's token
// expires, graphql-transport-ws closes with 4403 so the client reconnects
// with a fresh token.
func TestMain_TokenExpiryClosesWebSocket(t *testing.T) {
	a := runMain(t, "--access-ttl", "2s")
	bob := a.signUp(t, "bob")
	ws := a.dialGQLWS(t, bob.idToken)
	ws.conn.SetReadDeadline(time.Now().Add(15 * time.Second))
	_, _, err := ws.conn.ReadMessage()
	ce, ok := err.(*websocket.CloseError)
	if !ok || ce.Code != 4403 || !strings.Contains(ce.Text, "expired") {
		t.Fatalf("after expiry: %v, want close 4403 token expired", err)
	}
}

// TestMain_GracefulShutdown: stopping the server closes WebSockets with
// 1001 (going away: clients reconnect elsewhere and resume) and returns.
func TestMain_GracefulShutdown(t *testing.T) {
	data := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan string, 1)
	done := make(chan error, 1)
	m := &Main{Stdout: io.Discard, Stderr: io.Discard, Getenv: func(string) string { return "" }, Ready: func(u string) { ready <- u }}
	go func() {
		done <- m.Run(ctx, []string{"serve", "--http", "127.0.0.1:0", "--data", data, "--log-level", "error"})
	}()
	a := &app{url: <-ready, data: data}
	bob := a.signUp(t, "bob")
	ws := a.dialGQLWS(t, bob.idToken)
	cancel()
	ws.conn.SetReadDeadline(time.Now().Add(15 * time.Second))
	_, _, err := ws.conn.ReadMessage()
	if ce, ok := err.(*websocket.CloseError); !ok || ce.Code != websocket.CloseGoingAway {
		t.Fatalf("on shutdown: %v, want close 1001", err)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("serve returned %v", err)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("serve did not return after shutdown")
	}
}

// TestMain_NoGoroutineLeak: connections that subscribe, misbehave and
// leave do not leave goroutines behind.
func TestMain_NoGoroutineLeak(t *testing.T) {
	a := runMain(t)
	alice := a.signUp(t, "alice")
	cid := a.mustGQL(t, alice.idToken, createConv, map[string]any{"p": []string{}})["createConversation"].(map[string]any)["conversationId"].(string)
	settle := func() int {
		runtime.GC()
		return runtime.NumGoroutine()
	}
	base := settle()
	sub := map[string]any{"query": `subscription($c:ID!){ onMessageSent(conversationId:$c){ seq } }`, "variables": map[string]any{"c": cid}}
	for i := range 40 {
		ws := a.dialGQLWS(t, alice.idToken)
		ws.send(map[string]any{"id": "s", "type": "subscribe", "payload": sub})
		switch i % 4 {
		case 0: // leaves abruptly
		case 1: // completes, then leaves
			ws.send(map[string]any{"id": "s", "type": "complete"})
		case 2: // sends garbage: the server closes with 4400
			ws.conn.WriteMessage(websocket.TextMessage, []byte(`{"type":"nonsense"}`))
		case 3: // duplicate id: the server closes with 4409
			ws.send(map[string]any{"id": "s", "type": "subscribe", "payload": sub})
		}
		ws.conn.Close()
	}
	a.mustGQL(t, alice.idToken, sendMsg, map[string]any{"c": cid, "t": "after"})
	deadline := time.Now().Add(15 * time.Second)
	for {
		n := settle()
		if n <= base+2 {
			return
		}
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<20)
			t.Fatalf("goroutines: %d before, %d after the clients left\n%s", base, n, buf[:runtime.Stack(buf, true)])
		}
		time.Sleep(50 * time.Millisecond) // polling a count, not synchronising with a known event
	}
}

// selfSigned writes a self-signed certificate for 127.0.0.1 and returns
// the cert and key file paths.
func selfSigned(t *testing.T) (string, string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "confab test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")},
		KeyUsage:    x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kder, _ := x509.MarshalECPrivateKey(key)
	dir := t.TempDir()
	cert, keyFile := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	os.WriteFile(cert, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600)
	os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder}), 0o600)
	return cert, keyFile
}

// TestMain_TLS: with --tls-cert/--tls-key the server speaks HTTPS and WSS
// itself, as Amplify v6 (which always dials wss://) needs.
func TestMain_TLS(t *testing.T) {
	cert, key := selfSigned(t)
	a := runMain(t, "--tls-cert", cert, "--tls-key", key)
	if !strings.HasPrefix(a.url, "https://") {
		t.Fatalf("url = %s, want https", a.url)
	}
	tlsCfg := &tls.Config{InsecureSkipVerify: true} // the test's own self-signed certificate
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: tlsCfg}}
	resp, err := client.Get(a.url + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	d := websocket.Dialer{TLSClientConfig: tlsCfg, Subprotocols: []string{"graphql-ws"}, HandshakeTimeout: 5 * time.Second}
	conn, _, err := d.Dial("wss://"+strings.TrimPrefix(a.url, "https://")+"/graphql/realtime?header=e30=&payload=e30=", nil)
	if err != nil {
		t.Fatalf("wss dial: %v", err)
	}
	defer conn.Close()
	conn.WriteJSON(map[string]any{"type": "connection_init"})
	conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	var m map[string]any
	if err := conn.ReadJSON(&m); err != nil || m["type"] != "connection_error" {
		t.Fatalf("over wss without a token: %v %v, want connection_error", m, err)
	}
}

// TestMain_OriginAllowList: browser upgrades from an origin that is not
// allowed are refused; allowed ones and non-browser clients are not.
func TestMain_OriginAllowList(t *testing.T) {
	a := runMain(t, "--allowed-origins", "https://app.example.com")
	u := strings.Replace(a.url, "http", "ws", 1) + "/graphql"
	d := websocket.Dialer{Subprotocols: []string{"graphql-transport-ws"}, HandshakeTimeout: 5 * time.Second}
	for _, tt := range []struct {
		origin string
		ok     bool
	}{{"https://evil.example.com", false}, {"https://app.example.com", true}, {"", true}} {
		h := http.Header{}
		if tt.origin != "" {
			h.Set("Origin", tt.origin)
		}
		conn, resp, err := d.Dial(u, h)
		if (err == nil) != tt.ok {
			t.Fatalf("origin %q: err %v, want ok=%v", tt.origin, err, tt.ok)
		}
		if err == nil {
			conn.Close()
		} else if resp == nil || resp.StatusCode != http.StatusForbidden {
			t.Fatalf("origin %q refused with %v, want 403", tt.origin, resp)
		}
	}
}

// TestMain_MaxSubscriptions: one subscription over the per-connection
// limit is refused with RATE_LIMITED; the others keep working.
func TestMain_MaxSubscriptions(t *testing.T) {
	a := runMain(t, "--max-subscriptions", "2")
	alice := a.signUp(t, "alice")
	ws := a.dialGQLWS(t, alice.idToken)
	sub := map[string]any{"query": `subscription($u:ID!){ onConversationUpdated(userId:$u){ conversationId } }`, "variables": map[string]any{"u": alice.userID}}
	for _, id := range []string{"a", "b", "c"} {
		ws.send(map[string]any{"id": id, "type": "subscribe", "payload": sub})
	}
	m := ws.read()
	if m["type"] != "error" || m["id"] != "c" || !strings.Contains(fmt.Sprint(m["payload"]), "RATE_LIMITED") {
		t.Fatalf("third subscription: %v, want error RATE_LIMITED", m)
	}
	a.mustGQL(t, alice.idToken, createConv, map[string]any{"p": []string{}})
	got := map[any]bool{}
	for range 2 {
		got[ws.read()["id"]] = true
	}
	if !got["a"] || !got["b"] {
		t.Fatalf("the two admitted subscriptions should both deliver, got %v", got)
	}
}
