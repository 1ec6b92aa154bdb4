package postgres

import (
	"fmt"
	"strings"
	"testing"

	"github.com/confab-chat/confab"
)

func TestTSQuery(t *testing.T) {
	tests := []struct {
		name  string
		terms string
		want  string
	}{
		{"OneWord", "pizza", `'pizza':*`},
		{"CaseFolded", "PIZZ", `'pizz':*`},
		{"DiacriticsFolded", "Café CRÈME", `'cafe':* & 'creme':*`},
		{"PunctuationSplits", "lunch, pizzeria!", `'lunch':* & 'pizzeria':*`},
		{"QuotesAndOperators", `" OR 1=1 --`, `'or':* & '1':* & '1':*`},
		{"SQLInjection", `'); DROP TABLE messages; --`, `'drop':* & 'table':* & 'messages':*`},
		{"TSQuerySyntax", `a:* & !b | (c <-> d)`, `'a':* & 'b':* & 'c':* & 'd':*`},
		{"NoWords", `* ' " ) ^ \`, ""},
		{"NUL", "\x00", ""},
		{"InvalidUTF8", "ab\xffcd", `'ab':* & 'cd':*`},
		{"OtherScripts", "Привет мир", `'привет':* & 'мир':*`},
		{"MarksStayInWords", "हिन्दी", `'हिन्दी':*`},
		{"Ligature", "ﬁle", `'file':*`},
		{"TooManyWords", strings.Repeat("w ", 40), strings.TrimSuffix(strings.Repeat(`'w':* & `, confab.MaxSearchWords), " & ")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tsquery(tt.terms); got != tt.want {
				t.Fatalf("tsquery(%q) = %q, want %q", tt.terms, got, tt.want)
			}
		})
	}
}

func TestLexemes(t *testing.T) {
	tests := []struct {
		name    string
		content string
		want    []string
	}{
		{"Distinct", "pizza again, PIZZA café", []string{"pizza", "again", "cafe"}},
		{"Empty", "  ...  ", []string{}},
		{"LongWordCut", strings.Repeat("é", 300), []string{strings.Repeat("e", maxLexemeBytes)}},
		{"LongWordCutOnRune", strings.Repeat("ж", 300), []string{strings.Repeat("ж", maxLexemeBytes/2)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := lexemes(tt.content); fmt.Sprintf("%q", got) != fmt.Sprintf("%q", tt.want) {
				t.Fatalf("lexemes(%q) = %q, want %q", tt.content, got, tt.want)
			}
		})
	}
}
