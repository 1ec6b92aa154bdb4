package postgres

import (
	"context"
	"errors"
	"time"

	"github.com/confab-chat/confab"
	"github.com/jackc/pgx/v5"
)

const convColumns = `conversation_id, name, created_by, created_at, updated_at, last_message, last_message_at, message_count, last_seq, last_change_seq`

// convColumnsC is convColumns qualified by the alias c.
const convColumnsC = `c.conversation_id, c.name, c.created_by, c.created_at, c.updated_at, c.last_message, c.last_message_at, c.message_count, c.last_seq, c.last_change_seq`

func scanConversation(row pgx.Row) (*confab.Conversation, error) {
	var c confab.Conversation
	if err := row.Scan(&c.ConversationID, &c.Name, &c.CreatedBy, &c.CreatedAt, &c.UpdatedAt, &c.LastMessage, &c.LastMessageAt, &c.MessageCount, &c.LastSeq, &c.LastChangeSeq); err != nil {
		return nil, err
	}
	c.CreatedAt = c.CreatedAt.UTC()
	c.UpdatedAt, c.LastMessageAt = utcPtr(c.UpdatedAt), utcPtr(c.LastMessageAt)
	return &c, nil
}

// InsertConversation implements confab.ConversationStore: the conversation
// and all its members in one transaction. A member that is not a user
// violates the foreign key, which is CodeNotFound.
func (s *Store) InsertConversation(ctx context.Context, c *confab.Conversation) error {
	const op = "insert conversation"
	users := make([]string, len(c.Members))
	joined := make([]time.Time, len(c.Members))
	lastRead := make([]int64, len(c.Members))
	for i, m := range c.Members {
		users[i], joined[i], lastRead[i] = m.UserID, dbTime(m.JoinedAt), m.LastReadSeq
	}
	return s.inTx(ctx, op, func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `INSERT INTO conversations (`+convColumns+`, activity_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
			c.ConversationID, c.Name, c.CreatedBy, dbTime(c.CreatedAt), dbTimePtr(c.UpdatedAt), c.LastMessage,
			dbTimePtr(c.LastMessageAt), c.MessageCount, c.LastSeq, c.LastChangeSeq, dbTime(c.ActivityAt()))
		if err != nil {
			return mapErr(op, err)
		}
		_, err = tx.Exec(ctx, `INSERT INTO members (conversation_id, user_id, joined_at, last_read_seq)
			SELECT $1, u, j, r FROM unnest($2::text[], $3::timestamptz[], $4::bigint[]) AS t (u, j, r)`,
			c.ConversationID, users, joined, lastRead)
		if err := mapErr("insert members", err); err != nil {
			if confab.ErrorCode(err) == confab.CodeNotFound {
				return &confab.Error{Code: confab.CodeNotFound, Op: op, Err: err}
			}
			return err
		}
		return enqueue(ctx, tx, confab.NewConversationEvent(confab.OutboxConversationCreated, c, c.CreatedAt))
	})
}

// GetConversation implements confab.ConversationStore.
func (s *Store) GetConversation(ctx context.Context, conversationID string) (*confab.Conversation, error) {
	return getConversation(ctx, s.pool, conversationID)
}

func getConversation(ctx context.Context, q querier, conversationID string) (*confab.Conversation, error) {
	c, err := scanConversation(q.QueryRow(ctx, `SELECT `+convColumns+` FROM conversations WHERE conversation_id = $1`, conversationID))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, notFound("conversation")
	}
	if err != nil {
		return nil, mapErr("get conversation", err)
	}
	if err := loadMembers(ctx, q, []*confab.Conversation{c}); err != nil {
		return nil, err
	}
	return c, nil
}

// loadMembers fills Members of every conversation with one query, ordered
// by JoinedAt, then UserID. UnreadMentions is counted from the mentions
// index above each member's read mark (a deleted message's rows are gone).
func loadMembers(ctx context.Context, q querier, convs []*confab.Conversation) error {
	if len(convs) == 0 {
		return nil
	}
	byID := make(map[string]*confab.Conversation, len(convs))
	ids := make([]string, len(convs))
	for i, c := range convs {
		byID[c.ConversationID] = c
		ids[i] = c.ConversationID
	}
	rows, err := q.Query(ctx, `SELECT m.conversation_id, m.user_id, m.joined_at, m.last_read_seq, m.last_read_at,
			(SELECT count(*) FROM mentions n
				WHERE n.conversation_id = m.conversation_id AND n.user_id = m.user_id AND n.seq > m.last_read_seq)
		FROM members m
		WHERE m.conversation_id = ANY($1) ORDER BY m.conversation_id, m.joined_at, m.user_id`, ids)
	if err != nil {
		return mapErr("load members", err)
	}
	defer rows.Close()
	for rows.Next() {
		var cid string
		var m confab.Member
		if err := rows.Scan(&cid, &m.UserID, &m.JoinedAt, &m.LastReadSeq, &m.LastReadAt, &m.UnreadMentions); err != nil {
			return mapErr("load members", err)
		}
		m.JoinedAt, m.LastReadAt = m.JoinedAt.UTC(), utcPtr(m.LastReadAt)
		byID[cid].Members = append(byID[cid].Members, m)
	}
	return mapErr("load members", rows.Err())
}

// UpdateConversation implements confab.ConversationStore. The UPDATE takes
// the conversation's row lock, which serialises it with every other writer
// of the change log, and appends CONVERSATION_UPDATED by userID.
func (s *Store) UpdateConversation(ctx context.Context, conversationID, userID string, u confab.ConversationUpdate, at time.Time) (*confab.Conversation, error) {
	name := u.Name // TODO(#15): Settings, Archived
	const op = "update conversation"
	var c *confab.Conversation
	err := s.inTx(ctx, op, func(tx pgx.Tx) error {
		var err error
		c, err = scanConversation(tx.QueryRow(ctx, `UPDATE conversations
			SET name = CASE WHEN $1 THEN $2::text ELSE name END, updated_at = $3, last_change_seq = last_change_seq + 1
			WHERE conversation_id = $4 RETURNING `+convColumns,
			name != nil, name, dbTime(at), conversationID))
		if errors.Is(err, pgx.ErrNoRows) {
			return notFound("conversation")
		}
		if err != nil {
			return mapErr(op, err)
		}
		err = appendChanges(ctx, tx, op, change{conversationID, c.LastChangeSeq, confab.ChangeConversationUpdated, at, userID, "", ""})
		if err != nil {
			return err
		}
		if err := loadMembers(ctx, tx, []*confab.Conversation{c}); err != nil {
			return err
		}
		return enqueue(ctx, tx, confab.NewConversationEvent(confab.OutboxConversationUpdated, c, at))
	})
	if err != nil {
		return nil, err
	}
	return c, nil
}

// ListConversations implements confab.ConversationStore. The page comes
// from the members index by user, ordered by the stored activity_at
// (always coalesce(last_message_at, created_at), the value a cursor is
// built from); the page's members come in one more query.
func (s *Store) ListConversations(ctx context.Context, userID string, p confab.ConversationPage) ([]*confab.Conversation, error) {
	const op = "list conversations"
	var afterAt *time.Time
	var afterID string
	if p.After != nil {
		at := dbTime(p.After.ActivityAt)
		afterAt, afterID = &at, p.After.ConversationID
	}
	rows, err := s.pool.Query(ctx, `SELECT `+convColumnsC+`
		FROM members m JOIN conversations c ON c.conversation_id = m.conversation_id
		WHERE m.user_id = $1
		  AND ($2::timestamptz IS NULL OR c.activity_at < $2 OR (c.activity_at = $2 AND c.conversation_id > $3))
		ORDER BY c.activity_at DESC, c.conversation_id ASC LIMIT $4`,
		userID, afterAt, afterID, max(p.Limit, 0))
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
	if err := loadMembers(ctx, s.pool, convs); err != nil {
		return nil, err
	}
	return convs, nil
}

// ListConversationIDs implements confab.ConversationStore.
func (s *Store) ListConversationIDs(ctx context.Context, userID string, limit int) ([]string, error) {
	const op = "list conversation ids"
	rows, err := s.pool.Query(ctx, `SELECT conversation_id FROM members WHERE user_id = $1 ORDER BY conversation_id LIMIT $2`,
		userID, max(limit, 0))
	if err != nil {
		return nil, mapErr(op, err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, mapErr(op, err)
	}
	return ids, nil
}

// MarkRead implements confab.ConversationStore. Both SET expressions see
// the row as it was, so last_read_at moves only with a rising mark.
func (s *Store) MarkRead(ctx context.Context, conversationID, userID string, seq int64, at time.Time) error {
	tag, err := s.pool.Exec(ctx, `UPDATE members SET last_read_seq = greatest(last_read_seq, $3),
			last_read_at = CASE WHEN $3 > last_read_seq THEN $4 ELSE last_read_at END
		WHERE conversation_id = $1 AND user_id = $2`, conversationID, userID, seq, dbTime(at))
	if err != nil {
		return mapErr("mark read", err)
	}
	if tag.RowsAffected() == 0 {
		return notFound("membership")
	}
	return nil
}
