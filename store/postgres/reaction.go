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

// AddReaction implements confab.ChangeStore (see react).
func (s *Store) AddReaction(ctx context.Context, r *confab.Reaction, maxKeys int) (bool, *confab.Message, error) {
	return s.react(ctx, "add reaction", r, true, maxKeys)
}

// RemoveReaction implements confab.ChangeStore (see react).
func (s *Store) RemoveReaction(ctx context.Context, r *confab.Reaction) (bool, *confab.Message, error) {
	return s.react(ctx, "remove reaction", r, false, 0)
}

// react adds (add) or removes r in one transaction of two statements, so
// that the conversation's row lock, which every writer of its log waits
// for, is held for two round trips:
//
//  1. Lock the conversation row and read, under it, the live message and
//     its reactions as they concern r. The lock serialises every reaction
//     to the conversation's messages, so the answer holds until COMMIT.
//  2. When something changes: write the reaction, append its change, and
//     raise the conversation's and the message's ChangeSeq, RETURNING the
//     message. Otherwise read the message as it is.
func (s *Store) react(ctx context.Context, op string, r *confab.Reaction, add bool, maxKeys int) (bool, *confab.Message, error) {
	var changed bool
	var m *confab.Message
	err := s.inTx(ctx, op, func(tx pgx.Tx) error {
		var lastChange int64
		var live, mine, keyExists bool
		var keys int
		err := tx.QueryRow(ctx, `SELECT c.last_change_seq, m.message_id IS NOT NULL,
				EXISTS (SELECT 1 FROM reactions WHERE conversation_id = $1 AND message_id = $2 AND key = $3 AND user_id = $4),
				EXISTS (SELECT 1 FROM reactions WHERE conversation_id = $1 AND message_id = $2 AND key = $3),
				(SELECT count(DISTINCT key) FROM reactions WHERE conversation_id = $1 AND message_id = $2)
			FROM conversations c
			LEFT JOIN messages m ON m.conversation_id = c.conversation_id AND m.message_id = $2 AND NOT m.deleted
			WHERE c.conversation_id = $1 FOR UPDATE OF c`,
			r.ConversationID, r.MessageID, r.Key, r.UserID).Scan(&lastChange, &live, &mine, &keyExists, &keys)
		if errors.Is(err, pgx.ErrNoRows) || err == nil && !live {
			return notFound("message")
		}
		if err != nil {
			return mapErr(op, err)
		}
		if mine == add { // already there, or nothing to remove
			m, err = getMessage(ctx, tx, op, r.ConversationID, r.MessageID)
			return err
		}
		if add && !keyExists && keys >= maxKeys {
			return &confab.Error{Code: confab.CodeLimited, Op: op, Err: errTooManyKeys}
		}
		write, kind := `INSERT INTO reactions (conversation_id, message_id, key, user_id, at) VALUES ($1, $2, $4, $5, $6)`, confab.ChangeReactionAdded
		if !add {
			write, kind = `DELETE FROM reactions WHERE conversation_id = $1 AND message_id = $2 AND key = $4 AND user_id = $5`, confab.ChangeReactionRemoved
		}
		m, err = scanMessage(tx.QueryRow(ctx, `WITH r AS (`+write+`),
			ch AS (INSERT INTO changes (conversation_id, change_seq, kind, at, user_id, message_id, reaction_key)
				VALUES ($1, $3, $7, $6, $5, $2, $4)),
			cv AS (UPDATE conversations SET last_change_seq = $3 WHERE conversation_id = $1)
			UPDATE messages SET change_seq = $3 WHERE conversation_id = $1 AND message_id = $2 RETURNING `+msgColumns,
			r.ConversationID, r.MessageID, lastChange+1, r.Key, r.UserID, dbTime(r.At), string(kind)))
		if err != nil {
			return mapErr(op, err)
		}
		changed = true
		if add {
			return enqueue(ctx, tx, confab.NewReactionEvent(r))
		}
		return nil
	})
	if err != nil {
		return false, nil, err
	}
	return changed, m, nil
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
