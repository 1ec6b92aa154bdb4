package confab

import (
	"context"
	"time"
)

// Store persists users, conversations and messages. Every method is safe for
// concurrent use. One call is one unit of work: it either happens entirely or
// not at all. A Store holds no business rules (authorisation, validation,
// hashing) and never publishes events.
//
// Errors: GetX returns a *Error with CodeNotFound when the item is missing
// (never a nil item with a nil error); uniqueness violations are CodeConflict;
// a temporarily unreachable engine is CodeUnavailable. Anything else is a
// wrapped driver error. A store's errors carry a code and no user-facing
// Message: the service that called it words what the user sees (and
// ErrorMessage falls back on the code's generic text). Time values are
// stored with millisecond precision and returned in UTC.
//
// Input: the services (chat, auth) validate everything before it reaches
// a store, so a store receives valid values and enforces no limit of its
// own: every string is ValidText (no NUL, valid UTF-8) and within its
// Max… limit, and every limit is the service's, already defaulted. A limit
// that is not positive returns nothing (and PurgeMessages removes nothing),
// without an error, on every store alike.
//
// store/storetest checks this contract for every implementation.
type Store interface {
	UserStore
	TokenStore
	CredentialStore
	ConversationStore
	MessageStore
	PresenceStore

	// Ping reports whether the engine is reachable.
	Ping(ctx context.Context) error
	// Close releases the engine. Calls in flight finish first.
	Close() error
}

// UserStore keeps accounts and profiles.
type UserStore interface {
	// InsertAccount creates a user with its password hash. Email and
	// Username are each unique case-insensitively (ASCII case for
	// usernames, which are ASCII): a duplicate is CodeConflict.
	InsertAccount(ctx context.Context, a *Account) error
	// GetAccountByLogin returns the account whose email or username equals
	// login case-insensitively; when login is one user's email and
	// another's username, the email wins.
	GetAccountByLogin(ctx context.Context, login string) (*Account, error)
	// GetUser returns one user by id.
	GetUser(ctx context.Context, userID string) (*User, error)
	// GetUsers returns the users that exist among ids, in no particular
	// order; missing ids are left out. At most MaxPageLimit ids.
	GetUsers(ctx context.Context, ids []string) ([]*User, error)
	// UpdateUser applies u and returns the user as stored afterwards.
	UpdateUser(ctx context.Context, userID string, u UserUpdate) (*User, error)
}

// PresenceStore counts live connections per user and node, so that a user
// connected to several nodes is online until the last connection anywhere
// closes. Each node stamps its counts (a heartbeat); counts of a node whose
// stamp is older than staleBefore (a node that died) are not counted.
type PresenceStore interface {
	// AdjustConnections adds delta to the count of (userID, nodeID), stamps
	// it with now, and returns the user's total over all nodes stamped at or
	// after staleBefore. Atomic: concurrent adjustments see consistent totals.
	AdjustConnections(ctx context.Context, userID, nodeID string, delta int, now, staleBefore time.Time) (int, error)
	// TouchConnections stamps every count of nodeID with now.
	TouchConnections(ctx context.Context, nodeID string, now time.Time) error
}

// TokenStore keeps refresh tokens by their hash.
type TokenStore interface {
	// InsertRefreshToken stores a new token.
	InsertRefreshToken(ctx context.Context, t *RefreshToken) error
	// GetRefreshToken returns the token with the given hash.
	GetRefreshToken(ctx context.Context, hash string) (*RefreshToken, error)
	// RotateRefreshToken atomically marks the token oldHash used and inserts
	// next. If oldHash is already used or revoked it changes nothing and
	// returns CodeConflict, so exactly one of two racing rotations wins.
	RotateRefreshToken(ctx context.Context, oldHash string, next *RefreshToken) error
	// RevokeRefreshFamily revokes every token of the family.
	RevokeRefreshFamily(ctx context.Context, familyID string) error
	// GetRefreshFamily summarises the family's tokens: its user, the
	// CreatedAt of its oldest token, and whether it is revoked.
	// CodeNotFound when no token has the family.
	GetRefreshFamily(ctx context.Context, familyID string) (*RefreshFamily, error)
	// RevokeUserRefreshTokens revokes every refresh token of the user
	// (every family), and returns the ids of the families that had a token
	// not yet revoked.
	RevokeUserRefreshTokens(ctx context.Context, userID string) ([]string, error)
}

// CredentialStore keeps what proves an account and the one-time codes
// sent to it. The rules (hashing, expiry, attempt limits) live in auth.
type CredentialStore interface {
	// GetCredentials returns the account's credentials; an account with
	// none beyond its password hash gets the zero values. CodeNotFound when
	// the user does not exist.
	GetCredentials(ctx context.Context, userID string) (*Credentials, error)
	// UpdateCredentials applies u atomically (see CredentialsUpdate) and
	// sets the user's UpdatedAt. CodeNotFound when the user does not exist,
	// CodeConflict when the new email is another account's.
	UpdateCredentials(ctx context.Context, userID string, u CredentialsUpdate) error
	// DeleteAccount removes the user, its credentials, refresh tokens,
	// codes and memberships in one transaction. Messages and conversations
	// it created stay. CodeNotFound when the user does not exist.
	DeleteAccount(ctx context.Context, userID string) error
	// ListAccounts returns up to f.Limit accounts matching f, in UserID
	// order. CodeInvalid when f.Field is unknown or f.Limit is outside
	// 1..MaxPageLimit.
	ListAccounts(ctx context.Context, f AccountFilter) ([]*Account, error)

	// InsertVerificationCode stores c, replacing the user's code for the
	// same purpose (a new code invalidates the old one). CodeNotFound when
	// the user does not exist.
	InsertVerificationCode(ctx context.Context, c *VerificationCode) error
	// GetVerificationCode returns the user's code for purpose.
	GetVerificationCode(ctx context.Context, userID, purpose string) (*VerificationCode, error)
	// AddVerificationCodeAttempt increments the code's Attempts atomically
	// and returns the new count. CodeNotFound when there is no code.
	AddVerificationCodeAttempt(ctx context.Context, userID, purpose string) (int, error)
	// DeleteVerificationCode removes the code. CodeNotFound when there is
	// none, so of two concurrent uses of one code exactly one succeeds.
	DeleteVerificationCode(ctx context.Context, userID, purpose string) error
}

