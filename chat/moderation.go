package chat

import (
	"context"
	"strings"
	"time"

	"github.com/confab-chat/confab"
)

// Limits of moderation.
const (
	// MaxModerationSpan is how far ahead a mute or a timed ban may end;
	// further is BAD_USER_INPUT (a ban for good has no end at all).
	MaxModerationSpan = 365 * 24 * time.Hour
	// MaxBansListed is the most bans conversationBans returns.
	MaxBansListed = 1000
)

// serverAdminRank ranks a server administrator above every conversation
// role: they moderate every conversation, its owner included.
const serverAdminRank = 4

// The moderation rules, in one place:
//
//   - Moderators of a group conversation are its ADMINs and its OWNER, and
//     server administrators (User.Admin), members or not. A direct
//     conversation has no moderators of its own: only server admins.
//   - A moderator acts only on members ranked below them (READ_ONLY <
//     MEMBER < ADMIN < OWNER < server admin): an ADMIN mutes, bans or
//     deletes the messages of MEMBERs and READ_ONLY members, never of
//     another ADMIN or the OWNER; the OWNER acts on everyone else; a server
//     admin on anyone but themselves. Users who are not members (a former
//     member's messages, a ban before they join) rank below everyone.
//   - Members below ADMIN get FORBIDDEN, everyone else NOT_FOUND (as for a
//     missing conversation).
//   - Every action is recorded in the audit log with its reason and end.

// moderator checks that the caller may moderate the conversation and
// returns it with the caller's moderating rank.
func (s *Service) moderator(ctx context.Context, caller confab.Identity, conversationID string) (*confab.Conversation, int, error) {
	c, m, err := s.memberOf(ctx, caller, conversationID)
	if err != nil && confab.ErrorCode(err) != confab.CodeNotFound {
		return nil, 0, err
	}
	if m != nil && !c.Direct && RoleOf(c, m).AtLeast(confab.RoleAdmin) {
		return c, RoleOf(c, m).Rank(), nil
	}
	admin, aerr := s.isServerAdmin(ctx, caller.UserID)
	if aerr != nil {
		return nil, 0, aerr
	}
	switch {
	case admin && m != nil:
		return c, serverAdminRank, nil
	case admin:
		c, err := s.conversation(ctx, conversationID)
		return c, serverAdminRank, err
	case m != nil:
		return nil, 0, confab.Errorf(confab.CodeForbidden, "Only the conversation's admins may moderate it.")
	}
	return nil, 0, err // NOT_FOUND
}

// conversation reads a conversation for a server admin who need not be a
// member.
func (s *Service) conversation(ctx context.Context, conversationID string) (*confab.Conversation, error) {
	if !confab.ValidID(conversationID) {
		return nil, errConversationNotFound()
	}
	c, err := s.store.GetConversation(ctx, conversationID)
	if confab.ErrorCode(err) == confab.CodeNotFound {
		return nil, errConversationNotFound()
	}
	return c, err
}

