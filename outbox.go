package confab

import (
	"context"
	"encoding/json"
	"time"
)

// OutboxEvent names an event that leaves the process (a webhook, later a
// notification). The names are on the wire (docs/webhooks.md): they never
// change meaning.
type OutboxEvent string

// The outbox events.
const (
	OutboxMessageSent         OutboxEvent = "message.sent"
	OutboxMessageEdited       OutboxEvent = "message.edited"
	OutboxMessageDeleted      OutboxEvent = "message.deleted"
	OutboxReactionAdded       OutboxEvent = "reaction.added"
	OutboxConversationCreated OutboxEvent = "conversation.created"
	OutboxConversationUpdated OutboxEvent = "conversation.updated"
	OutboxUserCreated         OutboxEvent = "user.created"
	OutboxMemberAdded         OutboxEvent = "member.added"
	OutboxMemberRemoved       OutboxEvent = "member.removed"
)

// OutboxEvents lists every event, in documentation order.
var OutboxEvents = []OutboxEvent{OutboxMessageSent, OutboxMessageEdited, OutboxMessageDeleted, OutboxReactionAdded,
	OutboxConversationCreated, OutboxConversationUpdated, OutboxUserCreated, OutboxMemberAdded, OutboxMemberRemoved}

// ValidOutboxEvent reports whether e is a known event.
func ValidOutboxEvent(e OutboxEvent) bool {
	for _, k := range OutboxEvents {
		if k == e {
			return true
		}
	}
	return false
}

// Outbox channels. An entry of ChannelEvent is a domain event written by a
// store in the change's transaction; the worker fans it out into one entry
// per recipient of a delivery channel (ChannelWebhook: one per subscribed
// endpoint; Web Push and e-mail later), each retried on its own.
const (
	ChannelEvent   = "event"
	ChannelWebhook = "webhook"
)

// OutboxEntry is one row of the durable outbox: an event to deliver at
// least once. Entries are claimed with a lease (Owner until LeaseUntil), so
// one node delivers each; a node that dies leaves its leases to expire, and
// another node claims the entry again.
type OutboxEntry struct {
	ID      int64  // assigned by the store, increasing in insertion order
	Channel string // ChannelEvent, ChannelWebhook, …
	Target  string // the channel's recipient (a webhook id); "" for ChannelEvent
	// EventID is the ID of the ChannelEvent entry this delivery came from
	// (itself for an event). Deliveries of one event to one target share
	// it, also across retries and replays: receivers deduplicate by it.
	EventID        int64
	Event          OutboxEvent
	ConversationID string          // "" for user.created
	At             time.Time       // when the change happened
	Data           json.RawMessage // the event's data object (docs/webhooks.md)

	Attempts   int       // claims so far (a claim whose node died counts)
	NotBefore  time.Time // not claimed before
	Owner      string    // the node holding the lease; "" when none
	LeaseUntil time.Time
	LastError  string // the last failed attempt's error, for operators
	Done       bool   // delivered (or fanned out): kept for replay until purged
	Dead       bool   // given up on after too many attempts
}

