// Package appsync serves AWS AppSync's real-time protocol on
// GET /graphql/realtime, so AWS Amplify v6 and the aws-appsync client connect
// to confab unchanged. It is a gqlgen Transport on the shared realtime engine
// (one executor, two protocols). Wire shapes, error types and timeouts follow
// protocols.md §1; the checklist in §1.9 is implemented point by point.
//
// It never imports auth: the engine's Authenticate verifies tokens.
package appsync

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/99designs/gqlgen/graphql"
	"github.com/confab-chat/confab/server/realtime"
	"github.com/gorilla/websocket"
	"github.com/vektah/gqlparser/v2/gqlerror"
)

// Subprotocol is AppSync's (not the legacy Apollo protocol of the same name).
const Subprotocol = "graphql-ws"

// Transport implements graphql.Transport for the AppSync protocol.
type Transport struct {
	Hub *realtime.Hub
}

var _ graphql.Transport = Transport{}

// Supports implements graphql.Transport: a WebSocket upgrade offering the
// graphql-ws subprotocol.
func (Transport) Supports(r *http.Request) bool {
	if r.Method != http.MethodGet || !websocket.IsWebSocketUpgrade(r) {
		return false
	}
	for _, p := range websocket.Subprotocols(r) {
		if p == Subprotocol {
			return true
		}
	}
	return false
}

// Do implements graphql.Transport. The upgrade is accepted even with bad
// credentials, which are reported in-band with connection_error (§1.2 rule 5).
func (t Transport) Do(w http.ResponseWriter, r *http.Request, exec graphql.GraphExecutor) {
	c, err := t.Hub.Upgrade(w, r, protocol{}, Subprotocol)
	if err != nil {
		return
	}
	s := &session{c: c, exec: exec}
	s.header, s.headerErr = HandshakeHeader(r)
	c.SetInitTimeout(func() { s.connectionError("ConnectionTimeoutError", "connection_init was not received in time.", 408) })
	c.Finish(s.run())
}

// HandshakeHeader decodes the auth header object from the subprotocol list
// ("header-<base64url>", newer Amplify) or the raw ?header= query parameter
// (std or url base64, padded or not, escaped or raw; §1.2).
func HandshakeHeader(r *http.Request) (map[string]any, error) {
	for _, p := range websocket.Subprotocols(r) {
		if rest, ok := strings.CutPrefix(p, "header-"); ok {
			return decodeHeader(rest)
		}
	}
	raw := ""
	for _, kv := range strings.Split(r.URL.RawQuery, "&") {
		if v, ok := strings.CutPrefix(kv, "header="); ok {
			raw = v
		}
	}
	if raw == "" {
		return nil, nil
	}
	// Percent-decode without turning '+' into a space (url.QueryUnescape
	// would): a raw '+' is part of standard base64.
	unescaped, err := url.PathUnescape(raw)
	if err != nil {
		return nil, errors.New("appsync: header parameter is not valid")
	}
	return decodeHeader(unescaped)
}

// maxHeaderBytes bounds the decoded auth header.
const maxHeaderBytes = 16 << 10

func decodeHeader(s string) (map[string]any, error) {
	if len(s) > maxHeaderBytes*2 {
		return nil, errors.New("appsync: header too large")
	}
	s = strings.TrimRight(s, "=")
	s = strings.NewReplacer("+", "-", "/", "_").Replace(s)
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return nil, errors.New("appsync: header is not base64")
	}
	var h map[string]any
	if err := json.Unmarshal(b, &h); err != nil || h == nil {
		return nil, errors.New("appsync: header is not a JSON object")
	}
	return h, nil
}

// tokenOf returns the Authorization value of a header object (any case).
func tokenOf(h map[string]any) string {
	for k, v := range h {
		if s, ok := v.(string); ok && strings.EqualFold(k, "authorization") {
			return s
		}
	}
	return ""
}

// protocol renders AppSync frames.
type protocol struct{}

func (protocol) Name() string { return "appsync" }

// Next renders a data frame. Amplify drops data frames whose payload.data is
// null (§1.4), so an event that failed entirely goes out as an error.
func (protocol) Next(id string, r *graphql.Response) []byte {
	if (len(r.Data) == 0 || string(r.Data) == "null") && len(r.Errors) > 0 {
		return protocol{}.Error(id, r.Errors)
	}
	return frame(id, "data", r)
}

