package postgres

import (
	"strings"
	"unicode/utf8"

	"github.com/confab-chat/confab"
	"github.com/confab-chat/confab/internal/fold"
)

// Full-text search: words are cut and folded here, in Go, and handed to
// PostgreSQL as lexemes (array_to_tsvector on insert, a tsquery literal on
// search), which the GIN index on messages.search matches. Doing it in Go
// rather than with to_tsvector('simple', …) gives diacritic folding (café
// matches cafe) without the unaccent extension, and one word rule for
// content and query, confab.Words, the one the SQLite store uses.

// maxLexemeBytes bounds one word, in bytes (PostgreSQL allows 2046). Longer
// words are cut to this length on both sides, so a long word still matches
// as a prefix.
const maxLexemeBytes = 255

// words returns the folded words of s in order, duplicates included, each
// cut to maxLexemeBytes.
func words(s string) []string {
	return cutAll(confab.Words(fold.String(s)))
}

func cutAll(ws []string) []string {
	for i, w := range ws {
		ws[i] = cut(w, maxLexemeBytes)
	}
	return ws
}

// cut returns s cut to at most n bytes on a rune boundary.
func cut(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// lexemes returns the distinct folded words of content, for the message's
// tsvector.
func lexemes(content string) []string {
	ws := words(content)
	seen := make(map[string]bool, len(ws))
	out := ws[:0]
	for _, w := range ws {
		if !seen[w] {
			seen[w] = true
			out = append(out, w)
		}
	}
	return out
}

// tsquery turns plain text into a tsquery literal that matches every word
// as a prefix: 'w1':* & 'w2':*. Words hold only letters, digits and marks,
// so there is nothing to escape; quote and backslash are escaped anyway so
// the literal stays safe if the word rule ever changes. "" when terms has
// no word.
func tsquery(terms string) string {
	ws := cutAll(confab.SearchWords(fold.String(terms)))
	parts := make([]string, len(ws))
	for i, w := range ws {
		w = strings.ReplaceAll(w, `\`, `\\`)
		w = strings.ReplaceAll(w, `'`, `''`)
		parts[i] = `'` + w + `':*`
	}
	return strings.Join(parts, " & ")
}
