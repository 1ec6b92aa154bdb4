package sqlite

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"

	"github.com/confab-chat/confab"
)

// maxBatch bounds the appends of one group-commit transaction.
const maxBatch = 256

// writer is the group-commit loop: one goroutine takes every waiting
// append, runs them in one transaction (a savepoint each, so one failure
// does not fail its batch-mates), commits once — one fsync for the batch —
// and only then answers each caller.
type writer struct {
	s       *Store
	stmts   *appendStmts // prepared on the write connection, used only by loop
	reqs    chan *appendReq
	quit    chan struct{}
	done    chan struct{}
	once    sync.Once
	batches atomic.Uint64
	appends atomic.Uint64
}

type appendReq struct {
	ctx     context.Context
	m       *confab.Message
	created bool
	err     error
	done    chan struct{}
}

// errClosed answers appends after Close.
var errClosed = &confab.Error{Code: confab.CodeUnavailable, Message: "The store is closed.", Err: errors.New("sqlite: store closed")}

func startWriter(ctx context.Context, s *Store) (*writer, error) {
	stmts, err := prepareAppend(ctx, s.write)
	if err != nil {
		return nil, err
	}
	w := &writer{s: s, stmts: stmts, reqs: make(chan *appendReq), quit: make(chan struct{}), done: make(chan struct{})}
	go w.loop()
	return w, nil
}

func (w *writer) append(ctx context.Context, m *confab.Message) (bool, error) {
	r := &appendReq{ctx: ctx, m: m, done: make(chan struct{})}
	select {
	case w.reqs <- r:
	case <-ctx.Done():
		return false, ctx.Err()
	case <-w.quit:
		return false, errClosed
	}
	<-r.done // once taken, the request is always answered, after commit
	return r.created, r.err
}

func (w *writer) loop() {
	defer close(w.done)
	batch := make([]*appendReq, 0, maxBatch)
	for {
		select {
		case <-w.quit:
			return
		case r := <-w.reqs:
			batch = append(batch[:0], r)
		}
	fill:
		for len(batch) < maxBatch {
			select {
			case r := <-w.reqs:
				batch = append(batch, r)
			default:
				break fill
			}
		}
		w.commit(batch)
		clear(batch)
	}
}

// commit runs batch in one transaction and answers every request after
// the commit. There is no savepoint per request: releasing a savepoint makes
// FTS5 flush its pending index to disk, which cost one flush per message.
// The one expected per-request failure, an unknown conversation, writes
// nothing (the UPDATE matches no row). Any other failure rolls the batch
// back and replays each request in a transaction of its own, so a bad
// request never fails its batch-mates.
func (w *writer) commit(batch []*appendReq) {
	defer func() {
		for _, r := range batch {
			close(r.done)
		}
	}()
	if w.run(batch) {
		w.batches.Add(1)
		w.appends.Add(uint64(len(batch)))
		return
	}
	for _, r := range batch {
		if w.run([]*appendReq{r}) {
			w.batches.Add(1)
			w.appends.Add(1)
		}
	}
}

// run executes reqs in one transaction. It reports false, having rolled
// back and set no result, when a request failed unexpectedly and the batch
// must be replayed one by one; a failure of a single request, or of the
// commit itself, is its answer.
func (w *writer) run(reqs []*appendReq) bool {
	ctx := context.Background() // a caller leaving must not abort its batch-mates
	tx, err := w.s.write.BeginTx(ctx, nil)
	if err != nil {
		failAll(reqs, mapErr("append message", err))
		return true
	}
	st := w.stmts.in(ctx, tx)
	for _, r := range reqs {
		if err := r.ctx.Err(); err != nil {
			r.err = err
			continue
		}
		r.created, r.err = st.append(ctx, r.m)
		if r.err != nil && confab.ErrorCode(r.err) != confab.CodeNotFound && len(reqs) > 1 {
			tx.Rollback()
			failAll(reqs, nil)
			return false
		}
	}
	if err := tx.Commit(); err != nil {
		failAll(reqs, mapErr("append message", err))
	}
	return true
}

func failAll(batch []*appendReq, err error) {
	for _, r := range batch {
		r.created, r.err = false, err
		if err == nil {
			r.m.Seq = 0 // assigned by a rolled-back attempt
		}
	}
}

// stop ends the loop after the batch in progress.
func (w *writer) stop() {
	w.once.Do(func() { close(w.quit) })
	<-w.done
	w.stmts.close()
}
