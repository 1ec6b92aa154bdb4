package chat

import (
	"context"
	"strings"
	"time"

	"github.com/confab-chat/confab"
)

// DefaultConversationsPerMinute is Config.ConversationsPerMinute when it is
// zero: each user's createConversation calls per minute, in bursts of as
// many.
const DefaultConversationsPerMinute = 10

// ConversationPage is a page of ListConversations.
type ConversationPage struct {
	Items     []*confab.Conversation
	NextToken *string
}

// CreateConversation creates a group conversation of the caller and
// participants: the caller is its OWNER, the others MEMBERs. Duplicates
// are removed; every participant must exist (otherwise BAD_USER_INPUT,
// naming no one). Nobody is put in with a stranger silently: a
// participant whose AddPolicy does not admit the caller is not added but
// invited (see admit), and a block between the caller and a participant,
// either way, refuses the whole creation (FORBIDDEN). Members are told
// through onConversationUpdated, invitees through onInvitation. Each user
// may create Config.ConversationsPerMinute conversations a minute
// (RATE_LIMITED).
func (s *Service) CreateConversation(ctx context.Context, caller confab.Identity, name *string, participants []string) (*confab.Conversation, error) {
	users, err := s.participants(ctx, caller, participants)
	if err != nil {
		return nil, err
	}
	return s.create(ctx, caller, name, users, false)
}

// CreateDirectConversation returns the direct conversation of the caller
// and the one other participant: the pair's existing one, or a new one
// (unique per pair; it never gains or loses members). When the other's
// AddPolicy does not admit the caller, the new conversation holds only
// the caller and the other gets an invitation to it: a group, since the
// store keys a direct pair by its two members (accepting makes it a group
// of the two). More or fewer than one other participant is
// BAD_USER_INPUT.
func (s *Service) CreateDirectConversation(ctx context.Context, caller confab.Identity, name *string, participants []string) (*confab.Conversation, error) {
	users, err := s.participants(ctx, caller, participants)
	if err != nil {
		return nil, err
	}
	if len(users) != 1 {
		return nil, confab.Errorf(confab.CodeInvalid, "A direct conversation has exactly one other participant.")
	}
	other := users[0].UserID
	c, err := s.store.GetDirectConversation(ctx, caller.UserID, other)
	if err == nil {
		if err := s.refuseBlocked(ctx, caller, users); err != nil {
			return nil, err
		}
		return c, nil
	}
	if confab.ErrorCode(err) != confab.CodeNotFound {
		return nil, err
	}
	c, err = s.create(ctx, caller, name, users, true)
	if confab.ErrorCode(err) == confab.CodeConflict { // created meanwhile by a concurrent call
		return s.store.GetDirectConversation(ctx, caller.UserID, other)
	}
	return c, err
}

// participants checks the participant ids of a new conversation and
// returns the users other than the caller, without duplicates.
func (s *Service) participants(ctx context.Context, caller confab.Identity, participants []string) ([]*confab.User, error) {
	if err := s.requireCaller(caller); err != nil {
		return nil, err
	}
	var ids []string
	seen := map[string]bool{caller.UserID: true}
	for _, p := range participants {
		if !confab.ValidID(p) {
			return nil, confab.Errorf(confab.CodeInvalid, "Participant ids must be user ids.")
		}
		if !seen[p] {
			seen[p] = true
			ids = append(ids, p)
		}
	}
	if len(ids)+1 > confab.MaxParticipants {
		return nil, confab.Errorf(confab.CodeInvalid, "A conversation has at most %d participants.", confab.MaxParticipants)
	}
	users, err := s.store.GetUsers(ctx, ids)
	if err != nil {
		return nil, err
	}
	if len(users) != len(ids) {
		return nil, confab.Errorf(confab.CodeInvalid, "Every participant must be an existing user.")
	}
	return users, nil
}

