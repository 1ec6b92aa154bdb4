package chat_test

import (
	"context"
	"testing"

	"github.com/confab-chat/confab"
	"github.com/confab-chat/confab/chat"
)

// Text a store could not keep on every engine (NUL, invalid UTF-8) is
// refused by the service, on SQLite too, which would store it (defect 8 of
// #17: only the PostgreSQL adapter refused NUL). Ids that cannot exist are
// not found, without a store call that would fail on PostgreSQL.
func TestService_RefusesInvalidText(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, chat.Config{})
	alice, bob := e.user(t, "alice"), e.user(t, "bob")
	c := e.conversation(t, alice, bob)
	cid := c.ConversationID
	for kind, bad := range map[string]string{"NUL": "a\x00b", "BadUTF8": "a\xffb"} {
		tests := []struct {
			name string
			want confab.Code
			run  func() error
		}{
			{"CreateConversation/Name", confab.CodeInvalid, func() error {
				_, err := e.svc.CreateConversation(ctx, alice, &bad, []string{bob.UserID})
				return err
			}},
			{"CreateConversation/Participant", confab.CodeInvalid, func() error {
				_, err := e.svc.CreateConversation(ctx, alice, nil, []string{bad})
				return err
			}},
			{"UpdateConversation/Name", confab.CodeInvalid, func() error {
				_, err := e.svc.UpdateConversation(ctx, alice, cid, &bad)
				return err
			}},
			{"GetConversation/ID", confab.CodeNotFound, func() error {
				_, err := e.svc.GetConversation(ctx, alice, bad)
				return err
			}},
			{"SendMessage/Content", confab.CodeInvalid, func() error {
				_, err := e.svc.SendMessage(ctx, alice, chat.SendMessageInput{ConversationID: cid, Content: bad})
				return err
			}},
			{"SendMessage/ClientToken", confab.CodeInvalid, func() error {
				_, err := e.svc.SendMessage(ctx, alice, chat.SendMessageInput{ConversationID: cid, Content: "x", ClientToken: bad})
				return err
			}},
			{"GetMessage/ID", confab.CodeNotFound, func() error {
				_, err := e.svc.GetMessage(ctx, alice, cid, bad)
				return err
			}},
			{"SearchMessages/Term", confab.CodeInvalid, func() error {
				_, err := e.svc.SearchMessages(ctx, alice, cid, bad, nil)
				return err
			}},
			{"GetUser/ID", confab.CodeNotFound, func() error {
				_, err := e.svc.GetUser(ctx, alice, bad)
				return err
			}},
			{"FindUser/Query", confab.CodeNotFound, func() error {
				_, err := e.svc.FindUser(ctx, alice, bad)
				return err
			}},
			{"UpdateUserProfile/DisplayName", confab.CodeInvalid, func() error {
				_, err := e.svc.UpdateUserProfile(ctx, alice, chat.ProfileUpdate{UserID: alice.UserID, DisplayName: &bad})
				return err
			}},
			{"UpdateUserProfile/AvatarURL", confab.CodeInvalid, func() error {
				u := "https://example.com/" + bad
				_, err := e.svc.UpdateUserProfile(ctx, alice, chat.ProfileUpdate{UserID: alice.UserID, AvatarURL: &u})
				return err
			}},
		}
		for _, tt := range tests {
			t.Run(tt.name+"/"+kind, func(t *testing.T) {
				wantCode(t, tt.run(), tt.want)
			})
		}
	}
	// Nothing was stored.
	got, err := e.store.GetConversation(ctx, cid)
	if err != nil {
		t.Fatal(err)
	}
	if got.Name != nil || got.MessageCount != 0 {
		t.Fatalf("conversation after refused input: name %v, %d messages; want unchanged", got.Name, got.MessageCount)
	}
	u, err := e.store.GetUser(ctx, alice.UserID)
	if err != nil {
		t.Fatal(err)
	}
	if u.DisplayName != nil || u.AvatarURL != nil {
		t.Fatalf("profile after refused input: %v, %v; want unchanged", u.DisplayName, u.AvatarURL)
	}
}

// A display name that passes for another user's (a copy + U+200B) or hides
// a bidi override is refused, and nothing is stored (issue 18).
func TestService_UpdateUserProfile_RefusesInvisibleCharacters(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, chat.Config{})
	alice := e.user(t, "alice")
	for _, bad := range []string{"Bob\u200b", "Bob\u202egnp.exe", "\u2066Bob", "Bob\ufeff", "Bob\tX"} {
		_, err := e.svc.UpdateUserProfile(ctx, alice, chat.ProfileUpdate{UserID: alice.UserID, DisplayName: &bad})
		wantCode(t, err, confab.CodeInvalid)
	}
	u, err := e.store.GetUser(ctx, alice.UserID)
	if err != nil {
		t.Fatal(err)
	}
	if u.DisplayName != nil {
		t.Fatalf("display name after refused input: %q; want unchanged", *u.DisplayName)
	}
	good := "Bob 🎉"
	if _, err := e.svc.UpdateUserProfile(ctx, alice, chat.ProfileUpdate{UserID: alice.UserID, DisplayName: &good}); err != nil {
		t.Fatal(err)
	}
}
