package sqlite

import (
	"context"
	"time"

	"github.com/confab-chat/confab"
)

// The methods of issue #15 (membership, moderation, administration): to
// be implemented. Until then they fail.
var errTODO15 = confab.Errorf(confab.CodeUnavailable, "not implemented yet")

func (s *Store) GetDirectConversation(ctx context.Context, userID, otherID string) (*confab.Conversation, error) {
	return nil, errTODO15
}

func (s *Store) AddMembers(ctx context.Context, conversationID, byUserID string, members []confab.Member, maxMembers int, at time.Time) ([]confab.Member, *confab.Conversation, error) {
	return nil, nil, errTODO15
}

func (s *Store) RemoveMember(ctx context.Context, conversationID, userID, byUserID string, at time.Time) (*confab.Conversation, error) {
	return nil, errTODO15
}

func (s *Store) UpdateMembers(ctx context.Context, conversationID, byUserID string, updates []confab.MemberUpdate, at time.Time) (*confab.Conversation, error) {
	return nil, errTODO15
}

func (s *Store) InsertBlock(ctx context.Context, b *confab.Block, maxBlocks int) (bool, error) {
	return false, errTODO15
}

func (s *Store) DeleteBlock(ctx context.Context, userID, blockedID string) (bool, error) {
	return false, errTODO15
}

func (s *Store) ListBlocks(ctx context.Context, userID string, limit int) ([]*confab.Block, error) {
	return nil, errTODO15
}

func (s *Store) BlocksBetween(ctx context.Context, userID string, others []string) ([]*confab.Block, error) {
	return nil, errTODO15
}

func (s *Store) SharesConversation(ctx context.Context, userID, otherID string) (bool, error) {
	return false, errTODO15
}

func (s *Store) InsertInvitation(ctx context.Context, inv *confab.Invitation) error { return errTODO15 }

func (s *Store) GetInvitation(ctx context.Context, conversationID, userID string) (*confab.Invitation, error) {
	return nil, errTODO15
}

func (s *Store) DeleteInvitation(ctx context.Context, conversationID, userID string) error {
	return errTODO15
}

func (s *Store) ListInvitations(ctx context.Context, userID string, limit int) ([]*confab.Invitation, error) {
	return nil, errTODO15
}

func (s *Store) PutBan(ctx context.Context, b *confab.Ban) error { return errTODO15 }

func (s *Store) GetBan(ctx context.Context, conversationID, userID string) (*confab.Ban, error) {
	return nil, errTODO15
}

func (s *Store) DeleteBan(ctx context.Context, conversationID, userID string) (bool, error) {
	return false, errTODO15
}

func (s *Store) ListBans(ctx context.Context, conversationID string, limit int) ([]*confab.Ban, error) {
	return nil, errTODO15
}

func (s *Store) InsertReport(ctx context.Context, r *confab.Report) error { return errTODO15 }

func (s *Store) GetReport(ctx context.Context, reportID string) (*confab.Report, error) {
	return nil, errTODO15
}

func (s *Store) ListReports(ctx context.Context, f confab.ReportFilter) ([]*confab.Report, error) {
	return nil, errTODO15
}

func (s *Store) ResolveReport(ctx context.Context, reportID, by string, status confab.ReportStatus, resolution string, at time.Time) (*confab.Report, error) {
	return nil, errTODO15
}

func (s *Store) InsertAudit(ctx context.Context, e *confab.AuditEntry) error { return errTODO15 }

func (s *Store) ListAudit(ctx context.Context, f confab.AuditFilter) ([]*confab.AuditEntry, error) {
	return nil, errTODO15
}

func (s *Store) ListAllConversations(ctx context.Context, after string, limit int) ([]*confab.Conversation, error) {
	return nil, errTODO15
}

func (s *Store) DeleteConversation(ctx context.Context, conversationID string) ([]string, error) {
	return nil, errTODO15
}

func (s *Store) ListUserMessages(ctx context.Context, userID, before string, limit int) ([]*confab.Message, error) {
	return nil, errTODO15
}

func (s *Store) Usage(ctx context.Context, from, to time.Time, top int) (*confab.Usage, error) {
	return nil, errTODO15
}
