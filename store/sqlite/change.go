package sqlite

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"slices"
	"time"

	"github.com/confab-chat/confab"
	"github.com/confab-chat/confab/internal/fold"
)

// appendChange gives ch the conversation's next ChangeSeq, records it in
// the change log and, for a change about a message, makes it the message's
// ChangeSeq; all in tx, the transaction of the change itself. The write
// connection is single, so no other change can take the same seq.
func appendChange(ctx context.Context, tx *sql.Tx, ch *confab.Change) (int64, error) {
	const op = "append change"
	err := tx.QueryRowContext(ctx, `UPDATE conversations SET last_change_seq = last_change_seq + 1 WHERE conversation_id = ? RETURNING last_change_seq`,
		ch.ConversationID).Scan(&ch.ChangeSeq)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, notFound(op, "conversation")
	}
	if err != nil {
		return 0, mapErr(op, err)
	}
	if _, err := tx.ExecContext(ctx, insertMemberChange, ch.ConversationID, ch.ChangeSeq, string(ch.Kind), ms(ch.At), ch.UserID, ch.MessageID, ch.ReactionKey,
		ch.MemberID, encodeMember(ch.Member)); err != nil {
		return 0, mapErr(op, err)
	}
	if ch.MessageID != "" {
		if _, err := tx.ExecContext(ctx, `UPDATE messages SET change_seq = ? WHERE conversation_id = ? AND message_id = ?`,
			ch.ChangeSeq, ch.ConversationID, ch.MessageID); err != nil {
			return 0, mapErr(op, err)
		}
	}
	return ch.ChangeSeq, nil
}

// insertMemberChange is insertChange with the member of a MEMBER_* change.
const insertMemberChange = `INSERT INTO changes (conversation_id, change_seq, kind, at, user_id, message_id, reaction_key, member_id, member)
	VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`

// liveMessage reads a live message of the conversation through q (a
// write's transaction), with its rowid (its search index key).
func liveMessage(ctx context.Context, q querier, op, conversationID, messageID string) (*confab.Message, int64, error) {
	var rowid int64
	row := q.QueryRowContext(ctx, `SELECT rowid, `+msgColumns+` FROM messages WHERE conversation_id = ? AND message_id = ? AND deleted = 0`, conversationID, messageID)
	m, err := scanMessage(prefixScanner{row, &rowid})
	if errors.Is(err, sql.ErrNoRows) {
		return nil, 0, notFound(op, "message")
	}
	if err != nil {
		return nil, 0, mapErr(op, err)
	}
	return m, rowid, nil
}

// prefixScanner scans its first column into first, the rest as asked.
type prefixScanner struct {
	row   scanner
	first any
}

func (p prefixScanner) Scan(dest ...any) error { return p.row.Scan(append([]any{p.first}, dest...)...) }

