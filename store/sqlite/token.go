package sqlite

import (
	"context"
	"database/sql"
	"errors"

	"github.com/confab-chat/confab"
)

// InsertRefreshToken implements confab.TokenStore.
func (s *Store) InsertRefreshToken(ctx context.Context, t *confab.RefreshToken) error {
	return insertToken(ctx, s.write, t)
}

type execer interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}

func insertToken(ctx context.Context, db execer, t *confab.RefreshToken) error {
	_, err := db.ExecContext(ctx, `INSERT INTO refresh_tokens (hash, user_id, family_id, created_at, expires_at, used, revoked) VALUES (?, ?, ?, ?, ?, ?, ?)`,
		t.Hash, t.UserID, t.FamilyID, ms(t.CreatedAt), ms(t.ExpiresAt), t.Used, t.Revoked)
	return mapErr("insert refresh token", err)
}

// GetRefreshToken implements confab.TokenStore.
func (s *Store) GetRefreshToken(ctx context.Context, hash string) (*confab.RefreshToken, error) {
	var t confab.RefreshToken
	var created, expires int64
	err := s.read.QueryRowContext(ctx, `SELECT hash, user_id, family_id, created_at, expires_at, used, revoked FROM refresh_tokens WHERE hash = ?`, hash).
		Scan(&t.Hash, &t.UserID, &t.FamilyID, &created, &expires, &t.Used, &t.Revoked)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound("get refresh token", "refresh token")
	}
	if err != nil {
		return nil, mapErr("get refresh token", err)
	}
	t.CreatedAt, t.ExpiresAt = fromMS(created), fromMS(expires)
	return &t, nil
}

// RotateRefreshToken implements confab.TokenStore.
func (s *Store) RotateRefreshToken(ctx context.Context, oldHash string, next *confab.RefreshToken) error {
	tx, err := s.write.BeginTx(ctx, nil)
	if err != nil {
		return mapErr("rotate refresh token", err)
	}
	defer tx.Rollback() // no-op after Commit
	res, err := tx.ExecContext(ctx, `UPDATE refresh_tokens SET used = 1 WHERE hash = ? AND used = 0 AND revoked = 0`, oldHash)
	if err != nil {
		return mapErr("rotate refresh token", err)
	}
	if n, err := res.RowsAffected(); err != nil || n != 1 {
		return &confab.Error{Code: confab.CodeConflict, Err: errors.New("sqlite: refresh token already used")}
	}
	if err := insertToken(ctx, tx, next); err != nil {
		return err
	}
	return mapErr("rotate refresh token", tx.Commit())
}

// RevokeRefreshFamily implements confab.TokenStore.
func (s *Store) RevokeRefreshFamily(ctx context.Context, familyID string) error {
	_, err := s.write.ExecContext(ctx, `UPDATE refresh_tokens SET revoked = 1 WHERE family_id = ?`, familyID)
	return mapErr("revoke refresh family", err)
}
