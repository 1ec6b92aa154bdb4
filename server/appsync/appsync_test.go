package appsync_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/confab-chat/confab"
	"github.com/confab-chat/confab/chat"
	"github.com/confab-chat/confab/server/appsync"
	"github.com/confab-chat/confab/server/realtime"
	"github.com/gorilla/websocket"
)

const (
	onMessageSent   = `subscription OnMessageSent($conversationId: ID!) { onMessageSent(conversationId: $conversationId) { __typename messageId seq content } }`
	onMessageResume = `subscription OnMessageSent($conversationId: ID!, $afterSeq: Int) { onMessageSent(conversationId: $conversationId, afterSeq: $afterSeq) { seq content } }`
)

func TestTransport_Supports(t *testing.T) {
	tests := []struct {
		name         string
		method       string
		upgrade      bool
		subprotocols string
		want         bool
	}{
		{"OK/GraphQLWS", "GET", true, "graphql-ws", true},
		{"OK/GraphQLWSWithHeader", "GET", true, "graphql-ws, header-e30", true},
		{"ErrGraphQLTransportWS", "GET", true, "graphql-transport-ws", false},
		{"ErrNoSubprotocol", "GET", true, "", false},
		{"ErrNotUpgrade", "GET", false, "graphql-ws", false},
		{"ErrPOST", "POST", true, "graphql-ws", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest(tt.method, "/graphql/realtime", nil)
			if tt.upgrade {
				r.Header.Set("Connection", "Upgrade")
				r.Header.Set("Upgrade", "websocket")
			}
			if tt.subprotocols != "" {
				r.Header.Set("Sec-WebSocket-Protocol", tt.subprotocols)
			}
			if got := (appsync.Transport{}).Supports(r); got != tt.want {
				t.Fatalf("Supports = %v, want %v", got, tt.want)
			}
		})
	}
}

