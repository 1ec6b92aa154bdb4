package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/gorilla/websocket"
)

// app is a confab server run through the real Main on 127.0.0.1:0.
type app struct {
	url    string
	data   string
	client *http.Client // nil: http.DefaultClient
}

// runMain starts Main serve with a fresh data directory and stops it when
// the test ends (WTF's MustRunMain).
func runMain(t *testing.T, extra ...string) *app {
	t.Helper()
	a, stop := startMain(t, t.TempDir(), extra...)
	t.Cleanup(stop)
	return a
}

// startMain starts Main serve on data; stop shuts it down and fails the
// test if serve returned an error.
func startMain(t *testing.T, data string, extra ...string) (a *app, stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan string, 1)
	done := make(chan error, 1)
	m := &Main{Stdout: io.Discard, Stderr: io.Discard, Getenv: func(string) string { return "" }, Ready: func(u string) { ready <- u }}
	args := append([]string{"serve", "--http", "127.0.0.1:0", "--data", data, "--log-level", "error"}, extra...)
	go func() { done <- m.Run(ctx, args) }()
	select {
	case u := <-ready:
		return &app{url: u, data: data}, func() {
			cancel()
			if err := <-done; err != nil {
				t.Errorf("serve returned %v", err)
			}
		}
	case err := <-done:
		cancel()
		t.Fatalf("serve exited early: %v", err)
	case <-time.After(30 * time.Second):
		cancel()
		t.Fatal("server did not start")
	}
	return nil, nil
}

type account struct {
	userID, email, idToken, accessToken, refreshToken string
}

func (a *app) postJSON(t *testing.T, path string, body any, header map[string]string) (int, map[string]any) {
	t.Helper()
	b, _ := json.Marshal(body)
	req, _ := http.NewRequest(http.MethodPost, a.url+path, bytes.NewReader(b))
	req.Header.Set("Content-Type", "application/json")
	for k, v := range header {
		req.Header.Set(k, v)
	}
	client := a.client
	if client == nil {
		client = http.DefaultClient
	}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	json.NewDecoder(resp.Body).Decode(&out)
	return resp.StatusCode, out
}

var userSeq int
var userSeqMu sync.Mutex

func (a *app) signUp(t *testing.T, name string) *account {
	t.Helper()
	userSeqMu.Lock()
	userSeq++
	email := fmt.Sprintf("%s%d@example.com", name, userSeq)
	userSeqMu.Unlock()
	status, body := a.postJSON(t, "/auth/signup", map[string]string{"email": email, "password": "Passw0rd!x", "username": strings.TrimSuffix(email, "@example.com")}, nil)
	if status != http.StatusOK {
		t.Fatalf("signup: %d %v", status, body)
	}
	status, body = a.postJSON(t, "/auth/login", map[string]string{"email": email, "password": "Passw0rd!x"}, nil)
	if status != http.StatusOK {
		t.Fatalf("login: %d %v", status, body)
	}
	acct := &account{email: email, idToken: body["idToken"].(string), accessToken: body["accessToken"].(string), refreshToken: body["refreshToken"].(string)}
	claims := jwt.MapClaims{}
	if _, _, err := jwt.NewParser().ParseUnverified(acct.idToken, claims); err != nil {
		t.Fatal(err)
	}
	acct.userID = claims["sub"].(string)
	return acct
}

// gql runs a GraphQL operation over POST /graphql with token (raw).
func (a *app) gql(t *testing.T, token, query string, vars map[string]any) (int, map[string]any) {
	t.Helper()
	h := map[string]string{}
	if token != "" {
		h["Authorization"] = token
	}
	return a.postJSON(t, "/graphql", map[string]any{"query": query, "variables": vars}, h)
}

// mustGQL runs an operation and fails on any error; it returns data.
func (a *app) mustGQL(t *testing.T, token, query string, vars map[string]any) map[string]any {
	t.Helper()
	status, body := a.gql(t, token, query, vars)
	if status != http.StatusOK || body["errors"] != nil {
		t.Fatalf("%s: status %d, body %v", strings.Fields(query)[0:2], status, body)
	}
	return body["data"].(map[string]any)
}

