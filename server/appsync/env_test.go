package appsync_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/confab-chat/confab"
	"github.com/confab-chat/confab/broker/inproc"
	"github.com/confab-chat/confab/chat"
	"github.com/confab-chat/confab/graph"
	"github.com/confab-chat/confab/server/appsync"
	"github.com/confab-chat/confab/server/realtime"
	"github.com/confab-chat/confab/store/sqlite"
	"github.com/google/uuid"
	"github.com/gorilla/websocket"
	"go.uber.org/goleak"
)

// TestMain checks, after every test has shut its hub, server, chat
// service, broker and store down, that no goroutine is left behind.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// readTimeout bounds every wait for a frame or a close.
const readTimeout = 10 * time.Second

// env is a loopback server speaking only the AppSync protocol over the real
// executor, chat service, SQLite store and in-process broker. Tokens are
// test tokens ("tok-<name>") mapped to identities; users exist in the store.
type env struct {
	svc   *chat.Service
	store confab.Store
	hub   *realtime.Hub
	url   string // ws://127.0.0.1:port/graphql/realtime
	host  string

	mu     sync.Mutex
	tokens map[string]confab.Identity // guarded by mu
}

// newEnv starts the server; cfg.Authenticate and cfg.Connect are filled in.
func newEnv(t *testing.T, cfg realtime.Config) *env {
	t.Helper()
	return newEnvChat(t, cfg, chat.Config{})
}

// newEnvChat is newEnv with a chat service configuration. Sends are
// unlimited unless chatCfg sets a rate: the tests send as fast as they can.
func newEnvChat(t *testing.T, cfg realtime.Config, chatCfg chat.Config) *env {
	t.Helper()
	if chatCfg.SendsPerSecond == 0 {
		chatCfg.SendsPerSecond = -1
	}
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "confab.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	br := inproc.New()
	t.Cleanup(func() { br.Close() })
	svc := chat.New(st, br, chatCfg)
	t.Cleanup(svc.Close)

	e := &env{svc: svc, store: st, tokens: map[string]confab.Identity{}}
	cfg.Authenticate = e.authenticate
	cfg.Connect = svc.Connect
	e.hub = realtime.NewHub(cfg)
	t.Cleanup(func() { e.shutdown(t) })

	gql := graph.NewServer(svc, graph.Limits{}, slog.New(slog.DiscardHandler))
	gql.AddTransport(appsync.Transport{Hub: e.hub})
	srv := httptest.NewServer(gql)
	t.Cleanup(srv.Close)
	e.host = strings.TrimPrefix(srv.URL, "http://")
	e.url = "ws://" + e.host + "/graphql/realtime"
	return e
}

// shutdown closes every connection (1001) and waits for their readers.
func (e *env) shutdown(t *testing.T) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), readTimeout)
	defer cancel()
	e.hub.Shutdown(ctx.Done())
	if n := e.hub.Len(""); n != 0 {
		t.Errorf("%d connections still live after Shutdown", n)
	}
}

// authenticate is the test token verifier: a known token whose identity
// has not expired.
func (e *env) authenticate(_ context.Context, token string) (confab.Identity, error) {
	e.mu.Lock()
	id, ok := e.tokens[token]
	e.mu.Unlock()
	if !ok {
		return confab.Identity{}, confab.Errorf(confab.CodeUnauthenticated, "Invalid token.")
	}
	if !id.ExpiresAt.IsZero() && !time.Now().Before(id.ExpiresAt) {
		return confab.Identity{}, confab.Errorf(confab.CodeUnauthenticated, "Token expired.")
	}
	return id, nil
}

// user creates an account and returns its identity; "tok-<name>" is its
// token.
func (e *env) user(t *testing.T, name string) confab.Identity {
	t.Helper()
	id := confab.Identity{UserID: uuid.NewString(), Username: name, Email: name + "@example.com"}
	err := e.store.InsertAccount(context.Background(), &confab.Account{
		User:         confab.User{UserID: id.UserID, Username: name, Email: id.Email, CreatedAt: time.Now().UTC().Truncate(time.Millisecond)},
		PasswordHash: "x",
	})
	if err != nil {
		t.Fatal(err)
	}
	e.setToken("tok-"+name, id)
	return id
}

