package chat

import (
	"context"
	"time"

	"github.com/confab-chat/confab"
)

// ReportsPerMinute bounds each user's reportMessage and reportUser calls
// together (bursts of as many): a report costs an admin's attention, so
// nobody can flood the queue. Over it is RATE_LIMITED with the wait.
const ReportsPerMinute = 10

// maxReportScan bounds the reports one duplicate check reads.
const maxReportScan = 1000

// ReportMessage reports a live message of a conversation of the caller's
// to the server's admins, with a reason (1 to confab.MaxReasonBytes bytes
// of text). Reporting one's own message is BAD_USER_INPUT. A user reports
// a message once: a second report is accepted and changes nothing (see
// reportedBefore).
func (s *Service) ReportMessage(ctx context.Context, caller confab.Identity, conversationID, messageID, reason string) error {
	if _, _, err := s.memberOf(ctx, caller, conversationID); err != nil {
		return err
	}
	m, err := s.liveMessage(ctx, conversationID, messageID)
	if err != nil {
		return err
	}
	if m.UserID == caller.UserID {
		return confab.Errorf(confab.CodeInvalid, "You cannot report your own message.")
	}
	return s.report(ctx, caller, &confab.Report{UserID: m.UserID, ConversationID: conversationID, MessageID: messageID}, reason, m.CreatedAt)
}

// ReportUser reports a user to the server's admins, with a reason; any
// existing user but the caller. Like a message, a user is reported once by
// each reporter.
func (s *Service) ReportUser(ctx context.Context, caller confab.Identity, userID, reason string) error {
	if err := s.requireCaller(caller); err != nil {
		return err
	}
	if userID == caller.UserID {
		return confab.Errorf(confab.CodeInvalid, "You cannot report yourself.")
	}
	if !confab.ValidID(userID) {
		return errUserNotFound()
	}
	u, err := s.store.GetUser(ctx, userID)
	if confab.ErrorCode(err) == confab.CodeNotFound {
		return errUserNotFound()
	}
	if err != nil {
		return err
	}
	return s.report(ctx, caller, &confab.Report{UserID: userID}, reason, u.CreatedAt)
}

// report checks the reason and the caller's report budget and files r,
// unless the caller reported the same thing already (since is when it came
// to be: no report of it can be older).
func (s *Service) report(ctx context.Context, caller confab.Identity, r *confab.Report, reason string, since time.Time) error {
	why, err := checkReason(&reason, true)
	if err != nil {
		return err
	}
	if ok, wait := s.reports.Allow(caller.UserID); !ok {
		return confab.Limited(wait, "Too many reports: at most %d a minute.", ReportsPerMinute)
	}
	r.ReporterID = caller.UserID
	if dup, err := s.reportedBefore(ctx, r, since); dup || err != nil {
		return err
	}
	r.ReportID, r.Reason, r.CreatedAt, r.Status = s.newID(), why, s.nowUTC(), confab.ReportOpen
	return s.store.InsertReport(ctx, r)
}

// reportedBefore reports whether r's reporter already reported what r is
// about, in any status. The queue is newest first and nothing is reported
// before it exists, so it reads only the reports made since then, at most
// maxReportScan of them (one page for a fresh message): beyond that, or
// when two identical reports race, a duplicate may be filed, which costs
// an admin a click and nothing else.
func (s *Service) reportedBefore(ctx context.Context, r *confab.Report, since time.Time) (bool, error) {
	f := confab.ReportFilter{Limit: confab.MaxAuditPageLimit}
	for read := 0; read < maxReportScan; {
		page, err := s.store.ListReports(ctx, f)
		if err != nil {
			return false, err
		}
		for _, p := range page {
			if p.CreatedAt.Before(since) {
				return false, nil
			}
			if p.ReporterID == r.ReporterID && p.UserID == r.UserID && p.ConversationID == r.ConversationID && p.MessageID == r.MessageID {
				return true, nil
			}
		}
		if len(page) < f.Limit {
			return false, nil
		}
		read += len(page)
		f.Before = page[len(page)-1].ReportID
	}
	return false, nil
}
