package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/confab-chat/confab"
)

// msgBaseColumns are the columns every message is inserted with; the
// columns of issue 12 (msgColumns' tail) have defaults.
const msgBaseColumns = `conversation_id, seq, message_id, user_id, content, message_type, created_at, updated_at, deleted, client_token`

// msgColumns are the columns scanMessage reads.
const msgColumns = msgBaseColumns + `, change_seq, edited_at, mentions, parent_id, also_in_conversation, reply_count, last_reply_at, reply_users, deleted_by`

// msgColumnsOf is msgColumns qualified by a table alias, for joins.
func msgColumnsOf(alias string) string {
	return alias + "." + strings.ReplaceAll(msgColumns, ", ", ", "+alias+".")
}

func scanMessage(row scanner) (*confab.Message, error) {
	var m confab.Message
	var created int64
	var updated, edited, lastReply sql.NullInt64
	var mentions, replyUsers sql.NullString
	var typ string
	if err := row.Scan(&m.ConversationID, &m.Seq, &m.MessageID, &m.UserID, &m.Content, &typ, &created, &updated, &m.Deleted, &m.ClientToken,
		&m.ChangeSeq, &edited, &mentions, &m.ParentMessageID, &m.AlsoInConversation, &m.ReplyCount, &lastReply, &replyUsers, &m.DeletedBy); err != nil {
		return nil, err
	}
	m.MessageType = confab.MessageType(typ)
	m.CreatedAt, m.UpdatedAt = fromMS(created), fromNullMS(updated)
	m.EditedAt, m.LastReplyAt = fromNullMS(edited), fromNullMS(lastReply)
	var err error
	if m.Mentions, err = decodeIDs(mentions); err != nil {
		return nil, err
	}
	if m.ReplyUserIDs, err = decodeIDs(replyUsers); err != nil {
		return nil, err
	}
	return &m, nil
}

// encodeIDs stores a list of user ids as a JSON array, NULL when empty.
func encodeIDs(ids []string) sql.NullString {
	if len(ids) == 0 {
		return sql.NullString{}
	}
	b, err := json.Marshal(ids)
	if err != nil { // a []string always marshals
		panic(err)
	}
	return sql.NullString{String: string(b), Valid: true}
}

// decodeIDs reads what encodeIDs stored; NULL is nil.
func decodeIDs(v sql.NullString) ([]string, error) {
	if !v.Valid {
		return nil, nil
	}
	var ids []string
	if err := json.Unmarshal([]byte(v.String), &ids); err != nil {
		return nil, fmt.Errorf("user id list %q: %w", v.String, err)
	}
	return ids, nil
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
	root, updateRoot, change     *sql.Stmt
	mention, outbox              *sql.Stmt
	sp, spRollback, spRelease    *sql.Stmt
	lastPosted, setPosted        *sql.Stmt // slow mode only
}

func (st *appendStmts) all() []**sql.Stmt {
	return []**sql.Stmt{&st.byToken, &st.bump, &st.insert, &st.index, &st.root, &st.updateRoot, &st.change, &st.mention, &st.outbox,
		&st.sp, &st.spRollback, &st.spRelease, &st.lastPosted, &st.setPosted}
}

// insertChange appends one entry to a conversation's change log; the
// caller has raised conversations.last_change_seq to cover it.
const insertChange = `INSERT INTO changes (conversation_id, change_seq, kind, at, user_id, message_id, reaction_key) VALUES (?, ?, ?, ?, ?, ?, ?)`

