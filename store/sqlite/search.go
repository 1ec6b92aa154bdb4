package sqlite

import (
	"context"
	"strings"

	"github.com/confab-chat/confab"
)

// SearchMessages implements confab.MessageStore on the messages_fts index
// (FTS5, unicode61 tokenizer with diacritics removed: case- and
// accent-insensitive).
//
// Results come newest first by rowid, which FTS5 walks in order and stops
// at the limit instead of sorting every match. Within a conversation rowid
// order is seq order: the writer inserts a conversation's messages in seq
// order, and SQLite gives each new row a rowid above every row present
// (the largest plus one), which holds after PurgeMessages removed rows too.
func (s *Store) SearchMessages(ctx context.Context, conversationID, terms string, limit int) ([]*confab.Message, error) {
	q := ftsQuery(terms)
	if q == "" || limit <= 0 {
		return nil, nil
	}
	rows, err := s.read.QueryContext(ctx, `SELECT m.conversation_id, m.seq, m.message_id, m.user_id, m.content, m.message_type, m.created_at, m.updated_at, m.deleted, m.client_token
		FROM messages_fts f JOIN messages m ON m.rowid = f.rowid
		WHERE messages_fts MATCH ? AND m.conversation_id = ? AND m.deleted = 0
		ORDER BY f.rowid DESC LIMIT ?`, q, conversationID, limit)
	if err != nil {
		return nil, mapErr("search messages", err)
	}
	return scanMessages(rows, "search messages")
}

// ftsQuery turns plain text into an FTS5 query that matches every word of
// confab.SearchWords as a token or a token prefix: `"w1"* AND "w2"*`. A
// word holds no quote to escape, and AND, NEAR or col: inside quotes are
// plain strings, so no character of terms is ever query syntax. It
// returns "" when terms has no word.
func ftsQuery(terms string) string {
	var b strings.Builder
	for i, w := range confab.SearchWords(terms) {
		if i > 0 {
			b.WriteString(" AND ")
		}
		b.WriteString(`"`)
		b.WriteString(w)
		b.WriteString(`"*`)
	}
	return b.String()
}
