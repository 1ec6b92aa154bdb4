package sqlite

import (
	"context"

	"github.com/confab-chat/confab"
)

// Export is for moving a deployment to another engine (confab migrate):
// it walks every account, refresh token and conversation (with members).
// Messages are read with ListMessagesAfter. Each callback's error stops the
// walk and is returned.
func (s *Store) Export(ctx context.Context, account func(*confab.Account) error, token func(*confab.RefreshToken) error, conversation func(*confab.Conversation) error) error {
	rows, err := s.read.QueryContext(ctx, `SELECT `+userColumns+`, password_hash, disabled FROM users ORDER BY created_at, user_id`)
	if err != nil {
		return mapErr("export users", err)
	}
	for rows.Next() {
		var a confab.Account
		u, err := scanUser(rows, &a.PasswordHash, &a.Disabled)
		if err != nil {
			rows.Close()
			return mapErr("export users", err)
		}
		a.User = *u
		if err := account(&a); err != nil {
			rows.Close()
			return err
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return mapErr("export users", err)
	}

	rows, err = s.read.QueryContext(ctx, `SELECT hash, user_id, family_id, created_at, expires_at, used, revoked FROM refresh_tokens ORDER BY created_at, hash`)
	if err != nil {
		return mapErr("export tokens", err)
	}
	for rows.Next() {
		var t confab.RefreshToken
		var created, expires int64
		if err := rows.Scan(&t.Hash, &t.UserID, &t.FamilyID, &created, &expires, &t.Used, &t.Revoked); err != nil {
			rows.Close()
			return mapErr("export tokens", err)
		}
		t.CreatedAt, t.ExpiresAt = fromMS(created), fromMS(expires)
		if err := token(&t); err != nil {
			rows.Close()
			return err
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return mapErr("export tokens", err)
	}

	rows, err = s.read.QueryContext(ctx, `SELECT conversation_id FROM conversations ORDER BY created_at, conversation_id`)
	if err != nil {
		return mapErr("export conversations", err)
	}
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return mapErr("export conversations", err)
		}
		ids = append(ids, id)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return mapErr("export conversations", err)
	}
	for _, id := range ids {
		c, err := getConversation(ctx, s.read, id)
		if err != nil {
			return err
		}
		if err := conversation(c); err != nil {
			return err
		}
	}
	return nil
}
