package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/confab-chat/confab"
)

// GetRefreshFamily implements confab.TokenStore.
func (s *Store) GetRefreshFamily(ctx context.Context, familyID string) (*confab.RefreshFamily, error) {
	var f confab.RefreshFamily
	var created int64
	err := s.read.QueryRowContext(ctx, `SELECT family_id, user_id, min(created_at), max(revoked) FROM refresh_tokens
		WHERE family_id = ? GROUP BY family_id, user_id`, familyID).Scan(&f.FamilyID, &f.UserID, &created, &f.Revoked)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound("get refresh family", "Refresh token")
	}
	if err != nil {
		return nil, mapErr("get refresh family", err)
	}
	f.AuthTime = fromMS(created)
	return &f, nil
}

// RevokeUserRefreshTokens implements confab.TokenStore.
func (s *Store) RevokeUserRefreshTokens(ctx context.Context, userID string) ([]string, error) {
	rows, err := s.write.QueryContext(ctx, `UPDATE refresh_tokens SET revoked = 1 WHERE user_id = ? AND revoked = 0 RETURNING family_id`, userID)
	if err != nil {
		return nil, mapErr("revoke user refresh tokens", err)
	}
	return familyIDs(rows)
}

func familyIDs(rows *sql.Rows) ([]string, error) {
	defer rows.Close()
	seen := map[string]bool{}
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, mapErr("revoke user refresh tokens", err)
		}
		if !seen[id] {
			seen[id] = true
			ids = append(ids, id)
		}
	}
	return ids, mapErr("revoke user refresh tokens", rows.Err())
}

// GetCredentials implements confab.CredentialStore.
func (s *Store) GetCredentials(ctx context.Context, userID string) (*confab.Credentials, error) {
	c := confab.Credentials{UserID: userID}
	var unconfirmed, temporary sql.NullBool
	var salt, verifier sql.NullString
	err := s.read.QueryRowContext(ctx, `SELECT u.password_hash, u.disabled, c.unconfirmed, c.password_temporary, c.srp_salt, c.srp_verifier
		FROM users u LEFT JOIN credentials c ON c.user_id = u.user_id WHERE u.user_id = ?`, userID).
		Scan(&c.PasswordHash, &c.Disabled, &unconfirmed, &temporary, &salt, &verifier)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound("get credentials", "User")
	}
	if err != nil {
		return nil, mapErr("get credentials", err)
	}
	c.Unconfirmed, c.PasswordTemporary = unconfirmed.Bool, temporary.Bool
	if salt.Valid && verifier.Valid {
		c.SRP = &confab.SRPVerifier{Salt: salt.String, Verifier: verifier.String}
	}
	return &c, nil
}

// UpdateCredentials implements confab.CredentialStore.
func (s *Store) UpdateCredentials(ctx context.Context, userID string, u confab.CredentialsUpdate) error {
	const op = "update credentials"
	tx, err := s.write.BeginTx(ctx, nil)
	if err != nil {
		return mapErr(op, err)
	}
	defer tx.Rollback() // no-op after Commit
	var email, emailLower sql.NullString
	if u.Email != nil {
		email = sql.NullString{String: *u.Email, Valid: true}
		emailLower = sql.NullString{String: strings.ToLower(*u.Email), Valid: true}
	}
	var hash sql.NullString
	if u.PasswordHash != nil {
		hash = sql.NullString{String: *u.PasswordHash, Valid: true}
	}
	res, err := tx.ExecContext(ctx, `UPDATE users SET
			password_hash = coalesce(?1, password_hash),
			email         = coalesce(?2, email),
			email_lower   = coalesce(?3, email_lower),
			disabled      = coalesce(?4, disabled),
			updated_at    = ?5
		WHERE user_id = ?6`, hash, email, emailLower, nullBool(u.Disabled), ms(u.UpdatedAt), userID)
	if err := mapErr(op, err); err != nil {
		return err
	}
	if n, err := res.RowsAffected(); err != nil || n != 1 {
		return notFound(op, "User")
	}
	var salt, verifier sql.NullString
	if u.SRP != nil {
		salt, verifier = sql.NullString{String: u.SRP.Salt, Valid: true}, sql.NullString{String: u.SRP.Verifier, Valid: true}
	}
	_, err = tx.ExecContext(ctx, `INSERT INTO credentials (user_id, unconfirmed, password_temporary, srp_salt, srp_verifier)
		VALUES (?1, coalesce(?2, 0), coalesce(?3, 0), ?5, ?6)
		ON CONFLICT (user_id) DO UPDATE SET
			unconfirmed        = coalesce(?2, unconfirmed),
			password_temporary = coalesce(?3, password_temporary),
			srp_salt           = CASE WHEN ?4 OR ?5 IS NOT NULL THEN ?5 ELSE srp_salt END,
			srp_verifier       = CASE WHEN ?4 OR ?5 IS NOT NULL THEN ?6 ELSE srp_verifier END`,
		userID, nullBool(u.Unconfirmed), nullBool(u.PasswordTemporary), u.PasswordHash != nil, salt, verifier)
	if err != nil {
		return mapErr(op, err)
	}
	return mapErr(op, tx.Commit())
}