func errCode(body map[string]any) string {
	errs, _ := body["errors"].([]any)
	if len(errs) == 0 {
		return ""
	}
	ext, _ := errs[0].(map[string]any)["extensions"].(map[string]any)
	code, _ := ext["code"].(string)
	return code
}

const (
	createConv = `mutation($p:[ID!]!){ createConversation(input:{name:"team", participants:$p}){ conversationId participants } }`
	sendMsg    = `mutation($c:ID!,$t:String!){ sendMessage(input:{conversationId:$c, content:$t}){ messageId seq content author { username } createdAt } }`
	listMsgs   = `query($c:ID!,$n:String){ listMessages(conversationId:$c, limit:2, nextToken:$n){ items { seq content } nextToken } }`
)

// TestMain_Walkthrough is the README's curl walk-through, end to end.
func TestMain_Walkthrough(t *testing.T) {
	a := runMain(t)
	alice, bob := a.signUp(t, "alice"), a.signUp(t, "bob")
	conv := a.mustGQL(t, alice.idToken, createConv, map[string]any{"p": []string{bob.userID}})["createConversation"].(map[string]any)
	cid := conv["conversationId"].(string)
	for i, text := range []string{"hello bob", "Hello Alice", "lunch at noon?"} {
		who := alice
		if i == 1 {
			who = bob
		}
		// Bob uses the access token: both token kinds are accepted.
		tok := who.idToken
		if who == bob {
			tok = "Bearer " + bob.accessToken
		}
		m := a.mustGQL(t, tok, sendMsg, map[string]any{"c": cid, "t": text})["sendMessage"].(map[string]any)
		if int(m["seq"].(float64)) != i+1 {
			t.Fatalf("seq = %v, want %d", m["seq"], i+1)
		}
		if !strings.HasSuffix(m["createdAt"].(string), "Z") || len(m["createdAt"].(string)) != len("2026-11-25T05:18:48.106Z") {
			t.Fatalf("createdAt %q is not RFC 3339 UTC with milliseconds", m["createdAt"])
		}
	}
	page := a.mustGQL(t, bob.idToken, listMsgs, map[string]any{"c": cid})["listMessages"].(map[string]any)
	items := page["items"].([]any)
	if len(items) != 2 || items[0].(map[string]any)["content"] != "lunch at noon?" {
		t.Fatalf("first page = %v", items)
	}
	page = a.mustGQL(t, bob.idToken, listMsgs, map[string]any{"c": cid, "n": page["nextToken"]})["listMessages"].(map[string]any)
	if items := page["items"].([]any); len(items) != 1 || items[0].(map[string]any)["content"] != "hello bob" {
		t.Fatalf("second page = %v", items)
	}
	found := a.mustGQL(t, alice.idToken, `query($c:ID!){ searchMessages(conversationId:$c, searchTerm:"HELLO"){ content } }`, map[string]any{"c": cid})["searchMessages"].([]any)
	if len(found) != 2 {
		t.Fatalf("search HELLO found %v, want both greetings", found)
	}
	convs := a.mustGQL(t, bob.idToken, `query($u:ID!){ listConversations(userId:$u){ items { conversationId lastMessage messageCount unreadCount } } }`, map[string]any{"u": bob.userID})["listConversations"].(map[string]any)["items"].([]any)
	if len(convs) != 1 || convs[0].(map[string]any)["lastMessage"] != "lunch at noon?" || convs[0].(map[string]any)["messageCount"].(float64) != 3 {
		t.Fatalf("conversations = %v", convs)
	}
}

