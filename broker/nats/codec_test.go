package nats

import (
	"strings"
	"testing"
	"time"

	"github.com/confab-chat/confab"
	"github.com/google/go-cmp/cmp"
)

func TestCodec_RoundTrip(t *testing.T) {
	at := time.Date(2026, 11, 25, 6, 0, 0, 123_000_000, time.UTC)
	later := at.Add(time.Second)
	name, last, display, avatar := "Team", "hello", "Ann", "https://example.com/a.png"
	msg := &confab.Message{MessageID: "m1", ConversationID: "c1", Seq: 42, UserID: "u1", Content: "hello \"quoted\" ✓ \x00",
		MessageType: confab.MessageText, CreatedAt: at, UpdatedAt: &later}
	// A reply and its thread root, with every field of issue #12 set.
	reply := &confab.Message{MessageID: "m3", ConversationID: "c1", Seq: 44, UserID: "u2", Content: "@ann yes", MessageType: confab.MessageText,
		CreatedAt: at, UpdatedAt: &later, ChangeSeq: 8, EditedAt: &later, Mentions: []string{"u1", "u3"}, ParentMessageID: "m1", AlsoInConversation: true}
	root := &confab.Message{MessageID: "m1", ConversationID: "c1", Seq: 42, UserID: "u1", Content: "question?", MessageType: confab.MessageText,
		CreatedAt: at, ChangeSeq: 9, ReplyCount: 3, LastReplyAt: &later, ReplyUserIDs: []string{"u2", "u1"}}
	tests := []struct {
		name string
		ev   *confab.Event
	}{
		{"MessageSent", &confab.Event{Kind: confab.EventMessageSent, ConversationID: "c1", Message: msg, At: at}},
		{"MessageDeleted", &confab.Event{Kind: confab.EventMessageDeleted, ConversationID: "c1", At: later,
			Message: &confab.Message{MessageID: "m2", ConversationID: "c1", Seq: 43, UserID: "u1", Content: "x", MessageType: confab.MessageImage, CreatedAt: at, UpdatedAt: &later, Deleted: true}}},
		{"PresenceUpdated", &confab.Event{Kind: confab.EventPresenceUpdated, ConversationID: "c1", At: at,
			User: &confab.User{UserID: "u1", Username: "ann", Email: "ann@example.com", DisplayName: &display, AvatarURL: &avatar, LastSeen: &later, IsOnline: true, CreatedAt: at, UpdatedAt: &later}}},
		{"PresenceMinimalUser", &confab.Event{Kind: confab.EventPresenceUpdated, ConversationID: "c1", At: at,
			User: &confab.User{UserID: "u2", Username: "bo", CreatedAt: at}}},
		{"ConversationUpdated", &confab.Event{Kind: confab.EventConversationUpdated, At: at,
			Conversation: &confab.Conversation{ConversationID: "c1", Name: &name, CreatedBy: "u1", CreatedAt: at, UpdatedAt: &later,
				LastMessage: &last, LastMessageAt: &later, MessageCount: 3, LastSeq: 5,
				Members: []confab.Member{{UserID: "u1", JoinedAt: at, LastReadSeq: 5}, {UserID: "u2", JoinedAt: later}}}}},
		{"ConversationEmptyMembers", &confab.Event{Kind: confab.EventConversationUpdated, At: at,
			Conversation: &confab.Conversation{ConversationID: "c2", CreatedBy: "u1", CreatedAt: at, Members: []confab.Member{}}}},
		{"ConversationNilMembers", &confab.Event{Kind: confab.EventConversationUpdated, At: at,
			Conversation: &confab.Conversation{ConversationID: "c3", CreatedBy: "u1", CreatedAt: at}}},
		{"ZeroTime", &confab.Event{Kind: confab.EventMessageSent, ConversationID: "c1", Message: &confab.Message{MessageID: "m"}}},
		{"Reply", &confab.Event{Kind: confab.EventMessageSent, ConversationID: "c1", At: at, Message: reply,
			Change: &confab.Change{ConversationID: "c1", ChangeSeq: 8, Kind: confab.ChangeMessageSent, At: at, UserID: "u2", MessageID: "m3", Message: reply}}},
		{"ThreadUpdated", &confab.Event{Kind: confab.EventChanged, ConversationID: "c1", At: later, Message: root,
			Change: &confab.Change{ConversationID: "c1", ChangeSeq: 9, Kind: confab.ChangeThreadUpdated, At: later, UserID: "u2", MessageID: "m1", Message: root}}},
		{"ChangeWithItsOwnMessage", &confab.Event{Kind: confab.EventChanged, ConversationID: "c1", At: later, Message: msg,
			Change: &confab.Change{ConversationID: "c1", ChangeSeq: 10, Kind: confab.ChangeReactionAdded, At: later, UserID: "u2", MessageID: "m3", ReactionKey: ":+1:", Message: reply}}},
		{"ConversationChanged", &confab.Event{Kind: confab.EventChanged, ConversationID: "c1", At: at,
			Conversation: &confab.Conversation{ConversationID: "c1", Name: &name, CreatedBy: "u1", CreatedAt: at, LastChangeSeq: 11,
				Members: []confab.Member{{UserID: "u1", JoinedAt: at, LastReadSeq: 5, LastReadAt: &later, UnreadMentions: 2}}},
			Change: &confab.Change{ConversationID: "c1", ChangeSeq: 11, Kind: confab.ChangeConversationUpdated, At: at, UserID: "u1"}}},
		{"Typing", &confab.Event{Kind: confab.EventTyping, ConversationID: "c1", At: at, Typing: &confab.Typing{ConversationID: "c1", UserID: "u1", Typing: true, At: at}}},
		{"TypingStopped", &confab.Event{Kind: confab.EventTyping, ConversationID: "c1", At: at, Typing: &confab.Typing{ConversationID: "c1", UserID: "u1", At: later}}},
		{"ReadReceipt", &confab.Event{Kind: confab.EventReadReceipt, ConversationID: "c1", At: at, ReadMark: &confab.ReadMark{ConversationID: "c1", UserID: "u2", Seq: 7, At: later}}},
		// Every field of issue #15: roles, settings, direct, archive, a
		// moderator's tombstone, member changes, invitations.
		{"MembershipConversation", &confab.Event{Kind: confab.EventConversationUpdated, At: at,
			Conversation: &confab.Conversation{ConversationID: "c4", CreatedBy: "u1", CreatedAt: at, Direct: true, ArchivedAt: &later,
				Settings: confab.ConversationSettings{AddMembers: confab.RoleAdmin, Post: confab.RoleAdmin, React: confab.RoleReadOnly, SlowMode: 30},
				Members: []confab.Member{{UserID: "u1", JoinedAt: at, Role: confab.RoleOwner, LastPostedAt: &later},
					{UserID: "u2", JoinedAt: at, Role: confab.RoleReadOnly, MutedUntil: &later}}}}},
		{"ModeratorDeleted", &confab.Event{Kind: confab.EventMessageDeleted, ConversationID: "c1", At: later,
			Message: &confab.Message{MessageID: "m4", ConversationID: "c1", Seq: 45, UserID: "u2", MessageType: confab.MessageText,
				CreatedAt: at, UpdatedAt: &later, Deleted: true, DeletedBy: "u1"}}},
		{"MemberAdded", &confab.Event{Kind: confab.EventChanged, ConversationID: "c1", At: at,
			Change: &confab.Change{ConversationID: "c1", ChangeSeq: 12, Kind: confab.ChangeMemberAdded, At: at, UserID: "u1",
				MemberID: "u3", Member: &confab.Member{UserID: "u3", JoinedAt: at, Role: confab.RoleAdmin}}}},
		{"MemberRemoved", &confab.Event{Kind: confab.EventChanged, ConversationID: "c1", At: at,
			Change: &confab.Change{ConversationID: "c1", ChangeSeq: 13, Kind: confab.ChangeMemberRemoved, At: at, UserID: "u1", MemberID: "u3"}}},
		{"MembershipChanged", &confab.Event{Kind: confab.EventMembershipChanged, ConversationID: "c1", At: at}},
		{"BlocksChanged", &confab.Event{Kind: confab.EventBlocksChanged, At: at, User: &confab.User{UserID: "u1", CreatedAt: at}}},
		{"Invited", &confab.Event{Kind: confab.EventInvited, ConversationID: "c1", At: at,
			Invitation: &confab.Invitation{ConversationID: "c1", UserID: "u3", InvitedBy: "u1", Role: confab.RoleMember, CreatedAt: at}}},
		{"PrivateUser", &confab.Event{Kind: confab.EventPresenceUpdated, ConversationID: "c1", At: at,
			User: &confab.User{UserID: "u3", Username: "cy", CreatedAt: at, HidePresence: true, HideReadReceipts: true}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			data, err := encodeEvent(tt.ev)
			if err != nil {
				t.Fatal(err)
			}
			got, err := decodeEvent(data)
			if err != nil {
				t.Fatalf("decode %s: %v", data, err)
			}
			if diff := cmp.Diff(tt.ev, got); diff != "" {
				t.Fatalf("round trip (-sent +received):\n%s", diff)
			}
			if c := tt.ev.Change; c != nil && c.Message == tt.ev.Message && got.Change.Message != got.Message {
				t.Fatal("the change's message is the event's when sent, but not when received")
			}
		})
	}
}

