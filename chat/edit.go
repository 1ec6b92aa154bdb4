package chat

import (
	"context"

	"github.com/confab-chat/confab"
)

// EditMessage replaces the content of a live message of the caller's with
// content (the rules of a send), keeping the earlier version, and publishes
// the MESSAGE_EDITED change. Only the author may edit (FORBIDDEN), and
// within Config.EditWindow of sending when it is set (FORBIDDEN after). An
// edit to the content the message already has changes nothing and
// publishes nothing, so a retried edit is one edit. Edits share the send
// budget (RATE_LIMITED). An edit posts content, so the posting rules of
// SendMessage apply too (role, mute, archived; not slow mode).
func (s *Service) EditMessage(ctx context.Context, caller confab.Identity, conversationID, messageID, content string) (*confab.Message, error) {
	c, member, err := s.memberOf(ctx, caller, conversationID)
	if err != nil {
		return nil, err
	}
	m, err := s.liveMessage(ctx, conversationID, messageID)
	if err != nil {
		return nil, err
	}
	if m.UserID != caller.UserID {
		return nil, confab.Errorf(confab.CodeForbidden, "Only the author can edit a message.")
	}
	if err := mayWrite(c, member, postRole(c), s.nowUTC()); err != nil {
		return nil, err
	}
	if err := s.checkContent(content); err != nil {
		return nil, err
	}
	now := s.nowUTC()
	if w := s.cfg.EditWindow; w > 0 && now.Sub(m.CreatedAt) > w {
		return nil, confab.Errorf(confab.CodeForbidden, "A message can be edited only within %s of sending.", w)
	}
	if content == m.Content {
		return m, nil
	}
	if err := s.allowWrite(caller); err != nil {
		return nil, err
	}
	m, err = s.store.EditMessage(ctx, conversationID, messageID, content, now)
	if confab.ErrorCode(err) == confab.CodeNotFound {
		return nil, errMessageNotFound() // deleted since GetMessage
	}
	if err != nil {
		return nil, err
	}
	s.publish(ctx, confab.ConversationTopic(conversationID), &confab.Event{
		Kind: confab.EventChanged, ConversationID: conversationID, Message: m, At: now,
		Change: messageChange(confab.ChangeMessageEdited, m, caller.UserID, now),
	})
	s.conversationChanged(conversationID) // the preview follows an edit of the newest message
	return m, nil
}

// MessageEdits returns up to limit (default confab.DefaultEditsLimit, at
// most confab.MaxPageLimit) earlier versions of m, a message of a
// conversation of the caller, newest first. A message never edited costs
// no store read; a deleted one shows none (its content is gone, so are its
// earlier versions).
func (s *Service) MessageEdits(ctx context.Context, caller confab.Identity, m *confab.Message, limit *int) ([]*confab.MessageEdit, error) {
	n := confab.DefaultEditsLimit
	if limit != nil {
		var err error
		if n, err = pageLimit(limit); err != nil {
			return nil, err
		}
	}
	if m.EditedAt == nil || m.Deleted {
		return []*confab.MessageEdit{}, nil
	}
	if err := s.requireMember(ctx, caller, m.ConversationID); err != nil {
		return nil, err
	}
	return s.store.ListMessageEdits(ctx, m.ConversationID, m.MessageID, n)
}
