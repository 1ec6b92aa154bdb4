package admin

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"time"

	"github.com/confab-chat/confab"
	"github.com/confab-chat/confab/chat"
)

// The export of one user's data (GDPR art. 15 and 20): what the server
// keeps about them, as JSON. Secrets are never part of it: no password
// hash, SRP verifier, refresh token or push encryption key.

// exportProfile is the user's profile, e-mail address included.
type exportProfile struct {
	UserID           string     `json:"userId"`
	Username         string     `json:"username"`
	Email            string     `json:"email"`
	DisplayName      *string    `json:"displayName"`
	AvatarURL        *string    `json:"avatarUrl"`
	CreatedAt        time.Time  `json:"createdAt"`
	UpdatedAt        *time.Time `json:"updatedAt"`
	LastSeen         *time.Time `json:"lastSeen"`
	HidePresence     bool       `json:"hidePresence"`
	HideReadReceipts bool       `json:"hideReadReceipts"`
	AddPolicy        string     `json:"addPolicy,omitempty"`
	Admin            bool       `json:"admin"`
}

// exportAccount is what the credentials say that is not a secret.
type exportAccount struct {
	CreatedAt         time.Time `json:"createdAt"`
	Confirmed         bool      `json:"confirmed"`
	Disabled          bool      `json:"disabled"`
	PasswordTemporary bool      `json:"passwordTemporary"`
}

type exportMembership struct {
	ConversationID string     `json:"conversationId"`
	Name           *string    `json:"name"`
	Direct         bool       `json:"direct"`
	Role           string     `json:"role"`
	JoinedAt       time.Time  `json:"joinedAt"`
	LastReadSeq    int64      `json:"lastReadSeq"`
	MutedUntil     *time.Time `json:"mutedUntil,omitempty"`
}

type exportMessage struct {
	MessageID       string     `json:"messageId"`
	ConversationID  string     `json:"conversationId"`
	ParentMessageID string     `json:"parentMessageId,omitempty"`
	Content         string     `json:"content"`
	MessageType     string     `json:"messageType"`
	CreatedAt       time.Time  `json:"createdAt"`
	EditedAt        *time.Time `json:"editedAt,omitempty"`
}

type exportBlock struct {
	BlockedID string    `json:"blockedUserId"`
	CreatedAt time.Time `json:"createdAt"`
}

type exportReport struct {
	ReportID       string    `json:"reportId"`
	UserID         string    `json:"reportedUserId"`
	ConversationID string    `json:"conversationId,omitempty"`
	MessageID      string    `json:"messageId,omitempty"`
	Reason         string    `json:"reason"`
	CreatedAt      time.Time `json:"createdAt"`
	Status         string    `json:"status"`
}

type exportPush struct {
	Endpoint  string    `json:"endpoint"`
	CreatedAt time.Time `json:"createdAt"`
}

// exportPageSize is the page size of the store reads of an export.
const exportPageSize = 100

// ExportUser writes everything the server keeps about one user to w as
// one JSON object: profile (with the e-mail address), account facts,
// memberships with roles, blocks, the reports they made, push
// subscriptions (endpoints only), notification settings, and their
// messages, newest first, at most confab.MaxExportMessages
// ("messagesTruncated" says when there were more). Messages are
// streamed, so memory does not grow with them. The export is recorded in
// the audit log before anything is written.
func (s *Service) ExportUser(ctx context.Context, a Actor, login string, w io.Writer) error {
	actorID, err := s.authorize(ctx, a)
	if err != nil {
		return err
	}
	u, cred, err := s.auth.Account(ctx, login)
	if err != nil {
		return err
	}
	if err := s.audit(ctx, actorID, confab.AuditEntry{Action: confab.AuditUserExported, UserID: u.UserID}); err != nil {
		return err
	}
	memberships, err := s.exportMemberships(ctx, u.UserID)
	if err != nil {
		return err
	}
	blocks, err := s.store.ListBlocks(ctx, u.UserID, confab.MaxBlocks)
	if err != nil {
		return err
	}
	reports, err := s.reportsBy(ctx, u.UserID)
	if err != nil {
		return err
	}
	pushes, settings, err := s.exportPush(ctx, u.UserID)
	if err != nil {
		return err
	}
	ew := &exportWriter{w: bufio.NewWriter(w)}
	ew.raw("{")
	ew.field("exportedAt", s.now().UTC().Truncate(time.Second))
	ew.raw(",")
	ew.field("profile", profileOf(u))
	ew.raw(",")
	ew.field("account", exportAccount{CreatedAt: u.CreatedAt, Confirmed: !cred.Unconfirmed, Disabled: cred.Disabled, PasswordTemporary: cred.PasswordTemporary})
	ew.raw(",")
	ew.field("memberships", memberships)
	ew.raw(",")
	ew.field("blocks", blocksOf(blocks))
	ew.raw(",")
	ew.field("reports", reports)
	ew.raw(",")
	ew.field("pushSubscriptions", pushes)
	ew.raw(",")
	ew.field("notificationSettings", settings)
	ew.raw(`,"messages":[`)
	truncated, err := s.exportMessages(ctx, u.UserID, ew)
	if err != nil {
		return err
	}
	ew.raw("],")
	ew.field("messagesTruncated", truncated)
	ew.raw("}\n")
	return ew.flush()
}

