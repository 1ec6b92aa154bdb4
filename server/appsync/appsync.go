// Package appsync serves AWS AppSync's real-time protocol on
// GET /graphql/realtime, so AWS Amplify v6 and the aws-appsync client connect
// to confab unchanged. It is a gqlgen Transport on the shared realtime engine
// (one executor, two protocols); the engine owns the connection mechanics
// (queues, keep-alive timer, slow-consumer eviction, shutdown), this package
// owns the frames. Wire shapes, error types and timeouts follow
// protocols.md §1; the checklist in §1.9 is implemented point by point.
//
// It never imports auth, chat, graph, a store or a broker: the engine's
// Authenticate verifies tokens, and the executor runs the operations.
package appsync

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/confab-chat/confab/server/realtime"
	"github.com/gorilla/websocket"
)

// Subprotocol is AppSync's (not the legacy Apollo protocol of the same name,
// which confab does not speak).
const Subprotocol = "graphql-ws"

// appsyncConnectionTimeout is the connectionTimeoutMs real AppSync sends
// in connection_ack (§1.4): Amplify closes and reconnects a socket that
// has seen no ka or data for that long.
const appsyncConnectionTimeout = 300 * time.Second

// closeTokenExpired is the close code of a connection whose token expired.
// Clients do not look at it (Amplify reconnects on any close after the
// handshake, §1.4); the 4401 of the private range names the reason for
// logs and tools.
const closeTokenExpired = 4401

// maxIDBytes bounds a subscription id (Amplify sends a 36-byte UUID); a
// start with a longer or empty id is ignored, as there is no id to answer.
const maxIDBytes = 128

// Transport implements graphql.Transport for the AppSync protocol. Add it to
// the gqlgen server beside gqlws.Transport; both share one Hub.
type Transport struct {
	Hub *realtime.Hub
}

var _ graphql.Transport = Transport{}

// Supports implements graphql.Transport: a GET WebSocket upgrade offering
// the graphql-ws subprotocol.
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

// Do implements graphql.Transport: it upgrades, selecting graphql-ws (never
// the header-… token, §1.2 rule 4), and hands the connection's frames to
// a session (Conn.Run) before returning. The upgrade is accepted even with
// bad credentials, which are reported in-band with connection_error (§1.2
// rule 5).
func (t Transport) Do(w http.ResponseWriter, r *http.Request, exec graphql.GraphExecutor) {
	c, err := t.Hub.Upgrade(w, r, protocol{}, Subprotocol)
	if err != nil {
		return
	}
	s := &session{c: c, exec: exec}
	s.header, s.headerErr = handshakeHeader(r)
	c.SetInitTimeout(func() {
		// On the timer's goroutine: c only, never the session.
		c.Send(connectionError(errInitTimeout, "connection_init was not received in time.", http.StatusRequestTimeout))
		c.CloseAfterFlush(websocket.CloseNormalClosure, errInitTimeout)
	})
	c.Run(s.frame)
}

// connectionTimeout is the connectionTimeoutMs sent in connection_ack for
// a keep-alive interval: AppSync's 300 s, or 3 intervals if that is longer,
// so a client always sees at least two ka frames inside its timeout.
func connectionTimeout(keepAlive time.Duration) time.Duration {
	return max(appsyncConnectionTimeout, 3*keepAlive)
}

// session is the protocol state of one connection. Only frame, one call
// at a time, touches it; the timers' callbacks (init timeout, token
// expiry) use nothing but c.
type session struct {
	c         *realtime.Conn
	exec      graphql.GraphExecutor
	header    map[string]any // the handshake auth header; nil if none
	headerErr error          // the handshake header was present but malformed
	acked     bool           // connection_ack sent
	closing   bool           // connection_error sent: frames are no longer read
}

// message is a client frame.
type message struct {
	ID      string          `json:"id"`
	Type    string          `json:"type"`
	Payload json.RawMessage `json:"payload"`
}

// frame handles one client frame. realtime calls it for each frame in
// order, never two at once, so the session is only its own.
func (s *session) frame(data []byte) error {
	if s.closing {
		return nil // the writer closes once connection_error is out
	}
	var m message
	if err := json.Unmarshal(data, &m); err != nil || !isObject(data) {
		// Not JSON, not an object, or a field of the wrong type: no id to
		// answer, and never an id-less "error" (§1.5), so a handshake-level
		// error, then close. Clients never send this.
		s.connectionError(errBadRequest, "The frame is not a message of the AppSync real-time protocol.", http.StatusBadRequest)
		return nil
	}
	s.handle(m)
	return nil
}

// isObject reports whether a valid JSON text is an object (not null, an
// array or a scalar).
func isObject(data []byte) bool {
	data = bytes.TrimLeft(data, " \t\r\n")
	return len(data) > 0 && data[0] == '{'
}

