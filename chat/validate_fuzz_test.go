package chat

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/confab-chat/confab"
)

// FuzzValidateMessage: any input is accepted only if it is a sendable
// message, and refused only with BAD_USER_INPUT.
func FuzzValidateMessage(f *testing.F) {
	s := New(nil, nil, Config{MaxContentBytes: 64})
	f.Cleanup(s.Close)
	f.Add("hello", "TEXT", "")
	f.Add("", "", "tok")
	f.Add("x", "SYSTEM", "")
	f.Add("\xff", "IMAGE", "")
	f.Add("a\x00b", "FILE", strings.Repeat("t", 200))
	f.Fuzz(func(t *testing.T, content, typ, token string) {
		in := SendMessageInput{Content: content, MessageType: confab.MessageType(typ), ClientToken: token}
		err := s.validateMessage(&in)
		if err != nil {
			if confab.ErrorCode(err) != confab.CodeInvalid {
				t.Fatalf("code %q", confab.ErrorCode(err))
			}
			return
		}
		if strings.TrimSpace(in.Content) == "" || len(in.Content) > 64 || !utf8.ValidString(in.Content) ||
			strings.ContainsRune(in.Content, 0) || in.MessageType == confab.MessageSystem || !in.MessageType.Valid() || len(in.ClientToken) > confab.MaxClientTokenBytes {
			t.Fatalf("accepted %+v", in)
		}
	})
}
