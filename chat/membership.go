package chat

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/confab-chat/confab"
)

// Membership rules. Roles rank OWNER > ADMIN > MEMBER > READ_ONLY
// (confab.Role.Rank). In short:
//
//	addMembers          the settings' AddMembers role or above (default
//	                    MEMBER); gives a role up to the caller's own,
//	                    never OWNER
//	removeMember        ADMIN removes members ranked below them; the OWNER
//	                    anyone
//	leaveConversation   anyone; an OWNER's ownership passes to the
//	                    longest-standing ADMIN, else MEMBER, else
//	                    READ_ONLY member. The last member leaving leaves
//	                    the conversation empty (kept: nobody sees it; the
//	                    admin API deletes it)
//	setMemberRole       ADMIN or above, on a member ranked below them, to
//	                    a role ranked below them (OWNER only by transfer)
//	transferOwnership   the OWNER, who becomes an ADMIN
//	updateConversationSettings  ADMIN or above
//
// A direct conversation gains and loses nobody (BAD_USER_INPUT); an
// archived one changes no membership (FORBIDDEN). A member without the
// role gets FORBIDDEN; a non-member NOT_FOUND, as for a missing
// conversation. Each change commits with its MEMBER_* entries of the
// change log, then: the cache is dropped on every node, the changes go to
// onConversationChanged, the conversation to every member's (and every
// removed member's) onConversationUpdated, and an action on someone else
// is written to the audit log.

// AddResult is what addMembers did.
type AddResult struct {
	Conversation *confab.Conversation
	Added        []string // users now members
	Invited      []string // users sent an invitation instead (their AddPolicy)
}

// AddMembers adds users (at most confab.MaxAddMembers a call; the
// conversation holds at most confab.MaxMembers: RATE_LIMITED beyond, a
// limit rather than bad input) with role (default MEMBER). Users already
// members are skipped; users whose AddPolicy does not admit the caller get
// an invitation instead; users banned from the conversation, or blocked
// either way by the caller, refuse the whole call (FORBIDDEN).
func (s *Service) AddMembers(ctx context.Context, caller confab.Identity, conversationID string, userIDs []string, role *confab.Role) (*AddResult, error) {
	c, me, err := s.memberOf(ctx, caller, conversationID)
	if err != nil {
		return nil, err
	}
	if c.Direct {
		return nil, confab.Errorf(confab.CodeInvalid, "A direct conversation cannot gain members.")
	}
	mine := RoleOf(c, me)
	if err := s.requireOpen(ctx, caller, c); err != nil {
		return nil, err
	}
	if !mine.AtLeast(c.Settings.Effective().AddMembers) {
		return nil, confab.Errorf(confab.CodeForbidden, "Your role cannot add members here.")
	}
	give := confab.RoleMember
	if role != nil {
		give = *role
	}
	switch {
	case give.Rank() < 0:
		return nil, confab.Errorf(confab.CodeInvalid, "role must be a member role.")
	case give == confab.RoleOwner:
		return nil, confab.Errorf(confab.CodeInvalid, "Nobody is added as OWNER: use transferOwnership.")
	case give.Rank() > mine.Rank():
		return nil, confab.Errorf(confab.CodeForbidden, "You cannot give a role above your own.")
	}
	ids, err := newMemberIDs(c, userIDs)
	if err != nil {
		return nil, err
	}
	res := &AddResult{Added: []string{}, Invited: []string{}}
	users, err := s.getUsers(ctx, ids)
	if err != nil {
		return nil, err
	}
	if len(users) != len(ids) {
		return nil, confab.Errorf(confab.CodeInvalid, "Every user must be an existing user.")
	}
	if err := s.refuseBanned(ctx, conversationID, ids, users); err != nil {
		return nil, err
	}
	add, invite, err := s.admit(ctx, caller, users)
	if err != nil {
		return nil, err
	}
	at := s.nowUTC()
	if len(add) > 0 {
		members := make([]confab.Member, len(add))
		for i, u := range add {
			members[i] = confab.Member{UserID: u.UserID, Role: give, JoinedAt: at}
		}
		added, after, err := s.store.AddMembers(ctx, conversationID, caller.UserID, members, confab.MaxMembers, at)
		switch confab.ErrorCode(err) {
		case "":
		case confab.CodeLimited:
			return nil, errTooManyMembers()
		case confab.CodeNotFound:
			return nil, errConversationNotFound()
		default:
			return nil, err
		}
		s.membersAdded(ctx, after, caller.UserID, added, at)
		for _, m := range added {
			res.Added = append(res.Added, m.UserID)
			s.auditLogged(ctx, &confab.AuditEntry{At: at, ActorID: caller.UserID, Action: confab.AuditMemberAdded,
				ConversationID: conversationID, UserID: m.UserID, Detail: string(m.Role)})
		}
		res.Conversation = after
	}
	if err := s.invite(ctx, caller, conversationID, invite, give, at); err != nil {
		return nil, err
	}
	for _, u := range invite {
		res.Invited = append(res.Invited, u.UserID)
	}
	if res.Conversation == nil { // nobody added: the conversation as it is (the cached one has stale counters)
		if res.Conversation, err = s.store.GetConversation(ctx, conversationID); err != nil {
			return nil, err
		}
	}
	return res, nil
}

