package postgres

import (
	"context"
	"errors"

	"github.com/confab-chat/confab"
	"github.com/jackc/pgx/v5"
)

// InsertRefreshToken implements confab.TokenStore.
func (s *Store) InsertRefreshToken(ctx context.Context, t *confab.RefreshToken) error {
	return insertToken(ctx, s.pool, t)
}

func insertToken(ctx context.Context, q querier, t *confab.RefreshToken) error {
	_, err := q.Exec(ctx, `INSERT INTO refresh_tokens (hash, user_id, family_id, created_at, expires_at, used, revoked)
		VALUES ($1, $2, $3, $4, $5, $6, $7)`,
		t.Hash, t.UserID, t.FamilyID, dbTime(t.CreatedAt), dbTime(t.ExpiresAt), t.Used, t.Revoked)
	return mapErr("insert refresh token", err)
}

// GetRefreshToken implements confab.TokenStore.
func (s *Store) GetRefreshToken(ctx context.Context, hash string) (*confab.RefreshToken, error) {
	var t confab.RefreshToken
	err := s.pool.QueryRow(ctx, `SELECT hash, user_id, family_id, created_at, expires_at, used, revoked
		FROM refresh_tokens WHERE hash = $1`, hash).
		Scan(&t.Hash, &t.UserID, &t.FamilyID, &t.CreatedAt, &t.ExpiresAt, &t.Used, &t.Revoked)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, notFound("refresh token")
	}
	if err != nil {
		return nil, mapErr("get refresh token", err)
	}
	t.CreatedAt, t.ExpiresAt = t.CreatedAt.UTC(), t.ExpiresAt.UTC()
	return &t, nil
}

// RotateRefreshToken implements confab.TokenStore. Of two racing
// rotations, the second UPDATE waits for the first's row lock and then
// re-checks used = false against the committed row, so it changes nothing.
func (s *Store) RotateRefreshToken(ctx context.Context, oldHash string, next *confab.RefreshToken) error {
	const op = "rotate refresh token"
	return s.inTx(ctx, op, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `UPDATE refresh_tokens SET used = true WHERE hash = $1 AND NOT used AND NOT revoked`, oldHash)
		if err != nil {
			return mapErr(op, err)
		}
		if tag.RowsAffected() != 1 {
			return &confab.Error{Code: confab.CodeConflict, Err: errors.New("postgres: refresh token already used")}
		}
		return insertToken(ctx, tx, next)
	})
}

// RevokeRefreshFamily implements confab.TokenStore.
func (s *Store) RevokeRefreshFamily(ctx context.Context, familyID string) error {
	_, err := s.pool.Exec(ctx, `UPDATE refresh_tokens SET revoked = true WHERE family_id = $1`, familyID)
	return mapErr("revoke refresh family", err)
}
