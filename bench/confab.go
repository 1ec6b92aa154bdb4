package bench

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gorilla/websocket"
)

// confabTarget drives a confab server through its public interface.
type confabTarget struct {
	base     string // subscriptions, setup and /metrics
	sendBase string // sends
	protocol string
	http     *http.Client
	users    []benchUser

	mu    sync.Mutex
	conns []*websocket.Conn // guarded by mu
}

type benchUser struct {
	id, token string
}

const benchPassword = "Bench-Passw0rd!"

func (t *confabTarget) post(ctx context.Context, path, token string, body any, out any) error {
	return t.postTo(ctx, t.base, path, token, body, out)
}

func (t *confabTarget) postTo(ctx context.Context, base, path, token string, body any, out any) error {
	b, _ := json.Marshal(body) // maps of strings and values always marshal
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+path, bytes.NewReader(b))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", token)
	}
	resp, err := t.http.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		var e map[string]any
		json.NewDecoder(resp.Body).Decode(&e)
		return fmt.Errorf("%s: status %d %v", path, resp.StatusCode, e)
	}
	return json.NewDecoder(resp.Body).Decode(out)
}

func (t *confabTarget) gql(ctx context.Context, token, query string, vars map[string]any, out any) error {
	return t.gqlAt(ctx, t.base, token, query, vars, out)
}

func (t *confabTarget) gqlAt(ctx context.Context, base, token, query string, vars map[string]any, out any) error {
	var resp struct {
		Data   json.RawMessage `json:"data"`
		Errors []any           `json:"errors"`
	}
	if err := t.postTo(ctx, base, "/graphql", token, map[string]any{"query": query, "variables": vars}, &resp); err != nil {
		return err
	}
	if len(resp.Errors) > 0 {
		return fmt.Errorf("graphql: %v", resp.Errors)
	}
	if out != nil {
		return json.Unmarshal(resp.Data, out)
	}
	return nil
}

func (t *confabTarget) setup(ctx context.Context, cfg Config) ([]string, error) {
	run := strconv.FormatInt(time.Now().UnixNano(), 36)
	for i := range cfg.Users {
		email := fmt.Sprintf("bench-%s-%d@example.com", run, i)
		var su map[string]any
		if err := t.post(ctx, "/auth/signup", "", map[string]string{"email": email, "password": benchPassword, "username": fmt.Sprintf("bench-%s-%d", run, i)}, &su); err != nil {
			return nil, err
		}
		var tok struct {
			IDToken string `json:"idToken"`
		}
		if err := t.post(ctx, "/auth/login", "", map[string]string{"email": email, "password": benchPassword}, &tok); err != nil {
			return nil, err
		}
		id, _ := su["userId"].(string)
		t.users = append(t.users, benchUser{id: id, token: tok.IDToken})
	}
	var others []string
	for _, u := range t.users[1:] {
		others = append(others, u.id)
	}
	convs := make([]string, cfg.Conversations)
	for i := range convs {
		var out struct {
			CreateConversation struct{ ConversationID string } `json:"createConversation"`
		}
		err := t.gql(ctx, t.users[0].token, `mutation($p:[ID!]!,$n:String){ createConversation(input:{name:$n, participants:$p}){ conversationId } }`,
			map[string]any{"p": others, "n": fmt.Sprint("bench ", i)}, &out)
		if err != nil {
			return nil, err
		}
		convs[i] = out.CreateConversation.ConversationID
	}
	return convs, nil
}

const benchSubscription = `subscription($c:ID!,$a:Int){ onMessageSent(conversationId:$c, afterSeq:$a){ seq content } }`

