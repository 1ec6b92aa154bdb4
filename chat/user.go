package chat

import (
	"context"
	"net/url"
	"strings"

	"github.com/confab-chat/confab"
)

// ProfileUpdate is updateUserProfile's input; nil fields stay unchanged.
type ProfileUpdate struct {
	UserID       string
	DisplayName  *string
	AvatarURL    *string
	HidePresence *bool
	// HideReadReceipts keeps the user's read marks from the other
	// members (see receipts.go).
	HideReadReceipts *bool
	// AddPolicy is who may add the user to a conversation without an
	// invitation (consent.go).
	AddPolicy *confab.AddPolicy
}

// Config.ShowEmails values.
const (
	ShowEmailsSelf    = "self"
	ShowEmailsMembers = "members"
)

// Who sees what of a user (issue 18): the user sees all of their record.
// Anyone else sees the profile (username, display name, avatar), but
//   - the email only when the deployment shows emails to members
//     (Config.ShowEmails) and they share a conversation, else
//     confab.HiddenEmail; findUser by email shows the address typed;
//   - presence (isOnline, lastSeen) only when they share a conversation
//     and the user does not hide it (HidePresence), else offline and
//     never seen;
//   - HidePresence and HideReadReceipts as false.
//
// Message.author is always seen as by a member of the message's
// conversation (Author), whoever asks, so one rendering of a message serves
// every subscriber (graph.SharedSubscriptions).

// view returns what someone other than u sees of u; member says whether
// they share a conversation.
func (s *Service) view(u *confab.User, member bool) *confab.User {
	v := *u
	v.HidePresence, v.HideReadReceipts = false, false
	if !member || u.HidePresence {
		v.IsOnline, v.LastSeen = false, nil
	}
	if !member || s.cfg.ShowEmails != ShowEmailsMembers {
		v.Email = confab.HiddenEmail
	}
	return &v
}

// viewFor returns what caller sees of u, looking up whether they share a
// conversation when it matters.
func (s *Service) viewFor(ctx context.Context, caller confab.Identity, u *confab.User) (*confab.User, error) {
	if u.UserID == caller.UserID {
		return u, nil
	}
	member, err := s.sharesConversation(ctx, caller.UserID, u.UserID)
	if err != nil {
		return nil, err
	}
	return s.view(u, member), nil
}

// sharesConversation reports whether users a and b are members of one
// conversation: a's conversations (at most maxPresenceFanout of them) are
// checked against the cached member sets first, then against b's.
func (s *Service) sharesConversation(ctx context.Context, a, b string) (bool, error) {
	mine, err := s.store.ListConversationIDs(ctx, a, maxPresenceFanout)
	if err != nil {
		return false, err
	}
	cached := s.cachedMembers(mine)
	for _, e := range cached {
		if _, ok := e.members[b]; ok {
			return true, nil
		}
	}
	if len(cached) == len(mine) {
		return false, nil
	}
	theirs, err := s.store.ListConversationIDs(ctx, b, maxPresenceFanout)
	if err != nil {
		return false, err
	}
	in := make(map[string]bool, len(mine))
	for _, id := range mine {
		in[id] = true
	}
	for _, id := range theirs {
		if in[id] {
			return true, nil
		}
	}
	return false, nil
}

// GetUser returns a user as the caller may see them (see view). Any
// signed-in user may look up a user by id; ids are not guessable and no
// operation lists users.
func (s *Service) GetUser(ctx context.Context, caller confab.Identity, userID string) (*confab.User, error) {
	if err := s.requireCaller(caller); err != nil {
		return nil, err
	}
	if !confab.ValidID(userID) {
		return nil, confab.Errorf(confab.CodeNotFound, "User not found.")
	}
	u, err := s.store.GetUser(ctx, userID)
	if confab.ErrorCode(err) == confab.CodeNotFound {
		return nil, confab.Errorf(confab.CodeNotFound, "User not found.")
	}
	if err != nil {
		return nil, err
	}
	return s.viewFor(ctx, caller, u)
}

