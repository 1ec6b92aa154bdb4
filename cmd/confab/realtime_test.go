package main

import (
	"context"
	"io"
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