// getUsers is store.GetUsers for no ids too.
func (s *Service) getUsers(ctx context.Context, ids []string) ([]*confab.User, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	return s.store.GetUsers(ctx, ids)
}

// newMemberIDs checks the ids addMembers was given and returns those not
// members yet, without duplicates.
func newMemberIDs(c *confab.Conversation, userIDs []string) ([]string, error) {
	if len(userIDs) == 0 {
		return nil, confab.Errorf(confab.CodeInvalid, "Give at least one user to add.")
	}
	if len(userIDs) > confab.MaxAddMembers {
		return nil, confab.Errorf(confab.CodeInvalid, "At most %d users can be added at once.", confab.MaxAddMembers)
	}
	var ids []string
	seen := make(map[string]bool, len(userIDs))
	for _, id := range userIDs {
		if !confab.ValidID(id) {
			return nil, confab.Errorf(confab.CodeInvalid, "userIds must be user ids.")
		}
		if !seen[id] && c.Member(id) == nil {
			ids = append(ids, id)
		}
		seen[id] = true
	}
	return ids, nil
}

func errTooManyMembers() error {
	return confab.Errorf(confab.CodeLimited, "A conversation has at most %d members.", confab.MaxMembers)
}

// refuseBanned refuses (FORBIDDEN) when one of ids is banned from the
// conversation. users, when given, name them.
func (s *Service) refuseBanned(ctx context.Context, conversationID string, ids []string, users []*confab.User) error {
	now := s.now()
	for _, id := range ids {
		b, err := s.store.GetBan(ctx, conversationID, id)
		if confab.ErrorCode(err) == confab.CodeNotFound {
			continue
		}
		if err != nil {
			return err
		}
		if !b.Active(now) {
			continue
		}
		for _, u := range users {
			if u.UserID == id {
				return confab.Errorf(confab.CodeForbidden, "%s is banned from this conversation.", u.Username)
			}
		}
		return confab.Errorf(confab.CodeForbidden, "You are banned from this conversation.")
	}
	return nil
}

// requireOpen refuses membership changes in an archived conversation,
// except by a server administrator.
func (s *Service) requireOpen(ctx context.Context, caller confab.Identity, c *confab.Conversation) error {
	if c.ArchivedAt == nil {
		return nil
	}
	u, err := s.store.GetUser(ctx, caller.UserID)
	if err != nil && confab.ErrorCode(err) != confab.CodeNotFound {
		return err
	}
	if err == nil && u.Admin {
		return nil
	}
	return confab.Errorf(confab.CodeForbidden, "The conversation is archived.")
}

