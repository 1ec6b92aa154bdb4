package confab

import (
	"context"
	"time"
)

// Ban keeps a user out of one conversation (ConversationID set) or out of
// the whole server (ConversationID ""), until Until or, when nil, for good.
// A conversation ban removes the member and refuses adding them again or
// their accepting an invitation; a server ban disables the account (signed
// out everywhere) and is lifted at sign-in once it has expired.
type Ban struct {
	ConversationID string
	UserID         string
	BannedBy       string
	Reason         string
	CreatedAt      time.Time
	Until          *time.Time
}

// Active reports whether the ban still holds at now.
func (b *Ban) Active(now time.Time) bool { return b.Until == nil || now.Before(*b.Until) }

// ReportStatus is where a report stands in the admin queue.
type ReportStatus string

// The statuses, as in the schema's ReportStatus enum.
const (
	ReportOpen      ReportStatus = "OPEN"
	ReportResolved  ReportStatus = "RESOLVED"  // acted upon
	ReportDismissed ReportStatus = "DISMISSED" // nothing to do
)

// Report is a user's complaint about a message (MessageID and
// ConversationID set) or about a user (only UserID), waiting in the admin
// queue.
type Report struct {
	ReportID       string // time-ordered (UUIDv7)
	ReporterID     string
	UserID         string // the reported user (a message's author)
	ConversationID string
	MessageID      string
	Reason         string
	CreatedAt      time.Time
	Status         ReportStatus
	ResolvedBy     string
	ResolvedAt     *time.Time
	Resolution     string // the admin's note
}

// AuditAction names a moderation or administration action.
type AuditAction string

// The audit actions, as in the schema's AuditAction enum.
const (
	AuditMemberAdded            AuditAction = "MEMBER_ADDED"
	AuditMemberRemoved          AuditAction = "MEMBER_REMOVED"
	AuditRoleChanged            AuditAction = "ROLE_CHANGED"
	AuditOwnerTransferred       AuditAction = "OWNER_TRANSFERRED"
	AuditSettingsChanged        AuditAction = "SETTINGS_CHANGED"
	AuditMessageDeleted         AuditAction = "MESSAGE_DELETED" // by a moderator, not its author
	AuditMemberMuted            AuditAction = "MEMBER_MUTED"
	AuditMemberUnmuted          AuditAction = "MEMBER_UNMUTED"
	AuditUserBanned             AuditAction = "USER_BANNED"
	AuditUserUnbanned           AuditAction = "USER_UNBANNED"
	AuditReportResolved         AuditAction = "REPORT_RESOLVED"
	AuditUserDisabled           AuditAction = "USER_DISABLED"
	AuditUserEnabled            AuditAction = "USER_ENABLED"
	AuditUserDeleted            AuditAction = "USER_DELETED"
	AuditUserSignedOut          AuditAction = "USER_SIGNED_OUT"
	AuditPasswordReset          AuditAction = "PASSWORD_RESET"
	AuditAdminGranted           AuditAction = "ADMIN_GRANTED"
	AuditAdminRevoked           AuditAction = "ADMIN_REVOKED"
	AuditConversationArchived   AuditAction = "CONVERSATION_ARCHIVED"
	AuditConversationUnarchived AuditAction = "CONVERSATION_UNARCHIVED"
	AuditConversationDeleted    AuditAction = "CONVERSATION_DELETED"
	AuditUserExported           AuditAction = "USER_EXPORTED"
)

// AuditEntry records one moderation or administration action: who did
// what to whom, when and why. Entries are only ever added.
type AuditEntry struct {
	EntryID        string // time-ordered (UUIDv7)
	At             time.Time
	ActorID        string // who acted ("" for the command line)
	Action         AuditAction
	ConversationID string // the conversation acted in, if any
	UserID         string // the user acted upon, if any
	MessageID      string // the message acted upon, if any
	Reason         string
	Until          *time.Time // the end of a timed mute or ban
	Detail         string     // e.g. the new role
}

// AuditFilter selects a page of the audit log, newest first: entries with
// EntryID below Before (all when ""), of one conversation or about one
// user when those are set.
type AuditFilter struct {
	ConversationID string
	UserID         string
	Before         string
	Limit          int
}

// ReportFilter selects a page of reports, newest first.
type ReportFilter struct {
	Status ReportStatus // "" for every status
	Before string       // ReportID of the last report of the previous page
	Limit  int
}

// DayCount is one day's figure of a usage time series. Day is midnight UTC.
type DayCount struct {
	Day   time.Time
	Count int
}

// ConversationCount is a conversation's number of messages in a span.
type ConversationCount struct {
	ConversationID string
	Messages       int
}

