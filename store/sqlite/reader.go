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

	mu    sync.Mutex
	stmts map[string]*sql.Stmt // guarded by mu
}

func newReadPool(db *sql.DB) *readPool {
	return &readPool{DB: db, stmts: make(map[string]*sql.Stmt)}
}

// stmt returns query prepared, or nil if the cache is full or preparing
// failed (the caller then runs the query directly, which reports the
// error).
func (p *readPool) stmt(ctx context.Context, query string) *sql.Stmt {
	p.mu.Lock()
	defer p.mu.Unlock()
	if st, ok := p.stmts[query]; ok {
		return st
	}
	if len(p.stmts) >= maxReadStmts {
		return nil
	}
	st, err := p.DB.PrepareContext(ctx, query)
	if err != nil {
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
	for q, st := range p.stmts {
		errs = append(errs, st.Close())
		delete(p.stmts, q)
	}
	return errors.Join(append(errs, p.DB.Close())...)
}
