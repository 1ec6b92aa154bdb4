package postgres

import (
	"context"
	"errors"
	"slices"

	"github.com/confab-chat/confab"
	"github.com/jackc/pgx/v5"
)

// errTooManyKeys is the cause of AddReaction's CodeLimited.
var errTooManyKeys = errors.New("postgres: the message has as many distinct reaction keys as allowed")

// reactionState is what AddReaction and RemoveReaction read under the
// conversation's row lock: the live message, and its reactions as they
// concern r. The lock serialises every reaction to the conversation's
// messages, so the answer holds until COMMIT.
type reactionState struct {
	mine      bool // r.UserID reacted with r.Key
	keyExists bool // anyone reacted with r.Key
	keys      int  // distinct keys on the message
	lastSeq   int64
}

func readReactionState(ctx context.Context, tx pgx.Tx, op string, r *confab.Reaction) (*reactionState, error) {
	lastChange, err := lockConversation(ctx, tx, op, r.ConversationID, "message")
	if err != nil {
		return nil, err
	}
	st := reactionState{lastSeq: lastChange}
	err = tx.QueryRow(ctx, `SELECT
			EXISTS (SELECT 1 FROM reactions WHERE conversation_id = $1 AND message_id = $2 AND key = $3 AND user_id = $4),
			EXISTS (SELECT 1 FROM reactions WHERE conversation_id = $1 AND message_id = $2 AND key = $3),
			(SELECT count(DISTINCT key) FROM reactions WHERE conversation_id = $1 AND message_id = $2)
		FROM messages m WHERE m.conversation_id = $1 AND m.message_id = $2 AND NOT m.deleted`,
		r.ConversationID, r.MessageID, r.Key, r.UserID).Scan(&st.mine, &st.keyExists, &st.keys)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, notFound("message")
	}
	if err != nil {
		return nil, mapErr(op, err)
	}
	return &st, nil
}

// AddReaction implements confab.ChangeStore in one transaction under the
// conversation's row lock.
func (s *Store) AddReaction(ctx context.Context, r *confab.Reaction, maxKeys int) (bool, *confab.Message, error) {
	const op = "add reaction"
	var added bool
	var m *confab.Message
	err := s.inTx(ctx, op, func(tx pgx.Tx) error {
		st, err := readReactionState(ctx, tx, op, r)
		if err != nil {
			return err
		}
		if st.mine {
			m, err = getMessage(ctx, tx, op, r.ConversationID, r.MessageID)
			return err
		}
		if !st.keyExists && st.keys >= maxKeys {
			return &confab.Error{Code: confab.CodeLimited, Op: op, Err: errTooManyKeys}
		}
		if _, err := tx.Exec(ctx, `INSERT INTO reactions (conversation_id, message_id, key, user_id, at) VALUES ($1, $2, $3, $4, $5)`,
			r.ConversationID, r.MessageID, r.Key, r.UserID, dbTime(r.At)); err != nil {
			return mapErr(op, err)
		}
		added = true
		if err := enqueue(ctx, tx, confab.NewReactionEvent(r)); err != nil {
			return err
		}
		m, err = logReaction(ctx, tx, op, r, change{r.ConversationID, st.lastSeq + 1, confab.ChangeReactionAdded, r.At, r.UserID, r.MessageID, r.Key})
		return err
	})
	if err != nil {
		return false, nil, err
	}
	return added, m, nil
}

// RemoveReaction implements confab.ChangeStore in one transaction under
// the conversation's row lock.
func (s *Store) RemoveReaction(ctx context.Context, r *confab.Reaction) (bool, *confab.Message, error) {
	const op = "remove reaction"
	var removed bool
	var m *confab.Message
	err := s.inTx(ctx, op, func(tx pgx.Tx) error {
		st, err := readReactionState(ctx, tx, op, r)
		if err != nil {
			return err
		}
		if !st.mine {
			m, err = getMessage(ctx, tx, op, r.ConversationID, r.MessageID)
			return err
		}
		if _, err := tx.Exec(ctx, `DELETE FROM reactions WHERE conversation_id = $1 AND message_id = $2 AND key = $3 AND user_id = $4`,
			r.ConversationID, r.MessageID, r.Key, r.UserID); err != nil {
			return mapErr(op, err)
		}
		removed = true
		m, err = logReaction(ctx, tx, op, r, change{r.ConversationID, st.lastSeq + 1, confab.ChangeReactionRemoved, r.At, r.UserID, r.MessageID, r.Key})
		return err
	})
	if err != nil {
		return false, nil, err
	}
	return removed, m, nil
}

// logReaction appends the reaction's change c, makes it the message's and
// the conversation's latest, and returns the message afterwards.
func logReaction(ctx context.Context, tx pgx.Tx, op string, r *confab.Reaction, c change) (*confab.Message, error) {
	if err := appendChanges(ctx, tx, op, c); err != nil {
		return nil, err
	}
	if _, err := tx.Exec(ctx, `UPDATE conversations SET last_change_seq = $2 WHERE conversation_id = $1`, r.ConversationID, c.seq); err != nil {
		return nil, mapErr(op, err)
	}
	m, err := scanMessage(tx.QueryRow(ctx, `UPDATE messages SET change_seq = $3
		WHERE conversation_id = $1 AND message_id = $2 RETURNING `+msgColumns, r.ConversationID, r.MessageID, c.seq))
	return m, mapErr(op, err)
}

// ListReactions implements confab.ChangeStore: one grouped read of the
// range of the reactions index between the page's lowest and highest
// message id (a page's ids are close: they are time-ordered), keeping the
// page's own. The membership test is kept out of the index condition (IS
// TRUE), where it would cost one index descent per id.
func (s *Store) ListReactions(ctx context.Context, conversationID string, messageIDs []string, userID string, usersPerKey int) (map[string][]confab.ReactionCount, error) {
	const op = "list reactions"
	out := make(map[string][]confab.ReactionCount)
	if len(messageIDs) == 0 {
		return out, nil
	}
	lo, hi := slices.Min(messageIDs), slices.Max(messageIDs)
	rows, err := s.pool.Query(ctx, `SELECT message_id, key, count(*), min(at) AS first_at,
			(array_agg(user_id ORDER BY at, user_id))[1:$4], bool_or(user_id = $3)
		FROM reactions
		WHERE conversation_id = $1 AND message_id >= $5 AND message_id <= $6 AND (message_id = ANY($2)) IS TRUE
		GROUP BY message_id, key ORDER BY message_id, first_at, key`,
		conversationID, messageIDs, userID, max(usersPerKey, 0), lo, hi)
	if err != nil {
		return nil, mapErr(op, err)
	}
	var id string
	var rc confab.ReactionCount
	_, err = pgx.ForEachRow(rows, []any{&id, &rc.Key, &rc.Count, &rc.FirstAt, &rc.UserIDs, &rc.ByUser}, func() error {
		c := rc
		c.FirstAt, c.UserIDs = c.FirstAt.UTC(), nilIfEmpty(c.UserIDs)
		out[id] = append(out[id], c)
		return nil
	})
	if err != nil {
		return nil, mapErr(op, err)
	}
	return out, nil
}