// Subscribers get every message of a conversation sent concurrently, in
// seq order with no gaps, on both handshake styles.
func TestTransport_OrderedDelivery(t *testing.T) {
	e := newEnv(t, realtime.Config{})
	alice, bob := e.user(t, "alice"), e.user(t, "bob")
	conv := e.conversation(t, alice, bob)

	var clients []*client
	for _, via := range []string{viaQuery, viaSubprotocol} {
		c := e.dial(t, "tok-bob", via, "")
		c.send(map[string]any{"type": "connection_init"})
		if f := c.readSkippingKA(); f.Type != "connection_ack" {
			t.Fatalf("%s: %s, want connection_ack", via, f.raw)
		}
		c.start("s", "tok-bob", onMessageSent, map[string]any{"conversationId": conv})
		if f := c.readSkippingKA(); f.Type != "start_ack" || f.ID != "s" {
			t.Fatalf("%s: %s, want start_ack", via, f.raw)
		}
		clients = append(clients, c)
	}

	const senders, each = 4, 25
	errs := make(chan error, senders*each)
	var wg sync.WaitGroup
	for g := range senders {
		who := alice
		if g%2 == 1 {
			who = bob
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				_, err := e.svc.SendMessage(context.Background(), who, chat.SendMessageInput{ConversationID: conv, Content: fmt.Sprintf("g%d-%d", g, i)})
				if err != nil {
					errs <- err
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("SendMessage: %v", err)
	}

	for i, c := range clients {
		seen := map[string]bool{}
		for want := 1; want <= senders*each; want++ {
			f := c.readSkippingKA()
			m := f.message(t)
			if f.ID != "s" || m["seq"] != float64(want) || m["__typename"] != "Message" {
				t.Fatalf("client %d: frame %s, want seq %d", i, f.raw, want)
			}
			content := m["content"].(string)
			if seen[content] {
				t.Fatalf("client %d: %q delivered twice", i, content)
			}
			seen[content] = true
		}
	}
}

// A subscription with afterSeq replays what was missed, then goes live,
// with no gap and no duplicate between the two.
func TestTransport_Resume(t *testing.T) {
	e := newEnv(t, realtime.Config{})
	alice, bob := e.user(t, "alice"), e.user(t, "bob")
	conv := e.conversation(t, alice, bob)
	for i := 1; i <= 5; i++ {
		e.send(t, alice, conv, fmt.Sprint("missed ", i))
	}

	c := e.connect(t, "tok-bob")
	c.start("r", "tok-bob", onMessageResume, map[string]any{"conversationId": conv, "afterSeq": 2})
	if f := c.readSkippingKA(); f.Type != "start_ack" || f.ID != "r" {
		t.Fatalf("after start: %s, want start_ack", f.raw)
	}
	for seq := 3; seq <= 5; seq++ {
		if m := c.readSkippingKA().message(t); m["seq"] != float64(seq) || m["content"] != fmt.Sprint("missed ", seq) {
			t.Fatalf("replayed %v, want seq %d", m, seq)
		}
	}
	e.send(t, bob, conv, "live 6")
	e.send(t, alice, conv, "live 7")
	for seq := 6; seq <= 7; seq++ {
		if m := c.readSkippingKA().message(t); m["seq"] != float64(seq) || m["content"] != fmt.Sprint("live ", seq) {
			t.Fatalf("live %v, want seq %d", m, seq)
		}
	}
}

// Keep-alives: one right after the ack, then one per interval whether or
// not data flows.
func TestTransport_KeepAlive(t *testing.T) {
	e := newEnv(t, realtime.Config{KeepAlive: 50 * time.Millisecond})
	e.user(t, "alice")
	c := e.dial(t, "tok-alice", viaSubprotocol, "")
	c.send(map[string]any{"type": "connection_init"})
	if f := c.read(); f.Type != "connection_ack" || string(f.Payload) != `{"connectionTimeoutMs":300000}` {
		t.Fatalf("first frame %s, want connection_ack with AppSync's connectionTimeoutMs", f.raw)
	}
	if f := c.read(); f.Type != "ka" {
		t.Fatalf("frame after the ack %s, want ka at once (Amplify needs it)", f.raw)
	}
	for range 3 {
		if f := c.read(); f.Type != "ka" || f.ID != "" || f.Payload != nil {
			t.Fatalf("periodic frame %s, want {\"type\":\"ka\"}", f.raw)
		}
	}
}

// No keep-alive frame before the ack: a client whose connection_init comes
// after a few keep-alive ticks (a slow network, a loaded client) still
// reads connection_ack first, as from AppSync. WebSocket pings go out from
// the start.
func TestTransport_NoKeepAliveBeforeAck(t *testing.T) {
	e := newEnv(t, realtime.Config{KeepAlive: 20 * time.Millisecond})
	e.user(t, "alice")
	c := e.dial(t, "tok-alice", viaSubprotocol, "")
	pings := 0
	c.ws.SetPingHandler(func(data string) error {
		if err := c.ws.WriteControl(websocket.PongMessage, []byte(data), time.Now().Add(readTimeout)); err != nil {
			return err
		}
		if pings++; pings == 2 { // two ticks have passed: now say hello
			return c.ws.WriteMessage(websocket.TextMessage, []byte(`{"type":"connection_init"}`))
		}
		return nil
	})
	if f := c.read(); f.Type != "connection_ack" {
		t.Fatalf("first frame %s after %d pings, want connection_ack", f.raw, pings)
	}
	if f := c.read(); f.Type != "ka" {
		t.Fatalf("frame after the ack %s, want ka", f.raw)
	}
}

// A quiet client that answers the keep-alive pings stays connected past
// the idle limit (three intervals), and its pongs are consumed by the
// reader itself (realtime.Conn.skipControl): no server goroutine stays parked
// inside the WebSocket frame reader, which would hold a deep stack for as
// long as the client says nothing. Its subscription still delivers.
func TestTransport_IdleClientAnswersPings(t *testing.T) {
	e := newEnv(t, realtime.Config{KeepAlive: 50 * time.Millisecond})
	alice, bob := e.user(t, "alice"), e.user(t, "bob")
	conv := e.conversation(t, alice, bob)
	c := e.connect(t, "tok-bob")
	c.start("1", "", onMessageSent, map[string]any{"conversationId": conv})
	if f := c.readSkippingKA(); f.Type != "start_ack" {
		t.Fatalf("after start: %s, want start_ack", f.raw)
	}
	for range 8 { // 400 ms, over twice the 150 ms idle limit; a ping comes with each ka
		if f := c.read(); f.Type != "ka" {
			t.Fatalf("while idle: %s, want ka", f.raw)
		}
	}
	if n := goroutinesIn("realtime.(*Conn).readMessage("); n != 0 {
		t.Errorf("%d goroutines wait in the frame reader of an idle connection, want 0", n)
	}
	if n := goroutinesIn("realtime.(*Conn).readLoop("); runtime.GOOS == "linux" && n != 0 {
		t.Errorf("%d reader goroutines for an idle connection, want 0 (the hub's poller watches it)", n)
	}
	e.send(t, alice, conv, "still here")
	if m := c.readSkippingKA().message(t); m["content"] != "still here" {
		t.Fatalf("delivered %v, want the new message", m)
	}
}

// A client's own pings (OkHttp's pingInterval, Go clients) are answered
// with a pong carrying their payload, without the WebSocket frame reader:
// after a ping it would wait for the next data frame, parked deep, for as
// long as the client says nothing else.
func TestTransport_ClientPingAnswered(t *testing.T) {
	e := newEnv(t, realtime.Config{KeepAlive: 50 * time.Millisecond})
	e.user(t, "bob")
	c := e.connect(t, "tok-bob")
	pong := make(chan string, 1)
	c.ws.SetPongHandler(func(data string) error {
		pong <- data
		return nil
	})
	if err := c.ws.WriteControl(websocket.PingMessage, []byte("are you there"), time.Now().Add(readTimeout)); err != nil {
		t.Fatal(err)
	}
	for got := ""; got == ""; {
		if f := c.read(); f.Type != "ka" { // the pong handler runs inside the read
			t.Fatalf("while waiting for the pong: %s, want ka", f.raw)
		}
		select {
		case got = <-pong:
			if got != "are you there" {
				t.Fatalf("pong payload %q, want the ping's", got)
			}
		default:
		}
	}
	if n := goroutinesIn("realtime.(*Conn).readMessage("); n != 0 {
		t.Errorf("%d goroutines wait in the frame reader after a client ping, want 0", n)
	}
}

// A client that stops answering the keep-alive pings (a peer that went
// away without closing) is closed with 1001 once it has been silent for
// three intervals, although it still reads.
func TestTransport_SilentClientClosed(t *testing.T) {
	e := newEnv(t, realtime.Config{KeepAlive: 50 * time.Millisecond})
	e.user(t, "bob")
	start := time.Now() // before connection_init, the last frame the server hears
	c := e.connect(t, "tok-bob")
	c.ws.SetPingHandler(func(string) error { return nil }) // no pong
	if code := c.waitClose(); code != websocket.CloseGoingAway {
		t.Fatalf("silent client closed with %d, want %d", code, websocket.CloseGoingAway)
	}
	if took := time.Since(start); took < 150*time.Millisecond {
		t.Fatalf("closed after %v, before the 150 ms idle limit", took)
	}
}

// Pongs and frames arrive however TCP cuts them: several pongs and a
// start in one segment, a pong split across segments, pongs alone. The
// server takes whole pongs straight from the socket only when they are
// all there is (realtime's takePongs); everything else goes through the
// frame reader, and no byte is lost or read twice.
func TestTransport_PongsAmongFrames(t *testing.T) {
	e := newEnv(t, realtime.Config{})
	alice, bob := e.user(t, "alice"), e.user(t, "bob")
	conv := e.conversation(t, alice, bob)
	c := e.connect(t, "tok-bob")
	query, err := json.Marshal(map[string]any{"query": onMessageSent, "variables": map[string]any{"conversationId": conv}})
	if err != nil {
		t.Fatal(err)
	}
	start := func(id string) []byte {
		b, err := json.Marshal(map[string]any{"id": id, "type": "start", "payload": map[string]any{"data": string(query)}})
		if err != nil {
			t.Fatal(err)
		}
		return clientFrame(websocket.TextMessage, b)
	}
	pong := clientFrame(websocket.PongMessage, []byte("pong"))
	join := func(parts ...[]byte) []byte { return bytes.Join(parts, nil) }
	for _, step := range []struct {
		name   string
		writes [][]byte
		id     string
	}{
		{"pongs and a start in one write", [][]byte{join(pong, pong, start("1"))}, "1"},
		{"a pong split across writes", [][]byte{pong[:3], join(pong[3:], start("2"))}, "2"},
		{"pongs alone, then a start", [][]byte{join(pong, pong, pong), start("3")}, "3"},
	} {
		for _, w := range step.writes {
			if _, err := c.ws.NetConn().Write(w); err != nil {
				t.Fatalf("%s: %v", step.name, err)
			}
		}
		if f := c.readSkippingKA(); f.Type != "start_ack" || f.ID != step.id {
			t.Fatalf("%s: got %s, want start_ack for %s", step.name, f.raw, step.id)
		}
	}
	e.send(t, alice, conv, "after the pongs")
	for range 3 {
		if m := c.readSkippingKA().message(t); m["content"] != "after the pongs" {
			t.Fatalf("delivered %v, want the new message", m)
		}
	}
}

// clientFrame is a whole, final WebSocket frame as a client sends it
// (masked), for writing to the socket directly.
func clientFrame(opcode int, payload []byte) []byte {
	b := []byte{0x80 | byte(opcode)}
	switch n := len(payload); {
	case n < 126:
		b = append(b, 0x80|byte(n))
	case n < 1<<16:
		b = append(b, 0x80|126, byte(n>>8), byte(n))
	default:
		panic("clientFrame: payload too large for this test helper")
	}
	mask := [4]byte{0x12, 0x34, 0x56, 0x78}
	b = append(b, mask[:]...)
	for i, c := range payload {
		b = append(b, c^mask[i%4])
	}
	return b
}

// goroutinesIn counts the goroutines whose stack has a frame containing fn.
func goroutinesIn(fn string) int {
	buf := make([]byte, 1<<20)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			buf = buf[:n]
			break
		}
		buf = make([]byte, 2*len(buf))
	}
	count := 0
	for _, g := range strings.Split(string(buf), "\n\n") {
		if strings.Contains(g, fn) {
			count++
		}
	}
	return count
}

