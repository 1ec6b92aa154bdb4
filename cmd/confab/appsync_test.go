package main

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// appsyncClient speaks the AppSync real-time protocol like Amplify does.
type appsyncClient struct {
	t    *testing.T
	conn *websocket.Conn
	host string
}

// dialAppSync connects with the auth header in the ?header= parameter
// (old clients) or in the subprotocol list (Amplify ≥ 6.6).
func (a *app) dialAppSync(t *testing.T, token string, viaSubprotocol bool) *appsyncClient {
	t.Helper()
	host := strings.TrimPrefix(a.url, "http://")
	hdr, _ := json.Marshal(map[string]string{"Authorization": token, "host": host})
	u := "ws://" + host + "/graphql/realtime"
	d := websocket.Dialer{HandshakeTimeout: 5 * time.Second, Subprotocols: []string{"graphql-ws"}}
	if viaSubprotocol {
		d.Subprotocols = append(d.Subprotocols, "header-"+base64.RawURLEncoding.EncodeToString(hdr))
	} else {
		u += "?header=" + base64.StdEncoding.EncodeToString(hdr) + "&payload=e30="
	}
	conn, resp, err := d.Dial(u, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := resp.Header.Get("Sec-WebSocket-Protocol"); got != "graphql-ws" {
		t.Fatalf("selected subprotocol %q, want graphql-ws", got)
	}
	t.Cleanup(func() { conn.Close() })
	c := &appsyncClient{t: t, conn: conn, host: host}
	c.send(map[string]any{"type": "connection_init"})
	return c
}

func (c *appsyncClient) send(v any) {
	c.t.Helper()
	if err := c.conn.WriteJSON(v); err != nil {
		c.t.Fatal(err)
	}
}

// read returns the next frame, skipping keep-alives unless wantKA.
func (c *appsyncClient) read(wantKA bool) map[string]any {
	c.t.Helper()
	for {
		c.conn.SetReadDeadline(time.Now().Add(10 * time.Second))
		var m map[string]any
		if err := c.conn.ReadJSON(&m); err != nil {
			c.t.Fatalf("read: %v", err)
		}
		if m["type"] == "ka" && !wantKA {
			continue
		}
		return m
	}
}

func (c *appsyncClient) start(id, token, query string, vars map[string]any) {
	data, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
	c.send(map[string]any{"id": id, "type": "start", "payload": map[string]any{
		"data":       string(data),
		"extensions": map[string]any{"authorization": map[string]any{"Authorization": token, "host": c.host}},
	}})
}

const appsyncSub = `subscription OnMessageSent($conversationId: ID!) { onMessageSent(conversationId: $conversationId) { __typename messageId seq content } }`

func TestMain_AppSync(t *testing.T) {
	a := runMain(t)
	alice, bob, eve := a.signUp(t, "alice"), a.signUp(t, "bob"), a.signUp(t, "eve")
	cid := a.mustGQL(t, alice.idToken, createConv, map[string]any{"p": []string{bob.userID}})["createConversation"].(map[string]any)["conversationId"].(string)

	for _, viaSub := range []bool{false, true} {
		t.Run(fmt.Sprintf("HandshakeViaSubprotocol=%v", viaSub), func(t *testing.T) {
			c := a.dialAppSync(t, bob.accessToken, viaSub)
			ack := c.read(true)
			payload, _ := ack["payload"].(map[string]any)
			if ack["type"] != "connection_ack" || payload["connectionTimeoutMs"] != float64(300000) {
				t.Fatalf("ack = %v", ack)
			}
			if ka := c.read(true); ka["type"] != "ka" {
				t.Fatalf("frame after the ack = %v, want ka (Amplify needs it)", ka)
			}
			c.start("sub-1", bob.accessToken, appsyncSub, map[string]any{"conversationId": cid})
			if m := c.read(false); m["type"] != "start_ack" || m["id"] != "sub-1" {
				t.Fatalf("after start: %v", m)
			}
			for i := range 5 {
				a.mustGQL(t, alice.idToken, sendMsg, map[string]any{"c": cid, "t": fmt.Sprint("appsync ", i)})
			}
			var last float64
			for range 5 {
				m := c.read(false)
				msg := m["payload"].(map[string]any)["data"].(map[string]any)["onMessageSent"].(map[string]any)
				if m["type"] != "data" || msg["__typename"] != "Message" || (last != 0 && msg["seq"].(float64) != last+1) {
					t.Fatalf("data frame %v (previous seq %v)", m, last)
				}
				last = msg["seq"].(float64)
			}
			c.send(map[string]any{"id": "sub-1", "type": "stop"})
			if m := c.read(false); m["type"] != "complete" || m["id"] != "sub-1" {
				t.Fatalf("after stop: %v", m)
			}
		})
	}

	t.Run("ErrBadToken", func(t *testing.T) {
		c := a.dialAppSync(t, "forged", false)
		m := c.read(true)
		errs := m["payload"].(map[string]any)["errors"].([]any)
		e := errs[0].(map[string]any)
		if m["type"] != "connection_error" || e["errorType"] != "UnauthorizedException" || e["errorCode"] != float64(401) {
			t.Fatalf("bad token: %v", m)
		}
	})

	t.Run("Refusals", func(t *testing.T) {
		c := a.dialAppSync(t, eve.idToken, false)
		c.read(false) // connection_ack
		c.start("x", eve.idToken, appsyncSub, map[string]any{"conversationId": cid})
		m := c.read(false)
		e := m["payload"].(map[string]any)["errors"].([]any)[0].(map[string]any)
		if m["type"] != "error" || m["id"] != "x" || e["errorType"] != "NotFound" {
			t.Fatalf("non-member start: %v (must not be an auth-typed error that tears down the socket)", m)
		}
		c.start("q", eve.idToken, `query { me { userId } }`, nil)
		m = c.read(false)
		e = m["payload"].(map[string]any)["errors"].([]any)[0].(map[string]any)
		if m["type"] != "error" || e["errorType"] != "UnsupportedOperation" {
			t.Fatalf("query via start: %v", m)
		}
		own := a.mustGQL(t, eve.idToken, createConv, map[string]any{"p": []string{}})["createConversation"].(map[string]any)["conversationId"].(string)
		c.start("d", eve.idToken, appsyncSub, map[string]any{"conversationId": own})
		c.read(false) // start_ack
		c.start("d", eve.idToken, appsyncSub, map[string]any{"conversationId": own})
		m = c.read(false)
		e = m["payload"].(map[string]any)["errors"].([]any)[0].(map[string]any)
		if m["type"] != "error" || e["errorType"] != "DuplicatedOperationError" {
			t.Fatalf("duplicate id: %v", m)
		}
		c.send(map[string]any{"id": "unknown", "type": "stop"}) // ignored silently
		c.conn.WriteMessage(websocket.TextMessage, []byte("not json"))
		m = c.read(false)
		if m["type"] != "connection_error" {
			t.Fatalf("non-JSON frame: %v", m)
		}
	})

	t.Run("ErrNotUpgrade", func(t *testing.T) {
		resp, err := http.Get(a.url + "/graphql/realtime")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusBadRequest {
			t.Fatalf("plain GET: %d, want 400", resp.StatusCode)
		}
	})
}