// connectionError reports a handshake-level failure, then closes once it
// is written. Reading goes on (frames are dropped) so the close comes from
// the writer, after the frame.
func (s *session) connectionError(errorType, message string, code int) {
	s.closing = true
	s.c.Send(connectionError(errorType, message, code))
	s.c.CloseAfterFlush(websocket.CloseNormalClosure, errorType)
}

func (s *session) handle(m message) {
	switch m.Type {
	case "connection_init":
		if s.acked {
			s.ack() // idempotent: a client waiting for an ack gets one
			return
		}
		s.init()
	case "start":
		// connection_init is optional (§1.4): the first start does it.
		if s.acked || s.init() {
			s.start(m)
		}
	case "stop":
		// Unknown ids are ignored silently (§1.9 step 7).
		if m.ID != "" && s.c.Stop(m.ID) {
			s.c.Send(protocol{}.Complete(m.ID))
		}
	default:
		// "ka" from a client, AppSync Events' subscribe/publish, anything
		// else: ignored. An error would need an id the client knows (§1.5).
	}
}

// init authenticates with the handshake header and acknowledges. It
// reports whether the connection is now acknowledged.
func (s *session) init() bool {
	if s.headerErr != nil {
		s.connectionError(errBadRequest, "The header parameter could not be decoded.", http.StatusBadRequest)
		return false
	}
	id, err := s.c.Authenticate(tokenOf(s.header))
	if err != nil || id.UserID == "" {
		s.connectionError(errUnauthorized, unauthorizedMessage, http.StatusUnauthorized)
		return false
	}
	if err := s.c.Authenticated(id, s.expired); err != nil {
		s.connectionError(errLimited, "Too many connections for this user.", http.StatusTooManyRequests)
		return false
	}
	s.acked = true
	s.ack()
	return true
}

// ack sends connection_ack and, right after it, a ka: Amplify's keep-alive
// clock survives reconnects, and without a ka soon after the ack it closes
// a socket opened after a long idle gap (§1.6).
func (s *session) ack() {
	s.c.Send(connectionAck(connectionTimeout(s.c.Config().KeepAlive).Milliseconds()))
	s.c.Send(protocol{}.KeepAlive())
	s.c.Acknowledged()
}

// expired runs when the connection's token expires. It closes the socket
// after the frames already queued, and sends no error: Amplify treats any
// close after the handshake as a disruption, reconnects with a freshly
// refreshed token 5 s later and re-sends every start with the same ids and
// variables, so all subscriptions survive (an afterSeq variable replays
// the gap). An auth-typed error frame would make Amplify reconnect too, but
// it also errors that subscription to the app for good (§1.5).
func (s *session) expired() {
	s.c.CloseAfterFlush(closeTokenExpired, "Token expired")
}

// decodeStart reads a start payload: data is a JSON string (or, leniently,
// an object) holding {query, variables, operationName?}; extensions
// .authorization is the optional per-start auth header object (§1.4).
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

// start begins a subscription (§1.9 step 5): start_ack then data frames,
// or one error frame with the start's id.
func (s *session) start(m message) {
	if m.ID == "" || len(m.ID) > maxIDBytes {
		return // no usable id to answer, and never an id-less error
	}
	fail := func(errorType, message string) { s.c.Send(protocol{}.Error(m.ID, errList(errorType, message))) }
	if s.c.Has(m.ID) {
		fail(errDuplicate, "Duplicated operation with id "+m.ID)
		return
	}
	if !s.c.AllowOp() {
		fail(errLimited, "Rate limit exceeded")
		return
	}
	params, auth, err := decodeStart(m.Payload)
	if err != nil {
		fail(errBadRequest, "The start payload must carry data with a query.")
		return
	}
	// Amplify refreshes its session for every start, so a start may carry
	// a newer token than the handshake (§1.3). A token that does not verify
	// is a genuine token problem: UnauthorizedException, on which Amplify
	// reconnects with fresh tokens. A valid token of another user is not:
	// Forbidden, outside Amplify's auth-typed list.
	if tok := tokenOf(auth); tok != "" {
		id, err := s.c.Authenticate(tok)
		switch {
		case err != nil || id.UserID == "":
			fail(errUnauthorized, unauthorizedMessage)
			return
		case id.UserID != s.c.Identity().UserID:
			fail(errForbidden, "The subscription's authorization is for another user than the connection's.")
			return
		}
	}
	ack := frame(m.ID, "start_ack", nil)
	switch err := s.c.Start(m.ID, params, s.exec, false, ack); {
	case errors.Is(err, realtime.ErrDuplicateID):
		fail(errDuplicate, "Duplicated operation with id "+m.ID)
	case errors.Is(err, realtime.ErrTooManyOps):
		fail(errMaxSubs, fmt.Sprintf("At most %d subscriptions may be active on one connection.", s.c.Config().MaxSubscriptions))
	}
}
