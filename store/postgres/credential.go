package postgres

import (
	"context"
	"errors"

	"github.com/confab-chat/confab"
	"github.com/jackc/pgx/v5"
)

// GetRefreshFamily implements confab.TokenStore.
func (s *Store) GetRefreshFamily(ctx context.Context, familyID string) (*confab.RefreshFamily, error) {
	var f confab.RefreshFamily
	err := s.pool.QueryRow(ctx, `SELECT family_id, user_id, min(created_at), bool_or(revoked) FROM refresh_tokens
		WHERE family_id = $1 GROUP BY family_id, user_id`, familyID).Scan(&f.FamilyID, &f.UserID, &f.AuthTime, &f.Revoked)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, notFound("Refresh token")
	}
	if err != nil {
		return nil, mapErr("get refresh family", err)
	}
	f.AuthTime = f.AuthTime.UTC()
	return &f, nil
}

// RevokeUserRefreshTokens implements confab.TokenStore.
func (s *Store) RevokeUserRefreshTokens(ctx context.Context, userID string) ([]string, error) {
	const op = "revoke user refresh tokens"
	rows, err := s.pool.Query(ctx, `WITH r AS (UPDATE refresh_tokens SET revoked = true WHERE user_id = $1 AND NOT revoked RETURNING family_id)
		SELECT DISTINCT family_id FROM r`, userID)
	if err != nil {
		return nil, mapErr(op, err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[string])
	return ids, mapErr(op, err)
}

// GetCredentials implements confab.CredentialStore.
func (s *Store) GetCredentials(ctx context.Context, userID string) (*confab.Credentials, error) {
	c := confab.Credentials{UserID: userID}
	var unconfirmed, temporary *bool
	var salt, verifier *string
	err := s.pool.QueryRow(ctx, `SELECT u.password_hash, u.disabled, c.unconfirmed, c.password_temporary, c.srp_salt, c.srp_verifier
		FROM users u LEFT JOIN credentials c ON c.user_id = u.user_id WHERE u.user_id = $1`, userID).
		Scan(&c.PasswordHash, &c.Disabled, &unconfirmed, &temporary, &salt, &verifier)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, notFound("User")
	}
	if err != nil {
		return nil, mapErr("get credentials", err)
	}
	c.Unconfirmed, c.PasswordTemporary = unconfirmed != nil && *unconfirmed, temporary != nil && *temporary
	if salt != nil && verifier != nil {
		c.SRP = &confab.SRPVerifier{Salt: *salt, Verifier: *verifier}
	}
	return &c, nil
}

// UpdateCredentials implements confab.CredentialStore.
func (s *Store) UpdateCredentials(ctx context.Context, userID string, u confab.CredentialsUpdate) error {
	const op = "update credentials"
	return s.inTx(ctx, op, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `UPDATE users SET
				password_hash = coalesce($1, password_hash),
				email         = coalesce($2, email),
				disabled      = coalesce($3, disabled),
				updated_at    = $4
			WHERE user_id = $5`, u.PasswordHash, u.Email, u.Disabled, dbTime(u.UpdatedAt), userID)
		if err != nil {
			err = mapErr(op, err)
			if confab.ErrorCode(err) == confab.CodeConflict {
				return &confab.Error{Code: confab.CodeConflict, Message: "A user with this email already exists.", Op: op, Err: err}
			}
			return err
		}
		if tag.RowsAffected() != 1 {
			return notFound("User")
		}
		var salt, verifier *string
		if u.SRP != nil {
			salt, verifier = &u.SRP.Salt, &u.SRP.Verifier
		}
		_, err = tx.Exec(ctx, `INSERT INTO credentials (user_id, unconfirmed, password_temporary, srp_salt, srp_verifier)
			VALUES ($1, coalesce($2, false), coalesce($3, false), $5, $6)
			ON CONFLICT (user_id) DO UPDATE SET
				unconfirmed        = coalesce($2, credentials.unconfirmed),
				password_temporary = coalesce($3, credentials.password_temporary),
				srp_salt           = CASE WHEN $4 OR $5::text IS NOT NULL THEN $5 ELSE credentials.srp_salt END,
				srp_verifier       = CASE WHEN $4 OR $5::text IS NOT NULL THEN $6 ELSE credentials.srp_verifier END`,
			userID, u.Unconfirmed, u.PasswordTemporary, u.PasswordHash != nil, salt, verifier)
		return mapErr(op, err)
	})
}

