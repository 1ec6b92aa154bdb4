package nats

import (
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
