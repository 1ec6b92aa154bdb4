package realtime

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/confab-chat/confab"
	"github.com/gorilla/websocket"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
	"golang.org/x/time/rate"
)

// Protocol renders the frames of one wire protocol.
type Protocol interface {
	// Name identifies the protocol in metrics and logs.
	Name() string
	// Payload renders one result as the payload of a result frame. It is
	// the same for every operation, so subscriptions that share a rendering
	// (Config.SharedFields) share it.
	Payload(r *graphql.Response) []byte
	// NextFrame renders the result frame of operation id around a payload
	// from Payload.
	NextFrame(id string, payload []byte) []byte
	// Complete renders the end of operation id.
	Complete(id string) []byte
	// Error renders the failure of operation id; no Complete follows.
	Error(id string, errs gqlerror.List) []byte
	// KeepAlive renders the protocol's keep-alive frame, or nil if it has
	// none (WebSocket pings are sent either way).
	KeepAlive() []byte
}

// Conn is one WebSocket connection. It reads the client's frames itself
// (Run, reader.go) and hands each to the protocol's handler; its methods
// may be called from any goroutine.
type Conn struct {
	hub     *Hub
	ws      *websocket.Conn
	br      *bufio.Reader   // ws reads through it; see reader.go
	raw     syscall.RawConn // the socket, read directly (reader.go); nil if it is not one (TLS)
	fd      int32           // raw's descriptor, for the poller
	handle  func(frame []byte) error
	heard   atomic.Int64 // when the client last sent a frame or a pong, in Unix ns
	reading atomic.Bool  // polled: a drain runs, or Finish has been claimed
	proto   Protocol
	auth    string          // the upgrade request's Authorization header
	addr    string          // the client's ratelimit.AddrKey, counted by the hub
	ctx     context.Context // cancelled when the connection ends
	cancel  context.CancelFunc
	limiter *rate.Limiter // used only by the reader
	done    chan struct{} // closed when Finish has run

	mu       sync.Mutex
	queue    []item         // guarded by mu: frames and pulls waiting for the writer
	writing  bool           // guarded by mu: a writer goroutine is running
	closed   bool           // guarded by mu: Close was called
	ops      map[string]*op // guarded by mu: active operations by id
	polled   bool           // guarded by mu: registered with the Hub's poller
	identity confab.Identity
	release  func()        // set by the presence goroutine: ends the presence of identity
	presence chan struct{} // guarded by mu: closed when the presence goroutine has set release
	timer    *time.Timer   // guarded by mu: init timeout, then token expiry
}

// item is one unit of work for the writer: a ready frame, or a pull of the
// next result of an operation.
type item struct {
	frame []byte
	op    *op
	ping  bool
	close *CloseError // close the connection once the frames before it are written
}

// op is an active operation.
type op struct {
	id      string
	ctx     context.Context
	cancel  context.CancelFunc
	stream  bool                    // set by the Started hook
	field   string                  // guarded by Conn.mu: the root field, once counted as a live subscription
	next    graphql.ResponseHandler // guarded by Conn.mu until set; then read by the writer only
	pending int                     // guarded by Conn.mu: wakes before next was set
	ended   bool                    // guarded by Conn.mu
	queued  []any                   // guarded by Conn.mu: the items Wake announced and no pull has taken, oldest first (nil: the close)
	skip    func()                  // set by the Started hook: takes the oldest item without rendering it
	share   string                  // set before next: the key under which this subscription's results are shared ("" for none)
}