// OutboxStore keeps the outbox. A Store that has one writes the
// ChannelEvent entries itself, in the transaction of the change
// (AppendMessage: message.sent; EditMessage: message.edited;
// DeleteMessage: message.deleted; AddReaction, when new: reaction.added;
// InsertConversation: conversation.created; UpdateConversation:
// conversation.updated; InsertAccount: user.created; AddMembers:
// member.added per member; RemoveMember: member.removed), so an entry exists
// exactly when its change committed. Every method is safe for concurrent
// use, also from several nodes on one database.
type OutboxStore interface {
	// ClaimOutbox leases up to limit entries that are neither done nor
	// dead, whose NotBefore is at or before now and whose lease is free
	// or expired (LeaseUntil before now), oldest ID first, to owner until
	// now+lease, and counts the attempt. Two concurrent claims never
	// return the same entry.
	ClaimOutbox(ctx context.Context, owner string, now time.Time, lease time.Duration, limit int) ([]*OutboxEntry, error)
	// CompleteOutbox marks the entry done and inserts next (its deliveries)
	// in one transaction; next's IDs are assigned. A ChannelEvent entry
	// completed without deliveries (no channel wanted it) is removed
	// instead: nothing was sent, so nothing is kept for a replay, and no
	// message text outlives its message for want of a webhook. CodeConflict, with
	// nothing changed, when owner no longer holds the lease (it expired
	// and another node claimed the entry).
	CompleteOutbox(ctx context.Context, id int64, owner string, next []*OutboxEntry) error
	// RetryOutbox releases the lease and makes the entry claimable again
	// at notBefore, keeping lastErr. CodeConflict when the lease is lost.
	RetryOutbox(ctx context.Context, id int64, owner string, notBefore time.Time, lastErr string) error
	// GiveUpOutbox marks the entry dead, keeping lastErr. CodeConflict when
	// the lease is lost.
	GiveUpOutbox(ctx context.Context, id int64, owner string, lastErr string) error
	// InsertOutbox inserts entries (a replay's deliveries) and assigns
	// their IDs.
	InsertOutbox(ctx context.Context, entries []*OutboxEntry) error
	// ListOutboxEvents returns up to limit ChannelEvent entries with ID
	// above afterID and At at or after from, by ID: what a replay resends.
	ListOutboxEvents(ctx context.Context, from time.Time, afterID int64, limit int) ([]*OutboxEntry, error)
	// GetOutboxEntry returns one entry by ID (CodeNotFound when none).
	GetOutboxEntry(ctx context.Context, id int64) (*OutboxEntry, error)
	// PurgeOutbox removes done and dead entries with At before before, at
	// most limit, and returns how many.
	PurgeOutbox(ctx context.Context, before time.Time, limit int) (int, error)

	WebhookStore
}

// OutboxBatchStore is an OutboxStore that can complete many deliveries in
// one transaction (SQLite, whose single writer the sends share): the
// worker completes a claimed batch's successful deliveries together
// instead of one write each. Optional; the worker falls back to
// CompleteOutbox.
type OutboxBatchStore interface {
	// CompleteOutboxes marks done the delivery entries (not ChannelEvent
	// ones) among ids whose lease owner holds, in one transaction, and
	// returns how many it marked; the others (lease lost) are left as
	// they are.
	CompleteOutboxes(ctx context.Context, ids []int64, owner string) (int, error)
}

// Webhook is an endpoint that receives signed events (docs/webhooks.md).
type Webhook struct {
	WebhookID string
	URL       string
	Events    []OutboxEvent // the events it receives; never empty
	Secret    string        // the signing secret, "whsec_" + base64
	CreatedAt time.Time
	// Failures counts deliveries that failed in a row (a success resets
	// it); DisabledAt is set when they reached the limit.
	Failures   int
	DisabledAt *time.Time
}

// Wants reports whether w is enabled and subscribed to e.
func (w *Webhook) Wants(e OutboxEvent) bool {
	if w.DisabledAt != nil {
		return false
	}
	for _, k := range w.Events {
		if k == e {
			return true
		}
	}
	return false
}

// WebhookStore keeps webhook endpoints.
type WebhookStore interface {
	// InsertWebhook stores w. CodeConflict when its id exists.
	InsertWebhook(ctx context.Context, w *Webhook) error
	// ListWebhooks returns every endpoint, by WebhookID.
	ListWebhooks(ctx context.Context) ([]*Webhook, error)
	// DeleteWebhook removes one; CodeNotFound when missing.
	DeleteWebhook(ctx context.Context, webhookID string) error
	// RecordWebhookResult resets the endpoint's Failures on success, else
	// adds one and, when they reach disableAfter, sets DisabledAt to at.
	// It returns the endpoint as stored afterwards (CodeNotFound when it
	// was removed).
	RecordWebhookResult(ctx context.Context, webhookID string, ok bool, disableAfter int, at time.Time) (*Webhook, error)
	// EnableWebhook clears DisabledAt and Failures.
	EnableWebhook(ctx context.Context, webhookID string) error
}

// MessageData is the data object of the message.* events: the message
// right after the change. Its JSON is the documented schema.
type MessageData struct {
	MessageID       string     `json:"messageId"`
	ConversationID  string     `json:"conversationId"`
	Seq             int64      `json:"seq"`
	UserID          string     `json:"userId"`
	Content         string     `json:"content"`
	MessageType     string     `json:"messageType"`
	CreatedAt       time.Time  `json:"createdAt"`
	EditedAt        *time.Time `json:"editedAt,omitempty"`
	Deleted         bool       `json:"deleted"`
	ParentMessageID string     `json:"parentMessageId,omitempty"`
	Mentions        []string   `json:"mentions,omitempty"`
}

