package postgres

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/confab-chat/confab"
	"github.com/jackc/pgx/v5"
)

// errDuplicate rolls back an append whose client token is already used.
var errDuplicate = errors.New("postgres: client token already used")

// msgColumns are the columns scanMessage reads, in its order.
const msgColumns = `conversation_id, seq, message_id, user_id, content, message_type, created_at, updated_at, deleted, client_token,
	change_seq, edited_at, mentions, parent_message_id, also_in_conversation, reply_count, last_reply_at, reply_user_ids, deleted_by`

// msgColumnsHit is msgColumns qualified by the alias hit.
var msgColumnsHit = "hit." + strings.Join(strings.Fields(strings.ReplaceAll(msgColumns, ",", " ")), ", hit.")

func scanMessage(row pgx.Row) (*confab.Message, error) {
	var m confab.Message
	var typ string
	if err := row.Scan(&m.ConversationID, &m.Seq, &m.MessageID, &m.UserID, &m.Content, &typ, &m.CreatedAt, &m.UpdatedAt, &m.Deleted, &m.ClientToken,
		&m.ChangeSeq, &m.EditedAt, &m.Mentions, &m.ParentMessageID, &m.AlsoInConversation, &m.ReplyCount, &m.LastReplyAt, &m.ReplyUserIDs, &m.DeletedBy); err != nil {
		return nil, err
	}
	m.MessageType = confab.MessageType(typ)
	m.CreatedAt, m.UpdatedAt = m.CreatedAt.UTC(), utcPtr(m.UpdatedAt)
	m.EditedAt, m.LastReplyAt = utcPtr(m.EditedAt), utcPtr(m.LastReplyAt)
	m.Mentions, m.ReplyUserIDs = nilIfEmpty(m.Mentions), nilIfEmpty(m.ReplyUserIDs)
	return &m, nil
}

// nilIfEmpty returns nil for an empty list, as the rest of confab writes
// "none" (a text[] column reads back as an empty slice).
func nilIfEmpty(s []string) []string {
	if len(s) == 0 {
		return nil
	}
	return s
}

