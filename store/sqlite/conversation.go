package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"time"

	"github.com/confab-chat/confab"
	sqlite3lib "modernc.org/sqlite/lib"
)

// convColumns are the columns a conversation is inserted with and read
// from (scanConversation).
const convColumns = `conversation_id, name, created_by, created_at, updated_at, last_message, last_message_at, message_count, last_seq, last_change_seq,
	direct_key, add_members_role, post_role, react_role, slow_mode, archived_at`

// convColumnsOf is convColumns qualified by a table alias, for joins.
func convColumnsOf(alias string) string {
	return alias + "." + strings.ReplaceAll(strings.ReplaceAll(convColumns, "\n\t", " "), ", ", ", "+alias+".")
}

func scanConversation(row scanner) (*confab.Conversation, error) {
	var c confab.Conversation
	var name, last, direct sql.NullString
	var created int64
	var updated, lastAt, archived sql.NullInt64
	var addMembers, post, react string
	if err := row.Scan(&c.ConversationID, &name, &c.CreatedBy, &created, &updated, &last, &lastAt, &c.MessageCount, &c.LastSeq, &c.LastChangeSeq,
		&direct, &addMembers, &post, &react, &c.Settings.SlowMode, &archived); err != nil {
		return nil, err
	}
	c.Name, c.LastMessage = fromNullString(name), fromNullString(last)
	c.CreatedAt = fromMS(created)
	c.UpdatedAt, c.LastMessageAt = fromNullMS(updated), fromNullMS(lastAt)
	c.Direct, c.ArchivedAt = direct.Valid, fromNullMS(archived)
	c.Settings.AddMembers, c.Settings.Post, c.Settings.React = confab.Role(addMembers), confab.Role(post), confab.Role(react)
	return &c, nil
}

// directKey is the direct_key of c: its pair's DirectKey, NULL for a group.
func directKey(c *confab.Conversation) (sql.NullString, error) {
	if !c.Direct {
		return sql.NullString{}, nil
	}
	if len(c.Members) != 2 {
		return sql.NullString{}, &confab.Error{Code: confab.CodeInvalid, Op: "sqlite: insert conversation", Err: errors.New("a direct conversation has two members")}
	}
	return sql.NullString{String: confab.DirectKey(c.Members[0].UserID, c.Members[1].UserID), Valid: true}, nil
}

// insertMember adds m to the conversation in tx; an unknown user is
// CodeNotFound.
func insertMember(ctx context.Context, tx *sql.Tx, op, conversationID string, m *confab.Member) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO members (conversation_id, user_id, joined_at, last_read_seq, last_read_at, role, muted_until, last_posted_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
		conversationID, m.UserID, ms(m.JoinedAt), m.LastReadSeq, msPtr(m.LastReadAt), string(m.Role), msPtr(m.MutedUntil), msPtr(m.LastPostedAt))
	if errCode(err) == sqlite3lib.SQLITE_CONSTRAINT_FOREIGNKEY {
		return notFound(op, "user")
	}
	return mapErr(op, err)
}

