package auth

import (
	"context"

	"github.com/confab-chat/confab"
)

// liftExpiredBan is asked at a sign-in that proved the password of a
// disabled account. When the account is disabled by a server ban
// (confab.Ban, ConversationID "") that has expired, it enables the account
// and deletes the ban, and reports true: the sign-in goes on. A disabled
// account with no ban (an administrator disabled it) or with a ban still
// in force stays disabled. The account is enabled before the ban is
// deleted, so a failure in between leaves at worst a stale, expired ban,
// never an account disabled with nothing to lift it.
func (s *Service) liftExpiredBan(ctx context.Context, userID string) (bool, error) {
	b, err := s.store.GetBan(ctx, "", userID)
	if confab.ErrorCode(err) == confab.CodeNotFound {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	if b.Active(s.now()) {
		return false, nil
	}
	if err := s.store.UpdateCredentials(ctx, userID, confab.CredentialsUpdate{Disabled: ptrTo(false), UpdatedAt: s.now()}); err != nil {
		return false, err
	}
	if _, err := s.store.DeleteBan(ctx, "", userID); err != nil {
		return false, err
	}
	return true, nil
}
