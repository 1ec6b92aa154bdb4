package metered

import (
	"context"
	"time"

	"github.com/confab-chat/confab"
)

func (s *Store) InsertBlock(ctx context.Context, b *confab.Block, maxBlocks int) (bool, error) {
	return call(s, "InsertBlock", func() (bool, error) { return s.next.InsertBlock(ctx, b, maxBlocks) })
}

func (s *Store) DeleteBlock(ctx context.Context, userID, blockedID string) (bool, error) {
	return call(s, "DeleteBlock", func() (bool, error) { return s.next.DeleteBlock(ctx, userID, blockedID) })
}

func (s *Store) ListBlocks(ctx context.Context, userID string, limit int) ([]*confab.Block, error) {
	return call(s, "ListBlocks", func() ([]*confab.Block, error) { return s.next.ListBlocks(ctx, userID, limit) })
}

func (s *Store) BlocksBetween(ctx context.Context, userID string, others []string) ([]*confab.Block, error) {
	return call(s, "BlocksBetween", func() ([]*confab.Block, error) { return s.next.BlocksBetween(ctx, userID, others) })
}

func (s *Store) SharesConversation(ctx context.Context, userID, otherID string) (bool, error) {
	return call(s, "SharesConversation", func() (bool, error) { return s.next.SharesConversation(ctx, userID, otherID) })
}

func (s *Store) InsertInvitation(ctx context.Context, inv *confab.Invitation) error {
	return run(s, "InsertInvitation", func() error { return s.next.InsertInvitation(ctx, inv) })
}

func (s *Store) GetInvitation(ctx context.Context, conversationID, userID string) (*confab.Invitation, error) {
	return call(s, "GetInvitation", func() (*confab.Invitation, error) { return s.next.GetInvitation(ctx, conversationID, userID) })
}

func (s *Store) DeleteInvitation(ctx context.Context, conversationID, userID string) error {
	return run(s, "DeleteInvitation", func() error { return s.next.DeleteInvitation(ctx, conversationID, userID) })
}

func (s *Store) ListInvitations(ctx context.Context, userID string, limit int) ([]*confab.Invitation, error) {
	return call(s, "ListInvitations", func() ([]*confab.Invitation, error) { return s.next.ListInvitations(ctx, userID, limit) })
}

func (s *Store) PutBan(ctx context.Context, b *confab.Ban) error {
	return run(s, "PutBan", func() error { return s.next.PutBan(ctx, b) })
}

func (s *Store) GetBan(ctx context.Context, conversationID, userID string) (*confab.Ban, error) {
	return call(s, "GetBan", func() (*confab.Ban, error) { return s.next.GetBan(ctx, conversationID, userID) })
}

func (s *Store) DeleteBan(ctx context.Context, conversationID, userID string) (bool, error) {
	return call(s, "DeleteBan", func() (bool, error) { return s.next.DeleteBan(ctx, conversationID, userID) })
}

func (s *Store) ListBans(ctx context.Context, conversationID string, limit int) ([]*confab.Ban, error) {
	return call(s, "ListBans", func() ([]*confab.Ban, error) { return s.next.ListBans(ctx, conversationID, limit) })
}

func (s *Store) InsertReport(ctx context.Context, r *confab.Report) error {
	return run(s, "InsertReport", func() error { return s.next.InsertReport(ctx, r) })
}

func (s *Store) GetReport(ctx context.Context, reportID string) (*confab.Report, error) {
	return call(s, "GetReport", func() (*confab.Report, error) { return s.next.GetReport(ctx, reportID) })
}

func (s *Store) ListReports(ctx context.Context, f confab.ReportFilter) ([]*confab.Report, error) {
	return call(s, "ListReports", func() ([]*confab.Report, error) { return s.next.ListReports(ctx, f) })
}

func (s *Store) ResolveReport(ctx context.Context, reportID, by string, status confab.ReportStatus, resolution string, at time.Time) (*confab.Report, error) {
	return call(s, "ResolveReport", func() (*confab.Report, error) {
		return s.next.ResolveReport(ctx, reportID, by, status, resolution, at)
	})
}

func (s *Store) InsertAudit(ctx context.Context, e *confab.AuditEntry) error {
	return run(s, "InsertAudit", func() error { return s.next.InsertAudit(ctx, e) })
}

func (s *Store) ListAudit(ctx context.Context, f confab.AuditFilter) ([]*confab.AuditEntry, error) {
	return call(s, "ListAudit", func() ([]*confab.AuditEntry, error) { return s.next.ListAudit(ctx, f) })
}

func (s *Store) ListAllConversations(ctx context.Context, after string, limit int) ([]*confab.Conversation, error) {
	return call(s, "ListAllConversations", func() ([]*confab.Conversation, error) { return s.next.ListAllConversations(ctx, after, limit) })
}

func (s *Store) DeleteConversation(ctx context.Context, conversationID string) ([]string, error) {
	return call(s, "DeleteConversation", func() ([]string, error) { return s.next.DeleteConversation(ctx, conversationID) })
}

func (s *Store) ListUserMessages(ctx context.Context, userID, before string, limit int) ([]*confab.Message, error) {
	return call(s, "ListUserMessages", func() ([]*confab.Message, error) { return s.next.ListUserMessages(ctx, userID, before, limit) })
}

func (s *Store) Usage(ctx context.Context, from, to time.Time, top int) (*confab.Usage, error) {
	return call(s, "Usage", func() (*confab.Usage, error) { return s.next.Usage(ctx, from, to, top) })
}
