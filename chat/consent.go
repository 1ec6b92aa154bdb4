package chat

import (
	"context"
	"time"

	"github.com/confab-chat/confab"
)

// Consent: nobody is put into a conversation with a stranger silently.
// Each user's AddPolicy says who may add them without asking; anyone else
// adding them sends an Invitation they accept or decline. A block, either
// way between two users, keeps each from adding the other anywhere or
// starting a direct conversation with them, and hides the blocked user's
// messages from the blocker (hideBlocked).

// admit sorts the users the caller puts into a conversation into those
// their AddPolicy lets the caller add and those who get an invitation.
// A block between the caller and any of them, either way, refuses it all
// (FORBIDDEN, without saying who blocked whom).
func (s *Service) admit(ctx context.Context, caller confab.Identity, users []*confab.User) (add, invite []*confab.User, err error) {
	if err := s.refuseBlocked(ctx, caller, users); err != nil {
		return nil, nil, err
	}
	for _, u := range users {
		ok, err := s.admits(ctx, u, caller.UserID)
		if err != nil {
			return nil, nil, err
		}
		if ok {
			add = append(add, u)
		} else {
			invite = append(invite, u)
		}
	}
	return add, invite, nil
}

// admits reports whether u's AddPolicy lets byUserID add them without an
// invitation.
func (s *Service) admits(ctx context.Context, u *confab.User, byUserID string) (bool, error) {
	switch u.AddPolicy {
	case confab.AddInvitation:
		return false, nil
	case confab.AddContacts:
		return s.store.SharesConversation(ctx, u.UserID, byUserID)
	}
	return true, nil
}

// refuseBlocked refuses (FORBIDDEN) when the caller blocks one of users or
// one of them blocks the caller.
func (s *Service) refuseBlocked(ctx context.Context, caller confab.Identity, users []*confab.User) error {
	if len(users) == 0 {
		return nil
	}
	ids := make([]string, len(users))
	for i, u := range users {
		ids[i] = u.UserID
	}
	blocks, err := s.store.BlocksBetween(ctx, caller.UserID, ids)
	if err != nil {
		return err
	}
	for _, b := range blocks {
		other := b.BlockedID
		if other == caller.UserID {
			other = b.UserID
		}
		for _, u := range users {
			if u.UserID == other {
				return confab.Errorf(confab.CodeForbidden, "You cannot add %s.", u.Username)
			}
		}
	}
	return nil
}

// invite stores an invitation of each user to the conversation and tells
// them through onInvitation.
func (s *Service) invite(ctx context.Context, caller confab.Identity, conversationID string, users []*confab.User, role confab.Role, at time.Time) error {
	for _, u := range users {
		inv := &confab.Invitation{ConversationID: conversationID, UserID: u.UserID, InvitedBy: caller.UserID, Role: role, CreatedAt: at}
		if err := s.store.InsertInvitation(ctx, inv); err != nil {
			return err
		}
		s.publish(ctx, confab.UserTopic(u.UserID), &confab.Event{Kind: confab.EventInvited, ConversationID: conversationID, Invitation: inv, At: at})
	}
	return nil
}

func errInvitationNotFound() error {
	return confab.Errorf(confab.CodeNotFound, "Invitation not found.")
}