// orEmpty returns s, or an empty list for nil (which pgx would send as
// NULL, refused by a NOT NULL text[] column).
func orEmpty(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func queryMessages(ctx context.Context, q querier, op, sql string, args ...any) ([]*confab.Message, error) {
	rows, err := q.Query(ctx, sql, args...)
	if err != nil {
		return nil, mapErr(op, err)
	}
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

// AppendMessage implements confab.MessageStore in one transaction:
//
//  1. With a ClientToken, look for the stored message first (no lock): a
//     retry returns it without touching the conversation.
//  2. UPDATE the conversation: last_seq+1, last_change_seq+1 (+2 for a
//     reply) and the summary, RETURNING the new seqs. The row lock this
//     takes serialises every writer of the conversation's messages and
//     change log on every node until COMMIT, so both seqs are gapless.
//  3. INSERT the message, and in the same statement its change log
//     entries and mentions and, for a reply, its root's thread summary
//     (one more reply, the newest at m.CreatedAt, m's author first among
//     the repliers, the root's THREAD_UPDATED ChangeSeq). ON CONFLICT on
//     the client-token index catches a retry that raced past step 1; then
//     the transaction is rolled back (so the increments are not kept) and
//     the stored message is returned. A reply whose root is not a live
//     message of the conversation is CodeNotFound, also rolled back.
//
// With m.SlowMode, between 2 and 3 one more UPDATE checks and sets the
// author's last_posted_at (keepSlowMode); without it there is no such
// statement.
func (s *Store) AppendMessage(ctx context.Context, m *confab.Message) (bool, error) {
	const op = "append message"
	at := dbTime(m.CreatedAt)
	var stored *confab.Message
	err := s.inTx(ctx, op, func(tx pgx.Tx) error {
		if m.ClientToken != "" {
			prev, err := findByClientToken(ctx, tx, m)
			if err != nil {
				return err
			}
			if prev != nil {
				stored = prev
				return errDuplicate
			}
		}
		kinds := []string{string(confab.ChangeMessageSent)}
		about := []string{m.MessageID}
		if m.ParentMessageID != "" {
			kinds = append(kinds, string(confab.ChangeThreadUpdated))
			about = append(about, m.ParentMessageID)
		}
		var seq, changeSeq int64
		err := tx.QueryRow(ctx, `UPDATE conversations SET last_seq = last_seq + 1, message_count = message_count + 1,
				last_message = $1, last_message_at = $2, activity_at = $2, last_change_seq = last_change_seq + $4
			WHERE conversation_id = $3 RETURNING last_seq, last_change_seq - $4 + 1`,
			confab.Preview(m.Content), at, m.ConversationID, len(kinds)).Scan(&seq, &changeSeq)
		if errors.Is(err, pgx.ErrNoRows) {
			return notFound("conversation")
		}
		if err != nil {
			return mapErr(op, err)
		}
		if m.SlowMode > 0 {
			if err := keepSlowMode(ctx, tx, m, at); err != nil {
				return err
			}
		}
		var inserted, rootUpdated bool
		err = tx.QueryRow(ctx, `WITH ins AS (
				INSERT INTO messages (conversation_id, seq, message_id, user_id, content, message_type, created_at, updated_at,
					client_token, search, change_seq, mentions, parent_message_id, also_in_conversation)
				VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, array_to_tsvector($10::text[]), $11, $12, $13, $14)
				ON CONFLICT (conversation_id, user_id, client_token) WHERE client_token <> '' DO NOTHING
				RETURNING conversation_id, seq, user_id),
			ch AS (
				INSERT INTO changes (conversation_id, change_seq, kind, at, user_id, message_id)
				SELECT ins.conversation_id, $11 + k.n - 1, k.kind, $7, ins.user_id, k.message_id
				FROM ins, unnest($15::text[], $16::text[]) WITH ORDINALITY AS k (kind, message_id, n)),
			mn AS (
				INSERT INTO mentions (conversation_id, seq, user_id)
				SELECT DISTINCT ins.conversation_id, ins.seq, u FROM ins, unnest($12::text[]) AS u WHERE u <> ins.user_id),
			root AS (
				UPDATE messages SET reply_count = reply_count + 1, last_reply_at = $7,
					reply_user_ids = (ARRAY[$4::text] || array_remove(reply_user_ids, $4::text))[1:$17], change_seq = $11 + 1
				WHERE $13 <> '' AND conversation_id = $1 AND message_id = $13 AND NOT deleted RETURNING 1)
			SELECT EXISTS (SELECT 1 FROM ins), EXISTS (SELECT 1 FROM root)`,
			m.ConversationID, seq, m.MessageID, m.UserID, m.Content, string(m.MessageType), at,
			dbTimePtr(m.UpdatedAt), m.ClientToken, lexemes(m.Content), changeSeq, orEmpty(m.Mentions),
			m.ParentMessageID, m.AlsoInConversation, kinds, about, confab.MaxReplyUsers).Scan(&inserted, &rootUpdated)
		if err != nil {
			return mapErr(op, err)
		}
		if !inserted {
			return errDuplicate // stored is read after the rollback
		}
		if m.ParentMessageID != "" && !rootUpdated {
			return notFound("thread root") // the rollback undoes the rest
		}
		m.Seq, m.ChangeSeq = seq, changeSeq
		return enqueue(ctx, tx, confab.NewMessageEvent(confab.OutboxMessageSent, m, m.CreatedAt))
	})
	if errors.Is(err, errDuplicate) {
		if stored == nil {
			if stored, err = findByClientToken(ctx, s.pool, m); err != nil {
				return false, err
			}
			if stored == nil {
				// ON CONFLICT saw a committed row, which only a purge
				// (retention) can have removed since.
				return false, fmt.Errorf("postgres: %s: message with the conflicting client token not found", op)
			}
		}
		*m = *stored
		return false, nil
	}
	if err != nil {
		return false, err
	}
	return true, nil
}

// keepSlowMode sets the author's last_posted_at to at when their previous
// post in slow mode is at least m.SlowMode before at, and otherwise fails
// CodeLimited (the caller rolls back). The caller holds the conversation's
// row lock, so two sends of one member cannot both pass.
func keepSlowMode(ctx context.Context, tx pgx.Tx, m *confab.Message, at time.Time) error {
	tag, err := tx.Exec(ctx, `UPDATE members SET last_posted_at = $3
		WHERE conversation_id = $1 AND user_id = $2 AND (last_posted_at IS NULL OR last_posted_at <= $4)`,
		m.ConversationID, m.UserID, at, at.Add(-m.SlowMode))
	if err != nil {
		return mapErr("append message", err)
	}
	if tag.RowsAffected() == 0 {
		return &confab.Error{Code: confab.CodeLimited, Op: "append message", Err: errors.New("postgres: slow mode: the member posted too recently")}
	}
	return nil
}

// findByClientToken returns the message of m's conversation and user with
// m's ClientToken, or nil when there is none.
func findByClientToken(ctx context.Context, q querier, m *confab.Message) (*confab.Message, error) {
	prev, err := scanMessage(q.QueryRow(ctx, `SELECT `+msgColumns+` FROM messages
		WHERE conversation_id = $1 AND user_id = $2 AND client_token = $3`,
		m.ConversationID, m.UserID, m.ClientToken))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, mapErr("append message", err)
	}
	return prev, nil
}

// GetMessage implements confab.MessageStore.
func (s *Store) GetMessage(ctx context.Context, conversationID, messageID string) (*confab.Message, error) {
	return getMessage(ctx, s.pool, "get message", conversationID, messageID)
}

func getMessage(ctx context.Context, q querier, op, conversationID, messageID string) (*confab.Message, error) {
	m, err := scanMessage(q.QueryRow(ctx, `SELECT `+msgColumns+` FROM messages
		WHERE message_id = $1 AND conversation_id = $2 AND NOT deleted`, messageID, conversationID))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, notFound("message")
	}
	if err != nil {
		return nil, mapErr(op, err)
	}
	return m, nil
}

