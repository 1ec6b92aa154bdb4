package chat

import (
	"context"

	"github.com/confab-chat/confab"
)

// The methods in this file are for package admin, which has checked that
// its caller is a server administrator (or the command line) and records
// the action in the audit log. They skip the membership rules and publish
// exactly what the members' own operations publish. byUserID is the
// administrator ("" for the command line).

// DeleteMessageAs deletes a message of the conversation as byUserID, a
// moderator: the tombstone's DeletedBy names them (none for the command
// line). Members see the deletion live, as for deleteMessage. NOT_FOUND
// when the message or the conversation does not exist.
func (s *Service) DeleteMessageAs(ctx context.Context, byUserID, conversationID, messageID string) error {
	if !confab.ValidID(conversationID) || !confab.ValidID(messageID) {
		return errMessageNotFound()
	}
	now := s.nowUTC()
	m, c, err := s.store.DeleteMessage(ctx, conversationID, messageID, byUserID, now)
	if confab.ErrorCode(err) == confab.CodeNotFound {
		return errMessageNotFound()
	}
	if err != nil {
		return err
	}
	s.messageDeleted(ctx, m, c, byUserID, now)
	return nil
}

// SetArchived archives (read-only for everyone) or unarchives the
// conversation as byUserID, and returns it. Members see the change as for
// updateConversation. NOT_FOUND when it does not exist.
func (s *Service) SetArchived(ctx context.Context, byUserID, conversationID string, archived bool) (*confab.Conversation, error) {
	if !confab.ValidID(conversationID) {
		return nil, errConversationNotFound()
	}
	at := s.nowUTC()
	c, err := s.store.UpdateConversation(ctx, conversationID, byUserID, confab.ConversationUpdate{Archived: &archived}, at)
	if confab.ErrorCode(err) == confab.CodeNotFound {
		return nil, errConversationNotFound()
	}
	if err != nil {
		return nil, err
	}
	s.conversationUpdated(ctx, c, byUserID, at)
	return c, nil
}

// DeleteBlobs removes the given blobs of uploads from the blob store (the
// keys confab.ModerationStore.DeleteConversation returns). Nothing to do
// when files are off.
func (s *Service) DeleteBlobs(ctx context.Context, keys []string) error {
	if s.files == nil {
		return nil
	}
	for _, k := range keys {
		if err := s.files.blobs.Delete(ctx, k); err != nil {
			return err
		}
	}
	return nil
}
