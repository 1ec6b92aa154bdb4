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

// CreateConversation creates a conversation of the caller and participants.
// The caller is always a member; duplicates are removed; every participant
// must exist (otherwise BAD_USER_INPUT, naming no one). Members are told
// through onConversationUpdated. Each user may create
// Config.ConversationsPerMinute conversations a minute (RATE_LIMITED).
func (s *Service) CreateConversation(ctx context.Context, caller confab.Identity, name *string, participants []string) (*confab.Conversation, error) {
	if err := s.requireCaller(caller); err != nil {
		return nil, err
	}
	if ok, wait := s.creates.Allow(caller.UserID); !ok {
		return nil, confab.Limited(wait, "Too many new conversations: at most %d a minute.", s.cfg.ConversationsPerMinute)
	}
	name, err := cleanName(name)
	if err != nil {
		return nil, err
	}
	ids := []string{caller.UserID}
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
	if len(ids) > confab.MaxParticipants {
		return nil, confab.Errorf(confab.CodeInvalid, "A conversation has at most %d participants.", confab.MaxParticipants)
	}
	users, err := s.store.GetUsers(ctx, ids)
	if err != nil {
		return nil, err
	}
	if len(users) != len(ids) {
		return nil, confab.Errorf(confab.CodeInvalid, "Every participant must be an existing user.")
	}
	now := s.nowUTC()
	c := &confab.Conversation{
		ConversationID: s.newID(),
		Name:           name,
		CreatedBy:      caller.UserID,
		CreatedAt:      now,
	}
	for _, id := range ids {
		c.Members = append(c.Members, confab.Member{UserID: id, JoinedAt: now})
	}
	if err := s.store.InsertConversation(ctx, c); err != nil {
		if confab.ErrorCode(err) == confab.CodeNotFound {
			return nil, confab.Errorf(confab.CodeInvalid, "Every participant must be an existing user.")
		}
		return nil, err
	}
	s.rememberMembers(c)
	s.publishConversation(ctx, c)
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
	s.conversationUpdated(ctx, c, caller.UserID, at)
	return c, nil
}

// conversationUpdated publishes that byUserID changed c (as stored
// afterwards) at at: its CONVERSATION_UPDATED change to the conversation's
// change stream, c to each member's onConversationUpdated.
func (s *Service) conversationUpdated(ctx context.Context, c *confab.Conversation, byUserID string, at time.Time) {
	s.publish(ctx, confab.ConversationTopic(c.ConversationID), &confab.Event{
		Kind: confab.EventChanged, ConversationID: c.ConversationID, Conversation: c, At: at,
		Change: &confab.Change{ConversationID: c.ConversationID, ChangeSeq: c.LastChangeSeq,
			Kind: confab.ChangeConversationUpdated, At: at, UserID: byUserID},
	})
	s.publishConversation(ctx, c)
}

// GetConversation returns a conversation of the caller.
func (s *Service) GetConversation(ctx context.Context, caller confab.Identity, conversationID string) (*confab.Conversation, error) {
	if err := s.requireCaller(caller); err != nil {
		return nil, err
	}
	if !confab.ValidID(conversationID) {
		return nil, errConversationNotFound()
	}
	c, err := s.store.GetConversation(ctx, conversationID)
	if confab.ErrorCode(err) == confab.CodeNotFound || (err == nil && c.Member(caller.UserID) == nil) {
		return nil, errConversationNotFound()
	}
	if err != nil {
		return nil, err
	}
	s.rememberMembers(c)
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

// requireMember checks that the caller is a member of the conversation. The
// member set is cached: membership never changes once a conversation exists.
func (s *Service) requireMember(ctx context.Context, caller confab.Identity, conversationID string) error {
	if err := s.requireCaller(caller); err != nil {
		return err
	}
	if !confab.ValidID(conversationID) {
		return errConversationNotFound()
	}
	s.membersMu.Lock()
	set, ok := s.members[conversationID]
	s.membersMu.Unlock()
	if !ok {
		c, err := s.store.GetConversation(ctx, conversationID)
		if confab.ErrorCode(err) == confab.CodeNotFound {
			return errConversationNotFound()
		}
		if err != nil {
			return err
		}
		set = s.rememberMembers(c)
	}
	if _, ok := set[caller.UserID]; !ok {
		return errConversationNotFound()
	}
	return nil
}

// maxCachedConversations bounds the membership cache; when full it is
// cleared wholesale (it only saves reads).
const maxCachedConversations = 100_000

func (s *Service) rememberMembers(c *confab.Conversation) map[string]struct{} {
	set := make(map[string]struct{}, len(c.Members))
	for _, m := range c.Members {
		set[m.UserID] = struct{}{}
	}
	s.membersMu.Lock()
	if len(s.members) >= maxCachedConversations {
		clear(s.members)
	}
	s.members[c.ConversationID] = set
	s.membersMu.Unlock()
	return set
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