func newConn(h *Hub, ws *websocket.Conn, br *bufio.Reader, proto Protocol, r *http.Request, addr string) *Conn {
	ctx, cancel := context.WithCancel(context.WithoutCancel(r.Context()))
	c := &Conn{
		hub:     h,
		ws:      ws,
		br:      br,
		proto:   proto,
		auth:    r.Header.Get("Authorization"),
		addr:    addr,
		ctx:     ctx,
		cancel:  cancel,
		limiter: rate.NewLimiter(rate.Limit(h.cfg.OpsPerSecond), int(2*h.cfg.OpsPerSecond)),
		done:    make(chan struct{}),
		ops:     make(map[string]*op),
	}
	ws.SetReadLimit(h.cfg.MaxFrameBytes)
	ws.SetReadDeadline(time.Now().Add(c.idleLimit()))
	ws.SetPongHandler(func(string) error { return c.heardNow() })
	if sc, ok := ws.NetConn().(syscall.Conn); ok && br != nil {
		// On an error raw stays nil: no poller, and reads park deeper.
		if raw, err := sc.SyscallConn(); err == nil && raw.Control(func(fd uintptr) { c.fd = int32(fd) }) == nil {
			c.raw = raw
		}
	}
	return c
}

// Authorization returns the upgrade request's Authorization header. The
// request itself is not kept: an idle connection would hold its headers,
// URL and context for its whole life.
func (c *Conn) Authorization() string { return c.auth }

// Done is closed when the connection has ended and its reader finished.
func (c *Conn) Done() <-chan struct{} { return c.done }

// Config returns the engine's configuration.
func (c *Conn) Config() Config { return c.hub.cfg }

// CloseError asks the reader loop to close with a code and reason.
type CloseError struct {
	Code   int
	Reason string
}

func (e *CloseError) Error() string { return e.Reason }

// AllowOp spends one token of the per-connection operation rate.
func (c *Conn) AllowOp() bool { return c.limiter.Allow() }

// SetInitTimeout arms the connection_init deadline: when it passes before
// Authenticated is called, onTimeout runs (it closes with the protocol's
// code).
func (c *Conn) SetInitTimeout(onTimeout func()) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.timer = time.AfterFunc(c.hub.cfg.InitTimeout, func() {
		c.mu.Lock()
		authed := c.identity.UserID != ""
		c.mu.Unlock()
		if !authed {
			onTimeout()
		}
	})
}

// Authenticate verifies token with the configured authenticator.
func (c *Conn) Authenticate(token string) (confab.Identity, error) {
	return c.hub.cfg.Authenticate(c.ctx, token)
}

// Authenticated records the caller, starts their presence and arms the
// token-expiry timer: when the token expires, onExpiry runs (it closes
// with the protocol's auth code so the client reconnects with a fresh token).
// It returns ErrTooManyConns, and records nothing, when the user already
// has MaxConnsPerUser connections; the protocol then refuses the
// connection.
func (c *Conn) Authenticated(id confab.Identity, onExpiry func()) error {
	c.mu.Lock()
	if c.closed || c.identity.UserID != "" {
		c.mu.Unlock()
		return nil
	}
	if !c.hub.reserveUser(id.UserID) {
		c.mu.Unlock()
		return ErrTooManyConns
	}
	c.identity = id
	if c.timer != nil {
		c.timer.Stop()
	}
	if !id.ExpiresAt.IsZero() {
		c.timer = time.AfterFunc(time.Until(id.ExpiresAt), onExpiry)
	}
	presence := make(chan struct{})
	c.presence = presence
	c.mu.Unlock()
	// Presence is a store write: record it on a short-lived goroutine so
	// the reader (and its stack) stays small and the ack is not delayed.
	// Finish waits for it, so no presence write outlives the connection.
	go func() {
		defer close(presence)
		c.release = c.hub.cfg.Connect(c.ctx, id.UserID)
	}()
	return nil
}

// Identity returns the authenticated caller (zero before Authenticated).
func (c *Conn) Identity() confab.Identity {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.identity
}

// Has reports whether operation id is active.
func (c *Conn) Has(id string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	_, ok := c.ops[id]
	return ok
}

// Send queues a frame. It never blocks; a connection whose queue is full is
// closed as too slow.
func (c *Conn) Send(frame []byte) { c.enqueue(item{frame: frame}) }

func (c *Conn) enqueue(it item) {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return
	}
	if len(c.queue) >= c.hub.cfg.MaxQueuedFrames {
		c.mu.Unlock()
		// Not on this goroutine: it may be a publisher's, which must not
		// wait for a close frame to be written.
		go c.Close(websocket.CloseTryAgainLater, "slow consumer: reconnect and resume")
		return
	}
	c.queue = append(c.queue, it)
	start := !c.writing
	c.writing = true
	c.mu.Unlock()
	if start {
		go c.write()
	}
}

