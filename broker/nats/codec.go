package nats

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/confab-chat/confab"
)

// wireVersion is the version of the event encoding. A node drops (and
// logs) an event of another version, so during a rolling upgrade that
// changes the encoding, subscribers fill the gap from the store. Bump it
// when a change is not backward compatible; adding an optional field is.
const wireVersion = 1

// The wire types spell out the JSON every node reads, apart from the
// domain structs, so renaming a Go field cannot silently change the wire.
// Message.ClientToken is not sent: it never leaves the node that took it.

type wireEvent struct {
	V              int               `json:"v"`
	Kind           string            `json:"kind"`
	ConversationID string            `json:"conversationId,omitempty"`
	At             time.Time         `json:"at"`
	Message        *wireMessage      `json:"message,omitempty"`
	Conversation   *wireConversation `json:"conversation,omitempty"`
	User           *wireUser         `json:"user,omitempty"`
	Change         *wireChange       `json:"change,omitempty"`
	Typing         *wireTyping       `json:"typing,omitempty"`
	ReadMark       *wireReadMark     `json:"readMark,omitempty"`
	Invitation     *wireInvitation   `json:"invitation,omitempty"`
}

// wireChange is an Event.Change. Its message is most often the event's
// own (message_sent, message_deleted, changed): then it is sent once, as
// the event's, and eventMessage says so.
type wireChange struct {
	ConversationID string       `json:"conversationId"`
	ChangeSeq      int64        `json:"changeSeq"`
	Kind           string       `json:"kind"`
	At             time.Time    `json:"at"`
	UserID         string       `json:"userId"`
	MessageID      string       `json:"messageId,omitempty"`
	ReactionKey    string       `json:"reactionKey,omitempty"`
	Message        *wireMessage `json:"message,omitempty"`
	EventMessage   bool         `json:"eventMessage,omitempty"`
	MemberID       string       `json:"memberId,omitempty"`
	Member         *wireMember  `json:"member,omitempty"`
}

type wireInvitation struct {
	ConversationID string    `json:"conversationId"`
	UserID         string    `json:"userId"`
	InvitedBy      string    `json:"invitedBy"`
	Role           string    `json:"role"`
	CreatedAt      time.Time `json:"createdAt"`
}

type wireTyping struct {
	ConversationID string    `json:"conversationId"`
	UserID         string    `json:"userId"`
	Typing         bool      `json:"typing"`
	At             time.Time `json:"at"`
}

type wireReadMark struct {
	ConversationID string    `json:"conversationId"`
	UserID         string    `json:"userId"`
	Seq            int64     `json:"seq"`
	At             time.Time `json:"at"`
}

type wireMessage struct {
	MessageID      string     `json:"messageId"`
	ConversationID string     `json:"conversationId"`
	Seq            int64      `json:"seq"`
	UserID         string     `json:"userId"`
	Content        string     `json:"content"`
	MessageType    string     `json:"messageType"`
	CreatedAt      time.Time  `json:"createdAt"`
	UpdatedAt      *time.Time `json:"updatedAt,omitempty"`
	Deleted        bool       `json:"deleted,omitempty"`

	ChangeSeq          int64      `json:"changeSeq,omitempty"`
	EditedAt           *time.Time `json:"editedAt,omitempty"`
	Mentions           []string   `json:"mentions,omitempty"`
	ParentMessageID    string     `json:"parentMessageId,omitempty"`
	AlsoInConversation bool       `json:"alsoInConversation,omitempty"`
	ReplyCount         int        `json:"replyCount,omitempty"`
	LastReplyAt        *time.Time `json:"lastReplyAt,omitempty"`
	ReplyUserIDs       []string   `json:"replyUserIds,omitempty"`
	DeletedBy          string     `json:"deletedBy,omitempty"`
}

