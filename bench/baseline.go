package bench

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gorilla/websocket"
)

// baseline is a minimal WebSocket broadcaster: no GraphQL, no auth, no
// store. POST /send?c=<conv> broadcasts the body, prefixed with a
// per-conversation seq, to the sockets of /ws?c=<conv>. Each socket has a
// bounded queue and a writer goroutine. It is the ceiling confab's figures
// are compared with.
type baseline struct {
	srv  *http.Server
	ln   net.Listener
	base string
	http *http.Client

	mu    sync.Mutex
	rooms map[string]*room // guarded by mu

	cmu     sync.Mutex
	clients []*websocket.Conn // guarded by cmu
}

type room struct {
	mu    sync.Mutex
	seq   int64
	socks []chan []byte // guarded by mu
}

var upgrader = websocket.Upgrader{WriteBufferPool: &sync.Pool{}}

func startBaseline() (*baseline, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	b := &baseline{ln: ln, base: "http://" + ln.Addr().String(), rooms: map[string]*room{}, http: newHTTPClient(64)}
	mux := http.NewServeMux()
	mux.HandleFunc("/ws", b.handleWS)
	mux.HandleFunc("/send", b.handleSend)
	b.srv = &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go b.srv.Serve(ln)
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
		return
	}
	q := make(chan []byte, 1024)
	q <- []byte("ready") // through the writer: one writer per socket
	rm := b.room(r.URL.Query().Get("c"))
	rm.mu.Lock()
	rm.socks = append(rm.socks, q)
	rm.mu.Unlock()
	go func() {
		for m := range q {
			if conn.WriteMessage(websocket.TextMessage, m) != nil {
				return
			}
		}
	}()
	for {
		if _, _, err := conn.ReadMessage(); err != nil {
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
	conn.Close()
}

func (b *baseline) handleSend(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		http.Error(w, err.Error(), 400)
		return
	}
	rm := b.room(r.URL.Query().Get("c"))
	rm.mu.Lock()
	rm.seq++
	msg := []byte(strconv.FormatInt(rm.seq, 10) + " " + string(body))
	for _, s := range rm.socks {
		select {
		case s <- msg:
		default: // a slow socket drops: counted as lost by the client
		}
	}
	rm.mu.Unlock()
	w.WriteHeader(http.StatusNoContent)
}

func (b *baseline) setup(ctx context.Context, cfg Config) ([]string, error) {
	convs := make([]string, cfg.Conversations)
	for i := range convs {
		convs[i] = fmt.Sprint("c", i)
	}
	return convs, nil
}

func (b *baseline) subscribe(ctx context.Context, i int, conv string, s *subscriber) error {
	d := websocket.Dialer{HandshakeTimeout: 10 * time.Second, ReadBufferSize: 1024, WriteBufferSize: 1024}
	conn, _, err := d.DialContext(ctx, strings.Replace(b.base, "http", "ws", 1)+"/ws?c="+conv, nil)
	if err != nil {
		return err
	}
	if _, m, err := conn.ReadMessage(); err != nil || string(m) != "ready" {
		conn.Close()
		return fmt.Errorf("baseline: no ready: %v", err)
	}
	b.cmu.Lock()
	b.clients = append(b.clients, conn)
	b.cmu.Unlock()
	s.next = func() ([]byte, error) { _, m, err := conn.ReadMessage(); return m, err }
	s.parse = func(m []byte) (string, int64, bool) {
		n, rest, ok := strings.Cut(string(m), " ")
		seq, err := strconv.ParseInt(n, 10, 64)
		return rest, seq, ok && err == nil
	}
	return nil
}

func (b *baseline) send(ctx context.Context, sender int, conv, content string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, b.base+"/send?c="+conv, strings.NewReader(content))
	if err != nil {
		return err
	}
	resp, err := b.http.Do(req)
	if err != nil {
		return err
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent {
		return fmt.Errorf("baseline: status %d", resp.StatusCode)
	}
	return nil
}

// serverStats reports this process (the baseline runs in-process with the
// clients, so RSS includes them).
func (b *baseline) serverStats() (float64, float64) {
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return float64(m.Sys) / (1 << 20), float64(runtime.NumGoroutine())
}

func (b *baseline) closeAll() {
	b.cmu.Lock()
	for _, c := range b.clients {
		c.Close()
	}
	b.clients = nil
	b.cmu.Unlock()
}

func (b *baseline) close() {
	b.closeAll()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	b.srv.Shutdown(ctx)
}