// AcceptInvitation makes the caller a member of the conversation they were
// invited to, with the invitation's role. Of two racing answers to one
// invitation (accept and decline, or two accepts) exactly one wins; the
// other gets NOT_FOUND. A user banned from the conversation since cannot
// accept (FORBIDDEN), and neither can anyone join an archived
// conversation; the invitation then stays.
func (s *Service) AcceptInvitation(ctx context.Context, caller confab.Identity, conversationID string) (*confab.Conversation, error) {
	if err := s.requireCaller(caller); err != nil {
		return nil, err
	}
	if !confab.ValidID(conversationID) {
		return nil, errInvitationNotFound()
	}
	inv, err := s.store.GetInvitation(ctx, conversationID, caller.UserID)
	if confab.ErrorCode(err) == confab.CodeNotFound {
		return nil, errInvitationNotFound()
	}
	if err != nil {
		return nil, err
	}
	if err := s.refuseBanned(ctx, conversationID, []string{caller.UserID}, nil); err != nil {
		return nil, err
	}
	c, err := s.store.GetConversation(ctx, conversationID)
	if confab.ErrorCode(err) == confab.CodeNotFound {
		return nil, errInvitationNotFound() // deleted since
	}
	if err != nil {
		return nil, err
	}
	if err := s.requireOpen(ctx, caller, c); err != nil {
		return nil, err
	}
	if err := s.store.DeleteInvitation(ctx, conversationID, caller.UserID); err != nil {
		if confab.ErrorCode(err) == confab.CodeNotFound {
			return nil, errInvitationNotFound() // the other answer won
		}
		return nil, err
	}
	at := s.nowUTC()
	added, c, err := s.store.AddMembers(ctx, conversationID, caller.UserID,
		[]confab.Member{{UserID: caller.UserID, Role: inv.Role, JoinedAt: at}}, confab.MaxMembers, at)
	if err != nil {
		// Not joined: the invitation stays answerable.
		if rerr := s.store.InsertInvitation(ctx, inv); rerr != nil {
			s.logger.WarnContext(ctx, "invitation lost after a failed accept", "conversation_id", conversationID, "user_id", caller.UserID, "err", rerr)
		}
		switch confab.ErrorCode(err) {
		case confab.CodeNotFound:
			return nil, errConversationNotFound()
		case confab.CodeLimited:
			return nil, errTooManyMembers()
		}
		return nil, err
	}
	s.membersAdded(ctx, c, caller.UserID, added, at)
	return c, nil
}

// DeclineInvitation drops the caller's invitation to the conversation
// (NOT_FOUND when there is none, or when an accept won the race).
func (s *Service) DeclineInvitation(ctx context.Context, caller confab.Identity, conversationID string) error {
	if err := s.requireCaller(caller); err != nil {
		return err
	}
	if !confab.ValidID(conversationID) {
		return errInvitationNotFound()
	}
	err := s.store.DeleteInvitation(ctx, conversationID, caller.UserID)
	if confab.ErrorCode(err) == confab.CodeNotFound {
		return errInvitationNotFound()
	}
	return err
}

// Invitations lists the caller's pending invitations, newest first (at
// most confab.MaxInvitationsShown).
func (s *Service) Invitations(ctx context.Context, caller confab.Identity) ([]*confab.Invitation, error) {
	if err := s.requireCaller(caller); err != nil {
		return nil, err
	}
	return s.store.ListInvitations(ctx, caller.UserID, confab.MaxInvitationsShown)
}

// InvitationConversation returns the conversation an invitation of the
// caller is to (its name is shown with the invitation), or nil when the
// invitation is not the caller's or the conversation is gone.
func (s *Service) InvitationConversation(ctx context.Context, caller confab.Identity, inv *confab.Invitation) (*confab.Conversation, error) {
	if err := s.requireCaller(caller); err != nil {
		return nil, err
	}
	if inv.UserID != caller.UserID {
		return nil, nil
	}
	c, err := s.store.GetConversation(ctx, inv.ConversationID)
	if confab.ErrorCode(err) == confab.CodeNotFound {
		return nil, nil
	}
	return c, err
}

// OnInvitation streams the caller's new invitations. userID must be the
// caller's own.
func (s *Service) OnInvitation(ctx context.Context, caller confab.Identity, userID string) (<-chan *confab.Invitation, error) {
	if err := s.requireSelf(caller, userID); err != nil {
		return nil, err
	}
	return subscribeSimple(ctx, s, confab.UserTopic(userID), func(ev *confab.Event) (*confab.Invitation, bool) {
		return ev.Invitation, ev.Kind == confab.EventInvited && ev.Invitation != nil
	})
}

