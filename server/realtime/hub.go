package realtime

import (
	"net/http"
	"sync"
	"time"

	"github.com/gorilla/websocket"
)

// Hub tracks the live connections of both protocols: it sends keep-alives
// for all of them from one goroutine and closes them all on Shutdown.
type Hub struct {
	cfg      Config
	upgrader websocket.Upgrader

	mu     sync.Mutex
	conns  map[*Conn]struct{} // guarded by mu
	closed bool               // guarded by mu

	stop chan struct{}
	done chan struct{}
}

// NewHub returns a Hub and starts its keep-alive goroutine, which Shutdown
// stops.
func NewHub(cfg Config) *Hub {
	cfg.setDefaults()
	h := &Hub{
		cfg:   cfg,
		conns: make(map[*Conn]struct{}),
		stop:  make(chan struct{}),
		done:  make(chan struct{}),
	}
	h.upgrader = websocket.Upgrader{
		// ReadBufferSize 0 reuses the HTTP server's 4 KiB reader; the write
		// buffer comes from a pool only while a frame is being written.
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

func (h *Hub) add(c *Conn) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return false
	}
	h.conns[c] = struct{}{}
	return true
}

func (h *Hub) remove(c *Conn) {
	h.mu.Lock()
	delete(h.conns, c)
	h.mu.Unlock()
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

func (h *Hub) keepAlive() {
	defer close(h.done)
	t := time.NewTicker(h.cfg.KeepAlive)
	defer t.Stop()
	for {
		select {
		case <-h.stop:
			return
		case <-t.C:
			for _, c := range h.snapshot() {
				c.keepAlive()
			}
		}
	}
}

// Shutdown refuses new connections, closes every live one with 1001
// (going away; clients reconnect elsewhere and resume) and stops the
// keep-alive goroutine. It waits until the connections' readers have
// finished or ctxDone is closed.
func (h *Hub) Shutdown(ctxDone <-chan struct{}) {
	h.mu.Lock()
	if !h.closed {
		h.closed = true
		close(h.stop)
	}
	h.mu.Unlock()
	<-h.done
	for _, c := range h.snapshot() {
		c.Close(websocket.CloseGoingAway, "server shutting down")
	}
	for _, c := range h.snapshot() {
		select {
		case <-c.Done():
		case <-ctxDone:
			return
		}
	}
}

// Upgrade upgrades r to a WebSocket connection speaking proto, with the
// subprotocol chosen by the protocol. On failure it has already answered
// the request.
func (h *Hub) Upgrade(w http.ResponseWriter, r *http.Request, proto Protocol, subprotocol string) (*Conn, error) {
	var hdr http.Header
	if subprotocol != "" {
		hdr = http.Header{"Sec-Websocket-Protocol": {subprotocol}}
	}
	ws, err := h.upgrader.Upgrade(w, r, hdr)
	if err != nil {
		return nil, err
	}
	c := newConn(h, ws, proto, r)
	if !h.add(c) {
		c.Close(websocket.CloseGoingAway, "server shutting down")
	}
	return c, nil
}
