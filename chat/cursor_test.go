package chat

import (
	"testing"

	"github.com/confab-chat/confab"
)

func TestCursor_RoundTrip(t *testing.T) {
	s := New(nil, nil, Config{CursorKey: []byte("k")})
	t.Cleanup(s.Close)
	tok := s.encodeCursor("messages", "conv-1", cursor{Seq: 42})
	var got cursor
	if err := s.decodeCursor(tok, "messages", "conv-1", &got); err != nil || got.Seq != 42 {
		t.Fatalf("decode = %+v, %v; want seq 42", got, err)
	}
	other := New(nil, nil, Config{CursorKey: []byte("other")})
	t.Cleanup(other.Close)
	tests := []struct {
		name, tok, kind, owner string
	}{
		{"ErrOtherOwner", tok, "messages", "conv-2"},
		{"ErrOtherKind", tok, "conversations", "conv-1"},
		{"ErrTruncated", tok[:len(tok)-1], "messages", "conv-1"},
		{"ErrGarbage", "!!!", "messages", "conv-1"},
		{"ErrEmpty", "", "messages", "conv-1"},
		{"ErrOtherKey", other.encodeCursor("messages", "conv-1", cursor{Seq: 42}), "messages", "conv-1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var c cursor
			if err := s.decodeCursor(tt.tok, tt.kind, tt.owner, &c); confab.ErrorCode(err) != confab.CodeInvalid {
				t.Fatalf("decode(%q) error = %v, want BAD_USER_INPUT", tt.tok, err)
			}
		})
	}
}

// FuzzDecodeCursor: any token either decodes to what was signed or is
// refused with BAD_USER_INPUT; it never panics.
func FuzzDecodeCursor(f *testing.F) {
	s := New(nil, nil, Config{CursorKey: []byte("fuzz")})
	f.Cleanup(s.Close)
	f.Add(s.encodeCursor("messages", "c", cursor{Seq: 7}))
	f.Add(s.encodeCursor("conversations", "c", cursor{At: 1, ID: "x"}))
	f.Add("")
	f.Add("eyJzIjoxfQ")
	f.Fuzz(func(t *testing.T, tok string) {
		var c cursor
		err := s.decodeCursor(tok, "messages", "c", &c)
		if err != nil && confab.ErrorCode(err) != confab.CodeInvalid {
			t.Fatalf("decode(%q) error = %v, want BAD_USER_INPUT", tok, err)
		}
		if err == nil && s.encodeCursor("messages", "c", c) == "" {
			t.Fatal("accepted a token that does not re-encode")
		}
	})
}
