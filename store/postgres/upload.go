package postgres

import (
	"context"
	"errors"
	"time"

	"github.com/confab-chat/confab"
	"github.com/jackc/pgx/v5"
)

var _ confab.UploadStore = (*Store)(nil)

const uploadColumns = `upload_id, user_id, conversation_id, file_name, content_type, size, created_at, expires_at, ready, width, height, thumb_type, coalesce(message_id, '')`

func scanUpload(row pgx.Row) (*confab.Upload, error) {
	var u confab.Upload
	if err := row.Scan(&u.UploadID, &u.UserID, &u.ConversationID, &u.FileName, &u.ContentType, &u.Size, &u.CreatedAt, &u.ExpiresAt,
		&u.Ready, &u.Width, &u.Height, &u.ThumbType, &u.MessageID); err != nil {
		return nil, err
	}
	u.CreatedAt, u.ExpiresAt = u.CreatedAt.UTC(), u.ExpiresAt.UTC()
	return &u, nil
}

func queryUploads(ctx context.Context, q querier, op, sql string, args ...any) ([]*confab.Upload, error) {
	rows, err := q.Query(ctx, sql, args...)
	if err != nil {
		return nil, mapErr(op, err)
	}
	defer rows.Close()
	var out []*confab.Upload
	for rows.Next() {
		u, err := scanUpload(rows)
		if err != nil {
			return nil, mapErr(op, err)
		}
		out = append(out, u)
	}
	return out, mapErr(op, rows.Err())
}

// InsertUpload implements confab.UploadStore.
func (s *Store) InsertUpload(ctx context.Context, u *confab.Upload) error {
	_, err := s.pool.Exec(ctx, `INSERT INTO uploads (upload_id, user_id, conversation_id, file_name, content_type, size, created_at, expires_at, ready, width, height, thumb_type)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)`,
		u.UploadID, u.UserID, u.ConversationID, u.FileName, u.ContentType, u.Size, dbTime(u.CreatedAt), dbTime(u.ExpiresAt),
		u.Ready, u.Width, u.Height, u.ThumbType)
	return mapErr("insert upload", err)
}

// GetUpload implements confab.UploadStore.
func (s *Store) GetUpload(ctx context.Context, uploadID string) (*confab.Upload, error) {
	u, err := scanUpload(s.pool.QueryRow(ctx, `SELECT `+uploadColumns+` FROM uploads WHERE upload_id = $1`, uploadID))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, notFound("upload")
	}
	return u, mapErr("get upload", err)
}

// MarkUploadReady implements confab.UploadStore.
func (s *Store) MarkUploadReady(ctx context.Context, u *confab.Upload) error {
	tag, err := s.pool.Exec(ctx, `UPDATE uploads SET ready = true, size = $1, width = $2, height = $3, thumb_type = $4 WHERE upload_id = $5`,
		u.Size, u.Width, u.Height, u.ThumbType, u.UploadID)
	if err != nil {
		return mapErr("mark upload ready", err)
	}
	if tag.RowsAffected() == 0 {
		return notFound("upload")
	}
	return nil
}

// AttachUploads implements confab.UploadStore.
func (s *Store) AttachUploads(ctx context.Context, ids []string, userID, conversationID, messageID string, now time.Time) error {
	return s.inTx(ctx, "attach uploads", func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `UPDATE uploads SET message_id = $1 WHERE upload_id = ANY($2) AND user_id = $3 AND conversation_id = $4
			AND ready AND message_id IS NULL AND expires_at > $5`, messageID, ids, userID, conversationID, dbTime(now))
		if err != nil {
			return mapErr("attach uploads", err)
		}
		if tag.RowsAffected() != int64(len(ids)) {
			return &confab.Error{Code: confab.CodeConflict, Op: "postgres: attach uploads"}
		}
		return nil
	})
}

// DetachUploads implements confab.UploadStore.
func (s *Store) DetachUploads(ctx context.Context, messageID string) error {
	_, err := s.pool.Exec(ctx, `UPDATE uploads SET message_id = NULL WHERE message_id = $1`, messageID)
	return mapErr("detach uploads", err)
}

// ListMessageUploads implements confab.UploadStore.
func (s *Store) ListMessageUploads(ctx context.Context, conversationID string, messageIDs []string) (map[string][]*confab.Upload, error) {
	out := map[string][]*confab.Upload{}
	if len(messageIDs) == 0 {
		return out, nil
	}
	ups, err := queryUploads(ctx, s.pool, "list message uploads", `SELECT `+uploadColumns+` FROM uploads
		WHERE conversation_id = $1 AND message_id = ANY($2) ORDER BY upload_id`, conversationID, messageIDs)
	for _, u := range ups {
		out[u.MessageID] = append(out[u.MessageID], u)
	}
	return out, err
}

// SumUploadBytes implements confab.UploadStore.
func (s *Store) SumUploadBytes(ctx context.Context, userID string, since time.Time) (int64, error) {
	var n int64
	err := s.pool.QueryRow(ctx, `SELECT coalesce(sum(size), 0)::bigint FROM uploads WHERE user_id = $1 AND created_at >= $2`, userID, dbTime(since)).Scan(&n)
	return n, mapErr("sum upload bytes", err)
}

// ListDeadUploads implements confab.UploadStore.
func (s *Store) ListDeadUploads(ctx context.Context, now time.Time, limit int) ([]*confab.Upload, error) {
	if limit <= 0 {
		return nil, nil
	}
	return queryUploads(ctx, s.pool, "list dead uploads", `(SELECT `+uploadColumns+` FROM uploads WHERE message_id IS NULL AND expires_at < $1 LIMIT $2)
		UNION ALL
		(SELECT u.upload_id, u.user_id, u.conversation_id, u.file_name, u.content_type, u.size, u.created_at, u.expires_at, u.ready, u.width, u.height, u.thumb_type, u.message_id
		FROM uploads u LEFT JOIN messages m ON m.message_id = u.message_id
		WHERE u.message_id IS NOT NULL AND (m.message_id IS NULL OR m.deleted) LIMIT $2)
		LIMIT $2`, dbTime(now), limit)
}

// DeleteUpload implements confab.UploadStore.
func (s *Store) DeleteUpload(ctx context.Context, uploadID string) error {
	_, err := s.pool.Exec(ctx, `DELETE FROM uploads WHERE upload_id = $1`, uploadID)
	return mapErr("delete upload", err)
}