// EditMessage implements confab.MessageStore. The version replaced goes to
// message_edits, and the search index swaps the old content for the new
// (FTS5 'delete' takes the content as indexed).
func (s *Store) EditMessage(ctx context.Context, conversationID, messageID, content string, at time.Time) (*confab.Message, error) {
	const op = "edit message"
	tx, err := s.write.BeginTx(ctx, nil)
	if err != nil {
		return nil, mapErr(op, err)
	}
	defer tx.Rollback() // a no-op after Commit; any failure is returned below
	m, rowid, err := liveMessage(ctx, tx, op, conversationID, messageID)
	if err != nil {
		return nil, err
	}
	written := m.CreatedAt
	if m.EditedAt != nil {
		written = *m.EditedAt
	}
	for _, st := range []struct {
		q    string
		args []any
	}{
		{`INSERT INTO message_edits (message_id, content, at, replaced_at) VALUES (?, ?, ?, ?)`, []any{messageID, m.Content, ms(written), ms(at)}},
		{`INSERT INTO messages_fts (messages_fts, rowid, content) VALUES ('delete', ?, ?)`, []any{rowid, m.Content}},
		{`INSERT INTO messages_fts (rowid, content) VALUES (?, ?)`, []any{rowid, content}},
		{`UPDATE messages SET content = ?, edited_at = ?2, updated_at = ?2 WHERE rowid = ?3`, []any{content, ms(at), rowid}},
		// The preview follows when m is the newest live message.
		{`UPDATE conversations SET last_message = ?1 WHERE conversation_id = ?2
			AND NOT EXISTS (SELECT 1 FROM messages WHERE conversation_id = ?2 AND seq > ?3 AND deleted = 0)`,
			[]any{confab.Preview(content), conversationID, m.Seq}},
	} {
		if _, err := tx.ExecContext(ctx, st.q, st.args...); err != nil {
			return nil, mapErr(op, err)
		}
	}
	if _, err := appendChange(ctx, tx, &confab.Change{ConversationID: conversationID, Kind: confab.ChangeMessageEdited, At: at, UserID: m.UserID, MessageID: messageID}); err != nil {
		return nil, err
	}
	m, _, err = liveMessage(ctx, tx, op, conversationID, messageID)
	if err != nil {
		return nil, err
	}
	if err := enqueue(ctx, tx, confab.NewMessageEvent(confab.OutboxMessageEdited, m, at)); err != nil {
		return nil, err
	}
	if err := tx.Commit(); err != nil {
		return nil, mapErr(op, err)
	}
	return m, nil
}

// ListMessageEdits implements confab.MessageStore.
func (s *Store) ListMessageEdits(ctx context.Context, conversationID, messageID string, limit int) ([]*confab.MessageEdit, error) {
	const op = "list message edits"
	rows, err := s.read.QueryContext(ctx, `SELECT e.content, e.at, e.replaced_at FROM message_edits e
		WHERE e.message_id = ? AND EXISTS (SELECT 1 FROM messages m WHERE m.message_id = e.message_id AND m.conversation_id = ?)
		ORDER BY e.rowid DESC LIMIT ?`, messageID, conversationID, max(limit, 0))
	if err != nil {
		return nil, mapErr(op, err)
	}
	defer rows.Close()
	var edits []*confab.MessageEdit
	for rows.Next() {
		var e confab.MessageEdit
		var at, replaced int64
		if err := rows.Scan(&e.Content, &at, &replaced); err != nil {
			return nil, mapErr(op, err)
		}
		e.At, e.ReplacedAt = fromMS(at), fromMS(replaced)
		edits = append(edits, &e)
	}
	return edits, mapErr(op, rows.Err())
}

// ListThread's queries, oldest and newest first. Naming the condition of
// the messages_thread partial index (a parent_id that is not empty) lets
// the planner take it.
const (
	listThreadAfter  = `SELECT ` + msgColumns + ` FROM messages WHERE conversation_id = ? AND parent_id = ? AND parent_id <> '' AND deleted = 0 AND seq > ? ORDER BY seq ASC LIMIT ?`
	listThreadBefore = `SELECT ` + msgColumns + ` FROM messages WHERE conversation_id = ? AND parent_id = ? AND parent_id <> '' AND deleted = 0 AND seq < ? ORDER BY seq DESC LIMIT ?`
)

// ListThread implements confab.MessageStore on the messages_thread index.
func (s *Store) ListThread(ctx context.Context, conversationID, rootID string, p confab.ThreadPage) ([]*confab.Message, error) {
	q, bound := listThreadAfter, p.AfterSeq
	if p.NewestFirst {
		q = listThreadBefore
		if bound = p.BeforeSeq; bound <= 0 {
			bound = 1<<63 - 1
		}
	}
	rows, err := s.read.QueryContext(ctx, q, conversationID, rootID, bound, max(p.Limit, 0))
	if err != nil {
		return nil, mapErr("list thread", err)
	}
	return scanMessages(rows, "list thread")
}

