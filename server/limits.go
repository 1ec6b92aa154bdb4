package server

import (
	"net/http"
	"sync"
	"time"

	"github.com/confab-chat/confab/internal/ratelimit"
	"github.com/gorilla/websocket"
)

// inflight counts unfinished HTTP requests per client address.
type inflight struct {
	max int // <= 0: unlimited
	mu  sync.Mutex
	n   map[string]int // guarded by mu; an address leaves the map at zero
}

// acquire takes one of addr's slots, reporting false when all are taken.
func (f *inflight) acquire(addr string) bool {
	if f.max <= 0 {
		return true
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.n[addr] >= f.max {
		return false
	}
	f.n[addr]++
	return true
}

// count returns addr's unfinished requests.
func (f *inflight) count(addr string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.n[addr]
}

func (f *inflight) release(addr string) {
	if f.max <= 0 {
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.n[addr]--; f.n[addr] <= 0 {
		delete(f.n, addr)
	}
}

// limitRequests bounds what one plain HTTP request may hold on to: its
// body must arrive within ReadTimeout and its answer leave within
// WriteTimeout (deadlines on the connection, so a client that sends a
// byte a minute is cut off), and one address (IPv6: its /64) may have at
// most MaxRequestsPerAddress requests unfinished; more get 429 at once,
// before their body is read. WebSocket upgrades are left alone: they
// hijack the connection, which then has its own keep-alive and limits
// (realtime.Config).
func (s *Server) limitRequests(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if websocket.IsWebSocketUpgrade(r) {
			next.ServeHTTP(w, r)
			return
		}
		addr := ratelimit.AddrKey(r.RemoteAddr)
		if !s.inflight.acquire(addr) {
			refuseUnread(w)
			w.Header().Set("Retry-After", "1")
			writeGraphQLError(w, http.StatusTooManyRequests, "TooManyRequestsException", "Too many unfinished requests from this address.")
			return
		}
		defer s.inflight.release(addr)
		rc := http.NewResponseController(w)
		now := time.Now()
		// Errors mean a writer that cannot set deadlines (tests'
		// recorders); the server's own connections always can.
		_ = rc.SetReadDeadline(now.Add(s.cfg.ReadTimeout))
		_ = rc.SetWriteDeadline(now.Add(s.cfg.ReadTimeout + s.cfg.WriteTimeout))
		next.ServeHTTP(w, r)
	})
}

// refuseUnread marks an answer given without reading the request's body:
// the connection closes after it. Otherwise net/http would read (up to
// 256 KiB of) the body before sending the answer, at the client's pace.
func refuseUnread(w http.ResponseWriter) {
	w.Header().Set("Connection", "close")
}