// isServerAdmin reports whether the user is a server administrator. It
// reads the account (admin rights can be granted or revoked at any time),
// so only moderation paths call it, never a plain send.
func (s *Service) isServerAdmin(ctx context.Context, userID string) (bool, error) {
	u, err := s.store.GetUser(ctx, userID)
	if confab.ErrorCode(err) == confab.CodeNotFound {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	return u.Admin, nil
}

// rankIn is the rank of userID in c: their role's, or -1 when they are
// not a member.
func rankIn(c *confab.Conversation, userID string) int {
	if m := c.Member(userID); m != nil {
		return RoleOf(c, m).Rank()
	}
	return -1
}

// over refuses a moderator of rank acting on someone not ranked below them.
func over(rank int, c *confab.Conversation, userID string) error {
	if rankIn(c, userID) >= rank {
		return confab.Errorf(confab.CodeForbidden, "Moderators act only on members below their own role.")
	}
	return nil
}

// mayWrite applies the rules every post, edit and reaction passes: the
// conversation is not archived, the member's role is at least need, and
// they are not muted.
func mayWrite(c *confab.Conversation, m *confab.Member, need confab.Role, now time.Time) error {
	if c.ArchivedAt != nil {
		return confab.Errorf(confab.CodeForbidden, "This conversation is archived: it is read-only.")
	}
	if !RoleOf(c, m).AtLeast(need) {
		return confab.Errorf(confab.CodeForbidden, "Your role in this conversation does not allow that.")
	}
	if m.MutedUntil != nil && now.Before(*m.MutedUntil) {
		return confab.Errorf(confab.CodeForbidden, "You are muted in this conversation until %s.", m.MutedUntil.UTC().Format(time.RFC3339))
	}
	return nil
}

// postRole is the lowest role that may send or edit messages: the
// settings' Post, but never READ_ONLY (read-only members never post).
func postRole(c *confab.Conversation) confab.Role {
	if p := c.Settings.Effective().Post; p.AtLeast(confab.RoleMember) {
		return p
	}
	return confab.RoleMember
}

// slowMode is the slow mode that applies to m's messages: the setting's,
// except for admins and the owner, who are never slowed.
func slowMode(c *confab.Conversation, m *confab.Member) time.Duration {
	if c.Settings.SlowMode <= 0 || RoleOf(c, m).AtLeast(confab.RoleAdmin) {
		return 0
	}
	return time.Duration(c.Settings.SlowMode) * time.Second
}

// errSlowMode turns the store's slow-mode refusal into RATE_LIMITED with
// the wait: the store's hint when it gives one, otherwise read from the
// member's LastPostedAt (one read, on the refused path only).
func (s *Service) errSlowMode(ctx context.Context, err error, conversationID, userID string, slow time.Duration) error {
	wait := confab.RetryAfter(err)
	if wait <= 0 {
		wait = slow
		if c, rerr := s.store.GetConversation(ctx, conversationID); rerr == nil {
			if m := c.Member(userID); m != nil && m.LastPostedAt != nil {
				wait = max(time.Millisecond, m.LastPostedAt.Add(slow).Sub(s.nowUTC()))
			}
		}
	}
	return confab.Limited(wait, "Slow mode is on: one message every %d seconds.", int(slow/time.Second))
}

// checkReason validates an optional moderation reason and returns it.
func checkReason(reason *string, required bool) (string, error) {
	r := ""
	if reason != nil {
		r = strings.TrimSpace(*reason)
	}
	if (required && r == "") || !confab.ValidText(r, confab.MaxReasonBytes) {
		if required {
			return "", confab.Errorf(confab.CodeInvalid, "reason must be 1 to %d bytes of text.", confab.MaxReasonBytes)
		}
		return "", confab.Errorf(confab.CodeInvalid, "reason must be at most %d bytes of text.", confab.MaxReasonBytes)
	}
	return r, nil
}

// checkUntil validates the end of a mute or timed ban: in the future, at
// most MaxModerationSpan away. It returns it in UTC to the millisecond.
func checkUntil(until, now time.Time) (time.Time, error) {
	until = until.UTC().Truncate(time.Millisecond)
	if !until.After(now) || until.Sub(now) > MaxModerationSpan {
		return time.Time{}, confab.Errorf(confab.CodeInvalid, "until must be in the future and at most %d days away.", int(MaxModerationSpan/(24*time.Hour)))
	}
	return until, nil
}

// notSelf refuses a moderator acting on themselves.
func notSelf(caller confab.Identity, userID, verb string) error {
	if userID == caller.UserID {
		return confab.Errorf(confab.CodeInvalid, "You cannot %s yourself.", verb)
	}
	return nil
}

// MuteMember keeps a member of the conversation from posting and reacting
// until until (in the future, within MaxModerationSpan); they still read.
// Moderators only, on members below their own role. It returns the
// conversation afterwards.
func (s *Service) MuteMember(ctx context.Context, caller confab.Identity, conversationID, userID string, until time.Time, reason *string) (*confab.Conversation, error) {
	c, rank, err := s.moderator(ctx, caller, conversationID)
	if err != nil {
		return nil, err
	}
	why, err := checkReason(reason, false)
	if err != nil {
		return nil, err
	}
	now := s.nowUTC()
	if until, err = checkUntil(until, now); err != nil {
		return nil, err
	}
	if err := s.moderatedMember(caller, c, rank, userID, "mute"); err != nil {
		return nil, err
	}
	c, err = s.updateMember(ctx, caller, conversationID, confab.MemberUpdate{UserID: userID, MutedUntil: &until}, now)
	if err != nil {
		return nil, err
	}
	return c, s.audit(ctx, &confab.AuditEntry{At: now, ActorID: caller.UserID, Action: confab.AuditMemberMuted,
		ConversationID: conversationID, UserID: userID, Reason: why, Until: &until})
}

// UnmuteMember lifts a member's mute. Moderators only, on members below
// their own role; a member who is not muted stays as they are (nothing is
// written or recorded).
func (s *Service) UnmuteMember(ctx context.Context, caller confab.Identity, conversationID, userID string) (*confab.Conversation, error) {
	c, rank, err := s.moderator(ctx, caller, conversationID)
	if err != nil {
		return nil, err
	}
	if err := s.moderatedMember(caller, c, rank, userID, "unmute"); err != nil {
		return nil, err
	}
	now := s.nowUTC()
	if m := c.Member(userID); m.MutedUntil == nil || !now.Before(*m.MutedUntil) {
		return c, nil
	}
	c, err = s.updateMember(ctx, caller, conversationID, confab.MemberUpdate{UserID: userID, MutedUntil: &time.Time{}}, now)
	if err != nil {
		return nil, err
	}
	return c, s.audit(ctx, &confab.AuditEntry{At: now, ActorID: caller.UserID, Action: confab.AuditMemberUnmuted,
		ConversationID: conversationID, UserID: userID})
}

// moderatedMember checks that userID is a member the moderator may act on.
func (s *Service) moderatedMember(caller confab.Identity, c *confab.Conversation, rank int, userID, verb string) error {
	if err := notSelf(caller, userID, verb); err != nil {
		return err
	}
	if !confab.ValidID(userID) || c.Member(userID) == nil {
		return errMemberNotFound()
	}
	return over(rank, c, userID)
}

func errMemberNotFound() error {
	return confab.Errorf(confab.CodeNotFound, "Member not found.")
}

// updateMember stores one member's change and publishes it.
func (s *Service) updateMember(ctx context.Context, caller confab.Identity, conversationID string, u confab.MemberUpdate, now time.Time) (*confab.Conversation, error) {
	c, err := s.store.UpdateMembers(ctx, conversationID, caller.UserID, []confab.MemberUpdate{u}, now)
	if confab.ErrorCode(err) == confab.CodeNotFound {
		return nil, errMemberNotFound() // removed meanwhile
	}
	if err != nil {
		return nil, err
	}
	s.publishMembership(ctx, c, memberChange(c, confab.ChangeMemberUpdated, u.UserID, caller.UserID, now), "")
	return c, nil
}

// memberChange is the change log entry of a MEMBER_* change to userID,
// the latest change of c.
func memberChange(c *confab.Conversation, kind confab.ChangeKind, userID, by string, at time.Time) *confab.Change {
	ch := &confab.Change{ConversationID: c.ConversationID, ChangeSeq: c.LastChangeSeq, Kind: kind, At: at, UserID: by, MemberID: userID}
	if m := c.Member(userID); m != nil {
		mc := *m
		ch.Member = &mc
	}
	return ch
}

// publishMembership tells everyone of a membership change: the change on
// the conversation's topic (where a removed member's streams end), the
// cache drop on every node, and the conversation on onConversationUpdated
// to every member and to the removed user, if any (their list drops it).
//
// TODO(#15): the same helper as members15's membership changes.
func (s *Service) publishMembership(ctx context.Context, c *confab.Conversation, ch *confab.Change, removed string) {
	s.membersMu.Lock()
	delete(s.members, c.ConversationID)
	s.membersMu.Unlock()
	s.publish(ctx, confab.ConversationTopic(c.ConversationID), &confab.Event{
		Kind: confab.EventChanged, ConversationID: c.ConversationID, Conversation: c, Change: ch, At: ch.At,
	})
	s.publish(ctx, confab.ControlTopic, &confab.Event{Kind: confab.EventMembershipChanged, ConversationID: c.ConversationID, At: ch.At})
	s.publishConversation(ctx, c)
	if removed != "" {
		s.publish(ctx, confab.UserTopic(removed), &confab.Event{
			Kind: confab.EventConversationUpdated, ConversationID: c.ConversationID, Conversation: c, At: ch.At,
		})
	}
}

// BanMember keeps a user out of the conversation until until (nil: for
// good; otherwise within MaxModerationSpan): a member is removed, and
// nobody can add them again nor can they accept an invitation while the
// ban holds. Moderators only; a member must rank below the moderator; a
// user who is not a member may be banned ahead. Direct conversations never
// lose members (BAD_USER_INPUT). Banning again replaces the ban.
func (s *Service) BanMember(ctx context.Context, caller confab.Identity, conversationID, userID string, until *time.Time, reason *string) error {
	c, rank, err := s.moderator(ctx, caller, conversationID)
	if err != nil {
		return err
	}
	if c.Direct {
		return confab.Errorf(confab.CodeInvalid, "A direct conversation never loses members.")
	}
	why, err := checkReason(reason, false)
	if err != nil {
		return err
	}
	now := s.nowUTC()
	if until != nil {
		u, err := checkUntil(*until, now)
		if err != nil {
			return err
		}
		until = &u
	}
	if err := notSelf(caller, userID, "ban"); err != nil {
		return err
	}
	if err := s.requireUser(ctx, userID); err != nil {
		return err
	}
	if err := over(rank, c, userID); err != nil {
		return err
	}
	ban := &confab.Ban{ConversationID: conversationID, UserID: userID, BannedBy: caller.UserID, Reason: why, CreatedAt: now, Until: until}
	if err := s.store.PutBan(ctx, ban); err != nil {
		return err
	}
	if c.Member(userID) != nil {
		if err := s.removeBanned(ctx, caller, conversationID, userID, now); err != nil {
			return err
		}
	}
	return s.audit(ctx, &confab.AuditEntry{At: now, ActorID: caller.UserID, Action: confab.AuditUserBanned,
		ConversationID: conversationID, UserID: userID, Reason: why, Until: until})
}

// removeBanned removes a banned member and publishes the removal.
func (s *Service) removeBanned(ctx context.Context, caller confab.Identity, conversationID, userID string, now time.Time) error {
	c, err := s.store.RemoveMember(ctx, conversationID, userID, caller.UserID, now)
	if confab.ErrorCode(err) == confab.CodeNotFound {
		return nil // gone meanwhile: the ban keeps them out all the same
	}
	if err != nil {
		return err
	}
	s.publishMembership(ctx, c, memberChange(c, confab.ChangeMemberRemoved, userID, caller.UserID, now), userID)
	return nil
}

// requireUser checks that userID names an existing user.
func (s *Service) requireUser(ctx context.Context, userID string) error {
	if !confab.ValidID(userID) {
		return errUserNotFound()
	}
	_, err := s.store.GetUser(ctx, userID)
	if confab.ErrorCode(err) == confab.CodeNotFound {
		return errUserNotFound()
	}
	return err
}

func errUserNotFound() error { return confab.Errorf(confab.CodeNotFound, "User not found.") }

// UnbanMember lifts the user's ban from the conversation; false when there
// was none (nothing recorded). Moderators only. The user is not added back.
func (s *Service) UnbanMember(ctx context.Context, caller confab.Identity, conversationID, userID string) (bool, error) {
	if _, _, err := s.moderator(ctx, caller, conversationID); err != nil {
		return false, err
	}
	if !confab.ValidID(userID) {
		return false, nil
	}
	removed, err := s.store.DeleteBan(ctx, conversationID, userID)
	if err != nil || !removed {
		return false, err
	}
	return true, s.audit(ctx, &confab.AuditEntry{At: s.nowUTC(), ActorID: caller.UserID, Action: confab.AuditUserUnbanned,
		ConversationID: conversationID, UserID: userID})
}

// ConversationBans lists the bans of the conversation that still hold,
// newest first, at most MaxBansListed. Moderators only.
func (s *Service) ConversationBans(ctx context.Context, caller confab.Identity, conversationID string) ([]*confab.Ban, error) {
	if _, _, err := s.moderator(ctx, caller, conversationID); err != nil {
		return nil, err
	}
	bans, err := s.store.ListBans(ctx, conversationID, MaxBansListed)
	if err != nil {
		return nil, err
	}
	now := s.nowUTC()
	out := bans[:0]
	for _, b := range bans {
		if b.Active(now) {
			out = append(out, b)
		}
	}
	return out, nil
}

// AuditPage is a page of an audit log, newest first.
type AuditPage struct {
	Items     []*confab.AuditEntry
	NextToken *string
}

// ConversationAuditLog returns a page of the conversation's audit log,
// newest first (default confab.DefaultPageLimit entries, at most
// confab.MaxAuditPageLimit). Moderators only.
func (s *Service) ConversationAuditLog(ctx context.Context, caller confab.Identity, conversationID string, limit *int, nextToken *string) (*AuditPage, error) {
	if _, _, err := s.moderator(ctx, caller, conversationID); err != nil {
		return nil, err
	}
	n := min(confab.DefaultPageLimit, confab.MaxAuditPageLimit)
	if limit != nil {
		if *limit < 1 || *limit > confab.MaxAuditPageLimit {
			return nil, confab.Errorf(confab.CodeInvalid, "limit must be between 1 and %d.", confab.MaxAuditPageLimit)
		}
		n = *limit
	}
	f := confab.AuditFilter{ConversationID: conversationID, Limit: n + 1}
	if nextToken != nil && *nextToken != "" {
		var cur cursor
		if err := s.decodeCursor(*nextToken, "audit", conversationID, &cur); err != nil {
			return nil, err
		}
		if cur.ID == "" {
			return nil, confab.Errorf(confab.CodeInvalid, "nextToken is invalid.")
		}
		f.Before = cur.ID
	}
	items, err := s.store.ListAudit(ctx, f)
	if err != nil {
		return nil, err
	}
	page := &AuditPage{Items: items}
	if len(items) > n {
		page.Items = items[:n]
		tok := s.encodeCursor("audit", conversationID, cursor{ID: items[n-1].EntryID})
		page.NextToken = &tok
	}
	return page, nil
}
