package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"strings"

	"github.com/confab-chat/confab"
)

const userColumns = `user_id, username, email, display_name, avatar_url, is_online, last_seen, created_at, updated_at, hide_presence, hide_read_receipts, admin, add_policy`

type scanner interface{ Scan(dest ...any) error }

func scanUser(row scanner, extra ...any) (*confab.User, error) {
	var u confab.User
	var display, avatar sql.NullString
	var lastSeen, updated sql.NullInt64
	var created int64
	var policy string
	dest := append([]any{&u.UserID, &u.Username, &u.Email, &display, &avatar, &u.IsOnline, &lastSeen, &created, &updated, &u.HidePresence, &u.HideReadReceipts,
		&u.Admin, &policy}, extra...)
	if err := row.Scan(dest...); err != nil {
		return nil, err
	}
	u.AddPolicy = confab.AddPolicy(policy)
	u.DisplayName, u.AvatarURL = fromNullString(display), fromNullString(avatar)
	u.LastSeen, u.UpdatedAt = fromNullMS(lastSeen), fromNullMS(updated)
	u.CreatedAt = fromMS(created)
	return &u, nil
}

// InsertAccount implements confab.UserStore.
func (s *Store) InsertAccount(ctx context.Context, a *confab.Account) error {
	u := a.User
	tx, err := s.write.BeginTx(ctx, nil)
	if err != nil {
		return mapErr("insert account", err)
	}
	defer tx.Rollback() // a no-op after Commit; any failure is returned below
	_, err = tx.ExecContext(ctx, `INSERT INTO users (user_id, username, email, email_lower, display_name, avatar_url, is_online, last_seen, created_at, updated_at, hide_presence, hide_read_receipts, admin, add_policy, password_hash, disabled)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		u.UserID, u.Username, u.Email, strings.ToLower(u.Email), nullString(u.DisplayName), nullString(u.AvatarURL),
		u.IsOnline, msPtr(u.LastSeen), ms(u.CreatedAt), msPtr(u.UpdatedAt), u.HidePresence, u.HideReadReceipts, u.Admin, string(u.AddPolicy), a.PasswordHash, a.Disabled)
	if err := mapErr("insert account", err); err != nil {
		if confab.ErrorCode(err) == confab.CodeConflict {
			return &confab.Error{Code: confab.CodeConflict, Err: err}
		}
		return err
	}
	if err := enqueue(ctx, tx, confab.NewUserEvent(&u)); err != nil {
		return err
	}
	return mapErr("insert account", tx.Commit())
}

// GetAccountByLogin implements confab.UserStore.
func (s *Store) GetAccountByLogin(ctx context.Context, login string) (*confab.Account, error) {
	row := s.read.QueryRowContext(ctx, `SELECT `+userColumns+`, password_hash, disabled FROM users
		WHERE email_lower = ?1 OR lower(username) = ?1 ORDER BY email_lower = ?1 DESC LIMIT 1`, strings.ToLower(login))
	var a confab.Account
	u, err := scanUser(row, &a.PasswordHash, &a.Disabled)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound("get account", "user")
	}
	if err != nil {
		return nil, mapErr("get account", err)
	}
	a.User = *u
	return &a, nil
}

// GetUser implements confab.UserStore.
func (s *Store) GetUser(ctx context.Context, userID string) (*confab.User, error) {
	u, err := scanUser(s.read.QueryRowContext(ctx, `SELECT `+userColumns+` FROM users WHERE user_id = ?`, userID))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound("get user", "user")
	}
	return u, mapErr("get user", err)
}

// GetUsers implements confab.UserStore.
func (s *Store) GetUsers(ctx context.Context, ids []string) ([]*confab.User, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	args := make([]any, len(ids))
	for i, id := range ids {
		args[i] = id
	}
	rows, err := s.read.QueryContext(ctx, `SELECT `+userColumns+` FROM users WHERE user_id IN (`+placeholders(len(ids))+`)`, args...)
	if err != nil {
		return nil, mapErr("get users", err)
	}
	defer rows.Close()
	var users []*confab.User
	for rows.Next() {
		u, err := scanUser(rows)
		if err != nil {
			return nil, mapErr("get users", err)
		}
		users = append(users, u)
	}
	return users, mapErr("get users", rows.Err())
}

// UpdateUser implements confab.UserStore.
func (s *Store) UpdateUser(ctx context.Context, userID string, u confab.UserUpdate) (*confab.User, error) {
	var online, hide, hideReceipts, admin sql.NullBool
	var policy sql.NullString
	if u.IsOnline != nil {
		online = sql.NullBool{Bool: *u.IsOnline, Valid: true}
	}
	if u.HidePresence != nil {
		hide = sql.NullBool{Bool: *u.HidePresence, Valid: true}
	}
	if u.HideReadReceipts != nil {
		hideReceipts = sql.NullBool{Bool: *u.HideReadReceipts, Valid: true}
	}
	if u.Admin != nil {
		admin = sql.NullBool{Bool: *u.Admin, Valid: true}
	}
	if u.AddPolicy != nil {
		policy = sql.NullString{String: string(*u.AddPolicy), Valid: true}
	}
	row := s.write.QueryRowContext(ctx, `UPDATE users SET
			display_name = CASE WHEN ?1 THEN ?2 ELSE display_name END,
			avatar_url   = CASE WHEN ?3 THEN ?4 ELSE avatar_url END,
			is_online    = coalesce(?5, is_online),
			last_seen    = coalesce(?6, last_seen),
			updated_at   = ?7,
			hide_presence = coalesce(?9, hide_presence),
			hide_read_receipts = coalesce(?10, hide_read_receipts),
			admin        = coalesce(?11, admin),
			add_policy   = coalesce(?12, add_policy)
		WHERE user_id = ?8 RETURNING `+userColumns,
		u.DisplayName != nil, nullString(u.DisplayName), u.AvatarURL != nil, nullString(u.AvatarURL),
		online, msPtr(u.LastSeen), ms(u.UpdatedAt), userID, hide, hideReceipts, admin, policy)
	user, err := scanUser(row)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound("update user", "user")
	}
	return user, mapErr("update user", err)
}

func placeholders(n int) string {
	return strings.TrimSuffix(strings.Repeat("?,", n), ",")
}