// membersAdded tells of members a store call added: the cache, the
// change stream (one MEMBER_ADDED each, the last ones of c's change log)
// and every member's conversation list.
func (s *Service) membersAdded(ctx context.Context, c *confab.Conversation, byUserID string, added []confab.Member, at time.Time) {
	s.membershipChanged(ctx, c.ConversationID)
	first := c.LastChangeSeq - int64(len(added)) + 1
	for i := range added {
		s.publishMemberChange(ctx, c, &confab.Change{ConversationID: c.ConversationID, ChangeSeq: first + int64(i),
			Kind: confab.ChangeMemberAdded, At: at, UserID: byUserID, MemberID: added[i].UserID, Member: &added[i]})
	}
	s.publishConversation(ctx, c)
}

// publishMemberChange sends a MEMBER_* change to the conversation's
// change stream (and to the streams of a removed member, which end).
func (s *Service) publishMemberChange(ctx context.Context, c *confab.Conversation, ch *confab.Change) {
	s.publish(ctx, confab.ConversationTopic(c.ConversationID), &confab.Event{
		Kind: confab.EventChanged, ConversationID: c.ConversationID, Change: ch, At: ch.At,
	})
}

// RemoveMember removes userID from the conversation: an ADMIN removes
// members ranked below them, the OWNER anyone. The removed member's live
// subscriptions to the conversation end at once, on every node, and so
// does their access to it; their conversation list drops it. reason (at
// most confab.MaxReasonBytes) goes to the audit log.
func (s *Service) RemoveMember(ctx context.Context, caller confab.Identity, conversationID, userID string, reason *string) (*confab.Conversation, error) {
	c, me, err := s.memberOf(ctx, caller, conversationID)
	if err != nil {
		return nil, err
	}
	why, err := cleanReason(reason)
	if err != nil {
		return nil, err
	}
	if c.Direct {
		return nil, confab.Errorf(confab.CodeInvalid, "Nobody is removed from a direct conversation.")
	}
	if err := s.requireOpen(ctx, caller, c); err != nil {
		return nil, err
	}
	if userID == caller.UserID {
		return nil, confab.Errorf(confab.CodeInvalid, "Use leaveConversation to leave.")
	}
	target := c.Member(userID)
	if target == nil {
		return nil, errNotMember()
	}
	mine := RoleOf(c, me)
	if !mine.AtLeast(confab.RoleAdmin) || (mine != confab.RoleOwner && RoleOf(c, target).Rank() >= mine.Rank()) {
		return nil, confab.Errorf(confab.CodeForbidden, "Your role cannot remove this member.")
	}
	at := s.nowUTC()
	after, err := s.removeMember(ctx, conversationID, userID, caller.UserID, at)
	if err != nil {
		return nil, err
	}
	if err := s.audit(ctx, &confab.AuditEntry{At: at, ActorID: caller.UserID, Action: confab.AuditMemberRemoved,
		ConversationID: conversationID, UserID: userID, Reason: why}); err != nil {
		return nil, err
	}
	return after, nil
}

// removeMember removes a member and tells of it: the cache on every node,
// the change stream (where the member's own streams end), the remaining
// members' and the removed member's conversation lists.
func (s *Service) removeMember(ctx context.Context, conversationID, userID, byUserID string, at time.Time) (*confab.Conversation, error) {
	c, err := s.store.RemoveMember(ctx, conversationID, userID, byUserID, at)
	if confab.ErrorCode(err) == confab.CodeNotFound {
		return nil, errNotMember()
	}
	if err != nil {
		return nil, err
	}
	s.membershipChanged(ctx, conversationID)
	s.publishMemberChange(ctx, c, &confab.Change{ConversationID: conversationID, ChangeSeq: c.LastChangeSeq,
		Kind: confab.ChangeMemberRemoved, At: at, UserID: byUserID, MemberID: userID})
	s.publishConversation(ctx, c)
	s.publish(ctx, confab.UserTopic(userID), &confab.Event{Kind: confab.EventConversationUpdated, ConversationID: conversationID, Conversation: c, At: at})
	return c, nil
}

