package postgres

import (
	"context"
	"time"

	"github.com/confab-chat/confab"
	"github.com/jackc/pgx/v5"
)

// The change log (confab.Change): the changes table, one row per change,
// keyed by (conversation_id, change_seq). Every writer takes the
// conversation's row lock before it reads or raises
// conversations.last_change_seq, and inserts its rows in the same
// transaction as the change itself, so the seqs are gapless on any number
// of nodes.

// change is one row of the changes table to append.
type change struct {
	conversationID string
	seq            int64
	kind           confab.ChangeKind
	at             time.Time
	userID         string
	messageID      string // "" for CONVERSATION_UPDATED and MEMBER_* (stored NULL)
	reactionKey    string
	memberID       string // MEMBER_* only ("" is stored NULL)
}

// appendChanges inserts cs in one statement. The caller holds the
// conversation's row lock and sets last_change_seq to the last seq.
func appendChanges(ctx context.Context, tx pgx.Tx, op string, cs ...change) error {
	n := len(cs)
	convs, kinds, users, msgs, keys := make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n)
	seqs, ats, members := make([]int64, n), make([]time.Time, n), make([]string, n)
	for i, c := range cs {
		convs[i], seqs[i], kinds[i], ats[i] = c.conversationID, c.seq, string(c.kind), dbTime(c.at)
		users[i], msgs[i], keys[i], members[i] = c.userID, c.messageID, c.reactionKey, c.memberID
	}
	_, err := tx.Exec(ctx, `INSERT INTO changes (conversation_id, change_seq, kind, at, user_id, message_id, reaction_key, member_id)
		SELECT c, s, k, a, u, nullif(m, ''), r, nullif(mb, '')
		FROM unnest($1::text[], $2::bigint[], $3::text[], $4::timestamptz[], $5::text[], $6::text[], $7::text[], $8::text[]) AS t (c, s, k, a, u, m, r, mb)`,
		convs, seqs, kinds, ats, users, msgs, keys, members)
	return mapErr(op, err)
}

// ListChanges implements confab.ChangeStore: a page of the log by its
// primary key, then the messages it is about, as they are now, in one more
// query, and the memberships of MEMBER_ADDED and MEMBER_UPDATED changes as
// they are now (nil once the member has left) in another.
func (s *Store) ListChanges(ctx context.Context, conversationID string, afterChange int64, limit int) ([]*confab.Change, error) {
	const op = "list changes"
	if limit <= 0 {
		return nil, nil
	}
	rows, err := s.pool.Query(ctx, `SELECT change_seq, kind, at, user_id, coalesce(message_id, ''), reaction_key, coalesce(member_id, '') FROM changes
		WHERE conversation_id = $1 AND change_seq > $2 ORDER BY change_seq LIMIT $3`, conversationID, afterChange, limit)
	if err != nil {
		return nil, mapErr(op, err)
	}
	var changes []*confab.Change
	var ids, memberIDs []string
	var c confab.Change
	var kind string
	_, err = pgx.ForEachRow(rows, []any{&c.ChangeSeq, &kind, &c.At, &c.UserID, &c.MessageID, &c.ReactionKey, &c.MemberID}, func() error {
		ch := c
		ch.ConversationID, ch.Kind, ch.At = conversationID, confab.ChangeKind(kind), c.At.UTC()
		changes = append(changes, &ch)
		if ch.MessageID != "" {
			ids = append(ids, ch.MessageID)
		}
		if ch.MemberID != "" && ch.Kind != confab.ChangeMemberRemoved {
			memberIDs = append(memberIDs, ch.MemberID)
		}
		return nil
	})
	if err != nil {
		return nil, mapErr(op, err)
	}
	if err := attachMessages(ctx, s.pool, op, conversationID, changes, ids); err != nil {
		return nil, err
	}
	if err := attachMembers(ctx, s.pool, conversationID, changes, memberIDs); err != nil {
		return nil, err
	}
	return changes, nil
}

// attachMessages sets the Message of each change about one of ids.
func attachMessages(ctx context.Context, q querier, op, conversationID string, changes []*confab.Change, ids []string) error {
	if len(ids) == 0 {
		return nil
	}
	msgs, err := queryMessages(ctx, q, op, `SELECT `+msgColumns+` FROM messages
		WHERE conversation_id = $1 AND message_id = ANY($2)`, conversationID, ids)
	if err != nil {
		return err
	}
	byID := make(map[string]*confab.Message, len(msgs))
	for _, m := range msgs {
		byID[m.MessageID] = m
	}
	for _, ch := range changes {
		if m := byID[ch.MessageID]; m != nil {
			cp := *m // a copy each: changes of one message do not share it
			ch.Message = &cp
		}
	}
	return nil
}

// attachMembers sets the Member of each MEMBER_ADDED and MEMBER_UPDATED
// change about one of userIDs who is still a member.
func attachMembers(ctx context.Context, q querier, conversationID string, changes []*confab.Change, userIDs []string) error {
	if len(userIDs) == 0 {
		return nil
	}
	c := &confab.Conversation{ConversationID: conversationID}
	if err := loadMembers(ctx, q, []*confab.Conversation{c}, userIDs...); err != nil {
		return err
	}
	byID := make(map[string]*confab.Member, len(c.Members))
	for i := range c.Members {
		byID[c.Members[i].UserID] = &c.Members[i]
	}
	for _, ch := range changes {
		if m := byID[ch.MemberID]; m != nil && ch.Kind != confab.ChangeMemberRemoved {
			cp := *m
			ch.Member = &cp
		}
	}
	return nil
}