// Usage is what the server was used for between From and To (whole days,
// UTC), read from the stored data.
type Usage struct {
	From, To time.Time
	// MessagesPerDay and ActiveUsersPerDay (distinct authors) have one
	// entry per day of the span, zero days included, oldest first.
	MessagesPerDay    []DayCount
	ActiveUsersPerDay []DayCount
	// ActiveUsersPerWeek has one entry per ISO week (Day is its Monday)
	// touching the span: distinct authors within the span that week.
	ActiveUsersPerWeek []DayCount
	// TopConversations are the conversations with the most messages in the
	// span, most first (ties by ConversationID), at most the limit asked.
	TopConversations []ConversationCount
	Users            int   // accounts now
	Conversations    int   // conversations now
	StorageBytes     int64 // bytes of attached files now (uploads not removed)
}

// ModerationStore keeps what membership rules and moderation need beyond
// conversations: blocks, invitations, bans, reports, the audit log, and the
// admin's whole-server reads.
type ModerationStore interface {
	// InsertBlock records that userID blocks blockedID (added false and
	// nothing written when it already does). CodeLimited when userID
	// already blocks maxBlocks users.
	InsertBlock(ctx context.Context, b *Block, maxBlocks int) (added bool, err error)
	// DeleteBlock removes the block (removed false when there was none).
	DeleteBlock(ctx context.Context, userID, blockedID string) (removed bool, err error)
	// ListBlocks returns the users userID blocks, oldest block first, up
	// to limit.
	ListBlocks(ctx context.Context, userID string, limit int) ([]*Block, error)
	// BlocksBetween returns the blocks in either direction between userID
	// and each of others (at most MaxAddMembers ids): one read.
	BlocksBetween(ctx context.Context, userID string, others []string) ([]*Block, error)

	// SharesConversation reports whether the two users are members of
	// some conversation together (AddContacts).
	SharesConversation(ctx context.Context, userID, otherID string) (bool, error)

	// InsertInvitation stores inv, replacing an earlier invitation of the
	// same user to the same conversation.
	InsertInvitation(ctx context.Context, inv *Invitation) error
	// GetInvitation returns the user's invitation to the conversation.
	GetInvitation(ctx context.Context, conversationID, userID string) (*Invitation, error)
	// DeleteInvitation removes it; CodeNotFound when there is none, so of
	// an accept and a decline racing exactly one wins.
	DeleteInvitation(ctx context.Context, conversationID, userID string) error
	// ListInvitations returns the user's pending invitations, newest
	// first, up to limit.
	ListInvitations(ctx context.Context, userID string, limit int) ([]*Invitation, error)

	// PutBan stores b, replacing the user's earlier ban of the same scope.
	PutBan(ctx context.Context, b *Ban) error
	// GetBan returns the user's ban in the conversation ("" for the
	// server-wide ban), expired or not; CodeNotFound when none.
	GetBan(ctx context.Context, conversationID, userID string) (*Ban, error)
	// DeleteBan lifts it (removed false when there was none).
	DeleteBan(ctx context.Context, conversationID, userID string) (removed bool, err error)
	// ListBans returns the bans of the conversation ("" for server-wide
	// bans), newest first, up to limit.
	ListBans(ctx context.Context, conversationID string, limit int) ([]*Ban, error)

	// InsertReport stores r.
	InsertReport(ctx context.Context, r *Report) error
	// GetReport returns one report.
	GetReport(ctx context.Context, reportID string) (*Report, error)
	// ListReports returns a page of reports (see ReportFilter).
	ListReports(ctx context.Context, f ReportFilter) ([]*Report, error)
	// ResolveReport sets the status (ReportResolved or ReportDismissed),
	// ResolvedBy, ResolvedAt and Resolution of an open report and returns
	// it. CodeConflict when it is no longer open, CodeNotFound when missing.
	ResolveReport(ctx context.Context, reportID, by string, status ReportStatus, resolution string, at time.Time) (*Report, error)

	// InsertAudit appends e to the audit log.
	InsertAudit(ctx context.Context, e *AuditEntry) error
	// ListAudit returns a page of the audit log (see AuditFilter).
	ListAudit(ctx context.Context, f AuditFilter) ([]*AuditEntry, error)

	// ListAllConversations returns every conversation (members included)
	// with ConversationID above after, in ConversationID order, up to
	// limit: the admin's list.
	ListAllConversations(ctx context.Context, after string, limit int) ([]*Conversation, error)
	// DeleteConversation removes a conversation for good with its
	// members, messages, edits, reactions, mentions, change log,
	// invitations, bans and upload records, and returns the ids of the
	// uploads it removed: their blobs are the caller's to remove (the
	// store does not know how chat names them). CodeNotFound when missing.
	DeleteConversation(ctx context.Context, conversationID string) (uploadIDs []string, err error)
	// ListUserMessages returns up to limit messages userID wrote (deleted
	// ones left out), newest first, MessageID below before when it is
	// non-empty: for an export or a deletion of the user's data.
	ListUserMessages(ctx context.Context, userID, before string, limit int) ([]*Message, error)
	// Usage reads the usage report of the days from through to (UTC
	// midnights, at most MaxUsageDays apart), with at most top
	// TopConversations.
	Usage(ctx context.Context, from, to time.Time, top int) (*Usage, error)
}
