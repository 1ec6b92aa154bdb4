package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"time"
	"unicode"

	"github.com/confab-chat/confab"
)

const msgColumns = `conversation_id, seq, message_id, user_id, content, message_type, created_at, updated_at, deleted, client_token`

func scanMessage(row scanner) (*confab.Message, error) {
	var m confab.Message
	var created int64
	var updated sql.NullInt64
	var typ string
	if err := row.Scan(&m.ConversationID, &m.Seq, &m.MessageID, &m.UserID, &m.Content, &typ, &created, &updated, &m.Deleted, &m.ClientToken); err != nil {
		return nil, err
	}
	m.MessageType = confab.MessageType(typ)
	m.CreatedAt, m.UpdatedAt = fromMS(created), fromNullMS(updated)
	return &m, nil
}

func scanMessages(rows *sql.Rows, op string) ([]*confab.Message, error) {
	defer rows.Close()
	var msgs []*confab.Message
	for rows.Next() {
		m, err := scanMessage(rows)
		if err != nil {
			return nil, mapErr(op, err)
		}
		msgs = append(msgs, m)
	}
	return msgs, mapErr(op, rows.Err())
}

// AppendMessage implements confab.MessageStore through the group-commit
// writer: it returns once the batch holding m is durable.
func (s *Store) AppendMessage(ctx context.Context, m *confab.Message) (bool, error) {
	return s.w.append(ctx, m)
}

// appendStmts are the append path's statements, prepared once on the
// write connection (parsing SQL per append was a third of the writer's CPU).
type appendStmts struct {
	byToken, bump, insert *sql.Stmt
}

func prepareAppend(ctx context.Context, db *sql.DB) (*appendStmts, error) {
	var st appendStmts
	for _, p := range []struct {
		dst **sql.Stmt
		sql string
	}{
		{&st.byToken, `SELECT ` + msgColumns + ` FROM messages WHERE conversation_id = ? AND user_id = ? AND client_token = ?`},
		{&st.bump, `UPDATE conversations SET last_seq = last_seq + 1, message_count = message_count + 1,
			last_message = ?, last_message_at = ?, activity_at = ?
		WHERE conversation_id = ? RETURNING last_seq`},
		{&st.insert, `INSERT INTO messages (` + msgColumns + `) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 0, ?)`},
	} {
		stmt, err := db.PrepareContext(ctx, p.sql)
		if err != nil {
			st.close()
			return nil, err
		}
		*p.dst = stmt
	}
	return &st, nil
}

func (st *appendStmts) close() {
	for _, s := range []*sql.Stmt{st.byToken, st.bump, st.insert} {
		if s != nil {
			s.Close()
		}
	}
}

// in binds the statements to tx (the same single connection, so nothing is
// prepared again).
func (st *appendStmts) in(ctx context.Context, tx *sql.Tx) *appendStmts {
	return &appendStmts{byToken: tx.StmtContext(ctx, st.byToken), bump: tx.StmtContext(ctx, st.bump), insert: tx.StmtContext(ctx, st.insert)}
}

// append is one append inside the writer's transaction.
func (st *appendStmts) append(ctx context.Context, m *confab.Message) (bool, error) {
	if m.ClientToken != "" {
		prev, err := scanMessage(st.byToken.QueryRowContext(ctx, m.ConversationID, m.UserID, m.ClientToken))
		if err == nil {
			*m = *prev
			return false, nil
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return false, mapErr("append message", err)
		}
	}
	at := ms(m.CreatedAt)
	err := st.bump.QueryRowContext(ctx, preview(m.Content), at, at, m.ConversationID).Scan(&m.Seq)
	if errors.Is(err, sql.ErrNoRows) {
		return false, notFound("Conversation")
	}
	if err != nil {
		return false, mapErr("append message", err)
	}
	_, err = st.insert.ExecContext(ctx, m.ConversationID, m.Seq, m.MessageID, m.UserID, m.Content, string(m.MessageType), at, msPtr(m.UpdatedAt), m.ClientToken)
	if err != nil {
		return false, mapErr("append message", err)
	}
	return true, nil
}

// preview cuts content to the conversation's lastMessage length.
func preview(content string) string {
	n := 0
	for i := range content {
		if n == confab.MaxLastMessageLength {
			return content[:i]
		}
		n++
	}
	return content
}

// GetMessage implements confab.MessageStore.
func (s *Store) GetMessage(ctx context.Context, conversationID, messageID string) (*confab.Message, error) {
	m, err := scanMessage(s.read.QueryRowContext(ctx, `SELECT `+msgColumns+` FROM messages WHERE message_id = ? AND conversation_id = ? AND deleted = 0`, messageID, conversationID))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound("Message")
	}
	return m, mapErr("get message", err)
}

