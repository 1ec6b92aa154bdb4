package confab

import "time"

// ChangeKind names one kind of change in a conversation's change log.
type ChangeKind string

// Change kinds, as in the schema's ChangeKind enum.
const (
	ChangeMessageSent         ChangeKind = "MESSAGE_SENT"
	ChangeMessageEdited       ChangeKind = "MESSAGE_EDITED"
	ChangeMessageDeleted      ChangeKind = "MESSAGE_DELETED"
	ChangeReactionAdded       ChangeKind = "REACTION_ADDED"
	ChangeReactionRemoved     ChangeKind = "REACTION_REMOVED"
	ChangeThreadUpdated       ChangeKind = "THREAD_UPDATED" // a thread root's ReplyCount, LastReplyAt or ReplyUserIDs changed
	ChangeConversationUpdated ChangeKind = "CONVERSATION_UPDATED"
	ChangeMemberAdded         ChangeKind = "MEMBER_ADDED"   // MemberID joined (added, or accepted an invitation)
	ChangeMemberRemoved       ChangeKind = "MEMBER_REMOVED" // MemberID left, was removed or banned
	ChangeMemberUpdated       ChangeKind = "MEMBER_UPDATED" // MemberID's role or mute changed
)

// Change is one entry of a conversation's change log: every change to a
// conversation's content gets the conversation's next ChangeSeq (1, 2, 3…,
// gapless), in the same transaction as the change itself. A client that
// was away catches up by reading the changes after the last one it saw
// (syncConversation, onConversationChanged with afterChange), and ends
// with the state a fresh read shows.
//
// Which store methods append which changes:
//
//	AppendMessage      MESSAGE_SENT (Message.ChangeSeq); for a reply, then
//	                   THREAD_UPDATED of its root (Message.ChangeSeq+1)
//	EditMessage        MESSAGE_EDITED
//	DeleteMessage      MESSAGE_DELETED; for a reply, then THREAD_UPDATED of
//	                   its root (+1)
//	AddReaction        REACTION_ADDED (only when the reaction is new)
//	RemoveReaction     REACTION_REMOVED (only when there was one)
//	UpdateConversation CONVERSATION_UPDATED
//	AddMembers         MEMBER_ADDED, one per member added
//	RemoveMember       MEMBER_REMOVED
//	UpdateMembers      MEMBER_UPDATED, one per member changed
//
// Nothing else (read marks, presence, typing) is a change.
type Change struct {
	ConversationID string
	ChangeSeq      int64
	Kind           ChangeKind
	At             time.Time
	UserID         string // who made the change
	MessageID      string // the message it is about; "" for CONVERSATION_UPDATED
	ReactionKey    string // REACTION_ADDED and REACTION_REMOVED only
	// MemberID is the member a MEMBER_* change is about; Member is that
	// membership right after the change (nil for MEMBER_REMOVED).
	MemberID string
	Member   *Member

	// Message is the message the change is about: as it is now when read
	// by ListChanges (Deleted set for a tombstone), as it was right after
	// the change when carried by an Event. Nil for CONVERSATION_UPDATED
	// and MEMBER_*.
	Message *Message
}

// MessageEdit is one earlier version of a message's content, kept when an
// edit replaced it.
type MessageEdit struct {
	Content    string
	At         time.Time // when this version was written (sent, or an earlier edit)
	ReplacedAt time.Time // when the edit that replaced it was made
}

// Reaction is one user's reaction with one key to one message.
type Reaction struct {
	ConversationID string
	MessageID      string
	UserID         string
	Key            string
	At             time.Time
}

// ReactionCount summarises the reactions with one key on one message.
type ReactionCount struct {
	Key     string
	Count   int
	UserIDs []string  // the earliest reactors first, at most as many as the read asked for
	ByUser  bool      // the user the read was made for reacted with Key
	FirstAt time.Time // the key's first reaction; keys are listed in this order, then by Key
}

// Typing says that a user started or stopped typing in a conversation.
// It is never stored: it travels on the conversation's topic only.
type Typing struct {
	ConversationID string
	UserID         string
	Typing         bool
	At             time.Time
}

// ReadMark is how far one member has read a conversation (a read receipt).
type ReadMark struct {
	ConversationID string
	UserID         string
	Seq            int64
	At             time.Time // zero for a mark older than the field (then unknown)
}

// ThreadPage selects a page of a thread's replies: replies with seq above
// AfterSeq (oldest first) or, when NewestFirst, below BeforeSeq (all when
// BeforeSeq <= 0), at most Limit.
type ThreadPage struct {
	Limit       int
	NewestFirst bool
	AfterSeq    int64
	BeforeSeq   int64
}

// Limits on the conversation features. The service refuses input beyond
// them with CodeInvalid (or CodeLimited where it says so); stores rely on it.
const (
	MaxReactionKeyBytes    = 64  // bytes of a reaction key (an emoji sequence or a :name:)
	DefaultMaxReactionKeys = 50  // distinct keys on one message (as Mattermost); more is CodeLimited
	DefaultReactionUsers   = 10  // ReactionCount.UserIDs when the read gives no limit
	MaxMentions            = 50  // user ids one message may mention
	MaxReplyUsers          = 10  // Message.ReplyUserIDs kept on a thread root
	DefaultEditsLimit      = 20  // Message.edits when limit is absent
	DefaultSyncLimit       = 100 // syncConversation when limit is absent (at most MaxPageLimit)
)
