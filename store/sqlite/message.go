package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

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

// AppendMessage implements confab.MessageStore. It hands m to the
// group-commit writer (writer.go) and blocks until the transaction holding
// it is durable; concurrent appends share that transaction and its fsync.
// A ctx that ends before the writer took m returns ctx.Err() with nothing
// written. After Close it returns CodeUnavailable.
func (s *Store) AppendMessage(ctx context.Context, m *confab.Message) (bool, error) {
	return s.w.append(ctx, m)
}

// appendStmts are the append path's statements, prepared once on the write
// connection (parsing SQL per append was a third of the writer's CPU).
type appendStmts struct {
	byToken, bump, insert, index *sql.Stmt
	sp, spRollback, spRelease    *sql.Stmt
}

func (st *appendStmts) all() []**sql.Stmt {
	return []**sql.Stmt{&st.byToken, &st.bump, &st.insert, &st.index, &st.sp, &st.spRollback, &st.spRelease}
}

func prepareAppend(ctx context.Context, db *sql.DB) (*appendStmts, error) {
	var st appendStmts
	queries := []string{
		`SELECT ` + msgColumns + ` FROM messages WHERE conversation_id = ? AND user_id = ? AND client_token = ?`,
		`UPDATE conversations SET last_seq = last_seq + 1, message_count = message_count + 1,
			last_message = ?, last_message_at = ?, activity_at = ?
		WHERE conversation_id = ? RETURNING last_seq`,
		`INSERT INTO messages (` + msgColumns + `) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 0, ?)`,
		`INSERT INTO messages_fts (rowid, content) VALUES (?, ?)`,
		`SAVEPOINT append_one`,
		`ROLLBACK TO append_one`,
		`RELEASE append_one`,
	}
	for i, dst := range st.all() {
		stmt, err := db.PrepareContext(ctx, queries[i])
		if err != nil {
			st.close()
			return nil, err
		}
		*dst = stmt
	}
	return &st, nil
}

func (st *appendStmts) close() {
	for _, s := range st.all() {
		if *s != nil {
			(*s).Close() // closing a statement of a closing store; nothing to do on error
		}
	}
}

// in binds the statements to tx (the same single connection, so nothing is
// prepared again).
func (st *appendStmts) in(ctx context.Context, tx *sql.Tx) *appendStmts {
	var b appendStmts
	src := st.all()
	for i, dst := range b.all() {
		*dst = tx.StmtContext(ctx, *src[i])
	}
	return &b
}

func (st *appendStmts) savepoint(ctx context.Context) error {
	_, err := st.sp.ExecContext(ctx)
	return err
}

func (st *appendStmts) rollbackSavepoint(ctx context.Context) error {
	_, err := st.spRollback.ExecContext(ctx)
	return err
}

func (st *appendStmts) releaseSavepoint(ctx context.Context) error {
	_, err := st.spRelease.ExecContext(ctx)
	return err
}

// append is one append inside the writer's transaction. It returns the
// rowid of the new message, which the writer indexes for search once the
// whole batch is in.
func (st *appendStmts) append(ctx context.Context, m *confab.Message) (created bool, rowid int64, err error) {
	if m.ClientToken != "" {
		prev, err := scanMessage(st.byToken.QueryRowContext(ctx, m.ConversationID, m.UserID, m.ClientToken))
		if err == nil {
			*m = *prev
			return false, 0, nil
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return false, 0, mapErr("append message", err)
		}
	}
	at := ms(m.CreatedAt)
	err = st.bump.QueryRowContext(ctx, confab.Preview(m.Content), at, at, m.ConversationID).Scan(&m.Seq)
	if errors.Is(err, sql.ErrNoRows) {
		return false, 0, notFound("append message", "conversation")
	}
	if err != nil {
		return false, 0, mapErr("append message", err)
	}
	res, err := st.insert.ExecContext(ctx, m.ConversationID, m.Seq, m.MessageID, m.UserID, m.Content, string(m.MessageType), at, msPtr(m.UpdatedAt), m.ClientToken)
	if err != nil {
		return false, 0, mapErr("append message", err)
	}
	rowid, err = res.LastInsertId()
	if err != nil {
		return false, 0, mapErr("append message", err)
	}
	return true, rowid, nil
}

