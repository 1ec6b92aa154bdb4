package appsync

import (
	"bytes"
	"encoding/json"

	"github.com/99designs/gqlgen/graphql"
	"github.com/confab-chat/confab/internal/errortype"
	"github.com/vektah/gqlparser/v2/gqlerror"
)

// The errorType values this package puts on the wire itself (protocols.md
// §1.5), from the one table in internal/errortype. Errors of operations
// carry the errorType the GraphQL error presenter gave them
// (extensions.errorType). errUnauthorized, on which Amplify drops its
// socket, is used only for a token that does not verify.
const (
	errBadRequest   = errortype.BadRequest          // connection_error 400 (not retried); a malformed start
	errUnauthorized = errortype.Unauthorized        // connection_error 401 (not retried); a start token that does not verify
	errInitTimeout  = errortype.ConnectionTimeout   // connection_error 408 (retried): no connection_init in time
	errForbidden    = errortype.Forbidden           // a start authorised as another user than the connection
	errDuplicate    = errortype.DuplicatedOperation // a start with the id of an active subscription
	errMaxSubs      = errortype.MaxSubscriptions    // more than MaxSubscriptions active
	errLimited      = errortype.LimitExceeded       // over the per-connection operation rate
	errValidation   = errortype.Validation          // a document that does not parse or validate (as the presenter names it)
	errInternal     = errortype.InternalFailure     // an error with no type, or an error list that came out empty
)

// unauthorizedMessage is the text real AppSync sends with
// UnauthorizedException.
const unauthorizedMessage = "You are not authorized to make this call."

// protocol renders AppSync's server frames for the engine.
type protocol struct{}

func (protocol) Name() string { return "appsync" }

// Next renders one result as a data frame; errors of the event ride along
// in payload.errors. Every subscription field of the schema is nullable, so
// a failed event still has an object in payload.data ({"onX":null}), which
// Amplify passes to the app with its errors (it drops a data frame whose
// payload.data is null, §1.4). An event is never rendered as an "error"
// frame: that would end the subscription on the client while the server
// kept it running.
func (p protocol) Next(id string, r *graphql.Response) []byte { return p.NextFrame(id, p.Payload(r)) }

// Payload renders a result as a data frame's payload, {"data", "errors"}.
func (protocol) Payload(r *graphql.Response) []byte {
	type payload struct {
		Data   json.RawMessage `json:"data"`
		Errors []appsyncError  `json:"errors,omitempty"`
	}
	p := payload{Data: r.Data}
	if len(p.Data) == 0 {
		p.Data = json.RawMessage("null")
	}
	if len(r.Errors) > 0 {
		p.Errors = toAppSync(r.Errors)
	}
	return marshal(p, `{}`)
}

// NextFrame renders a data frame around a payload from Payload.
func (protocol) NextFrame(id string, payload []byte) []byte { return rawFrame(id, "data", payload) }

// Complete renders the reply to stop (and the end of a stream).
func (protocol) Complete(id string) []byte { return frame(id, "complete", nil) }

// Error renders an error frame, {"errors":[{errorType, message, …}]}. It
// ends subscription id on the client.
func (protocol) Error(id string, errs gqlerror.List) []byte {
	return frame(id, "error", map[string]any{"errors": toAppSync(errs)})
}

// KeepAlive is AppSync's "ka" frame.
func (protocol) KeepAlive() []byte { return []byte(`{"type":"ka"}`) }

// appsyncError is one error as AppSync clients read it: errorType and
// message, plus the GraphQL fields when there are any.
type appsyncError struct {
	ErrorType  string              `json:"errorType"`
	Message    string              `json:"message"`
	Path       any                 `json:"path,omitempty"`
	Locations  []gqlerror.Location `json:"locations,omitempty"`
	Extensions map[string]any      `json:"extensions,omitempty"`
}

func toAppSync(errs gqlerror.List) []appsyncError {
	out := make([]appsyncError, 0, len(errs))
	for _, e := range errs {
		typ, _ := e.Extensions["errorType"].(string)
		switch {
		case typ != "":
		case e.Extensions["code"] != nil:
			// gqlgen's parse and validation errors reach the engine
			// without the presenter: name them as it does over HTTP.
			typ = errValidation
		default:
			typ = errInternal
		}
		var path any
		if len(e.Path) > 0 {
			path = e.Path
		}
		ext := e.Extensions
		if len(ext) == 1 && ext["errorType"] != nil {
			ext = nil // made here: errorType alone, already at the top level
		}
		out = append(out, appsyncError{ErrorType: typ, Message: e.Message, Path: path, Locations: e.Locations, Extensions: ext})
	}
	if len(out) == 0 {
		out = append(out, appsyncError{ErrorType: errInternal, Message: "The operation failed."})
	}
	return out
}

// errList is a one-error list of the given errorType.
func errList(errorType, message string) gqlerror.List {
	return gqlerror.List{{Message: message, Extensions: map[string]any{"errorType": errorType}}}
}

// connectionAck renders connection_ack with the keep-alive timeout clients
// arm (§1.6).
func connectionAck(timeoutMs int64) []byte {
	return frame("", "connection_ack", map[string]int64{"connectionTimeoutMs": timeoutMs})
}

// connectionError renders connection_error (handshake-level, no id). Codes
// 400, 401 and 403 stop clients retrying; any other code is retried (§1.5).
func connectionError(errorType, message string, code int) []byte {
	type connErr struct {
		ErrorType string `json:"errorType"`
		Message   string `json:"message"`
		ErrorCode int    `json:"errorCode"`
	}
	return frame("", "connection_error", map[string][]connErr{"errors": {{errorType, message, code}}})
}

// frame renders {"type", "id"?, "payload"?}: always one JSON object, even
// if the payload could not be marshalled (clients JSON.parse every frame).
func frame(id, typ string, payload any) []byte {
	var p []byte
	if payload != nil {
		p = marshal(payload, `{}`)
	}
	return rawFrame(id, typ, p)
}

// rawFrame renders a frame around a payload already encoded (nil for none).
func rawFrame(id, typ string, payload []byte) []byte {
	var buf bytes.Buffer
	buf.Grow(len(payload) + len(id) + 40)
	buf.WriteString(`{"type":`)
	buf.Write(marshal(typ, `""`))
	if id != "" {
		buf.WriteString(`,"id":`)
		buf.Write(marshal(id, `""`))
	}
	if payload != nil {
		buf.WriteString(`,"payload":`)
		buf.Write(payload)
	}
	buf.WriteByte('}')
	return buf.Bytes()
}

// marshal encodes v, or returns fallback if it cannot.
func marshal(v any, fallback string) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		return []byte(fallback)
	}
	return b
}