// No connection_init in time: connection_error 408 (retryable), then close.
func TestTransport_InitTimeout(t *testing.T) {
	e := newEnv(t, realtime.Config{InitTimeout: 50 * time.Millisecond})
	e.user(t, "alice")
	c := e.dial(t, "tok-alice", viaQuery, "")
	f := c.read()
	if e := f.firstError(t); f.Type != "connection_error" || e["errorType"] != "ConnectionTimeoutError" || e["errorCode"] != float64(408) {
		t.Fatalf("after the init timeout: %s", f.raw)
	}
	if code := c.waitClose(); code != websocket.CloseNormalClosure {
		t.Fatalf("closed with %d, want %d", code, websocket.CloseNormalClosure)
	}
}

// When the connection's token expires the socket closes, after the data
// already queued and with no error frame: Amplify reconnects with a fresh
// token and re-starts every subscription (an auth-typed error would end
// that subscription for the app).
func TestTransport_TokenExpiry(t *testing.T) {
	e := newEnv(t, realtime.Config{})
	alice, bob := e.user(t, "alice"), e.user(t, "bob")
	conv := e.conversation(t, alice, bob)
	short := bob
	short.ExpiresAt = time.Now().Add(500 * time.Millisecond)
	e.setToken("tok-bob-short", short)

	c := e.connect(t, "tok-bob-short")
	c.start("a", "", onMessageSent, map[string]any{"conversationId": conv})
	c.start("b", "", onMessageSent, map[string]any{"conversationId": conv})
	for range 2 {
		if f := c.readSkippingKA(); f.Type != "start_ack" {
			t.Fatalf("after start: %s, want start_ack", f.raw)
		}
	}
	e.send(t, alice, conv, "before expiry")
	got := map[string]bool{}
	for range 2 {
		f := c.readSkippingKA()
		if m := f.message(t); m["content"] != "before expiry" {
			t.Fatalf("data %s", f.raw)
		}
		got[f.ID] = true
	}
	if !got["a"] || !got["b"] {
		t.Fatalf("data reached %v, want both subscriptions", got)
	}

	// Wait for the close on a channel with a deadline; only ka may come
	// before it.
	closed := make(chan int, 1)
	go func() {
		for {
			_, data, err := c.ws.ReadMessage()
			var ce *websocket.CloseError
			switch {
			case errors.As(err, &ce):
				closed <- ce.Code
				return
			case err != nil:
				closed <- -1
				return
			case string(data) != `{"type":"ka"}`:
				closed <- -2 // an error or any other frame before the close
				return
			}
		}
	}()
	select {
	case code := <-closed:
		if code != 4401 {
			t.Fatalf("on expiry: close code %d, want 4401 and no frame before it", code)
		}
	case <-time.After(readTimeout):
		t.Fatal("the connection was not closed when its token expired")
	}

	// The reconnect a client makes then: the expired token is refused
	// (401, not retried), a fresh one works.
	c2 := e.dial(t, "tok-bob-short", viaSubprotocol, "")
	c2.send(map[string]any{"type": "connection_init"})
	if f := c2.read(); f.Type != "connection_error" || f.firstError(t)["errorCode"] != float64(401) {
		t.Fatalf("handshake with the expired token: %s", f.raw)
	}
	c3 := e.connect(t, "tok-bob")
	c3.start("a", "", onMessageSent, map[string]any{"conversationId": conv})
	if f := c3.readSkippingKA(); f.Type != "start_ack" || f.ID != "a" {
		t.Fatalf("re-start after reconnect: %s", f.raw)
	}
}

