// Package sqlite is the embedded confab.Store on SQLite, the default engine.
// It passes store/storetest.
//
// Driver: modernc.org/sqlite, a pure-Go SQLite with FTS5 compiled in, so a
// plain `go build` (no cgo, no build tags) gives full-text search, and the
// binary cross-compiles. Commit throughput is bound by fsync, not by the
// driver: group commit (writer.go) batches concurrent appends into one
// transaction, which is what makes durable sends fast.
//
// Durability: WAL with synchronous=FULL, so a call that returned success
// survives kill -9 and power loss. All writes go through one connection (SQLite
// has one writer anyway); reads use a separate pool and run concurrently.
//
// The store holds no business rules and never publishes events.
package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"net/url"
	"time"

	"github.com/confab-chat/confab"
	"github.com/confab-chat/confab/internal/sqlmigrate"
	sqlite3 "modernc.org/sqlite"
	sqlite3lib "modernc.org/sqlite/lib"
)

//go:embed migrations/*.sql
var migrations embed.FS

// Store is a confab.Store on one SQLite database file.
type Store struct {
	write *sql.DB // one connection: every write
	read  *sql.DB // a pool: every read
	w     *writer // group commit of AppendMessage
}

var _ confab.Store = (*Store)(nil)

// Open opens (creating if needed) the database at path, applies
// migrations, and starts the group-commit writer goroutine, which Close
// stops.
func Open(ctx context.Context, path string) (*Store, error) {
	dsn := func(extra string) string {
		q := url.Values{}
		for _, p := range []string{"journal_mode(WAL)", "synchronous(FULL)", "busy_timeout(10000)", "foreign_keys(1)"} {
			q.Add("_pragma", p)
		}
		return "file:" + path + "?" + q.Encode() + extra
	}
	write, err := sql.Open("sqlite", dsn("&_txlock=immediate"))
	if err != nil {
		return nil, fmt.Errorf("sqlite: open: %w", err)
	}
	write.SetMaxOpenConns(1)
	write.SetConnMaxIdleTime(0)
	if err := sqlmigrate.Apply(ctx, write, migrations, "migrations"); err != nil {
		write.Close()
		return nil, fmt.Errorf("sqlite: migrate: %w", err)
	}
	read, err := sql.Open("sqlite", dsn(""))
	if err != nil {
		write.Close()
		return nil, fmt.Errorf("sqlite: open: %w", err)
	}
	read.SetMaxOpenConns(8)
	read.SetMaxIdleConns(8)
	s := &Store{write: write, read: read}
	if s.w, err = startWriter(ctx, s); err != nil {
		read.Close()
		write.Close()
		return nil, fmt.Errorf("sqlite: prepare: %w", err)
	}
	return s, nil
}

// Close stops the writer (appends in flight finish first) and closes the
// database.
func (s *Store) Close() error {
	s.w.stop()
	return errors.Join(s.read.Close(), s.write.Close())
}

// Ping reports whether the database answers.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.read.PingContext(ctx); err != nil {
		return &confab.Error{Code: confab.CodeUnavailable, Message: "The store is unavailable.", Err: err}
	}
	return nil
}

// WriterStats reports group-commit activity.
type WriterStats struct {
	Batches uint64 // transactions committed by the writer
	Appends uint64 // appends they carried
}

// WriterStats returns the group-commit counters since Open.
func (s *Store) WriterStats() WriterStats {
	return WriterStats{Batches: s.w.batches.Load(), Appends: s.w.appends.Load()}
}

// errCode returns the SQLite extended result code of err, or 0.
func errCode(err error) int {
	var e *sqlite3.Error
	if errors.As(err, &e) {
		return e.Code()
	}
	return 0
}

// mapErr classifies a driver error by its result code (never its text).
func mapErr(op string, err error) error {
	if err == nil {
		return nil
	}
	switch errCode(err) {
	case sqlite3lib.SQLITE_CONSTRAINT_UNIQUE, sqlite3lib.SQLITE_CONSTRAINT_PRIMARYKEY:
		return &confab.Error{Code: confab.CodeConflict, Message: "Already exists.", Op: op, Err: err}
	case sqlite3lib.SQLITE_CONSTRAINT_FOREIGNKEY:
		return &confab.Error{Code: confab.CodeNotFound, Message: "Not found.", Op: op, Err: err}
	case sqlite3lib.SQLITE_BUSY, sqlite3lib.SQLITE_LOCKED:
		return &confab.Error{Code: confab.CodeUnavailable, Message: "The store is busy; retry.", Op: op, Err: err}
	}
	return fmt.Errorf("sqlite: %s: %w", op, err)
}

func notFound(what string) error {
	return confab.Errorf(confab.CodeNotFound, "%s not found.", what)
}

// ms converts a time to stored Unix milliseconds.
func ms(t time.Time) int64 { return t.UnixMilli() }

// msPtr converts an optional time; nil stays NULL.
func msPtr(t *time.Time) sql.NullInt64 {
	if t == nil {
		return sql.NullInt64{}
	}
	return sql.NullInt64{Int64: t.UnixMilli(), Valid: true}
}

func fromMS(v int64) time.Time { return time.UnixMilli(v).UTC() }

func fromNullMS(v sql.NullInt64) *time.Time {
	if !v.Valid {
		return nil
	}
	t := fromMS(v.Int64)
	return &t
}

func fromNullString(v sql.NullString) *string {
	if !v.Valid {
		return nil
	}
	s := v.String
	return &s
}

func nullString(p *string) sql.NullString {
	if p == nil {
		return sql.NullString{}
	}
	return sql.NullString{String: *p, Valid: true}
}

// Backup writes a consistent copy of the database to path (which must not
// exist) while the store stays online: VACUUM INTO reads one snapshot, so
// concurrent writes are either wholly in the copy or not at all.
func (s *Store) Backup(ctx context.Context, path string) error {
	if _, err := s.read.ExecContext(ctx, `VACUUM INTO ?`, path); err != nil {
		return fmt.Errorf("sqlite: backup: %w", err)
	}
	return nil
}
