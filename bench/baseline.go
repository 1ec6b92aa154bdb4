package bench

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gorilla/websocket"
)

// baseline is the machine's ceiling: a minimal WebSocket broadcaster with
// no GraphQL, no auth and no store, listening on 127.0.0.1:0 in this
// process. A client connects to /ws?c=<conversation>; POST /send?c=<conv>
// broadcasts the body, prefixed with the conversation's seq and a space, to
// that conversation's sockets. Each socket has a writer goroutine and a
// bounded queue; a full queue drops the message (the client counts it as
// lost). Driven with the same shape as confab, it gives the figure confab's
// are a fraction of.
//
// Locks: baseline.mu (rooms) and room.mu are never held together; cmu
// guards only the connection lists.
type baseline struct {
	srv      *http.Server
	base     string
	http     *http.Client
	handlers sync.WaitGroup // one per upgraded connection; close waits

	mu    sync.Mutex
	rooms map[string]*room // guarded by mu

	cmu     sync.Mutex
	clients []*websocket.Conn // guarded by cmu: the load tool's side
	servers []*websocket.Conn // guarded by cmu: the broadcaster's side
	closed  bool              // guarded by cmu: no new connections
}

type room struct {
	mu    sync.Mutex
	seq   int64         // guarded by mu
	socks []chan []byte // guarded by mu: each socket's queue
}

// baselineQueue is each socket's queue length, in messages; when it is
// full a broadcast skips that socket.
const baselineQueue = 1024

var upgrader = websocket.Upgrader{ReadBufferSize: 1024, WriteBufferSize: 1024, WriteBufferPool: &sync.Pool{}}

func startBaseline(cfg Config) (*baseline, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	b := &baseline{base: "http://" + ln.Addr().String(), rooms: map[string]*room{}, http: newHTTPClient(cfg.Senders)}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /ws", b.handleWS)
	mux.HandleFunc("POST /send", b.handleSend)
	b.srv = &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() {
		// Serve returns ErrServerClosed after Shutdown; nothing else can
		// go wrong on a listener we own that matters once the run is over.
		_ = b.srv.Serve(ln)
	}()
	return b, nil
}

func (b *baseline) room(c string) *room {
	b.mu.Lock()
	defer b.mu.Unlock()
	r, ok := b.rooms[c]
	if !ok {
		r = &room{}
		b.rooms[c] = r
	}
	return r
}

func (b *baseline) handleWS(w http.ResponseWriter, r *http.Request) {
	conn, err := upgrader.Upgrade(w, r, nil)
	if err != nil {
		return // Upgrade has answered the client
	}
	b.cmu.Lock()
	if b.closed {
		b.cmu.Unlock()
		conn.Close()
		return
	}
	b.servers = append(b.servers, conn)
	b.handlers.Add(1)
	b.cmu.Unlock()
	defer b.handlers.Done()

	q := make(chan []byte, baselineQueue)
	q <- []byte("ready") // through the writer: a socket has one writer
	rm := b.room(r.URL.Query().Get("c"))
	rm.mu.Lock()
	rm.socks = append(rm.socks, q)
	rm.mu.Unlock()
	written := make(chan struct{})
	go func() { // the writer; ends when q is closed or a write fails
		defer close(written)
		for m := range q {
			if conn.WriteMessage(websocket.TextMessage, m) != nil {
				conn.Close() // unblocks the reader below
				for range q {
				}
				return
			}
		}
	}()
	for range maxFrames { // the reader: only to notice the close
		if _, _, err := conn.NextReader(); err != nil {
			break
		}
	}
	rm.mu.Lock()
	for i, s := range rm.socks {
		if s == q {
			rm.socks = append(rm.socks[:i], rm.socks[i+1:]...)
			break
		}
	}
	rm.mu.Unlock()
	close(q)
	<-written
	conn.Close()
}

func (b *baseline) handleSend(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	rm := b.room(r.URL.Query().Get("c"))
	rm.mu.Lock()
	rm.seq++
	msg := make([]byte, 0, len(body)+21)
	msg = strconv.AppendInt(msg, rm.seq, 10)
	msg = append(msg, ' ')
	msg = append(msg, body...)
	for _, s := range rm.socks {
		select {
		case s <- msg:
		default: // a slow socket misses it; its client counts it lost
		}
	}
	rm.mu.Unlock()
	w.WriteHeader(http.StatusNoContent)
}