// Shutdown closes every connection with 1001 (going away), on which
// Amplify reconnects (it does on any close after the handshake).
func TestTransport_Shutdown(t *testing.T) {
	e := newEnv(t, realtime.Config{})
	alice := e.user(t, "alice")
	own := e.conversation(t, alice)
	c := e.connect(t, "tok-alice")
	c.start("s", "", onMessageSent, map[string]any{"conversationId": own})
	if f := c.readSkippingKA(); f.Type != "start_ack" {
		t.Fatalf("after start: %s", f.raw)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		e.shutdown(t)
	}()
	if code := c.waitClose(); code != websocket.CloseGoingAway {
		t.Fatalf("on shutdown: close code %d, want %d", code, websocket.CloseGoingAway)
	}
	select {
	case <-done:
	case <-time.After(readTimeout):
		t.Fatal("Shutdown did not return")
	}
}

// A frame larger than the limit closes with 1009; garbage of every kind
// never panics the server, which goes on serving other connections.
func TestTransport_MalformedFrames(t *testing.T) {
	e := newEnv(t, realtime.Config{MaxFrameBytes: 1 << 10})
	alice := e.user(t, "alice")
	own := e.conversation(t, alice)

	frames := []string{
		`{"type":"start"}`,
		`{"type":"start","id":"a"}`,
		`{"type":"start","id":"b","payload":null}`,
		`{"type":"start","id":"c","payload":{"data":42}}`,
		`{"type":"start","id":"d","payload":{"data":"{\"query\":\"\"}"}}`,
		`{"type":"start","id":"e","payload":{"data":"{\"query\":\"subscription {\"}"}}`,
		`{"type":"start","id":"f","payload":{"data":"{\"query\":\"subscription { onMessageSent(conversationId: 1) { seq } }\",\"variables\":[]}"}}`,
		`{"type":"start","id":"g","payload":{"data":"{}","extensions":{"authorization":"not an object"}}}`,
		`{"type":"stop"}`,
		`{"id":"x"}`,
		`{}`,
	}
	c := e.connect(t, "tok-alice")
	for _, f := range frames {
		c.sendText(f)
	}
	// Each start with a usable id was answered by one error frame with
	// that id, in some order; then the connection still works.
	c.start("ok", "", onMessageSent, map[string]any{"conversationId": own})
	pending := map[string]bool{"a": true, "b": true, "c": true, "d": true, "e": true, "f": true, "g": true, "ok": true}
	for len(pending) > 0 {
		f := c.readSkippingKA()
		if !pending[f.ID] || (f.ID == "ok") != (f.Type == "start_ack") || (f.ID != "ok" && f.Type != "error") {
			t.Fatalf("unexpected frame %s (still waiting for %v)", f.raw, pending)
		}
		if f.Type == "error" {
			if typ := f.firstError(t)["errorType"]; typ == "UnauthorizedException" || typ == "Unauthorized" {
				t.Fatalf("malformed start answered with an auth-typed error: %s", f.raw)
			}
		}
		delete(pending, f.ID)
	}

	big := e.connect(t, "tok-alice")
	big.sendText(`{"type":"ka","pad":"` + string(make([]byte, 2<<10)) + `"}`)
	if code := big.waitClose(); code != websocket.CloseMessageTooBig {
		t.Fatalf("oversized frame: close %d, want %d", code, websocket.CloseMessageTooBig)
	}
	bin := e.connect(t, "tok-alice")
	if err := bin.ws.WriteMessage(websocket.BinaryMessage, []byte(`{"type":"ka"}`)); err != nil {
		t.Fatal(err)
	}
	if code := bin.waitClose(); code != websocket.CloseUnsupportedData {
		t.Fatalf("binary frame: close %d, want %d", code, websocket.CloseUnsupportedData)
	}

	c.send(map[string]any{"type": "stop", "id": "ok"})
	if f := c.readSkippingKA(); f.Type != "complete" || f.ID != "ok" {
		t.Fatalf("after stop: %s", f.raw)
	}
}

