package bench

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	_ "modernc.org/sqlite" // the driver confab's SQLite store uses
)

// durable is the ceiling of durable sends on this machine: the smallest
// honest program that takes a message over HTTP/1.1 keep-alive, appends it
// to SQLite (WAL, synchronous=FULL, the driver confab uses) with group
// commit, and answers only after the commit. No GraphQL, no auth, no search
// index, no events. POST /send?c=<conversation> appends the body as the
// conversation's next seq and answers 204. Driven with the durable-send
// shape (no subscribers), it gives the figure confab's durable sends are a
// fraction of.
//
// Goroutines: the HTTP server's and one writer; close stops both and
// removes the database.
type durable struct {
	srv  *http.Server
	base string
	http *http.Client
	dir  string
	db   *sql.DB
	reqs chan *durableReq // the writer is the only receiver; closed by close
	done chan struct{}    // closed when the writer has returned
}

type durableReq struct {
	conv string
	body []byte
	err  chan error // buffered (1): the writer's answer
}

// durableBatch bounds one group-commit transaction and the queue in front
// of the writer, as confab's own writer does (store/sqlite maxBatch).
const durableBatch = 256

// maxDurableBody bounds a request body; larger bodies are refused.
const maxDurableBody = 64 << 10

func startDurable(cfg Config) (*durable, error) {
	if cfg.Subscribers > 0 {
		return nil, errors.New("--durable-baseline has no subscriptions: use --subscribers 0")
	}
	dir, err := os.MkdirTemp("", "confab-durable-")
	if err != nil {
		return nil, err
	}
	d := &durable{dir: dir, http: newHTTPClient(cfg.Senders), reqs: make(chan *durableReq, durableBatch), done: make(chan struct{})}
	if d.db, err = openDurableDB(filepath.Join(dir, "d.db")); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	ins, err := d.db.Prepare(`INSERT INTO messages(conversation, seq, body, created_at) VALUES (?, ?, ?, ?)`)
	if err != nil {
		d.db.Close()
		os.RemoveAll(dir)
		return nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		ins.Close()
		d.db.Close()
		os.RemoveAll(dir)
		return nil, err
	}
	d.base = "http://" + ln.Addr().String()
	go d.write(ins)
	mux := http.NewServeMux()
	mux.HandleFunc("POST /send", d.handleSend)
	d.srv = &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = d.srv.Serve(ln) }() // ErrServerClosed after Shutdown
	return d, nil
}

// openDurableDB opens the database as confab's store opens its write
// connection: WAL, synchronous=FULL, BEGIN IMMEDIATE, one connection.
func openDurableDB(path string) (*sql.DB, error) {
	q := url.Values{}
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", "synchronous(FULL)")
	db, err := sql.Open("sqlite", "file:"+path+"?"+q.Encode()+"&_txlock=immediate")
	if err != nil {
		return nil, err
	}
	db.SetMaxOpenConns(1)
	db.SetConnMaxIdleTime(0)
	if _, err := db.Exec(`CREATE TABLE messages (
		conversation TEXT NOT NULL, seq INTEGER NOT NULL, body BLOB NOT NULL, created_at INTEGER NOT NULL,
		PRIMARY KEY (conversation, seq))`); err != nil {
		db.Close()
		return nil, err
	}
	return db, nil
}

func (d *durable) handleSend(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, maxDurableBody+1))
	if err != nil || len(body) > maxDurableBody {
		http.Error(w, "bad body", http.StatusBadRequest)
		return
	}
	req := &durableReq{conv: r.URL.Query().Get("c"), body: body, err: make(chan error, 1)}
	select {
	case d.reqs <- req:
	case <-r.Context().Done():
		return
	}
	if err := <-req.err; err != nil {
		http.Error(w, err.Error(), http.StatusServiceUnavailable)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// write is the group-commit loop: it takes every request waiting (up to
// durableBatch), appends them in one transaction, commits (one fsync of
// the WAL) and only then answers them.
func (d *durable) write(ins *sql.Stmt) {
	defer close(d.done)
	defer ins.Close()
	seqs := map[string]int64{}
	batch := make([]*durableReq, 0, durableBatch)
	for r := range d.reqs {
		batch = append(batch[:0], r)
	fill:
		for len(batch) < durableBatch {
			select {
			case r, ok := <-d.reqs:
				if !ok {
					break fill
				}
				batch = append(batch, r)
			default:
				break fill
			}
		}
		err := d.commit(ins, seqs, batch)
		for _, r := range batch {
			r.err <- err
		}
		clear(batch)
	}
}

func (d *durable) commit(ins *sql.Stmt, seqs map[string]int64, batch []*durableReq) error {
	tx, err := d.db.Begin()
	if err != nil {
		return err
	}
	defer tx.Rollback() // a no-op after Commit
	st := tx.Stmt(ins)
	now := time.Now().UnixMilli()
	next := make(map[string]int64, len(batch))
	for _, r := range batch {
		seq, ok := next[r.conv]
		if !ok {
			seq = seqs[r.conv]
		}
		seq++
		next[r.conv] = seq
		if _, err := st.Exec(r.conv, seq, r.body, now); err != nil {
			return err
		}
	}
	if err := tx.Commit(); err != nil {
		return err
	}
	for c, s := range next {
		seqs[c] = s
	}
	return nil
}

func (d *durable) setup(_ context.Context, cfg Config) ([]string, error) {
	convs := make([]string, cfg.Conversations)
	for i := range convs {
		convs[i] = fmt.Sprint("c", i)
	}
	return convs, nil
}

func (d *durable) subscribe(context.Context, int, string, *subscriber) error {
	return errors.New("durable baseline: no subscriptions")
}

func (d *durable) change(context.Context, int, change, string) error {
	return errors.New("durable baseline: no edits or reactions")
}

func (d *durable) upload(context.Context, int, string, []byte) error {
	return errors.New("durable baseline: no uploads")
}

func (d *durable) send(ctx context.Context, _ int, conv, content string) (string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, d.base+"/send?c="+url.QueryEscape(conv), strings.NewReader(content))
	if err != nil {
		return "", err
	}
	resp, err := d.http.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	if _, err := io.Copy(io.Discard, resp.Body); err != nil {
		return "", err
	}
	if resp.StatusCode != http.StatusNoContent {
		return "", fmt.Errorf("durable baseline: status %d", resp.StatusCode)
	}
	return "", nil
}

// serverStats reports this process (the ceiling and the load tool).
func (d *durable) serverStats(context.Context) (rssMiB, goroutines *float64) {
	g := float64(runtime.NumGoroutine())
	if rss, err := selfRSS(); err == nil {
		return &rss, &g
	}
	return nil, &g
}

func (d *durable) closeAll() { d.http.CloseIdleConnections() }

// close stops the server, then the writer (every queued request is
// answered first), and removes the database.
func (d *durable) close() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = d.srv.Shutdown(ctx) // waits for handlers in flight, which the writer answers
	close(d.reqs)
	<-d.done
	d.db.Close()
	os.RemoveAll(d.dir)
}