// DeleteMessage implements confab.MessageStore. It locks the conversation
// row first, as AppendMessage does, so the two never deadlock, a
// concurrent append cannot slip between the delete and the new preview,
// and the change seqs taken here stay gapless. activity_at follows the new
// LastMessageAt (CreatedAt when no live message is left), so list cursors,
// built from those fields, stay valid. The message's mentions go (they
// count only live messages); its edits and reactions stay until it is
// purged. The changes are by byUserID ("" is the author); a moderator's
// id stays with the tombstone (deleted_by).
func (s *Store) DeleteMessage(ctx context.Context, conversationID, messageID, byUserID string, at time.Time) (*confab.Message, *confab.Conversation, error) {
	const op = "delete message"
	var m *confab.Message
	var c *confab.Conversation
	err := s.inTx(ctx, op, func(tx pgx.Tx) error {
		lastChange, err := lockConversation(ctx, tx, op, conversationID, "message")
		if err != nil {
			return err
		}
		m, err = scanMessage(tx.QueryRow(ctx, `SELECT `+msgColumns+` FROM messages
			WHERE message_id = $1 AND conversation_id = $2 AND NOT deleted`, messageID, conversationID))
		if errors.Is(err, pgx.ErrNoRows) {
			return notFound("message")
		}
		if err != nil {
			return mapErr(op, err)
		}
		m.ChangeSeq = lastChange + 1
		by := m.UserID
		if byUserID != "" && byUserID != m.UserID {
			m.DeletedBy, by = byUserID, byUserID
		}
		changes := []change{{conversationID: conversationID, seq: m.ChangeSeq, kind: confab.ChangeMessageDeleted, at: at, userID: by, messageID: m.MessageID}}
		if _, err := tx.Exec(ctx, `UPDATE messages SET deleted = true, updated_at = $1, search = NULL, change_seq = $4, deleted_by = $5
			WHERE conversation_id = $2 AND seq = $3`, dbTime(at), conversationID, m.Seq, m.ChangeSeq, m.DeletedBy); err != nil {
			return mapErr(op, err)
		}
		if len(m.Mentions) > 0 {
			if _, err := tx.Exec(ctx, `DELETE FROM mentions WHERE conversation_id = $1 AND seq = $2`, conversationID, m.Seq); err != nil {
				return mapErr(op, err)
			}
		}
		if m.ParentMessageID != "" {
			removed, err := removeReply(ctx, tx, m, m.ChangeSeq+1)
			if err != nil {
				return err
			}
			if removed {
				changes = append(changes, change{conversationID: conversationID, seq: m.ChangeSeq + 1, kind: confab.ChangeThreadUpdated, at: at, userID: by, messageID: m.ParentMessageID})
			}
		}
		if err := appendChanges(ctx, tx, op, changes...); err != nil {
			return err
		}
		if err := enqueue(ctx, tx, confab.NewMessageEvent(confab.OutboxMessageDeleted, m, at)); err != nil {
			return err
		}
		c, err = scanConversation(tx.QueryRow(ctx, `UPDATE conversations c SET message_count = c.message_count - 1,
				last_message = n.preview, last_message_at = n.created_at, activity_at = coalesce(n.created_at, c.created_at),
				last_change_seq = $3
			FROM (SELECT 1) AS one
			LEFT JOIN LATERAL (SELECT left(content, $2) AS preview, created_at FROM messages
				WHERE conversation_id = $1 AND NOT deleted ORDER BY seq DESC LIMIT 1) AS n ON true
			WHERE c.conversation_id = $1 RETURNING `+convColumnsC,
			conversationID, confab.MaxLastMessageLength, changes[len(changes)-1].seq))
		if err != nil {
			return mapErr(op, err)
		}
		return loadMembers(ctx, tx, []*confab.Conversation{c})
	})
	if err != nil {
		return nil, nil, err
	}
	return m, c, nil
}

