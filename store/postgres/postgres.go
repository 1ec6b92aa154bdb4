// Package postgres is a confab.Store on PostgreSQL through pgx and its
// connection pool, for deployments with more than one node. It passes
// store/storetest.
//
// Several nodes may share one database. AppendMessage serialises the
// senders of a conversation on that conversation's row lock (UPDATE …
// RETURNING last_seq), so seq stays gapless across any number of nodes;
// every other writer of the conversation's change log (edits, deletions,
// reactions, renames, membership changes) takes the same lock first, so
// ChangeSeq is gapless too, and a conversation's member limit and a
// member's slow mode hold across nodes; migrations take an advisory lock, so nodes starting together do not
// race.
//
// A node that freezes inside a transaction (SIGSTOP, a VM pause, a stalled
// network) must not freeze the cluster with the row locks it holds: every
// session runs with lock_timeout and idle_in_transaction_session_timeout
// (sessionDefaults), a wait past them fails CodeUnavailable, and clients
// retry their send with its clientToken, which is idempotent. No
// transaction of the store waits on anything but the database.
//
// Durability is PostgreSQL's: a call returns after COMMIT, which with the
// default synchronous_commit=on is flushed to the WAL.
//
// Full-text search uses PostgreSQL's tsvector, tsquery and a GIN index. The
// words are cut by confab.Words and folded in Go (search.go), the same way
// on both sides, so search needs no extension and no language
// configuration.
//
// Errors are classified by SQLSTATE, never by message text (errors.go), and
// carry a code and no user-facing message. The store holds no business
// rules, enforces no limit of its own (the services validate input) and
// never publishes events.
package postgres

import (
	"context"
	"embed"
	"fmt"
	"time"

	"github.com/confab-chat/confab"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

//go:embed migrations/*.sql
var migrations embed.FS

// Store is a confab.Store on one PostgreSQL database (or one schema of it,
// chosen with search_path).
type Store struct {
	pool *pgxpool.Pool
}

var _ confab.Store = (*Store)(nil)

// sessionDefaults are the run-time parameters every connection of the
// store sets unless the URL sets them (e.g. "&lock_timeout=5s"):
//
//   - lock_timeout: a statement waits at most this long for a lock, such
//     as a conversation's row lock held by a sender on a frozen node, and
//     then fails CodeUnavailable. Appends hold that lock for a few round
//     trips, so a healthy queue of senders stays far below it.
//   - idle_in_transaction_session_timeout: the server ends a session that
//     waits this long for the next statement of an open transaction (a
//     node frozen between UPDATE and COMMIT), rolling it back and freeing
//     its locks. The store's transactions never wait between statements
//     on anything but the database.
//
// So a frozen node stalls a conversation's other senders for at most
// about 3 s, and each of their attempts for at most 2 s.
var sessionDefaults = map[string]string{
	"lock_timeout":                        "2s",
	"idle_in_transaction_session_timeout": "3s",
}

// Open connects to the database at url, a PostgreSQL URL or keyword/value
// string as pgx accepts it, e.g.
// "postgres://confab@db:5432/confab?sslmode=verify-full&pool_max_conns=20".
// Parameters pgx does not know, such as search_path, are sent to the server
// as run-time parameters; sessionDefaults fill in the ones it leaves out.
// Open applies pending migrations before it returns. A database that
// cannot be reached is CodeUnavailable.
func Open(ctx context.Context, url string) (*Store, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("postgres: parse url: %w", err)
	}
	return open(ctx, cfg)
}

func open(ctx context.Context, cfg *pgxpool.Config) (*Store, error) {
	params := cfg.ConnConfig.RuntimeParams
	for name, value := range sessionDefaults {
		if _, set := params[name]; !set {
			params[name] = value
		}
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, mapErr("open", err)
	}
	if err := migrate(ctx, pool); err != nil {
		pool.Close()
		return nil, err
	}
	return &Store{pool: pool}, nil
}

// Close waits for calls in flight to release their connections, then
// closes the pool. Later calls return CodeUnavailable.
func (s *Store) Close() error {
	s.pool.Close()
	return nil
}

// Ping reports whether the database answers.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.pool.Ping(ctx); err != nil {
		return unavailable("ping", err)
	}
	return nil
}

// querier is what a pool and a transaction have in common.
type querier interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// inTx runs fn in a transaction, committed when fn returns nil and rolled
// back otherwise.
func (s *Store) inTx(ctx context.Context, op string, fn func(tx pgx.Tx) error) error {
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return mapErr(op, err)
	}
	defer tx.Rollback(ctx) // no-op after Commit; its error adds nothing to fn's
	if err := fn(tx); err != nil {
		return err
	}
	return mapErr(op, tx.Commit(ctx))
}

// dbTime is t as stored: millisecond precision (the contract's) in UTC.
func dbTime(t time.Time) time.Time { return t.Truncate(time.Millisecond).UTC() }

// dbTimePtr is dbTime for an optional time; nil stays NULL.
func dbTimePtr(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	v := dbTime(*t)
	return &v
}

// utcPtr converts a time read from the database (pgx returns local time)
// to UTC.
func utcPtr(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	v := t.UTC()
	return &v
}
