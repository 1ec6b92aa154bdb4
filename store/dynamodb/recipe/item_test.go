package recipe

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/confab-chat/confab"
)

func s(v string) types.AttributeValue { return &types.AttributeValueMemberS{Value: v} }

// with returns base with the attributes of change set (nil deletes).
func with(base map[string]types.AttributeValue, change map[string]types.AttributeValue) map[string]types.AttributeValue {
	out := map[string]types.AttributeValue{}
	for k, v := range base {
		out[k] = v
	}
	for k, v := range change {
		if v == nil {
			delete(out, k)
		} else {
			out[k] = v
		}
	}
	return out
}

var sentMessage = map[string]types.AttributeValue{
	"conversationId": s("c1"), "messageId": s("m1"), "userId": s("u1"),
	"content": s("hello"), "messageType": s("TEXT"),
	"createdAt": s("2024-05-01T10:00:00.123Z"), "updatedAt": s("2024-05-01T10:00:00.123Z"),
}

func TestMessage(t *testing.T) {
	tests := []struct {
		name   string
		change map[string]types.AttributeValue
		reason string // "" when the item maps
	}{
		{"OK", nil, ""},
		{"OKNullMessageType", map[string]types.AttributeValue{"messageType": &types.AttributeValueMemberNULL{Value: true}}, ""},
		{"OKOffset", map[string]types.AttributeValue{"createdAt": s("2024-05-01T12:00:00.123+02:00")}, ""},
		{"ErrNoMessageID", map[string]types.AttributeValue{"messageId": nil}, "messageId is missing"},
		{"ErrNumberUserID", map[string]types.AttributeValue{"userId": &types.AttributeValueMemberN{Value: "7"}}, "userId is not a string"},
		{"ErrLongID", map[string]types.AttributeValue{"userId": s(strings.Repeat("u", confab.MaxIDBytes+1))}, "userId is not valid text"},
		{"ErrNUL", map[string]types.AttributeValue{"content": s("a\x00b")}, "content is not valid text"},
		{"ErrHuge", map[string]types.AttributeValue{"content": s(strings.Repeat("x", confab.DefaultMaxContentBytes+1))}, "content is not valid text"},
		{"ErrType", map[string]types.AttributeValue{"messageType": s("VIDEO")}, `messageType "VIDEO"`},
		{"ErrNoCreatedAt", map[string]types.AttributeValue{"createdAt": nil}, "createdAt is missing"},
		{"ErrBadCreatedAt", map[string]types.AttributeValue{"createdAt": s("yesterday")}, "not an ISO 8601"},
	}
	t.Run("OKEdited", func(t *testing.T) {
		m, err := message("msgs", with(sentMessage, map[string]types.AttributeValue{"updatedAt": s("2024-05-02T00:00:00.000Z")}))
		if err != nil || m.UpdatedAt == nil || !m.UpdatedAt.Equal(time.Date(2024, 5, 2, 0, 0, 0, 0, time.UTC)) {
			t.Fatalf("message = %+v, %v; want the later updatedAt kept", m, err)
		}
	})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := message("msgs", with(sentMessage, tt.change))
			if tt.reason == "" {
				if err != nil {
					t.Fatal(err)
				}
				want := time.Date(2024, 5, 1, 10, 0, 0, 123e6, time.UTC)
				if !m.CreatedAt.Equal(want) || m.CreatedAt.Location() != time.UTC || m.MessageType != confab.MessageText || m.MessageID != "m1" || m.UpdatedAt != nil {
					t.Fatalf("message = %+v, want m1, TEXT, created %v UTC, no updatedAt (it equals createdAt)", m, want)
				}
				return
			}
			var inv *Invalid
			if !errors.As(err, &inv) || !strings.Contains(inv.Reason, tt.reason) || inv.Table != "msgs" {
				t.Fatalf("err = %v, want an *Invalid of table msgs saying %q", err, tt.reason)
			}
		})
	}
}

var createdConversation = map[string]types.AttributeValue{
	"conversationId": s("c1"), "name": &types.AttributeValueMemberNULL{Value: true},
	"participants": &types.AttributeValueMemberL{Value: []types.AttributeValue{s("u2"), s("u3"), s("u2")}},
	"createdBy":    s("u1"), "createdAt": s("2024-05-01T10:00:00.000Z"), "updatedAt": s("2024-05-01T10:00:00.000Z"),
	"messageCount": &types.AttributeValueMemberN{Value: "0"},
}

