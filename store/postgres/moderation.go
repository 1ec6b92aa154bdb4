package postgres

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/confab-chat/confab"
	"github.com/jackc/pgx/v5"
)

// Blocks, invitations, bans, reports and the audit log (issue 15): plain
// tables keyed as they are read (migrations/0011_membership.sql). None
// references users or conversations, so the audit log and the reports
// outlive what they name; DeleteConversation removes a conversation's
// invitations and bans itself.

var _ confab.ModerationStore = (*Store)(nil)

// InsertBlock implements confab.ModerationStore. The count and the insert
// run under a transaction-scoped advisory lock of the blocker, so two
// concurrent blocks cannot both pass maxBlocks.
func (s *Store) InsertBlock(ctx context.Context, b *confab.Block, maxBlocks int) (bool, error) {
	const op = "insert block"
	var added bool
	err := s.inTx(ctx, op, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtextextended('confab.blocks ' || $1, 0))`, b.UserID); err != nil {
			return mapErr(op, err)
		}
		var exists bool
		var n int
		err := tx.QueryRow(ctx, `SELECT count(*), coalesce(bool_or(blocked_id = $2), false) FROM blocks WHERE user_id = $1`,
			b.UserID, b.BlockedID).Scan(&n, &exists)
		if err != nil || exists {
			return mapErr(op, err)
		}
		if n >= maxBlocks {
			return &confab.Error{Code: confab.CodeLimited, Op: op, Err: errors.New("postgres: too many blocks")}
		}
		_, err = tx.Exec(ctx, `INSERT INTO blocks (user_id, blocked_id, created_at) VALUES ($1, $2, $3)`,
			b.UserID, b.BlockedID, dbTime(b.CreatedAt))
		added = err == nil
		return mapErr(op, err)
	})
	return added, err
}

// DeleteBlock implements confab.ModerationStore.
func (s *Store) DeleteBlock(ctx context.Context, userID, blockedID string) (bool, error) {
	tag, err := s.pool.Exec(ctx, `DELETE FROM blocks WHERE user_id = $1 AND blocked_id = $2`, userID, blockedID)
	if err != nil {
		return false, mapErr("delete block", err)
	}
	return tag.RowsAffected() > 0, nil
}

func queryBlocks(ctx context.Context, q querier, op, sql string, args ...any) ([]*confab.Block, error) {
	rows, err := q.Query(ctx, sql, args...)
	if err != nil {
		return nil, mapErr(op, err)
	}
	blocks, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (*confab.Block, error) {
		var b confab.Block
		err := row.Scan(&b.UserID, &b.BlockedID, &b.CreatedAt)
		b.CreatedAt = b.CreatedAt.UTC()
		return &b, err
	})
	return blocks, mapErr(op, err)
}

// ListBlocks implements confab.ModerationStore.
func (s *Store) ListBlocks(ctx context.Context, userID string, limit int) ([]*confab.Block, error) {
	return queryBlocks(ctx, s.pool, "list blocks", `SELECT user_id, blocked_id, created_at FROM blocks WHERE user_id = $1
		ORDER BY created_at, blocked_id LIMIT $2`, userID, max(limit, 0))
}

// BlocksBetween implements confab.ModerationStore: both directions in one
// statement, each on its own index.
func (s *Store) BlocksBetween(ctx context.Context, userID string, others []string) ([]*confab.Block, error) {
	if len(others) == 0 {
		return nil, nil
	}
	return queryBlocks(ctx, s.pool, "blocks between", `SELECT user_id, blocked_id, created_at FROM blocks WHERE user_id = $1 AND blocked_id = ANY($2)
		UNION ALL
		SELECT user_id, blocked_id, created_at FROM blocks WHERE blocked_id = $1 AND user_id = ANY($2)`, userID, others)
}

const invitationColumns = `conversation_id, user_id, invited_by, role, created_at`

func scanInvitation(row pgx.Row) (*confab.Invitation, error) {
	var inv confab.Invitation
	var role string
	if err := row.Scan(&inv.ConversationID, &inv.UserID, &inv.InvitedBy, &role, &inv.CreatedAt); err != nil {
		return nil, err
	}
	inv.Role, inv.CreatedAt = confab.Role(role), inv.CreatedAt.UTC()
	return &inv, nil
}

// InsertInvitation implements confab.ModerationStore.
func (s *Store) InsertInvitation(ctx context.Context, inv *confab.Invitation) error {
	_, err := s.pool.Exec(ctx, `INSERT INTO invitations (`+invitationColumns+`) VALUES ($1, $2, $3, $4, $5)
		ON CONFLICT (conversation_id, user_id) DO UPDATE SET invited_by = excluded.invited_by, role = excluded.role, created_at = excluded.created_at`,
		inv.ConversationID, inv.UserID, inv.InvitedBy, string(inv.Role), dbTime(inv.CreatedAt))
	return mapErr("insert invitation", err)
}

// GetInvitation implements confab.ModerationStore.
func (s *Store) GetInvitation(ctx context.Context, conversationID, userID string) (*confab.Invitation, error) {
	inv, err := scanInvitation(s.pool.QueryRow(ctx, `SELECT `+invitationColumns+` FROM invitations
		WHERE conversation_id = $1 AND user_id = $2`, conversationID, userID))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, notFound("invitation")
	}
	return inv, mapErr("get invitation", err)
}

// DeleteInvitation implements confab.ModerationStore. Of two racing
// deletes the second finds no row (PostgreSQL waits for the first's
// commit, then rechecks): exactly one wins.
func (s *Store) DeleteInvitation(ctx context.Context, conversationID, userID string) error {
	tag, err := s.pool.Exec(ctx, `DELETE FROM invitations WHERE conversation_id = $1 AND user_id = $2`, conversationID, userID)
	if err != nil {
		return mapErr("delete invitation", err)
	}
	if tag.RowsAffected() == 0 {
		return notFound("invitation")
	}
	return nil
}

// ListInvitations implements confab.ModerationStore.
func (s *Store) ListInvitations(ctx context.Context, userID string, limit int) ([]*confab.Invitation, error) {
	const op = "list invitations"
	rows, err := s.pool.Query(ctx, `SELECT `+invitationColumns+` FROM invitations WHERE user_id = $1
		ORDER BY created_at DESC, conversation_id DESC LIMIT $2`, userID, max(limit, 0))
	if err != nil {
		return nil, mapErr(op, err)
	}
	list, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (*confab.Invitation, error) { return scanInvitation(row) })
	return list, mapErr(op, err)
}

const banColumns = `conversation_id, user_id, banned_by, reason, created_at, until`

func scanBan(row pgx.Row) (*confab.Ban, error) {
	var b confab.Ban
	if err := row.Scan(&b.ConversationID, &b.UserID, &b.BannedBy, &b.Reason, &b.CreatedAt, &b.Until); err != nil {
		return nil, err
	}
	b.CreatedAt, b.Until = b.CreatedAt.UTC(), utcPtr(b.Until)
	return &b, nil
}

// PutBan implements confab.ModerationStore.
func (s *Store) PutBan(ctx context.Context, b *confab.Ban) error {
	_, err := s.pool.Exec(ctx, `INSERT INTO bans (`+banColumns+`) VALUES ($1, $2, $3, $4, $5, $6)
		ON CONFLICT (conversation_id, user_id) DO UPDATE SET banned_by = excluded.banned_by, reason = excluded.reason,
			created_at = excluded.created_at, until = excluded.until`,
		b.ConversationID, b.UserID, b.BannedBy, b.Reason, dbTime(b.CreatedAt), dbTimePtr(b.Until))
	return mapErr("put ban", err)
}

// GetBan implements confab.ModerationStore.
func (s *Store) GetBan(ctx context.Context, conversationID, userID string) (*confab.Ban, error) {
	b, err := scanBan(s.pool.QueryRow(ctx, `SELECT `+banColumns+` FROM bans WHERE conversation_id = $1 AND user_id = $2`,
		conversationID, userID))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, notFound("ban")
	}
	return b, mapErr("get ban", err)
}

// DeleteBan implements confab.ModerationStore.
func (s *Store) DeleteBan(ctx context.Context, conversationID, userID string) (bool, error) {
	tag, err := s.pool.Exec(ctx, `DELETE FROM bans WHERE conversation_id = $1 AND user_id = $2`, conversationID, userID)
	if err != nil {
		return false, mapErr("delete ban", err)
	}
	return tag.RowsAffected() > 0, nil
}

// ListBans implements confab.ModerationStore.
func (s *Store) ListBans(ctx context.Context, conversationID string, limit int) ([]*confab.Ban, error) {
	const op = "list bans"
	rows, err := s.pool.Query(ctx, `SELECT `+banColumns+` FROM bans WHERE conversation_id = $1
		ORDER BY created_at DESC, user_id LIMIT $2`, conversationID, max(limit, 0))
	if err != nil {
		return nil, mapErr(op, err)
	}
	list, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (*confab.Ban, error) { return scanBan(row) })
	return list, mapErr(op, err)
}

const reportColumns = `report_id, reporter_id, user_id, conversation_id, message_id, reason, created_at, status, resolved_by, resolved_at, resolution`

func scanReport(row pgx.Row) (*confab.Report, error) {
	var r confab.Report
	var status string
	if err := row.Scan(&r.ReportID, &r.ReporterID, &r.UserID, &r.ConversationID, &r.MessageID, &r.Reason, &r.CreatedAt,
		&status, &r.ResolvedBy, &r.ResolvedAt, &r.Resolution); err != nil {
		return nil, err
	}
	r.Status, r.CreatedAt, r.ResolvedAt = confab.ReportStatus(status), r.CreatedAt.UTC(), utcPtr(r.ResolvedAt)
	return &r, nil
}

// InsertReport implements confab.ModerationStore. A report without a
// status is stored open.
func (s *Store) InsertReport(ctx context.Context, r *confab.Report) error {
	status := r.Status
	if status == "" {
		status = confab.ReportOpen
	}
	_, err := s.pool.Exec(ctx, `INSERT INTO reports (`+reportColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
		r.ReportID, r.ReporterID, r.UserID, r.ConversationID, r.MessageID, r.Reason, dbTime(r.CreatedAt),
		string(status), r.ResolvedBy, dbTimePtr(r.ResolvedAt), r.Resolution)
	return mapErr("insert report", err)
}

// GetReport implements confab.ModerationStore.
func (s *Store) GetReport(ctx context.Context, reportID string) (*confab.Report, error) {
	r, err := scanReport(s.pool.QueryRow(ctx, `SELECT `+reportColumns+` FROM reports WHERE report_id = $1`, reportID))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, notFound("report")
	}
	return r, mapErr("get report", err)
}

// ListReports implements confab.ModerationStore.
func (s *Store) ListReports(ctx context.Context, f confab.ReportFilter) ([]*confab.Report, error) {
	const op = "list reports"
	where, args := filters(map[string]string{"status = ": string(f.Status), "report_id < ": f.Before})
	rows, err := s.pool.Query(ctx, `SELECT `+reportColumns+` FROM reports`+where+` ORDER BY report_id DESC LIMIT `+limitArg(&args, f.Limit), args...)
	if err != nil {
		return nil, mapErr(op, err)
	}
	list, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (*confab.Report, error) { return scanReport(row) })
	return list, mapErr(op, err)
}

// ResolveReport implements confab.ModerationStore: the UPDATE takes only
// an open report, so of two racing resolutions one wins and the other
// reads the report closed (CodeConflict).
func (s *Store) ResolveReport(ctx context.Context, reportID, by string, status confab.ReportStatus, resolution string, at time.Time) (*confab.Report, error) {
	const op = "resolve report"
	r, err := scanReport(s.pool.QueryRow(ctx, `UPDATE reports SET status = $2, resolved_by = $3, resolved_at = $4, resolution = $5
		WHERE report_id = $1 AND status = $6 RETURNING `+reportColumns,
		reportID, string(status), by, dbTime(at), resolution, string(confab.ReportOpen)))
	if errors.Is(err, pgx.ErrNoRows) {
		if _, err := s.GetReport(ctx, reportID); err != nil {
			return nil, err
		}
		return nil, &confab.Error{Code: confab.CodeConflict, Op: op, Err: errors.New("postgres: report is not open")}
	}
	return r, mapErr(op, err)
}

const auditColumns = `entry_id, at, actor_id, action, conversation_id, user_id, message_id, reason, until, detail`

// InsertAudit implements confab.ModerationStore.
func (s *Store) InsertAudit(ctx context.Context, e *confab.AuditEntry) error {
	_, err := s.pool.Exec(ctx, `INSERT INTO audit_log (`+auditColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
		e.EntryID, dbTime(e.At), e.ActorID, string(e.Action), e.ConversationID, e.UserID, e.MessageID, e.Reason,
		dbTimePtr(e.Until), e.Detail)
	return mapErr("insert audit", err)
}

// ListAudit implements confab.ModerationStore.
func (s *Store) ListAudit(ctx context.Context, f confab.AuditFilter) ([]*confab.AuditEntry, error) {
	const op = "list audit"
	where, args := filters(map[string]string{"conversation_id = ": f.ConversationID, "user_id = ": f.UserID, "entry_id < ": f.Before})
	rows, err := s.pool.Query(ctx, `SELECT `+auditColumns+` FROM audit_log`+where+` ORDER BY entry_id DESC LIMIT `+limitArg(&args, f.Limit), args...)
	if err != nil {
		return nil, mapErr(op, err)
	}
	list, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (*confab.AuditEntry, error) {
		var e confab.AuditEntry
		var action string
		if err := row.Scan(&e.EntryID, &e.At, &e.ActorID, &action, &e.ConversationID, &e.UserID, &e.MessageID, &e.Reason,
			&e.Until, &e.Detail); err != nil {
			return nil, err
		}
		e.Action, e.At, e.Until = confab.AuditAction(action), e.At.UTC(), utcPtr(e.Until)
		return &e, nil
	})
	return list, mapErr(op, err)
}

// filters returns the WHERE clause of the conditions (column and operator
// → value) whose value is not empty, and their arguments. Only the
// conditions set are in the statement, so each filter gets a plan on its
// own index rather than one generic plan for all.
func filters(conds map[string]string) (string, []any) {
	keys := make([]string, 0, len(conds))
	for k, v := range conds {
		if v != "" {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys) // one statement text per set of filters
	var where []string
	var args []any
	for _, k := range keys {
		args = append(args, conds[k])
		where = append(where, fmt.Sprintf("%s$%d", k, len(args)))
	}
	if len(where) == 0 {
		return "", nil
	}
	return " WHERE " + strings.Join(where, " AND "), args
}

// limitArg appends limit (at least 0) to args and returns its placeholder.
func limitArg(args *[]any, limit int) string {
	*args = append(*args, max(limit, 0))
	return fmt.Sprintf("$%d", len(*args))
}
