package chat

import (
	"context"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/confab-chat/confab"
	"github.com/confab-chat/confab/blob/image"
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
	s.dropCached(ctx, conversationID, at)
	return c, nil
}

// ConversationDeleted tells every node that an administrator deleted the
// conversation (confab.ModerationStore.DeleteConversation): what they
// cached of it goes, so its former members get NOT_FOUND at their next
// request.
func (s *Service) ConversationDeleted(ctx context.Context, conversationID string) {
	s.dropCached(ctx, conversationID, s.nowUTC())
}

// dropCached drops this node's cache of the conversation's members and
// asks every node to do the same (confab.EventMembershipChanged: the
// archived state and the members are part of what is cached).
func (s *Service) dropCached(ctx context.Context, conversationID string, at time.Time) {
	s.membersMu.Lock()
	delete(s.members, conversationID)
	s.membersMu.Unlock()
	s.publish(ctx, confab.ControlTopic, &confab.Event{Kind: confab.EventMembershipChanged, ConversationID: conversationID, At: at})
}

// DeleteBlobs removes the given blobs of uploads from the blob store (the
// keys confab.ModerationStore.DeleteConversation returns), and with each
// upload's blob every other blob this package keeps for it (thumbnails), so
// that a store that returns only the bytes' keys leaves nothing behind.
// Nothing to do when files are off. Deleting a missing blob is no error,
// so a failed call can be repeated.
func (s *Service) DeleteBlobs(ctx context.Context, keys []string) error {
	if s.files == nil {
		return nil
	}
	all := map[string]bool{}
	for _, k := range keys {
		all[k] = true
		if id, ok := uploadOfKey(k); ok {
			all[inKey(id)], all[fileKey(id)] = true, true
			for i := range image.ThumbSizes {
				all[thumbKey(id, i)] = true
			}
		}
	}
	for _, k := range slices.Sorted(maps.Keys(all)) {
		if err := s.files.blobs.Delete(ctx, k); err != nil {
			return err
		}
	}
	return nil
}

// uploadOfKey returns the upload id of a blob key of inKey's, fileKey's or
// thumbKey's form.
func uploadOfKey(key string) (string, bool) {
	rest, ok := strings.CutPrefix(key, "uploads/")
	if !ok {
		return "", false
	}
	id, _, ok := strings.Cut(rest, "/")
	return id, ok && id != ""
}