// A start whose own token is for another user, or does not verify, is
// refused for that subscription only; siblings keep receiving.
func TestTransport_StartAuthorization(t *testing.T) {
	e := newEnv(t, realtime.Config{})
	alice, bob := e.user(t, "alice"), e.user(t, "bob")
	conv := e.conversation(t, alice, bob)
	expired := bob
	expired.ExpiresAt = time.Now().Add(-time.Minute)
	e.setToken("tok-bob-expired", expired)
	fresh := bob
	fresh.ExpiresAt = time.Now().Add(time.Hour)
	e.setToken("tok-bob-fresh", fresh)

	c := e.connect(t, "tok-bob")
	c.start("live", "tok-bob-fresh", onMessageSent, map[string]any{"conversationId": conv})
	if f := c.readSkippingKA(); f.Type != "start_ack" || f.ID != "live" {
		t.Fatalf("start with a newer token of the same user: %s", f.raw)
	}
	tests := []struct {
		id, token, wantType string
	}{
		{"other-user", "tok-alice", "Forbidden"},
		{"expired", "tok-bob-expired", "UnauthorizedException"},
		{"forged", "tok-forged", "UnauthorizedException"},
	}
	for _, tt := range tests {
		c.start(tt.id, tt.token, onMessageSent, map[string]any{"conversationId": conv})
		f := c.readSkippingKA()
		if f.Type != "error" || f.ID != tt.id || f.firstError(t)["errorType"] != tt.wantType {
			t.Fatalf("start %s: %s, want error %s", tt.id, f.raw, tt.wantType)
		}
	}
	e.send(t, alice, conv, "still here")
	if f := c.readSkippingKA(); f.ID != "live" || f.message(t)["content"] != "still here" {
		t.Fatalf("sibling after refusals: %s", f.raw)
	}
}

