package realtime_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
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
	"github.com/confab-chat/confab/server/gqlws"
	"github.com/confab-chat/confab/server/realtime"
	"github.com/confab-chat/confab/store/sqlite"
	"github.com/google/uuid"
	"github.com/gorilla/websocket"
)

// The tests in this file drive the engine end to end: a loopback server
// speaking both protocols over the real executor, chat service, SQLite
// store and in-process broker, and real WebSocket clients.

// readTimeout bounds every wait for a frame or a close.
const readTimeout = 10 * time.Second

// protocols are the two protocols the engine serves, by the names the
// tests use.
var protocols = []string{"gqlws", "appsync"}

// onMessageSent is the subscription most tests use.
const onMessageSent = `subscription S($conversationId: ID!, $afterSeq: Int) { onMessageSent(conversationId: $conversationId, afterSeq: $afterSeq) { seq content } }`

// env is the loopback server. Tokens are "tok-<name>", mapped to the
// identities of users that exist in the store.
type env struct {
	svc    *chat.Service
	store  confab.Store
	broker confab.Broker
	hub    *realtime.Hub
	host   string

	mu     sync.Mutex
	tokens map[string]confab.Identity // guarded by mu
}

// newEnv starts the server. cfg.Authenticate and cfg.Connect are filled
// in; wrap, when set, wraps the store the chat service uses. Sends are
// unlimited unless chatCfg sets a rate.
func newEnv(t *testing.T, cfg realtime.Config, chatCfg chat.Config, wrap func(confab.Store) confab.Store) *env {
	t.Helper()
	if chatCfg.SendsPerSecond == 0 {
		chatCfg.SendsPerSecond = -1
	}
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "confab.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	var svcStore confab.Store = st
	if wrap != nil {
		svcStore = wrap(st)
	}
	br := inproc.New()
	t.Cleanup(func() { br.Close() })
	svc := chat.New(svcStore, br, chatCfg)
	t.Cleanup(svc.Close)

	e := &env{svc: svc, store: st, broker: br, tokens: map[string]confab.Identity{}}
	cfg.Authenticate = e.authenticate
	cfg.Connect = svc.Connect
	e.hub = realtime.NewHub(cfg)
	t.Cleanup(func() { e.shutdown(t) })

	gql := graph.NewServer(svc, graph.Limits{}, slog.New(slog.DiscardHandler))
	gql.AddTransport(gqlws.Transport{Hub: e.hub})
	gql.AddTransport(appsync.Transport{Hub: e.hub})
	srv := httptest.NewServer(gql)
	t.Cleanup(srv.Close)
	e.host = strings.TrimPrefix(srv.URL, "http://")
	return e
}

// shutdown closes every connection and waits for their readers.
func (e *env) shutdown(t *testing.T) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), readTimeout)
	defer cancel()
	e.hub.Shutdown(ctx.Done())
	if n := e.hub.Len(""); n != 0 {
		t.Errorf("%d connections still live after Shutdown", n)
	}
}

func (e *env) authenticate(_ context.Context, token string) (confab.Identity, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	id, ok := e.tokens[token]
	if !ok {
		return confab.Identity{}, confab.Errorf(confab.CodeUnauthenticated, "Invalid token.")
	}
	return id, nil
}

// user creates an account; "tok-<name>" is its token.
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
	e.mu.Lock()
	e.tokens["tok-"+name] = id
	e.mu.Unlock()
	return id
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

func (e *env) send(t *testing.T, who confab.Identity, convID, content string) {
	t.Helper()
	if _, err := e.svc.SendMessage(context.Background(), who, chat.SendMessageInput{ConversationID: convID, Content: content}); err != nil {
		t.Fatalf("SendMessage: %v", err)
	}
}

// client is a client of either protocol on a real WebSocket.
type client struct {
	t     *testing.T
	proto string // "gqlws" or "appsync"
	ws    *websocket.Conn
	host  string
	token string
}

// connect dials, sends connection_init with token and reads the ack.
func (e *env) connect(t *testing.T, proto, token string) *client {
	t.Helper()
	c := &client{t: t, proto: proto, host: e.host, token: token}
	d := websocket.Dialer{HandshakeTimeout: readTimeout}
	u := "ws://" + e.host + "/graphql"
	init := map[string]any{"type": "connection_init"}
	switch proto {
	case "gqlws":
		d.Subprotocols = []string{gqlws.Subprotocol}
		init["payload"] = map[string]any{"Authorization": token}
	case "appsync":
		hdr, err := json.Marshal(map[string]string{"Authorization": token, "host": e.host})
		if err != nil {
			t.Fatal(err)
		}
		d.Subprotocols = []string{appsync.Subprotocol}
		u += "/realtime?header=" + base64.StdEncoding.EncodeToString(hdr) + "&payload=e30="
	default:
		t.Fatalf("unknown protocol %q", proto)
	}
	ws, _, err := d.Dial(u, nil)
	if err != nil {
		t.Fatalf("dial %s: %v", u, err)
	}
	t.Cleanup(func() { ws.Close() })
	c.ws = ws
	c.send(init)
	if f := c.read(); f.Type != "connection_ack" {
		t.Fatalf("after connection_init: %s, want connection_ack", f.raw)
	}
	return c
}

