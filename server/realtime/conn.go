package realtime

import (
	"bufio"
	"context"
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
//
// How each field is synchronised: the fields down to done are set by
// newConn (handle by Run, before the first read) and never change, or are
// atomics; limiter is used by the reading goroutine only; the fields after
// mu are guarded by it, except release, which the presence writer
// writes before closing presence and Finish reads after it is closed.
type Conn struct {
	hub     *Hub
	ws      *websocket.Conn
	br      *bufio.Reader   // ws reads through it; see reader.go (polled: its buffer is lent, per drain)
	lent    *bufio.Reader   // used by the polled reading claim's holder only: the pooled reader whose buffer *br holds, nil when none
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
	queue    []item          // guarded by mu: frames and pulls waiting for the writer
	writing  bool            // guarded by mu: a writer goroutine is running
	closed   bool            // guarded by mu: Close was called
	ops      map[string]*op  // guarded by mu: active operations by id
	polled   bool            // guarded by mu: registered with the Hub's poller
	identity confab.Identity // guarded by mu: zero until Authenticated
	acked    bool            // guarded by mu: the protocol queued its ack (Acknowledged); keep-alive frames follow it
	release  func()          // set by the presence writer before it closes presence: ends the presence of identity
	presence chan struct{}   // guarded by mu: closed when the presence writer has set release
	timer    *time.Timer     // guarded by mu: init timeout, then token expiry
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
	c.presence = make(chan struct{})
	c.mu.Unlock()
	// Presence is a store write: record it off the reader (whose stack
	// stays small) without delaying the ack, on the Hub's few presence
	// writers (presence.go). Finish waits for it, so no presence write
	// outlives the connection.
	c.hub.presence.add(c)
	return nil
}

// Acknowledged tells the connection that the protocol has queued its
// connection acknowledgement: from now on the keep-alive tick also queues
// the protocol's keep-alive frame. Before it only WebSocket pings go out,
// so a client never reads a keep-alive ahead of the ack (AppSync sends ka
// only after connection_ack).
func (c *Conn) Acknowledged() {
	c.mu.Lock()
	c.acked = true
	c.mu.Unlock()
}

// Identity returns the authenticated caller (zero before Authenticated).
func (c *Conn) Identity() confab.Identity {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.identity
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
		<-presence // the presence writer has set c.release
		c.release()
	}
	c.cancel()
	c.hub.remove(c, userID)
	close(c.done)
}
