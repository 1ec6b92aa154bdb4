package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"sync"
)

// maxReadStmts bounds the prepared read statements. The queries are
// constants but for IN lists, whose length varies; past the bound a query
// is prepared for that call only, as it would be without the cache.
const maxReadStmts = 64

// readPool is the read connections, with every query prepared once and
// reused. The driver otherwise parses and plans each query afresh, which
// costs about as much as running a point read (a third of GetConversation
// in the durable-send profile).
type readPool struct {
	*sql.DB

	prepare func(context.Context, string) (*sql.Stmt, error) // DB.PrepareContext; tests slow it down

	mu    sync.Mutex
	stmts map[string]*sql.Stmt // guarded by mu; nil after Close
}

func newReadPool(db *sql.DB) *readPool {
	return &readPool{DB: db, prepare: db.PrepareContext, stmts: make(map[string]*sql.Stmt)}
}

// stmt returns query prepared, or nil if the cache is full or preparing
// failed (the caller then runs the query directly, which reports the
// error). The lock is not held while preparing: a prepare waits for a
// connection and parses, and every read would wait with it. Two callers
// may then prepare the same query at once; the first to finish is kept
// and the other's statement closed.
func (p *readPool) stmt(ctx context.Context, query string) *sql.Stmt {
	p.mu.Lock()
	st, ok := p.stmts[query]
	full := len(p.stmts) >= maxReadStmts
	p.mu.Unlock()
	if ok {
		return st
	}
	if full {
		return nil
	}
	st, err := p.prepare(ctx, query)
	if err != nil {
		return nil
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if kept, ok := p.stmts[query]; ok {
		st.Close()
		return kept
	}
	if p.stmts == nil || len(p.stmts) >= maxReadStmts { // closed, or filled meanwhile
		st.Close()
		return nil
	}
	p.stmts[query] = st
	return st
}

func (p *readPool) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	if st := p.stmt(ctx, query); st != nil {
		return st.QueryContext(ctx, args...)
	}
	return p.DB.QueryContext(ctx, query, args...)
}

func (p *readPool) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	if st := p.stmt(ctx, query); st != nil {
		return st.QueryRowContext(ctx, args...)
	}
	return p.DB.QueryRowContext(ctx, query, args...)
}

// Close closes the statements, then the connections.
func (p *readPool) Close() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	var errs []error
	for _, st := range p.stmts {
		errs = append(errs, st.Close())
	}
	p.stmts = nil // a prepare finishing after Close closes its statement
	return errors.Join(append(errs, p.DB.Close())...)
}
