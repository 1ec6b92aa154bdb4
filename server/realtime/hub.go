package realtime

import (
	"bufio"
	"errors"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/confab-chat/confab/internal/ratelimit"
	"github.com/gorilla/websocket"
)

// Hub tracks the live connections of both protocols: it sends keep-alives
// for all of them from one goroutine and closes them all on Shutdown.
//
// cfg, upgrader, renders, poll, stop, done and closing are set by NewHub
// and never change; the rest is guarded as written beside each field.
type Hub struct {
	cfg      Config
	upgrader websocket.Upgrader

	mu     sync.Mutex
	conns  map[*Conn]struct{} // guarded by mu
	byAddr map[string]int     // guarded by mu: live connections by ratelimit.AddrKey
	byUser map[string]int     // guarded by mu: authenticated connections by user id
	subs   map[string]int     // guarded by mu: live subscriptions by root field

	renders  *renders      // results shared between subscriptions (Config.SharedFields)
	presence presenceQueue // connections waiting for their presence to be recorded (presence.go)
	poll     *poller       // idle connections' sockets (nil: each has a reader goroutine)
	closed   bool          // guarded by mu

	stop chan struct{} // closed by Shutdown: ends keepAlive
	done chan struct{} // closed when keepAlive has returned

	closing chan struct{}  // a semaphore of maxClosing: closes in flight off the keep-alive goroutine and in Shutdown
	closers sync.WaitGroup // the keep-alive goroutine's closes (closeSilent); Add only on that goroutine
}

// maxClosing bounds the connections closed at once on their own
// goroutines (silent ones by the keep-alive tick, all of them by
// Shutdown). Each close writes a close frame, which a wedged peer holds for
// up to Config.closeTimeout; beyond the bound a silent connection waits for
// the next tick, and Shutdown for a free slot.
const maxClosing = 64

// NewHub returns a Hub and starts its keep-alive goroutine, which Shutdown
// stops.
func NewHub(cfg Config) *Hub {
	cfg.setDefaults()
	h := &Hub{
		cfg:    cfg,
		conns:  make(map[*Conn]struct{}),
		byAddr: make(map[string]int),
		byUser: make(map[string]int),
		subs:   make(map[string]int),

		renders: newRenders(maxRenders),
		poll:    newPoller(),
		stop:    make(chan struct{}),
		done:    make(chan struct{}),
		closing: make(chan struct{}, maxClosing),
	}
	h.upgrader = websocket.Upgrader{
		// ReadBufferSize 0: the connection reads through the bufio.Reader
		// that Upgrade hands over at the hijack (readBufferSize bytes, see
		// Conn.awaitInput); the HTTP server's 4 KiB reader is then freed
		// with the request. The write buffer comes from a pool only while a
		// frame is being written.
		WriteBufferPool:   &sync.Pool{},
		CheckOrigin:       h.cfg.checkOrigin,
		HandshakeTimeout:  10 * time.Second,
		EnableCompression: false,
	}
	go h.keepAlive()
	return h
}

// Config returns the effective configuration (defaults filled in).
func (h *Hub) Config() Config { return h.cfg }

// Len returns the number of live connections of the protocol named proto
// ("" for all).
func (h *Hub) Len(proto string) int {
	h.mu.Lock()
	defer h.mu.Unlock()
	if proto == "" {
		return len(h.conns)
	}
	n := 0
	for c := range h.conns {
		if c.proto.Name() == proto {
			n++
		}
	}
	return n
}

// ErrTooManyConns is returned by Conn.Authenticated when the user already
// has MaxConnsPerUser live connections.
var ErrTooManyConns = errors.New("realtime: too many connections for this user")

// reserveAddr counts one more connection from addr, unless addr has
// MaxConnsPerAddress already.
func (h *Hub) reserveAddr(addr string) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	if limit := h.cfg.MaxConnsPerAddress; limit > 0 && h.byAddr[addr] >= limit {
		return false
	}
	h.byAddr[addr]++
	return true
}

func (h *Hub) releaseAddr(addr string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.decr(h.byAddr, addr)
}

// reserveUser counts one more connection of userID, unless the user has
// MaxConnsPerUser already.
func (h *Hub) reserveUser(userID string) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	if limit := h.cfg.MaxConnsPerUser; limit > 0 && h.byUser[userID] >= limit {
		return false
	}
	h.byUser[userID]++
	return true
}

// decr lowers m[key], deleting it at zero so the maps hold only live keys.
// Callers hold mu.
func (*Hub) decr(m map[string]int, key string) {
	if m[key] <= 1 {
		delete(m, key)
		return
	}
	m[key]--
}

// Subscriptions returns the live subscriptions of every connection by root
// field (onMessageSent, …).
func (h *Hub) Subscriptions() map[string]int {
	h.mu.Lock()
	defer h.mu.Unlock()
	m := make(map[string]int, len(h.subs))
	for f, n := range h.subs {
		m[f] = n
	}
	return m
}

// countSub adds delta to the subscriptions of field.
func (h *Hub) countSub(field string, delta int) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if delta < 0 {
		h.decr(h.subs, field)
		return
	}
	h.subs[field] += delta
}