// BlockUser makes the caller block userID: from then on neither can add
// the other to a conversation or start a direct conversation with them,
// and the caller does not see userID's messages. At most confab.MaxBlocks
// (RATE_LIMITED beyond). Blocking someone already blocked changes nothing.
func (s *Service) BlockUser(ctx context.Context, caller confab.Identity, userID string) error {
	if err := s.checkBlockTarget(ctx, caller, userID); err != nil {
		return err
	}
	_, err := s.store.InsertBlock(ctx, &confab.Block{UserID: caller.UserID, BlockedID: userID, CreatedAt: s.nowUTC()}, confab.MaxBlocks)
	if confab.ErrorCode(err) == confab.CodeLimited {
		return confab.Errorf(confab.CodeLimited, "You can block at most %d users.", confab.MaxBlocks)
	}
	if err != nil {
		return err
	}
	s.blocksChanged(ctx, caller.UserID)
	return nil
}

// UnblockUser lifts the caller's block of userID (nothing when there was
// none).
func (s *Service) UnblockUser(ctx context.Context, caller confab.Identity, userID string) error {
	if err := s.requireCaller(caller); err != nil {
		return err
	}
	if !confab.ValidID(userID) {
		return confab.Errorf(confab.CodeNotFound, "User not found.")
	}
	removed, err := s.store.DeleteBlock(ctx, caller.UserID, userID)
	if err != nil {
		return err
	}
	if removed {
		s.blocksChanged(ctx, caller.UserID)
	}
	return nil
}

// checkBlockTarget refuses blocking oneself or a user who does not exist.
func (s *Service) checkBlockTarget(ctx context.Context, caller confab.Identity, userID string) error {
	if err := s.requireCaller(caller); err != nil {
		return err
	}
	if userID == caller.UserID {
		return confab.Errorf(confab.CodeInvalid, "You cannot block yourself.")
	}
	if !confab.ValidID(userID) {
		return confab.Errorf(confab.CodeNotFound, "User not found.")
	}
	_, err := s.store.GetUser(ctx, userID)
	if confab.ErrorCode(err) == confab.CodeNotFound {
		return confab.Errorf(confab.CodeNotFound, "User not found.")
	}
	return err
}

// BlockedUsers returns the users the caller blocks, oldest block first,
// as a stranger sees them (a block is no reason to see more).
func (s *Service) BlockedUsers(ctx context.Context, caller confab.Identity) ([]*confab.User, error) {
	if err := s.requireCaller(caller); err != nil {
		return nil, err
	}
	blocks, err := s.store.ListBlocks(ctx, caller.UserID, confab.MaxBlocks)
	if err != nil {
		return nil, err
	}
	byID := make(map[string]*confab.User, len(blocks))
	for from := 0; from < len(blocks); from += confab.MaxPageLimit {
		ids := make([]string, 0, confab.MaxPageLimit)
		for _, b := range blocks[from:min(from+confab.MaxPageLimit, len(blocks))] {
			ids = append(ids, b.BlockedID)
		}
		users, err := s.store.GetUsers(ctx, ids)
		if err != nil {
			return nil, err
		}
		for _, u := range users {
			byID[u.UserID] = s.view(u, false)
		}
	}
	out := make([]*confab.User, 0, len(blocks))
	for _, b := range blocks {
		if u, ok := byID[b.BlockedID]; ok { // a deleted account is left out
			out = append(out, u)
		}
	}
	return out, nil
}

// hideBlocked drops from msgs the messages of users the caller blocks,
// in place.
func (s *Service) hideBlocked(ctx context.Context, caller confab.Identity, msgs []*confab.Message) ([]*confab.Message, error) {
	if len(msgs) == 0 {
		return msgs, nil
	}
	blocked, err := s.blockedBy(ctx, caller.UserID)
	if err != nil || len(blocked) == 0 {
		return msgs, err
	}
	out := msgs[:0]
	for _, m := range msgs {
		if _, ok := blocked[m.UserID]; !ok {
			out = append(out, m)
		}
	}
	return out, nil
}
