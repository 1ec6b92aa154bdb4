package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/confab-chat/confab"
	"github.com/confab-chat/confab/blob/image"
)

// ListAllConversations implements confab.ModerationStore on the primary
// key, with the page's members in one more read.
func (s *Store) ListAllConversations(ctx context.Context, after string, limit int) ([]*confab.Conversation, error) {
	const op = "list all conversations"
	rows, err := s.read.QueryContext(ctx, `SELECT `+convColumns+` FROM conversations WHERE conversation_id > ? ORDER BY conversation_id LIMIT ?`, after, max(limit, 0))
	if err != nil {
		return nil, mapErr(op, err)
	}
	var convs []*confab.Conversation
	for rows.Next() {
		c, err := scanConversation(rows)
		if err != nil {
			rows.Close()
			return nil, mapErr(op, err)
		}
		convs = append(convs, c)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, mapErr(op, err)
	}
	return convs, loadMembers(ctx, s.read, convs)
}

// uploadBlobKeys are every blob an upload may have, as chat names them
// (chat/upload.go: inKey, fileKey, thumbKey): DeleteConversation returns
// them for the caller to remove; removing a blob that is not there is not
// an error for a BlobStore.
func uploadBlobKeys(id string) []string {
	keys := []string{"uploads/" + id + "/in", "uploads/" + id + "/file"}
	for _, size := range image.ThumbSizes {
		keys = append(keys, fmt.Sprintf("uploads/%s/thumb-%d", id, size))
	}
	return keys
}

// deleteConversationRows are the statements that remove everything of a
// conversation (?1), children before the rows they refer to. Live
// messages leave the search index through FTS5's 'delete' with the content
// as indexed (a deleted one's entry is already gone, see PurgeMessages).
// Outbox entries stay: they are events that happened.
var deleteConversationRows = []string{
	`INSERT INTO messages_fts (messages_fts, rowid, content) SELECT 'delete', rowid, content FROM messages WHERE conversation_id = ?1 AND deleted = 0`,
	`DELETE FROM message_edits WHERE message_id IN (SELECT message_id FROM messages WHERE conversation_id = ?1)`,
	`DELETE FROM reactions WHERE conversation_id = ?1`,
	`DELETE FROM mentions WHERE conversation_id = ?1`,
	`DELETE FROM thread_reads WHERE conversation_id = ?1`,
	`DELETE FROM changes WHERE conversation_id = ?1`,
	`DELETE FROM push_windows WHERE conversation_id = ?1`,
	`DELETE FROM invitations WHERE conversation_id = ?1`,
	`DELETE FROM bans WHERE conversation_id = ?1`,
	`DELETE FROM uploads WHERE conversation_id = ?1`,
	`DELETE FROM messages WHERE conversation_id = ?1`,
	`DELETE FROM members WHERE conversation_id = ?1`,
	`DELETE FROM conversations WHERE conversation_id = ?1`,
}