// SearchAllMessages implements confab.MessageStore the way SearchMessages
// does: when the user's conversations hold at most scanMaxSeq messages in
// all, their rows are read and matched here; otherwise messages_fts
// answers (whose prefix queries cost the whole database's matches, see
// SearchMessages), keeping the hits in the user's conversations.
func (s *Store) SearchAllMessages(ctx context.Context, userID, terms, beforeID string, limit int) ([]*confab.Message, error) {
	const op = "search all messages"
	q := ftsQuery(terms)
	if q == "" || limit <= 0 {
		return nil, nil
	}
	var total int64
	if err := s.read.QueryRowContext(ctx, `SELECT coalesce(sum(c.last_seq), 0) FROM members m JOIN conversations c ON c.conversation_id = m.conversation_id
		WHERE m.user_id = ?`, userID).Scan(&total); err != nil {
		return nil, mapErr(op, err)
	}
	if total <= scanMaxSeq && !s.searchIndexOnly {
		return s.scanSearchAll(ctx, userID, terms, beforeID, limit)
	}
	rows, err := s.read.QueryContext(ctx, `SELECT `+msgColumnsOf("m")+`
		FROM messages_fts f JOIN messages m ON m.rowid = f.rowid
		WHERE messages_fts MATCH ?1 AND m.deleted = 0 AND (?3 = '' OR m.message_id < ?3)
			AND m.conversation_id IN (SELECT conversation_id FROM members WHERE user_id = ?2)
		ORDER BY m.message_id DESC LIMIT ?4`, q, userID, beforeID, limit)
	if err != nil {
		return nil, mapErr(op, err)
	}
	return scanMessages(rows, op)
}

// scanSearchAll reads the live messages of the user's conversations newest
// first and keeps those that match terms, up to limit.
func (s *Store) scanSearchAll(ctx context.Context, userID, terms, beforeID string, limit int) ([]*confab.Message, error) {
	const op = "search all messages"
	words := confab.SearchWords(fold.String(terms))
	rows, err := s.read.QueryContext(ctx, `SELECT `+msgColumns+` FROM messages
		WHERE conversation_id IN (SELECT conversation_id FROM members WHERE user_id = ?1) AND deleted = 0 AND (?2 = '' OR message_id < ?2)
		ORDER BY message_id DESC`, userID, beforeID)
	if err != nil {
		return nil, mapErr(op, err)
	}
	defer rows.Close()
	var found []*confab.Message
	for len(found) < limit && rows.Next() {
		m, err := scanMessage(rows)
		if err != nil {
			return nil, mapErr(op, err)
		}
		if matches(m.Content, words) {
			found = append(found, m)
		}
	}
	return found, mapErr(op, rows.Err())
}