// write drains the queue, then exits: the writer exists only while there
// is something to write.
func (c *Conn) write() {
	for {
		c.mu.Lock()
		if len(c.queue) == 0 || c.closed {
			c.queue = nil
			c.writing = false
			c.mu.Unlock()
			return
		}
		it := c.queue[0]
		c.queue[0] = item{}
		c.queue = c.queue[1:]
		c.mu.Unlock()

		if it.close != nil {
			c.Close(it.close.Code, it.close.Reason)
			return
		}
		frame := it.frame
		if it.op != nil {
			frame = c.pull(it.op)
			if frame == nil {
				continue
			}
		}
		deadline := time.Now().Add(c.hub.cfg.WriteTimeout)
		var err error
		if it.ping {
			err = c.ws.WriteControl(websocket.PingMessage, nil, deadline)
		} else {
			c.ws.SetWriteDeadline(deadline)
			err = c.ws.WriteMessage(websocket.TextMessage, frame)
		}
		if err != nil {
			c.Close(websocket.CloseAbnormalClosure, "")
			return
		}
	}
}

// pull renders the next result of o. It runs on the writer, which is the
// only caller of o.next; a Wake was counted for every item, so the handler
// finds one waiting and does not block.
//
// A shared subscription (see Config.SharedFields) first looks for the item
// it is about to render in the hub's renders: another subscription with the
// same document and variables may have rendered that very item already;
// then the item is skipped on the channel and that payload is framed.
func (c *Conn) pull(o *op) []byte {
	c.mu.Lock()
	ended := o.ended
	var it any
	if len(o.queued) > 0 {
		it = o.queued[0]
		o.queued[0] = nil
		o.queued = o.queued[1:]
	}
	c.mu.Unlock()
	if ended {
		return nil
	}
	shared := o.share != "" && it != nil
	if shared {
		if payload := c.hub.renders.get(it, o.share); payload != nil {
			o.skip()
			if c.hub.cfg.OnShared != nil {
				c.hub.cfg.OnShared(o.field)
			}
			return c.proto.NextFrame(o.id, payload)
		}
	}
	resp := o.next(o.ctx)
	if resp == nil { // the stream closed: the subscription is over
		if c.end(o.id, o) {
			return c.proto.Complete(o.id)
		}
		return nil
	}
	payload := c.proto.Payload(resp)
	if shared && len(resp.Errors) == 0 {
		c.hub.renders.put(it, o.share, payload)
	}
	return c.proto.NextFrame(o.id, payload)
}

// end removes operation id if it is still o, cancelling it. It reports
// whether it did.
func (c *Conn) end(id string, o *op) bool {
	c.mu.Lock()
	cur, ok := c.ops[id]
	if !ok || (o != nil && cur != o) {
		c.mu.Unlock()
		return false
	}
	delete(c.ops, id)
	cur.ended = true
	field := cur.field
	c.mu.Unlock()
	if field != "" {
		c.hub.countSub(field, -1)
	}
	cur.cancel()
	return true
}

// CloseAfterFlush closes the connection once the frames already queued
// (an error frame, say) have been written.
func (c *Conn) CloseAfterFlush(code int, reason string) {
	c.enqueue(item{close: &CloseError{Code: code, Reason: reason}})
}

// Active returns the ids of the active operations.
func (c *Conn) Active() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	ids := make([]string, 0, len(c.ops))
	for id := range c.ops {
		ids = append(ids, id)
	}
	return ids
}

// Stop ends operation id at the client's request. Unknown ids are ignored
// (both protocols say so). It reports whether the operation was active.
func (c *Conn) Stop(id string) bool { return c.end(id, nil) }

// ErrTooManyOps is returned by Start when the connection has
// MaxSubscriptions active operations.
var ErrTooManyOps = errors.New("realtime: too many operations on this connection")

