package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"sync"
	"sync/atomic"

	"github.com/confab-chat/confab"
)

// maxBatch bounds the appends of one group-commit transaction, and the
// queue of appends waiting for the writer (a caller beyond it waits to
// enqueue, or leaves when its context ends).
const maxBatch = 256

// writer is the group-commit loop. Its goroutine, started by Open and
// stopped by Close, is the only user of stmts. It takes every append that is
// waiting (up to maxBatch) and runs them in one transaction, each inside a
// savepoint of its own so that one failing append (an unknown conversation, a
// duplicate message id) is rolled back alone. It then indexes the batch's
// messages for search, commits once (one fsync for the batch: the database
// is in WAL mode with synchronous=FULL) and only then answers each caller.
type writer struct {
	db    *sql.DB       // the single write connection, shared with other writes
	stmts *appendStmts  // prepared on db; used only by loop
	ckpt  *checkpointer // told of every commit

	// mu guards closed; append holds it for reading while it enqueues, so
	// that stop, holding it for writing, closes reqs only when no send is in
	// progress.
	mu     sync.RWMutex
	closed bool
	reqs   chan *appendReq // buffered (maxBatch); loop is the only receiver
	done   chan struct{}   // closed when loop has returned

	batches atomic.Uint64
	appends atomic.Uint64
}

// The states of an appendReq. The writer takes a request, or its caller
// abandons it, by a compare-and-swap from reqWaiting, so exactly one of them
// decides its fate.
const (
	reqWaiting int32 = iota
	reqTaken
	reqAbandoned
)

type appendReq struct {
	m     *confab.Message
	state atomic.Int32
	done  chan struct{} // closed by the writer once created and err are set

	created bool
	err     error
}

// errClosed answers appends after Close.
var errClosed = &confab.Error{Code: confab.CodeUnavailable, Err: errors.New("sqlite: store closed")}

func startWriter(ctx context.Context, db *sql.DB, ckpt *checkpointer) (*writer, error) {
	stmts, err := prepareAppend(ctx, db)
	if err != nil {
		return nil, err
	}
	w := &writer{db: db, stmts: stmts, ckpt: ckpt, reqs: make(chan *appendReq, maxBatch), done: make(chan struct{})}
	go w.loop()
	return w, nil
}

// append queues m and waits for its answer, which comes only after the
// transaction holding it committed. A caller whose ctx ends before the
// writer took its request gets ctx.Err() and nothing is written; once taken,
// the request is always carried out and answered.
func (w *writer) append(ctx context.Context, m *confab.Message) (bool, error) {
	if err := ctx.Err(); err != nil {
		return false, err
	}
	r := &appendReq{m: m, done: make(chan struct{})}
	w.mu.RLock()
	if w.closed {
		w.mu.RUnlock()
		return false, errClosed
	}
	select {
	case w.reqs <- r:
		w.mu.RUnlock()
	case <-ctx.Done():
		w.mu.RUnlock()
		return false, ctx.Err()
	}
	select {
	case <-r.done:
	case <-ctx.Done():
		if r.state.CompareAndSwap(reqWaiting, reqAbandoned) {
			return false, ctx.Err()
		}
		<-r.done
	}
	return r.created, r.err
}

// loop runs until stop closes reqs and every queued request is answered.
func (w *writer) loop() {
	defer close(w.done)
	batch := make([]*appendReq, 0, maxBatch)
	for r := range w.reqs {
		batch = take(batch[:0], r)
	fill:
		for len(batch) < maxBatch {
			select {
			case r, ok := <-w.reqs:
				if !ok {
					break fill
				}
				batch = take(batch, r)
			default:
				break fill
			}
		}
		if len(batch) > 0 {
			w.commit(batch)
		}
		clear(batch)
	}
}

// take appends r to batch unless its caller has left.
func take(batch []*appendReq, r *appendReq) []*appendReq {
	if r.state.CompareAndSwap(reqWaiting, reqTaken) {
		return append(batch, r)
	}
	return batch
}

// commit runs batch and answers every request. If indexing for search
// failed, which no single request can be blamed for from inside the batch,
// it replays each request in a transaction of its own, so that one bad
// message never fails its batch-mates.
func (w *writer) commit(batch []*appendReq) {
	defer func() {
		for _, r := range batch {
			close(r.done)
		}
	}()
	if !w.run(batch) || len(batch) == 1 {
		return
	}
	for _, r := range batch {
		w.run([]*appendReq{r})
	}
}

// run executes reqs in one transaction and sets every answer. It reports
// whether indexing for search failed (the batch was rolled back and may be
// replayed). Messages of failed requests are left as the callers passed them.
func (w *writer) run(reqs []*appendReq) (indexFailed bool) {
	ctx := context.Background() // a caller leaving must not abort its batch-mates
	saved := make([]confab.Message, len(reqs))
	for i, r := range reqs {
		saved[i] = *r.m
	}
	failAll := func(err error) {
		for i, r := range reqs {
			*r.m = saved[i]
			r.created, r.err = false, err
		}
	}
	tx, err := w.db.BeginTx(ctx, nil)
	if err != nil {
		failAll(mapErr("append message", err))
		return false
	}
	defer tx.Rollback() // a no-op after Commit; any failure is answered below
	st := w.stmts.in(ctx, tx)
	rowids := make([]int64, len(reqs))
	for i, r := range reqs {
		if err := st.savepoint(ctx); err != nil {
			failAll(mapErr("append message", err))
			return false
		}
		r.created, rowids[i], r.err = st.append(ctx, r.m)
		if r.err != nil {
			*r.m = saved[i]
			if err := st.rollbackSavepoint(ctx); err != nil {
				failAll(mapErr("append message", err))
				return false
			}
		}
		if err := st.releaseSavepoint(ctx); err != nil {
			failAll(mapErr("append message", err))
			return false
		}
	}
	for i, r := range reqs {
		if !r.created {
			continue
		}
		if _, err := st.index.ExecContext(ctx, rowids[i], r.m.Content); err != nil {
			failAll(mapErr("append message: index", err))
			return true
		}
	}
	if err := tx.Commit(); err != nil {
		failAll(mapErr("append message", err))
		return false
	}
	w.batches.Add(1)
	w.appends.Add(uint64(len(reqs)))
	w.ckpt.committed()
	return false
}

// stop answers every queued append, stops the loop and waits for it.
// Appends that arrive afterwards get errClosed. It is idempotent.
func (w *writer) stop() {
	w.mu.Lock()
	if !w.closed {
		w.closed = true
		close(w.reqs)
	}
	w.mu.Unlock()
	<-w.done
	w.stmts.close()
}
