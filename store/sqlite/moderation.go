package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/confab-chat/confab"
)

// InsertBlock implements confab.ModerationStore: the count and the insert
// share a transaction, so two blocks at once cannot both pass the limit.
func (s *Store) InsertBlock(ctx context.Context, b *confab.Block, maxBlocks int) (bool, error) {
	const op = "insert block"
	tx, err := s.write.BeginTx(ctx, nil)
	if err != nil {
		return false, mapErr(op, err)
	}
	defer tx.Rollback() // a no-op after Commit; any failure is returned below
	var exists bool
	var count int
	if err := tx.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM blocks WHERE user_id = ?1 AND blocked_id = ?2),
			(SELECT count(*) FROM blocks WHERE user_id = ?1)`, b.UserID, b.BlockedID).Scan(&exists, &count); err != nil {
		return false, mapErr(op, err)
	}
	if exists {
		return false, nil
	}
	if count >= maxBlocks {
		return false, &confab.Error{Code: confab.CodeLimited, Op: "sqlite: " + op, Err: fmt.Errorf("%d blocks already", count)}
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO blocks (user_id, blocked_id, created_at) VALUES (?, ?, ?)`, b.UserID, b.BlockedID, ms(b.CreatedAt)); err != nil {
		return false, mapErr(op, err)
	}
	return true, mapErr(op, tx.Commit())
}

// DeleteBlock implements confab.ModerationStore.
func (s *Store) DeleteBlock(ctx context.Context, userID, blockedID string) (bool, error) {
	return deleted(s.write.ExecContext(ctx, `DELETE FROM blocks WHERE user_id = ? AND blocked_id = ?`, userID, blockedID))("delete block")
}

// deleted reports whether a DELETE removed a row.
func deleted(res sql.Result, err error) func(op string) (bool, error) {
	return func(op string) (bool, error) {
		if err != nil {
			return false, mapErr(op, err)
		}
		n, err := res.RowsAffected()
		return n > 0, mapErr(op, err)
	}
}

func scanBlocks(rows *sql.Rows, err error) ([]*confab.Block, error) {
	const op = "list blocks"
	if err != nil {
		return nil, mapErr(op, err)
	}
	defer rows.Close()
	var out []*confab.Block
	for rows.Next() {
		var b confab.Block
		var at int64
		if err := rows.Scan(&b.UserID, &b.BlockedID, &at); err != nil {
			return nil, mapErr(op, err)
		}
		b.CreatedAt = fromMS(at)
		out = append(out, &b)
	}
	return out, mapErr(op, rows.Err())
}

// ListBlocks implements confab.ModerationStore.
func (s *Store) ListBlocks(ctx context.Context, userID string, limit int) ([]*confab.Block, error) {
	return scanBlocks(s.read.QueryContext(ctx, `SELECT user_id, blocked_id, created_at FROM blocks WHERE user_id = ?
		ORDER BY created_at, blocked_id LIMIT ?`, userID, max(limit, 0)))
}

// BlocksBetween implements confab.ModerationStore: the primary key for
// userID's blocks, blocks_blocked for the others'.
func (s *Store) BlocksBetween(ctx context.Context, userID string, others []string) ([]*confab.Block, error) {
	if len(others) == 0 {
		return nil, nil
	}
	args := []any{userID}
	in := make([]string, len(others))
	for i, id := range others {
		args = append(args, id)
		in[i] = fmt.Sprintf("?%d", i+2)
	}
	return scanBlocks(s.read.QueryContext(ctx, `SELECT user_id, blocked_id, created_at FROM blocks WHERE user_id = ?1 AND blocked_id IN (`+strings.Join(in, ",")+`)
		UNION ALL SELECT user_id, blocked_id, created_at FROM blocks WHERE blocked_id = ?1 AND user_id IN (`+strings.Join(in, ",")+`)`, args...))
}

// InsertInvitation implements confab.ModerationStore.
func (s *Store) InsertInvitation(ctx context.Context, inv *confab.Invitation) error {
	_, err := s.write.ExecContext(ctx, `INSERT OR REPLACE INTO invitations (conversation_id, user_id, invited_by, role, created_at) VALUES (?, ?, ?, ?, ?)`,
		inv.ConversationID, inv.UserID, inv.InvitedBy, string(inv.Role), ms(inv.CreatedAt))
	return mapErr("insert invitation", err)
}

const invitationColumns = `conversation_id, user_id, invited_by, role, created_at`

func scanInvitation(row scanner) (*confab.Invitation, error) {
	var inv confab.Invitation
	var role string
	var at int64
	if err := row.Scan(&inv.ConversationID, &inv.UserID, &inv.InvitedBy, &role, &at); err != nil {
		return nil, err
	}
	inv.Role, inv.CreatedAt = confab.Role(role), fromMS(at)
	return &inv, nil
}

// GetInvitation implements confab.ModerationStore.
func (s *Store) GetInvitation(ctx context.Context, conversationID, userID string) (*confab.Invitation, error) {
	inv, err := scanInvitation(s.read.QueryRowContext(ctx, `SELECT `+invitationColumns+` FROM invitations WHERE conversation_id = ? AND user_id = ?`, conversationID, userID))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound("get invitation", "invitation")
	}
	return inv, mapErr("get invitation", err)
}