// ErrDuplicateID is returned by Start when id is already active.
var ErrDuplicateID = errors.New("realtime: operation id already active")

// Start runs an operation for id. Parse and validation failures, and a
// subscription refused at subscribe time, are answered with the protocol's
// Error frame. allowSingle says whether queries and mutations may run
// (graphql-transport-ws: yes, AppSync: no — then onSingle is answered).
// ack, when non-nil, is queued once a subscription has started, before any
// result (AppSync's start_ack); a refused one gets only the Error frame.
func (c *Conn) Start(id string, params *graphql.RawParams, exec graphql.GraphExecutor, allowSingle bool, ack []byte) error {
	c.mu.Lock()
	if _, dup := c.ops[id]; dup {
		c.mu.Unlock()
		return ErrDuplicateID
	}
	if len(c.ops) >= c.hub.cfg.MaxSubscriptions {
		c.mu.Unlock()
		return ErrTooManyOps
	}
	ctx, cancel := context.WithCancel(confab.WithIdentity(c.ctx, c.identity))
	o := &op{id: id, cancel: cancel}
	c.ops[id] = o
	c.mu.Unlock()

	// The dispatch (parsing, validation, the resolver's store reads) runs
	// on a short-lived goroutine: on the reader it would grow the stack
	// that every idle connection then keeps. The operation is registered
	// above, so a duplicate id or a "complete" that races it still works.
	go c.dispatch(ctx, o, params, exec, allowSingle, ack)
	return nil
}

// dispatch parses and starts operation o (see Start).
func (c *Conn) dispatch(ctx context.Context, o *op, params *graphql.RawParams, exec graphql.GraphExecutor, allowSingle bool, ack []byte) {
	id := o.id
	params.ReadTime = graphql.TraceTiming{Start: graphql.Now(), End: graphql.Now()}
	opCtx, errs := exec.CreateOperationContext(ctx, params)
	if errs != nil {
		c.fail(o, errs)
		return
	}
	if opCtx.Operation.Operation != ast.Subscription && !allowSingle {
		c.fail(o, gqlerror.List{{
			Message:    "Queries and mutations are not supported on the real-time endpoint; use POST /graphql.",
			Extensions: map[string]any{"errorType": "UnsupportedOperation", "code": string(confab.CodeInvalid)},
		}})
		return
	}
	if opCtx.Operation.Operation != ast.Subscription {
		// A query or mutation: one result, then complete.
		h, rctx := exec.DispatchOperation(ctx, opCtx)
		resp := h(rctx)
		if c.end(id, o) {
			c.Send(c.proto.NextFrame(id, c.proto.Payload(resp)))
			c.Send(c.proto.Complete(id))
		}
		return
	}

	ctx = confab.WithStreamHooks(ctx, confab.StreamHooks{
		Wake:    func(it any) { c.wake(o, it) },
		Evict:   func(reason string) { go c.Close(websocket.CloseTryAgainLater, reason) },
		Started: func(skip func()) { o.stream, o.skip = true, skip },
	})
	h, rctx := exec.DispatchOperation(ctx, opCtx)
	if !o.stream {
		// Refused at subscribe time: h is gqlgen's one-shot error result.
		resp := h(rctx)
		var errs gqlerror.List
		if resp != nil {
			errs = resp.Errors
		}
		if len(errs) == 0 {
			errs = gqlerror.List{{Message: "The subscription could not be started."}}
		}
		c.fail(o, errs)
		return
	}
	if ack != nil {
		// Queued while o.next is unset, so every result (each waits for
		// o.next) follows it.
		c.Send(ack)
	}
	c.mu.Lock()
	o.ctx = rctx
	o.next = h
	n := o.pending
	o.pending = 0
	if !o.ended {
		o.field = rootField(opCtx.Operation)
		c.hub.countSub(o.field, 1)
		if c.hub.cfg.SharedFields[o.field] {
			o.share = shareKey(c.proto.Name(), params)
		}
	}
	c.mu.Unlock()
	for range n {
		c.enqueue(item{op: o})
	}
}

