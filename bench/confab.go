package bench

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gorilla/websocket"
)

// confabTarget drives a confab server through its public interface only:
// /auth/signup, /auth/login, POST /graphql, the two WebSocket endpoints and
// /metrics.
type confabTarget struct {
	base     *url.URL // subscriptions and setup (a workspace's: .../w/<id>); /metrics at its root
	sendBase string   // sends (another node's URL for cross-node runs)
	protocol string
	http     *http.Client // setup, sends and changes
	uploads  *http.Client // the uploader's own (uploads.go), so that uploads never queue sends
	users    []benchUser  // set by setup, read-only afterwards

	mu    sync.Mutex
	conns []*websocket.Conn // guarded by mu
}

type benchUser struct {
	id, token string
}

// benchPassword satisfies confab's password policy.
const benchPassword = "Bench-Passw0rd!"

// setupParallel bounds the concurrent sign-ups (each hashes a password on
// the server).
const setupParallel = 8

func newConfabTarget(cfg Config) (*confabTarget, error) {
	base, err := url.Parse(cfg.URL)
	if err != nil || (base.Scheme != "http" && base.Scheme != "https") || base.Host == "" {
		return nil, fmt.Errorf("bench: --url %q is not an http(s) base URL", cfg.URL)
	}
	send := strings.TrimSuffix(cfg.SendURL, "/")
	if send == "" {
		send = cfg.URL
	}
	switch cfg.Protocol {
	case ProtocolGraphQLWS, ProtocolAppSync:
	default:
		return nil, fmt.Errorf("bench: unknown --protocol %q (want %s or %s)", cfg.Protocol, ProtocolGraphQLWS, ProtocolAppSync)
	}
	return &confabTarget{base: base, sendBase: send, protocol: cfg.Protocol, http: newHTTPClient(cfg.Senders), uploads: newHTTPClient(maxUploadsInFlight)}, nil
}

func (t *confabTarget) postTo(ctx context.Context, base, path, token string, body, out any) error {
	return postWith(ctx, t.http, base, path, token, body, out)
}

func postWith(ctx context.Context, client *http.Client, base, path, token string, body, out any) error {
	b, err := json.Marshal(body)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+path, bytes.NewReader(b))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", token)
	}
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, 512)) // best effort: only for the error text
		return fmt.Errorf("%s: status %d: %s", path, resp.StatusCode, bytes.TrimSpace(msg))
	}
	if out == nil {
		_, err := io.Copy(io.Discard, resp.Body) // drained so the connection is reused
		return err
	}
	return json.NewDecoder(resp.Body).Decode(out)
}

// gql runs one GraphQL operation over HTTP; errors in the response are an
// error.
func (t *confabTarget) gql(ctx context.Context, base, token, query string, vars map[string]any, out any) error {
	return gqlWith(ctx, t.http, base, token, query, vars, out)
}

func gqlWith(ctx context.Context, client *http.Client, base, token, query string, vars map[string]any, out any) error {
	var resp struct {
		Data   json.RawMessage   `json:"data"`
		Errors []json.RawMessage `json:"errors"`
	}
	if err := postWith(ctx, client, base, "/graphql", token, map[string]any{"query": query, "variables": vars}, &resp); err != nil {
		return err
	}
	if len(resp.Errors) > 0 {
		return fmt.Errorf("graphql: %s", resp.Errors[0])
	}
	if out != nil {
		return json.Unmarshal(resp.Data, out)
	}
	return nil
}

// setup signs up and logs in cfg.Users accounts bench-<run>-<i>@example.com
// and creates cfg.Conversations conversations that all of them belong to.
func (t *confabTarget) setup(ctx context.Context, cfg Config) ([]string, error) {
	run := strconv.FormatInt(time.Now().UnixNano(), 36)
	t.users = make([]benchUser, cfg.Users)
	errs := make([]error, cfg.Users)
	sem := make(chan struct{}, setupParallel)
	var wg sync.WaitGroup
	for i := range t.users {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			t.users[i], errs[i] = t.signup(ctx, fmt.Sprintf("bench-%s-%d", run, i))
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	others := make([]string, 0, len(t.users)-1)
	for _, u := range t.users[1:] {
		others = append(others, u.id)
	}
	convs := make([]string, cfg.Conversations)
	for i := range convs {
		var out struct {
			CreateConversation struct {
				ConversationID string `json:"conversationId"`
			} `json:"createConversation"`
		}
		err := t.gql(ctx, t.base.String(), t.users[0].token,
			`mutation($p:[ID!]!,$n:String){ createConversation(input:{name:$n, participants:$p}){ conversationId } }`,
			map[string]any{"p": others, "n": fmt.Sprint("bench ", i)}, &out)
		if err != nil {
			return nil, fmt.Errorf("create conversation: %w", err)
		}
		if out.CreateConversation.ConversationID == "" {
			return nil, errors.New("create conversation: no conversationId")
		}
		convs[i] = out.CreateConversation.ConversationID
	}
	return convs, nil
}

func (t *confabTarget) signup(ctx context.Context, name string) (benchUser, error) {
	email := name + "@example.com"
	base := t.base.String()
	if err := t.postTo(ctx, base, "/auth/signup", "", map[string]string{"email": email, "password": benchPassword, "username": name}, nil); err != nil {
		return benchUser{}, err
	}
	var tok struct {
		IDToken string `json:"idToken"`
	}
	if err := t.postTo(ctx, base, "/auth/login", "", map[string]string{"email": email, "password": benchPassword}, &tok); err != nil {
		return benchUser{}, err
	}
	sub, err := jwtSubject(tok.IDToken)
	if err != nil {
		return benchUser{}, fmt.Errorf("login %s: %w", email, err)
	}
	return benchUser{id: sub, token: tok.IDToken}, nil
}

// jwtSubject returns the sub claim of a JWT without verifying it (the
// bench only needs its own user id).
func jwtSubject(token string) (string, error) {
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return "", errors.New("token is not a JWT")
	}
	payload, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(parts[1], "="))
	if err != nil {
		return "", fmt.Errorf("token payload: %w", err)
	}
	var claims struct {
		Sub string `json:"sub"`
	}
	if err := json.Unmarshal(payload, &claims); err != nil || claims.Sub == "" {
		return "", errors.New("token has no sub claim")
	}
	return claims.Sub, nil
}

