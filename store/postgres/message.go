package postgres

import (
	"context"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/confab-chat/confab"
	"github.com/jackc/pgx/v5"
)

// errDuplicate rolls back an append whose client token is already used.
var errDuplicate = errors.New("postgres: client token already used")

const msgColumns = `conversation_id, seq, message_id, user_id, content, message_type, created_at, updated_at, deleted, client_token`

func scanMessage(row pgx.Row) (*confab.Message, error) {
	var m confab.Message
	var typ string
	if err := row.Scan(&m.ConversationID, &m.Seq, &m.MessageID, &m.UserID, &m.Content, &typ, &m.CreatedAt, &m.UpdatedAt, &m.Deleted, &m.ClientToken); err != nil {
		return nil, err
	}
	m.MessageType = confab.MessageType(typ)
	m.CreatedAt, m.UpdatedAt = m.CreatedAt.UTC(), utcPtr(m.UpdatedAt)
	return &m, nil
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
//  2. UPDATE the conversation: last_seq+1 and the summary, RETURNING the
//     new seq. The row lock this takes serialises every sender of the
//     conversation on every node until COMMIT, so seq is gapless.
//  3. INSERT the message. ON CONFLICT on the client-token index catches a
//     retry that raced past step 1; then the transaction is rolled back (so
//     the seq increment is not kept) and the stored message is returned.
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
		var seq int64
		err := tx.QueryRow(ctx, `UPDATE conversations SET last_seq = last_seq + 1, message_count = message_count + 1,
				last_message = $1, last_message_at = $2, activity_at = $2
			WHERE conversation_id = $3 RETURNING last_seq`,
			confab.Preview(m.Content), at, m.ConversationID).Scan(&seq)
		if errors.Is(err, pgx.ErrNoRows) {
			return notFound("conversation")
		}
		if err != nil {
			return mapErr(op, err)
		}
		tag, err := tx.Exec(ctx, `INSERT INTO messages (`+msgColumns+`, search)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, false, $9, array_to_tsvector($10::text[]))
			ON CONFLICT (conversation_id, user_id, client_token) WHERE client_token <> '' DO NOTHING`,
			m.ConversationID, seq, m.MessageID, m.UserID, m.Content, string(m.MessageType), at,
			dbTimePtr(m.UpdatedAt), m.ClientToken, lexemes(m.Content))
		if err != nil {
			return mapErr(op, err)
		}
		if tag.RowsAffected() == 0 {
			return errDuplicate // stored is read after the rollback
		}
		m.Seq = seq
		return nil
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
	m, err := scanMessage(s.pool.QueryRow(ctx, `SELECT `+msgColumns+` FROM messages
		WHERE message_id = $1 AND conversation_id = $2 AND NOT deleted`, messageID, conversationID))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, notFound("message")
	}
	if err != nil {
		return nil, mapErr("get message", err)
	}
	return m, nil
}

// DeleteMessage implements confab.MessageStore. It locks the conversation
// row first, as AppendMessage does, so the two never deadlock and a
// concurrent append cannot slip between the delete and the new preview.
// activity_at follows the new LastMessageAt (CreatedAt when no live
// message is left), so list cursors, built from those fields, stay valid.
func (s *Store) DeleteMessage(ctx context.Context, conversationID, messageID string, at time.Time) (*confab.Message, *confab.Conversation, error) {
	const op = "delete message"
	var m *confab.Message
	var c *confab.Conversation
	err := s.inTx(ctx, op, func(tx pgx.Tx) error {
		var one int
		err := tx.QueryRow(ctx, `SELECT 1 FROM conversations WHERE conversation_id = $1 FOR UPDATE`, conversationID).Scan(&one)
		if errors.Is(err, pgx.ErrNoRows) {
			return notFound("message")
		}
		if err != nil {
			return mapErr(op, err)
		}
		m, err = scanMessage(tx.QueryRow(ctx, `SELECT `+msgColumns+` FROM messages
			WHERE message_id = $1 AND conversation_id = $2 AND NOT deleted`, messageID, conversationID))
		if errors.Is(err, pgx.ErrNoRows) {
			return notFound("message")
		}
		if err != nil {
			return mapErr(op, err)
		}
		if _, err := tx.Exec(ctx, `UPDATE messages SET deleted = true, updated_at = $1, search = NULL
			WHERE conversation_id = $2 AND seq = $3`, dbTime(at), conversationID, m.Seq); err != nil {
			return mapErr(op, err)
		}
		c, err = scanConversation(tx.QueryRow(ctx, `UPDATE conversations c SET message_count = c.message_count - 1,
				last_message = n.preview, last_message_at = n.created_at, activity_at = coalesce(n.created_at, c.created_at)
			FROM (SELECT 1) AS one
			LEFT JOIN LATERAL (SELECT left(content, $2) AS preview, created_at FROM messages
				WHERE conversation_id = $1 AND NOT deleted ORDER BY seq DESC LIMIT 1) AS n ON true
			WHERE c.conversation_id = $1 RETURNING `+convColumnsC,
			conversationID, confab.MaxLastMessageLength))
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

// ListMessages implements confab.MessageStore.
func (s *Store) ListMessages(ctx context.Context, conversationID string, beforeSeq int64, limit int) ([]*confab.Message, error) {
	if beforeSeq <= 0 {
		beforeSeq = math.MaxInt64
	}
	return queryMessages(ctx, s.pool, "list messages", `SELECT `+msgColumns+` FROM messages
		WHERE conversation_id = $1 AND seq < $2 AND NOT deleted ORDER BY seq DESC LIMIT $3`,
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
//     RETURNING whether each was live. A row's search tsvector goes with it.
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
			RETURNING m.conversation_id, m.deleted`, convIDs, seqs)
		if err != nil {
			return mapErr(op, err)
		}
		live := make(map[string]int)
		var deleted bool
		_, err = pgx.ForEachRow(rows, []any{&id, &deleted}, func() error {
			removed++
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
