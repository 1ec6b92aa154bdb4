package postgres

import (
	"context"
	"time"
)

// AdjustConnections implements confab.PresenceStore. The upsert locks the
// (user, node) row; the sum runs in the same transaction.
func (s *Store) AdjustConnections(ctx context.Context, userID, nodeID string, delta int, now, staleBefore time.Time) (int, error) {
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return 0, mapErr("adjust connections", err)
	}
	defer tx.Rollback(ctx) // no-op after Commit
	if _, err := tx.Exec(ctx, `INSERT INTO connections (user_id, node_id, connections, seen_at) VALUES ($1, $2, greatest($3::int, 0), $4)
		ON CONFLICT (user_id, node_id) DO UPDATE SET connections = greatest(connections.connections + $3::int, 0), seen_at = excluded.seen_at`,
		userID, nodeID, delta, now.UTC()); err != nil {
		return 0, mapErr("adjust connections", err)
	}
	if _, err := tx.Exec(ctx, `DELETE FROM connections WHERE user_id = $1 AND connections = 0`, userID); err != nil {
		return 0, mapErr("adjust connections", err)
	}
	var total int
	if err := tx.QueryRow(ctx, `SELECT coalesce(sum(connections), 0)::int FROM connections WHERE user_id = $1 AND seen_at >= $2`, userID, staleBefore.UTC()).Scan(&total); err != nil {
		return 0, mapErr("adjust connections", err)
	}
	return total, mapErr("adjust connections", tx.Commit(ctx))
}

// TouchConnections implements confab.PresenceStore.
func (s *Store) TouchConnections(ctx context.Context, nodeID string, now time.Time) error {
	_, err := s.pool.Exec(ctx, `UPDATE connections SET seen_at = $1 WHERE node_id = $2`, now.UTC(), nodeID)
	return mapErr("touch connections", err)
}
