package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"strings"

	"github.com/confab-chat/confab"
	"github.com/confab-chat/confab/internal/fold"
)

// scanMaxSeq is the largest conversation (by last seq, deleted messages
// included) that SearchMessages reads in full rather than through the
// messages_fts index: reading and matching this many messages costs a few
// milliseconds, whatever else the database holds.
const scanMaxSeq = 2000

// SearchMessages implements confab.MessageStore, newest first, at a cost
// that grows with the conversation searched, not with the database.
//
// The messages_fts index (FTS5, unicode61 tokenizer with diacritics
// removed: case- and accent-insensitive) covers every conversation, and
// FTS5 answers a prefix query ("a"*) by merging the doclists of every
// indexed word with that prefix before it applies any rowid or join
// constraint: its cost is that of the whole database. So a conversation
// of at most scanMaxSeq messages is read from its own rows (the primary
// key's range) and matched here, with the same word rule and folding
// (confab.Words, internal/fold); a larger one, whose own size dominates,
// uses the index.
func (s *Store) SearchMessages(ctx context.Context, conversationID, terms string, limit int) ([]*confab.Message, error) {
	q := ftsQuery(terms)
	if q == "" || limit <= 0 {
		return nil, nil
	}
	var lastSeq int64
	err := s.read.QueryRowContext(ctx, `SELECT last_seq FROM conversations WHERE conversation_id = ?`, conversationID).Scan(&lastSeq)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return nil, nil
	case err != nil:
		return nil, mapErr("search messages", err)
	case lastSeq <= scanMaxSeq && !s.searchIndexOnly:
		return s.scanSearch(ctx, conversationID, terms, limit)
	}
	rows, err := s.read.QueryContext(ctx, `SELECT `+msgColumnsOf("m")+`
		FROM messages_fts f JOIN messages m ON m.rowid = f.rowid
		WHERE messages_fts MATCH ? AND m.conversation_id = ? AND m.deleted = 0
		ORDER BY f.rowid DESC LIMIT ?`, q, conversationID, limit)
	if err != nil {
		return nil, mapErr("search messages", err)
	}
	// Within a conversation rowid order is seq order: the writer inserts
	// a conversation's messages in seq order, and SQLite gives each new
	// row a rowid above every row present (the largest plus one), which
	// holds after PurgeMessages removed rows too. FTS5 walks rowids in
	// order and stops at the limit instead of sorting every match.
	return scanMessages(rows, "search messages")
}

// scanSearch reads the conversation's live messages newest first and
// keeps those that match terms, up to limit.
func (s *Store) scanSearch(ctx context.Context, conversationID, terms string, limit int) ([]*confab.Message, error) {
	words := confab.SearchWords(fold.String(terms))
	rows, err := s.read.QueryContext(ctx, `SELECT `+msgColumns+` FROM messages
		WHERE conversation_id = ? AND deleted = 0 ORDER BY seq DESC`, conversationID)
	if err != nil {
		return nil, mapErr("search messages", err)
	}
	defer rows.Close()
	var found []*confab.Message
	for len(found) < limit && rows.Next() {
		m, err := scanMessage(rows)
		if err != nil {
			return nil, mapErr("search messages", err)
		}
		if matches(m.Content, words) {
			found = append(found, m)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, mapErr("search messages", err)
	}
	return found, nil
}

// matches reports whether every one of words (folded) is a prefix of a
// word of content: what the FTS5 query of ftsQuery matches.
func matches(content string, words []string) bool {
	have := confab.Words(fold.String(content))
	for _, w := range words {
		found := false
		for _, h := range have {
			if strings.HasPrefix(h, w) {
				found = true
				break
			}
		}
		if !found {
			return false
		}
	}
	return true
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