// create inserts a new conversation of the caller (OWNER) and the users
// its AddPolicy check admits (MEMBERs), and invites the others.
func (s *Service) create(ctx context.Context, caller confab.Identity, name *string, users []*confab.User, direct bool) (*confab.Conversation, error) {
	if ok, wait := s.creates.Allow(caller.UserID); !ok {
		return nil, confab.Limited(wait, "Too many new conversations: at most %d a minute.", s.cfg.ConversationsPerMinute)
	}
	name, err := cleanName(name)
	if err != nil {
		return nil, err
	}
	add, invite, err := s.admit(ctx, caller, users)
	if err != nil {
		return nil, err
	}
	if len(invite) > 0 {
		direct = false // see CreateDirectConversation
	}
	now := s.nowUTC()
	c := &confab.Conversation{
		ConversationID: s.newID(),
		Name:           name,
		CreatedBy:      caller.UserID,
		CreatedAt:      now,
		Direct:         direct,
		Members:        []confab.Member{{UserID: caller.UserID, JoinedAt: now, Role: confab.RoleOwner}},
	}
	for _, u := range add {
		c.Members = append(c.Members, confab.Member{UserID: u.UserID, JoinedAt: now, Role: confab.RoleMember})
	}
	gen := s.cacheGen()
	if err := s.store.InsertConversation(ctx, c); err != nil {
		if confab.ErrorCode(err) == confab.CodeNotFound {
			return nil, confab.Errorf(confab.CodeInvalid, "Every participant must be an existing user.")
		}
		return nil, err
	}
	s.cacheConversation(c, gen) // its members' first operations need no read
	s.publishConversation(ctx, c)
	if err := s.invite(ctx, caller, c.ConversationID, invite, confab.RoleMember, now); err != nil {
		return nil, err
	}
	return c, nil
}

// UpdateConversation renames a conversation. Members only. Its
// CONVERSATION_UPDATED change goes to the conversation's change stream,
// the conversation to each member's onConversationUpdated.
func (s *Service) UpdateConversation(ctx context.Context, caller confab.Identity, conversationID string, name *string) (*confab.Conversation, error) {
	if err := s.requireMember(ctx, caller, conversationID); err != nil {
		return nil, err
	}
	name, err := cleanName(name)
	if err != nil {
		return nil, err
	}
	at := s.nowUTC()
	c, err := s.store.UpdateConversation(ctx, conversationID, caller.UserID, confab.ConversationUpdate{Name: name}, at)
	if err != nil {
		return nil, err
	}
	s.publish(ctx, confab.ConversationTopic(conversationID), &confab.Event{
		Kind: confab.EventChanged, ConversationID: conversationID, Conversation: c, At: at,
		Change: &confab.Change{ConversationID: conversationID, ChangeSeq: c.LastChangeSeq,
			Kind: confab.ChangeConversationUpdated, At: at, UserID: caller.UserID},
	})
	s.publishConversation(ctx, c)
	return c, nil
}

// GetConversation returns a conversation of the caller.
func (s *Service) GetConversation(ctx context.Context, caller confab.Identity, conversationID string) (*confab.Conversation, error) {
	if err := s.requireCaller(caller); err != nil {
		return nil, err
	}
	if !confab.ValidID(conversationID) {
		return nil, errConversationNotFound()
	}
	c, _, err := s.loadConversation(ctx, conversationID)
	if confab.ErrorCode(err) == confab.CodeNotFound || (err == nil && c.Member(caller.UserID) == nil) {
		return nil, errConversationNotFound()
	}
	if err != nil {
		return nil, err
	}
	return c, nil
}

