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

// Store is a confab.Store on one SQLite database file. It is safe for
// concurrent use.
type Store struct {
	write *sql.DB       // one connection (SQLite has one writer anyway): every write
	read  *readPool     // a pool of readReaders connections: every read
	w     *writer       // group commit of AppendMessage; owns its goroutine
	ckpt  *checkpointer // WAL checkpoints off the commit path; owns its goroutine and connection

	searchIndexOnly bool // tests: SearchMessages always uses messages_fts
}

// busyTimeout is how long, in milliseconds, a connection waits for a lock
// held by another process (confab backup, a second confab on the same
// file) before the call fails with CodeUnavailable.
const busyTimeout = 10_000

// readReaders bounds the read pool: readers run concurrently under WAL, and
// more of them than cores only adds memory.
const readReaders = 8

var _ confab.Store = (*Store)(nil)

// Open opens the database file at path, creating it if needed, applies
// the migrations not yet applied (migrations/*.sql, embedded), and starts the
// group-commit writer goroutine. Close stops it; a Store that Open returned
// must be closed.
func Open(ctx context.Context, path string) (*Store, error) {
	// Every connection of both pools runs these pragmas when it opens.
	dsn := func(extra string) string {
		q := url.Values{}
		for _, p := range []string{"journal_mode(WAL)", "synchronous(FULL)", fmt.Sprintf("busy_timeout(%d)", busyTimeout), "foreign_keys(1)"} {
			q.Add("_pragma", p)
		}
		return "file:" + path + "?" + q.Encode() + extra
	}
	// The write connection checkpoints only as a backstop; the
	// checkpointer does it off the commit path (checkpoint.go). Its
	// statement journals stay in memory: the writer's savepoint per append
	// otherwise spills the batch's sub-journal to a temporary file past
	// 64 KiB, a write syscall per page (a fifth of the writer's CPU in the
	// durable-send profile).
	writeOnly := "&" + url.Values{"_pragma": {fmt.Sprintf("wal_autocheckpoint(%d)", walBackstopPages), "temp_store(MEMORY)"}}.Encode()
	write, err := sql.Open("sqlite", dsn("&_txlock=immediate"+writeOnly))
	if err != nil {
		return nil, fmt.Errorf("sqlite: open: %w", err)
	}
	write.SetMaxOpenConns(1)
	write.SetConnMaxIdleTime(0)
	// BEGIN IMMEDIATE (_txlock) takes the write lock at once, so a
	// transaction never fails halfway upgrading a read lock.
	if _, err := sqlmigrate.Apply(ctx, write, migrations, "migrations"); err != nil {
		write.Close()
		return nil, fmt.Errorf("sqlite: migrate: %w", err)
	}
	read, err := sql.Open("sqlite", dsn(""))
	if err != nil {
		write.Close()
		return nil, fmt.Errorf("sqlite: open: %w", err)
	}
	read.SetMaxOpenConns(readReaders)
	read.SetMaxIdleConns(readReaders)
	ckdb, err := sql.Open("sqlite", dsn(""))
	if err != nil {
		read.Close()
		write.Close()
		return nil, fmt.Errorf("sqlite: open: %w", err)
	}
	ckdb.SetMaxOpenConns(1)
	ckpt := newCheckpointer(ckdb)
	s := &Store{write: write, read: newReadPool(read), ckpt: ckpt}
	if s.w, err = startWriter(ctx, write, ckpt); err != nil {
		ckdb.Close()
		read.Close()
		write.Close()
		return nil, fmt.Errorf("sqlite: prepare: %w", err)
	}
	ckpt.start()
	return s, nil
}

// Close stops the writer, after answering every append already queued,
// and closes the database; calls in flight finish first. Appends after Close
// return CodeUnavailable; other calls return a wrapped error.
func (s *Store) Close() error {
	s.w.stop()
	return errors.Join(s.ckpt.stop(), s.read.Close(), s.write.Close())
}

// Ping reports whether the database answers and can write: it rewrites
// the header's user_version (unused by confab) with its own value, one
// small committed transaction, so a full or failing disk shows in
// readiness before a client's write fails on it.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.read.PingContext(ctx); err != nil {
		return &confab.Error{Code: confab.CodeUnavailable, Op: "sqlite: ping", Err: err}
	}
	var v int64
	if err := s.write.QueryRowContext(ctx, `PRAGMA user_version`).Scan(&v); err != nil {
		return mapUnavailable("ping", err)
	}
	if _, err := s.write.ExecContext(ctx, fmt.Sprintf(`PRAGMA user_version = %d`, v)); err != nil {
		return mapUnavailable("ping: write", err)
	}
	return nil
}

// mapUnavailable is mapErr for calls where every failure means the store
// is not ready.
func mapUnavailable(op string, err error) error {
	err = mapErr(op, err)
	if confab.ErrorCode(err) != confab.CodeUnavailable {
		err = &confab.Error{Code: confab.CodeUnavailable, Op: "sqlite: " + op, Err: err}
	}
	return err
}

// WriterStats reports group-commit activity; Appends/Batches is the
// average batch size.
type WriterStats struct {
	Batches uint64 // transactions committed by the writer
	Appends uint64 // append requests those transactions answered, failed ones included
}

// WriterStats returns the group-commit counters since Open. It is safe to
// call at any time, also after Close.
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

// mapErr classifies a driver error by its extended result code, never by
// its text: a uniqueness violation is CodeConflict, a missing referenced row
// CodeNotFound, a lock not obtained within busyTimeout CodeUnavailable. Any
// other error is wrapped as "sqlite: op: …".
func mapErr(op string, err error) error {
	if err == nil {
		return nil
	}
	code := errCode(err)
	switch code {
	case sqlite3lib.SQLITE_CONSTRAINT_UNIQUE, sqlite3lib.SQLITE_CONSTRAINT_PRIMARYKEY:
		return &confab.Error{Code: confab.CodeConflict, Op: "sqlite: " + op, Err: err}
	case sqlite3lib.SQLITE_CONSTRAINT_FOREIGNKEY:
		return &confab.Error{Code: confab.CodeNotFound, Op: "sqlite: " + op, Err: err}
	}
	switch code & 0xff { // the primary code: SQLITE_BUSY_SNAPSHOT and friends are busy too
	case sqlite3lib.SQLITE_BUSY, sqlite3lib.SQLITE_LOCKED:
		return &confab.Error{Code: confab.CodeUnavailable, Op: "sqlite: " + op, Err: err}
	case sqlite3lib.SQLITE_FULL, sqlite3lib.SQLITE_IOERR, sqlite3lib.SQLITE_READONLY, sqlite3lib.SQLITE_CANTOPEN:
		// The disk, not the request: retryable once an operator has
		// made room; Ping reports it to /readyz meanwhile.
		return &confab.Error{Code: confab.CodeUnavailable, Op: "sqlite: " + op, Err: err}
	}
	return fmt.Errorf("sqlite: %s: %w", op, err)
}

// notFound is the CodeNotFound error of op for a missing what ("message").
func notFound(op, what string) error {
	return &confab.Error{Code: confab.CodeNotFound, Op: "sqlite: " + op, Err: errors.New(what + " not found")}
}

// ms converts a time to stored Unix milliseconds.
func ms(t time.Time) int64 { return t.UnixMilli() }

// msCeil converts a bound to Unix milliseconds, rounding up, so that
// created_at < msCeil(t) holds exactly for the stored times before t.
func msCeil(t time.Time) int64 {
	v := t.UnixMilli()
	if time.UnixMilli(v).Before(t) {
		v++
	}
	return v
}

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