func (protocol) Complete(id string) []byte { return frame(id, "complete", nil) }

// Error renders an "error" frame with AppSync's {"errors":[{errorType,
// message}]} payload. errorType comes from extensions.errorType.
func (protocol) Error(id string, errs gqlerror.List) []byte {
	type appsyncError struct {
		ErrorType  string         `json:"errorType,omitempty"`
		Message    string         `json:"message"`
		Path       any            `json:"path,omitempty"`
		Locations  any            `json:"locations,omitempty"`
		Extensions map[string]any `json:"extensions,omitempty"`
	}
	out := make([]appsyncError, 0, len(errs))
	for _, e := range errs {
		typ, _ := e.Extensions["errorType"].(string)
		if typ == "" {
			typ = "BadRequestException" // parse and validation errors of the document
		}
		var path any
		if len(e.Path) > 0 {
			path = e.Path
		}
		var locs any
		if len(e.Locations) > 0 {
			locs = e.Locations
		}
		out = append(out, appsyncError{ErrorType: typ, Message: e.Message, Path: path, Locations: locs, Extensions: e.Extensions})
	}
	if len(out) == 0 {
		out = append(out, appsyncError{ErrorType: "InternalFailure", Message: "The operation failed."})
	}
	return frame(id, "error", map[string]any{"errors": out})
}

// KeepAlive is AppSync's "ka" frame.
func (protocol) KeepAlive() []byte { return []byte(`{"type":"ka"}`) }

func frame(id, typ string, payload any) []byte {
	var buf bytes.Buffer
	buf.WriteString(`{"type":`)
	b, _ := json.Marshal(typ)
	buf.Write(b)
	if id != "" {
		buf.WriteString(`,"id":`)
		b, _ = json.Marshal(id)
		buf.Write(b)
	}
	if payload != nil {
		buf.WriteString(`,"payload":`)
		b, err := json.Marshal(payload)
		if err != nil {
			b = []byte(`{}`)
		}
		buf.Write(b)
	}
	buf.WriteByte('}')
	return buf.Bytes()
}

// session is the reader's state for one connection.
type session struct {
	c         *realtime.Conn
	exec      graphql.GraphExecutor
	header    map[string]any
	headerErr error
	acked     bool
}

// message is a client frame.
type message struct {
	ID      string          `json:"id"`
	Type    string          `json:"type"`
	Payload json.RawMessage `json:"payload"`
}

func (s *session) run() error {
	for {
		data, err := s.c.ReadFrame()
		if err != nil {
			return err
		}
		var m message
		if err := json.Unmarshal(data, &m); err != nil {
			// No id to answer: a handshake-level error, then close (§1.5:
			// never an id-less "error").
			s.connectionError("BadRequestException", "Frames must be JSON objects.", 400)
			continue // the writer closes once the error is out; the next read fails
		}
		if err := s.handle(m); err != nil {
			return err
		}
	}
}

// connectionError reports a handshake-level failure and closes. errorCode
// 400/401/403 tell clients not to retry; others are retried (§1.5).
func (s *session) connectionError(errorType, message string, code int) {
	s.c.Send(frame("", "connection_error", map[string]any{"errors": []map[string]any{{"errorType": errorType, "message": message, "errorCode": code}}}))
	s.c.CloseAfterFlush(websocket.CloseNormalClosure, errorType)
}

func (s *session) handle(m message) error {
	switch m.Type {
	case "connection_init":
		s.init()
	case "start":
		if !s.acked && !s.init() {
			return nil
		}
		s.start(m)
	case "stop":
		if m.ID != "" && s.c.Stop(m.ID) {
			s.c.Send(frame(m.ID, "complete", nil))
		}
	case "ka":
	default:
		if m.ID != "" && s.c.Has(m.ID) {
			s.c.Send(protocol{}.Error(m.ID, errList("UnsupportedOperation", fmt.Sprintf("Unknown message type %.40q.", m.Type))))
		}
	}
	return nil
}