// ListChanges implements confab.ChangeStore: the changes by the primary
// key, then their messages as they are now in one read.
func (s *Store) ListChanges(ctx context.Context, conversationID string, afterChange int64, limit int) ([]*confab.Change, error) {
	const op = "list changes"
	rows, err := s.read.QueryContext(ctx, `SELECT change_seq, kind, at, user_id, message_id, reaction_key, member_id, member FROM changes
		WHERE conversation_id = ? AND change_seq > ? ORDER BY change_seq LIMIT ?`, conversationID, afterChange, max(limit, 0))
	if err != nil {
		return nil, mapErr(op, err)
	}
	var changes []*confab.Change
	var ids []any
	for rows.Next() {
		ch := confab.Change{ConversationID: conversationID}
		var kind string
		var at int64
		var member sql.NullString
		err := rows.Scan(&ch.ChangeSeq, &kind, &at, &ch.UserID, &ch.MessageID, &ch.ReactionKey, &ch.MemberID, &member)
		if err == nil {
			ch.Member, err = decodeMember(ch.MemberID, member)
		}
		if err != nil {
			rows.Close()
			return nil, mapErr(op, err)
		}
		ch.Kind, ch.At = confab.ChangeKind(kind), fromMS(at)
		changes = append(changes, &ch)
		if ch.MessageID != "" && !slices.Contains(ids, any(ch.MessageID)) {
			ids = append(ids, ch.MessageID)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, mapErr(op, err)
	}
	if len(ids) == 0 {
		return changes, nil
	}
	rows, err = s.read.QueryContext(ctx, `SELECT `+msgColumns+` FROM messages WHERE message_id IN (`+placeholders(len(ids))+`)`, ids...)
	if err != nil {
		return nil, mapErr(op, err)
	}
	msgs, err := scanMessages(rows, op)
	if err != nil {
		return nil, err
	}
	byID := make(map[string]*confab.Message, len(msgs))
	for _, m := range msgs {
		if m.ConversationID == conversationID {
			byID[m.MessageID] = m
		}
	}
	for _, ch := range changes {
		ch.Message = byID[ch.MessageID]
	}
	return changes, nil
}

// AddReaction implements confab.ChangeStore.
func (s *Store) AddReaction(ctx context.Context, r *confab.Reaction, maxKeys int) (bool, *confab.Message, error) {
	const op = "add reaction"
	return s.react(ctx, op, r, func(tx *sql.Tx) (bool, error) {
		var mine, keyUsed bool
		var keys int
		err := tx.QueryRowContext(ctx, `SELECT
				EXISTS (SELECT 1 FROM reactions WHERE message_id = ?1 AND reaction_key = ?2 AND user_id = ?3),
				EXISTS (SELECT 1 FROM reactions WHERE message_id = ?1 AND reaction_key = ?2),
				(SELECT count(DISTINCT reaction_key) FROM reactions WHERE message_id = ?1)`,
			r.MessageID, r.Key, r.UserID).Scan(&mine, &keyUsed, &keys)
		switch {
		case err != nil:
			return false, mapErr(op, err)
		case mine:
			return false, nil
		case !keyUsed && keys >= maxKeys:
			return false, &confab.Error{Code: confab.CodeLimited, Op: "sqlite: " + op, Err: errors.New("too many reaction keys on the message")}
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO reactions (conversation_id, message_id, reaction_key, user_id, at) VALUES (?, ?, ?, ?, ?)`,
			r.ConversationID, r.MessageID, r.Key, r.UserID, ms(r.At))
		if err == nil {
			err = enqueue(ctx, tx, confab.NewReactionEvent(r))
		}
		return err == nil, mapErr(op, err)
	}, confab.ChangeReactionAdded)
}

// RemoveReaction implements confab.ChangeStore.
func (s *Store) RemoveReaction(ctx context.Context, r *confab.Reaction) (bool, *confab.Message, error) {
	const op = "remove reaction"
	return s.react(ctx, op, r, func(tx *sql.Tx) (bool, error) {
		res, err := tx.ExecContext(ctx, `DELETE FROM reactions WHERE message_id = ? AND reaction_key = ? AND user_id = ?`, r.MessageID, r.Key, r.UserID)
		if err != nil {
			return false, mapErr(op, err)
		}
		n, err := res.RowsAffected()
		return n > 0, mapErr(op, err)
	}, confab.ChangeReactionRemoved)
}

// react runs change, which reports whether it wrote, in one transaction on
// a live message; when it wrote, the change of kind is appended. It returns
// the message afterwards.
func (s *Store) react(ctx context.Context, op string, r *confab.Reaction, change func(*sql.Tx) (bool, error), kind confab.ChangeKind) (bool, *confab.Message, error) {
	tx, err := s.write.BeginTx(ctx, nil)
	if err != nil {
		return false, nil, mapErr(op, err)
	}
	defer tx.Rollback() // a no-op after Commit; any failure is returned below
	m, _, err := liveMessage(ctx, tx, op, r.ConversationID, r.MessageID)
	if err != nil {
		return false, nil, err
	}
	wrote, err := change(tx)
	if err != nil || !wrote {
		return false, m, err
	}
	ch := &confab.Change{ConversationID: r.ConversationID, Kind: kind, At: r.At, UserID: r.UserID, MessageID: r.MessageID, ReactionKey: r.Key}
	if m.ChangeSeq, err = appendChange(ctx, tx, ch); err != nil {
		return false, nil, err
	}
	if err := tx.Commit(); err != nil {
		return false, nil, mapErr(op, err)
	}
	return true, m, nil
}

// ListReactions implements confab.ChangeStore: one read of the page's
// reactions by the primary key, summed up here.
func (s *Store) ListReactions(ctx context.Context, conversationID string, messageIDs []string, userID string, usersPerKey int) (map[string][]confab.ReactionCount, error) {
	const op = "list reactions"
	out := map[string][]confab.ReactionCount{}
	if len(messageIDs) == 0 {
		return out, nil
	}
	args := []any{conversationID}
	for _, id := range messageIDs {
		args = append(args, id)
	}
	rows, err := s.read.QueryContext(ctx, `SELECT message_id, reaction_key, user_id, at FROM reactions
		WHERE conversation_id = ? AND message_id IN (`+placeholders(len(messageIDs))+`) ORDER BY message_id, at, user_id`, args...)
	if err != nil {
		return nil, mapErr(op, err)
	}
	defer rows.Close()
	for rows.Next() {
		var id, key, user string
		var at int64
		if err := rows.Scan(&id, &key, &user, &at); err != nil {
			return nil, mapErr(op, err)
		}
		counts := out[id]
		i := slices.IndexFunc(counts, func(rc confab.ReactionCount) bool { return rc.Key == key })
		if i < 0 {
			counts = append(counts, confab.ReactionCount{Key: key, FirstAt: fromMS(at)})
			i = len(counts) - 1
		}
		rc := &counts[i]
		rc.Count++
		if len(rc.UserIDs) < usersPerKey {
			rc.UserIDs = append(rc.UserIDs, user)
		}
		rc.ByUser = rc.ByUser || user == userID
		out[id] = counts
	}
	if err := rows.Err(); err != nil {
		return nil, mapErr(op, err)
	}
	for _, counts := range out {
		slices.SortStableFunc(counts, func(a, b confab.ReactionCount) int {
			if c := a.FirstAt.Compare(b.FirstAt); c != 0 {
				return c
			}
			return cmp.Compare(a.Key, b.Key)
		})
	}
	return out, nil
}

// MarkThreadRead implements confab.ChangeStore.
func (s *Store) MarkThreadRead(ctx context.Context, conversationID, rootID, userID string, seq int64) error {
	_, err := s.write.ExecContext(ctx, `INSERT INTO thread_reads (conversation_id, root_id, user_id, seq) VALUES (?, ?, ?, ?)
		ON CONFLICT (conversation_id, root_id, user_id) DO UPDATE SET seq = max(seq, excluded.seq)`, conversationID, rootID, userID, seq)
	return mapErr("mark thread read", err)
}

// countUnreadReplies is CountUnreadReplies' query for n roots (?1 the
// conversation, ?2 the user, then the roots), on the messages_thread
// partial index, whose condition it names as ListThread's queries do.
func countUnreadReplies(n int) string {
	return `SELECT m.parent_id, count(*) FROM messages m
		LEFT JOIN thread_reads t ON t.conversation_id = m.conversation_id AND t.root_id = m.parent_id AND t.user_id = ?2
		WHERE m.conversation_id = ?1 AND m.parent_id <> '' AND m.parent_id IN (` + placeholders(n) + `)
			AND m.deleted = 0 AND m.user_id <> ?2 AND m.seq > coalesce(t.seq, 0)
		GROUP BY m.parent_id`
}

// CountUnreadReplies implements confab.ChangeStore on the messages_thread
// index: one read for the page.
func (s *Store) CountUnreadReplies(ctx context.Context, conversationID, userID string, rootIDs []string) (map[string]int, error) {
	const op = "count unread replies"
	out := map[string]int{}
	if len(rootIDs) == 0 {
		return out, nil
	}
	args := []any{conversationID, userID}
	for _, id := range rootIDs {
		args = append(args, id)
	}
	rows, err := s.read.QueryContext(ctx, countUnreadReplies(len(rootIDs)), args...)
	if err != nil {
		return nil, mapErr(op, err)
	}
	defer rows.Close()
	for rows.Next() {
		var id string
		var n int
		if err := rows.Scan(&id, &n); err != nil {
			return nil, mapErr(op, err)
		}
		out[id] = n
	}
	return out, mapErr(op, rows.Err())
}