func nullBool(b *bool) sql.NullBool {
	if b == nil {
		return sql.NullBool{}
	}
	return sql.NullBool{Bool: *b, Valid: true}
}

// DeleteAccount implements confab.CredentialStore.
func (s *Store) DeleteAccount(ctx context.Context, userID string) error {
	const op = "delete account"
	tx, err := s.write.BeginTx(ctx, nil)
	if err != nil {
		return mapErr(op, err)
	}
	defer tx.Rollback() // no-op after Commit
	for _, q := range []string{
		`DELETE FROM credentials WHERE user_id = ?`,
		`DELETE FROM verification_codes WHERE user_id = ?`,
		`DELETE FROM refresh_tokens WHERE user_id = ?`,
		`DELETE FROM members WHERE user_id = ?`,
		`DELETE FROM connections WHERE user_id = ?`,
		`DELETE FROM blocks WHERE user_id = ?1 OR blocked_id = ?1`,
		`DELETE FROM invitations WHERE user_id = ?`,
	} {
		if _, err := tx.ExecContext(ctx, q, userID); err != nil {
			return mapErr(op, err)
		}
	}
	res, err := tx.ExecContext(ctx, `DELETE FROM users WHERE user_id = ?`, userID)
	if err != nil {
		return mapErr(op, err)
	}
	if n, err := res.RowsAffected(); err != nil || n != 1 {
		return notFound(op, "User")
	}
	return mapErr(op, tx.Commit())
}

// accountFilterColumns maps AccountFilter.Field to the column compared.
var accountFilterColumns = map[string]string{"email": "email_lower", "username": "username", "user_id": "user_id"}

// ListAccounts implements confab.CredentialStore.
func (s *Store) ListAccounts(ctx context.Context, f confab.AccountFilter) ([]*confab.Account, error) {
	const op = "list accounts"
	if f.Limit < 1 || f.Limit > confab.MaxPageLimit {
		return nil, &confab.Error{Code: confab.CodeInvalid, Op: op, Err: fmt.Errorf("limit %d is not between 1 and %d", f.Limit, confab.MaxPageLimit)}
	}
	where, args := `user_id > ?`, []any{f.After}
	if f.Field != "" {
		col, ok := accountFilterColumns[f.Field]
		if !ok {
			return nil, &confab.Error{Code: confab.CodeInvalid, Op: op, Err: fmt.Errorf("accounts cannot be filtered on %q", f.Field)}
		}
		v := f.Value
		if f.Field == "email" {
			v = strings.ToLower(v)
		}
		if f.Prefix {
			where += ` AND substr(` + col + `, 1, length(?)) = ?`
			args = append(args, v, v)
		} else {
			where += ` AND ` + col + ` = ?`
			args = append(args, v)
		}
	}
	rows, err := s.read.QueryContext(ctx, `SELECT `+userColumns+`, password_hash, disabled FROM users WHERE `+where+` ORDER BY user_id LIMIT ?`, append(args, f.Limit)...)
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
	_, err := s.write.ExecContext(ctx, `INSERT INTO verification_codes (user_id, purpose, hash, expires_at, attempts) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (user_id, purpose) DO UPDATE SET hash = excluded.hash, expires_at = excluded.expires_at, attempts = excluded.attempts`,
		c.UserID, c.Purpose, c.Hash, ms(c.ExpiresAt), c.Attempts)
	return mapErr("insert verification code", err)
}

// GetVerificationCode implements confab.CredentialStore.
func (s *Store) GetVerificationCode(ctx context.Context, userID, purpose string) (*confab.VerificationCode, error) {
	c := confab.VerificationCode{UserID: userID, Purpose: purpose}
	var expires int64
	err := s.read.QueryRowContext(ctx, `SELECT hash, expires_at, attempts FROM verification_codes WHERE user_id = ? AND purpose = ?`, userID, purpose).
		Scan(&c.Hash, &expires, &c.Attempts)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound("get verification code", "Code")
	}
	if err != nil {
		return nil, mapErr("get verification code", err)
	}
	c.ExpiresAt = fromMS(expires)
	return &c, nil
}

// AddVerificationCodeAttempt implements confab.CredentialStore.
func (s *Store) AddVerificationCodeAttempt(ctx context.Context, userID, purpose string) (int, error) {
	var n int
	err := s.write.QueryRowContext(ctx, `UPDATE verification_codes SET attempts = attempts + 1 WHERE user_id = ? AND purpose = ? RETURNING attempts`, userID, purpose).Scan(&n)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, notFound("add verification code attempt", "Code")
	}
	return n, mapErr("add verification code attempt", err)
}

// DeleteVerificationCode implements confab.CredentialStore.
func (s *Store) DeleteVerificationCode(ctx context.Context, userID, purpose string) error {
	res, err := s.write.ExecContext(ctx, `DELETE FROM verification_codes WHERE user_id = ? AND purpose = ?`, userID, purpose)
	if err != nil {
		return mapErr("delete verification code", err)
	}
	if n, err := res.RowsAffected(); err != nil || n != 1 {
		return notFound("delete verification code", "Code")
	}
	return nil
}