func errNotMember() error {
	return confab.Errorf(confab.CodeNotFound, "That user is not a member of the conversation.")
}

// LeaveConversation removes the caller from the conversation. An owner who
// leaves others behind first hands ownership to the longest-standing
// admin, else member, else read-only member (who is told like any role
// change). Leaving a direct conversation is refused (BAD_USER_INPUT).
func (s *Service) LeaveConversation(ctx context.Context, caller confab.Identity, conversationID string) error {
	c, me, err := s.memberOf(ctx, caller, conversationID)
	if err != nil {
		return err
	}
	if c.Direct {
		return confab.Errorf(confab.CodeInvalid, "You cannot leave a direct conversation.")
	}
	if err := s.requireOpen(ctx, caller, c); err != nil {
		return err
	}
	at := s.nowUTC()
	if RoleOf(c, me) == confab.RoleOwner {
		if heir := successor(c, caller.UserID); heir != "" {
			if _, err := s.updateMembers(ctx, conversationID, caller.UserID, at,
				confab.MemberUpdate{UserID: heir, Role: ptr(confab.RoleOwner)},
				confab.MemberUpdate{UserID: caller.UserID, Role: ptr(confab.RoleAdmin)}); err != nil {
				return err
			}
		}
	}
	_, err = s.removeMember(ctx, conversationID, caller.UserID, caller.UserID, at)
	return err
}

// successor is who inherits ownership when the owner (leaving) leaves:
// the member of the highest role below OWNER who joined first; "" when
// the owner is alone.
func successor(c *confab.Conversation, leaving string) string {
	best, rank := "", -1
	for i := range c.Members { // in JoinedAt order: the first of a rank wins
		m := &c.Members[i]
		if r := RoleOf(c, m).Rank(); m.UserID != leaving && r > rank {
			best, rank = m.UserID, r
		}
	}
	return best
}

func ptr[T any](v T) *T { return &v }

// SetMemberRole gives a member a new role: the caller must be an ADMIN or
// the OWNER, the member ranked below them, and the role below their own
// (OWNER only by transferOwnership: BAD_USER_INPUT).
func (s *Service) SetMemberRole(ctx context.Context, caller confab.Identity, conversationID, userID string, role confab.Role) (*confab.Conversation, error) {
	c, me, err := s.memberOf(ctx, caller, conversationID)
	if err != nil {
		return nil, err
	}
	switch {
	case role.Rank() < 0:
		return nil, confab.Errorf(confab.CodeInvalid, "role must be a member role.")
	case role == confab.RoleOwner:
		return nil, confab.Errorf(confab.CodeInvalid, "Use transferOwnership to make someone the owner.")
	}
	if err := s.requireOpen(ctx, caller, c); err != nil {
		return nil, err
	}
	target := c.Member(userID)
	if target == nil {
		return nil, errNotMember()
	}
	mine := RoleOf(c, me)
	if !mine.AtLeast(confab.RoleAdmin) || RoleOf(c, target).Rank() >= mine.Rank() || role.Rank() >= mine.Rank() {
		return nil, confab.Errorf(confab.CodeForbidden, "You can only change roles below your own.")
	}
	at := s.nowUTC()
	after, err := s.updateMembers(ctx, conversationID, caller.UserID, at, confab.MemberUpdate{UserID: userID, Role: &role})
	if err != nil {
		return nil, err
	}
	if err := s.audit(ctx, &confab.AuditEntry{At: at, ActorID: caller.UserID, Action: confab.AuditRoleChanged,
		ConversationID: conversationID, UserID: userID, Detail: string(role)}); err != nil {
		return nil, err
	}
	return after, nil
}