// Authors returns the authors among ids of messages of a conversation of
// the caller, as a member of it sees them (the same for every caller; see
// view), for batching Message.author. Users who are not members are left
// out.
func (s *Service) Authors(ctx context.Context, caller confab.Identity, conversationID string, ids []string) ([]*confab.User, error) {
	members, err := s.memberSet(ctx, caller, conversationID)
	if err != nil {
		return nil, err
	}
	var in []string
	for _, id := range ids {
		if _, ok := members[id]; ok {
			in = append(in, id)
		}
	}
	users, err := s.store.GetUsers(ctx, in)
	if err != nil {
		return nil, err
	}
	for i, u := range users {
		users[i] = s.view(u, true)
	}
	return users, nil
}

// memberSet checks that the caller is a member of the conversation and
// returns its members by id (cached; read-only).
func (s *Service) memberSet(ctx context.Context, caller confab.Identity, conversationID string) (map[string]*confab.Member, error) {
	if err := s.requireMember(ctx, caller, conversationID); err != nil {
		return nil, err
	}
	e, err := s.cachedConversation(ctx, conversationID)
	if err != nil {
		return nil, err
	}
	return e.members, nil
}

// FindUser returns the user whose username or email is exactly q, as the
// caller may see them (see view), or NOT_FOUND. It finds one person someone
// already knows how to address; there is no operation that lists users.
// Found by email, the user shows that email (the caller typed it); found
// by username, the email stays hidden.
func (s *Service) FindUser(ctx context.Context, caller confab.Identity, q string) (*confab.User, error) {
	if err := s.requireCaller(caller); err != nil {
		return nil, err
	}
	q = strings.TrimSpace(q)
	if q == "" || len(q) > confab.MaxEmailBytes {
		return nil, confab.Errorf(confab.CodeInvalid, "Give a username or an email address.")
	}
	if !confab.ValidText(q, confab.MaxEmailBytes) { // no stored name is like it
		return nil, confab.Errorf(confab.CodeNotFound, "User not found.")
	}
	a, err := s.store.GetAccountByLogin(ctx, q)
	if confab.ErrorCode(err) == confab.CodeNotFound {
		return nil, confab.Errorf(confab.CodeNotFound, "User not found.")
	}
	if err != nil {
		return nil, err
	}
	v, err := s.viewFor(ctx, caller, &a.User)
	if err != nil {
		return nil, err
	}
	if strings.EqualFold(q, a.User.Email) {
		v.Email = a.User.Email
	}
	return v, nil
}

// UpdateUserProfile changes the caller's own display name, avatar URL,
// presence choice (HidePresence: hiding tells the members the user is
// offline; showing again takes effect at the next presence change) or
// read-receipt choice (HideReadReceipts: from then on, for marks already
// made and new ones) or AddPolicy (for additions from then on; pending
// invitations stay).
func (s *Service) UpdateUserProfile(ctx context.Context, caller confab.Identity, in ProfileUpdate) (*confab.User, error) {
	if err := s.requireSelf(caller, in.UserID); err != nil {
		return nil, err
	}
	if in.DisplayName != nil {
		n := strings.TrimSpace(*in.DisplayName)
		if err := confab.CheckName("displayName", n, confab.MaxDisplayNameBytes); err != nil {
			return nil, err
		}
		in.DisplayName = &n
	}
	if in.AvatarURL != nil && *in.AvatarURL != "" {
		u, err := url.Parse(*in.AvatarURL)
		if err != nil || !confab.ValidText(*in.AvatarURL, confab.MaxAvatarURLBytes) || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			return nil, confab.Errorf(confab.CodeInvalid, "avatarUrl must be an http(s) URL of at most %d bytes.", confab.MaxAvatarURLBytes)
		}
	}
	if p := in.AddPolicy; p != nil && *p != confab.AddAnyone && *p != confab.AddContacts && *p != confab.AddInvitation {
		return nil, confab.Errorf(confab.CodeInvalid, "addPolicy must be ANYONE, CONTACTS or INVITATION.")
	}
	u, err := s.store.UpdateUser(ctx, in.UserID, confab.UserUpdate{
		DisplayName: in.DisplayName, AvatarURL: in.AvatarURL, HidePresence: in.HidePresence,
		HideReadReceipts: in.HideReadReceipts, AddPolicy: in.AddPolicy, UpdatedAt: s.nowUTC(),
	})
	if err == nil && in.HidePresence != nil && *in.HidePresence {
		if err := s.publishPresence(ctx, u); err != nil { // members now see the user offline
			s.logger.WarnContext(ctx, "presence not hidden from members' live views", "user_id", u.UserID, "err", err)
		}
	}
	return u, err
}
