package chat

import (
	"context"
	"time"

	"github.com/confab-chat/confab"
)

// Read receipts (issue #12): how far a member has read a conversation
// (markConversationRead) is visible to the other members, in
// Conversation.readBy and live through onReadReceipt, unless the member
// hides read receipts (User.HideReadReceipts). Their own unread counts
// work either way: hiding only keeps the mark from the others. A member
// never gets their own mark back in either: they know it (unreadCount).

// MarkConversationRead records that the caller has read up to seq. A seq
// beyond the conversation's LastSeq is clamped to it rather than refused:
// a client marking what it has shown often races a send, and a mark past
// LastSeq would hide the messages that take those seqs. The mark never
// moves back (the store keeps the higher one). When it moves on, the other
// members are told (onReadReceipt) unless the caller hides read receipts.
// It returns the conversation as it is after the mark.
func (s *Service) MarkConversationRead(ctx context.Context, caller confab.Identity, conversationID string, seq int64) (*confab.Conversation, error) {
	if err := s.requireMember(ctx, caller, conversationID); err != nil {
		return nil, err
	}
	if seq < 0 {
		return nil, confab.Errorf(confab.CodeInvalid, "seq must not be negative.")
	}
	c, err := s.store.GetConversation(ctx, conversationID)
	if err != nil {
		return nil, err
	}
	// LastSeq only grows, so the mark clamped to the value read here never
	// passes the LastSeq of any later read.
	seq = min(seq, c.LastSeq)
	at := s.nowUTC()
	if err := s.store.MarkRead(ctx, conversationID, caller.UserID, seq, at); err != nil {
		return nil, err
	}
	if m := c.Member(caller.UserID); m == nil || seq <= m.LastReadSeq {
		return c, nil // the mark did not move
	}
	s.publishReadReceipt(ctx, conversationID, caller.UserID, seq, at)
	// Read again rather than patch c: the store counts UnreadMentions.
	return s.store.GetConversation(ctx, conversationID)
}

// publishReadReceipt tells the members that userID has read up to seq,
// unless userID hides read receipts. Concurrent marks of one user may
// arrive out of order: clients keep the highest seq per user.
func (s *Service) publishReadReceipt(ctx context.Context, conversationID, userID string, seq int64, at time.Time) {
	u, err := s.store.GetUser(ctx, userID)
	if err != nil {
		s.logger.WarnContext(ctx, "read receipt not published", "conversation_id", conversationID, "user_id", userID, "err", err)
		return
	}
	if u.HideReadReceipts {
		return
	}
	s.publish(ctx, confab.ConversationTopic(conversationID), &confab.Event{
		Kind: confab.EventReadReceipt, ConversationID: conversationID, At: at,
		ReadMark: &confab.ReadMark{ConversationID: conversationID, UserID: userID, Seq: seq, At: at},
	})
}

// ReadBy returns the read marks of the other members of c, a conversation
// of the caller, in member order: those who have read something and do not
// hide read receipts. It costs one batched user read per conversation.
func (s *Service) ReadBy(ctx context.Context, caller confab.Identity, c *confab.Conversation) ([]*confab.ReadMark, error) {
	if err := s.requireCaller(caller); err != nil {
		return nil, err
	}
	if c.Member(caller.UserID) == nil {
		return nil, errConversationNotFound()
	}
	var ids []string
	for _, m := range c.Members {
		if m.UserID != caller.UserID && m.LastReadSeq > 0 {
			ids = append(ids, m.UserID)
		}
	}
	marks := []*confab.ReadMark{}
	if len(ids) == 0 {
		return marks, nil
	}
	users, err := s.store.GetUsers(ctx, ids)
	if err != nil {
		return nil, err
	}
	shares := make(map[string]bool, len(users))
	for _, u := range users {
		shares[u.UserID] = !u.HideReadReceipts
	}
	for _, m := range c.Members {
		if m.UserID == caller.UserID || m.LastReadSeq == 0 || !shares[m.UserID] {
			continue
		}
		mark := &confab.ReadMark{ConversationID: c.ConversationID, UserID: m.UserID, Seq: m.LastReadSeq}
		if m.LastReadAt != nil {
			mark.At = *m.LastReadAt
		}
		marks = append(marks, mark)
	}
	return marks, nil
}

// OnReadReceipt streams the read marks of the other members of a
// conversation of the caller as they move (never the caller's own, nor
// those of members who hide read receipts).
func (s *Service) OnReadReceipt(ctx context.Context, caller confab.Identity, conversationID string) (<-chan *confab.ReadMark, error) {
	if err := s.requireMember(ctx, caller, conversationID); err != nil {
		return nil, err
	}
	return subscribeMember(ctx, s, confab.ConversationTopic(conversationID), caller.UserID, func(ev *confab.Event) (*confab.ReadMark, bool) {
		if ev.Kind != confab.EventReadReceipt || ev.ReadMark == nil || ev.ReadMark.UserID == caller.UserID {
			return nil, false
		}
		m := *ev.ReadMark // shared with every subscriber: copy
		m.ConversationID = conversationID
		return &m, true
	})
}

// UnreadMentions is the number of messages after the caller's read mark
// that mention the caller.
func UnreadMentions(c *confab.Conversation, userID string) int {
	if m := c.Member(userID); m != nil {
		return m.UnreadMentions
	}
	return 0
}