func (c *client) send(v any) {
	c.t.Helper()
	if err := c.ws.WriteJSON(v); err != nil {
		c.t.Fatal(err)
	}
}

// subscribe starts subscription id in the protocol's way.
func (c *client) subscribe(id, query string, vars map[string]any) {
	c.t.Helper()
	if c.proto == "gqlws" {
		c.send(map[string]any{"id": id, "type": "subscribe", "payload": map[string]any{"query": query, "variables": vars}})
		return
	}
	data, err := json.Marshal(map[string]any{"query": query, "variables": vars})
	if err != nil {
		c.t.Fatal(err)
	}
	c.send(map[string]any{"id": id, "type": "start", "payload": map[string]any{
		"data":       string(data),
		"extensions": map[string]any{"authorization": map[string]any{"Authorization": c.token, "host": c.host}},
	}})
}

// waitAck reads until AppSync's start_ack of subscription id; any other
// frame fails the test.
func (c *client) waitAck(id string) {
	c.t.Helper()
	for {
		f, err := c.next()
		if err != nil {
			c.t.Fatalf("waiting for start_ack %s: %v", id, err)
		}
		switch {
		case f.Type == "ka":
		case f.Type == "start_ack" && f.ID == id:
			return
		default:
			c.t.Fatalf("waiting for start_ack %s: got %s", id, f.raw)
		}
	}
}

// frame is a frame from the server with its type normalised: "next" for a
// result (AppSync's "data"), "error", "complete", "connection_ack".
type frame struct {
	Type    string          `json:"type"`
	ID      string          `json:"id"`
	Payload json.RawMessage `json:"payload"`
	raw     []byte
}

// read returns the next frame, skipping AppSync's "ka" and "start_ack".
func (c *client) read() frame {
	c.t.Helper()
	for {
		f, err := c.next()
		if err != nil {
			c.t.Fatalf("read (%s): %v", c.proto, err)
		}
		switch f.Type {
		case "ka", "start_ack":
			continue
		case "data":
			f.Type = "next"
		}
		return f
	}
}

func (c *client) next() (frame, error) {
	c.ws.SetReadDeadline(time.Now().Add(readTimeout))
	kind, data, err := c.ws.ReadMessage()
	if err != nil {
		return frame{}, err
	}
	var f frame
	if kind != websocket.TextMessage || json.Unmarshal(data, &f) != nil || f.Type == "" {
		c.t.Fatalf("server sent %q (kind %d), not a JSON frame with a type", data, kind)
	}
	f.raw = data
	return f, nil
}

// firstError returns the first error of an error frame: its AppSync
// errorType (graphql-transport-ws carries it in extensions) and its
// extensions.
func (f frame) firstError(t *testing.T) (errorType string, ext map[string]any) {
	t.Helper()
	var errs []struct {
		ErrorType  string         `json:"errorType"`
		Extensions map[string]any `json:"extensions"`
	}
	var wrapped struct {
		Errors json.RawMessage `json:"errors"`
	}
	raw := f.Payload
	if json.Unmarshal(raw, &wrapped) == nil && wrapped.Errors != nil {
		raw = wrapped.Errors // AppSync: {"errors": […]}
	}
	if f.Type != "error" || json.Unmarshal(raw, &errs) != nil || len(errs) == 0 {
		t.Fatalf("frame %s is not an error frame with errors", f.raw)
	}
	errorType = errs[0].ErrorType
	if errorType == "" {
		errorType, _ = errs[0].Extensions["errorType"].(string)
	}
	return errorType, errs[0].Extensions
}

// content returns onMessageSent.content of a result frame.
func (f frame) content(t *testing.T) string {
	t.Helper()
	var p struct {
		Data struct {
			OnMessageSent *struct {
				Content string `json:"content"`
			} `json:"onMessageSent"`
		} `json:"data"`
	}
	if f.Type != "next" || json.Unmarshal(f.Payload, &p) != nil || p.Data.OnMessageSent == nil {
		t.Fatalf("frame %s is not a result with a message", f.raw)
	}
	return p.Data.OnMessageSent.Content
}
