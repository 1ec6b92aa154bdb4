// Package gqlws serves the graphql-transport-ws protocol (the one graphql-ws,
// Apollo and urql speak) on GET /graphql, as a gqlgen Transport on the
// shared realtime engine. Frame shapes and close codes follow
// protocols.md §2.
package gqlws

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/99designs/gqlgen/graphql"
	"github.com/confab-chat/confab"
	"github.com/confab-chat/confab/internal/errortype"
	"github.com/confab-chat/confab/server/realtime"
	"github.com/gorilla/websocket"
	"github.com/vektah/gqlparser/v2/gqlerror"
)

// Subprotocol is the only subprotocol this transport speaks.
const Subprotocol = "graphql-transport-ws"

// Close codes of the protocol (protocols.md §2.3).
const (
	CloseBadRequest      = 4400
	CloseUnauthorized    = 4401
	CloseForbidden       = 4403
	CloseBadProtocol     = 4406
	CloseInitTimeout     = 4408
	CloseDuplicateID     = 4409
	CloseTooManyInitReqs = 4429
)

// Transport implements graphql.Transport for graphql-transport-ws.
type Transport struct {
	Hub *realtime.Hub
}

var _ graphql.Transport = Transport{}

// Supports implements graphql.Transport: a WebSocket upgrade offering
// graphql-transport-ws (or offering no subprotocol, answered with 4406 after
// the upgrade as the reference server does).
func (t Transport) Supports(r *http.Request) bool {
	return r.Method == http.MethodGet && websocket.IsWebSocketUpgrade(r) && !offers(r, "graphql-ws")
}

// offers reports whether the client listed proto among its subprotocols.
func offers(r *http.Request, proto string) bool {
	for _, p := range websocket.Subprotocols(r) {
		if p == proto {
			return true
		}
	}
	return false
}

// message is any client or server frame.
type message struct {
	ID      string          `json:"id,omitempty"`
	Type    string          `json:"type"`
	Payload json.RawMessage `json:"payload,omitempty"`
}

type protocol struct{}

func (protocol) Name() string { return "graphql-transport-ws" }

// Next renders one result as a "next" frame.
func (p protocol) Next(id string, r *graphql.Response) []byte { return p.NextFrame(id, p.Payload(r)) }

// Payload renders a result: the GraphQL response object.
func (protocol) Payload(r *graphql.Response) []byte { return marshal(r) }

// NextFrame renders a "next" frame around a payload from Payload.
func (protocol) NextFrame(id string, payload []byte) []byte { return rawFrame(id, "next", payload) }

func (protocol) Complete(id string) []byte { return frame(id, "complete", nil) }

// Error renders an "error" frame: its payload is a non-empty array of
// GraphQL errors (protocols.md §2.2).
func (protocol) Error(id string, errs gqlerror.List) []byte {
	if len(errs) == 0 {
		errs = gqlerror.List{{Message: "The operation failed."}}
	}
	return frame(id, "error", errs)
}

// KeepAlive: graphql-transport-ws has no server keep-alive frame; the engine's
// WebSocket pings keep the connection checked.
func (protocol) KeepAlive() []byte { return nil }

func frame(id, typ string, payload any) []byte {
	var p []byte
	if payload != nil {
		p = marshal(payload)
	}
	return rawFrame(id, typ, p)
}

// rawFrame renders a frame around a payload already encoded (nil for none).
func rawFrame(id, typ string, payload []byte) []byte {
	var buf bytes.Buffer
	buf.Grow(len(payload) + len(id) + 40)
	buf.WriteString(`{"type":`)
	buf.Write(marshal(typ))
	if id != "" {
		buf.WriteString(`,"id":`)
		buf.Write(marshal(id))
	}
	if payload != nil {
		buf.WriteString(`,"payload":`)
		buf.Write(payload)
	}
	buf.WriteByte('}')
	return buf.Bytes()
}

func marshal(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		return []byte(`null`)
	}
	return b
}

// Do implements graphql.Transport: it upgrades and hands the connection's
// frames to a session (Conn.Run) before returning.
func (t Transport) Do(w http.ResponseWriter, r *http.Request, exec graphql.GraphExecutor) {
	if !offers(r, Subprotocol) {
		c, err := t.Hub.Upgrade(w, r, protocol{}, "")
		if err == nil {
			c.Finish(&realtime.CloseError{Code: CloseBadProtocol, Reason: "Subprotocol not acceptable"})
		}
		return
	}
	c, err := t.Hub.Upgrade(w, r, protocol{}, Subprotocol)
	if err != nil {
		return
	}
	s := &session{c: c, exec: exec}
	c.SetInitTimeout(func() { c.Close(CloseInitTimeout, "Connection initialisation timeout") })
	c.Run(s.frame)
}

// session is the protocol state of one connection; frame, one call at a
// time, is its only user.
type session struct {
	c        *realtime.Conn
	exec     graphql.GraphExecutor
	initSeen bool
	acked    bool
}