func prepareAppend(ctx context.Context, db *sql.DB) (*appendStmts, error) {
	var st appendStmts
	queries := []string{
		`SELECT ` + msgColumns + ` FROM messages WHERE conversation_id = ? AND user_id = ? AND client_token = ?`,
		`UPDATE conversations SET last_seq = last_seq + 1, message_count = message_count + 1,
			last_message = ?, last_message_at = ?, activity_at = ?, last_change_seq = last_change_seq + ?
		WHERE conversation_id = ? RETURNING last_seq, last_change_seq`,
		`INSERT INTO messages (` + msgBaseColumns + `, change_seq, mentions, parent_id, also_in_conversation)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, 0, ?, ?, ?, ?, ?)`,
		`INSERT INTO messages_fts (rowid, content) VALUES (?, ?)`,
		`SELECT reply_users FROM messages WHERE conversation_id = ? AND message_id = ? AND deleted = 0`,
		`UPDATE messages SET reply_count = reply_count + 1, last_reply_at = ?, reply_users = ?, change_seq = ?
			WHERE conversation_id = ? AND message_id = ?`,
		insertChange,
		`INSERT INTO mentions (conversation_id, seq, user_id) VALUES (?, ?, ?)`,
		insertOutboxNoID,
		`SAVEPOINT append_one`,
		`ROLLBACK TO append_one`,
		`RELEASE append_one`,
		`SELECT last_posted_at FROM members WHERE conversation_id = ? AND user_id = ?`,
		`UPDATE members SET last_posted_at = ? WHERE conversation_id = ? AND user_id = ?`,
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

// append is one append inside the writer's transaction: the message, its
// MESSAGE_SENT change, its mentions and, for a reply, its root's thread
// summary and THREAD_UPDATED change. It returns the rowid of the new
// message, which the writer indexes for search once the whole batch is in.
func (st *appendStmts) append(ctx context.Context, m *confab.Message) (created bool, rowid int64, err error) {
	const op = "append message"
	if m.ClientToken != "" {
		prev, err := scanMessage(st.byToken.QueryRowContext(ctx, m.ConversationID, m.UserID, m.ClientToken))
		if err == nil {
			*m = *prev
			return false, 0, nil
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return false, 0, mapErr(op, err)
		}
	}
	if m.SlowMode > 0 {
		if err := st.slowMode(ctx, m); err != nil {
			return false, 0, err
		}
	}
	changes := 1
	var replyUsers []string
	if m.ParentMessageID != "" {
		var stored sql.NullString
		err := st.root.QueryRowContext(ctx, m.ConversationID, m.ParentMessageID).Scan(&stored)
		if errors.Is(err, sql.ErrNoRows) {
			return false, 0, notFound(op, "thread root")
		}
		if err == nil {
			replyUsers, err = decodeIDs(stored)
		}
		if err != nil {
			return false, 0, mapErr(op, err)
		}
		changes = 2
	}
	at := ms(m.CreatedAt)
	var lastChange int64
	err = st.bump.QueryRowContext(ctx, confab.Preview(m.Content), at, at, changes, m.ConversationID).Scan(&m.Seq, &lastChange)
	if errors.Is(err, sql.ErrNoRows) {
		return false, 0, notFound(op, "conversation")
	}
	if err != nil {
		return false, 0, mapErr(op, err)
	}
	m.ChangeSeq = lastChange - int64(changes) + 1
	res, err := st.insert.ExecContext(ctx, m.ConversationID, m.Seq, m.MessageID, m.UserID, m.Content, string(m.MessageType), at, msPtr(m.UpdatedAt), m.ClientToken,
		m.ChangeSeq, encodeIDs(m.Mentions), m.ParentMessageID, m.AlsoInConversation)
	if err != nil {
		return false, 0, mapErr(op, err)
	}
	if rowid, err = res.LastInsertId(); err != nil {
		return false, 0, mapErr(op, err)
	}
	if _, err := st.change.ExecContext(ctx, m.ConversationID, m.ChangeSeq, string(confab.ChangeMessageSent), at, m.UserID, m.MessageID, ""); err != nil {
		return false, 0, mapErr(op, err)
	}
	for _, id := range mentioned(m) {
		if _, err := st.mention.ExecContext(ctx, m.ConversationID, m.Seq, id); err != nil {
			return false, 0, mapErr(op, err)
		}
	}
	if m.ParentMessageID != "" {
		users := encodeIDs(frontReplyUser(replyUsers, m.UserID))
		if _, err := st.updateRoot.ExecContext(ctx, at, users, lastChange, m.ConversationID, m.ParentMessageID); err != nil {
			return false, 0, mapErr(op, err)
		}
		if _, err := st.change.ExecContext(ctx, m.ConversationID, lastChange, string(confab.ChangeThreadUpdated), at, m.UserID, m.ParentMessageID, ""); err != nil {
			return false, 0, mapErr(op, err)
		}
	}
	if err := enqueueStmt(ctx, st.outbox, confab.NewMessageEvent(confab.OutboxMessageSent, m, m.CreatedAt)); err != nil {
		return false, 0, err
	}
	return true, rowid, nil
}

// slowMode refuses m when its author posted less than m.SlowMode before
// it, and otherwise keeps m.CreatedAt as their LastPostedAt. It runs in
// the append's savepoint, so a send that fails later leaves the mark as
// it was. A non-member has no mark to check or keep (the service lets
// only members post).
func (st *appendStmts) slowMode(ctx context.Context, m *confab.Message) error {
	const op = "append message"
	var last sql.NullInt64
	err := st.lastPosted.QueryRowContext(ctx, m.ConversationID, m.UserID).Scan(&last)
	if errors.Is(err, sql.ErrNoRows) {
		return nil
	}
	if err != nil {
		return mapErr(op, err)
	}
	if last.Valid && ms(m.CreatedAt)-last.Int64 < m.SlowMode.Milliseconds() {
		return &confab.Error{Code: confab.CodeLimited, Op: "sqlite: " + op, Err: errors.New("slow mode: the author posted too recently")}
	}
	_, err = st.setPosted.ExecContext(ctx, ms(m.CreatedAt), m.ConversationID, m.UserID)
	return mapErr(op, err)
}

// mentioned returns the distinct users m mentions, its author left out:
// the members whose UnreadMentions it raises.
func mentioned(m *confab.Message) []string {
	var ids []string
	for _, id := range m.Mentions {
		if id != m.UserID && !slices.Contains(ids, id) {
			ids = append(ids, id)
		}
	}
	return ids
}

// frontReplyUser moves userID to the front of a root's repliers, keeping
// at most confab.MaxReplyUsers.
func frontReplyUser(users []string, userID string) []string {
	out := []string{userID}
	for _, u := range users {
		if u != userID && len(out) < confab.MaxReplyUsers {
			out = append(out, u)
		}
	}
	return out
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
// same transaction. The change log, mentions and thread root follow in
// deleteChanges.
func (s *Store) DeleteMessage(ctx context.Context, conversationID, messageID, byUserID string, at time.Time) (*confab.Message, *confab.Conversation, error) {
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
	if byUserID != "" && byUserID != m.UserID {
		m.DeletedBy = byUserID
	}
	if _, err := tx.ExecContext(ctx, `UPDATE messages SET deleted = 1, updated_at = ?, deleted_by = ? WHERE conversation_id = ? AND seq = ?`,
		ms(at), m.DeletedBy, conversationID, m.Seq); err != nil {
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
	if err := deleteChanges(ctx, tx, m, byUserID, at); err != nil {
		return nil, nil, err
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

// listTimeline is ListMessages' query; its condition on parent_id is the
// messages_timeline index's, word for word, so the planner takes it.
const listTimeline = `SELECT ` + msgColumns + ` FROM messages
	WHERE conversation_id = ? AND seq < ? AND deleted = 0 AND (parent_id = '' OR also_in_conversation) ORDER BY seq DESC LIMIT ?`

// ListMessages implements confab.MessageStore. It walks the
// messages_timeline index (conversation_id, seq of messages in the
// timeline) backwards from beforeSeq, so a page costs the same at any depth
// and appends never shift it, and thread-only replies are not even read.
func (s *Store) ListMessages(ctx context.Context, conversationID string, beforeSeq int64, limit int) ([]*confab.Message, error) {
	if beforeSeq <= 0 {
		beforeSeq = 1<<63 - 1
	}
	rows, err := s.read.QueryContext(ctx, listTimeline, conversationID, beforeSeq, max(limit, 0))
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
	if err := purgeAlong(ctx, tx, cut, limit); err != nil {
		return 0, err
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

// deleteChanges is the part of DeleteMessage that issue 12 added, in its
// transaction: m's mentions stop counting, MESSAGE_DELETED is appended
// (m.ChangeSeq), and for a reply its root's count drops and THREAD_UPDATED
// follows. Both are by, or by the message's author when by is "".
func deleteChanges(ctx context.Context, tx *sql.Tx, m *confab.Message, by string, at time.Time) error {
	const op = "delete message"
	if by == "" {
		by = m.UserID
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM mentions WHERE conversation_id = ? AND seq = ?`, m.ConversationID, m.Seq); err != nil {
		return mapErr(op, err)
	}
	seq, err := appendChange(ctx, tx, &confab.Change{ConversationID: m.ConversationID, Kind: confab.ChangeMessageDeleted, At: at, UserID: by, MessageID: m.MessageID})
	if err != nil {
		return err
	}
	m.ChangeSeq = seq
	if err := enqueue(ctx, tx, confab.NewMessageEvent(confab.OutboxMessageDeleted, m, at)); err != nil {
		return err
	}
	if m.ParentMessageID == "" {
		return nil
	}
	res, err := tx.ExecContext(ctx, `UPDATE messages SET reply_count = max(reply_count - 1, 0) WHERE conversation_id = ? AND message_id = ?`,
		m.ConversationID, m.ParentMessageID)
	if err != nil {
		return mapErr(op, err)
	}
	if n, err := res.RowsAffected(); err != nil || n == 0 {
		return mapErr(op, err) // the root was purged: nothing to update
	}
	_, err = appendChange(ctx, tx, &confab.Change{ConversationID: m.ConversationID, Kind: confab.ChangeThreadUpdated, At: at, UserID: by, MessageID: m.ParentMessageID})
	return err
}

// purgeAlong removes, before PurgeMessages removes the batch (?1 the
// bound, ?2 the limit), what belongs to its messages: their edits,
// reactions, mentions, change log entries and, for roots, thread marks.
// Thread roots left keep their counts.
func purgeAlong(ctx context.Context, tx *sql.Tx, cut int64, limit int) error {
	const batchIDs = `SELECT message_id FROM messages WHERE rowid IN (` + purgeBatch + `)`
	for _, q := range []string{
		`DELETE FROM message_edits WHERE message_id IN (` + batchIDs + `)`,
		`DELETE FROM reactions WHERE message_id IN (` + batchIDs + `)`,
		`DELETE FROM changes WHERE message_id <> '' AND message_id IN (` + batchIDs + `)`,
		`DELETE FROM mentions WHERE (conversation_id, seq) IN (SELECT conversation_id, seq FROM messages WHERE rowid IN (` + purgeBatch + `))`,
		`DELETE FROM thread_reads WHERE (conversation_id, root_id) IN (SELECT conversation_id, message_id FROM messages WHERE rowid IN (` + purgeBatch + `))`,
	} {
		if _, err := tx.ExecContext(ctx, q, cut, limit); err != nil {
			return mapErr("purge messages", err)
		}
	}
	return nil
}
