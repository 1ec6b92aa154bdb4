package postgres

import (
	"context"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strings"

	"github.com/jackc/pgx/v5/pgxpool"
)

// migrate applies the embedded migrations/*.sql in lexical order, each in
// its own transaction, recorded in schema_migrations so each runs once.
//
// It does not use internal/sqlmigrate: that works on database/sql and
// takes no lock. Here each transaction first takes an advisory lock keyed
// by the current schema, so nodes starting at once apply each migration
// exactly once, and the others wait and then see it recorded.
func migrate(ctx context.Context, pool *pgxpool.Pool) error {
	entries, err := fs.ReadDir(migrations, "migrations")
	if err != nil {
		return fmt.Errorf("postgres: migrate: %w", err)
	}
	var names []string
	for _, e := range entries {
		if !e.IsDir() && strings.HasSuffix(e.Name(), ".sql") {
			names = append(names, e.Name())
		}
	}
	sort.Strings(names)
	for _, name := range names {
		body, err := fs.ReadFile(migrations, path.Join("migrations", name))
		if err != nil {
			return fmt.Errorf("postgres: migrate: %w", err)
		}
		if err := applyMigration(ctx, pool, name, string(body)); err != nil {
			return err
		}
	}
	return nil
}

func applyMigration(ctx context.Context, pool *pgxpool.Pool, version, body string) error {
	op := "migrate " + version
	tx, err := pool.Begin(ctx)
	if err != nil {
		return mapErr(op, err)
	}
	defer tx.Rollback(ctx) // no-op after Commit
	// Held until the transaction ends. The key is per schema, so separate
	// schemas of one database (one per test) migrate in parallel. A node
	// waits for another's migrations however long they take (no
	// lock_timeout for this one lock), then the session's limits apply
	// again.
	if _, err := tx.Exec(ctx, `SET LOCAL lock_timeout = 0`); err != nil {
		return mapErr(op, err)
	}
	if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtextextended('confab.migrate:' || coalesce(current_schema(), ''), 0))`); err != nil {
		return mapErr(op, err)
	}
	if _, err := tx.Exec(ctx, `SET LOCAL lock_timeout TO DEFAULT`); err != nil {
		return mapErr(op, err)
	}
	if _, err := tx.Exec(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version    text PRIMARY KEY,
		applied_at timestamptz NOT NULL DEFAULT now())`); err != nil {
		return mapErr(op, err)
	}
	var done bool
	if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM schema_migrations WHERE version = $1)`, version).Scan(&done); err != nil {
		return mapErr(op, err)
	}
	if done {
		return nil
	}
	// Without arguments pgx uses the simple protocol, which runs a file of
	// several statements.
	if _, err := tx.Exec(ctx, body); err != nil {
		return mapErr(op, err)
	}
	if _, err := tx.Exec(ctx, `INSERT INTO schema_migrations (version) VALUES ($1)`, version); err != nil {
		return mapErr(op, err)
	}
	return mapErr(op, tx.Commit(ctx))
}
