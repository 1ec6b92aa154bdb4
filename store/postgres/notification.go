package postgres

import (
	"context"
	"encoding/json"
	"github.com/jackc/pgx/v5"
	"time"

	"github.com/confab-chat/confab"
)

// GetNotificationSettings implements confab.NotificationStore.
func (s *Store) GetNotificationSettings(ctx context.Context, userIDs []string) (map[string]*confab.NotificationSettings, error) {
	const op = "get notification settings"
	out := map[string]*confab.NotificationSettings{}
	if len(userIDs) == 0 {
		return out, nil
	}
	rows, err := s.pool.Query(ctx, `SELECT user_id, settings FROM notification_settings WHERE user_id = ANY($1)`, userIDs)
	if err != nil {
		return nil, mapErr(op, err)
	}
	defer rows.Close()
	for rows.Next() {
		var id string
		var js []byte
		if err := rows.Scan(&id, &js); err != nil {
			return nil, mapErr(op, err)
		}
		var ns confab.NotificationSettings
		if err := json.Unmarshal(js, &ns); err != nil {
			return nil, mapErr(op, err)
		}
		out[id] = &ns
	}
	return out, mapErr(op, rows.Err())
}

// PutNotificationSettings implements confab.NotificationStore.
func (s *Store) PutNotificationSettings(ctx context.Context, userID string, ns *confab.NotificationSettings) error {
	js, err := json.Marshal(ns)
	if err != nil {
		return mapErr("put notification settings", err)
	}
	_, err = s.pool.Exec(ctx, `INSERT INTO notification_settings (user_id, settings) VALUES ($1, $2)
		ON CONFLICT (user_id) DO UPDATE SET settings = excluded.settings`, userID, string(js))
	return mapErr("put notification settings", err)
}

// ClaimPushWindows implements confab.NotificationStore in one statement.
func (s *Store) ClaimPushWindows(ctx context.Context, userIDs []string, conversationID string, now time.Time, window time.Duration) (map[string]bool, error) {
	rows, err := s.pool.Query(ctx, `INSERT INTO push_windows (user_id, conversation_id, until)
		SELECT u, $2, $4 FROM unnest($1::text[]) AS u
		ON CONFLICT (user_id, conversation_id) DO UPDATE SET until = $4 WHERE push_windows.until <= $3
		RETURNING user_id`, userIDs, conversationID, dbTime(now), dbTime(now.Add(window)))
	if err != nil {
		return nil, mapErr("claim push windows", err)
	}
	won, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, mapErr("claim push windows", err)
	}
	out := make(map[string]bool, len(won))
	for _, u := range won {
		out[u] = true
	}
	return out, nil
}

// ClaimPushWindow implements confab.NotificationStore.
func (s *Store) ClaimPushWindow(ctx context.Context, userID, conversationID string, now time.Time, window time.Duration) (bool, error) {
	tag, err := s.pool.Exec(ctx, `INSERT INTO push_windows (user_id, conversation_id, until) VALUES ($1, $2, $4)
		ON CONFLICT (user_id, conversation_id) DO UPDATE SET until = $4 WHERE push_windows.until <= $3`,
		userID, conversationID, dbTime(now), dbTime(now.Add(window)))
	if err != nil {
		return false, mapErr("claim push window", err)
	}
	return tag.RowsAffected() > 0, nil
}
