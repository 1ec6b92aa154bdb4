package postgres

import (
	"context"
	"math"

	"github.com/confab-chat/confab"
	"github.com/jackc/pgx/v5"
)

// Threads: a reply is a message row whose parent_message_id names its
// root; messages_thread indexes (conversation_id, parent_message_id, seq)
// of replies only. The queries repeat its predicate (parent_message_id <>
// '') so that a generic plan, where a parameter might be '', still uses it.

// ListThread implements confab.ChangeStore.
func (s *Store) ListThread(ctx context.Context, conversationID, rootID string, p confab.ThreadPage) ([]*confab.Message, error) {
	const op = "list thread"
	if p.NewestFirst {
		before := p.BeforeSeq
		if before <= 0 {
			before = math.MaxInt64
		}
		return queryMessages(ctx, s.pool, op, `SELECT `+msgColumns+` FROM messages
			WHERE conversation_id = $1 AND parent_message_id = $2 AND parent_message_id <> '' AND seq < $3 AND NOT deleted
			ORDER BY seq DESC LIMIT $4`, conversationID, rootID, before, max(p.Limit, 0))
	}
	return queryMessages(ctx, s.pool, op, `SELECT `+msgColumns+` FROM messages
		WHERE conversation_id = $1 AND parent_message_id = $2 AND parent_message_id <> '' AND seq > $3 AND NOT deleted
		ORDER BY seq ASC LIMIT $4`, conversationID, rootID, p.AfterSeq, max(p.Limit, 0))
}

// MarkThreadRead implements confab.ChangeStore.
func (s *Store) MarkThreadRead(ctx context.Context, conversationID, rootID, userID string, seq int64) error {
	_, err := s.pool.Exec(ctx, `INSERT INTO thread_reads (conversation_id, root_id, user_id, seq) VALUES ($1, $2, $3, $4)
		ON CONFLICT (conversation_id, root_id, user_id) DO UPDATE SET seq = greatest(thread_reads.seq, excluded.seq)`,
		conversationID, rootID, userID, seq)
	return mapErr("mark thread read", err)
}

// CountUnreadReplies implements confab.ChangeStore: one grouped read over
// the page's threads, each from the user's mark on (0 without one).
func (s *Store) CountUnreadReplies(ctx context.Context, conversationID, userID string, rootIDs []string) (map[string]int, error) {
	const op = "count unread replies"
	out := make(map[string]int)
	if len(rootIDs) == 0 {
		return out, nil
	}
	rows, err := s.pool.Query(ctx, `SELECT r.parent_message_id, count(*) FROM messages r
		LEFT JOIN thread_reads t ON t.conversation_id = r.conversation_id AND t.root_id = r.parent_message_id AND t.user_id = $2
		WHERE r.conversation_id = $1 AND r.parent_message_id = ANY($3) AND r.parent_message_id <> ''
		  AND NOT r.deleted AND r.user_id <> $2 AND r.seq > coalesce(t.seq, 0)
		GROUP BY r.parent_message_id`, conversationID, userID, rootIDs)
	if err != nil {
		return nil, mapErr(op, err)
	}
	var id string
	var n int
	_, err = pgx.ForEachRow(rows, []any{&id, &n}, func() error {
		out[id] = n
		return nil
	})
	if err != nil {
		return nil, mapErr(op, err)
	}
	return out, nil
}