// TransferOwnership makes another member the owner; the caller, who must
// be the owner, becomes an ADMIN. Both change in one store call.
func (s *Service) TransferOwnership(ctx context.Context, caller confab.Identity, conversationID, userID string) (*confab.Conversation, error) {
	c, me, err := s.memberOf(ctx, caller, conversationID)
	if err != nil {
		return nil, err
	}
	if RoleOf(c, me) != confab.RoleOwner {
		return nil, confab.Errorf(confab.CodeForbidden, "Only the owner can transfer ownership.")
	}
	if err := s.requireOpen(ctx, caller, c); err != nil {
		return nil, err
	}
	if userID == caller.UserID {
		return nil, confab.Errorf(confab.CodeInvalid, "You are the owner already.")
	}
	if c.Member(userID) == nil {
		return nil, errNotMember()
	}
	at := s.nowUTC()
	after, err := s.updateMembers(ctx, conversationID, caller.UserID, at,
		confab.MemberUpdate{UserID: userID, Role: ptr(confab.RoleOwner)},
		confab.MemberUpdate{UserID: caller.UserID, Role: ptr(confab.RoleAdmin)})
	if err != nil {
		return nil, err
	}
	if err := s.audit(ctx, &confab.AuditEntry{At: at, ActorID: caller.UserID, Action: confab.AuditOwnerTransferred,
		ConversationID: conversationID, UserID: userID}); err != nil {
		return nil, err
	}
	return after, nil
}

// updateMembers applies updates in one store call and tells of them: the
// cache on every node, one MEMBER_UPDATED change each, every member's
// conversation list.
func (s *Service) updateMembers(ctx context.Context, conversationID, byUserID string, at time.Time, updates ...confab.MemberUpdate) (*confab.Conversation, error) {
	c, err := s.store.UpdateMembers(ctx, conversationID, byUserID, updates, at)
	if confab.ErrorCode(err) == confab.CodeNotFound {
		return nil, errNotMember() // removed meanwhile
	}
	if err != nil {
		return nil, err
	}
	s.membershipChanged(ctx, conversationID)
	first := c.LastChangeSeq - int64(len(updates)) + 1
	for i, u := range updates {
		var m *confab.Member
		if cm := c.Member(u.UserID); cm != nil {
			v := *cm
			m = &v
		}
		s.publishMemberChange(ctx, c, &confab.Change{ConversationID: conversationID, ChangeSeq: first + int64(i),
			Kind: confab.ChangeMemberUpdated, At: at, UserID: byUserID, MemberID: u.UserID, Member: m})
	}
	s.publishConversation(ctx, c)
	return c, nil
}

// SettingsInput changes some of a conversation's settings; nil fields
// stay as they are.
type SettingsInput struct {
	AddMembers, Post, React *confab.Role
	SlowModeSeconds         *int // 0..confab.MaxSlowMode
}