type wireConversation struct {
	ConversationID string       `json:"conversationId"`
	Name           *string      `json:"name,omitempty"`
	CreatedBy      string       `json:"createdBy"`
	CreatedAt      time.Time    `json:"createdAt"`
	UpdatedAt      *time.Time   `json:"updatedAt,omitempty"`
	LastMessage    *string      `json:"lastMessage,omitempty"`
	LastMessageAt  *time.Time   `json:"lastMessageAt,omitempty"`
	MessageCount   int          `json:"messageCount"`
	LastSeq        int64        `json:"lastSeq"`
	LastChangeSeq  int64        `json:"lastChangeSeq,omitempty"`
	Members        []wireMember `json:"members"` // null and [] stay apart

	Direct     bool          `json:"direct,omitempty"`
	Settings   *wireSettings `json:"settings,omitempty"` // nil for the zero settings
	ArchivedAt *time.Time    `json:"archivedAt,omitempty"`
}

type wireSettings struct {
	AddMembers string `json:"addMembers,omitempty"`
	Post       string `json:"post,omitempty"`
	React      string `json:"react,omitempty"`
	SlowMode   int    `json:"slowMode,omitempty"`
}

type wireMember struct {
	UserID         string     `json:"userId"`
	JoinedAt       time.Time  `json:"joinedAt"`
	LastReadSeq    int64      `json:"lastReadSeq"`
	LastReadAt     *time.Time `json:"lastReadAt,omitempty"`
	UnreadMentions int        `json:"unreadMentions,omitempty"`
	Role           string     `json:"role,omitempty"`
	MutedUntil     *time.Time `json:"mutedUntil,omitempty"`
	LastPostedAt   *time.Time `json:"lastPostedAt,omitempty"`
}

type wireUser struct {
	UserID      string     `json:"userId"`
	Username    string     `json:"username"`
	Email       string     `json:"email"`
	DisplayName *string    `json:"displayName,omitempty"`
	AvatarURL   *string    `json:"avatarUrl,omitempty"`
	LastSeen    *time.Time `json:"lastSeen,omitempty"`
	IsOnline    bool       `json:"isOnline"`
	CreatedAt   time.Time  `json:"createdAt"`
	UpdatedAt   *time.Time `json:"updatedAt,omitempty"`

	HidePresence     bool `json:"hidePresence,omitempty"`
	HideReadReceipts bool `json:"hideReadReceipts,omitempty"`
}

// encodeEvent returns the wire form of ev.
func encodeEvent(ev *confab.Event) ([]byte, error) {
	w := wireEvent{V: wireVersion, Kind: string(ev.Kind), ConversationID: ev.ConversationID, At: ev.At}
	w.Message = encodeMessage(ev.Message)
	if c := ev.Conversation; c != nil {
		wc := &wireConversation{ConversationID: c.ConversationID, Name: c.Name, CreatedBy: c.CreatedBy, CreatedAt: c.CreatedAt,
			UpdatedAt: c.UpdatedAt, LastMessage: c.LastMessage, LastMessageAt: c.LastMessageAt, MessageCount: c.MessageCount, LastSeq: c.LastSeq,
			LastChangeSeq: c.LastChangeSeq, Direct: c.Direct, ArchivedAt: c.ArchivedAt}
		if c.Settings != (confab.ConversationSettings{}) {
			s := c.Settings
			wc.Settings = &wireSettings{AddMembers: string(s.AddMembers), Post: string(s.Post), React: string(s.React), SlowMode: s.SlowMode}
		}
		if c.Members != nil {
			wc.Members = make([]wireMember, len(c.Members))
			for i := range c.Members {
				wc.Members[i] = *encodeMember(&c.Members[i])
			}
		}
		w.Conversation = wc
	}
	if u := ev.User; u != nil {
		w.User = &wireUser{UserID: u.UserID, Username: u.Username, Email: u.Email, DisplayName: u.DisplayName, AvatarURL: u.AvatarURL,
			LastSeen: u.LastSeen, IsOnline: u.IsOnline, CreatedAt: u.CreatedAt, UpdatedAt: u.UpdatedAt,
			HidePresence: u.HidePresence, HideReadReceipts: u.HideReadReceipts}
	}
	if c := ev.Change; c != nil {
		wc := &wireChange{ConversationID: c.ConversationID, ChangeSeq: c.ChangeSeq, Kind: string(c.Kind), At: c.At, UserID: c.UserID,
			MessageID: c.MessageID, ReactionKey: c.ReactionKey, MemberID: c.MemberID, Member: encodeMember(c.Member)}
		if c.Message != nil && c.Message == ev.Message {
			wc.EventMessage = true
		} else {
			wc.Message = encodeMessage(c.Message)
		}
		w.Change = wc
	}
	if t := ev.Typing; t != nil {
		w.Typing = &wireTyping{ConversationID: t.ConversationID, UserID: t.UserID, Typing: t.Typing, At: t.At}
	}
	if r := ev.ReadMark; r != nil {
		w.ReadMark = &wireReadMark{ConversationID: r.ConversationID, UserID: r.UserID, Seq: r.Seq, At: r.At}
	}
	if inv := ev.Invitation; inv != nil {
		w.Invitation = &wireInvitation{ConversationID: inv.ConversationID, UserID: inv.UserID, InvitedBy: inv.InvitedBy,
			Role: string(inv.Role), CreatedAt: inv.CreatedAt}
	}
	b, err := json.Marshal(&w)
	if err != nil {
		return nil, fmt.Errorf("nats: encode event: %w", err)
	}
	return b, nil
}

