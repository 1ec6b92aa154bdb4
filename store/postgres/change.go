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
	messageID      string // "" for CONVERSATION_UPDATED (stored NULL)
	reactionKey    string
}

// appendChanges inserts cs in one statement. The caller holds the
// conversation's row lock and sets last_change_seq to the last seq.
func appendChanges(ctx context.Context, tx pgx.Tx, op string, cs ...change) error {
	n := len(cs)
	convs, kinds, users, msgs, keys := make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n)
	seqs, ats := make([]int64, n), make([]time.Time, n)
	for i, c := range cs {
		convs[i], seqs[i], kinds[i], ats[i] = c.conversationID, c.seq, string(c.kind), dbTime(c.at)
		users[i], msgs[i], keys[i] = c.userID, c.messageID, c.reactionKey
	}
	_, err := tx.Exec(ctx, `INSERT INTO changes (conversation_id, change_seq, kind, at, user_id, message_id, reaction_key)
		SELECT c, s, k, a, u, nullif(m, ''), r
		FROM unnest($1::text[], $2::bigint[], $3::text[], $4::timestamptz[], $5::text[], $6::text[], $7::text[]) AS t (c, s, k, a, u, m, r)`,
		convs, seqs, kinds, ats, users, msgs, keys)
	return mapErr(op, err)
}

// ListChanges implements confab.ChangeStore: a page of the log by its
// primary key, then the messages it is about, as they are now, in one more
// query.
func (s *Store) ListChanges(ctx context.Context, conversationID string, afterChange int64, limit int) ([]*confab.Change, error) {
	const op = "list changes"
	if limit <= 0 {
		return nil, nil
	}
	rows, err := s.pool.Query(ctx, `SELECT change_seq, kind, at, user_id, coalesce(message_id, ''), reaction_key FROM changes
		WHERE conversation_id = $1 AND change_seq > $2 ORDER BY change_seq LIMIT $3`, conversationID, afterChange, limit)
	if err != nil {
		return nil, mapErr(op, err)
	}
	var changes []*confab.Change
	var ids []string
	var c confab.Change
	var kind string
	_, err = pgx.ForEachRow(rows, []any{&c.ChangeSeq, &kind, &c.At, &c.UserID, &c.MessageID, &c.ReactionKey}, func() error {
		ch := c
		ch.ConversationID, ch.Kind, ch.At = conversationID, confab.ChangeKind(kind), c.At.UTC()
		changes = append(changes, &ch)
		if ch.MessageID != "" {
			ids = append(ids, ch.MessageID)
		}
		return nil
	})
	if err != nil {
		return nil, mapErr(op, err)
	}
	if len(ids) == 0 {
		return changes, nil
	}
	msgs, err := queryMessages(ctx, s.pool, op, `SELECT `+msgColumns+` FROM messages
		WHERE conversation_id = $1 AND message_id = ANY($2)`, conversationID, ids)
	if err != nil {
		return nil, err
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
	return changes, nil
}
