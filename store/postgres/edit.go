package postgres

import (
	"context"
	"errors"
	"time"

	"github.com/confab-chat/confab"
	"github.com/jackc/pgx/v5"
)

// EditMessage implements confab.MessageStore in one transaction of two
// statements, so that the conversation's row lock, which every writer of
// its log waits for, is held for two round trips: the lock, then one
// statement that keeps the old version in message_edits, rewrites the
// message (content, search lexemes, times, ChangeSeq), appends
// MESSAGE_EDITED, and raises the conversation's LastChangeSeq, moving its
// preview only when no live message is newer; then the message.edited
// outbox event (a third statement, on no contended row). A message that is not live
// updates nothing (no row), which is CodeNotFound.
func (s *Store) EditMessage(ctx context.Context, conversationID, messageID, content string, at time.Time) (*confab.Message, error) {
	const op = "edit message"
	at = dbTime(at)
	var m *confab.Message
	err := s.inTx(ctx, op, func(tx pgx.Tx) error {
		lastChange, err := lockConversation(ctx, tx, op, conversationID, "message")
		if err != nil {
			return err
		}
		m, err = scanMessage(tx.QueryRow(ctx, `WITH old AS (
				SELECT message_id AS old_id, seq AS old_seq, user_id AS author, content AS old_content,
					coalesce(edited_at, created_at) AS old_at
				FROM messages WHERE conversation_id = $1 AND message_id = $2 AND NOT deleted),
			kept AS (
				INSERT INTO message_edits (message_id, content, written_at, replaced_at)
				SELECT old_id, old_content, old_at, $4 FROM old),
			ch AS (
				INSERT INTO changes (conversation_id, change_seq, kind, at, user_id, message_id)
				SELECT $1, $6, $8, $4, author, old_id FROM old),
			cv AS (
				UPDATE conversations c SET last_change_seq = $6,
					last_message = CASE WHEN EXISTS (SELECT 1 FROM messages n
						WHERE n.conversation_id = $1 AND n.seq > old.old_seq AND NOT n.deleted) THEN c.last_message ELSE $7 END
				FROM old WHERE c.conversation_id = $1)
			UPDATE messages SET content = $3, search = array_to_tsvector($5::text[]),
				edited_at = $4, updated_at = $4, change_seq = $6
			FROM old WHERE message_id = old_id
			RETURNING `+msgColumns,
			conversationID, messageID, content, at, lexemes(content), lastChange+1, confab.Preview(content),
			string(confab.ChangeMessageEdited)))
		if errors.Is(err, pgx.ErrNoRows) {
			return notFound("message")
		}
		if err != nil {
			return mapErr(op, err)
		}
		return enqueue(ctx, tx, confab.NewMessageEvent(confab.OutboxMessageEdited, m, at))
	})
	if err != nil {
		return nil, err
	}
	return m, nil
}

// ListMessageEdits implements confab.MessageStore, newest first by the
// order the edits were made.
func (s *Store) ListMessageEdits(ctx context.Context, conversationID, messageID string, limit int) ([]*confab.MessageEdit, error) {
	const op = "list message edits"
	if limit <= 0 {
		return nil, nil
	}
	rows, err := s.pool.Query(ctx, `SELECT e.content, e.written_at, e.replaced_at
		FROM message_edits e JOIN messages m ON m.message_id = e.message_id
		WHERE e.message_id = $2 AND m.conversation_id = $1
		ORDER BY e.edit_id DESC LIMIT $3`, conversationID, messageID, limit)
	if err != nil {
		return nil, mapErr(op, err)
	}
	var edits []*confab.MessageEdit
	var e confab.MessageEdit
	_, err = pgx.ForEachRow(rows, []any{&e.Content, &e.At, &e.ReplacedAt}, func() error {
		edits = append(edits, &confab.MessageEdit{Content: e.Content, At: e.At.UTC(), ReplacedAt: e.ReplacedAt.UTC()})
		return nil
	})
	if err != nil {
		return nil, mapErr(op, err)
	}
	return edits, nil
}