// UpdateConversationSettings changes who may add members, post and react,
// and the slow mode. ADMIN or above.
func (s *Service) UpdateConversationSettings(ctx context.Context, caller confab.Identity, conversationID string, in SettingsInput) (*confab.Conversation, error) {
	c, me, err := s.memberOf(ctx, caller, conversationID)
	if err != nil {
		return nil, err
	}
	if !RoleOf(c, me).AtLeast(confab.RoleAdmin) {
		return nil, confab.Errorf(confab.CodeForbidden, "Only admins can change the settings.")
	}
	if err := s.requireOpen(ctx, caller, c); err != nil {
		return nil, err
	}
	set := c.Settings
	var changed []string
	for _, f := range []struct {
		name string
		in   *confab.Role
		to   *confab.Role
	}{{"addMembers", in.AddMembers, &set.AddMembers}, {"post", in.Post, &set.Post}, {"react", in.React, &set.React}} {
		if f.in == nil {
			continue
		}
		if f.in.Rank() < 0 {
			return nil, confab.Errorf(confab.CodeInvalid, "%s must be a member role.", f.name)
		}
		*f.to = *f.in
		changed = append(changed, fmt.Sprintf("%s=%s", f.name, *f.in))
	}
	if in.SlowModeSeconds != nil {
		if *in.SlowModeSeconds < 0 || *in.SlowModeSeconds > confab.MaxSlowMode {
			return nil, confab.Errorf(confab.CodeInvalid, "slowModeSeconds must be between 0 and %d.", confab.MaxSlowMode)
		}
		set.SlowMode = *in.SlowModeSeconds
		changed = append(changed, fmt.Sprintf("slowModeSeconds=%d", set.SlowMode))
	}
	at := s.nowUTC()
	after, err := s.store.UpdateConversation(ctx, conversationID, caller.UserID, confab.ConversationUpdate{Settings: &set}, at)
	if err != nil {
		return nil, err
	}
	s.membershipChanged(ctx, conversationID)
	s.publish(ctx, confab.ConversationTopic(conversationID), &confab.Event{
		Kind: confab.EventChanged, ConversationID: conversationID, Conversation: after, At: at,
		Change: &confab.Change{ConversationID: conversationID, ChangeSeq: after.LastChangeSeq,
			Kind: confab.ChangeConversationUpdated, At: at, UserID: caller.UserID},
	})
	s.publishConversation(ctx, after)
	if err := s.audit(ctx, &confab.AuditEntry{At: at, ActorID: caller.UserID, Action: confab.AuditSettingsChanged,
		ConversationID: conversationID, Detail: strings.Join(changed, " ")}); err != nil {
		return nil, err
	}
	return after, nil
}

// cleanReason checks a moderation reason (at most confab.MaxReasonBytes).
func cleanReason(reason *string) (string, error) {
	if reason == nil {
		return "", nil
	}
	r := strings.TrimSpace(*reason)
	if err := confab.CheckText("reason", r, confab.MaxReasonBytes); err != nil {
		return "", err
	}
	return r, nil
}

// auditLogged writes an audit entry whose failure must not fail the
// action (one of several entries of one call): logged.
func (s *Service) auditLogged(ctx context.Context, e *confab.AuditEntry) {
	if err := s.audit(ctx, e); err != nil {
		s.logger.ErrorContext(ctx, "audit entry not written", "action", string(e.Action), "conversation_id", e.ConversationID, "err", err)
	}
}

// Members returns a page of the members of c in JoinedAt order (limit as
// for other pages). c is a conversation the caller was shown (a removed
// member's last update of it too, which lists the others as its
// participants do). The nextToken is the last member's (JoinedAt,
// UserID), so pages stay stable while members join and leave.
func (s *Service) Members(ctx context.Context, caller confab.Identity, c *confab.Conversation, limit *int, nextToken *string) ([]*confab.Member, *string, error) {
	if err := s.requireCaller(caller); err != nil {
		return nil, nil, err
	}
	n, err := pageLimit(limit)
	if err != nil {
		return nil, nil, err
	}
	from := 0
	if nextToken != nil && *nextToken != "" {
		var cur cursor
		if err := s.decodeCursor(*nextToken, "members", c.ConversationID, &cur); err != nil {
			return nil, nil, err
		}
		for from < len(c.Members) {
			m := &c.Members[from]
			at := m.JoinedAt.UnixMilli()
			if at > cur.At || (at == cur.At && m.UserID > cur.ID) {
				break
			}
			from++
		}
	}
	end := min(from+n, len(c.Members))
	page := make([]*confab.Member, 0, end-from)
	for i := from; i < end; i++ {
		m := c.Members[i]
		m.Role = RoleOf(c, &c.Members[i])
		page = append(page, &m)
	}
	var next *string
	if end < len(c.Members) {
		last := page[len(page)-1]
		tok := s.encodeCursor("members", c.ConversationID, cursor{At: last.JoinedAt.UnixMilli(), ID: last.UserID})
		next = &tok
	}
	return page, next, nil
}