func (b *baseline) setup(_ context.Context, cfg Config) ([]string, error) {
	convs := make([]string, cfg.Conversations)
	for i := range convs {
		convs[i] = fmt.Sprint("c", i)
	}
	return convs, nil
}

func (b *baseline) subscribe(ctx context.Context, _ int, conv string, s *subscriber) error {
	d := websocket.Dialer{HandshakeTimeout: handshakeTimeout, ReadBufferSize: 1024, WriteBufferSize: 1024}
	conn, _, err := d.DialContext(ctx, strings.Replace(b.base, "http", "ws", 1)+"/ws?c="+conv, nil)
	if err != nil {
		return err
	}
	// "ready" says the socket is in its room, so no send can miss it.
	if err := conn.SetReadDeadline(time.Now().Add(handshakeTimeout)); err != nil {
		conn.Close()
		return err
	}
	if _, m, err := conn.ReadMessage(); err != nil || string(m) != "ready" {
		conn.Close()
		return fmt.Errorf("baseline: no ready frame: %v", err)
	}
	if err := conn.SetReadDeadline(time.Time{}); err != nil {
		conn.Close()
		return err
	}
	b.cmu.Lock()
	b.clients = append(b.clients, conn)
	b.cmu.Unlock()
	s.next = func(buf *bytes.Buffer) error { return readFrame(conn, buf) }
	s.parse = parseBaselineFrame
	return nil
}

// parseBaselineFrame reads "<seq> <content>".
func parseBaselineFrame(f []byte) (delivery, frameKind) {
	num, rest, ok := bytes.Cut(f, []byte(" "))
	if !ok {
		return delivery{}, frameIgnore
	}
	seq, ok := atoi(num)
	if !ok {
		return delivery{}, frameIgnore
	}
	at, _ := sentAt(rest)
	return delivery{seq: seq, sentAt: at, warmUp: isWarmUp(rest)}, frameDelivery
}

func (b *baseline) send(ctx context.Context, _ int, conv, content string) (string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, b.base+"/send?c="+conv, strings.NewReader(content))
	if err != nil {
		return "", err
	}
	resp, err := b.http.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	if _, err := io.Copy(io.Discard, resp.Body); err != nil {
		return "", err
	}
	if resp.StatusCode != http.StatusNoContent {
		return "", fmt.Errorf("baseline: status %d", resp.StatusCode)
	}
	return "", nil
}

// serverStats reports this process, which holds the broadcaster and the
// load tool's clients together: RSS from /proc (Linux; nil elsewhere) and
// all goroutines.
func (b *baseline) serverStats(context.Context) (rssMiB, goroutines *float64) {
	g := float64(runtime.NumGoroutine())
	if rss, err := selfRSS(); err == nil {
		return &rss, &g
	}
	return nil, &g
}

// selfRSS reads this process's resident set from /proc/self/statm, in MiB.
func selfRSS() (float64, error) {
	b, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		return 0, err
	}
	f := strings.Fields(string(b))
	if len(f) < 2 {
		return 0, errors.New("bench: unexpected /proc/self/statm")
	}
	pages, err := strconv.ParseFloat(f[1], 64)
	if err != nil {
		return 0, err
	}
	return pages * float64(os.Getpagesize()) / (1 << 20), nil
}

func (b *baseline) closeAll() {
	b.cmu.Lock()
	defer b.cmu.Unlock()
	for _, c := range b.clients {
		c.Close() // abandoning the socket; its error tells nothing
	}
	b.clients = nil
	b.http.CloseIdleConnections()
}

// close stops the broadcaster: no new connections, every socket closed,
// and every handler and writer goroutine finished (bounded by 5 s).
func (b *baseline) close() {
	b.closeAll()
	b.cmu.Lock()
	b.closed = true
	for _, c := range b.servers {
		c.Close()
	}
	b.servers = nil
	b.cmu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = b.srv.Shutdown(ctx) // the listener and idle HTTP connections; a timeout leaves only idle ones
	done := make(chan struct{})
	go func() { b.handlers.Wait(); close(done) }()
	select {
	case <-done:
	case <-ctx.Done():
	}
}