func (e *env) setToken(token string, id confab.Identity) {
	e.mu.Lock()
	e.tokens[token] = id
	e.mu.Unlock()
}

func (e *env) conversation(t *testing.T, owner confab.Identity, others ...confab.Identity) string {
	t.Helper()
	var ids []string
	for _, o := range others {
		ids = append(ids, o.UserID)
	}
	c, err := e.svc.CreateConversation(context.Background(), owner, nil, ids)
	if err != nil {
		t.Fatal(err)
	}
	return c.ConversationID
}

func (e *env) send(t *testing.T, who confab.Identity, convID, content string) *confab.Message {
	t.Helper()
	m, err := e.svc.SendMessage(context.Background(), who, chat.SendMessageInput{ConversationID: convID, Content: content})
	if err != nil {
		t.Fatalf("SendMessage: %v", err)
	}
	return m
}

// How a client passes its auth header at the handshake (protocols.md §1.2).
const (
	viaQuery        = "query"        // ?header=<std base64>&payload=e30= (Amplify ≤ 6.5, aws-appsync)
	viaQueryEscaped = "queryEscaped" // the same, percent-escaped
	viaSubprotocol  = "subprotocol"  // graphql-ws, header-<base64url> (Amplify ≥ 6.6)
	viaNone         = "none"         // no header at all
)

// client is an AppSync protocol client on a real WebSocket.
type client struct {
	t    *testing.T
	ws   *websocket.Conn
	host string
}

// dial connects offering graphql-ws and checks it was selected. rawHeader,
// when set, is sent verbatim as ?header= instead of the encoded token.
func (e *env) dial(t *testing.T, token, via, rawHeader string) *client {
	t.Helper()
	hdr, err := json.Marshal(map[string]string{"Authorization": token, "host": e.host})
	if err != nil {
		t.Fatal(err)
	}
	u := e.url
	d := websocket.Dialer{HandshakeTimeout: readTimeout, Subprotocols: []string{"graphql-ws"}}
	switch {
	case rawHeader != "":
		u += "?header=" + rawHeader + "&payload=e30="
	case via == viaQuery:
		u += "?header=" + base64.StdEncoding.EncodeToString(hdr) + "&payload=e30="
	case via == viaQueryEscaped:
		u += "?header=" + strings.NewReplacer("+", "%2B", "/", "%2F", "=", "%3D").Replace(base64.StdEncoding.EncodeToString(hdr)) + "&payload=e30%3D"
	case via == viaSubprotocol:
		d.Subprotocols = append(d.Subprotocols, "header-"+base64.RawURLEncoding.EncodeToString(hdr))
	case via == viaNone:
	default:
		t.Fatalf("unknown handshake style %q", via)
	}
	ws, resp, err := d.Dial(u, nil)
	if err != nil {
		t.Fatalf("dial %s: %v", u, err)
	}
	t.Cleanup(func() { ws.Close() })
	if got := resp.Header.Get("Sec-WebSocket-Protocol"); got != appsync.Subprotocol {
		t.Fatalf("selected subprotocol %q, want %q", got, appsync.Subprotocol)
	}
	return &client{t: t, ws: ws, host: e.host}
}

// connect dials with the token in the query, sends connection_init and
// reads the ack and the ka after it.
func (e *env) connect(t *testing.T, token string) *client {
	t.Helper()
	c := e.dial(t, token, viaQuery, "")
	c.send(map[string]any{"type": "connection_init"})
	if f := c.read(); f.Type != "connection_ack" {
		t.Fatalf("after connection_init: %s, want connection_ack", f.raw)
	}
	if f := c.read(); f.Type != "ka" {
		t.Fatalf("after connection_ack: %s, want ka", f.raw)
	}
	return c
}