// decodeEvent parses the wire form of an event. Times come back in UTC.
func decodeEvent(data []byte) (*confab.Event, error) {
	var w wireEvent
	if err := json.Unmarshal(data, &w); err != nil {
		return nil, fmt.Errorf("nats: decode event: %w", err)
	}
	if w.V != wireVersion {
		return nil, fmt.Errorf("nats: decode event: version %d, want %d", w.V, wireVersion)
	}
	ev := &confab.Event{Kind: confab.EventKind(w.Kind), ConversationID: w.ConversationID, At: w.At.UTC()}
	ev.Message = decodeMessage(w.Message)
	if c := w.Conversation; c != nil {
		conv := &confab.Conversation{ConversationID: c.ConversationID, Name: c.Name, CreatedBy: c.CreatedBy, CreatedAt: c.CreatedAt.UTC(),
			UpdatedAt: utc(c.UpdatedAt), LastMessage: c.LastMessage, LastMessageAt: utc(c.LastMessageAt), MessageCount: c.MessageCount, LastSeq: c.LastSeq,
			LastChangeSeq: c.LastChangeSeq, Direct: c.Direct, ArchivedAt: utc(c.ArchivedAt)}
		if s := c.Settings; s != nil {
			conv.Settings = confab.ConversationSettings{AddMembers: confab.Role(s.AddMembers), Post: confab.Role(s.Post),
				React: confab.Role(s.React), SlowMode: s.SlowMode}
		}
		if c.Members != nil {
			conv.Members = make([]confab.Member, len(c.Members))
			for i := range c.Members {
				conv.Members[i] = *decodeMember(&c.Members[i])
			}
		}
		ev.Conversation = conv
	}
	if u := w.User; u != nil {
		ev.User = &confab.User{UserID: u.UserID, Username: u.Username, Email: u.Email, DisplayName: u.DisplayName, AvatarURL: u.AvatarURL,
			LastSeen: utc(u.LastSeen), IsOnline: u.IsOnline, CreatedAt: u.CreatedAt.UTC(), UpdatedAt: utc(u.UpdatedAt),
			HidePresence: u.HidePresence, HideReadReceipts: u.HideReadReceipts}
	}
	if c := w.Change; c != nil {
		ch := &confab.Change{ConversationID: c.ConversationID, ChangeSeq: c.ChangeSeq, Kind: confab.ChangeKind(c.Kind), At: c.At.UTC(),
			UserID: c.UserID, MessageID: c.MessageID, ReactionKey: c.ReactionKey, Message: decodeMessage(c.Message),
			MemberID: c.MemberID, Member: decodeMember(c.Member)}
		if c.EventMessage {
			ch.Message = ev.Message
		}
		ev.Change = ch
	}
	if t := w.Typing; t != nil {
		ev.Typing = &confab.Typing{ConversationID: t.ConversationID, UserID: t.UserID, Typing: t.Typing, At: t.At.UTC()}
	}
	if r := w.ReadMark; r != nil {
		ev.ReadMark = &confab.ReadMark{ConversationID: r.ConversationID, UserID: r.UserID, Seq: r.Seq, At: r.At.UTC()}
	}
	if inv := w.Invitation; inv != nil {
		ev.Invitation = &confab.Invitation{ConversationID: inv.ConversationID, UserID: inv.UserID, InvitedBy: inv.InvitedBy,
			Role: confab.Role(inv.Role), CreatedAt: inv.CreatedAt.UTC()}
	}
	return ev, nil
}

