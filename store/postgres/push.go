package postgres

import (
	"context"
	"errors"
	"time"

	"github.com/confab-chat/confab"
	"github.com/jackc/pgx/v5"
)

var _ confab.PushStore = (*Store)(nil)

const pushColumns = `endpoint, user_id, p256dh, auth, created_at`

func scanPush(row pgx.Row) (*confab.PushSubscription, error) {
	var p confab.PushSubscription
	if err := row.Scan(&p.Endpoint, &p.UserID, &p.P256dh, &p.Auth, &p.CreatedAt); err != nil {
		return nil, err
	}
	p.CreatedAt = p.CreatedAt.UTC()
	return &p, nil
}

// PutPushSubscription implements confab.PushStore.
func (s *Store) PutPushSubscription(ctx context.Context, p *confab.PushSubscription) error {
	const op = "put push subscription"
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `INSERT INTO push_subscriptions (`+pushColumns+`) VALUES ($1, $2, $3, $4, $5)
			ON CONFLICT (endpoint) DO UPDATE SET user_id = excluded.user_id, p256dh = excluded.p256dh, auth = excluded.auth, created_at = excluded.created_at`,
			p.Endpoint, p.UserID, p.P256dh, p.Auth, dbTime(p.CreatedAt)); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `DELETE FROM push_subscriptions WHERE user_id = $1 AND endpoint NOT IN (
			SELECT endpoint FROM push_subscriptions WHERE user_id = $1 ORDER BY created_at DESC, endpoint DESC LIMIT $2)`,
			p.UserID, confab.MaxPushSubscriptionsPerUser)
		return err
	})
	return mapErr(op, err)
}

// DeletePushSubscription implements confab.PushStore.
func (s *Store) DeletePushSubscription(ctx context.Context, userID, endpoint string) (bool, error) {
	tag, err := s.pool.Exec(ctx, `DELETE FROM push_subscriptions WHERE endpoint = $1 AND ($2 = '' OR user_id = $2)`, endpoint, userID)
	if err != nil {
		return false, mapErr("delete push subscription", err)
	}
	return tag.RowsAffected() > 0, nil
}

// GetPushSubscription implements confab.PushStore.
func (s *Store) GetPushSubscription(ctx context.Context, endpoint string) (*confab.PushSubscription, error) {
	p, err := scanPush(s.pool.QueryRow(ctx, `SELECT `+pushColumns+` FROM push_subscriptions WHERE endpoint = $1`, endpoint))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, notFound("push subscription")
	}
	return p, mapErr("get push subscription", err)
}

// ListPushSubscriptions implements confab.PushStore.
func (s *Store) ListPushSubscriptions(ctx context.Context, userIDs []string) ([]*confab.PushSubscription, error) {
	const op = "list push subscriptions"
	if len(userIDs) == 0 {
		return nil, nil
	}
	rows, err := s.pool.Query(ctx, `SELECT `+pushColumns+` FROM push_subscriptions WHERE user_id = ANY($1) ORDER BY user_id, endpoint`, userIDs)
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
	rows, err := s.pool.Query(ctx, `SELECT DISTINCT user_id FROM connections WHERE connections > 0 AND seen_at >= $1 AND user_id = ANY($2)`,
		dbTime(staleBefore), userIDs)
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
