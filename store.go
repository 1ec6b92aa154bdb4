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
	ChangeStore
	PresenceStore
	ModerationStore

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
	// InsertConversation creates c with c.Members (each with its Role) and
	// c.Settings. Every member must be an existing user (otherwise
	// CodeNotFound). A Direct conversation is unique per pair of members
	// (DirectKey): when the pair already has one it is CodeConflict and
	// nothing is written.
	InsertConversation(ctx context.Context, c *Conversation) error
	// GetDirectConversation returns the direct conversation of the two
	// users; CodeNotFound when they have none.
	GetDirectConversation(ctx context.Context, userID, otherID string) (*Conversation, error)
	// GetConversation returns a conversation with its members.
	GetConversation(ctx context.Context, conversationID string) (*Conversation, error)
	// UpdateConversation applies u (its non-nil fields; Archived true sets
	// ArchivedAt to at, false clears it) and sets UpdatedAt, appends a
	// CONVERSATION_UPDATED change by userID (LastChangeSeq), and returns
	// the conversation as stored afterwards.
	UpdateConversation(ctx context.Context, conversationID, userID string, u ConversationUpdate, at time.Time) (*Conversation, error)
	// AddMembers adds members (each with UserID, Role and JoinedAt set)
	// who are not members yet, in order; those who are are skipped. In the
	// same transaction it appends one MEMBER_ADDED change by byUserID per
	// member added (Change.Member set) and, when the store has an outbox,
	// a member.added event each, and sets UpdatedAt to at. It returns the
	// members added and the conversation afterwards. CodeNotFound when the
	// conversation or one of the users does not exist; CodeLimited, with
	// nothing written, when the conversation would have more than
	// maxMembers members.
	AddMembers(ctx context.Context, conversationID, byUserID string, members []Member, maxMembers int, at time.Time) (added []Member, c *Conversation, err error)
	// RemoveMember removes userID from the conversation (their read marks
	// and thread marks with them), appends a MEMBER_REMOVED change by
	// byUserID and (with an outbox) a member.removed event, sets
	// UpdatedAt, and returns the conversation afterwards. CodeNotFound when
	// userID is not a member.
	RemoveMember(ctx context.Context, conversationID, userID, byUserID string, at time.Time) (*Conversation, error)
	// UpdateMembers applies every update (all or none) and appends one
	// MEMBER_UPDATED change by byUserID per member changed, sets
	// UpdatedAt, and returns the conversation afterwards. CodeNotFound
	// when one of them is not a member (nothing written).
	UpdateMembers(ctx context.Context, conversationID, byUserID string, updates []MemberUpdate, at time.Time) (*Conversation, error)
	// ListConversations returns a page of the conversations userID is a
	// member of, most recent activity first (Conversation.ActivityAt), ties
	// broken by ConversationID. Each
	// conversation includes its members.
	ListConversations(ctx context.Context, userID string, p ConversationPage) ([]*Conversation, error)
	// ListConversationIDs returns the ids of every conversation userID is a
	// member of (for presence fan-out). At most limit ids.
	ListConversationIDs(ctx context.Context, userID string, limit int) ([]string, error)
	// MarkRead raises a member's LastReadSeq to seq and sets LastReadAt to
	// at; when seq is not above LastReadSeq nothing changes (a mark never
	// moves back). UnreadMentions follows the new mark. CodeNotFound if
	// userID is not a member.
	MarkRead(ctx context.Context, conversationID, userID string, seq int64, at time.Time) error
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
	// CodeNotFound if the conversation does not exist. When m.SlowMode is
	// positive the author's slow mode is checked and kept in the same
	// transaction (see Message.SlowMode).
	//
	// In the same transaction it appends the MESSAGE_SENT change (m.ChangeSeq)
	// and keeps m.Mentions (Member.UnreadMentions of each mentioned member
	// but the author rises). When m.ParentMessageID is set, the root must be
	// a live message of the conversation (else CodeNotFound and nothing is
	// written); its ReplyCount rises, LastReplyAt becomes m.CreatedAt, the
	// author moves to the front of its ReplyUserIDs (at most MaxReplyUsers),
	// and a THREAD_UPDATED change of the root follows (m.ChangeSeq+1; the
	// root's ChangeSeq). Every message, reply or not, sets LastSeq,
	// LastMessage, LastMessageAt and MessageCount as above.
	AppendMessage(ctx context.Context, m *Message) (created bool, err error)
	// GetMessage returns a message that is not deleted.
	GetMessage(ctx context.Context, conversationID, messageID string) (*Message, error)
	// EditMessage replaces the content of a live message, keeps the
	// content it replaces as a MessageEdit, sets EditedAt and UpdatedAt to
	// at, appends a MESSAGE_EDITED change, and in the same transaction
	// reindexes it for search and, when it is the conversation's newest
	// live message, sets LastMessage to Preview(content). It returns the
	// message afterwards. CodeNotFound when there is no live message.
	EditMessage(ctx context.Context, conversationID, messageID, content string, at time.Time) (*Message, error)
	// ListMessageEdits returns up to limit earlier versions of a message
	// (deleted or not), newest first. Empty when it was never edited.
	ListMessageEdits(ctx context.Context, conversationID, messageID string, limit int) ([]*MessageEdit, error)
	// DeleteMessage marks a message deleted, sets its UpdatedAt, and in the
	// same transaction decrements MessageCount and, when it was the newest
	// live message, resets LastMessage/LastMessageAt to the newest live one
	// (nil when none), removes it from search, and appends a
	// MESSAGE_DELETED change by byUserID (the returned message's ChangeSeq).
	// When byUserID is neither "" nor the author (a moderator), the
	// message's DeletedBy becomes byUserID, kept with the tombstone. When it is
	// a reply, its root's ReplyCount drops and a THREAD_UPDATED change of
	// the root follows (+1). Seqs are never reused. It returns the message
	// as it was before deletion (but with the new ChangeSeq), and the
	// conversation after.
	DeleteMessage(ctx context.Context, conversationID, messageID, byUserID string, at time.Time) (*Message, *Conversation, error)
	// ListMessages returns up to limit live messages of the conversation's
	// timeline (Message.InTimeline) with seq < beforeSeq (all when
	// beforeSeq <= 0), newest first.
	ListMessages(ctx context.Context, conversationID string, beforeSeq int64, limit int) ([]*Message, error)
	// ListThread returns a page of the live replies of a root (see
	// ThreadPage). Empty when the root has none or does not exist.
	ListThread(ctx context.Context, conversationID, rootID string, p ThreadPage) ([]*Message, error)
	// ListMessagesAfter returns up to limit messages with seq > afterSeq,
	// oldest first, deleted ones included (Deleted set, for resume).
	ListMessagesAfter(ctx context.Context, conversationID string, afterSeq int64, limit int) ([]*Message, error)
	// SearchMessages returns up to limit live messages of the conversation
	// whose content matches every word of SearchWords(terms) as a word of
	// Words(content) or its prefix (case-insensitive), newest first; nothing
	// when terms has no word. terms is plain text, never query syntax: any
	// character is safe.
	SearchMessages(ctx context.Context, conversationID, terms string, limit int) ([]*Message, error)
	// SearchAllMessages is SearchMessages over every conversation userID is
	// a member of now, newest first by MessageID (time-ordered), only ids
	// below beforeID when it is non-empty.
	SearchAllMessages(ctx context.Context, userID, terms, beforeID string, limit int) ([]*Message, error)
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
	// the transaction. The purged messages' edits, reactions, mentions and
	// change log entries go with them (ListChanges then skips those
	// ChangeSeqs); thread roots left keep their counts.
	PurgeMessages(ctx context.Context, before time.Time, limit int) (int, error)
}