// DeleteInvitation implements confab.ModerationStore. Writes are serial on
// the one write connection: of two deletes, the second finds nothing.
func (s *Store) DeleteInvitation(ctx context.Context, conversationID, userID string) error {
	removed, err := deleted(s.write.ExecContext(ctx, `DELETE FROM invitations WHERE conversation_id = ? AND user_id = ?`, conversationID, userID))("delete invitation")
	if err == nil && !removed {
		return notFound("delete invitation", "invitation")
	}
	return err
}

// ListInvitations implements confab.ModerationStore on invitations_by_user.
func (s *Store) ListInvitations(ctx context.Context, userID string, limit int) ([]*confab.Invitation, error) {
	const op = "list invitations"
	rows, err := s.read.QueryContext(ctx, `SELECT `+invitationColumns+` FROM invitations WHERE user_id = ?
		ORDER BY created_at DESC, conversation_id DESC LIMIT ?`, userID, max(limit, 0))
	if err != nil {
		return nil, mapErr(op, err)
	}
	defer rows.Close()
	var out []*confab.Invitation
	for rows.Next() {
		inv, err := scanInvitation(rows)
		if err != nil {
			return nil, mapErr(op, err)
		}
		out = append(out, inv)
	}
	return out, mapErr(op, rows.Err())
}

// PutBan implements confab.ModerationStore.
func (s *Store) PutBan(ctx context.Context, b *confab.Ban) error {
	_, err := s.write.ExecContext(ctx, `INSERT OR REPLACE INTO bans (conversation_id, user_id, banned_by, reason, created_at, until) VALUES (?, ?, ?, ?, ?, ?)`,
		b.ConversationID, b.UserID, b.BannedBy, b.Reason, ms(b.CreatedAt), msPtr(b.Until))
	return mapErr("put ban", err)
}

const banColumns = `conversation_id, user_id, banned_by, reason, created_at, until`

func scanBan(row scanner) (*confab.Ban, error) {
	var b confab.Ban
	var at int64
	var until sql.NullInt64
	if err := row.Scan(&b.ConversationID, &b.UserID, &b.BannedBy, &b.Reason, &at, &until); err != nil {
		return nil, err
	}
	b.CreatedAt, b.Until = fromMS(at), fromNullMS(until)
	return &b, nil
}

// GetBan implements confab.ModerationStore.
func (s *Store) GetBan(ctx context.Context, conversationID, userID string) (*confab.Ban, error) {
	b, err := scanBan(s.read.QueryRowContext(ctx, `SELECT `+banColumns+` FROM bans WHERE conversation_id = ? AND user_id = ?`, conversationID, userID))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound("get ban", "ban")
	}
	return b, mapErr("get ban", err)
}

// DeleteBan implements confab.ModerationStore.
func (s *Store) DeleteBan(ctx context.Context, conversationID, userID string) (bool, error) {
	return deleted(s.write.ExecContext(ctx, `DELETE FROM bans WHERE conversation_id = ? AND user_id = ?`, conversationID, userID))("delete ban")
}

// ListBans implements confab.ModerationStore on bans_newest.
func (s *Store) ListBans(ctx context.Context, conversationID string, limit int) ([]*confab.Ban, error) {
	const op = "list bans"
	rows, err := s.read.QueryContext(ctx, `SELECT `+banColumns+` FROM bans WHERE conversation_id = ?
		ORDER BY created_at DESC, user_id DESC LIMIT ?`, conversationID, max(limit, 0))
	if err != nil {
		return nil, mapErr(op, err)
	}
	defer rows.Close()
	var out []*confab.Ban
	for rows.Next() {
		b, err := scanBan(rows)
		if err != nil {
			return nil, mapErr(op, err)
		}
		out = append(out, b)
	}
	return out, mapErr(op, rows.Err())
}

const reportColumns = `report_id, reporter_id, user_id, conversation_id, message_id, reason, created_at, status, resolved_by, resolved_at, resolution`

func scanReport(row scanner) (*confab.Report, error) {
	var r confab.Report
	var at int64
	var resolved sql.NullInt64
	var status string
	if err := row.Scan(&r.ReportID, &r.ReporterID, &r.UserID, &r.ConversationID, &r.MessageID, &r.Reason, &at, &status,
		&r.ResolvedBy, &resolved, &r.Resolution); err != nil {
		return nil, err
	}
	r.CreatedAt, r.ResolvedAt, r.Status = fromMS(at), fromNullMS(resolved), confab.ReportStatus(status)
	return &r, nil
}

// InsertReport implements confab.ModerationStore.
func (s *Store) InsertReport(ctx context.Context, r *confab.Report) error {
	_, err := s.write.ExecContext(ctx, `INSERT INTO reports (`+reportColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		r.ReportID, r.ReporterID, r.UserID, r.ConversationID, r.MessageID, r.Reason, ms(r.CreatedAt), string(r.Status),
		r.ResolvedBy, msPtr(r.ResolvedAt), r.Resolution)
	return mapErr("insert report", err)
}

