package admin

import (
	"context"
	"crypto/rand"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/confab-chat/confab"
)

// User is an account as an administrator sees it: the real e-mail address
// (in User.Email), whether it is disabled, and its server-wide ban.
type User struct {
	User     *confab.User
	Disabled bool
	Ban      *confab.Ban // nil when none (expired bans included until lifted)
}

// UserPage is one page of ListUsers.
type UserPage struct {
	Items     []*User
	NextToken *string // the last UserID; nil on the last page
}

// searchFields are the account fields ListUsers matches a search against.
var searchFields = []string{"username", "email", "user_id"}

// ListUsers lists accounts in UserID order: all, or those whose username,
// e-mail address (case-insensitive) or user id starts with search. A full
// page comes with a NextToken even when nothing follows.
func (s *Service) ListUsers(ctx context.Context, a Actor, search string, limit *int, nextToken *string) (*UserPage, error) {
	if _, err := s.authorize(ctx, a); err != nil {
		return nil, err
	}
	n, err := pageLimit(limit, confab.MaxPageLimit)
	if err != nil {
		return nil, err
	}
	after, err := cursor(nextToken)
	if err != nil {
		return nil, err
	}
	search = strings.TrimSpace(search)
	if err := confab.CheckText("search", search, confab.MaxEmailBytes); err != nil {
		return nil, err
	}
	// A full page has a next one, maybe empty: the store's limit is the
	// API's, so there is no room to read one more and know.
	accounts, err := s.searchAccounts(ctx, search, after, n)
	if err != nil {
		return nil, err
	}
	page := &UserPage{}
	if len(accounts) == n {
		page.NextToken = &accounts[n-1].User.UserID
	}
	for _, acc := range accounts {
		u, err := s.view(ctx, &acc.User, acc.Disabled)
		if err != nil {
			return nil, err
		}
		page.Items = append(page.Items, u)
	}
	return page, nil
}

// searchAccounts returns up to limit accounts after the UserID after that
// match search on any of searchFields: one store read per field, merged
// in UserID order (each read is in that order) without duplicates.
func (s *Service) searchAccounts(ctx context.Context, search, after string, limit int) ([]*confab.Account, error) {
	if search == "" {
		return s.store.ListAccounts(ctx, confab.AccountFilter{After: after, Limit: limit})
	}
	var all []*confab.Account
	for _, field := range searchFields {
		list, err := s.store.ListAccounts(ctx, confab.AccountFilter{Field: field, Value: search, Prefix: true, After: after, Limit: limit})
		if err != nil {
			return nil, err
		}
		all = append(all, list...)
	}
	slices.SortFunc(all, func(x, y *confab.Account) int { return strings.Compare(x.User.UserID, y.User.UserID) })
	all = slices.CompactFunc(all, func(x, y *confab.Account) bool { return x.User.UserID == y.User.UserID })
	return all[:min(len(all), limit)], nil
}

// view completes an account with its ban. Only a disabled account can
// have a server ban (banning disables), so others cost no read.
func (s *Service) view(ctx context.Context, u *confab.User, disabled bool) (*User, error) {
	v := &User{User: u, Disabled: disabled}
	if !disabled {
		return v, nil
	}
	b, err := s.store.GetBan(ctx, "", u.UserID)
	switch {
	case err == nil:
		v.Ban = b
	case confab.ErrorCode(err) != confab.CodeNotFound:
		return nil, err
	}
	return v, nil
}

// GetUser returns one account by user id, e-mail address or username;
// NOT_FOUND when there is none.
func (s *Service) GetUser(ctx context.Context, a Actor, login string) (*User, error) {
	if _, err := s.authorize(ctx, a); err != nil {
		return nil, err
	}
	return s.user(ctx, login)
}

func (s *Service) user(ctx context.Context, login string) (*User, error) {
	u, cred, err := s.auth.Account(ctx, login)
	if err != nil {
		return nil, err
	}
	return s.view(ctx, u, cred.Disabled)
}

