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