// forgeToken signs claims with key (nil: a fresh key, i.e. another signer).
func forgeToken(t *testing.T, key *rsa.PrivateKey, kid string, claims jwt.MapClaims) string {
	t.Helper()
	if key == nil {
		var err error
		if key, err = rsa.GenerateKey(rand.Reader, 2048); err != nil {
			t.Fatal(err)
		}
	}
	tok := jwt.NewWithClaims(jwt.SigningMethodRS256, claims)
	tok.Header["kid"] = kid
	s, err := tok.SignedString(key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// serverKey reads the signing key the server created in its data dir.
func (a *app) serverKey(t *testing.T) *rsa.PrivateKey {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(a.data, "jwt-signing-key.pem"))
	if err != nil {
		t.Fatal(err)
	}
	blk, _ := pem.Decode(b)
	if blk == nil {
		t.Fatal("signing key is not PEM")
	}
	if k, err := x509.ParsePKCS1PrivateKey(blk.Bytes); err == nil {
		return k
	}
	k, err := x509.ParsePKCS8PrivateKey(blk.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	return k.(*rsa.PrivateKey)
}

// TestMain_AuthorizationMatrix sends every operation with each kind of
// caller: member, non-member, no token, expired, other signer, alg:none.
func TestMain_AuthorizationMatrix(t *testing.T) {
	a := runMain(t)
	alice, bob, eve := a.signUp(t, "alice"), a.signUp(t, "bob"), a.signUp(t, "eve")
	cid := a.mustGQL(t, alice.idToken, createConv, map[string]any{"p": []string{bob.userID}})["createConversation"].(map[string]any)["conversationId"].(string)
	msg := a.mustGQL(t, bob.idToken, sendMsg, map[string]any{"c": cid, "t": "secret plans"})["sendMessage"].(map[string]any)
	mid := msg["messageId"].(string)

	claims := jwt.MapClaims{}
	jwt.NewParser().ParseUnverified(alice.idToken, claims)
	hdr := map[string]any{}
	parts := strings.Split(alice.idToken, ".")
	json.NewDecoder(base64URL(parts[0])).Decode(&hdr)
	kid, _ := hdr["kid"].(string)
	expired := jwt.MapClaims{}
	for k, v := range claims {
		expired[k] = v
	}
	expired["exp"] = time.Now().Add(-time.Minute).Unix()
	expired["iat"] = time.Now().Add(-2 * time.Hour).Unix()
	unsigned := jwt.NewWithClaims(jwt.SigningMethodNone, claims)
	none, _ := unsigned.SignedString(jwt.UnsafeAllowNoneSignatureType)

	tokens := map[string]string{
		"noToken":     "",
		"expired":     forgeToken(t, a.serverKey(t), kid, expired),
		"otherSigner": forgeToken(t, nil, kid, claims),
		"algNone":     none,
		"garbage":     "not.a.jwt",
	}
	ops := map[string]struct {
		q    string
		vars map[string]any
	}{
		"getConversation":    {`query($c:ID!){ getConversation(conversationId:$c){ name } }`, map[string]any{"c": cid}},
		"listMessages":       {`query($c:ID!){ listMessages(conversationId:$c){ items { content } } }`, map[string]any{"c": cid}},
		"getMessage":         {`query($c:ID!,$m:ID!){ getMessage(conversationId:$c, messageId:$m){ content } }`, map[string]any{"c": cid, "m": mid}},
		"searchMessages":     {`query($c:ID!){ searchMessages(conversationId:$c, searchTerm:"secret"){ content } }`, map[string]any{"c": cid}},
		"sendMessage":        {sendMsg, map[string]any{"c": cid, "t": "intrusion"}},
		"updateConversation": {`mutation($c:ID!){ updateConversation(input:{conversationId:$c, name:"pwned"}){ name } }`, map[string]any{"c": cid}},
		"deleteMessage":      {`mutation($c:ID!,$m:ID!){ deleteMessage(conversationId:$c, messageId:$m){ messageId } }`, map[string]any{"c": cid, "m": mid}},
		"listConversations":  {`query($u:ID!){ listConversations(userId:$u){ items { conversationId } } }`, map[string]any{"u": alice.userID}},
		"updateUserPresence": {`mutation($u:ID!){ updateUserPresence(userId:$u, isOnline:false){ userId } }`, map[string]any{"u": alice.userID}},
		"updateUserProfile":  {`mutation($u:ID!){ updateUserProfile(input:{userId:$u, displayName:"pwned"}){ userId } }`, map[string]any{"u": alice.userID}},
	}
	for name, op := range ops {
		for kind, tok := range tokens {
			t.Run(name+"/Err"+kind, func(t *testing.T) {
				status, body := a.gql(t, tok, op.q, op.vars)
				if status != http.StatusUnauthorized {
					t.Fatalf("status = %d, want 401 (body %v)", status, body)
				}
			})
		}
		t.Run(name+"/ErrOtherUser", func(t *testing.T) {
			_, body := a.gql(t, eve.idToken, op.q, op.vars)
			code := errCode(body)
			if code != "NOT_FOUND" && code != "FORBIDDEN" {
				t.Fatalf("code = %q, want NOT_FOUND or FORBIDDEN (body %v)", code, body)
			}
		})
	}
	// Nothing was changed by the refused operations.
	got := a.mustGQL(t, alice.idToken, `query($c:ID!){ getConversation(conversationId:$c){ name messageCount } }`, map[string]any{"c": cid})["getConversation"].(map[string]any)
	if got["name"] != "team" || got["messageCount"].(float64) != 1 {
		t.Fatalf("conversation after refused operations = %v", got)
	}
}

func base64URL(s string) io.Reader {
	s = strings.TrimRight(s, "=")
	return strings.NewReader(string(must(jwt.NewParser().DecodeSegment(s))))
}

func must(b []byte, err error) []byte {
	if err != nil {
		panic(err)
	}
	return b
}

// TestMain_BadInput sends malformed, oversized and hostile requests: each
// gets a 4xx or a GraphQL error, never a 5xx, and stored data is intact.
func TestMain_BadInput(t *testing.T) {
	a := runMain(t)
	alice := a.signUp(t, "alice")
	cid := a.mustGQL(t, alice.idToken, createConv, map[string]any{"p": []string{}})["createConversation"].(map[string]any)["conversationId"].(string)
	raw := func(contentType, body string) int {
		req, _ := http.NewRequest(http.MethodPost, a.url+"/graphql", strings.NewReader(body))
		req.Header.Set("Authorization", alice.idToken)
		if contentType != "" {
			req.Header.Set("Content-Type", contentType)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	tests := []struct {
		name, ct, body string
		want           int
	}{
		{"ErrMalformedJSON", "application/json", `{"query":`, 400},
		{"ErrEmpty", "application/json", ``, 400},
		{"ErrNotARequest", "application/json", `[]`, 400},
		{"ErrWrongContentType", "text/plain", `{"query":"{ me { userId } }"}`, 415},
		{"ErrOversized", "application/json", `{"query":"` + strings.Repeat("a", 300<<10) + `"}`, 413},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := raw(tt.ct, tt.body); got != tt.want {
				t.Fatalf("status = %d, want %d", got, tt.want)
			}
		})
	}
	gqlErrs := []struct {
		name, q string
		vars    map[string]any
	}{
		{"ErrWrongType", sendMsg, map[string]any{"c": cid, "t": 42}},
		{"ErrUnknownField", `{ me { password } }`, nil},
		{"ErrUnusedFragment", `{ me { userId } } fragment a on Query { me { userId } }`, nil},
		{"ErrContentTooLarge", sendMsg, map[string]any{"c": cid, "t": strings.Repeat("x", 16<<10+1)}},
		{"ErrSystemMessage", `mutation($c:ID!){ sendMessage(input:{conversationId:$c, content:"x", messageType:SYSTEM}){ seq } }`, map[string]any{"c": cid}},
		{"ErrBadLimit", `query($c:ID!){ listMessages(conversationId:$c, limit:1000){ items { seq } } }`, map[string]any{"c": cid}},
		{"ErrNULInContent", sendMsg, map[string]any{"c": cid, "t": "a\u0000b"}},
		{"ErrBadCursor", `query($c:ID!){ listMessages(conversationId:$c, nextToken:"' OR 1=1 --"){ items { seq } } }`, map[string]any{"c": cid}},
	}
	for _, tt := range gqlErrs {
		t.Run(tt.name, func(t *testing.T) {
			status, body := a.gql(t, alice.idToken, tt.q, tt.vars)
			if status >= 500 || body["errors"] == nil {
				t.Fatalf("status %d body %v: want a GraphQL error and no 5xx", status, body)
			}
		})
	}
	hostile := []string{`'); DROP TABLE messages; --`, `" OR 1=1 --`, `NEAR(a b)`, `*`, `content:x`, "<script>alert(1)</script>"}
	for _, h := range hostile {
		a.mustGQL(t, alice.idToken, sendMsg, map[string]any{"c": cid, "t": "hostile " + h})
		status, body := a.gql(t, alice.idToken, `query($c:ID!,$q:String!){ searchMessages(conversationId:$c, searchTerm:$q){ content } }`, map[string]any{"c": cid, "q": h})
		if status != 200 || (body["errors"] != nil && errCode(body) != "BAD_USER_INPUT") {
			t.Fatalf("search %q: %d %v", h, status, body)
		}
	}
	got := a.mustGQL(t, alice.idToken, `query($c:ID!){ getConversation(conversationId:$c){ messageCount } }`, map[string]any{"c": cid})["getConversation"].(map[string]any)
	if got["messageCount"].(float64) != float64(len(hostile)) {
		t.Fatalf("messageCount = %v, want %d: hostile strings are stored verbatim as messages", got["messageCount"], len(hostile))
	}
}

// wsClient is a minimal graphql-transport-ws client for tests.
type wsClient struct {
	t    *testing.T
	conn *websocket.Conn
}

func (a *app) dialGQLWS(t *testing.T, token string) *wsClient {
	t.Helper()
	d := websocket.Dialer{Subprotocols: []string{"graphql-transport-ws"}, HandshakeTimeout: 5 * time.Second}
	conn, _, err := d.Dial(strings.Replace(a.url, "http", "ws", 1)+"/graphql", nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	c := &wsClient{t: t, conn: conn}
	c.send(map[string]any{"type": "connection_init", "payload": map[string]any{"Authorization": token}})
	if m := c.read(); m["type"] != "connection_ack" {
		t.Fatalf("after init: %v", m)
	}
	return c
}

func (c *wsClient) send(v any) {
	c.t.Helper()
	if err := c.conn.WriteJSON(v); err != nil {
		c.t.Fatal(err)
	}
}

func (c *wsClient) read() map[string]any {
	c.t.Helper()
	c.conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	var m map[string]any
	if err := c.conn.ReadJSON(&m); err != nil {
		c.t.Fatalf("read: %v", err)
	}
	return m
}

// TestMain_SubscriptionOrderAndResume: messages sent concurrently over
// POST /graphql reach a graphql-transport-ws subscriber in seq order; a
// subscriber that reconnects with afterSeq misses nothing.
func TestMain_SubscriptionOrderAndResume(t *testing.T) {
	a := runMain(t, "--sends-per-second", "-1") // 44 sends by one user as fast as they go
	alice, bob := a.signUp(t, "alice"), a.signUp(t, "bob")
	cid := a.mustGQL(t, alice.idToken, createConv, map[string]any{"p": []string{bob.userID}})["createConversation"].(map[string]any)["conversationId"].(string)
	sub := `subscription($c:ID!,$a:Int){ onMessageSent(conversationId:$c, afterSeq:$a){ seq content } }`

	ws := a.dialGQLWS(t, bob.idToken)
	// afterSeq 0: the warm-up arrives whether it is committed before or
	// after the subscription goes live (subscribing is asynchronous).
	ws.send(map[string]any{"id": "1", "type": "subscribe", "payload": map[string]any{"query": sub, "variables": map[string]any{"c": cid, "a": 0}}})
	a.mustGQL(t, alice.idToken, sendMsg, map[string]any{"c": cid, "t": "warm-up"})
	if m := ws.read(); m["type"] != "next" {
		t.Fatalf("first frame %v", m)
	}
	const senders, each = 4, 10
	var wg sync.WaitGroup
	for s := range senders {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				a.mustGQL(t, alice.idToken, sendMsg, map[string]any{"c": cid, "t": fmt.Sprint(s, "-", i)})
			}
		}()
	}
	wg.Wait()
	for want := 2; want <= 1+senders*each; want++ {
		m := ws.read()
		seq := m["payload"].(map[string]any)["data"].(map[string]any)["onMessageSent"].(map[string]any)["seq"].(float64)
		if int(seq) != want {
			t.Fatalf("seq = %v, want %d", seq, want)
		}
	}
	ws.conn.Close()

	// Away: three messages are sent. Resume from the last seq seen.
	last := 1 + senders*each
	for i := range 3 {
		a.mustGQL(t, alice.idToken, sendMsg, map[string]any{"c": cid, "t": fmt.Sprint("while away ", i)})
	}
	ws = a.dialGQLWS(t, bob.idToken)
	ws.send(map[string]any{"id": "2", "type": "subscribe", "payload": map[string]any{"query": sub, "variables": map[string]any{"c": cid, "a": last}}})
	for want := last + 1; want <= last+3; want++ {
		m := ws.read()
		seq := m["payload"].(map[string]any)["data"].(map[string]any)["onMessageSent"].(map[string]any)["seq"].(float64)
		if int(seq) != want {
			t.Fatalf("resumed seq = %v, want %d", seq, want)
		}
	}
}

// TestMain_WebSocketHeaderToken: a graphql-transport-ws client that cannot
// put the token in connection_init (a server-side client) may send it as
// the upgrade request's Authorization header; the connection keeps only
// that header, not the request.
func TestMain_WebSocketHeaderToken(t *testing.T) {
	a := runMain(t)
	alice := a.signUp(t, "alice")
	d := websocket.Dialer{Subprotocols: []string{"graphql-transport-ws"}, HandshakeTimeout: 5 * time.Second}
	for _, tc := range []struct {
		name, header string
		want         string // "connection_ack", or the close code
	}{
		{"Valid", alice.idToken, "connection_ack"},
		{"Forged", "forged", "4403"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			conn, _, err := d.Dial(strings.Replace(a.url, "http", "ws", 1)+"/graphql", http.Header{"Authorization": {tc.header}})
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			conn.WriteJSON(map[string]any{"type": "connection_init"})
			conn.SetReadDeadline(time.Now().Add(10 * time.Second))
			var m map[string]any
			err = conn.ReadJSON(&m)
			got := fmt.Sprint(m["type"])
			if ce, ok := err.(*websocket.CloseError); ok {
				got = fmt.Sprint(ce.Code)
			} else if err != nil {
				t.Fatal(err)
			}
			if got != tc.want {
				t.Fatalf("connection_init with the token in the upgrade header: %s, want %s", got, tc.want)
			}
		})
	}
}