// DeleteAccount implements confab.CredentialStore.
func (s *Store) DeleteAccount(ctx context.Context, userID string) error {
	const op = "delete account"
	return s.inTx(ctx, op, func(tx pgx.Tx) error {
		for _, q := range []string{
			`DELETE FROM credentials WHERE user_id = $1`,
			`DELETE FROM verification_codes WHERE user_id = $1`,
			`DELETE FROM refresh_tokens WHERE user_id = $1`,
			`DELETE FROM members WHERE user_id = $1`,
			`DELETE FROM connections WHERE user_id = $1`,
		} {
			if _, err := tx.Exec(ctx, q, userID); err != nil {
				return mapErr(op, err)
			}
		}
		tag, err := tx.Exec(ctx, `DELETE FROM users WHERE user_id = $1`, userID)
		if err != nil {
			return mapErr(op, err)
		}
		if tag.RowsAffected() != 1 {
			return notFound("User")
		}
		return nil
	})
}

// accountFilterColumns maps AccountFilter.Field to the expression compared.
var accountFilterColumns = map[string]string{"email": "lower(email)", "username": "username", "user_id": "user_id"}

// ListAccounts implements confab.CredentialStore.
func (s *Store) ListAccounts(ctx context.Context, f confab.AccountFilter) ([]*confab.Account, error) {
	const op = "list accounts"
	if f.Limit < 1 || f.Limit > confab.MaxPageLimit {
		return nil, confab.Errorf(confab.CodeInvalid, "The limit must be between 1 and %d.", confab.MaxPageLimit)
	}
	where, args := `user_id > $1`, []any{f.After, f.Limit}
	if f.Field != "" {
		col, ok := accountFilterColumns[f.Field]
		if !ok {
			return nil, confab.Errorf(confab.CodeInvalid, "Accounts cannot be filtered on %q.", f.Field)
		}
		cmpOp, arg := "=", "$3"
		if f.Prefix {
			cmpOp = "^@" // starts_with
		}
		if f.Field == "email" {
			arg = "lower($3)"
		}
		where += ` AND ` + col + ` ` + cmpOp + ` ` + arg
		args = append(args, f.Value)
	}
	rows, err := s.pool.Query(ctx, `SELECT `+userColumns+`, password_hash, disabled FROM users WHERE `+where+` ORDER BY user_id LIMIT $2`, args...)
	if err != nil {
		return nil, mapErr(op, err)
	}
	defer rows.Close()
	var list []*confab.Account
	for rows.Next() {
		a := &confab.Account{}
		u, err := scanUser(rows, &a.PasswordHash, &a.Disabled)
		if err != nil {
			return nil, mapErr(op, err)
		}
		a.User = *u
		list = append(list, a)
	}
	return list, mapErr(op, rows.Err())
}

// InsertVerificationCode implements confab.CredentialStore.
func (s *Store) InsertVerificationCode(ctx context.Context, c *confab.VerificationCode) error {
	_, err := s.pool.Exec(ctx, `INSERT INTO verification_codes (user_id, purpose, hash, expires_at, attempts) VALUES ($1, $2, $3, $4, $5)
		ON CONFLICT (user_id, purpose) DO UPDATE SET hash = excluded.hash, expires_at = excluded.expires_at, attempts = excluded.attempts`,
		c.UserID, c.Purpose, c.Hash, dbTime(c.ExpiresAt), c.Attempts)
	return mapErr("insert verification code", err)
}

// GetVerificationCode implements confab.CredentialStore.
func (s *Store) GetVerificationCode(ctx context.Context, userID, purpose string) (*confab.VerificationCode, error) {
	c := confab.VerificationCode{UserID: userID, Purpose: purpose}
	err := s.pool.QueryRow(ctx, `SELECT hash, expires_at, attempts FROM verification_codes WHERE user_id = $1 AND purpose = $2`, userID, purpose).
		Scan(&c.Hash, &c.ExpiresAt, &c.Attempts)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, notFound("Code")
	}
	if err != nil {
		return nil, mapErr("get verification code", err)
	}
	c.ExpiresAt = c.ExpiresAt.UTC()
	return &c, nil
}

// AddVerificationCodeAttempt implements confab.CredentialStore.
func (s *Store) AddVerificationCodeAttempt(ctx context.Context, userID, purpose string) (int, error) {
	var n int
	err := s.pool.QueryRow(ctx, `UPDATE verification_codes SET attempts = attempts + 1 WHERE user_id = $1 AND purpose = $2 RETURNING attempts`, userID, purpose).Scan(&n)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, notFound("Code")
	}
	return n, mapErr("add verification code attempt", err)
}

// DeleteVerificationCode implements confab.CredentialStore.
func (s *Store) DeleteVerificationCode(ctx context.Context, userID, purpose string) error {
	tag, err := s.pool.Exec(ctx, `DELETE FROM verification_codes WHERE user_id = $1 AND purpose = $2`, userID, purpose)
	if err != nil {
		return mapErr("delete verification code", err)
	}
	if tag.RowsAffected() != 1 {
		return notFound("Code")
	}
	return nil
}
