package metered

import (
	"context"

	"github.com/confab-chat/confab"
)

// The methods below implement the credential and refresh-family parts of
// confab.Store, reported like the others under their method names.

func (s *Store) GetRefreshFamily(ctx context.Context, familyID string) (*confab.RefreshFamily, error) {
	return call(s, "GetRefreshFamily", func() (*confab.RefreshFamily, error) { return s.next.GetRefreshFamily(ctx, familyID) })
}

func (s *Store) RevokeUserRefreshTokens(ctx context.Context, userID string) ([]string, error) {
	return call(s, "RevokeUserRefreshTokens", func() ([]string, error) { return s.next.RevokeUserRefreshTokens(ctx, userID) })
}

func (s *Store) GetCredentials(ctx context.Context, userID string) (*confab.Credentials, error) {
	return call(s, "GetCredentials", func() (*confab.Credentials, error) { return s.next.GetCredentials(ctx, userID) })
}

func (s *Store) UpdateCredentials(ctx context.Context, userID string, u confab.CredentialsUpdate) error {
	return run(s, "UpdateCredentials", func() error { return s.next.UpdateCredentials(ctx, userID, u) })
}

func (s *Store) DeleteAccount(ctx context.Context, userID string) error {
	return run(s, "DeleteAccount", func() error { return s.next.DeleteAccount(ctx, userID) })
}

func (s *Store) ListAccounts(ctx context.Context, f confab.AccountFilter) ([]*confab.Account, error) {
	return call(s, "ListAccounts", func() ([]*confab.Account, error) { return s.next.ListAccounts(ctx, f) })
}

func (s *Store) InsertVerificationCode(ctx context.Context, c *confab.VerificationCode) error {
	return run(s, "InsertVerificationCode", func() error { return s.next.InsertVerificationCode(ctx, c) })
}

func (s *Store) GetVerificationCode(ctx context.Context, userID, purpose string) (*confab.VerificationCode, error) {
	return call(s, "GetVerificationCode", func() (*confab.VerificationCode, error) { return s.next.GetVerificationCode(ctx, userID, purpose) })
}

func (s *Store) AddVerificationCodeAttempt(ctx context.Context, userID, purpose string) (int, error) {
	return call(s, "AddVerificationCodeAttempt", func() (int, error) { return s.next.AddVerificationCodeAttempt(ctx, userID, purpose) })
}

func (s *Store) DeleteVerificationCode(ctx context.Context, userID, purpose string) error {
	return run(s, "DeleteVerificationCode", func() error { return s.next.DeleteVerificationCode(ctx, userID, purpose) })
}