// encodeMessage returns the wire form of m (nil for nil).
func encodeMessage(m *confab.Message) *wireMessage {
	if m == nil {
		return nil
	}
	return &wireMessage{MessageID: m.MessageID, ConversationID: m.ConversationID, Seq: m.Seq, UserID: m.UserID,
		Content: m.Content, MessageType: string(m.MessageType), CreatedAt: m.CreatedAt, UpdatedAt: m.UpdatedAt, Deleted: m.Deleted,
		ChangeSeq: m.ChangeSeq, EditedAt: m.EditedAt, Mentions: m.Mentions, ParentMessageID: m.ParentMessageID,
		AlsoInConversation: m.AlsoInConversation, ReplyCount: m.ReplyCount, LastReplyAt: m.LastReplyAt, ReplyUserIDs: m.ReplyUserIDs,
		DeletedBy: m.DeletedBy}
}

// decodeMessage parses the wire form of a message (nil for nil). Times
// come back in UTC.
func decodeMessage(m *wireMessage) *confab.Message {
	if m == nil {
		return nil
	}
	return &confab.Message{MessageID: m.MessageID, ConversationID: m.ConversationID, Seq: m.Seq, UserID: m.UserID,
		Content: m.Content, MessageType: confab.MessageType(m.MessageType), CreatedAt: m.CreatedAt.UTC(), UpdatedAt: utc(m.UpdatedAt), Deleted: m.Deleted,
		ChangeSeq: m.ChangeSeq, EditedAt: utc(m.EditedAt), Mentions: m.Mentions, ParentMessageID: m.ParentMessageID,
		AlsoInConversation: m.AlsoInConversation, ReplyCount: m.ReplyCount, LastReplyAt: utc(m.LastReplyAt), ReplyUserIDs: m.ReplyUserIDs,
		DeletedBy: m.DeletedBy}
}

// encodeMember returns the wire form of m (nil for nil).
func encodeMember(m *confab.Member) *wireMember {
	if m == nil {
		return nil
	}
	return &wireMember{UserID: m.UserID, JoinedAt: m.JoinedAt, LastReadSeq: m.LastReadSeq, LastReadAt: m.LastReadAt,
		UnreadMentions: m.UnreadMentions, Role: string(m.Role), MutedUntil: m.MutedUntil, LastPostedAt: m.LastPostedAt}
}

// decodeMember parses the wire form of a member (nil for nil). Times come
// back in UTC.
func decodeMember(m *wireMember) *confab.Member {
	if m == nil {
		return nil
	}
	return &confab.Member{UserID: m.UserID, JoinedAt: m.JoinedAt.UTC(), LastReadSeq: m.LastReadSeq, LastReadAt: utc(m.LastReadAt),
		UnreadMentions: m.UnreadMentions, Role: confab.Role(m.Role), MutedUntil: utc(m.MutedUntil), LastPostedAt: utc(m.LastPostedAt)}
}

func utc(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	v := t.UTC()
	return &v
}