func (c *client) send(v any) {
	c.t.Helper()
	if err := c.ws.WriteJSON(v); err != nil {
		c.t.Fatal(err)
	}
}

func (c *client) sendText(s string) {
	c.t.Helper()
	if err := c.ws.WriteMessage(websocket.TextMessage, []byte(s)); err != nil {
		c.t.Fatal(err)
	}
}

// start sends a start as Amplify does: data is a JSON string, the token
// rides in extensions.authorization (omitted when token is "").
func (c *client) start(id, token, query string, vars map[string]any) {
	c.t.Helper()
	data, err := json.Marshal(map[string]any{"query": query, "variables": vars})
	if err != nil {
		c.t.Fatal(err)
	}
	payload := map[string]any{"data": string(data)}
	if token != "" {
		payload["extensions"] = map[string]any{"authorization": map[string]any{
			"Authorization": token, "host": c.host, "x-amz-user-agent": "aws-amplify/6.22.1 api/1 framework/100",
		}}
	}
	c.send(map[string]any{"id": id, "type": "start", "payload": payload})
}

// serverFrame is a frame from the server, decoded loosely.
type serverFrame struct {
	Type    string          `json:"type"`
	ID      string          `json:"id"`
	Payload json.RawMessage `json:"payload"`
	raw     []byte
}

// read returns the next frame; every frame must be one JSON object.
func (c *client) read() serverFrame {
	c.t.Helper()
	f, err := c.next()
	if err != nil {
		c.t.Fatalf("read: %v", err)
	}
	return f
}

func (c *client) next() (serverFrame, error) {
	c.ws.SetReadDeadline(time.Now().Add(readTimeout))
	kind, data, err := c.ws.ReadMessage()
	if err != nil {
		return serverFrame{}, err
	}
	var f serverFrame
	if kind != websocket.TextMessage || json.Unmarshal(data, &f) != nil || f.Type == "" {
		c.t.Fatalf("server sent %q (kind %d), not a JSON frame with a type", data, kind)
	}
	f.raw = data
	return f, nil
}

// readSkippingKA returns the next frame that is not a ka.
func (c *client) readSkippingKA() serverFrame {
	c.t.Helper()
	for {
		if f := c.read(); f.Type != "ka" {
			return f
		}
	}
}

// waitClose reads until the server closes, failing on any frame other
// than ka, and returns the close code.
func (c *client) waitClose() int {
	c.t.Helper()
	for {
		f, err := c.next()
		var ce *websocket.CloseError
		switch {
		case errors.As(err, &ce):
			return ce.Code
		case err != nil:
			c.t.Fatalf("waiting for a close frame: %v", err)
		case f.Type != "ka":
			c.t.Fatalf("waiting for a close frame: got %s", f.raw)
		}
	}
}

// firstError returns errors[0] of an error or connection_error payload.
func (f serverFrame) firstError(t *testing.T) map[string]any {
	t.Helper()
	var p struct {
		Errors []map[string]any `json:"errors"`
	}
	if err := json.Unmarshal(f.Payload, &p); err != nil || len(p.Errors) == 0 {
		t.Fatalf("frame %s has no payload.errors array", f.raw)
	}
	return p.Errors[0]
}

// message returns payload.data.onMessageSent of a data frame.
func (f serverFrame) message(t *testing.T) map[string]any {
	t.Helper()
	var p struct {
		Data struct {
			OnMessageSent map[string]any `json:"onMessageSent"`
		} `json:"data"`
		Errors []any `json:"errors"`
	}
	if f.Type != "data" || json.Unmarshal(f.Payload, &p) != nil || p.Data.OnMessageSent == nil || p.Errors != nil {
		t.Fatalf("frame %s is not a data frame with a message and no errors", f.raw)
	}
	return p.Data.OnMessageSent
}
