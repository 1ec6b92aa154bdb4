package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/confab-chat/confab"
	"github.com/jackc/pgx/v5"
)

// convColumns are the columns scanConversation reads, in its order.
const convColumns = `conversation_id, name, created_by, created_at, updated_at, last_message, last_message_at, message_count, last_seq, last_change_seq, ` +
	`direct_key IS NOT NULL, add_members_role, post_role, react_role, slow_mode, archived_at`

// convColumnsC is convColumns qualified by the alias c.
var convColumnsC = prefixed("c.", convColumns)

func scanConversation(row pgx.Row) (*confab.Conversation, error) {
	var c confab.Conversation
	var addMembers, post, react string
	if err := row.Scan(&c.ConversationID, &c.Name, &c.CreatedBy, &c.CreatedAt, &c.UpdatedAt, &c.LastMessage, &c.LastMessageAt, &c.MessageCount, &c.LastSeq, &c.LastChangeSeq,
		&c.Direct, &addMembers, &post, &react, &c.Settings.SlowMode, &c.ArchivedAt); err != nil {
		return nil, err
	}
	c.Settings.AddMembers, c.Settings.Post, c.Settings.React = confab.Role(addMembers), confab.Role(post), confab.Role(react)
	c.CreatedAt = c.CreatedAt.UTC()
	c.UpdatedAt, c.LastMessageAt, c.ArchivedAt = utcPtr(c.UpdatedAt), utcPtr(c.LastMessageAt), utcPtr(c.ArchivedAt)
	return &c, nil
}

// directKey is the direct_key of c: NULL for a group.
func directKey(c *confab.Conversation) (*string, error) {
	if !c.Direct {
		return nil, nil
	}
	if len(c.Members) != 2 {
		return nil, &confab.Error{Code: confab.CodeInvalid, Op: "insert conversation", Err: fmt.Errorf("postgres: a direct conversation has %d members, not 2", len(c.Members))}
	}
	k := confab.DirectKey(c.Members[0].UserID, c.Members[1].UserID)
	return &k, nil
}

// InsertConversation implements confab.ConversationStore: the conversation
// and all its members in one transaction. A member that is not a user
// violates the foreign key, which is CodeNotFound; a second direct
// conversation of a pair violates conversations_direct_key, CodeConflict.
func (s *Store) InsertConversation(ctx context.Context, c *confab.Conversation) error {
	const op = "insert conversation"
	key, err := directKey(c)
	if err != nil {
		return err
	}
	st := c.Settings
	return s.inTx(ctx, op, func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `INSERT INTO conversations (conversation_id, name, created_by, created_at, updated_at, last_message,
				last_message_at, message_count, last_seq, last_change_seq, activity_at,
				direct_key, add_members_role, post_role, react_role, slow_mode, archived_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)`,
			c.ConversationID, c.Name, c.CreatedBy, dbTime(c.CreatedAt), dbTimePtr(c.UpdatedAt), c.LastMessage,
			dbTimePtr(c.LastMessageAt), c.MessageCount, c.LastSeq, c.LastChangeSeq, dbTime(c.ActivityAt()),
			key, string(st.AddMembers), string(st.Post), string(st.React), st.SlowMode, dbTimePtr(c.ArchivedAt))
		if err != nil {
			return mapErr(op, err)
		}
		if _, err := insertMembers(ctx, tx, c.ConversationID, c.Members); err != nil {
			if confab.ErrorCode(err) == confab.CodeNotFound {
				return &confab.Error{Code: confab.CodeNotFound, Op: op, Err: err}
			}
			return err
		}
		return enqueue(ctx, tx, confab.NewConversationEvent(confab.OutboxConversationCreated, c, c.CreatedAt))
	})
}

