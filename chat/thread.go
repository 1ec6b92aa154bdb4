package chat

import (
	"context"
	"time"

	"github.com/confab-chat/confab"
)

// threadRoot returns the root of the thread a reply to parentID goes to:
// parentID itself, or its own root when it is a reply (threads are one
// level deep). "" when parentID is "" (not a reply). NOT_FOUND when the
// message is not a live message of the conversation.
func (s *Service) threadRoot(ctx context.Context, conversationID, parentID string) (string, error) {
	if parentID == "" {
		return "", nil
	}
	p, err := s.liveMessage(ctx, conversationID, parentID)
	if err != nil {
		return "", err
	}
	if p.ParentMessageID != "" {
		return p.ParentMessageID, nil
	}
	return p.MessageID, nil
}

// publishThreadUpdated publishes the THREAD_UPDATED change that the store
// appended after reply's (its ChangeSeq+1), with the root as read now. When
// the root cannot be read (deleted meanwhile) nothing is published: change
// streams fill the gap from the store, as they do after a lost event.
func (s *Service) publishThreadUpdated(ctx context.Context, reply *confab.Message, userID string, at time.Time) {
	root, err := s.store.GetMessage(ctx, reply.ConversationID, reply.ParentMessageID)
	if err != nil {
		s.logger.WarnContext(ctx, "thread update not published", "conversation_id", reply.ConversationID, "err", err)
		return
	}
	ch := messageChange(confab.ChangeThreadUpdated, root, userID, at)
	ch.ChangeSeq = reply.ChangeSeq + 1
	s.publish(ctx, confab.ConversationTopic(reply.ConversationID), &confab.Event{
		Kind: confab.EventChanged, ConversationID: reply.ConversationID, Message: root, Change: ch, At: at,
	})
}

// ListThread returns a page of the live replies in the thread of rootID,
// oldest first (or newest first). Like ListMessages, the nextToken is a
// seq position bound to the thread and its order, so pages stay stable
// while replies are added. A root without replies (or no root) gives an
// empty page.
func (s *Service) ListThread(ctx context.Context, caller confab.Identity, conversationID, rootID string, limit *int, nextToken *string, newestFirst bool) (*MessagePage, error) {
	if err := s.requireMember(ctx, caller, conversationID); err != nil {
		return nil, err
	}
	if !confab.ValidID(rootID) {
		return nil, errMessageNotFound()
	}
	n, err := pageLimit(limit)
	if err != nil {
		return nil, err
	}
	kind := "thread-oldest"
	if newestFirst {
		kind = "thread-newest"
	}
	owner := conversationID + "/" + rootID
	p := confab.ThreadPage{Limit: n + 1, NewestFirst: newestFirst}
	if nextToken != nil && *nextToken != "" {
		var cur cursor
		if err := s.decodeCursor(*nextToken, kind, owner, &cur); err != nil {
			return nil, err
		}
		if cur.Seq <= 0 {
			return nil, confab.Errorf(confab.CodeInvalid, "nextToken is invalid.")
		}
		p.AfterSeq, p.BeforeSeq = cur.Seq, cur.Seq
	}
	items, err := s.store.ListThread(ctx, conversationID, rootID, p)
	if err != nil {
		return nil, err
	}
	page := &MessagePage{Items: items}
	if len(items) > n {
		page.Items = items[:n]
		tok := s.encodeCursor(kind, owner, cursor{Seq: items[n-1].Seq})
		page.NextToken = &tok
	}
	// Hidden after paging: a page may come back short, its nextToken
	// still right.
	if page.Items, err = s.hideBlocked(ctx, caller, page.Items); err != nil {
		return nil, err
	}
	return page, nil
}

// MarkThreadRead records that the caller has read the thread of rootID up
// to seq, and returns the root. A reply's id stands for its root. Like
// MarkConversationRead, a seq beyond the conversation's LastSeq is clamped
// to it and the mark never moves back.
func (s *Service) MarkThreadRead(ctx context.Context, caller confab.Identity, conversationID, rootID string, seq int64) (*confab.Message, error) {
	if err := s.requireMember(ctx, caller, conversationID); err != nil {
		return nil, err
	}
	if seq < 0 {
		return nil, confab.Errorf(confab.CodeInvalid, "seq must not be negative.")
	}
	root, err := s.liveMessage(ctx, conversationID, rootID)
	if err != nil {
		return nil, err
	}
	if root.ParentMessageID != "" {
		if root, err = s.liveMessage(ctx, conversationID, root.ParentMessageID); err != nil {
			return nil, err
		}
	}
	c, err := s.store.GetConversation(ctx, conversationID)
	if err != nil {
		return nil, err
	}
	if err := s.store.MarkThreadRead(ctx, conversationID, root.MessageID, caller.UserID, min(seq, c.LastSeq)); err != nil {
		return nil, err
	}
	return root, nil
}

// UnreadReplies returns, for each thread root among msgs (messages of one
// conversation of the caller) with unread replies, the number of replies
// by others after the caller's thread mark: one store read for the page.
// Messages that have no replies cost nothing.
func (s *Service) UnreadReplies(ctx context.Context, caller confab.Identity, msgs []*confab.Message) (map[string]int, error) {
	var ids []string
	for _, m := range msgs {
		if m.ReplyCount > 0 && m.ConversationID == msgs[0].ConversationID {
			ids = append(ids, m.MessageID)
		}
	}
	if len(ids) == 0 {
		return nil, nil
	}
	if len(ids) > confab.MaxPageLimit {
		return nil, confab.Errorf(confab.CodeInvalid, "At most %d messages at once.", confab.MaxPageLimit)
	}
	if err := s.requireMember(ctx, caller, msgs[0].ConversationID); err != nil {
		return nil, err
	}
	return s.store.CountUnreadReplies(ctx, msgs[0].ConversationID, caller.UserID, ids)
}
