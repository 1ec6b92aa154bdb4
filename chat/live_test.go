package chat_test

import (
	"context"
	"testing"

	"github.com/confab-chat/confab"
	"github.com/confab-chat/confab/chat"
)

// TestService_Authorization_Live extends the authorisation matrix to
// typing, read receipts and search across conversations: each operation
// as a member, a non-member and with no caller, and hideReadReceipts for
// another user.
func TestService_Authorization_Live(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, chat.Config{TypingPerSecond: -1})
	alice, bob, eve := e.user(t, "alice"), e.user(t, "bob"), e.user(t, "eve")
	c := e.conversation(t, alice, bob)
	cid := c.ConversationID
	e.send(t, bob, cid, "hello")
	subscribe := func(start func(ctx context.Context) error) error {
		ctx, cancel := context.WithCancel(ctx)
		defer cancel()
		return start(ctx)
	}

	ops := []struct {
		name string
		run  func(caller confab.Identity) error
	}{
		{"setTyping", func(id confab.Identity) error { _, err := e.svc.SetTyping(ctx, id, cid, true); return err }},
		{"onTyping", func(id confab.Identity) error {
			return subscribe(func(ctx context.Context) error { _, err := e.svc.OnTyping(ctx, id, cid); return err })
		}},
		{"onReadReceipt", func(id confab.Identity) error {
			return subscribe(func(ctx context.Context) error { _, err := e.svc.OnReadReceipt(ctx, id, cid); return err })
		}},
		{"readBy", func(id confab.Identity) error { _, err := e.svc.ReadBy(ctx, id, c); return err }},
		{"markConversationRead", func(id confab.Identity) error { _, err := e.svc.MarkConversationRead(ctx, id, cid, 1); return err }},
	}
	for _, op := range ops {
		t.Run(op.name+"/Member", func(t *testing.T) {
			if err := op.run(alice); err != nil {
				t.Fatalf("member: %v", err)
			}
		})
		t.Run(op.name+"/ErrNonMember", func(t *testing.T) { wantCode(t, op.run(eve), confab.CodeNotFound) })
		t.Run(op.name+"/ErrNoCaller", func(t *testing.T) { wantCode(t, op.run(confab.Identity{}), confab.CodeUnauthenticated) })
	}

	t.Run("searchAllMessages/NonMemberFindsNothing", func(t *testing.T) {
		page, err := e.svc.SearchAllMessages(ctx, eve, "hello", nil, nil)
		if err != nil || len(page.Items) != 0 {
			t.Fatalf("eve found %+v, %v; want nothing", page, err)
		}
	})
	t.Run("updateUserProfile/hideReadReceipts/ErrOtherUser", func(t *testing.T) {
		hide := true
		_, err := e.svc.UpdateUserProfile(ctx, eve, chat.ProfileUpdate{UserID: alice.UserID, HideReadReceipts: &hide})
		wantCode(t, err, confab.CodeForbidden)
	})
}