// lockConversation takes the conversation's row lock, which serialises
// every writer of its messages and change log, and returns its
// LastChangeSeq. A missing conversation is CodeNotFound for what.
func lockConversation(ctx context.Context, tx pgx.Tx, op, conversationID, what string) (int64, error) {
	var lastChange int64
	err := tx.QueryRow(ctx, `SELECT last_change_seq FROM conversations WHERE conversation_id = $1 FOR UPDATE`,
		conversationID).Scan(&lastChange)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, notFound(what)
	}
	if err != nil {
		return 0, mapErr(op, err)
	}
	return lastChange, nil
}

// removeReply updates the thread summary of deleted reply m's root: one
// reply fewer and the root's ChangeSeq (LastReplyAt and ReplyUserIDs stay,
// as on the other stores). It reports false when the root is gone
// (purged), so there is no THREAD_UPDATED to log.
func removeReply(ctx context.Context, tx pgx.Tx, m *confab.Message, changeSeq int64) (bool, error) {
	tag, err := tx.Exec(ctx, `UPDATE messages SET reply_count = greatest(reply_count - 1, 0), change_seq = $3
		WHERE conversation_id = $1 AND message_id = $2`,
		m.ConversationID, m.ParentMessageID, changeSeq)
	if err != nil {
		return false, mapErr("delete message", err)
	}
	return tag.RowsAffected() > 0, nil
}

// ListMessages implements confab.MessageStore.
func (s *Store) ListMessages(ctx context.Context, conversationID string, beforeSeq int64, limit int) ([]*confab.Message, error) {
	if beforeSeq <= 0 {
		beforeSeq = math.MaxInt64
	}
	return queryMessages(ctx, s.pool, "list messages", `SELECT `+msgColumns+` FROM messages
		WHERE conversation_id = $1 AND seq < $2 AND NOT deleted AND (parent_message_id = '' OR also_in_conversation)
		ORDER BY seq DESC LIMIT $3`,
		conversationID, beforeSeq, max(limit, 0))
}

// ListMessagesAfter implements confab.MessageStore.
func (s *Store) ListMessagesAfter(ctx context.Context, conversationID string, afterSeq int64, limit int) ([]*confab.Message, error) {
	return queryMessages(ctx, s.pool, "list messages after", `SELECT `+msgColumns+` FROM messages
		WHERE conversation_id = $1 AND seq > $2 ORDER BY seq ASC LIMIT $3`,
		conversationID, afterSeq, max(limit, 0))
}

// SearchMessages implements confab.MessageStore. terms is cut into words
// and folded in Go (search.go); each word becomes a quoted prefix lexeme of
// a tsquery, so no input character is ever query syntax.
func (s *Store) SearchMessages(ctx context.Context, conversationID, terms string, limit int) ([]*confab.Message, error) {
	q := tsquery(terms)
	if q == "" {
		return nil, nil
	}
	return queryMessages(ctx, s.pool, "search messages", `SELECT `+msgColumns+` FROM messages
		WHERE conversation_id = $1 AND NOT deleted AND search @@ $2::tsquery ORDER BY seq DESC LIMIT $3`,
		conversationID, q, max(limit, 0))
}

// SearchAllMessages implements confab.MessageStore: SearchMessages over
// the conversations of userID's memberships, newest first by message id.
// Each conversation gives at most a page (LATERAL); the pages are merged.
// Within a conversation PostgreSQL chooses between the word index and the
// conversation's rows; its estimate for prefix queries is coarse, so a
// word that matches most of a large conversation can cost a pass over
// those matches (0.3 s for 100,000 in EXPLAIN ANALYZE on a loaded test
// machine), where a rare word costs little.
func (s *Store) SearchAllMessages(ctx context.Context, userID, terms, beforeID string, limit int) ([]*confab.Message, error) {
	q := tsquery(terms)
	if q == "" || limit <= 0 {
		return nil, nil
	}
	return queryMessages(ctx, s.pool, "search all messages", `SELECT `+msgColumnsHit+` FROM members mb
		CROSS JOIN LATERAL (SELECT * FROM messages m
			WHERE m.conversation_id = mb.conversation_id
			  AND NOT m.deleted AND m.search @@ $2::tsquery AND ($3 = '' OR m.message_id < $3)
			ORDER BY m.message_id DESC LIMIT $4) AS hit
		WHERE mb.user_id = $1
		ORDER BY hit.message_id DESC LIMIT $4`,
		userID, q, beforeID, limit)
}