// SetUserDisabled disables the account (signing it out everywhere: its
// tokens stop working and its live connections close at once on every
// node) or enables it again, which lifts a server ban too (a ban is what
// keeps an account disabled).
func (s *Service) SetUserDisabled(ctx context.Context, a Actor, login string, disabled bool, reason string) (*User, error) {
	actorID, err := s.authorize(ctx, a)
	if err != nil {
		return nil, err
	}
	if err := checkReason(reason); err != nil {
		return nil, err
	}
	u, err := s.user(ctx, login)
	if err != nil {
		return nil, err
	}
	if !disabled && u.Ban != nil {
		if _, err := s.store.DeleteBan(ctx, "", u.User.UserID); err != nil {
			return nil, err
		}
	}
	if err := s.auth.SetDisabled(ctx, u.User.UserID, disabled); err != nil {
		return nil, err
	}
	action := confab.AuditUserEnabled
	if disabled {
		action = confab.AuditUserDisabled
	}
	if err := s.audit(ctx, actorID, confab.AuditEntry{Action: action, UserID: u.User.UserID, Reason: reason}); err != nil {
		return nil, err
	}
	return s.user(ctx, u.User.UserID)
}

// SignOutUser ends every session of the account: its refresh tokens are
// revoked and its live connections close on every node.
func (s *Service) SignOutUser(ctx context.Context, a Actor, login string) error {
	actorID, err := s.authorize(ctx, a)
	if err != nil {
		return err
	}
	u, err := s.user(ctx, login)
	if err != nil {
		return err
	}
	if err := s.auth.SignOutAccount(ctx, u.User.UserID); err != nil {
		return err
	}
	return s.audit(ctx, actorID, confab.AuditEntry{Action: confab.AuditUserSignedOut, UserID: u.User.UserID})
}

// ResetPassword gives the account a random temporary password, which it
// returns once (it is stored only hashed): the user must choose a new one
// at the next sign-in (NEW_PASSWORD_REQUIRED). The account is signed out
// everywhere too, since a reset usually means the old password leaked.
func (s *Service) ResetPassword(ctx context.Context, a Actor, login string) (string, error) {
	actorID, err := s.authorize(ctx, a)
	if err != nil {
		return "", err
	}
	u, err := s.user(ctx, login)
	if err != nil {
		return "", err
	}
	pw := temporaryPassword()
	if err := s.auth.SetPassword(ctx, u.User.UserID, pw, false); err != nil {
		return "", err
	}
	if err := s.auth.SignOutAccount(ctx, u.User.UserID); err != nil {
		return "", err
	}
	if err := s.audit(ctx, actorID, confab.AuditEntry{Action: confab.AuditPasswordReset, UserID: u.User.UserID}); err != nil {
		return "", err
	}
	return pw, nil
}

// temporaryPassword is 128 random bits in base32 (upper case and digits)
// with a lower-case letter and a symbol added, so that it meets any
// password policy confab's flags can set.
func temporaryPassword() string { return "t-" + rand.Text() }

// SetAdmin grants or revokes the server administrator role. An
// administrator cannot revoke their own role through the API (BAD_USER_INPUT):
// another administrator, or the command line, must. So the API never
// leaves the server without an administrator, and nobody locks themselves
// out by mistake.
func (s *Service) SetAdmin(ctx context.Context, a Actor, login string, admin bool) (*User, error) {
	actorID, err := s.authorize(ctx, a)
	if err != nil {
		return nil, err
	}
	u, err := s.user(ctx, login)
	if err != nil {
		return nil, err
	}
	if !admin && actorID != "" && u.User.UserID == actorID {
		return nil, confab.Errorf(confab.CodeInvalid, "Administrators cannot revoke their own role; another administrator or the command line can.")
	}
	if u.User.Admin == admin {
		return u, nil // nothing changes, nothing to record
	}
	if u.User, err = s.store.UpdateUser(ctx, u.User.UserID, confab.UserUpdate{Admin: &admin, UpdatedAt: s.now().UTC()}); err != nil {
		return nil, err
	}
	action := confab.AuditAdminRevoked
	if admin {
		action = confab.AuditAdminGranted
	}
	if err := s.audit(ctx, actorID, confab.AuditEntry{Action: action, UserID: u.User.UserID}); err != nil {
		return nil, err
	}
	return u, nil
}

