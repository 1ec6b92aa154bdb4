package chat

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"

	"github.com/confab-chat/confab"
)

// cursor is the position a nextToken stands for. Tokens are opaque to
// clients: base64url(JSON) followed by a truncated HMAC that binds the
// position to its list (kind) and owner (a conversation or a user), so a
// tampered token or one replayed against another list is refused.
type cursor struct {
	Seq int64  `json:"s,omitempty"` // messages: the page ends before this seq
	At  int64  `json:"a,omitempty"` // conversations: activity of the last item (Unix ms)
	ID  string `json:"i,omitempty"` // conversations: id of the last item
}

const macBytes = 16

// maxCursorBytes bounds a nextToken before any decoding work.
const maxCursorBytes = 512

func (s *Service) cursorMAC(kind, owner string, body []byte) []byte {
	m := hmac.New(sha256.New, s.cfg.CursorKey)
	m.Write([]byte(kind))
	m.Write([]byte{0})
	m.Write([]byte(owner))
	m.Write([]byte{0})
	m.Write(body)
	return m.Sum(nil)[:macBytes]
}

func (s *Service) encodeCursor(kind, owner string, c cursor) string {
	body, _ := json.Marshal(c) // a struct of ints and a string always marshals
	return base64.RawURLEncoding.EncodeToString(append(body, s.cursorMAC(kind, owner, body)...))
}

func (s *Service) decodeCursor(token, kind, owner string, c *cursor) error {
	bad := confab.Errorf(confab.CodeInvalid, "nextToken is invalid.")
	if len(token) > maxCursorBytes {
		return bad
	}
	raw, err := base64.RawURLEncoding.DecodeString(token)
	if err != nil || len(raw) <= macBytes {
		return bad
	}
	body, mac := raw[:len(raw)-macBytes], raw[len(raw)-macBytes:]
	if !hmac.Equal(mac, s.cursorMAC(kind, owner, body)) {
		return bad
	}
	if err := json.Unmarshal(body, c); err != nil {
		return bad
	}
	return nil
}