// ReactionData is the data object of reaction.added.
type ReactionData struct {
	ConversationID string    `json:"conversationId"`
	MessageID      string    `json:"messageId"`
	UserID         string    `json:"userId"`
	Key            string    `json:"key"`
	At             time.Time `json:"at"`
}

// ConversationData is the data object of the conversation.* events.
type ConversationData struct {
	ConversationID string    `json:"conversationId"`
	Name           string    `json:"name"`
	CreatedBy      string    `json:"createdBy"`
	CreatedAt      time.Time `json:"createdAt"`
	UpdatedAt      time.Time `json:"updatedAt"`
	MemberIDs      []string  `json:"memberIds,omitempty"`
}

// UserData is the data object of user.created. It carries no e-mail:
// webhooks never leak contact data.
type UserData struct {
	UserID      string    `json:"userId"`
	Username    string    `json:"username"`
	DisplayName string    `json:"displayName"`
	CreatedAt   time.Time `json:"createdAt"`
}

// MemberData is the data object of member.added and member.removed.
type MemberData struct {
	ConversationID string    `json:"conversationId"`
	UserID         string    `json:"userId"` // the member
	Role           string    `json:"role,omitempty"`
	By             string    `json:"by"` // who added or removed them (themselves for a join or a leave)
	At             time.Time `json:"at"`
}

// NewMemberEvent returns the member.added or member.removed entry of the
// member userID of conversationID, with their role (member.added) and
// who made the change.
func NewMemberEvent(e OutboxEvent, conversationID, userID string, role Role, by string, at time.Time) *OutboxEntry {
	return newEvent(e, conversationID, at, MemberData{
		ConversationID: conversationID, UserID: userID, Role: string(role), By: by, At: at.UTC(),
	})
}

// NewMessageEvent returns the outbox entry of e about m, as m is right
// after the change made at at. A deleted message's content is left out.
func NewMessageEvent(e OutboxEvent, m *Message, at time.Time) *OutboxEntry {
	deleted := m.Deleted || e == OutboxMessageDeleted
	content := m.Content
	if deleted {
		content = ""
	}
	return newEvent(e, m.ConversationID, at, MessageData{
		MessageID: m.MessageID, ConversationID: m.ConversationID, Seq: m.Seq, UserID: m.UserID,
		Content: content, MessageType: string(m.MessageType), CreatedAt: m.CreatedAt.UTC(),
		EditedAt: utcPtr(m.EditedAt), Deleted: deleted, ParentMessageID: m.ParentMessageID, Mentions: m.Mentions,
	})
}

// NewReactionEvent returns the reaction.added entry of r.
func NewReactionEvent(r *Reaction) *OutboxEntry {
	return newEvent(OutboxReactionAdded, r.ConversationID, r.At, ReactionData{
		ConversationID: r.ConversationID, MessageID: r.MessageID, UserID: r.UserID, Key: r.Key, At: r.At.UTC(),
	})
}

// NewConversationEvent returns the entry of e about c, as c is right after
// the change made at at.
func NewConversationEvent(e OutboxEvent, c *Conversation, at time.Time) *OutboxEntry {
	d := ConversationData{ConversationID: c.ConversationID, Name: deref(c.Name), CreatedBy: c.CreatedBy,
		CreatedAt: c.CreatedAt.UTC(), UpdatedAt: c.CreatedAt.UTC()}
	if c.UpdatedAt != nil {
		d.UpdatedAt = c.UpdatedAt.UTC()
	}
	for _, m := range c.Members {
		d.MemberIDs = append(d.MemberIDs, m.UserID)
	}
	return newEvent(e, c.ConversationID, at, d)
}

// NewUserEvent returns the user.created entry of u.
func NewUserEvent(u *User) *OutboxEntry {
	return newEvent(OutboxUserCreated, "", u.CreatedAt, UserData{
		UserID: u.UserID, Username: u.Username, DisplayName: deref(u.DisplayName), CreatedAt: u.CreatedAt.UTC(),
	})
}

func newEvent(e OutboxEvent, conversationID string, at time.Time, data any) *OutboxEntry {
	b, err := json.Marshal(data)
	if err != nil {
		// Plain structs of strings, numbers and times always marshal.
		panic("confab: outbox data does not marshal: " + err.Error())
	}
	at = at.UTC().Truncate(time.Millisecond)
	return &OutboxEntry{Channel: ChannelEvent, Event: e, ConversationID: conversationID, At: at, Data: b, NotBefore: at}
}

func utcPtr(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC()
	return &u
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
