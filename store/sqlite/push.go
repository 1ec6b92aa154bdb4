package sqlite

import (
	"context"
	"database/sql"
	"errors"

	"time"

	"github.com/confab-chat/confab"
)

var _ confab.PushStore = (*Store)(nil)

const pushColumns = `endpoint, user_id, p256dh, auth, created_at`

func scanPush(row scanner) (*confab.PushSubscription, error) {
	var p confab.PushSubscription
	var created int64
	if err := row.Scan(&p.Endpoint, &p.UserID, &p.P256dh, &p.Auth, &created); err != nil {
		return nil, err
	}
	p.CreatedAt = fromMS(created)
	return &p, nil
}

// PutPushSubscription implements confab.PushStore.
func (s *Store) PutPushSubscription(ctx context.Context, p *confab.PushSubscription) error {
	const op = "put push subscription"
	tx, err := s.write.BeginTx(ctx, nil)
	if err != nil {
		return mapErr(op, err)
	}
	defer tx.Rollback() // no-op after Commit
	if _, err := tx.ExecContext(ctx, `INSERT INTO push_subscriptions (`+pushColumns+`) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (endpoint) DO UPDATE SET user_id = excluded.user_id, p256dh = excluded.p256dh, auth = excluded.auth, created_at = excluded.created_at`,
		p.Endpoint, p.UserID, p.P256dh, p.Auth, ms(p.CreatedAt)); err != nil {
		return mapErr(op, err)
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM push_subscriptions WHERE user_id = ?1 AND endpoint NOT IN (
		SELECT endpoint FROM push_subscriptions WHERE user_id = ?1 ORDER BY created_at DESC, endpoint DESC LIMIT ?2)`,
		p.UserID, confab.MaxPushSubscriptionsPerUser); err != nil {
		return mapErr(op, err)
	}
	return mapErr(op, tx.Commit())
}

// DeletePushSubscription implements confab.PushStore.
func (s *Store) DeletePushSubscription(ctx context.Context, userID, endpoint string) (bool, error) {
	res, err := s.write.ExecContext(ctx, `DELETE FROM push_subscriptions WHERE endpoint = ?1 AND (?2 = '' OR user_id = ?2)`, endpoint, userID)
	if err != nil {
		return false, mapErr("delete push subscription", err)
	}
	n, err := res.RowsAffected()
	return n > 0, mapErr("delete push subscription", err)
}

// GetPushSubscription implements confab.PushStore.
func (s *Store) GetPushSubscription(ctx context.Context, endpoint string) (*confab.PushSubscription, error) {
	p, err := scanPush(s.read.QueryRowContext(ctx, `SELECT `+pushColumns+` FROM push_subscriptions WHERE endpoint = ?`, endpoint))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound("get push subscription", "push subscription")
	}
	return p, mapErr("get push subscription", err)
}

// ListPushSubscriptions implements confab.PushStore.
func (s *Store) ListPushSubscriptions(ctx context.Context, userIDs []string) ([]*confab.PushSubscription, error) {
	const op = "list push subscriptions"
	if len(userIDs) == 0 {
		return nil, nil
	}
	rows, err := s.read.QueryContext(ctx, `SELECT `+pushColumns+` FROM push_subscriptions WHERE user_id IN (`+placeholders(len(userIDs))+`)
		ORDER BY user_id, endpoint`, anys(userIDs)...)
	if err != nil {
		return nil, mapErr(op, err)
	}
	defer rows.Close()
	var out []*confab.PushSubscription
	for rows.Next() {
		p, err := scanPush(rows)
		if err != nil {
			return nil, mapErr(op, err)
		}
		out = append(out, p)
	}
	return out, mapErr(op, rows.Err())
}

// ConnectedUsers implements confab.PushStore.
func (s *Store) ConnectedUsers(ctx context.Context, userIDs []string, staleBefore time.Time) (map[string]bool, error) {
	const op = "connected users"
	out := map[string]bool{}
	if len(userIDs) == 0 {
		return out, nil
	}
	rows, err := s.read.QueryContext(ctx, `SELECT DISTINCT user_id FROM connections WHERE connections > 0 AND seen_at >= ?
		AND user_id IN (`+placeholders(len(userIDs))+`)`, append([]any{ms(staleBefore)}, anys(userIDs)...)...)
	if err != nil {
		return nil, mapErr(op, err)
	}
	defer rows.Close()
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, mapErr(op, err)
		}
		out[id] = true
	}
	return out, mapErr(op, rows.Err())
}

func anys(ss []string) []any {
	out := make([]any, len(ss))
	for i, s := range ss {
		out[i] = s
	}
	return out
}
