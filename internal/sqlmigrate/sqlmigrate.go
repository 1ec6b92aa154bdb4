// Package sqlmigrate applies versioned SQL migrations: the *.sql files of a
// directory of an fs.FS (usually embedded), in lexical order of their names,
// each in its own transaction, recorded in a schema_migrations table so that
// each runs exactly once. Re-applying the same files is a no-op, so a store
// calls Apply every time it opens.
//
// A file's name (for example "0003_fts.sql") is its version: renaming or
// editing an applied file is never noticed, so a change to the schema is
// always a new file. A file that fails rolls back and is not recorded, and
// Apply stops there: later files do not run.
//
// It uses database/sql only and never imports a driver. The statements it
// issues itself are plain SQL that SQLite and PostgreSQL both accept.
package sqlmigrate

import (
	"context"
	"database/sql"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strings"
)

// Apply runs every migration in dir of fsys that db has not recorded yet,
// in lexical order, and returns the versions it ran. The check and the
// migration share one transaction; with a driver whose transactions take the
// write lock at BEGIN (SQLite with _txlock=immediate), two processes opening
// one database at once therefore never apply a file twice.
func Apply(ctx context.Context, db *sql.DB, fsys fs.FS, dir string) ([]string, error) {
	if _, err := db.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (version TEXT PRIMARY KEY, applied_at TEXT NOT NULL)`); err != nil {
		return nil, fmt.Errorf("sqlmigrate: create table: %w", err)
	}
	names, err := versions(fsys, dir)
	if err != nil {
		return nil, err
	}
	var applied []string
	for _, name := range names {
		ran, err := applyOne(ctx, db, fsys, path.Join(dir, name), name)
		if err != nil {
			return applied, err
		}
		if ran {
			applied = append(applied, name)
		}
	}
	return applied, nil
}

// versions returns the names of the *.sql files in dir of fsys, in the
// order Apply runs them.
func versions(fsys fs.FS, dir string) ([]string, error) {
	entries, err := fs.ReadDir(fsys, dir)
	if err != nil {
		return nil, fmt.Errorf("sqlmigrate: read %s: %w", dir, err)
	}
	var names []string
	for _, e := range entries {
		if !e.IsDir() && strings.HasSuffix(e.Name(), ".sql") {
			names = append(names, e.Name())
		}
	}
	sort.Strings(names)
	return names, nil
}

// applyOne runs one file unless it is recorded, and reports whether it ran.
func applyOne(ctx context.Context, db *sql.DB, fsys fs.FS, file, version string) (bool, error) {
	body, err := fs.ReadFile(fsys, file)
	if err != nil {
		return false, fmt.Errorf("sqlmigrate: read %s: %w", file, err)
	}
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return false, fmt.Errorf("sqlmigrate: begin %s: %w", version, err)
	}
	defer tx.Rollback() // a no-op after Commit; on failure the error that matters is returned below
	var n int
	if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM schema_migrations WHERE version = $1`, version).Scan(&n); err != nil {
		return false, fmt.Errorf("sqlmigrate: check %s: %w", version, err)
	}
	if n > 0 {
		return false, nil
	}
	if _, err := tx.ExecContext(ctx, string(body)); err != nil {
		return false, fmt.Errorf("sqlmigrate: apply %s: %w", version, err)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO schema_migrations (version, applied_at) VALUES ($1, CURRENT_TIMESTAMP)`, version); err != nil {
		return false, fmt.Errorf("sqlmigrate: record %s: %w", version, err)
	}
	if err := tx.Commit(); err != nil {
		return false, fmt.Errorf("sqlmigrate: commit %s: %w", version, err)
	}
	return true, nil
}
