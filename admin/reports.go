package admin

import (
	"context"
	"time"

	"github.com/confab-chat/confab"
)

// ReportPage is one page of ListReports.
type ReportPage struct {
	Items     []*confab.Report
	NextToken *string // the last ReportID; nil on the last page
}

// ListReports lists the reports queue, newest first, of one status ("" for
// all).
func (s *Service) ListReports(ctx context.Context, a Actor, status confab.ReportStatus, limit *int, nextToken *string) (*ReportPage, error) {
	if _, err := s.authorize(ctx, a); err != nil {
		return nil, err
	}
	switch status {
	case "", confab.ReportOpen, confab.ReportResolved, confab.ReportDismissed:
	default:
		return nil, confab.Errorf(confab.CodeInvalid, "status must be OPEN, RESOLVED or DISMISSED.")
	}
	n, err := pageLimit(limit, confab.MaxAuditPageLimit)
	if err != nil {
		return nil, err
	}
	before, err := cursor(nextToken)
	if err != nil {
		return nil, err
	}
	items, err := s.store.ListReports(ctx, confab.ReportFilter{Status: status, Before: before, Limit: n + 1})
	if err != nil {
		return nil, err
	}
	page := &ReportPage{Items: items}
	if len(items) > n {
		page.Items = items[:n]
		page.NextToken = &items[n-1].ReportID
	}
	return page, nil
}

// ResolveReport closes an open report as RESOLVED (acted upon) or
// DISMISSED, with the administrator's note. CONFLICT when it is no longer
// open, NOT_FOUND when there is no such report.
func (s *Service) ResolveReport(ctx context.Context, a Actor, reportID string, status confab.ReportStatus, resolution string) (*confab.Report, error) {
	actorID, err := s.authorize(ctx, a)
	if err != nil {
		return nil, err
	}
	if status != confab.ReportResolved && status != confab.ReportDismissed {
		return nil, confab.Errorf(confab.CodeInvalid, "status must be RESOLVED or DISMISSED.")
	}
	if err := checkReason(resolution); err != nil {
		return nil, err
	}
	if !confab.ValidID(reportID) {
		return nil, errReportNotFound
	}
	r, err := s.store.ResolveReport(ctx, reportID, actorID, status, resolution, s.now().UTC().Truncate(time.Millisecond))
	switch confab.ErrorCode(err) {
	case confab.CodeNotFound:
		return nil, errReportNotFound
	case confab.CodeConflict:
		return nil, confab.Errorf(confab.CodeConflict, "The report was already resolved.")
	}
	if err != nil {
		return nil, err
	}
	e := confab.AuditEntry{Action: confab.AuditReportResolved, ConversationID: r.ConversationID, UserID: r.UserID,
		MessageID: r.MessageID, Reason: resolution, Detail: string(status) + " report " + r.ReportID}
	if err := s.audit(ctx, actorID, e); err != nil {
		return nil, err
	}
	return r, nil
}

var errReportNotFound = confab.Errorf(confab.CodeNotFound, "Report not found.")

// ReportMessage returns the reported message as it is now: nil when the
// report is not about a message or the message is gone.
func (s *Service) ReportMessage(ctx context.Context, a Actor, r *confab.Report) (*confab.Message, error) {
	if _, err := s.authorize(ctx, a); err != nil {
		return nil, err
	}
	if r.MessageID == "" {
		return nil, nil
	}
	m, err := s.store.GetMessage(ctx, r.ConversationID, r.MessageID)
	if confab.ErrorCode(err) == confab.CodeNotFound {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	if m.Deleted {
		return nil, nil
	}
	return m, nil
}

// AuditPage is one page of ListAudit.
type AuditPage struct {
	Items     []*confab.AuditEntry
	NextToken *string // the last EntryID; nil on the last page
}

// ListAudit lists the audit log, newest first: all of it, or the entries
// of one conversation or about one user.
func (s *Service) ListAudit(ctx context.Context, a Actor, conversationID, userID string, limit *int, nextToken *string) (*AuditPage, error) {
	if _, err := s.authorize(ctx, a); err != nil {
		return nil, err
	}
	for _, id := range []string{conversationID, userID} {
		if id != "" && !confab.ValidID(id) {
			return nil, confab.Errorf(confab.CodeInvalid, "conversationId and userId must be ids.")
		}
	}
	n, err := pageLimit(limit, confab.MaxAuditPageLimit)
	if err != nil {
		return nil, err
	}
	before, err := cursor(nextToken)
	if err != nil {
		return nil, err
	}
	items, err := s.store.ListAudit(ctx, confab.AuditFilter{ConversationID: conversationID, UserID: userID, Before: before, Limit: n + 1})
	if err != nil {
		return nil, err
	}
	page := &AuditPage{Items: items}
	if len(items) > n {
		page.Items = items[:n]
		page.NextToken = &items[n-1].EntryID
	}
	return page, nil
}

// Usage is a usage report with the names of its top conversations.
type Usage struct {
	*confab.Usage
	Names map[string]*string // by ConversationID; nil name: unnamed
}

// Usage reports what the server was used for over the last days days,
// today (UTC) included: days defaults to confab.DefaultUsageDays and is at
// most confab.MaxUsageDays; top (default DefaultTop, at most
// MaxTopConversations) is how many of the busiest conversations it names.
func (s *Service) Usage(ctx context.Context, a Actor, days, top *int) (*Usage, error) {
	if _, err := s.authorize(ctx, a); err != nil {
		return nil, err
	}
	d, t := confab.DefaultUsageDays, DefaultTop
	if days != nil {
		d = *days
	}
	if top != nil {
		t = *top
	}
	if d < 1 || d > confab.MaxUsageDays {
		return nil, confab.Errorf(confab.CodeInvalid, "days must be between 1 and %d.", confab.MaxUsageDays)
	}
	if t < 0 || t > MaxTopConversations {
		return nil, confab.Errorf(confab.CodeInvalid, "top must be between 0 and %d.", MaxTopConversations)
	}
	now := s.now().UTC()
	to := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, time.UTC)
	u, err := s.store.Usage(ctx, to.AddDate(0, 0, -(d-1)), to, t)
	if err != nil {
		return nil, err
	}
	names := map[string]*string{}
	for _, cc := range u.TopConversations {
		c, err := s.store.GetConversation(ctx, cc.ConversationID)
		if confab.ErrorCode(err) == confab.CodeNotFound {
			continue // deleted since
		}
		if err != nil {
			return nil, err
		}
		names[cc.ConversationID] = c.Name
	}
	return &Usage{Usage: u, Names: names}, nil
}
