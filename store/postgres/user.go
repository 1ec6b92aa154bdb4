package postgres

import (
	"context"
	"errors"

	"github.com/confab-chat/confab"
	"github.com/jackc/pgx/v5"
)

const userColumns = `user_id, username, email, display_name, avatar_url, is_online, last_seen, created_at, updated_at, hide_presence, hide_read_receipts, add_policy, admin`

func scanUser(row pgx.Row, extra ...any) (*confab.User, error) {
	var u confab.User
	var policy string
	dest := append([]any{&u.UserID, &u.Username, &u.Email, &u.DisplayName, &u.AvatarURL, &u.IsOnline, &u.LastSeen, &u.CreatedAt, &u.UpdatedAt,
		&u.HidePresence, &u.HideReadReceipts, &policy, &u.Admin}, extra...)
	if err := row.Scan(dest...); err != nil {
		return nil, err
	}
	u.AddPolicy = confab.AddPolicy(policy)
	u.CreatedAt = u.CreatedAt.UTC()
	u.LastSeen, u.UpdatedAt = utcPtr(u.LastSeen), utcPtr(u.UpdatedAt)
	return &u, nil
}

// InsertAccount implements confab.UserStore. The unique indexes on
// username and lower(email) make duplicates CodeConflict.
func (s *Store) InsertAccount(ctx context.Context, a *confab.Account) error {
	u := a.User
	err := s.inTx(ctx, "insert account", func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `INSERT INTO users (`+userColumns+`, password_hash, disabled)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)`,
			u.UserID, u.Username, u.Email, u.DisplayName, u.AvatarURL, u.IsOnline, dbTimePtr(u.LastSeen),
			dbTime(u.CreatedAt), dbTimePtr(u.UpdatedAt), u.HidePresence, u.HideReadReceipts, string(u.AddPolicy), u.Admin,
			a.PasswordHash, a.Disabled)
		if err != nil {
			return mapErr("insert account", err)
		}
		return enqueue(ctx, tx, confab.NewUserEvent(&u))
	})
	if confab.ErrorCode(err) == confab.CodeConflict {
		return &confab.Error{Code: confab.CodeConflict, Op: "insert account", Err: err}
	}
	return err
}

// GetAccountByLogin implements confab.UserStore. When login is one user's
// email and another's username, the email wins.
func (s *Store) GetAccountByLogin(ctx context.Context, login string) (*confab.Account, error) {
	row := s.pool.QueryRow(ctx, `SELECT `+userColumns+`, password_hash, disabled FROM users
		WHERE lower(email) = lower($1) OR lower(username) = lower($1)
		ORDER BY lower(email) = lower($1) DESC LIMIT 1`, login)
	var a confab.Account
	u, err := scanUser(row, &a.PasswordHash, &a.Disabled)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, notFound("user")
	}
	if err != nil {
		return nil, mapErr("get account", err)
	}
	a.User = *u
	return &a, nil
}

// GetUser implements confab.UserStore.
func (s *Store) GetUser(ctx context.Context, userID string) (*confab.User, error) {
	u, err := scanUser(s.pool.QueryRow(ctx, `SELECT `+userColumns+` FROM users WHERE user_id = $1`, userID))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, notFound("user")
	}
	if err != nil {
		return nil, mapErr("get user", err)
	}
	return u, nil
}

// GetUsers implements confab.UserStore.
func (s *Store) GetUsers(ctx context.Context, ids []string) ([]*confab.User, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	rows, err := s.pool.Query(ctx, `SELECT `+userColumns+` FROM users WHERE user_id = ANY($1)`, ids)
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
	row := s.pool.QueryRow(ctx, `UPDATE users SET
			display_name = CASE WHEN $1 THEN $2::text ELSE display_name END,
			avatar_url   = CASE WHEN $3 THEN $4::text ELSE avatar_url END,
			is_online    = coalesce($5, is_online),
			last_seen    = coalesce($6, last_seen),
			updated_at   = $7,
			hide_presence = coalesce($9, hide_presence),
			hide_read_receipts = coalesce($10, hide_read_receipts),
			add_policy   = coalesce($11, add_policy),
			admin        = coalesce($12, admin)
		WHERE user_id = $8 RETURNING `+userColumns,
		u.DisplayName != nil, u.DisplayName, u.AvatarURL != nil, u.AvatarURL,
		u.IsOnline, dbTimePtr(u.LastSeen), dbTime(u.UpdatedAt), userID, u.HidePresence, u.HideReadReceipts,
		(*string)(u.AddPolicy), u.Admin)
	user, err := scanUser(row)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, notFound("user")
	}
	if err != nil {
		return nil, mapErr("update user", err)
	}
	return user, nil
}