// BanUser bans the account from the whole server until until (nil: for
// good): it is disabled, which signs it out everywhere, and stays so.
// Once a timed ban has expired the next sign-in lifts it (auth). until
// must be in the future.
func (s *Service) BanUser(ctx context.Context, a Actor, login string, until *time.Time, reason string) (*User, error) {
	actorID, err := s.authorize(ctx, a)
	if err != nil {
		return nil, err
	}
	if err := checkReason(reason); err != nil {
		return nil, err
	}
	now := s.now().UTC()
	if until != nil && !until.After(now) {
		return nil, confab.Errorf(confab.CodeInvalid, "until must be in the future.")
	}
	u, err := s.user(ctx, login)
	if err != nil {
		return nil, err
	}
	if actorID != "" && u.User.UserID == actorID {
		return nil, confab.Errorf(confab.CodeInvalid, "Administrators cannot ban themselves.")
	}
	ban := &confab.Ban{UserID: u.User.UserID, BannedBy: actorID, Reason: reason, CreatedAt: now.Truncate(time.Millisecond), Until: until}
	if err := s.store.PutBan(ctx, ban); err != nil {
		return nil, err
	}
	if err := s.auth.SetDisabled(ctx, u.User.UserID, true); err != nil {
		return nil, err
	}
	if err := s.audit(ctx, actorID, confab.AuditEntry{Action: confab.AuditUserBanned, UserID: u.User.UserID, Reason: reason, Until: until}); err != nil {
		return nil, err
	}
	return s.user(ctx, u.User.UserID)
}

// UnbanUser lifts the account's server ban and enables it. An account
// with no ban is only enabled.
func (s *Service) UnbanUser(ctx context.Context, a Actor, login string) (*User, error) {
	actorID, err := s.authorize(ctx, a)
	if err != nil {
		return nil, err
	}
	u, err := s.user(ctx, login)
	if err != nil {
		return nil, err
	}
	if _, err := s.store.DeleteBan(ctx, "", u.User.UserID); err != nil {
		return nil, err
	}
	if err := s.auth.SetDisabled(ctx, u.User.UserID, false); err != nil {
		return nil, err
	}
	if err := s.audit(ctx, actorID, confab.AuditEntry{Action: confab.AuditUserUnbanned, UserID: u.User.UserID}); err != nil {
		return nil, err
	}
	return s.user(ctx, u.User.UserID)
}

// userMessageBatch is how many of a user's messages DeleteUser reads and
// deletes at a time.
const userMessageBatch = 100

// DeleteUser deletes the account: its profile, credentials, sessions
// (signed out at once) and memberships. With deleteMessages every message
// it wrote is deleted first, each as a moderator's deletion by the actor
// (members see the tombstones live); otherwise the messages stay, with no
// author. An administrator cannot delete their own account here.
func (s *Service) DeleteUser(ctx context.Context, a Actor, login string, deleteMessages bool, reason string) error {
	actorID, err := s.authorize(ctx, a)
	if err != nil {
		return err
	}
	if err := checkReason(reason); err != nil {
		return err
	}
	u, err := s.user(ctx, login)
	if err != nil {
		return err
	}
	userID := u.User.UserID
	if actorID != "" && userID == actorID {
		return confab.Errorf(confab.CodeInvalid, "Administrators cannot delete their own account here.")
	}
	detail := "messages kept"
	if deleteMessages {
		n, err := s.deleteMessagesOf(ctx, actorID, userID)
		if err != nil {
			return err
		}
		detail = "messages deleted: " + strconv.Itoa(n)
	}
	if err := s.auth.DeleteAccount(ctx, userID); err != nil {
		return err
	}
	return s.audit(ctx, actorID, confab.AuditEntry{Action: confab.AuditUserDeleted, UserID: userID, Reason: reason, Detail: detail})
}

// deleteMessagesOf deletes every message userID wrote, newest first, and
// returns how many. The account is disabled first, so nothing new arrives
// behind the deletion.
func (s *Service) deleteMessagesOf(ctx context.Context, actorID, userID string) (int, error) {
	if err := s.auth.SetDisabled(ctx, userID, true); err != nil {
		return 0, err
	}
	n, before := 0, ""
	for {
		list, err := s.store.ListUserMessages(ctx, userID, before, userMessageBatch)
		if err != nil {
			return n, err
		}
		for _, m := range list {
			err := s.chat.DeleteMessageAs(ctx, actorID, m.ConversationID, m.MessageID)
			if err != nil && confab.ErrorCode(err) != confab.CodeNotFound { // NOT_FOUND: gone meanwhile
				return n, err
			}
			n++
		}
		if len(list) < userMessageBatch {
			return n, nil
		}
		before = list[len(list)-1].MessageID
	}
}