// shareKey is what two subscriptions must have in common to share their
// rendered results: the protocol, the document, the operation name and the
// variables (json.Marshal sorts map keys, so equal variables encode alike).
func shareKey(proto string, params *graphql.RawParams) string {
	vars, err := json.Marshal(params.Variables)
	if err != nil {
		return "" // cannot happen for decoded JSON; then nothing is shared
	}
	return proto + "\x00" + params.OperationName + "\x00" + params.Query + "\x00" + string(vars)
}

// rootField names an operation by its first root field ("unknown" when it
// has none: validation refuses such documents before this point).
func rootField(op *ast.OperationDefinition) string {
	if len(op.SelectionSet) > 0 {
		if f, ok := op.SelectionSet[0].(*ast.Field); ok {
			return f.Name
		}
	}
	return "unknown"
}

// wake queues one pull of o, or counts it while o is still starting.
func (c *Conn) wake(o *op, it any) {
	c.mu.Lock()
	o.queued = append(o.queued, it)
	if o.next == nil {
		o.pending++
		c.mu.Unlock()
		return
	}
	c.mu.Unlock()
	c.enqueue(item{op: o})
}

func (c *Conn) fail(o *op, errs gqlerror.List) {
	if c.end(o.id, o) {
		c.Send(c.proto.Error(o.id, errs))
	}
}

// keepAlive queues a WebSocket ping and the protocol's keep-alive frame.
func (c *Conn) keepAlive() {
	c.enqueue(item{ping: true})
	if ka := c.proto.KeepAlive(); ka != nil {
		c.Send(ka)
	}
}

// closing reports whether Close has begun.
func (c *Conn) closing() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.closed
}

// Close ends the connection with a close frame (code and reason, the
// reason cut to the 123 bytes a close frame allows). The reader then fails
// and Finish cleans up. Safe to call more than once and from any goroutine.
func (c *Conn) Close(code int, reason string) {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return
	}
	c.closed = true
	polled := c.polled
	c.queue = nil
	if c.timer != nil {
		c.timer.Stop()
	}
	c.mu.Unlock()
	if len(reason) > 123 {
		reason = reason[:123]
	}
	if code != websocket.CloseAbnormalClosure {
		msg := websocket.FormatCloseMessage(code, reason)
		c.ws.WriteControl(websocket.CloseMessage, msg, time.Now().Add(c.hub.cfg.closeTimeout))
	}
	// Closing the socket unblocks the reader (and a writer stuck in a
	// write); the close frame above went out first. A polled socket leaves
	// the poller first, before its descriptor can be reused.
	if polled {
		c.hub.poll.remove(c)
	}
	c.ws.Close()
	if polled {
		c.closePolled()
	}
}

// Finish ends the connection once reading has failed with err (see
// reader.go: exactly one reader loop, drain or closePolled calls it): it
// closes the socket with a code that fits err, and ends every operation
// and the presence.
func (c *Conn) Finish(err error) {
	var ce *CloseError
	switch {
	case errors.As(err, &ce):
		c.Close(ce.Code, ce.Reason)
	case errors.Is(err, websocket.ErrReadLimit):
		c.Close(websocket.CloseMessageTooBig, "frame too large")
	default:
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			c.Close(websocket.CloseGoingAway, "idle timeout")
		} else {
			c.Close(websocket.CloseNormalClosure, "")
		}
	}
	c.mu.Lock()
	ops := c.ops
	c.ops = map[string]*op{}
	var counted []string // root fields of the live subscriptions ending here
	for _, o := range ops {
		o.ended = true
		if o.field != "" {
			counted = append(counted, o.field)
		}
	}
	presence := c.presence
	userID := c.identity.UserID
	c.mu.Unlock()
	for _, f := range counted {
		c.hub.countSub(f, -1)
	}
	for _, o := range ops {
		o.cancel()
	}
	if presence != nil {
		<-presence // the presence goroutine has set c.release
		c.release()
	}
	c.cancel()
	c.hub.remove(c, userID)
	close(c.done)
}
