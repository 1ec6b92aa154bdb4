package admin

import (
	"context"

	"github.com/confab-chat/confab"
)

// ConversationPage is one page of ListConversations.
type ConversationPage struct {
	Items     []*confab.Conversation
	NextToken *string // the last ConversationID; nil on the last page
}

// ListConversations lists every conversation, members included, in
// ConversationID order.
func (s *Service) ListConversations(ctx context.Context, a Actor, limit *int, nextToken *string) (*ConversationPage, error) {
	if _, err := s.authorize(ctx, a); err != nil {
		return nil, err
	}
	n, err := pageLimit(limit, confab.MaxPageLimit)
	if err != nil {
		return nil, err
	}
	after, err := cursor(nextToken)
	if err != nil {
		return nil, err
	}
	items, err := s.store.ListAllConversations(ctx, after, n+1)
	if err != nil {
		return nil, err
	}
	page := &ConversationPage{Items: items}
	if len(items) > n {
		page.Items = items[:n]
		page.NextToken = &items[n-1].ConversationID
	}
	return page, nil
}

var errConversationNotFound = confab.Errorf(confab.CodeNotFound, "Conversation not found.")

// GetConversation returns any conversation with its members, whoever they
// are; NOT_FOUND when it does not exist.
func (s *Service) GetConversation(ctx context.Context, a Actor, conversationID string) (*confab.Conversation, error) {
	if _, err := s.authorize(ctx, a); err != nil {
		return nil, err
	}
	if !confab.ValidID(conversationID) {
		return nil, errConversationNotFound
	}
	c, err := s.store.GetConversation(ctx, conversationID)
	if confab.ErrorCode(err) == confab.CodeNotFound {
		return nil, errConversationNotFound
	}
	return c, err
}

// SetArchived archives the conversation (read-only for everyone, members
// told live) or unarchives it.
func (s *Service) SetArchived(ctx context.Context, a Actor, conversationID string, archived bool) (*confab.Conversation, error) {
	actorID, err := s.authorize(ctx, a)
	if err != nil {
		return nil, err
	}
	c, err := s.chat.SetArchived(ctx, actorID, conversationID, archived)
	if err != nil {
		return nil, err
	}
	action := confab.AuditConversationUnarchived
	if archived {
		action = confab.AuditConversationArchived
	}
	if err := s.audit(ctx, actorID, confab.AuditEntry{Action: action, ConversationID: c.ConversationID}); err != nil {
		return nil, err
	}
	return c, nil
}

// DeleteConversation removes the conversation for good: its members,
// messages and everything attached to them, and the files' bytes when
// files are on. The audit entry outlives it.
func (s *Service) DeleteConversation(ctx context.Context, a Actor, conversationID, reason string) error {
	actorID, err := s.authorize(ctx, a)
	if err != nil {
		return err
	}
	if err := checkReason(reason); err != nil {
		return err
	}
	if !confab.ValidID(conversationID) {
		return errConversationNotFound
	}
	keys, err := s.store.DeleteConversation(ctx, conversationID)
	if confab.ErrorCode(err) == confab.CodeNotFound {
		return errConversationNotFound
	}
	if err != nil {
		return err
	}
	s.chat.ConversationDeleted(ctx, conversationID)
	// The records are gone: record the deletion before the blobs, so that
	// a failure removing bytes (retried by nobody) still leaves the entry.
	if err := s.audit(ctx, actorID, confab.AuditEntry{Action: confab.AuditConversationDeleted, ConversationID: conversationID, Reason: reason}); err != nil {
		return err
	}
	return s.chat.DeleteBlobs(ctx, keys)
}
