package confab

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// The rules for text that every store and both services (chat, auth)
// share. They live here, once, because the stores may import only this
// package; the services apply them to input, the stores to what they keep.

// ValidText reports whether s is text confab keeps: valid UTF-8, without
// NUL, at most maxBytes bytes. PostgreSQL's text holds neither NUL nor
// invalid UTF-8 and SQLite's holds both; the services refuse such input
// before it reaches any store, so every store keeps the same text.
func ValidText(s string, maxBytes int) bool {
	return len(s) <= maxBytes && utf8.ValidString(s) && strings.IndexByte(s, 0) < 0
}

// CheckText returns a CodeInvalid error naming field unless
// ValidText(s, maxBytes).
func CheckText(field, s string, maxBytes int) error {
	if !ValidText(s, maxBytes) {
		return Errorf(CodeInvalid, "%s must be valid UTF-8 of at most %d bytes, without NUL characters.", field, maxBytes)
	}
	return nil
}

// ValidName reports whether s is a name confab shows to people (a display
// name): ValidText(s, maxBytes), and without the characters that let one
// name pass for another or hide in it: control characters (Cc), format
// characters (Cf: bidi overrides and isolates such as U+202E, zero-width
// spaces and joiners such as U+200B and U+200D, the BOM, tag characters),
// line and paragraph separators, and blank fillers that render as nothing
// (U+115F, U+1160, U+3164, U+FFA0). Emoji sequences joined with U+200D are
// refused too: a rule with no exceptions is one a reader can check.
func ValidName(s string, maxBytes int) bool {
	if !ValidText(s, maxBytes) {
		return false
	}
	for _, r := range s {
		if unicode.In(r, unicode.Cc, unicode.Cf, unicode.Zl, unicode.Zp) {
			return false
		}
		switch r {
		case 0x115F, 0x1160, 0x3164, 0xFFA0:
			return false
		}
	}
	return true
}

// CheckName returns a CodeInvalid error naming field unless
// ValidName(s, maxBytes). Both services check display names with it.
func CheckName(field, s string, maxBytes int) error {
	if !ValidName(s, maxBytes) {
		return Errorf(CodeInvalid, "%s must be valid UTF-8 of at most %d bytes, without control, bidi-override or invisible characters.", field, maxBytes)
	}
	return nil
}

// ValidID reports whether id can name a stored item: 1 to MaxIDBytes bytes
// of valid text. An id that cannot is reported as not found, never sent
// to a store.
func ValidID(id string) bool {
	return id != "" && ValidText(id, MaxIDBytes)
}

// Preview is a conversation's LastMessage for content: its first
// MaxLastMessageLength runes. Stores that cut in SQL (substr, left) count
// runes the same way.
func Preview(content string) string {
	n := 0
	for i := range content {
		if n == MaxLastMessageLength {
			return content[:i]
		}
		n++
	}
	return content
}

// Words returns the words of s in order: runs of letters, digits and
// combining marks; every other character separates words, so no character
// of s can be query syntax to a search engine. It is the one word rule of
// search, for content and terms alike.
func Words(s string) []string {
	return strings.FieldsFunc(s, func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsNumber(r) && !unicode.IsMark(r)
	})
}

// SearchWords returns the words a search for terms matches: Words(terms),
// of which the first MaxSearchWords count and later ones are ignored. A
// message matches when it holds every one of them as a word or a word's
// prefix. No words: nothing matches.
func SearchWords(terms string) []string {
	w := Words(terms)
	return w[:min(len(w), MaxSearchWords)]
}
