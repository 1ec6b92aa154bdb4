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
	s.dropCached(ctx, conversationID)
	return c, nil
}

// ConversationDeleted tells every node that an administrator deleted the
// conversation (confab.ModerationStore.DeleteConversation): what they
// cached of it goes, so its former members get NOT_FOUND at their next
// request.
func (s *Service) ConversationDeleted(ctx context.Context, conversationID string) {
	s.dropCached(ctx, conversationID)
}

// dropCached drops this node's cache of the conversation and asks every
// node to do the same (the archived state and the members are part of
// what is cached).
func (s *Service) dropCached(ctx context.Context, conversationID string) {
	s.membershipChanged(ctx, conversationID)
}

// DeleteUploadBlobs removes the bytes of the uploads uploadIDs (those
// confab.ModerationStore.DeleteConversation removed the records of), with
// their thumbnails. Nothing to do when files are off; a missing blob is no
// error, so a failed call can be repeated.
func (s *Service) DeleteUploadBlobs(ctx context.Context, uploadIDs []string) error {
	if s.files == nil {
		return nil
	}
	for _, id := range uploadIDs {
		if err := s.files.deleteBlobs(ctx, id); err != nil {
			return err
		}
	}
	return nil
}