// benchSubscription selects the fields of the seed's onMessageSent. It
// passes afterSeq 0 (a confab extension): the conversations are new, so
// the server replays anything sent between subscribing and going live,
// and graphql-transport-ws, which has no subscribe acknowledgement, loses
// nothing at the start.
const benchSubscription = `subscription($c: ID!, $a: Int){ onMessageSent(conversationId: $c, afterSeq: $a){ messageId conversationId seq content createdAt } }`

// subscribe opens subscriber i's connection, as user i mod Users, and
// subscribes it to conv.
func (t *confabTarget) subscribe(ctx context.Context, i int, conv string, s *subscriber) error {
	u := t.users[i%len(t.users)]
	host := t.base.Host
	scheme := "ws"
	if t.base.Scheme == "https" {
		scheme = "wss"
	}
	d := websocket.Dialer{HandshakeTimeout: handshakeTimeout, ReadBufferSize: 1024, WriteBufferSize: 1024}
	vars := map[string]any{"c": conv, "a": 0}
	var conn *websocket.Conn
	var err error
	switch t.protocol {
	case ProtocolAppSync: // protocols.md §1
		hdr, err := json.Marshal(map[string]string{"Authorization": u.token, "host": host})
		if err != nil {
			return err
		}
		d.Subprotocols = []string{"graphql-ws"}
		// The header goes unescaped, as Amplify ≤ 6.5 and aws-appsync send it.
		conn, _, err = d.DialContext(ctx, scheme+"://"+host+t.base.Path+"/graphql/realtime?header="+base64.StdEncoding.EncodeToString(hdr)+"&payload=e30=", nil)
		if err != nil {
			return err
		}
		data, err := json.Marshal(map[string]any{"query": benchSubscription, "variables": vars})
		if err != nil {
			conn.Close()
			return err
		}
		err = handshake(conn, map[string]any{"type": "connection_init"}, "connection_ack",
			map[string]any{"id": "1", "type": "start", "payload": map[string]any{
				"data":       string(data),
				"extensions": map[string]any{"authorization": map[string]string{"Authorization": u.token, "host": host}},
			}}, "start_ack")
		if err != nil {
			conn.Close()
			return err
		}
	default: // graphql-transport-ws, protocols.md §2
		d.Subprotocols = []string{"graphql-transport-ws"}
		conn, _, err = d.DialContext(ctx, scheme+"://"+host+t.base.Path+"/graphql", nil)
		if err != nil {
			return err
		}
		err = handshake(conn, map[string]any{"type": "connection_init", "payload": map[string]string{"Authorization": u.token}}, "connection_ack",
			map[string]any{"id": "1", "type": "subscribe", "payload": map[string]any{"query": benchSubscription, "variables": vars}}, "")
		if err != nil {
			conn.Close()
			return err
		}
		s.pong = func() error { return conn.WriteMessage(websocket.TextMessage, []byte(`{"type":"pong"}`)) }
	}
	t.mu.Lock()
	t.conns = append(t.conns, conn)
	t.mu.Unlock()
	s.next = func(buf *bytes.Buffer) error { return readFrame(conn, buf) }
	s.parse = parseConfabFrame
	return nil
}

// handshakeTimeout bounds the WebSocket upgrade and each protocol
// acknowledgement.
const handshakeTimeout = 15 * time.Second

// handshake sends init, waits for ackType, sends sub and, if subAck is
// set, waits for it.
func handshake(conn *websocket.Conn, init any, ackType string, sub any, subAck string) error {
	if err := conn.SetReadDeadline(time.Now().Add(handshakeTimeout)); err != nil {
		return err
	}
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
		if err := waitFor(conn, subAck); err != nil {
			return err
		}
	}
	return conn.SetReadDeadline(time.Time{})
}