// exportWriter writes JSON pieces and keeps the first error.
type exportWriter struct {
	w   *bufio.Writer
	err error
	n   int // values written into the current array
}

func (ew *exportWriter) raw(s string) {
	if ew.err == nil {
		_, ew.err = ew.w.WriteString(s)
	}
}

func (ew *exportWriter) value(v any) {
	if ew.err != nil {
		return
	}
	b, err := json.Marshal(v)
	if err != nil {
		ew.err = err
		return
	}
	_, ew.err = ew.w.Write(b)
}

func (ew *exportWriter) field(name string, v any) {
	ew.value(name)
	ew.raw(":")
	ew.value(v)
}

// element writes v as the next element of the array being written.
func (ew *exportWriter) element(v any) {
	if ew.n > 0 {
		ew.raw(",")
	}
	ew.n++
	ew.value(v)
}

func (ew *exportWriter) flush() error {
	if ew.err != nil {
		return ew.err
	}
	return ew.w.Flush()
}

func profileOf(u *confab.User) exportProfile {
	return exportProfile{UserID: u.UserID, Username: u.Username, Email: u.Email, DisplayName: u.DisplayName, AvatarURL: u.AvatarURL,
		CreatedAt: u.CreatedAt, UpdatedAt: u.UpdatedAt, LastSeen: u.LastSeen, HidePresence: u.HidePresence,
		HideReadReceipts: u.HideReadReceipts, AddPolicy: string(u.AddPolicy), Admin: u.Admin}
}

func blocksOf(list []*confab.Block) []exportBlock {
	out := []exportBlock{}
	for _, b := range list {
		out = append(out, exportBlock{BlockedID: b.BlockedID, CreatedAt: b.CreatedAt})
	}
	return out
}

// exportMemberships lists every conversation of the user with their role.
func (s *Service) exportMemberships(ctx context.Context, userID string) ([]exportMembership, error) {
	out := []exportMembership{}
	page := confab.ConversationPage{Limit: exportPageSize}
	for {
		list, err := s.store.ListConversations(ctx, userID, page)
		if err != nil {
			return nil, err
		}
		for _, c := range list {
			m := c.Member(userID)
			if m == nil {
				continue
			}
			out = append(out, exportMembership{ConversationID: c.ConversationID, Name: c.Name, Direct: c.Direct,
				Role: string(chat.RoleOf(c, m)), JoinedAt: m.JoinedAt, LastReadSeq: m.LastReadSeq, MutedUntil: m.MutedUntil})
		}
		if len(list) < exportPageSize {
			return out, nil
		}
		last := list[len(list)-1]
		page.After = &confab.ActivityCursor{ActivityAt: last.ActivityAt(), ConversationID: last.ConversationID}
	}
}

// reportsBy returns the reports the user made. The store keeps reports
// by status and time, not by reporter, so this reads the whole queue: an
// export is rare and the queue is small next to the messages.
func (s *Service) reportsBy(ctx context.Context, userID string) ([]exportReport, error) {
	out := []exportReport{}
	f := confab.ReportFilter{Limit: confab.MaxAuditPageLimit}
	for {
		list, err := s.store.ListReports(ctx, f)
		if err != nil {
			return nil, err
		}
		for _, r := range list {
			if r.ReporterID == userID {
				out = append(out, exportReport{ReportID: r.ReportID, UserID: r.UserID, ConversationID: r.ConversationID,
					MessageID: r.MessageID, Reason: r.Reason, CreatedAt: r.CreatedAt, Status: string(r.Status)})
			}
		}
		if len(list) < f.Limit {
			return out, nil
		}
		f.Before = list[len(list)-1].ReportID
	}
}

// exportPush returns the user's push endpoints and notification settings
// (nil when the user never set any), when the store keeps them.
func (s *Service) exportPush(ctx context.Context, userID string) ([]exportPush, *confab.NotificationSettings, error) {
	pushes := []exportPush{}
	ps, ok := s.store.(confab.PushStore)
	if !ok {
		return pushes, nil, nil
	}
	subs, err := ps.ListPushSubscriptions(ctx, []string{userID})
	if err != nil {
		return nil, nil, err
	}
	for _, sub := range subs {
		pushes = append(pushes, exportPush{Endpoint: sub.Endpoint, CreatedAt: sub.CreatedAt})
	}
	settings, err := ps.GetNotificationSettings(ctx, []string{userID})
	if err != nil {
		return nil, nil, err
	}
	return pushes, settings[userID], nil
}

// exportMessages streams the user's messages into the open array and
// reports whether there were more than confab.MaxExportMessages.
func (s *Service) exportMessages(ctx context.Context, userID string, ew *exportWriter) (truncated bool, err error) {
	n, before := 0, ""
	for {
		list, err := s.store.ListUserMessages(ctx, userID, before, exportPageSize)
		if err != nil {
			return false, err
		}
		for _, m := range list {
			if n == confab.MaxExportMessages {
				return true, nil
			}
			ew.element(exportMessage{MessageID: m.MessageID, ConversationID: m.ConversationID, ParentMessageID: m.ParentMessageID,
				Content: m.Content, MessageType: string(m.MessageType), CreatedAt: m.CreatedAt, EditedAt: m.EditedAt})
			n++
		}
		if ew.err != nil {
			return false, ew.err
		}
		if len(list) < exportPageSize {
			return false, nil
		}
		before = list[len(list)-1].MessageID
	}
}
