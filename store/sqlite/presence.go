package sqlite

import (
	"context"
	"time"
)

// AdjustConnections implements confab.PresenceStore.
func (s *Store) AdjustConnections(ctx context.Context, userID, nodeID string, delta int, now, staleBefore time.Time) (int, error) {
	tx, err := s.write.BeginTx(ctx, nil)
	if err != nil {
		return 0, mapErr("adjust connections", err)
	}
	defer tx.Rollback() // no-op after Commit
	if _, err := tx.ExecContext(ctx, `INSERT INTO connections (user_id, node_id, connections, seen_at) VALUES (?1, ?2, max(?3, 0), ?4)
		ON CONFLICT (user_id, node_id) DO UPDATE SET connections = max(connections + ?3, 0), seen_at = ?4`,
		userID, nodeID, delta, ms(now)); err != nil {
		return 0, mapErr("adjust connections", err)
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM connections WHERE user_id = ? AND connections = 0`, userID); err != nil {
		return 0, mapErr("adjust connections", err)
	}
	var total int
	if err := tx.QueryRowContext(ctx, `SELECT coalesce(sum(connections), 0) FROM connections WHERE user_id = ? AND seen_at >= ?`, userID, ms(staleBefore)).Scan(&total); err != nil {
		return 0, mapErr("adjust connections", err)
	}
	return total, mapErr("adjust connections", tx.Commit())
}

// TouchConnections implements confab.PresenceStore.
func (s *Store) TouchConnections(ctx context.Context, nodeID string, now time.Time) error {
	_, err := s.write.ExecContext(ctx, `UPDATE connections SET seen_at = ? WHERE node_id = ?`, ms(now), nodeID)
	return mapErr("touch connections", err)
}
