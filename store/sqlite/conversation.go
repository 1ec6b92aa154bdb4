package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/confab-chat/confab"
	sqlite3lib "modernc.org/sqlite/lib"
)

const convColumns = `conversation_id, name, created_by, created_at, updated_at, last_message, last_message_at, message_count, last_seq, last_change_seq`

func scanConversation(row scanner) (*confab.Conversation, error) {
	var c confab.Conversation
	var name, last sql.NullString
	var created int64
	var updated, lastAt sql.NullInt64
	if err := row.Scan(&c.ConversationID, &name, &c.CreatedBy, &created, &updated, &last, &lastAt, &c.MessageCount, &c.LastSeq, &c.LastChangeSeq); err != nil {
		return nil, err
	}
	c.Name, c.LastMessage = fromNullString(name), fromNullString(last)
	c.CreatedAt = fromMS(created)
	c.UpdatedAt, c.LastMessageAt = fromNullMS(updated), fromNullMS(lastAt)
	return &c, nil
}

// InsertConversation implements confab.ConversationStore.
func (s *Store) InsertConversation(ctx context.Context, c *confab.Conversation) error {
	tx, err := s.write.BeginTx(ctx, nil)
	if err != nil {
		return mapErr("insert conversation", err)
	}
	defer tx.Rollback() // no-op after Commit
	_, err = tx.ExecContext(ctx, `INSERT INTO conversations (`+convColumns+`, activity_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		c.ConversationID, nullString(c.Name), c.CreatedBy, ms(c.CreatedAt), msPtr(c.UpdatedAt), nullString(c.LastMessage),
		msPtr(c.LastMessageAt), c.MessageCount, c.LastSeq, c.LastChangeSeq, ms(c.ActivityAt()))
	if err != nil {
		return mapErr("insert conversation", err)
	}
	for _, m := range c.Members {
		_, err := tx.ExecContext(ctx, `INSERT INTO members (conversation_id, user_id, joined_at, last_read_seq) VALUES (?, ?, ?, ?)`,
			c.ConversationID, m.UserID, ms(m.JoinedAt), m.LastReadSeq)
		if errCode(err) == sqlite3lib.SQLITE_CONSTRAINT_FOREIGNKEY {
			return notFound("insert conversation", "user")
		}
		if err != nil {
			return mapErr("insert conversation", err)
		}
	}
	if err := enqueue(ctx, tx, confab.NewConversationEvent(confab.OutboxConversationCreated, c, c.CreatedAt)); err != nil {
		return err
	}
	return mapErr("insert conversation", tx.Commit())
}

type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// GetConversation implements confab.ConversationStore.
func (s *Store) GetConversation(ctx context.Context, conversationID string) (*confab.Conversation, error) {
	return getConversation(ctx, s.read, conversationID)
}

func getConversation(ctx context.Context, q querier, conversationID string) (*confab.Conversation, error) {
	c, err := scanConversation(q.QueryRowContext(ctx, `SELECT `+convColumns+` FROM conversations WHERE conversation_id = ?`, conversationID))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound("get conversation", "conversation")
	}
	if err != nil {
		return nil, mapErr("get conversation", err)
	}
	if err := loadMembers(ctx, q, []*confab.Conversation{c}); err != nil {
		return nil, err
	}
	return c, nil
}

// loadMembers fills Members of every conversation with one query.
func loadMembers(ctx context.Context, q querier, convs []*confab.Conversation) error {
	if len(convs) == 0 {
		return nil
	}
	byID := make(map[string]*confab.Conversation, len(convs))
	args := make([]any, len(convs))
	for i, c := range convs {
		byID[c.ConversationID] = c
		args[i] = c.ConversationID
	}
	rows, err := q.QueryContext(ctx, `SELECT conversation_id, user_id, joined_at, last_read_seq, last_read_at,
			(SELECT count(*) FROM mentions x WHERE x.conversation_id = members.conversation_id
				AND x.seq > members.last_read_seq AND x.user_id = members.user_id)
		FROM members WHERE conversation_id IN (`+placeholders(len(convs))+`) ORDER BY joined_at, user_id`, args...)
	if err != nil {
		return mapErr("load members", err)
	}
	defer rows.Close()
	for rows.Next() {
		var cid string
		var m confab.Member
		var joined int64
		var readAt sql.NullInt64
		if err := rows.Scan(&cid, &m.UserID, &joined, &m.LastReadSeq, &readAt, &m.UnreadMentions); err != nil {
			return mapErr("load members", err)
		}
		m.JoinedAt, m.LastReadAt = fromMS(joined), fromNullMS(readAt)
		byID[cid].Members = append(byID[cid].Members, m)
	}
	return mapErr("load members", rows.Err())
}

// UpdateConversation implements confab.ConversationStore. The update, its
// CONVERSATION_UPDATED change and the read back share one transaction.
func (s *Store) UpdateConversation(ctx context.Context, conversationID, userID string, u confab.ConversationUpdate, at time.Time) (*confab.Conversation, error) {
	name := u.Name // TODO(#15): Settings, Archived
	tx, err := s.write.BeginTx(ctx, nil)
	if err != nil {
		return nil, mapErr("update conversation", err)
	}
	defer tx.Rollback() // a no-op after Commit; any failure is returned below
	res, err := tx.ExecContext(ctx, `UPDATE conversations SET name = CASE WHEN ? THEN ? ELSE name END, updated_at = ? WHERE conversation_id = ?`,
		name != nil, nullString(name), ms(at), conversationID)
	if err != nil {
		return nil, mapErr("update conversation", err)
	}
	if n, err := res.RowsAffected(); err != nil || n == 0 {
		return nil, notFound("update conversation", "conversation")
	}
	if _, err := appendChange(ctx, tx, &confab.Change{ConversationID: conversationID, Kind: confab.ChangeConversationUpdated, At: at, UserID: userID}); err != nil {
		return nil, err
	}
	c, err := getConversation(ctx, tx, conversationID)
	if err != nil {
		return nil, err
	}
	if err := enqueue(ctx, tx, confab.NewConversationEvent(confab.OutboxConversationUpdated, c, at)); err != nil {
		return nil, err
	}
	if err := tx.Commit(); err != nil {
		return nil, mapErr("update conversation", err)
	}
	return c, nil
}

// ListConversations implements confab.ConversationStore with keyset
// pagination on (activity_at DESC, conversation_id ASC): the page after p.After
// holds the conversations strictly after it in that order, so a page never
// repeats an item of an earlier page. A conversation whose activity moves
// past the cursor while a client pages (a new message) is not listed again;
// it is at the top of the next first page. Members of the whole page come
// from one query.
func (s *Store) ListConversations(ctx context.Context, userID string, p confab.ConversationPage) ([]*confab.Conversation, error) {
	after := `1`
	args := []any{userID}
	if p.After != nil {
		after = `(c.activity_at < ? OR (c.activity_at = ? AND c.conversation_id > ?))`
		at := ms(p.After.ActivityAt)
		args = append(args, at, at, p.After.ConversationID)
	}
	args = append(args, max(p.Limit, 0))
	rows, err := s.read.QueryContext(ctx, `SELECT c.conversation_id, c.name, c.created_by, c.created_at, c.updated_at, c.last_message, c.last_message_at, c.message_count, c.last_seq, c.last_change_seq
		FROM members m JOIN conversations c ON c.conversation_id = m.conversation_id
		WHERE m.user_id = ? AND `+after+`
		ORDER BY c.activity_at DESC, c.conversation_id ASC LIMIT ?`, args...)
	if err != nil {
		return nil, mapErr("list conversations", err)
	}
	var convs []*confab.Conversation
	for rows.Next() {
		c, err := scanConversation(rows)
		if err != nil {
			rows.Close()
			return nil, mapErr("list conversations", err)
		}
		convs = append(convs, c)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, mapErr("list conversations", err)
	}
	return convs, loadMembers(ctx, s.read, convs)
}

// ListConversationIDs implements confab.ConversationStore.
func (s *Store) ListConversationIDs(ctx context.Context, userID string, limit int) ([]string, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT conversation_id FROM members WHERE user_id = ? ORDER BY conversation_id LIMIT ?`, userID, max(limit, 0))
	if err != nil {
		return nil, mapErr("list conversation ids", err)
	}
	defer rows.Close()
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, mapErr("list conversation ids", err)
		}
		ids = append(ids, id)
	}
	return ids, mapErr("list conversation ids", rows.Err())
}

// MarkRead implements confab.ConversationStore. UnreadMentions follows by
// itself: loadMembers counts the mentions above the mark.
func (s *Store) MarkRead(ctx context.Context, conversationID, userID string, seq int64, at time.Time) error {
	res, err := s.write.ExecContext(ctx, `UPDATE members SET last_read_seq = max(last_read_seq, ?1),
			last_read_at = CASE WHEN ?1 > last_read_seq THEN ?2 ELSE last_read_at END
		WHERE conversation_id = ?3 AND user_id = ?4`, seq, ms(at), conversationID, userID)
	if err != nil {
		return mapErr("mark read", err)
	}
	if n, err := res.RowsAffected(); err != nil || n == 0 {
		return notFound("mark read", "membership")
	}
	return nil
}