// GetReport implements confab.ModerationStore.
func (s *Store) GetReport(ctx context.Context, reportID string) (*confab.Report, error) {
	return getReport(ctx, s.read, "get report", reportID)
}

func getReport(ctx context.Context, q querier, op, reportID string) (*confab.Report, error) {
	r, err := scanReport(q.QueryRowContext(ctx, `SELECT `+reportColumns+` FROM reports WHERE report_id = ?`, reportID))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound(op, "report")
	}
	return r, mapErr(op, err)
}

// ListReports implements confab.ModerationStore: by report_id (time
// ordered), on reports_by_status when a status is asked.
func (s *Store) ListReports(ctx context.Context, f confab.ReportFilter) ([]*confab.Report, error) {
	const op = "list reports"
	where, args := `(?1 = '' OR report_id < ?1)`, []any{f.Before}
	if f.Status != "" {
		where += ` AND status = ?`
		args = append(args, string(f.Status))
	}
	rows, err := s.read.QueryContext(ctx, `SELECT `+reportColumns+` FROM reports WHERE `+where+` ORDER BY report_id DESC LIMIT ?`, append(args, max(f.Limit, 0))...)
	if err != nil {
		return nil, mapErr(op, err)
	}
	defer rows.Close()
	var out []*confab.Report
	for rows.Next() {
		r, err := scanReport(rows)
		if err != nil {
			return nil, mapErr(op, err)
		}
		out = append(out, r)
	}
	return out, mapErr(op, rows.Err())
}

// ResolveReport implements confab.ModerationStore: the update applies
// only to an open report, so of two resolutions the second finds none.
func (s *Store) ResolveReport(ctx context.Context, reportID, by string, status confab.ReportStatus, resolution string, at time.Time) (*confab.Report, error) {
	const op = "resolve report"
	tx, err := s.write.BeginTx(ctx, nil)
	if err != nil {
		return nil, mapErr(op, err)
	}
	defer tx.Rollback() // a no-op after Commit; any failure is returned below
	r, err := scanReport(tx.QueryRowContext(ctx, `UPDATE reports SET status = ?, resolved_by = ?, resolved_at = ?, resolution = ?
		WHERE report_id = ? AND status = ? RETURNING `+reportColumns, string(status), by, ms(at), resolution, reportID, string(confab.ReportOpen)))
	if errors.Is(err, sql.ErrNoRows) {
		if _, err := getReport(ctx, tx, op, reportID); err != nil {
			return nil, err
		}
		return nil, &confab.Error{Code: confab.CodeConflict, Op: "sqlite: " + op, Err: errors.New("the report is no longer open")}
	}
	if err != nil {
		return nil, mapErr(op, err)
	}
	return r, mapErr(op, tx.Commit())
}

const auditColumns = `entry_id, at, actor_id, action, conversation_id, user_id, message_id, reason, until, detail`

// InsertAudit implements confab.ModerationStore.
func (s *Store) InsertAudit(ctx context.Context, e *confab.AuditEntry) error {
	_, err := s.write.ExecContext(ctx, `INSERT INTO audit_log (`+auditColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		e.EntryID, ms(e.At), e.ActorID, string(e.Action), e.ConversationID, e.UserID, e.MessageID, e.Reason, msPtr(e.Until), e.Detail)
	return mapErr("insert audit", err)
}

// ListAudit implements confab.ModerationStore: by entry_id (time
// ordered), on audit_by_conversation or audit_by_user when filtered.
func (s *Store) ListAudit(ctx context.Context, f confab.AuditFilter) ([]*confab.AuditEntry, error) {
	const op = "list audit"
	where, args := `(?1 = '' OR entry_id < ?1)`, []any{f.Before}
	if f.ConversationID != "" {
		where += ` AND conversation_id = ? AND conversation_id <> ''`
		args = append(args, f.ConversationID)
	}
	if f.UserID != "" {
		where += ` AND user_id = ? AND user_id <> ''`
		args = append(args, f.UserID)
	}
	rows, err := s.read.QueryContext(ctx, `SELECT `+auditColumns+` FROM audit_log WHERE `+where+` ORDER BY entry_id DESC LIMIT ?`, append(args, max(f.Limit, 0))...)
	if err != nil {
		return nil, mapErr(op, err)
	}
	defer rows.Close()
	var out []*confab.AuditEntry
	for rows.Next() {
		var e confab.AuditEntry
		var at int64
		var until sql.NullInt64
		var action string
		if err := rows.Scan(&e.EntryID, &at, &e.ActorID, &action, &e.ConversationID, &e.UserID, &e.MessageID, &e.Reason, &until, &e.Detail); err != nil {
			return nil, mapErr(op, err)
		}
		e.At, e.Until, e.Action = fromMS(at), fromNullMS(until), confab.AuditAction(action)
		out = append(out, &e)
	}
	return out, mapErr(op, rows.Err())
}