// ChangeStore keeps each conversation's change log (see Change), and the
// reactions and thread read marks whose changes it records. The log is
// written by the MessageStore and ConversationStore methods named on
// Change and by AddReaction/RemoveReaction; it is only read here.
type ChangeStore interface {
	// ListChanges returns up to limit changes of the conversation with
	// ChangeSeq > afterChange, oldest first, each with Message as it is now
	// (for message and reaction kinds; deleted messages included, Deleted
	// set). ChangeSeqs are gapless except where retention purged messages.
	ListChanges(ctx context.Context, conversationID string, afterChange int64, limit int) ([]*Change, error)

	// AddReaction adds r unless the user already reacted to the message
	// with r.Key (then added is false and nothing is written). A new key
	// on a message that already has maxKeys distinct keys is CodeLimited,
	// nothing written. It appends REACTION_ADDED and returns the message
	// afterwards (its ChangeSeq is the change's). CodeNotFound when the
	// message is not live.
	AddReaction(ctx context.Context, r *Reaction, maxKeys int) (added bool, m *Message, err error)
	// RemoveReaction removes the user's reaction with key (removed false
	// and nothing written when there is none), appends REACTION_REMOVED,
	// and returns the message afterwards. CodeNotFound when the message is
	// not live.
	RemoveReaction(ctx context.Context, r *Reaction) (removed bool, m *Message, err error)
	// ListReactions returns, for each of messageIDs (of one conversation)
	// that has reactions, its ReactionCounts in FirstAt order, each with
	// at most usersPerKey UserIDs and ByUser set for userID. One read for
	// the whole page: at most MaxPageLimit ids.
	ListReactions(ctx context.Context, conversationID string, messageIDs []string, userID string, usersPerKey int) (map[string][]ReactionCount, error)

	// MarkThreadRead raises userID's read mark in the thread of rootID to
	// seq (never lowers it).
	MarkThreadRead(ctx context.Context, conversationID, rootID, userID string, seq int64) error
	// CountUnreadReplies returns, for each of rootIDs (of one conversation,
	// at most MaxPageLimit) with any, the number of its live replies by
	// other users than userID with a seq above userID's thread mark.
	CountUnreadReplies(ctx context.Context, conversationID, userID string, rootIDs []string) (map[string]int, error)
}