// waitFor reads frames until one of type typ, skipping keep-alives.
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
	return errors.New("no " + typ + " within 10 frames")
}

// readFrame reads the next message into buf, reusing its memory.
func readFrame(conn *websocket.Conn, buf *bytes.Buffer) error {
	_, r, err := conn.NextReader()
	if err != nil {
		return err
	}
	buf.Reset()
	_, err = buf.ReadFrom(r)
	return err
}

// parseConfabFrame classifies a graphql-transport-ws or AppSync frame. A
// delivery ("next" or "data" with onMessageSent) is read by a scan for the
// two fields it needs, without decoding the whole frame: the load tool
// shares the machine with the server and must stay light. Anything the scan
// does not recognise is decoded properly.
func parseConfabFrame(f []byte) (delivery, frameKind) {
	i := bytes.Index(f, []byte(`"onMessageSent"`))
	if i < 0 {
		return classifyFrame(f)
	}
	body := f[i:]
	seq, ok := numberAfter(body, `"seq":`)
	if ok {
		if j := bytes.Index(body, []byte(`"content":"`)); j >= 0 {
			c := body[j+len(`"content":"`):]
			if isWarmUp(c) {
				return delivery{seq: seq, warmUp: true}, frameDelivery
			}
			if at, ok := sentAt(c); ok {
				return delivery{seq: seq, sentAt: at}, frameDelivery
			}
		}
	}
	return decodeConfabFrame(f)
}

func numberAfter(b []byte, key string) (int64, bool) {
	i := bytes.Index(b, []byte(key))
	if i < 0 {
		return 0, false
	}
	b = b[i+len(key):]
	end := 0
	for end < len(b) && b[end] >= '0' && b[end] <= '9' {
		end++
	}
	return atoi(b[:end])
}

// classifyFrame decides what a frame that carries no message means.
func classifyFrame(f []byte) (delivery, frameKind) {
	var m struct {
		Type string `json:"type"`
	}
	if json.Unmarshal(f, &m) != nil {
		return delivery{}, frameIgnore
	}
	switch m.Type {
	case "error", "complete", "connection_error":
		return delivery{}, frameEnd
	}
	return delivery{}, frameIgnore
}

// decodeConfabFrame is the slow, exact path of parseConfabFrame.
func decodeConfabFrame(f []byte) (delivery, frameKind) {
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
	if json.Unmarshal(f, &m) != nil || (m.Type != "next" && m.Type != "data") || m.Payload.Data.OnMessageSent == nil {
		return classifyFrame(f)
	}
	msg := m.Payload.Data.OnMessageSent
	at, _ := sentAt([]byte(msg.Content)) // content without a time still counts as delivered
	return delivery{seq: msg.Seq, sentAt: at, warmUp: isWarmUp([]byte(msg.Content))}, frameDelivery
}

func (t *confabTarget) send(ctx context.Context, sender int, conv, content string) (string, error) {
	u := t.users[sender%len(t.users)]
	var out struct {
		SendMessage struct {
			MessageID string `json:"messageId"`
		} `json:"sendMessage"`
	}
	err := t.gql(ctx, t.sendBase, u.token, `mutation($c:ID!,$t:String!){ sendMessage(input:{conversationId:$c, content:$t}){ messageId } }`,
		map[string]any{"c": conv, "t": content}, &out)
	return out.SendMessage.MessageID, err
}

// serverStats scrapes the server's /metrics for process_resident_memory_bytes
// and go_goroutines; a value the server does not export is nil.
func (t *confabTarget) serverStats(ctx context.Context) (rssMiB, goroutines *float64) {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	// At the server's root: a workspace's base (/w/<id>) has no /metrics.
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, t.base.Scheme+"://"+t.base.Host+"/metrics", nil)
	if err != nil {
		return nil, nil
	}
	resp, err := t.http.Do(req)
	if err != nil {
		return nil, nil
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, nil
	}
	return scrapeMetrics(resp.Body)
}

// scrapeMetrics reads the two gauges from Prometheus text format.
func scrapeMetrics(r io.Reader) (rssMiB, goroutines *float64) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		name, rest, _ := strings.Cut(line, " ")
		if name != "process_resident_memory_bytes" && name != "go_goroutines" {
			continue
		}
		fields := strings.Fields(rest) // value, then an optional timestamp
		if len(fields) == 0 {
			continue
		}
		f, err := strconv.ParseFloat(fields[0], 64)
		if err != nil {
			continue
		}
		if name == "go_goroutines" {
			goroutines = &f
		} else {
			f /= 1 << 20
			rssMiB = &f
		}
	}
	return rssMiB, goroutines
}

func (t *confabTarget) closeAll() {
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, c := range t.conns {
		c.Close() // the error of closing a socket we are abandoning tells nothing
	}
	t.conns = nil
	t.http.CloseIdleConnections()
	t.uploads.CloseIdleConnections()
}

func (t *confabTarget) close() {}
