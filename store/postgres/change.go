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
	memberID       string         // MEMBER_* only ("" is stored NULL)
	member         *confab.Member // MEMBER_ADDED and MEMBER_UPDATED only: the membership after the change
}

// appendChanges inserts cs in one statement. The caller holds the
// conversation's row lock and sets last_change_seq to the last seq.
func appendChanges(ctx context.Context, tx pgx.Tx, op string, cs ...change) error {
	n := len(cs)
	convs, kinds, users, msgs, keys := make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n)
	seqs, ats, members := make([]int64, n), make([]time.Time, n), make([]string, n)
	roles, joined, muted := make([]*string, n), make([]*time.Time, n), make([]*time.Time, n)
	for i, c := range cs {
		convs[i], seqs[i], kinds[i], ats[i] = c.conversationID, c.seq, string(c.kind), dbTime(c.at)
		users[i], msgs[i], keys[i], members[i] = c.userID, c.messageID, c.reactionKey, c.memberID
		if m := c.member; m != nil {
			roles[i], joined[i], muted[i] = (*string)(&m.Role), dbTimePtr(&m.JoinedAt), dbTimePtr(m.MutedUntil)
		}
	}
	_, err := tx.Exec(ctx, `INSERT INTO changes (conversation_id, change_seq, kind, at, user_id, message_id, reaction_key,
			member_id, member_role, member_joined_at, member_muted_until)
		SELECT c, s, k, a, u, nullif(m, ''), r, nullif(mb, ''), mr, mj, mm
		FROM unnest($1::text[], $2::bigint[], $3::text[], $4::timestamptz[], $5::text[], $6::text[], $7::text[],
			$8::text[], $9::text[], $10::timestamptz[], $11::timestamptz[]) AS t (c, s, k, a, u, m, r, mb, mr, mj, mm)`,
		convs, seqs, kinds, ats, users, msgs, keys, members, roles, joined, muted)
	return mapErr(op, err)
}

// ListChanges implements confab.ChangeStore: a page of the log by its
// primary key (with the membership of a MEMBER_* change as it was right
// after it), then the messages it is about, as they are now, in one more
// query.
func (s *Store) ListChanges(ctx context.Context, conversationID string, afterChange int64, limit int) ([]*confab.Change, error) {
	const op = "list changes"
	if limit <= 0 {
		return nil, nil
	}
	rows, err := s.pool.Query(ctx, `SELECT change_seq, kind, at, user_id, coalesce(message_id, ''), reaction_key,
			coalesce(member_id, ''), member_role, member_joined_at, member_muted_until
		FROM changes WHERE conversation_id = $1 AND change_seq > $2 ORDER BY change_seq LIMIT $3`, conversationID, afterChange, limit)
	if err != nil {
		return nil, mapErr(op, err)
	}
	var changes []*confab.Change
	var ids []string
	var c confab.Change
	var kind string
	var role *string
	var joined, muted *time.Time
	_, err = pgx.ForEachRow(rows, []any{&c.ChangeSeq, &kind, &c.At, &c.UserID, &c.MessageID, &c.ReactionKey, &c.MemberID, &role, &joined, &muted}, func() error {
		ch := c
		ch.ConversationID, ch.Kind, ch.At = conversationID, confab.ChangeKind(kind), c.At.UTC()
		if role != nil && joined != nil {
			ch.Member = &confab.Member{UserID: ch.MemberID, Role: confab.Role(*role), JoinedAt: joined.UTC(), MutedUntil: utcPtr(muted)}
		}
		changes = append(changes, &ch)
		if ch.MessageID != "" {
			ids = append(ids, ch.MessageID)
		}
		return nil
	})
	if err != nil {
		return nil, mapErr(op, err)
	}
	if err := attachMessages(ctx, s.pool, op, conversationID, changes, ids); err != nil {
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
