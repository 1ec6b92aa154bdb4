package confab

import "time"

// MessageType is the kind of a message, as in the schema's enum.
type MessageType string

// Message types. Clients may not send MessageSystem.
const (
	MessageText   MessageType = "TEXT"
	MessageImage  MessageType = "IMAGE"
	MessageFile   MessageType = "FILE"
	MessageSystem MessageType = "SYSTEM"
)

// Valid reports whether t is one of the schema's message types.
func (t MessageType) Valid() bool {
	switch t {
	case MessageText, MessageImage, MessageFile, MessageSystem:
		return true
	}
	return false
}

// Message is one message of a conversation. Seq is gapless and increasing
// within its conversation; MessageID is unique and time-ordered (UUIDv7).
type Message struct {
	MessageID      string
	ConversationID string
	Seq            int64
	UserID         string
	Content        string
	MessageType    MessageType
	CreatedAt      time.Time
	UpdatedAt      *time.Time
	Deleted        bool
	// ClientToken is the sender's idempotency key; empty when none was given.
	// It never leaves the server.
	ClientToken string
}

// Limits on messages.
const (
	DefaultMaxContentBytes = 16 << 10 // default largest content of one message, in bytes
	MaxClientTokenBytes    = 128
)