// insertMembers inserts the members who are not members yet and returns
// the user ids inserted (in no particular order). A member that is not a
// user violates the foreign key: CodeNotFound.
func insertMembers(ctx context.Context, tx pgx.Tx, conversationID string, members []confab.Member) ([]string, error) {
	n := len(members)
	users, roles := make([]string, n), make([]string, n)
	joined, lastRead := make([]time.Time, n), make([]int64, n)
	muted, posted := make([]*time.Time, n), make([]*time.Time, n)
	for i, m := range members {
		users[i], roles[i], joined[i], lastRead[i] = m.UserID, string(m.Role), dbTime(m.JoinedAt), m.LastReadSeq
		muted[i], posted[i] = dbTimePtr(m.MutedUntil), dbTimePtr(m.LastPostedAt)
	}
	rows, err := tx.Query(ctx, `INSERT INTO members (conversation_id, user_id, role, joined_at, last_read_seq, muted_until, last_posted_at)
		SELECT $1, u, r, j, s, mu, p
		FROM unnest($2::text[], $3::text[], $4::timestamptz[], $5::bigint[], $6::timestamptz[], $7::timestamptz[]) AS t (u, r, j, s, mu, p)
		ON CONFLICT (conversation_id, user_id) DO NOTHING RETURNING user_id`,
		conversationID, users, roles, joined, lastRead, muted, posted)
	if err != nil {
		return nil, mapErr("insert members", err)
	}
	added, err := pgx.CollectRows(rows, pgx.RowTo[string])
	return added, mapErr("insert members", err)
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
// by JoinedAt, then UserID: every member, or only the users only names when
// it is not empty. UnreadMentions is counted from the mentions index above
// each member's read mark (a deleted message's rows are gone).
func loadMembers(ctx context.Context, q querier, convs []*confab.Conversation, only ...string) error {
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
			m.role, m.muted_until, m.last_posted_at, (SELECT count(*) FROM mentions n
				WHERE n.conversation_id = m.conversation_id AND n.user_id = m.user_id AND n.seq > m.last_read_seq)
		FROM members m
		WHERE m.conversation_id = ANY($1) AND (cardinality($2::text[]) = 0 OR m.user_id = ANY($2))
		ORDER BY m.conversation_id, m.joined_at, m.user_id`, ids, orEmpty(only))
	if err != nil {
		return mapErr("load members", err)
	}
	defer rows.Close()
	for rows.Next() {
		var cid string
		var m confab.Member
		var role string
		if err := rows.Scan(&cid, &m.UserID, &m.JoinedAt, &m.LastReadSeq, &m.LastReadAt, &role, &m.MutedUntil, &m.LastPostedAt, &m.UnreadMentions); err != nil {
			return mapErr("load members", err)
		}
		m.Role, m.JoinedAt, m.LastReadAt = confab.Role(role), m.JoinedAt.UTC(), utcPtr(m.LastReadAt)
		m.MutedUntil, m.LastPostedAt = utcPtr(m.MutedUntil), utcPtr(m.LastPostedAt)
		byID[cid].Members = append(byID[cid].Members, m)
	}
	return mapErr("load members", rows.Err())
}

// UpdateConversation implements confab.ConversationStore. The UPDATE takes
// the conversation's row lock, which serialises it with every other writer
// of the change log, and appends CONVERSATION_UPDATED by userID.
func (s *Store) UpdateConversation(ctx context.Context, conversationID, userID string, u confab.ConversationUpdate, at time.Time) (*confab.Conversation, error) {
	const op = "update conversation"
	var st confab.ConversationSettings
	if u.Settings != nil {
		st = *u.Settings
	}
	var c *confab.Conversation
	err := s.inTx(ctx, op, func(tx pgx.Tx) error {
		var err error
		c, err = scanConversation(tx.QueryRow(ctx, `UPDATE conversations
			SET name = CASE WHEN $1 THEN $2::text ELSE name END, updated_at = $3, last_change_seq = last_change_seq + 1,
				add_members_role = CASE WHEN $5 THEN $6 ELSE add_members_role END,
				post_role        = CASE WHEN $5 THEN $7 ELSE post_role END,
				react_role       = CASE WHEN $5 THEN $8 ELSE react_role END,
				slow_mode        = CASE WHEN $5 THEN $9 ELSE slow_mode END,
				archived_at      = CASE WHEN $10::boolean IS NULL THEN archived_at WHEN $10 THEN $3 END
			WHERE conversation_id = $4 RETURNING `+convColumns,
			u.Name != nil, u.Name, dbTime(at), conversationID,
			u.Settings != nil, string(st.AddMembers), string(st.Post), string(st.React), st.SlowMode, u.Archived))
		if errors.Is(err, pgx.ErrNoRows) {
			return notFound("conversation")
		}
		if err != nil {
			return mapErr(op, err)
		}
		err = appendChanges(ctx, tx, op, change{conversationID: conversationID, seq: c.LastChangeSeq, kind: confab.ChangeConversationUpdated, at: at, userID: userID})
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