// GetMessage implements confab.MessageStore.
func (s *Store) GetMessage(ctx context.Context, conversationID, messageID string) (*confab.Message, error) {
	m, err := scanMessage(s.read.QueryRowContext(ctx, `SELECT `+msgColumns+` FROM messages WHERE message_id = ? AND conversation_id = ? AND deleted = 0`, messageID, conversationID))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound("get message", "message")
	}
	if err != nil {
		return nil, mapErr("get message", err)
	}
	return m, nil
}

// DeleteMessage implements confab.MessageStore. The row stays (its seq is
// never reused and resume shows it as deleted); the update fires the
// messages_fts_delete trigger, which removes it from the search index in the
// same transaction.
func (s *Store) DeleteMessage(ctx context.Context, conversationID, messageID string, at time.Time) (*confab.Message, *confab.Conversation, error) {
	tx, err := s.write.BeginTx(ctx, nil)
	if err != nil {
		return nil, nil, mapErr("delete message", err)
	}
	defer tx.Rollback() // a no-op after Commit; any failure is returned below
	m, err := scanMessage(tx.QueryRowContext(ctx, `SELECT `+msgColumns+` FROM messages WHERE message_id = ? AND conversation_id = ? AND deleted = 0`, messageID, conversationID))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil, notFound("delete message", "message")
	}
	if err != nil {
		return nil, nil, mapErr("delete message", err)
	}
	if _, err := tx.ExecContext(ctx, `UPDATE messages SET deleted = 1, updated_at = ? WHERE conversation_id = ? AND seq = ?`, ms(at), conversationID, m.Seq); err != nil {
		return nil, nil, mapErr("delete message", err)
	}
	// When m was the newest live message, the preview moves to the one
	// before it (NULL when none is left), and activity follows the preview,
	// so list cursors built from LastMessageAt (or CreatedAt) match the
	// stored order.
	if _, err := tx.ExecContext(ctx, `UPDATE conversations SET message_count = message_count - 1 WHERE conversation_id = ?`, conversationID); err != nil {
		return nil, nil, mapErr("delete message", err)
	}
	if _, err := tx.ExecContext(ctx, `UPDATE conversations SET
			(last_message, last_message_at) = (SELECT substr(content, 1, ?3), created_at FROM messages
				WHERE conversation_id = ?1 AND deleted = 0 ORDER BY seq DESC LIMIT 1),
			activity_at = coalesce((SELECT created_at FROM messages
				WHERE conversation_id = ?1 AND deleted = 0 ORDER BY seq DESC LIMIT 1), created_at)
		WHERE conversation_id = ?1 AND NOT EXISTS (SELECT 1 FROM messages WHERE conversation_id = ?1 AND seq > ?2 AND deleted = 0)`,
		conversationID, m.Seq, confab.MaxLastMessageLength); err != nil {
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

// ListMessages implements confab.MessageStore. It walks the primary key
// (conversation_id, seq) backwards from beforeSeq, so a page costs the same
// at any depth and appends never shift it.
func (s *Store) ListMessages(ctx context.Context, conversationID string, beforeSeq int64, limit int) ([]*confab.Message, error) {
	if beforeSeq <= 0 {
		beforeSeq = 1<<63 - 1
	}
	rows, err := s.read.QueryContext(ctx, `SELECT `+msgColumns+` FROM messages WHERE conversation_id = ? AND seq < ? AND deleted = 0 ORDER BY seq DESC LIMIT ?`,
		conversationID, beforeSeq, max(limit, 0))
	if err != nil {
		return nil, mapErr("list messages", err)
	}
	return scanMessages(rows, "list messages")
}

// ListMessagesAfter implements confab.MessageStore.
func (s *Store) ListMessagesAfter(ctx context.Context, conversationID string, afterSeq int64, limit int) ([]*confab.Message, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT `+msgColumns+` FROM messages WHERE conversation_id = ? AND seq > ? ORDER BY seq ASC LIMIT ?`,
		conversationID, afterSeq, max(limit, 0))
	if err != nil {
		return nil, mapErr("list messages after", err)
	}
	return scanMessages(rows, "list messages after")
}

// purgeBatch selects the rowids of a purge batch (?1 the bound, ?2 the
// limit) from the messages_created_at index, in its order.
const purgeBatch = `SELECT rowid FROM messages WHERE created_at < ?1 ORDER BY created_at, rowid LIMIT ?2`

// PurgeMessages implements confab.MessageStore. It runs on the write
// connection, the one the group-commit writer uses, so it takes its turn
// between batches and never meets SQLITE_BUSY from this process; appends
// queue meanwhile and go out together in the next batch. The batch is
// chosen by walking messages_created_at from its start and is read three
// times in one transaction: nothing else writes in between.
//
// A live row's search entry is removed with FTS5's 'delete' command and the
// content as indexed; a deleted row's entry is already gone (the
// messages_fts_delete trigger), and deleting it twice would corrupt the
// external-content index.
func (s *Store) PurgeMessages(ctx context.Context, before time.Time, limit int) (int, error) {
	const op = "purge messages"
	if limit <= 0 {
		return 0, nil
	}
	cut := msCeil(before)
	tx, err := s.write.BeginTx(ctx, nil)
	if err != nil {
		return 0, mapErr(op, err)
	}
	defer tx.Rollback() // a no-op after Commit; any failure is returned below
	type purged struct {
		conversationID string
		rows, live     int64
	}
	rows, err := tx.QueryContext(ctx, `SELECT conversation_id, count(*), sum(deleted = 0) FROM messages
		WHERE rowid IN (`+purgeBatch+`) GROUP BY conversation_id`, cut, limit)
	if err != nil {
		return 0, mapErr(op, err)
	}
	var convs []purged
	var total int64
	for rows.Next() {
		var p purged
		if err := rows.Scan(&p.conversationID, &p.rows, &p.live); err != nil {
			rows.Close()
			return 0, mapErr(op, err)
		}
		convs = append(convs, p)
		total += p.rows
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, mapErr(op, err)
	}
	if total == 0 {
		return 0, nil
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO messages_fts (messages_fts, rowid, content)
		SELECT 'delete', rowid, content FROM messages WHERE rowid IN (`+purgeBatch+`) AND deleted = 0`, cut, limit); err != nil {
		return 0, mapErr(op+": index", err)
	}
	res, err := tx.ExecContext(ctx, `DELETE FROM messages WHERE rowid IN (`+purgeBatch+`)`, cut, limit)
	if err != nil {
		return 0, mapErr(op, err)
	}
	if n, err := res.RowsAffected(); err != nil || n != total {
		return 0, fmt.Errorf("sqlite: %s: deleted %d rows of a batch of %d (%v)", op, n, total, err)
	}
	update, err := tx.PrepareContext(ctx, `UPDATE conversations SET message_count = message_count - ?2,
			last_message = (SELECT substr(content, 1, ?3) FROM messages
				WHERE conversation_id = ?1 AND deleted = 0 ORDER BY seq DESC LIMIT 1)
		WHERE conversation_id = ?1`)
	if err != nil {
		return 0, mapErr(op, err)
	}
	defer update.Close() // closed with the transaction anyway
	for _, p := range convs {
		if _, err := update.ExecContext(ctx, p.conversationID, p.live, confab.MaxLastMessageLength); err != nil {
			return 0, mapErr(op, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return 0, mapErr(op, err)
	}
	return int(total), nil
}
