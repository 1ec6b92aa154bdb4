package postgres

import (
	"context"
	"errors"
	"slices"
	"time"

	"github.com/confab-chat/confab"
	"github.com/jackc/pgx/v5"
)

// Membership changes (issue 15). Each takes the conversation's row lock
// first, like every other writer of its change log, then changes the
// members rows, appends its MEMBER_* changes (member_id set) and outbox
// events, and raises updated_at and last_change_seq, in one transaction.

// GetDirectConversation implements confab.ConversationStore: one read of
// the conversations_direct_key index.
func (s *Store) GetDirectConversation(ctx context.Context, userID, otherID string) (*confab.Conversation, error) {
	c, err := scanConversation(s.pool.QueryRow(ctx, `SELECT `+convColumns+` FROM conversations WHERE direct_key = $1`,
		confab.DirectKey(userID, otherID)))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, notFound("direct conversation")
	}
	if err != nil {
		return nil, mapErr("get direct conversation", err)
	}
	if err := loadMembers(ctx, s.pool, []*confab.Conversation{c}); err != nil {
		return nil, err
	}
	return c, nil
}

// AddMembers implements confab.ConversationStore. The members are
// inserted ON CONFLICT DO NOTHING (the ones who are members already are
// skipped) and counted afterwards: past maxMembers the transaction is
// rolled back. The row lock keeps two concurrent adds from both passing.
func (s *Store) AddMembers(ctx context.Context, conversationID, byUserID string, members []confab.Member, maxMembers int, at time.Time) ([]confab.Member, *confab.Conversation, error) {
	const op = "add members"
	var added []confab.Member
	var c *confab.Conversation
	err := s.inTx(ctx, op, func(tx pgx.Tx) error {
		lastChange, err := lockConversation(ctx, tx, op, conversationID, "conversation")
		if err != nil {
			return err
		}
		ids, err := insertMembers(ctx, tx, conversationID, members)
		if err != nil {
			return err
		}
		var n int
		if err := tx.QueryRow(ctx, `SELECT count(*) FROM members WHERE conversation_id = $1`, conversationID).Scan(&n); err != nil {
			return mapErr(op, err)
		}
		if n > maxMembers {
			return &confab.Error{Code: confab.CodeLimited, Op: op, Err: errors.New("postgres: too many members")}
		}
		added = inOrder(members, ids)
		changes := make([]change, len(added))
		for i, m := range added {
			changes[i] = change{conversationID: conversationID, seq: lastChange + 1 + int64(i), kind: confab.ChangeMemberAdded,
				at: at, userID: byUserID, memberID: m.UserID}
		}
		c, err = touchConversation(ctx, tx, op, conversationID, changes, at)
		if err != nil {
			return err
		}
		for i, m := range added {
			added[i] = *member(c, m.UserID)
			e := confab.NewMemberEvent(confab.OutboxMemberAdded, conversationID, m.UserID, m.Role, byUserID, at)
			if err := enqueue(ctx, tx, e); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, nil, err
	}
	return added, c, nil
}

// inOrder returns the members whose UserID is in ids, in the order of
// members, each once.
func inOrder(members []confab.Member, ids []string) []confab.Member {
	out := make([]confab.Member, 0, len(ids))
	for _, m := range members {
		if slices.Contains(ids, m.UserID) && !slices.ContainsFunc(out, func(o confab.Member) bool { return o.UserID == m.UserID }) {
			out = append(out, m)
		}
	}
	return out
}

// member returns c's member userID (nil when there is none).
func member(c *confab.Conversation, userID string) *confab.Member {
	for i := range c.Members {
		if c.Members[i].UserID == userID {
			return &c.Members[i]
		}
	}
	return nil
}

// touchConversation appends changes (when there are any), sets updated_at
// and last_change_seq, and returns the conversation afterwards with its
// members. The caller holds the row lock.
func touchConversation(ctx context.Context, tx pgx.Tx, op, conversationID string, changes []change, at time.Time) (*confab.Conversation, error) {
	if len(changes) > 0 {
		if err := appendChanges(ctx, tx, op, changes...); err != nil {
			return nil, err
		}
	}
	c, err := scanConversation(tx.QueryRow(ctx, `UPDATE conversations SET updated_at = $2, last_change_seq = last_change_seq + $3
		WHERE conversation_id = $1 RETURNING `+convColumns, conversationID, dbTime(at), len(changes)))
	if err != nil {
		return nil, mapErr(op, err)
	}
	if err := loadMembers(ctx, tx, []*confab.Conversation{c}); err != nil {
		return nil, err
	}
	return c, nil
}

// RemoveMember implements confab.ConversationStore. The read mark goes
// with the members row; the thread read marks are deleted by their key.
func (s *Store) RemoveMember(ctx context.Context, conversationID, userID, byUserID string, at time.Time) (*confab.Conversation, error) {
	const op = "remove member"
	var c *confab.Conversation
	err := s.inTx(ctx, op, func(tx pgx.Tx) error {
		lastChange, err := lockConversation(ctx, tx, op, conversationID, "member")
		if err != nil {
			return err
		}
		tag, err := tx.Exec(ctx, `DELETE FROM members WHERE conversation_id = $1 AND user_id = $2`, conversationID, userID)
		if err != nil {
			return mapErr(op, err)
		}
		if tag.RowsAffected() == 0 {
			return notFound("member")
		}
		if _, err := tx.Exec(ctx, `DELETE FROM thread_reads WHERE conversation_id = $1 AND user_id = $2`, conversationID, userID); err != nil {
			return mapErr(op, err)
		}
		ch := change{conversationID: conversationID, seq: lastChange + 1, kind: confab.ChangeMemberRemoved, at: at, userID: byUserID, memberID: userID}
		if c, err = touchConversation(ctx, tx, op, conversationID, []change{ch}, at); err != nil {
			return err
		}
		return enqueue(ctx, tx, confab.NewMemberEvent(confab.OutboxMemberRemoved, conversationID, userID, "", byUserID, at))
	})
	if err != nil {
		return nil, err
	}
	return c, nil
}

// UpdateMembers implements confab.ConversationStore: one UPDATE per member
// in one batch (one round trip); a member not found rolls all back.
func (s *Store) UpdateMembers(ctx context.Context, conversationID, byUserID string, updates []confab.MemberUpdate, at time.Time) (*confab.Conversation, error) {
	const op = "update members"
	var c *confab.Conversation
	err := s.inTx(ctx, op, func(tx pgx.Tx) error {
		lastChange, err := lockConversation(ctx, tx, op, conversationID, "conversation")
		if err != nil {
			return err
		}
		var b pgx.Batch
		changes := make([]change, len(updates))
		for i, u := range updates {
			// A zero MutedUntil unmutes (NULL); nil leaves it.
			var muted *time.Time
			if u.MutedUntil != nil && !u.MutedUntil.IsZero() {
				muted = dbTimePtr(u.MutedUntil)
			}
			b.Queue(`UPDATE members SET role = coalesce($3, role),
					muted_until = CASE WHEN $4 THEN $5 ELSE muted_until END
				WHERE conversation_id = $1 AND user_id = $2`,
				conversationID, u.UserID, (*string)(u.Role), u.MutedUntil != nil, muted)
			changes[i] = change{conversationID: conversationID, seq: lastChange + 1 + int64(i), kind: confab.ChangeMemberUpdated,
				at: at, userID: byUserID, memberID: u.UserID}
		}
		results := tx.SendBatch(ctx, &b)
		for range updates {
			tag, err := results.Exec()
			if err == nil && tag.RowsAffected() == 0 {
				err = notFound("member")
			}
			if err != nil {
				results.Close()
				return mapErr(op, err)
			}
		}
		if err := results.Close(); err != nil {
			return mapErr(op, err)
		}
		c, err = touchConversation(ctx, tx, op, conversationID, changes, at)
		return err
	})
	if err != nil {
		return nil, err
	}
	return c, nil
}

// SharesConversation implements confab.ModerationStore: the two users'
// memberships meet on the primary key of members.
func (s *Store) SharesConversation(ctx context.Context, userID, otherID string) (bool, error) {
	var ok bool
	err := s.pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM members a JOIN members b ON b.conversation_id = a.conversation_id AND b.user_id = $2
		WHERE a.user_id = $1)`, userID, otherID).Scan(&ok)
	return ok, mapErr("shares conversation", err)
}

// ListAllConversations implements confab.ModerationStore.
func (s *Store) ListAllConversations(ctx context.Context, after string, limit int) ([]*confab.Conversation, error) {
	const op = "list all conversations"
	rows, err := s.pool.Query(ctx, `SELECT `+convColumns+` FROM conversations WHERE conversation_id > $1
		ORDER BY conversation_id LIMIT $2`, after, max(limit, 0))
	if err != nil {
		return nil, mapErr(op, err)
	}
	convs, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (*confab.Conversation, error) { return scanConversation(row) })
	if err != nil {
		return nil, mapErr(op, err)
	}
	if err := loadMembers(ctx, s.pool, convs); err != nil {
		return nil, err
	}
	return convs, nil
}

// DeleteConversation implements confab.ModerationStore in one transaction
// under the conversation's row lock (so no send slips in): every table
// that names the conversation, children before parents. Message rows take
// their edits, mentions and change log entries by ON DELETE CASCADE.
func (s *Store) DeleteConversation(ctx context.Context, conversationID string) ([]string, error) {
	const op = "delete conversation"
	var keys []string
	err := s.inTx(ctx, op, func(tx pgx.Tx) error {
		if _, err := lockConversation(ctx, tx, op, conversationID, "conversation"); err != nil {
			return err
		}
		rows, err := tx.Query(ctx, `DELETE FROM uploads WHERE conversation_id = $1 RETURNING upload_id`, conversationID)
		if err != nil {
			return mapErr(op, err)
		}
		if keys, err = pgx.CollectRows(rows, pgx.RowTo[string]); err != nil {
			return mapErr(op, err)
		}
		for _, q := range []string{
			`DELETE FROM changes WHERE conversation_id = $1`,
			`DELETE FROM reactions WHERE conversation_id = $1`,
			`DELETE FROM thread_reads WHERE conversation_id = $1`,
			`DELETE FROM messages WHERE conversation_id = $1`,
			`DELETE FROM members WHERE conversation_id = $1`,
			`DELETE FROM invitations WHERE conversation_id = $1`,
			`DELETE FROM bans WHERE conversation_id = $1`,
			`DELETE FROM push_windows WHERE conversation_id = $1`,
			`DELETE FROM conversations WHERE conversation_id = $1`,
		} {
			if _, err := tx.Exec(ctx, q, conversationID); err != nil {
				return mapErr(op, err)
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return keys, nil
}

// ListUserMessages implements confab.ModerationStore on the
// messages_by_user index.
func (s *Store) ListUserMessages(ctx context.Context, userID, before string, limit int) ([]*confab.Message, error) {
	return queryMessages(ctx, s.pool, "list user messages", `SELECT `+msgColumns+` FROM messages
		WHERE user_id = $1 AND ($2 = '' OR message_id < $2) AND NOT deleted
		ORDER BY message_id DESC LIMIT $3`, userID, before, max(limit, 0))
}
