package confab

import (
	"context"
	"time"
)

// EventKind names what happened.
type EventKind string

// Event kinds. Each is published on the topics named beside it.
const (
	EventMessageSent         EventKind = "message_sent"         // ConversationTopic
	EventMessageDeleted      EventKind = "message_deleted"      // ConversationTopic
	EventPresenceUpdated     EventKind = "presence_updated"     // ConversationTopic of every conversation of the user
	EventConversationUpdated EventKind = "conversation_updated" // UserTopic of every member
	EventSessionsRevoked     EventKind = "sessions_revoked"     // RevocationTopic; User carries only the UserID

	// EventChanged is a change of the conversation's change log that no
	// other kind above carries (MESSAGE_EDITED, REACTION_*, THREAD_UPDATED,
	// CONVERSATION_UPDATED). Change is set; so is Message for message kinds
	// and Conversation for CONVERSATION_UPDATED.
	EventChanged     EventKind = "changed"      // ConversationTopic
	EventTyping      EventKind = "typing"       // ConversationTopic; Typing set, never stored
	EventReadReceipt EventKind = "read_receipt" // ConversationTopic; ReadMark set (never for a user who hides receipts)

	// EventMembershipChanged says a conversation's members, roles,
	// settings or archived state changed: every node drops what it cached
	// of the conversation. The change itself travels on the
	// ConversationTopic (EventChanged with a MEMBER_* or
	// CONVERSATION_UPDATED Change), where a removed member's streams end.
	EventMembershipChanged EventKind = "membership_changed" // ControlTopic; ConversationID set
	// EventBlocksChanged says a user blocked or unblocked someone: every
	// node drops its cached block list of User.UserID.
	EventBlocksChanged EventKind = "blocks_changed" // ControlTopic; User carries only the UserID
	// EventInvited tells a user of a new invitation.
	EventInvited EventKind = "invited" // UserTopic of the invitee; Invitation set
)

// ControlTopic carries what every node must learn whatever it serves
// (cache invalidations), like RevocationTopic.
const ControlTopic = "chat.control"

// Event is something that happened after a commit (or, for EventTyping,
// just happened). Message, Conversation, User, Typing and ReadMark are set
// as Kind says. Change is set on every event that is an entry of the
// conversation's change log: message_sent and message_deleted (beside
// Message) and changed; the change stream (onConversationChanged) reads
// only that.
type Event struct {
	Kind           EventKind
	ConversationID string
	Message        *Message
	Conversation   *Conversation
	User           *User
	Change         *Change
	Typing         *Typing
	ReadMark       *ReadMark
	Invitation     *Invitation
	At             time.Time
}

// ConversationTopic is the topic of a conversation's messages and presence.
func ConversationTopic(conversationID string) string { return "conv." + conversationID }

// RevocationTopic is the topic on which a node tells the others that
// sign-ins of a user were revoked, so they stop trusting that user's cached
// tokens and close the user's connections at once.
const RevocationTopic = "auth.revoked"

// UserTopic is the topic of the conversation updates a user should see.
func UserTopic(userID string) string { return "user." + userID }

type hooksKey struct{}

// StreamHooks let a WebSocket transport drive subscription streams without
// parking a goroutine on each. A stream producer calls:
//   - Wake (without blocking) each time it has put one item on the channel
//     it returned, with that item, and once with nil when it closed the
//     channel: the transport learns what each pull will produce, in order;
//   - Evict when its bounded queue overflowed (the subscriber is too slow
//     and should reconnect and resume);
//   - Started once when the stream was created successfully (so a transport
//     can tell a live stream from an operation that failed at subscribe
//     time), with skip, which takes the oldest item off the channel without
//     it being rendered: a transport that already holds the rendering of
//     that very item (the same pointer, for another subscriber with the same
//     document) uses it instead. skip must only be called for an item Wake
//     announced and nobody has taken;
//   - Ready, if the transport sets it, once before Started, with ready: the
//     transport promises to call ready before each read of the channel (not
//     before skip). The producer may then return a channel of one item and
//     keep the items behind it in a queue that grows on demand, which
//     ready moves forward one at a time, instead of a channel buffer
//     allocated at its full bound for the subscription's whole life.
//
// Any may be nil.
type StreamHooks struct {
	Wake    func(item any)
	Evict   func(reason string)
	Started func(skip func())
	Ready   func(ready func())
}

// WithStreamHooks returns a context carrying h for the stream producers
// started under it.
func WithStreamHooks(ctx context.Context, h StreamHooks) context.Context {
	return context.WithValue(ctx, hooksKey{}, h)
}

// StreamHooksFrom returns the hooks stored by WithStreamHooks, or zero hooks.
func StreamHooksFrom(ctx context.Context) StreamHooks {
	h, _ := ctx.Value(hooksKey{}).(StreamHooks)
	return h
}
