package postgres

import (
	"context"

	"github.com/jackc/pgx/v5"
)

// InTx runs fn in one of the store's transactions, on one of its pooled
// sessions, and classifies its error as the store's methods do (tests:
// stand in for a sender that stops mid-transaction).
func (s *Store) InTx(ctx context.Context, fn func(tx pgx.Tx) error) error {
	return s.inTx(ctx, "test", func(tx pgx.Tx) error { return mapErr("test", fn(tx)) })
}