// InsertConversation implements confab.ConversationStore. A second direct
// conversation of a pair violates the conversations_direct index:
// CodeConflict, like a duplicate id.
func (s *Store) InsertConversation(ctx context.Context, c *confab.Conversation) error {
	const op = "insert conversation"
	direct, err := directKey(c)
	if err != nil {
		return err
	}
	tx, err := s.write.BeginTx(ctx, nil)
	if err != nil {
		return mapErr(op, err)
	}
	defer tx.Rollback() // no-op after Commit
	st := c.Settings
	_, err = tx.ExecContext(ctx, `INSERT INTO conversations (`+convColumns+`, activity_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		c.ConversationID, nullString(c.Name), c.CreatedBy, ms(c.CreatedAt), msPtr(c.UpdatedAt), nullString(c.LastMessage),
		msPtr(c.LastMessageAt), c.MessageCount, c.LastSeq, c.LastChangeSeq,
		direct, string(st.AddMembers), string(st.Post), string(st.React), st.SlowMode, msPtr(c.ArchivedAt), ms(c.ActivityAt()))
	if err != nil {
		return mapErr(op, err)
	}
	for i := range c.Members {
		if err := insertMember(ctx, tx, op, c.ConversationID, &c.Members[i]); err != nil {
			return err
		}
	}
	if err := enqueue(ctx, tx, confab.NewConversationEvent(confab.OutboxConversationCreated, c, c.CreatedAt)); err != nil {
		return err
	}
	return mapErr(op, tx.Commit())
}

// getDirect reads the conversation of a DirectKey.
const getDirect = `SELECT ` + convColumns + ` FROM conversations WHERE direct_key = ?`

// GetDirectConversation implements confab.ConversationStore on the
// conversations_direct index.
func (s *Store) GetDirectConversation(ctx context.Context, userID, otherID string) (*confab.Conversation, error) {
	const op = "get direct conversation"
	c, err := scanConversation(s.read.QueryRowContext(ctx, getDirect, confab.DirectKey(userID, otherID)))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound(op, "conversation")
	}
	if err != nil {
		return nil, mapErr(op, err)
	}
	return c, loadMembers(ctx, s.read, []*confab.Conversation{c})
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
	rows, err := q.QueryContext(ctx, `SELECT conversation_id, user_id, joined_at, last_read_seq, last_read_at, role, muted_until, last_posted_at,
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
		var readAt, muted, posted sql.NullInt64
		var role string
		if err := rows.Scan(&cid, &m.UserID, &joined, &m.LastReadSeq, &readAt, &role, &muted, &posted, &m.UnreadMentions); err != nil {
			return mapErr("load members", err)
		}
		m.JoinedAt, m.LastReadAt = fromMS(joined), fromNullMS(readAt)
		m.Role, m.MutedUntil, m.LastPostedAt = confab.Role(role), fromNullMS(muted), fromNullMS(posted)
		byID[cid].Members = append(byID[cid].Members, m)
	}
	return mapErr("load members", rows.Err())
}

// UpdateConversation implements confab.ConversationStore. The update, its
// CONVERSATION_UPDATED change and the read back share one transaction.
func (s *Store) UpdateConversation(ctx context.Context, conversationID, userID string, u confab.ConversationUpdate, at time.Time) (*confab.Conversation, error) {
	const op = "update conversation"
	tx, err := s.write.BeginTx(ctx, nil)
	if err != nil {
		return nil, mapErr(op, err)
	}
	defer tx.Rollback() // a no-op after Commit; any failure is returned below
	var st confab.ConversationSettings
	if u.Settings != nil {
		st = *u.Settings
	}
	var archivedAt sql.NullInt64
	if u.Archived != nil && *u.Archived {
		archivedAt = sql.NullInt64{Int64: ms(at), Valid: true}
	}
	res, err := tx.ExecContext(ctx, `UPDATE conversations SET name = CASE WHEN ?1 THEN ?2 ELSE name END, updated_at = ?3,
			add_members_role = CASE WHEN ?5 THEN ?6 ELSE add_members_role END,
			post_role = CASE WHEN ?5 THEN ?7 ELSE post_role END,
			react_role = CASE WHEN ?5 THEN ?8 ELSE react_role END,
			slow_mode = CASE WHEN ?5 THEN ?9 ELSE slow_mode END,
			archived_at = CASE WHEN ?10 THEN ?11 ELSE archived_at END
		WHERE conversation_id = ?4`,
		u.Name != nil, nullString(u.Name), ms(at), conversationID,
		u.Settings != nil, string(st.AddMembers), string(st.Post), string(st.React), st.SlowMode,
		u.Archived != nil, archivedAt)
	if err != nil {
		return nil, mapErr(op, err)
	}
	if n, err := res.RowsAffected(); err != nil || n == 0 {
		return nil, notFound(op, "conversation")
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
		return nil, mapErr(op, err)
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
	rows, err := s.read.QueryContext(ctx, `SELECT `+convColumnsOf("c")+`
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