// PurgeMessages implements confab.MessageStore in one transaction:
//
//  1. Read the keys (conversation_id, seq) of the oldest limit messages,
//     walking messages_created_at.
//  2. Lock their conversations' rows, in id order. AppendMessage and
//     DeleteMessage lock a conversation's row before touching its
//     messages, so taking the rows first cannot deadlock with them, and the
//     one order keeps purges on several nodes from deadlocking each other.
//  3. DELETE those keys (seqs are never reused, so a key names one message
//     for good; one another node purged meanwhile is just not found),
//     RETURNING whether each was live. A row's search tsvector goes with it,
//     and its edits, mentions and change log entries by their foreign
//     keys' ON DELETE CASCADE; its reactions and (for a root) thread read
//     marks are deleted next, by their keys.
//  4. UPDATE each conversation's count and preview, in a statement of its
//     own so that it sees the deletion.
func (s *Store) PurgeMessages(ctx context.Context, before time.Time, limit int) (int, error) {
	const op = "purge messages"
	if limit <= 0 {
		return 0, nil
	}
	cut := msCeil(before)
	removed := 0
	err := s.inTx(ctx, op, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, `SELECT conversation_id, seq FROM messages WHERE created_at < $1
			ORDER BY created_at, conversation_id, seq LIMIT $2`, cut, limit)
		if err != nil {
			return mapErr(op, err)
		}
		var convIDs []string
		var seqs []int64
		var id string
		var seq int64
		if _, err := pgx.ForEachRow(rows, []any{&id, &seq}, func() error {
			convIDs, seqs = append(convIDs, id), append(seqs, seq)
			return nil
		}); err != nil {
			return mapErr(op, err)
		}
		if len(convIDs) == 0 {
			return nil
		}
		if _, err := tx.Exec(ctx, `SELECT 1 FROM conversations WHERE conversation_id = ANY($1)
			ORDER BY conversation_id FOR UPDATE`, convIDs); err != nil {
			return mapErr(op, err)
		}
		rows, err = tx.Query(ctx, `DELETE FROM messages m USING unnest($1::text[], $2::bigint[]) AS k (conversation_id, seq)
			WHERE m.conversation_id = k.conversation_id AND m.seq = k.seq
			RETURNING m.conversation_id, m.deleted, m.message_id`, convIDs, seqs)
		if err != nil {
			return mapErr(op, err)
		}
		live := make(map[string]int)
		var deleted bool
		var msgID string
		var goneConvs, goneIDs []string
		_, err = pgx.ForEachRow(rows, []any{&id, &deleted, &msgID}, func() error {
			removed++
			goneConvs, goneIDs = append(goneConvs, id), append(goneIDs, msgID)
			n := live[id] // every conversation touched is updated, even with tombstones only
			if !deleted {
				n++
			}
			live[id] = n
			return nil
		})
		if err != nil {
			return mapErr(op, err)
		}
		if _, err := tx.Exec(ctx, `DELETE FROM reactions r USING unnest($1::text[], $2::text[]) AS k (conversation_id, message_id)
			WHERE r.conversation_id = k.conversation_id AND r.message_id = k.message_id`, goneConvs, goneIDs); err != nil {
			return mapErr(op, err)
		}
		if _, err := tx.Exec(ctx, `DELETE FROM thread_reads t USING unnest($1::text[], $2::text[]) AS k (conversation_id, root_id)
			WHERE t.conversation_id = k.conversation_id AND t.root_id = k.root_id`, goneConvs, goneIDs); err != nil {
			return mapErr(op, err)
		}
		ids := make([]string, 0, len(live))
		counts := make([]int, 0, len(live))
		for id, n := range live {
			ids, counts = append(ids, id), append(counts, n)
		}
		_, err = tx.Exec(ctx, `UPDATE conversations c SET message_count = c.message_count - d.live,
				last_message = (SELECT left(m.content, $3) FROM messages m
					WHERE m.conversation_id = c.conversation_id AND NOT m.deleted ORDER BY m.seq DESC LIMIT 1)
			FROM unnest($1::text[], $2::int[]) AS d (conversation_id, live)
			WHERE c.conversation_id = d.conversation_id`, ids, counts, confab.MaxLastMessageLength)
		return mapErr(op, err)
	})
	if err != nil {
		return 0, err
	}
	return removed, nil
}

// msCeil rounds a bound up to the stored millisecond precision, so that
// created_at < msCeil(t) holds exactly for the stored times before t.
func msCeil(t time.Time) time.Time {
	c := t.Truncate(time.Millisecond)
	if c.Before(t) {
		c = c.Add(time.Millisecond)
	}
	return c.UTC()
}