func TestCodec_ClientTokenStays(t *testing.T) {
	ev := &confab.Event{Kind: confab.EventMessageSent, Message: &confab.Message{MessageID: "m", ClientToken: "secret-retry-key"}}
	data, err := encodeEvent(ev)
	if err != nil {
		t.Fatal(err)
	}
	got, err := decodeEvent(data)
	if err != nil {
		t.Fatal(err)
	}
	if got.Message.ClientToken != "" {
		t.Fatalf("ClientToken = %q on the wire, want it left out", got.Message.ClientToken)
	}
}

func TestCodec_DecodeErr(t *testing.T) {
	tests := []struct {
		name string
		data string
	}{
		{"ErrNotJSON", `not json`},
		{"ErrNoVersion", `{"kind":"message_sent"}`},
		{"ErrFutureVersion", `{"v":2,"kind":"message_sent"}`},
		{"ErrWrongType", `{"v":1,"message":{"seq":"one"}}`},
		{"ErrEmpty", ``},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if ev, err := decodeEvent([]byte(tt.data)); err == nil {
				t.Fatalf("decode %q = %+v, want an error", tt.data, ev)
			}
		})
	}
}

func TestSubject(t *testing.T) {
	tests := []struct {
		name  string
		topic string
		want  string
	}{
		{"Conversation", confab.ConversationTopic("0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b"), "confab.conv.0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b"},
		{"User", confab.UserTopic("u_1"), "confab.user.u_1"},
		{"Wildcard", "conv.*", "confab._b64.Y29udi4q"},
		{"FullWildcard", "conv.>", "confab._b64.Y29udi4-"},
		{"Space", "conv.a b", "confab._b64.Y29udi5hIGI"},
		{"EmptyToken", "conv..x", "confab._b64.Y29udi4ueA"},
		{"Empty", "", "confab._b64."},
		{"ReservedToken", "_b64.x", "confab._b64.X2I2NC54"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := subject(tt.topic); got != tt.want {
				t.Fatalf("subject(%q) = %q, want %q", tt.topic, got, tt.want)
			}
		})
	}
}

// TestCodec_ChangeMessageSentOnce sends the message that an event and its
// change share once: a change doubles no send's size on the wire.
func TestCodec_ChangeMessageSentOnce(t *testing.T) {
	m := &confab.Message{MessageID: "m1", ConversationID: "c1", Seq: 1, UserID: "u1", Content: strings.Repeat("x", 1000), ChangeSeq: 1}
	plain, err := encodeEvent(&confab.Event{Kind: confab.EventMessageSent, ConversationID: "c1", Message: m})
	if err != nil {
		t.Fatal(err)
	}
	withChange, err := encodeEvent(&confab.Event{Kind: confab.EventMessageSent, ConversationID: "c1", Message: m,
		Change: &confab.Change{ConversationID: "c1", ChangeSeq: 1, Kind: confab.ChangeMessageSent, UserID: "u1", MessageID: "m1", Message: m}})
	if err != nil {
		t.Fatal(err)
	}
	if extra := len(withChange) - len(plain); extra > 300 {
		t.Fatalf("the change adds %d bytes to a %d-byte event: its message was sent twice", extra, len(plain))
	}
}
