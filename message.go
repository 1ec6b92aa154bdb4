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
	// DeletedBy is who deleted the message when that was not its author (a
	// moderator): the tombstone says so. Empty otherwise.
	DeletedBy string
	// SlowMode is input to AppendMessage only, never stored: when
	// positive, the store refuses the message with CodeLimited (nothing
	// written) if the author's Member.LastPostedAt is less than SlowMode
	// before CreatedAt, and otherwise sets LastPostedAt to CreatedAt in
	// the same transaction.
	SlowMode time.Duration

	// ChangeSeq is the ChangeSeq of the latest change to the message in its
	// conversation's change log (sent, edited, deleted, reacted to, or, for
	// a thread root, replied to): a client keeps the copy with the highest.
	ChangeSeq int64
	// EditedAt is when the content was last edited; nil when never.
	EditedAt *time.Time
	// Mentions are the user ids the message mentions, each a member when it
	// was sent, in the order given, at most MaxMentions.
	Mentions []string

	// ParentMessageID makes the message a reply in the thread of that
	// message, the thread's root (never itself a reply). A reply has its
	// own Seq like any message; it is in the conversation's timeline
	// (ListMessages) only when AlsoInConversation.
	ParentMessageID    string
	AlsoInConversation bool
	// ReplyCount, LastReplyAt and ReplyUserIDs describe a root's thread:
	// its live replies, when the newest was sent, and the distinct authors
	// of replies, most recent first, at most MaxReplyUsers.
	ReplyCount   int
	LastReplyAt  *time.Time
	ReplyUserIDs []string
}

// InTimeline reports whether m shows in the conversation's timeline: every
// message that is not a reply, and replies also sent to the conversation.
func (m *Message) InTimeline() bool { return m.ParentMessageID == "" || m.AlsoInConversation }

// Limits on messages.
const (
	DefaultMaxContentBytes = 16 << 10 // default largest content of one message, in bytes
	MaxClientTokenBytes    = 128
)
