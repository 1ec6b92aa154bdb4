package confab_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/confab-chat/confab"
)

func TestValidText(t *testing.T) {
	tests := []struct {
		name string
		s    string
		max  int
		want bool
	}{
		{"OK", "héllo", 6, true},
		{"OKEmpty", "", 0, true},
		{"ErrTooLong", "héllo", 5, false},
		{"ErrNUL", "a\x00b", 10, false},
		{"ErrBadUTF8", "a\xffb", 10, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := confab.ValidText(tt.s, tt.max); got != tt.want {
				t.Errorf("ValidText(%q, %d) = %v, want %v", tt.s, tt.max, got, tt.want)
			}
			if err := confab.CheckText("field", tt.s, tt.max); (err == nil) != tt.want ||
				(err != nil && confab.ErrorCode(err) != confab.CodeInvalid) {
				t.Errorf("CheckText(%q, %d) = %v, want valid %v", tt.s, tt.max, err, tt.want)
			}
		})
	}
	if confab.ValidID("") || confab.ValidID(strings.Repeat("a", confab.MaxIDBytes+1)) || !confab.ValidID("c-1") {
		t.Error("ValidID does not follow ValidText(id, MaxIDBytes) for a non-empty id")
	}
}

func TestPreview(t *testing.T) {
	long := strings.Repeat("é", confab.MaxLastMessageLength)
	tests := []struct{ name, in, want string }{
		{"Short", "hi", "hi"},
		{"Exact", long, long},
		{"CutToRunes", long + "ü tail", long},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := confab.Preview(tt.in); got != tt.want {
				t.Errorf("Preview = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestSearchWords(t *testing.T) {
	many := strings.Repeat("w ", confab.MaxSearchWords+3)
	tests := []struct {
		name, in string
		want     []string
	}{
		{"Punctuation", `lunch, "pizza"* AND-col:x`, []string{"lunch", "pizza", "AND", "col", "x"}},
		{"LettersDigitsMarks", "café 42 e\u0301", []string{"café", "42", "e\u0301"}},
		{"NoWords", " ,.;\x00 ", nil},
		{"Bounded", many, slices.Repeat([]string{"w"}, confab.MaxSearchWords)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := confab.SearchWords(tt.in); !slices.Equal(got, tt.want) {
				t.Errorf("SearchWords(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
	if got := confab.Words(many); len(got) != confab.MaxSearchWords+3 {
		t.Errorf("Words kept %d words, want all %d", len(got), confab.MaxSearchWords+3)
	}
}

func TestConversation_ActivityAt(t *testing.T) {
	created := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	c := &confab.Conversation{CreatedAt: created}
	if got := c.ActivityAt(); !got.Equal(created) {
		t.Errorf("ActivityAt before any message = %v, want CreatedAt %v", got, created)
	}
	last := created.Add(time.Hour)
	c.LastMessageAt = &last
	if got := c.ActivityAt(); !got.Equal(last) {
		t.Errorf("ActivityAt = %v, want LastMessageAt %v", got, last)
	}
}

// Display names refuse what lets a stranger pass for someone (issue 18: a
// copied name + U+200B) or reorder what follows (bidi overrides).
func TestValidName(t *testing.T) {
	tests := []struct {
		name string
		s    string
		want bool
	}{
		{"OK", "Ann Smith", true},
		{"OKAccents", "Zoë Ångström", true},
		{"OKCJK", "山田太郎", true},
		{"OKEmoji", "Ann 🎉", true},
		{"OKEmpty", "", true},
		{"ErrZeroWidthSpace", "Ann\u200b", false},
		{"ErrZeroWidthJoiner", "An\u200dn", false},
		{"ErrZeroWidthNonJoiner", "An\u200cn", false},
		{"ErrWordJoiner", "An\u2060n", false},
		{"ErrBOM", "\ufeffAnn", false},
		{"ErrRightToLeftOverride", "Ann\u202egpj.exe", false},
		{"ErrRightToLeftIsolate", "Ann\u2067x", false},
		{"ErrLeftToRightMark", "Ann\u200e", false},
		{"ErrArabicLetterMark", "Ann\u061c", false},
		{"ErrTab", "Ann\tSmith", false},
		{"ErrNewline", "Ann\nSmith", false},
		{"ErrDEL", "Ann\x7f", false},
		{"ErrC1", "Ann\u0085", false},
		{"ErrLineSeparator", "Ann\u2028", false},
		{"ErrHangulFiller", "\u3164", false},
		{"ErrTag", "Ann\U000E0041", false},
		{"ErrNUL", "a\x00b", false},
		{"ErrTooLong", strings.Repeat("a", 21), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := confab.ValidName(tt.s, 20); got != tt.want {
				t.Errorf("ValidName(%q) = %v, want %v", tt.s, got, tt.want)
			}
			if err := confab.CheckName("displayName", tt.s, 20); (err == nil) != tt.want || (err != nil && confab.ErrorCode(err) != confab.CodeInvalid) {
				t.Errorf("CheckName(%q) = %v, want valid %v", tt.s, err, tt.want)
			}
		})
	}
}
