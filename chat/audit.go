package chat

import (
	"context"

	"github.com/confab-chat/confab"
)

// audit appends e to the audit log, stamping its EntryID and At. A
// moderation action calls it after its change committed; when the log
// cannot be written the action is done but the caller gets the error, so
// nothing moderates silently.
func (s *Service) audit(ctx context.Context, e *confab.AuditEntry) error {
	e.EntryID = s.newID()
	if e.At.IsZero() {
		e.At = s.nowUTC()
	}
	return s.store.InsertAudit(ctx, e)
}

// Audit records an action taken outside the chat service (the admin API,
// the command line) in the same log.
func (s *Service) Audit(ctx context.Context, e *confab.AuditEntry) error { return s.audit(ctx, e) }

// memberOf returns the conversation and the caller's membership, or
// NOT_FOUND (the same answer as for a missing conversation) when the caller
// is not a member. Every rule that depends on a role, a mute or the
// settings reads them here. Both come from the membership cache (see
// cachedConv: members, roles, settings and the archived state are
// current, the counters are not) and are shared: read-only.
func (s *Service) memberOf(ctx context.Context, caller confab.Identity, conversationID string) (*confab.Conversation, *confab.Member, error) {
	if err := s.requireCaller(caller); err != nil {
		return nil, nil, err
	}
	if !confab.ValidID(conversationID) {
		return nil, nil, errConversationNotFound()
	}
	e, err := s.cachedConversation(ctx, conversationID)
	if confab.ErrorCode(err) == confab.CodeNotFound {
		return nil, nil, errConversationNotFound()
	}
	if err != nil {
		return nil, nil, err
	}
	m, ok := e.members[caller.UserID]
	if !ok {
		return nil, nil, errConversationNotFound()
	}
	return e.conv, m, nil
}

// RoleOf is a member's effective role: the stored one, or for rows older
// than roles, OWNER for the conversation's creator and MEMBER otherwise.
func RoleOf(c *confab.Conversation, m *confab.Member) confab.Role {
	if m.Role != "" {
		return m.Role
	}
	if m.UserID == c.CreatedBy {
		return confab.RoleOwner
	}
	return confab.RoleMember
}