// A subscriber that does not read is evicted by the engine (slow
// consumer) instead of holding up the publisher; the socket closes, and
// a client that reconnects with afterSeq = the last seq it saw gets the
// rest with no gap, as Amplify does with the same variables.
func TestTransport_SlowConsumer(t *testing.T) {
	e := newEnvChat(t, realtime.Config{}, chat.Config{StreamQueue: 8})
	alice, bob := e.user(t, "alice"), e.user(t, "bob")
	conv := e.conversation(t, alice, bob)

	// The client stops reading once subscribed: the loopback socket's
	// buffers fill, the server's writer blocks, events pile up.
	c := e.connect(t, "tok-bob")
	c.start("s", "", onMessageResume, map[string]any{"conversationId": conv})
	if f := c.read(); f.Type != "start_ack" {
		t.Fatalf("after start: %s", f.raw)
	}

	// Send until the stream is evicted; the publisher never blocks.
	content := strings.Repeat("x", confab.DefaultMaxContentBytes)
	sent := 0
	for e.svc.Stats().Evicted == 0 {
		if sent == 5000 {
			t.Fatal("no eviction after 5000 messages to a subscriber that does not read")
		}
		e.send(t, alice, conv, content)
		sent++
	}

	// Drain: data in order, then the close.
	last := 0
	for {
		f, err := c.next()
		if err != nil {
			var ce *websocket.CloseError
			if !errors.As(err, &ce) {
				t.Fatalf("after eviction: %v, want the connection closed", err)
			}
			break
		}
		if f.Type == "ka" {
			continue
		}
		if f.Type == "complete" && f.ID == "s" {
			continue // the evicted stream ended; clients ignore complete
		}
		var p struct {
			Data struct {
				OnMessageSent struct{ Seq int } `json:"onMessageSent"`
			} `json:"data"`
		}
		if f.Type != "data" || json.Unmarshal(f.Payload, &p) != nil || p.Data.OnMessageSent.Seq != last+1 {
			t.Fatalf("frame %.200s after seq %d", f.raw, last)
		}
		last++
	}
	if last >= sent {
		t.Fatalf("all %d messages were delivered before the close: no eviction seen by the client", sent)
	}

	// Reconnect and resume.
	r := e.connect(t, "tok-bob")
	r.start("s", "", onMessageResume, map[string]any{"conversationId": conv, "afterSeq": last})
	if f := r.readSkippingKA(); f.Type != "start_ack" {
		t.Fatalf("resume start: %.200s", f.raw)
	}
	for seq := last + 1; seq <= sent; seq++ {
		if m := r.readSkippingKA().message(t); m["seq"] != float64(seq) {
			t.Fatalf("resumed seq %v, want %d", m["seq"], seq)
		}
	}
}