// DeleteMessage implements confab.MessageStore.
func (s *Store) DeleteMessage(ctx context.Context, conversationID, messageID string, at time.Time) (*confab.Message, *confab.Conversation, error) {
	tx, err := s.write.BeginTx(ctx, nil)
	if err != nil {
		return nil, nil, mapErr("delete message", err)
	}
	defer tx.Rollback() // no-op after Commit
	m, err := scanMessage(tx.QueryRowContext(ctx, `SELECT `+msgColumns+` FROM messages WHERE message_id = ? AND conversation_id = ? AND deleted = 0`, messageID, conversationID))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil, notFound("Message")
	}
	if err != nil {
		return nil, nil, mapErr("delete message", err)
	}
	if _, err := tx.ExecContext(ctx, `UPDATE messages SET deleted = 1, updated_at = ? WHERE conversation_id = ? AND seq = ?`, ms(at), conversationID, m.Seq); err != nil {
		return nil, nil, mapErr("delete message", err)
	}
	// The preview follows the newest live message.
	_, err = tx.ExecContext(ctx, `UPDATE conversations SET message_count = message_count - 1,
			last_message = (SELECT substr(content, 1, ?2) FROM messages WHERE conversation_id = ?1 AND deleted = 0 ORDER BY seq DESC LIMIT 1),
			last_message_at = (SELECT created_at FROM messages WHERE conversation_id = ?1 AND deleted = 0 ORDER BY seq DESC LIMIT 1)
		WHERE conversation_id = ?1`, conversationID, confab.MaxLastMessageLength)
	if err != nil {
		return nil, nil, mapErr("delete message", err)
	}
	// Activity follows the summary, so list cursors built from
	// LastMessageAt (or CreatedAt) stay consistent with the stored order.
	_, err = tx.ExecContext(ctx, `UPDATE conversations SET activity_at = coalesce(last_message_at, created_at) WHERE conversation_id = ?`, conversationID)
	if err != nil {
		return nil, nil, mapErr("delete message", err)
	}
	c, err := getConversation(ctx, tx, conversationID)
	if err != nil {
		return nil, nil, err
	}
	if err := tx.Commit(); err != nil {
		return nil, nil, mapErr("delete message", err)
	}
	return m, c, nil
}

// ListMessages implements confab.MessageStore.
func (s *Store) ListMessages(ctx context.Context, conversationID string, beforeSeq int64, limit int) ([]*confab.Message, error) {
	if beforeSeq <= 0 {
		beforeSeq = 1<<63 - 1
	}
	rows, err := s.read.QueryContext(ctx, `SELECT `+msgColumns+` FROM messages WHERE conversation_id = ? AND seq < ? AND deleted = 0 ORDER BY seq DESC LIMIT ?`,
		conversationID, beforeSeq, limit)
	if err != nil {
		return nil, mapErr("list messages", err)
	}
	return scanMessages(rows, "list messages")
}

// ListMessagesAfter implements confab.MessageStore.
func (s *Store) ListMessagesAfter(ctx context.Context, conversationID string, afterSeq int64, limit int) ([]*confab.Message, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT `+msgColumns+` FROM messages WHERE conversation_id = ? AND seq > ? ORDER BY seq ASC LIMIT ?`,
		conversationID, afterSeq, limit)
	if err != nil {
		return nil, mapErr("list messages after", err)
	}
	return scanMessages(rows, "list messages after")
}

// SearchMessages implements confab.MessageStore. Results come newest
// first by rowid, which FTS5 walks in order and stops at the limit: rows of
// a conversation are inserted in seq order, so rowid order is seq order
// there. terms is plain text: it
// is split into words, each quoted as an FTS5 string and matched as a
// prefix, so no character of the input is ever query syntax.
func (s *Store) SearchMessages(ctx context.Context, conversationID, terms string, limit int) ([]*confab.Message, error) {
	q := ftsQuery(terms)
	if q == "" {
		return nil, nil
	}
	rows, err := s.read.QueryContext(ctx, `SELECT m.conversation_id, m.seq, m.message_id, m.user_id, m.content, m.message_type, m.created_at, m.updated_at, m.deleted, m.client_token
		FROM messages_fts f JOIN messages m ON m.rowid = f.rowid
		WHERE messages_fts MATCH ? AND m.conversation_id = ? AND m.deleted = 0
		ORDER BY f.rowid DESC LIMIT ?`, q, conversationID, limit)
	if err != nil {
		return nil, mapErr("search messages", err)
	}
	return scanMessages(rows, "search messages")
}

// maxSearchWords bounds the words of one search.
const maxSearchWords = 16

// ftsQuery turns plain text into an FTS5 query: "w1"* AND "w2"* …
func ftsQuery(terms string) string {
	words := strings.FieldsFunc(terms, func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsNumber(r) })
	if len(words) > maxSearchWords {
		words = words[:maxSearchWords]
	}
	parts := make([]string, len(words))
	for i, w := range words {
		parts[i] = `"` + w + `"*` // words hold only letters and digits: no quote to escape
	}
	return strings.Join(parts, " AND ")
}