// subscribe connects subscriber i. It subscribes with afterSeq 0 (no
// message exists yet), so no message can slip by between the subscription
// becoming active and the first send.
func (t *confabTarget) subscribe(ctx context.Context, i int, conv string, s *subscriber) error {
	u := t.users[i%len(t.users)]
	host := strings.TrimPrefix(strings.TrimPrefix(t.base, "http://"), "https://")
	d := websocket.Dialer{HandshakeTimeout: 10 * time.Second, ReadBufferSize: 1024, WriteBufferSize: 1024}
	vars := map[string]any{"c": conv, "a": 0}
	var conn *websocket.Conn
	var err error
	switch t.protocol {
	case "appsync":
		hdr, _ := json.Marshal(map[string]string{"Authorization": u.token, "host": host})
		d.Subprotocols = []string{"graphql-ws"}
		conn, _, err = d.DialContext(ctx, "ws://"+host+"/graphql/realtime?header="+base64.StdEncoding.EncodeToString(hdr)+"&payload=e30=", nil)
		if err != nil {
			return err
		}
		data, _ := json.Marshal(map[string]any{"query": benchSubscription, "variables": vars})
		err = handshake(conn, map[string]any{"type": "connection_init"}, "connection_ack",
			map[string]any{"id": "1", "type": "start", "payload": map[string]any{"data": string(data), "extensions": map[string]any{"authorization": map[string]string{"Authorization": u.token, "host": host}}}}, "start_ack")
	default:
		d.Subprotocols = []string{"graphql-transport-ws"}
		conn, _, err = d.DialContext(ctx, "ws://"+host+"/graphql", nil)
		if err != nil {
			return err
		}
		err = handshake(conn, map[string]any{"type": "connection_init", "payload": map[string]string{"Authorization": u.token}}, "connection_ack",
			map[string]any{"id": "1", "type": "subscribe", "payload": map[string]any{"query": benchSubscription, "variables": vars}}, "")
	}
	if err != nil {
		conn.Close()
		return err
	}
	t.mu.Lock()
	t.conns = append(t.conns, conn)
	t.mu.Unlock()
	s.next = func() ([]byte, error) { _, b, err := conn.ReadMessage(); return b, err }
	s.parse = parseDelivery
	return nil
}

// handshake sends init, waits for ackType, sends sub and, if subAck is
// set, waits for it.
func handshake(conn *websocket.Conn, init any, ackType string, sub any, subAck string) error {
	conn.SetReadDeadline(time.Now().Add(15 * time.Second))
	defer conn.SetReadDeadline(time.Time{})
	if err := conn.WriteJSON(init); err != nil {
		return err
	}
	if err := waitFor(conn, ackType); err != nil {
		return err
	}
	if err := conn.WriteJSON(sub); err != nil {
		return err
	}
	if subAck != "" {
		return waitFor(conn, subAck)
	}
	return nil
}

func waitFor(conn *websocket.Conn, typ string) error {
	for range 10 {
		var m struct {
			Type    string          `json:"type"`
			Payload json.RawMessage `json:"payload"`
		}
		if err := conn.ReadJSON(&m); err != nil {
			return err
		}
		switch m.Type {
		case typ:
			return nil
		case "ka", "ping", "pong":
			continue
		}
		return fmt.Errorf("got %s %s while waiting for %s", m.Type, m.Payload, typ)
	}
	return errors.New("no " + typ)
}

// parseDelivery extracts content and seq from a next (graphql-transport-ws)
// or data (AppSync) frame.
func parseDelivery(frame []byte) (string, int64, bool) {
	var m struct {
		Type    string `json:"type"`
		Payload struct {
			Data struct {
				OnMessageSent *struct {
					Seq     int64  `json:"seq"`
					Content string `json:"content"`
				} `json:"onMessageSent"`
			} `json:"data"`
		} `json:"payload"`
	}
	if json.Unmarshal(frame, &m) != nil || (m.Type != "next" && m.Type != "data") || m.Payload.Data.OnMessageSent == nil {
		return "", 0, false
	}
	return m.Payload.Data.OnMessageSent.Content, m.Payload.Data.OnMessageSent.Seq, true
}

func (t *confabTarget) send(ctx context.Context, sender int, conv, content string) error {
	u := t.users[sender%len(t.users)]
	return t.gqlAt(ctx, t.sendBase, u.token, `mutation($c:ID!,$t:String!){ sendMessage(input:{conversationId:$c, content:$t}){ seq } }`,
		map[string]any{"c": conv, "t": content}, nil)
}

// serverStats scrapes the server's /metrics for RSS and goroutines.
func (t *confabTarget) serverStats() (float64, float64) {
	resp, err := t.http.Get(t.base + "/metrics")
	if err != nil {
		return 0, 0
	}
	defer resp.Body.Close()
	var rss, gor float64
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if v, ok := strings.CutPrefix(line, "process_resident_memory_bytes "); ok {
			rss, _ = strconv.ParseFloat(v, 64)
		}
		if v, ok := strings.CutPrefix(line, "go_goroutines "); ok {
			gor, _ = strconv.ParseFloat(v, 64)
		}
	}
	return rss / (1 << 20), gor
}

func (t *confabTarget) closeAll() {
	t.http.CloseIdleConnections()
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, c := range t.conns {
		c.Close()
	}
	t.conns = nil
}