// waitLive spins until the hub holds n connections: a client's close
// reaches the hub's counts when the server's reader ends, which no frame
// announces.
func (e *env) waitLive(t *testing.T, n int) {
	t.Helper()
	deadline := time.Now().Add(readTimeout)
	for e.hub.Len("") != n {
		if time.Now().After(deadline) {
			t.Fatalf("%d live connections, want %d", e.hub.Len(""), n)
		}
		runtime.Gosched()
	}
}

// A user over MaxConnsPerUser is refused at connection_init with a
// retryable connection_error (LimitExceededError, 429); other users are
// not, and a closed connection frees its place.
func TestConnectionsPerUser(t *testing.T) {
	e := newEnv(t, realtime.Config{MaxConnsPerUser: 2})
	e.user(t, "ann")
	e.user(t, "bo")
	first := e.connect(t, "tok-ann")
	e.connect(t, "tok-ann")

	c := e.dial(t, "tok-ann", viaQuery, "")
	c.send(map[string]any{"type": "connection_init"})
	f := c.read()
	if f.Type != "connection_error" {
		t.Fatalf("third connection of one user: %s, want connection_error", f.raw)
	}
	if e := f.firstError(t); e["errorType"] != "LimitExceededError" || e["errorCode"] != float64(429) {
		t.Fatalf("third connection of one user: %s, want LimitExceededError 429", f.raw)
	}
	if code := c.waitClose(); code != websocket.CloseNormalClosure {
		t.Errorf("refused connection closed with %d, want 1000 after the connection_error", code)
	}
	e.connect(t, "tok-bo") // another user is not affected

	first.ws.WriteMessage(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseNormalClosure, ""))
	first.waitClose()
	e.waitLive(t, 2) // ann's second, bo's
	e.connect(t, "tok-ann")
}

// An address over MaxConnsPerAddress is refused before the upgrade with
// HTTP 429 and Retry-After; a closed connection frees its place.
func TestConnectionsPerAddress(t *testing.T) {
	e := newEnv(t, realtime.Config{MaxConnsPerAddress: 2})
	e.user(t, "ann")
	e.user(t, "bo")
	first := e.connect(t, "tok-ann")
	e.connect(t, "tok-bo")

	d := websocket.Dialer{HandshakeTimeout: readTimeout, Subprotocols: []string{"graphql-ws"}}
	ws, resp, err := d.Dial(e.url, nil)
	if err == nil {
		ws.Close()
		t.Fatal("third connection from one address was upgraded")
	}
	if resp == nil || resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("Retry-After") == "" {
		t.Fatalf("third connection from one address: %v (response %+v), want 429 with Retry-After", err, resp)
	}

	first.ws.WriteMessage(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseNormalClosure, ""))
	first.waitClose()
	e.waitLive(t, 1)
	e.connect(t, "tok-ann")
}