func closeErr(code int, reason string) error { return &realtime.CloseError{Code: code, Reason: reason} }

// frame handles one client frame. realtime calls it for each frame in
// order, never two at once; an error closes the connection.
func (s *session) frame(data []byte) error {
	var m message
	if err := json.Unmarshal(data, &m); err != nil {
		return closeErr(CloseBadRequest, "Invalid message received")
	}
	return s.handle(m)
}

func (s *session) handle(m message) error {
	switch m.Type {
	case "connection_init":
		return s.init(m)
	case "ping":
		s.c.Send([]byte(`{"type":"pong"}`))
	case "pong":
	case "subscribe":
		return s.subscribe(m)
	case "complete":
		if m.ID == "" {
			return closeErr(CloseBadRequest, "complete without id")
		}
		if !s.c.AllowOp() {
			return closeErr(CloseBadRequest, "Too many operations: slow down")
		}
		s.c.Stop(m.ID)
	default:
		return closeErr(CloseBadRequest, fmt.Sprintf("Unknown message type %.40q", m.Type))
	}
	return nil
}

func (s *session) init(m message) error {
	if s.initSeen {
		return closeErr(CloseTooManyInitReqs, "Too many initialisation requests")
	}
	s.initSeen = true
	var payload map[string]any
	if len(m.Payload) > 0 && string(m.Payload) != "null" {
		if err := json.Unmarshal(m.Payload, &payload); err != nil {
			return closeErr(CloseBadRequest, "connection_init payload must be an object")
		}
	}
	token := TokenFrom(payload)
	if token == "" {
		token = s.c.Authorization()
	}
	id, err := s.c.Authenticate(token)
	if err != nil {
		return closeErr(CloseForbidden, "Forbidden: "+confab.ErrorMessage(err))
	}
	if err := s.c.Authenticated(id, func() { s.c.Close(CloseForbidden, "Forbidden: token expired") }); err != nil {
		// 1013 (try again later): graphql-ws clients retry with backoff.
		return closeErr(websocket.CloseTryAgainLater, "Too many connections for this user")
	}
	s.acked = true
	s.c.Send([]byte(`{"type":"connection_ack"}`))
	return nil
}

// TokenFrom finds the token in a connection_init payload: Authorization
// (any case) at the top level, then inside "headers", then authToken or
// token (protocols.md §2.4).
func TokenFrom(payload map[string]any) string {
	find := func(m map[string]any, keys ...string) string {
		for k, v := range m {
			for _, want := range keys {
				if s, ok := v.(string); ok && strings.EqualFold(k, want) {
					return s
				}
			}
		}
		return ""
	}
	if t := find(payload, "authorization"); t != "" {
		return t
	}
	if h, ok := payload["headers"].(map[string]any); ok {
		if t := find(h, "authorization"); t != "" {
			return t
		}
	}
	return find(payload, "authToken", "token")
}

func (s *session) subscribe(m message) error {
	if !s.acked {
		return closeErr(CloseUnauthorized, "Unauthorized")
	}
	if m.ID == "" || len(m.ID) > 128 {
		return closeErr(CloseBadRequest, "subscribe needs an id of 1 to 128 bytes")
	}
	params, err := decodeSubscribe(m.Payload)
	if err != nil {
		return closeErr(CloseBadRequest, "Invalid subscribe payload")
	}
	if s.c.Has(m.ID) {
		return closeErr(CloseDuplicateID, "Subscriber for "+m.ID+" already exists")
	}
	if !s.c.AllowOp() {
		s.c.Send(protocol{}.Error(m.ID, limited("Too many operations on this connection; slow down.")))
		return nil
	}
	switch err := s.c.Start(m.ID, params, s.exec, true, nil); {
	case errors.Is(err, realtime.ErrDuplicateID):
		return closeErr(CloseDuplicateID, "Subscriber for "+m.ID+" already exists")
	case errors.Is(err, realtime.ErrTooManyOps):
		s.c.Send(protocol{}.Error(m.ID, limited(fmt.Sprintf("At most %d operations may be active on one connection.", s.c.Config().MaxSubscriptions))))
	}
	return nil
}

// decodeSubscribe reads a subscribe payload: {query, variables?,
// operationName?, extensions?} with a non-empty query.
func decodeSubscribe(payload []byte) (*graphql.RawParams, error) {
	var params graphql.RawParams
	dec := json.NewDecoder(bytes.NewReader(payload))
	dec.UseNumber()
	if err := dec.Decode(&params); err != nil {
		return nil, err
	}
	if params.Query == "" {
		return nil, errors.New("gqlws: subscribe payload has no query")
	}
	return &params, nil
}

func limited(msg string) gqlerror.List {
	return gqlerror.List{{Message: msg, Extensions: map[string]any{"code": string(confab.CodeLimited), "errorType": errortype.Of(confab.CodeLimited)}}}
}