func TestConversation(t *testing.T) {
	t.Run("OK", func(t *testing.T) {
		c, err := conversation("convs", createdConversation)
		if err != nil {
			t.Fatal(err)
		}
		if c.Name != nil || c.CreatedBy != "u1" || strings.Join(c.Participants(), ",") != "u1,u2,u3" || !c.Members[0].JoinedAt.Equal(c.CreatedAt) || c.UpdatedAt != nil {
			t.Fatalf("conversation = %+v, want no name, members u1,u2,u3 (creator added, duplicate dropped) joined at creation, no updatedAt", c)
		}
	})
	tests := []struct {
		name   string
		change map[string]types.AttributeValue
		reason string
	}{
		{"ErrParticipantNumber", map[string]types.AttributeValue{"participants": &types.AttributeValueMemberL{Value: []types.AttributeValue{&types.AttributeValueMemberN{Value: "1"}}}}, "participants holds"},
		{"ErrEmptyParticipant", map[string]types.AttributeValue{"participants": &types.AttributeValueMemberSS{Value: []string{""}}}, "participant \"\""},
		{"ErrNoCreator", map[string]types.AttributeValue{"createdBy": nil}, "createdBy is missing"},
		{"ErrLongName", map[string]types.AttributeValue{"name": s(strings.Repeat("n", confab.MaxConversationName+1))}, "name is not valid text"},
		{"ErrTooMany", map[string]types.AttributeValue{"participants": manyParticipants(confab.MaxParticipants)}, "more than confab's"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := conversation("convs", with(createdConversation, tt.change))
			var inv *Invalid
			if !errors.As(err, &inv) || !strings.Contains(inv.Reason, tt.reason) || inv.Key != "c1" {
				t.Fatalf("err = %v, want an *Invalid of c1 saying %q", err, tt.reason)
			}
		})
	}
}

func manyParticipants(n int) types.AttributeValue {
	l := &types.AttributeValueMemberL{}
	for i := range n {
		l.Value = append(l.Value, s(fmt.Sprint("p", i)))
	}
	return l
}

func TestAccount(t *testing.T) {
	now := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	presence := map[string]types.AttributeValue{ // what updateUserPresence leaves
		"userId": s("8f0e-sub"), "isOnline": &types.AttributeValueMemberBOOL{Value: true},
		"lastSeen": s("2024-06-02T00:00:00.000Z"), "updatedAt": s("2024-06-01T00:00:00.000Z"),
	}
	t.Run("OKPresenceOnly", func(t *testing.T) {
		a, err := account("users", presence, now)
		if err != nil {
			t.Fatal(err)
		}
		u := a.User
		if u.Username != "8f0e-sub" || u.Email != "8f0e-sub@"+PlaceholderEmailDomain || a.PasswordHash != "" || u.IsOnline ||
			!u.CreatedAt.Equal(time.Date(2024, 6, 1, 0, 0, 0, 0, time.UTC)) || u.LastSeen == nil {
			t.Fatalf("account = %+v, want username = sub, placeholder email, no password, offline, created at the earliest time seen", a)
		}
	})
	t.Run("OKProfile", func(t *testing.T) {
		a, err := account("users", with(presence, map[string]types.AttributeValue{
			"username": s("alice"), "email": s(" Alice@Example.com"), "displayName": s("Alice"), "createdAt": s("2024-07-01T00:00:00.000Z"),
		}), now)
		if err != nil {
			t.Fatal(err)
		}
		u := a.User
		if u.Username != "alice" || u.Email != "alice@example.com" || *u.DisplayName != "Alice" || !u.CreatedAt.Equal(time.Date(2024, 7, 1, 0, 0, 0, 0, time.UTC)) {
			t.Fatalf("account = %+v, want the item's profile, email lowercased, its createdAt", u)
		}
	})
	tests := []struct {
		name   string
		change map[string]types.AttributeValue
		reason string
	}{
		{"ErrEmail", map[string]types.AttributeValue{"email": s("Alice <alice@example.com>")}, "email"},
		{"ErrUsername", map[string]types.AttributeValue{"username": s("al ice")}, "username"},
		{"ErrLastSeen", map[string]types.AttributeValue{"lastSeen": &types.AttributeValueMemberBOOL{}}, "lastSeen is not a string"},
		{"ErrSubNotUsername", map[string]types.AttributeValue{"userId": s("sub with spaces")}, "username"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := account("users", with(presence, tt.change), now)
			var inv *Invalid
			if !errors.As(err, &inv) || !strings.Contains(inv.Reason, tt.reason) {
				t.Fatalf("err = %v, want an *Invalid saying %q", err, tt.reason)
			}
		})
	}
}
