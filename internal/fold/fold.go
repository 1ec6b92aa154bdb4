// Package fold is the case and diacritic folding of full-text search,
// for the stores that match words in Go: PostgreSQL always (its lexemes
// are folded here), SQLite when it scans a small conversation instead of
// its FTS5 index, whose unicode61 tokenizer (remove_diacritics 2) folds
// the same way, and DynamoDB, which has no text index at all.
package fold

import (
	"strings"
	"unicode"

	"golang.org/x/text/unicode/norm"
)

// String lowercases s and removes combining diacritical marks (é → e,
// ñ → n), leaving marks that are letters' vowel signs in other scripts
// alone. Invalid UTF-8 becomes a space.
func String(s string) string {
	s = norm.NFKD.String(strings.ToValidUTF8(s, " "))
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range s {
		if isDiacritic(r) {
			continue
		}
		b.WriteRune(unicode.ToLower(r))
	}
	return norm.NFC.String(b.String())
}

// isDiacritic reports whether r is in one of the Combining Diacritical
// Marks blocks.
func isDiacritic(r rune) bool {
	return (r >= 0x0300 && r <= 0x036F) || (r >= 0x1AB0 && r <= 0x1AFF) ||
		(r >= 0x1DC0 && r <= 0x1DFF) || (r >= 0x20D0 && r <= 0x20FF) || (r >= 0xFE20 && r <= 0xFE2F)
}