// TestMain_WebSocketRefusals: bad tokens close with 4403; a non-member's
// subscription gets an error frame and the connection stays usable.
func TestMain_WebSocketRefusals(t *testing.T) {
	a := runMain(t)
	alice, eve := a.signUp(t, "alice"), a.signUp(t, "eve")
	cid := a.mustGQL(t, alice.idToken, createConv, map[string]any{"p": []string{}})["createConversation"].(map[string]any)["conversationId"].(string)

	d := websocket.Dialer{Subprotocols: []string{"graphql-transport-ws"}}
	conn, _, err := d.Dial(strings.Replace(a.url, "http", "ws", 1)+"/graphql", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.WriteJSON(map[string]any{"type": "connection_init", "payload": map[string]any{"Authorization": "forged"}})
	conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	_, _, err = conn.ReadMessage()
	if ce, ok := err.(*websocket.CloseError); !ok || ce.Code != 4403 {
		t.Fatalf("bad token: %v, want close 4403", err)
	}

	ws := a.dialGQLWS(t, eve.idToken)
	ws.send(map[string]any{"id": "x", "type": "subscribe", "payload": map[string]any{"query": `subscription($c:ID!){ onMessageSent(conversationId:$c){ seq } }`, "variables": map[string]any{"c": cid}}})
	m := ws.read()
	if m["type"] != "error" || !strings.Contains(fmt.Sprint(m["payload"]), "NOT_FOUND") {
		t.Fatalf("non-member subscribe: %v", m)
	}
	ws.send(map[string]any{"type": "ping"})
	if m := ws.read(); m["type"] != "pong" {
		t.Fatalf("after a refused subscription the connection should still answer: %v", m)
	}
}
