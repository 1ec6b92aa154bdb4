package sqlite

import (
	"context"
	"database/sql"
	"strings"
	"time"

	"github.com/confab-chat/confab"
)

var _ confab.UploadStore = (*Store)(nil)

const uploadColumns = `upload_id, user_id, conversation_id, file_name, content_type, size, created_at, expires_at, ready, width, height, thumb_type, message_id`

func scanUpload(row scanner) (*confab.Upload, error) {
	var u confab.Upload
	var created, expires int64
	var msg sql.NullString
	if err := row.Scan(&u.UploadID, &u.UserID, &u.ConversationID, &u.FileName, &u.ContentType, &u.Size, &created, &expires,
		&u.Ready, &u.Width, &u.Height, &u.ThumbType, &msg); err != nil {
		return nil, err
	}
	u.CreatedAt, u.ExpiresAt, u.MessageID = fromMS(created), fromMS(expires), msg.String
	return &u, nil
}

// InsertUpload implements confab.UploadStore.
func (s *Store) InsertUpload(ctx context.Context, u *confab.Upload) error {
	_, err := s.write.ExecContext(ctx, `INSERT INTO uploads (`+uploadColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, NULL)`,
		u.UploadID, u.UserID, u.ConversationID, u.FileName, u.ContentType, u.Size, ms(u.CreatedAt), ms(u.ExpiresAt),
		u.Ready, u.Width, u.Height, u.ThumbType)
	return mapErr("insert upload", err)
}

// GetUpload implements confab.UploadStore.
func (s *Store) GetUpload(ctx context.Context, uploadID string) (*confab.Upload, error) {
	u, err := scanUpload(s.read.QueryRowContext(ctx, `SELECT `+uploadColumns+` FROM uploads WHERE upload_id = ?`, uploadID))
	if err == sql.ErrNoRows {
		return nil, notFound("get upload", "upload")
	}
	return u, mapErr("get upload", err)
}

// MarkUploadReady implements confab.UploadStore.
func (s *Store) MarkUploadReady(ctx context.Context, u *confab.Upload) error {
	res, err := s.write.ExecContext(ctx, `UPDATE uploads SET ready = 1, size = ?, width = ?, height = ?, thumb_type = ? WHERE upload_id = ?`,
		u.Size, u.Width, u.Height, u.ThumbType, u.UploadID)
	if err != nil {
		return mapErr("mark upload ready", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return notFound("mark upload ready", "upload")
	}
	return nil
}

// AttachUploads implements confab.UploadStore.
func (s *Store) AttachUploads(ctx context.Context, ids []string, userID, conversationID, messageID string, now time.Time) error {
	tx, err := s.write.BeginTx(ctx, nil)
	if err != nil {
		return mapErr("attach uploads", err)
	}
	defer tx.Rollback() // no-op after Commit
	for _, id := range ids {
		res, err := tx.ExecContext(ctx, `UPDATE uploads SET message_id = ? WHERE upload_id = ? AND user_id = ? AND conversation_id = ?
			AND ready = 1 AND message_id IS NULL AND expires_at > ?`, messageID, id, userID, conversationID, ms(now))
		if err != nil {
			return mapErr("attach uploads", err)
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return &confab.Error{Code: confab.CodeConflict, Op: "sqlite: attach uploads"}
		}
	}
	return mapErr("attach uploads", tx.Commit())
}

// DetachUploads implements confab.UploadStore.
func (s *Store) DetachUploads(ctx context.Context, messageID string) error {
	_, err := s.write.ExecContext(ctx, `UPDATE uploads SET message_id = NULL WHERE message_id = ?`, messageID)
	return mapErr("detach uploads", err)
}

// ListMessageUploads implements confab.UploadStore.
func (s *Store) ListMessageUploads(ctx context.Context, conversationID string, messageIDs []string) (map[string][]*confab.Upload, error) {
	out := map[string][]*confab.Upload{}
	if len(messageIDs) == 0 {
		return out, nil
	}
	args := []any{conversationID}
	for _, id := range messageIDs {
		args = append(args, id)
	}
	rows, err := s.read.QueryContext(ctx, `SELECT `+uploadColumns+` FROM uploads WHERE conversation_id = ? AND message_id IN (?`+
		strings.Repeat(", ?", len(messageIDs)-1)+`) ORDER BY upload_id`, args...)
	if err != nil {
		return nil, mapErr("list message uploads", err)
	}
	defer rows.Close()
	for rows.Next() {
		u, err := scanUpload(rows)
		if err != nil {
			return nil, mapErr("list message uploads", err)
		}
		out[u.MessageID] = append(out[u.MessageID], u)
	}
	return out, mapErr("list message uploads", rows.Err())
}

// SumUploadBytes implements confab.UploadStore.
func (s *Store) SumUploadBytes(ctx context.Context, userID string, since time.Time) (int64, error) {
	var n int64
	err := s.read.QueryRowContext(ctx, `SELECT coalesce(sum(size), 0) FROM uploads WHERE user_id = ? AND created_at >= ?`, userID, ms(since)).Scan(&n)
	return n, mapErr("sum upload bytes", err)
}

// ListDeadUploads implements confab.UploadStore.
func (s *Store) ListDeadUploads(ctx context.Context, now time.Time, limit int) ([]*confab.Upload, error) {
	if limit <= 0 {
		return nil, nil
	}
	rows, err := s.read.QueryContext(ctx, `SELECT `+uploadColumns+` FROM uploads WHERE message_id IS NULL AND expires_at < ?1
		UNION ALL
		SELECT `+prefixed("u.", uploadColumns)+` FROM uploads u LEFT JOIN messages m ON m.message_id = u.message_id
		WHERE u.message_id IS NOT NULL AND (m.message_id IS NULL OR m.deleted = 1)
		LIMIT ?2`, ms(now), limit)
	if err != nil {
		return nil, mapErr("list dead uploads", err)
	}
	defer rows.Close()
	var out []*confab.Upload
	for rows.Next() {
		u, err := scanUpload(rows)
		if err != nil {
			return nil, mapErr("list dead uploads", err)
		}
		out = append(out, u)
	}
	return out, mapErr("list dead uploads", rows.Err())
}

// DeleteUpload implements confab.UploadStore.
func (s *Store) DeleteUpload(ctx context.Context, uploadID string) error {
	_, err := s.write.ExecContext(ctx, `DELETE FROM uploads WHERE upload_id = ?`, uploadID)
	return mapErr("delete upload", err)
}

// prefixed qualifies each of a comma-separated column list with p.
func prefixed(p, columns string) string {
	cols := strings.Split(columns, ", ")
	for i, c := range cols {
		cols[i] = p + c
	}
	return strings.Join(cols, ", ")
}
