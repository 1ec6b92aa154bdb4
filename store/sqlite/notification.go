package sqlite

import (
	"context"
	"encoding/json"
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
	rows, err := s.read.QueryContext(ctx, `SELECT user_id, settings FROM notification_settings WHERE user_id IN (`+placeholders(len(userIDs))+`)`, anys(userIDs)...)
	if err != nil {
		return nil, mapErr(op, err)
	}
	defer rows.Close()
	for rows.Next() {
		var id, js string
		if err := rows.Scan(&id, &js); err != nil {
			return nil, mapErr(op, err)
		}
		var ns confab.NotificationSettings
		if err := json.Unmarshal([]byte(js), &ns); err != nil {
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
	_, err = s.write.ExecContext(ctx, `INSERT INTO notification_settings (user_id, settings) VALUES (?1, ?2)
		ON CONFLICT (user_id) DO UPDATE SET settings = ?2`, userID, string(js))
	return mapErr("put notification settings", err)
}

// ClaimPushWindows implements confab.NotificationStore: one transaction
// (one fsync) for every user.
func (s *Store) ClaimPushWindows(ctx context.Context, userIDs []string, conversationID string, now time.Time, window time.Duration) (map[string]bool, error) {
	const op = "claim push windows"
	tx, err := s.write.BeginTx(ctx, nil)
	if err != nil {
		return nil, mapErr(op, err)
	}
	defer tx.Rollback() // a no-op after Commit
	stmt, err := tx.PrepareContext(ctx, claimPushWindow)
	if err != nil {
		return nil, mapErr(op, err)
	}
	defer stmt.Close()
	won := make(map[string]bool, len(userIDs))
	for _, u := range userIDs {
		res, err := stmt.ExecContext(ctx, u, conversationID, ms(now), ms(now.Add(window)))
		if err != nil {
			return nil, mapErr(op, err)
		}
		if n, err := res.RowsAffected(); err != nil {
			return nil, mapErr(op, err)
		} else if n > 0 {
			won[u] = true
		}
	}
	return won, mapErr(op, tx.Commit())
}

// claimPushWindow starts the window of (?1 user, ?2 conversation) from ?3
// to ?4 unless one is open.
const claimPushWindow = `INSERT INTO push_windows (user_id, conversation_id, until) VALUES (?1, ?2, ?4)
	ON CONFLICT (user_id, conversation_id) DO UPDATE SET until = ?4 WHERE push_windows.until <= ?3`

// ClaimPushWindow implements confab.NotificationStore.
func (s *Store) ClaimPushWindow(ctx context.Context, userID, conversationID string, now time.Time, window time.Duration) (bool, error) {
	res, err := s.write.ExecContext(ctx, claimPushWindow, userID, conversationID, ms(now), ms(now.Add(window)))
	if err != nil {
		return false, mapErr("claim push window", err)
	}
	n, err := res.RowsAffected()
	return n > 0, mapErr("claim push window", err)
}