// ConversationStore keeps conversations and their members.
type ConversationStore interface {
	// InsertConversation creates c with c.Members. Every member must be an
	// existing user (otherwise CodeNotFound).
	InsertConversation(ctx context.Context, c *Conversation) error
	// GetConversation returns a conversation with its members.
	GetConversation(ctx context.Context, conversationID string) (*Conversation, error)
	// UpdateConversation sets the name (when name is non-nil) and UpdatedAt,
	// and returns the conversation as stored afterwards.
	UpdateConversation(ctx context.Context, conversationID string, name *string, at time.Time) (*Conversation, error)
	// ListConversations returns a page of the conversations userID is a
	// member of, most recent activity first (Conversation.ActivityAt), ties
	// broken by ConversationID. Each
	// conversation includes its members.
	ListConversations(ctx context.Context, userID string, p ConversationPage) ([]*Conversation, error)
	// ListConversationIDs returns the ids of every conversation userID is a
	// member of (for presence fan-out). At most limit ids.
	ListConversationIDs(ctx context.Context, userID string, limit int) ([]string, error)
	// MarkRead raises a member's LastReadSeq to seq (never lowers it).
	// CodeNotFound if userID is not a member.
	MarkRead(ctx context.Context, conversationID, userID string, seq int64) error
}

// ConversationPage selects a page of ListConversations. After, when non-nil,
// is the position of the last item of the previous page.
type ConversationPage struct {
	Limit int
	After *ActivityCursor
}

// ActivityCursor is a position in a user's conversation list.
type ActivityCursor struct {
	ActivityAt     time.Time
	ConversationID string
}

// MessageStore keeps messages.
type MessageStore interface {
	// AppendMessage assigns m.Seq = the conversation's LastSeq+1 and inserts
	// m, and in the same transaction sets the conversation's LastSeq,
	// LastMessage (Preview(m.Content)),
	// LastMessageAt (m.CreatedAt) and MessageCount+1. Seq is gapless and
	// strictly increasing per conversation under any concurrency. It
	// returns after the transaction is durable.
	//
	// If m.ClientToken is non-empty and a message of the same conversation
	// and user already has it, nothing is written: *m is replaced by the
	// stored message and created is false.
	// CodeNotFound if the conversation does not exist.
	AppendMessage(ctx context.Context, m *Message) (created bool, err error)
	// GetMessage returns a message that is not deleted.
	GetMessage(ctx context.Context, conversationID, messageID string) (*Message, error)
	// DeleteMessage marks a message deleted, sets its UpdatedAt, and in the
	// same transaction decrements MessageCount and, when it was the newest
	// live message, resets LastMessage/LastMessageAt to the newest live one
	// (nil when none). Seqs are never reused. It returns the message as it
	// was before deletion, and the conversation after.
	DeleteMessage(ctx context.Context, conversationID, messageID string, at time.Time) (*Message, *Conversation, error)
	// ListMessages returns up to limit live messages with seq < beforeSeq
	// (all when beforeSeq <= 0), newest first.
	ListMessages(ctx context.Context, conversationID string, beforeSeq int64, limit int) ([]*Message, error)
	// ListMessagesAfter returns up to limit messages with seq > afterSeq,
	// oldest first, deleted ones included (Deleted set, for resume).
	ListMessagesAfter(ctx context.Context, conversationID string, afterSeq int64, limit int) ([]*Message, error)
	// SearchMessages returns up to limit live messages of the conversation
	// whose content matches every word of SearchWords(terms) as a word of
	// Words(content) or its prefix (case-insensitive), newest first; nothing
	// when terms has no word. terms is plain text, never query syntax: any
	// character is safe.
	SearchMessages(ctx context.Context, conversationID, terms string, limit int) ([]*Message, error)
	// PurgeMessages deletes for good up to limit of the oldest messages
	// (by CreatedAt, across every conversation) created before before,
	// deleted ones included, and returns how many it removed; fewer than
	// limit means none older was left (unless another purge ran at the same
	// time). It is for retention: rows, previews and search index entries
	// are gone, not marked.
	//
	// One transaction: in it, each affected conversation's MessageCount
	// drops by the live messages removed, and LastMessage becomes the
	// preview of the newest live message left, nil when none is left (so
	// it changes only when the message it copied was removed). LastSeq and
	// LastMessageAt are kept: seqs are never reused and the conversation
	// list keeps its order. Purged messages are gone from every read,
	// search included; ListMessagesAfter then skips their seqs. Keep limit
	// small (hundreds): writers of the affected conversations wait for
	// the transaction.
	PurgeMessages(ctx context.Context, before time.Time, limit int) (int, error)
}
