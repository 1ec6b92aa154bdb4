package confab

import "time"

// Conversation is a chat between its members. LastSeq is the seq of the
// newest message ever appended (deleted ones included), so a member's unread
// count is LastSeq - LastReadSeq.
type Conversation struct {
	ConversationID string
	Name           *string
	CreatedBy      string
	CreatedAt      time.Time
	UpdatedAt      *time.Time
	LastMessage    *string
	LastMessageAt  *time.Time
	MessageCount   int // messages not deleted
	LastSeq        int64
	// LastChangeSeq is the ChangeSeq of the newest entry of the
	// conversation's change log (0 before any change).
	LastChangeSeq int64
	Members       []Member // ordered by JoinedAt, then UserID

	// Direct marks a conversation of exactly two people, unique per pair
	// (DirectKey): it never gains or loses members.
	Direct bool
	// Settings say who may add members, post and react, and the slow mode.
	Settings ConversationSettings
	// ArchivedAt is when an admin archived the conversation (read-only for
	// everyone since); nil when it is not archived.
	ArchivedAt *time.Time
}

// ActivityAt is when the conversation was last active: its LastMessageAt,
// or CreatedAt before any message. Conversation lists are ordered by it,
// newest first.
func (c *Conversation) ActivityAt() time.Time {
	if c.LastMessageAt != nil {
		return *c.LastMessageAt
	}
	return c.CreatedAt
}

// Participants returns the members' user ids in Members order.
func (c *Conversation) Participants() []string {
	ids := make([]string, len(c.Members))
	for i, m := range c.Members {
		ids[i] = m.UserID
	}
	return ids
}

// Member returns the membership of userID, or nil if userID is not a member.
func (c *Conversation) Member(userID string) *Member {
	for i := range c.Members {
		if c.Members[i].UserID == userID {
			return &c.Members[i]
		}
	}
	return nil
}

// Member is one user's membership in a conversation.
type Member struct {
	UserID      string
	JoinedAt    time.Time
	LastReadSeq int64
	// LastReadAt is when LastReadSeq last rose; nil before the first mark.
	LastReadAt *time.Time
	// UnreadMentions is the number of live messages with a seq above
	// LastReadSeq that mention the member.
	UnreadMentions int

	// Role is the member's role ("" reads as RoleMember: rows older than
	// roles; the creator of such a conversation reads as RoleOwner).
	Role Role
	// MutedUntil is the end of a moderator's mute: until then the member
	// may read but not post or react. Nil when not muted.
	MutedUntil *time.Time
	// LastPostedAt is when the member last sent a message in a
	// conversation with slow mode on (kept only then; see
	// Message.SlowMode).
	LastPostedAt *time.Time
}

// Limits on conversations. The service refuses input beyond them with
// CodeInvalid; stores rely on it.
const (
	MaxParticipants      = 100 // members of one conversation, creator included
	MaxConversationName  = 256 // bytes
	MaxIDBytes           = 64  // bytes of any id a client sends (conversation, message, user)
	DefaultPageLimit     = 50  // listMessages and listConversations when limit is absent
	MaxPageLimit         = 100 // largest limit accepted; larger is BAD_USER_INPUT
	MaxSearchTermBytes   = 256 // bytes of a searchTerm
	MaxSearchWords       = 16  // words of a searchTerm that count; later ones are ignored
	DefaultSearchLimit   = 20  // searchMessages when limit is absent
	MaxLastMessageLength = 200 // runes of content kept as a conversation's preview (Preview)
)