// init authenticates with the handshake header and acknowledges; it
// reports whether the connection is now acknowledged.
func (s *session) init() bool {
	if s.acked {
		return true
	}
	if s.headerErr != nil {
		s.connectionError("BadRequestException", "The header parameter could not be decoded.", 400)
		return false
	}
	id, err := s.c.Authenticate(tokenOf(s.header))
	if err != nil {
		s.connectionError("UnauthorizedException", "You are not authorized to make this call.", 401)
		return false
	}
	s.c.Authenticated(id, s.expired)
	s.acked = true
	timeout := 10 * s.c.Config().KeepAlive.Milliseconds()
	s.c.Send([]byte(fmt.Sprintf(`{"type":"connection_ack","payload":{"connectionTimeoutMs":%d}}`, timeout)))
	s.c.Send(protocol{}.KeepAlive()) // right after the ack: Amplify needs it (§1.6)
	return true
}

// expired ends the connection when its token expires: each subscription
// gets an auth-typed error, which makes Amplify close the socket and
// reconnect with fresh tokens (§1.5), and the connection closes.
func (s *session) expired() {
	for _, id := range s.c.Active() {
		if s.c.Stop(id) {
			s.c.Send(protocol{}.Error(id, errList("UnauthorizedException", "Token has expired.")))
		}
	}
	s.c.CloseAfterFlush(websocket.CloseNormalClosure, "token expired")
}

func errList(errorType, message string) gqlerror.List {
	return gqlerror.List{{Message: message, Extensions: map[string]any{"errorType": errorType}}}
}

// decodeStart reads a start payload: data is a JSON string (or, leniently,
// an object) holding {query, variables}; extensions.authorization is the
// optional per-start auth header object (§1.4).
func decodeStart(raw []byte) (*graphql.RawParams, map[string]any, error) {
	var payload struct {
		Data       json.RawMessage `json:"data"`
		Extensions struct {
			Authorization map[string]any `json:"authorization"`
		} `json:"extensions"`
	}
	if err := json.Unmarshal(raw, &payload); err != nil {
		return nil, nil, err
	}
	data := []byte(payload.Data)
	var str string
	if json.Unmarshal(payload.Data, &str) == nil {
		data = []byte(str)
	}
	var p graphql.RawParams
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	if err := dec.Decode(&p); err != nil {
		return nil, nil, err
	}
	if p.Query == "" {
		return nil, nil, errors.New("appsync: start data has no query")
	}
	return &p, payload.Extensions.Authorization, nil
}

// start begins a subscription (§1.9 step 5).
func (s *session) start(m message) {
	if m.ID == "" || len(m.ID) > 128 {
		return // no usable id to answer: ignore (never an id-less error)
	}
	if s.c.Has(m.ID) {
		s.c.Send(protocol{}.Error(m.ID, errList("DuplicatedOperationError", "Duplicated operation with id "+m.ID)))
		return
	}
	if !s.c.AllowOp() {
		s.c.Send(protocol{}.Error(m.ID, errList("LimitExceededError", "Rate limit exceeded")))
		return
	}
	params, auth, err := decodeStart(m.Payload)
	if err != nil {
		s.c.Send(protocol{}.Error(m.ID, errList("BadRequestException", "start payload must carry data with a query.")))
		return
	}
	// Each start may carry a newer token than the handshake (§1.3).
	if tok := tokenOf(auth); tok != "" {
		id, err := s.c.Authenticate(tok)
		if err != nil || id.UserID != s.c.Identity().UserID {
			s.c.Send(protocol{}.Error(m.ID, errList("UnauthorizedException", "You are not authorized to make this call.")))
			return
		}
	}
	ack := frame(m.ID, "start_ack", nil)
	switch err := s.c.Start(m.ID, params, s.exec, false, ack); {
	case errors.Is(err, realtime.ErrDuplicateID):
		s.c.Send(protocol{}.Error(m.ID, errList("DuplicatedOperationError", "Duplicated operation with id "+m.ID)))
	case errors.Is(err, realtime.ErrTooManyOps):
		s.c.Send(protocol{}.Error(m.ID, errList("MaxSubscriptionsReachedError", fmt.Sprintf("At most %d subscriptions may be active on one connection.", s.c.Config().MaxSubscriptions))))
	}
}
