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
)

// Event is something that happened after a commit. Exactly one of Message,
// Conversation and User is set, matching Kind.
type Event struct {
	Kind           EventKind
	ConversationID string
	Message        *Message
	Conversation   *Conversation
	User           *User
	At             time.Time
}

// ConversationTopic is the topic of a conversation's messages and presence.
func ConversationTopic(conversationID string) string { return "conv." + conversationID }

// UserTopic is the topic of the conversation updates a user should see.
func UserTopic(userID string) string { return "user." + userID }

type wakeKey struct{}

// WithWake returns a context carrying wake, a function a stream producer
// calls (without blocking) each time it has put one item on a channel it
// returned. WebSocket transports use it to start a writer only when there is
// something to write instead of parking a goroutine on every subscription.
func WithWake(ctx context.Context, wake func()) context.Context {
	return context.WithValue(ctx, wakeKey{}, wake)
}

// WakeFrom returns the function stored by WithWake, or nil.
func WakeFrom(ctx context.Context) func() {
	f, _ := ctx.Value(wakeKey{}).(func())
	return f
}