// ListConversations lists the caller's conversations, most recent activity
// first. userID must be the caller's own (FORBIDDEN otherwise).
func (s *Service) ListConversations(ctx context.Context, caller confab.Identity, userID string, limit *int, nextToken *string) (*ConversationPage, error) {
	if err := s.requireSelf(caller, userID); err != nil {
		return nil, err
	}
	n, err := pageLimit(limit)
	if err != nil {
		return nil, err
	}
	page := confab.ConversationPage{Limit: n + 1}
	if nextToken != nil && *nextToken != "" {
		var cur cursor
		if err := s.decodeCursor(*nextToken, "conversations", userID, &cur); err != nil {
			return nil, err
		}
		page.After = &confab.ActivityCursor{ActivityAt: time.UnixMilli(cur.At).UTC(), ConversationID: cur.ID}
	}
	items, err := s.store.ListConversations(ctx, userID, page)
	if err != nil {
		return nil, err
	}
	out := &ConversationPage{Items: items}
	if len(items) > n {
		out.Items = items[:n]
		last := items[n-1]
		tok := s.encodeCursor("conversations", userID, cursor{At: last.ActivityAt().UnixMilli(), ID: last.ConversationID})
		out.NextToken = &tok
	}
	return out, nil
}

// UnreadCount is the number of messages after the caller's read mark.
func UnreadCount(c *confab.Conversation, userID string) int {
	m := c.Member(userID)
	if m == nil || m.LastReadSeq >= c.LastSeq {
		return 0
	}
	return int(c.LastSeq - m.LastReadSeq)
}

// conversationChanged schedules one onConversationUpdated event for a
// conversation whose summary changed (new message). Many sends within
// SummaryDelay share one store read and one event, so a busy conversation
// costs no extra read per message; the event carries the summary as stored.
func (s *Service) conversationChanged(conversationID string) {
	s.dirtyMu.Lock()
	defer s.dirtyMu.Unlock()
	if s.closed.Load() || s.dirty[conversationID] {
		return // closed: Close may be waiting for flushes; schedule none
	}
	s.dirty[conversationID] = true
	s.flushes.Add(1)
	time.AfterFunc(s.cfg.SummaryDelay, func() {
		defer s.flushes.Done()
		s.dirtyMu.Lock()
		delete(s.dirty, conversationID)
		s.dirtyMu.Unlock()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		c, err := s.store.GetConversation(ctx, conversationID)
		if err != nil {
			s.logger.Warn("conversation update not published", "conversation_id", conversationID, "err", err)
			return
		}
		s.publishConversation(ctx, c)
	})
}

// publishConversation tells every member that c changed.
func (s *Service) publishConversation(ctx context.Context, c *confab.Conversation) {
	ev := &confab.Event{Kind: confab.EventConversationUpdated, ConversationID: c.ConversationID, Conversation: c, At: s.nowUTC()}
	for _, m := range c.Members {
		s.publish(ctx, confab.UserTopic(m.UserID), ev)
	}
}

// requireMember checks that the caller is a member of the conversation,
// from the membership cache (see cache). A non-member, or a member
// removed since, gets NOT_FOUND as for a missing conversation.
func (s *Service) requireMember(ctx context.Context, caller confab.Identity, conversationID string) error {
	_, _, err := s.memberOf(ctx, caller, conversationID)
	return err
}

// requireSelf refuses acting as another user.
func (s *Service) requireSelf(caller confab.Identity, userID string) error {
	if err := s.requireCaller(caller); err != nil {
		return err
	}
	if userID != caller.UserID {
		return confab.Errorf(confab.CodeForbidden, "You can only act as yourself.")
	}
	return nil
}

// cleanName trims a conversation name and checks it (confab.CheckText); a
// blank name is no name.
func cleanName(name *string) (*string, error) {
	if name == nil {
		return nil, nil
	}
	n := strings.TrimSpace(*name)
	if err := confab.CheckText("A conversation name", n, confab.MaxConversationName); err != nil {
		return nil, err
	}
	if n == "" {
		return nil, nil
	}
	return &n, nil
}

func pageLimit(limit *int) (int, error) {
	if limit == nil {
		return confab.DefaultPageLimit, nil
	}
	if *limit < 1 || *limit > confab.MaxPageLimit {
		return 0, confab.Errorf(confab.CodeInvalid, "limit must be between 1 and %d.", confab.MaxPageLimit)
	}
	return *limit, nil
}