// DeleteConversation implements confab.ModerationStore in one
// transaction. It holds the write connection for the whole conversation:
// a large one delays other writes while it runs (an admin's rare action).
func (s *Store) DeleteConversation(ctx context.Context, conversationID string) ([]string, error) {
	const op = "delete conversation"
	tx, err := s.write.BeginTx(ctx, nil)
	if err != nil {
		return nil, mapErr(op, err)
	}
	defer tx.Rollback() // a no-op after Commit; any failure is returned below
	var exists bool
	if err := tx.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM conversations WHERE conversation_id = ?)`, conversationID).Scan(&exists); err != nil {
		return nil, mapErr(op, err)
	}
	if !exists {
		return nil, notFound(op, "conversation")
	}
	rows, err := tx.QueryContext(ctx, `SELECT upload_id FROM uploads WHERE conversation_id = ? ORDER BY upload_id`, conversationID)
	if err != nil {
		return nil, mapErr(op, err)
	}
	var keys []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return nil, mapErr(op, err)
		}
		keys = append(keys, uploadBlobKeys(id)...)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, mapErr(op, err)
	}
	for _, q := range deleteConversationRows {
		if _, err := tx.ExecContext(ctx, q, conversationID); err != nil {
			return nil, mapErr(op, err)
		}
	}
	return keys, mapErr(op, tx.Commit())
}

// listUserMessages is ListUserMessages' query (?1 the user, ?2 the bound,
// ?3 the limit).
const listUserMessages = `SELECT ` + msgColumns + ` FROM messages
	WHERE user_id = ?1 AND (?2 = '' OR message_id < ?2) AND deleted = 0 ORDER BY message_id DESC LIMIT ?3`

// ListUserMessages implements confab.ModerationStore on messages_by_user.
func (s *Store) ListUserMessages(ctx context.Context, userID, before string, limit int) ([]*confab.Message, error) {
	const op = "list user messages"
	rows, err := s.read.QueryContext(ctx, listUserMessages, userID, before, max(limit, 0))
	if err != nil {
		return nil, mapErr(op, err)
	}
	return scanMessages(rows, op)
}

const dayMS = 24 * 60 * 60 * 1000

// usagePerDay counts the messages and distinct authors of each Unix day
// (?3 is dayMS) created in [?1, ?2).
const usagePerDay = `SELECT created_at / ?3, count(*), count(DISTINCT user_id) FROM messages WHERE created_at >= ?1 AND created_at < ?2 GROUP BY 1`

// Usage implements confab.ModerationStore. The span is the days from
// through to, both included: messages created from from's midnight up to
// the midnight after to, deleted ones included (they were sent), read on
// messages_created_at. A day is the Unix day (created_at / dayMS); its ISO
// week starts on the Monday (day + 3) / 7 * 7 - 3, as day 0 (1 January
// 1970) was a Thursday. Days and weeks without messages are filled in here.
func (s *Store) Usage(ctx context.Context, from, to time.Time, top int) (*confab.Usage, error) {
	const op = "usage"
	first, last := ms(from)/dayMS, ms(to)/dayMS
	u := &confab.Usage{From: from.UTC(), To: to.UTC()}
	perDay := map[int64][2]int{}
	err := s.each(ctx, op, func(rows *sql.Rows) error {
		var d int64
		var n [2]int
		if err := rows.Scan(&d, &n[0], &n[1]); err != nil {
			return err
		}
		perDay[d] = n
		return nil
	}, usagePerDay, first*dayMS, (last+1)*dayMS, dayMS)
	if err != nil {
		return nil, err
	}
	for d := first; d <= last; d++ {
		day := fromMS(d * dayMS)
		u.MessagesPerDay = append(u.MessagesPerDay, confab.DayCount{Day: day, Count: perDay[d][0]})
		u.ActiveUsersPerDay = append(u.ActiveUsersPerDay, confab.DayCount{Day: day, Count: perDay[d][1]})
	}
	perWeek := map[int64]int{}
	err = s.each(ctx, op, func(rows *sql.Rows) error {
		var w int64
		var n int
		if err := rows.Scan(&w, &n); err != nil {
			return err
		}
		perWeek[w] = n
		return nil
	}, `SELECT (created_at / ?3 + 3) / 7, count(DISTINCT user_id) FROM messages WHERE created_at >= ?1 AND created_at < ?2 GROUP BY 1`,
		first*dayMS, (last+1)*dayMS, dayMS)
	if err != nil {
		return nil, err
	}
	for w := (first + 3) / 7; w <= (last+3)/7; w++ {
		u.ActiveUsersPerWeek = append(u.ActiveUsersPerWeek, confab.DayCount{Day: fromMS((w*7 - 3) * dayMS), Count: perWeek[w]})
	}
	err = s.each(ctx, op, func(rows *sql.Rows) error {
		var c confab.ConversationCount
		if err := rows.Scan(&c.ConversationID, &c.Messages); err != nil {
			return err
		}
		u.TopConversations = append(u.TopConversations, c)
		return nil
	}, `SELECT conversation_id, count(*) AS n FROM messages WHERE created_at >= ?1 AND created_at < ?2
		GROUP BY conversation_id ORDER BY n DESC, conversation_id LIMIT ?3`, first*dayMS, (last+1)*dayMS, max(top, 0))
	if err != nil {
		return nil, err
	}
	if err := s.read.QueryRowContext(ctx, `SELECT (SELECT count(*) FROM users), (SELECT count(*) FROM conversations),
			(SELECT coalesce(sum(size), 0) FROM uploads WHERE message_id IS NOT NULL)`).Scan(&u.Users, &u.Conversations, &u.StorageBytes); err != nil {
		return nil, mapErr(op, err)
	}
	return u, nil
}

// each runs query on a reader and calls scan for every row.
func (s *Store) each(ctx context.Context, op string, scan func(*sql.Rows) error, query string, args ...any) error {
	rows, err := s.read.QueryContext(ctx, query, args...)
	if err != nil {
		return mapErr(op, err)
	}
	defer rows.Close()
	for rows.Next() {
		if err := scan(rows); err != nil {
			return mapErr(op, err)
		}
	}
	return mapErr(op, rows.Err())
}