func (h *Hub) add(c *Conn) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return false
	}
	h.conns[c] = struct{}{}
	return true
}

// remove forgets c and releases its address and user counts.
func (h *Hub) remove(c *Conn, userID string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	delete(h.conns, c)
	h.decr(h.byAddr, c.addr)
	if userID != "" {
		h.decr(h.byUser, userID)
	}
}

func (h *Hub) snapshot() []*Conn {
	h.mu.Lock()
	defer h.mu.Unlock()
	list := make([]*Conn, 0, len(h.conns))
	for c := range h.conns {
		list = append(list, c)
	}
	return list
}

// keepAlive is the Hub's goroutine: every KeepAlive interval it pings each
// connection and closes the silent ones, until Shutdown.
func (h *Hub) keepAlive() {
	defer close(h.done)
	t := time.NewTicker(h.cfg.KeepAlive)
	defer t.Stop()
	for {
		select {
		case <-h.stop:
			return
		case <-t.C:
			h.tick()
		}
	}
}

// tick queues a ping to every connection and closes the silent ones. It
// never writes to the network itself: one wedged peer must not delay the
// others' pings.
func (h *Hub) tick() {
	for _, c := range h.snapshot() {
		if c.silent() {
			h.closeSilent(c)
			continue
		}
		c.keepAlive()
	}
}

// closeSilent closes c (1001, idle timeout) on a goroutine of its own, if
// one of the maxClosing slots is free; otherwise c, still silent, is
// closed at a later tick. Only the keep-alive goroutine calls it.
func (h *Hub) closeSilent(c *Conn) {
	if c.closing() {
		return
	}
	select {
	case h.closing <- struct{}{}:
	default:
		return
	}
	h.closers.Add(1)
	go func() {
		defer h.closers.Done()
		defer func() { <-h.closing }()
		c.Close(websocket.CloseGoingAway, "idle timeout")
	}()
}

// Shutdown refuses new connections, closes every live one with 1001
// (going away; clients reconnect elsewhere and resume) and stops the
// keep-alive goroutine. The closes run maxClosing at a time, so wedged
// peers hold Shutdown up for about one close frame's deadline, not one
// each. It waits until the connections' readers have finished or ctxDone
// is closed.
func (h *Hub) Shutdown(ctxDone <-chan struct{}) {
	h.mu.Lock()
	if !h.closed {
		h.closed = true
		close(h.stop)
	}
	h.mu.Unlock()
	<-h.done
	var closes sync.WaitGroup
	for _, c := range h.snapshot() {
		h.closing <- struct{}{}
		closes.Go(func() {
			defer func() { <-h.closing }()
			c.Close(websocket.CloseGoingAway, "server shutting down")
		})
	}
	closes.Wait()
	h.closers.Wait() // the tick's closes, started before h.done
	if h.poll != nil {
		h.poll.stop() // every polled connection has left it (Close)
	}
	for _, c := range h.snapshot() {
		select {
		case <-c.Done():
		case <-ctxDone:
			return
		}
	}
}

// ErrTooManyFromAddr is returned by Upgrade when the client's address has
// MaxConnsPerAddress live connections (answered with HTTP 429).
var ErrTooManyFromAddr = errors.New("realtime: too many connections from this address")

// Upgrade upgrades r to a WebSocket connection speaking proto, with the
// subprotocol chosen by the protocol. On failure it has already answered
// the request.
func (h *Hub) Upgrade(w http.ResponseWriter, r *http.Request, proto Protocol, subprotocol string) (*Conn, error) {
	addr := ratelimit.AddrKey(r.RemoteAddr)
	if !h.reserveAddr(addr) {
		w.Header().Set("Retry-After", "10")
		http.Error(w, "Too many connections from this address.", http.StatusTooManyRequests)
		return nil, ErrTooManyFromAddr
	}
	var hdr http.Header
	if subprotocol != "" {
		hdr = http.Header{"Sec-Websocket-Protocol": {subprotocol}}
	}
	hw := &hijacker{ResponseWriter: w}
	ws, err := h.upgrader.Upgrade(hw, r, hdr)
	if err != nil {
		h.releaseAddr(addr)
		return nil, err
	}
	c := newConn(h, ws, hw.br, proto, r, addr)
	if !h.add(c) {
		c.Close(websocket.CloseGoingAway, "server shutting down")
	}
	return c, nil
}

// readBufferSize is each connection's read buffer, which a polled
// connection holds only while it reads (readBuffers, reader.go). Client
// frames are small (an operation, a ping); a larger one takes a few more
// reads.
const readBufferSize = 512

// hijacker hands the WebSocket upgrader a read buffer of readBufferSize
// that Conn can inspect (awaitInput), in place of the HTTP server's.
type hijacker struct {
	http.ResponseWriter
	br *bufio.Reader // set by Hijack
}

func (h *hijacker) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	conn, brw, err := http.NewResponseController(h.ResponseWriter).Hijack()
	if err != nil || brw.Reader.Buffered() > 0 {
		return conn, brw, err // the upgrader refuses a client that sent early
	}
	h.br = bufio.NewReaderSize(conn, readBufferSize)
	return conn, bufio.NewReadWriter(h.br, brw.Writer), nil
}
