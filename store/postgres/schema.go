package postgres

import (
	"context"
	"fmt"
	"regexp"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

var schemaName = regexp.MustCompile(`^[a-z_][a-z0-9_]{0,62}$`)

// OpenSchema is Open confined to one schema of the database: it creates
// the schema if missing, then opens the pool with search_path set to it
// (overriding any in url), so that every table, index and migration of
// the store lives there and no statement sees another schema's rows (no
// statement of the store names a schema). A workspace's store is one
// (cmd/confab: ws_<id>). schema is a lowercase unquoted identifier.
func OpenSchema(ctx context.Context, url, schema string) (*Store, error) {
	if !schemaName.MatchString(schema) {
		return nil, fmt.Errorf("postgres: schema %q: want a lowercase identifier", schema)
	}
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("postgres: parse url: %w", err)
	}
	conn, err := pgx.ConnectConfig(ctx, cfg.ConnConfig.Copy())
	if err != nil {
		return nil, mapErr("open", err)
	}
	_, err = conn.Exec(ctx, "CREATE SCHEMA IF NOT EXISTS "+schema)
	conn.Close(ctx)
	if err != nil {
		return nil, mapErr("create schema", err)
	}
	cfg.ConnConfig.RuntimeParams["search_path"] = schema
	return open(ctx, cfg)
}
