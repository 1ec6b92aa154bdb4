package chat_test

import (
	"context"
	"testing"

	"github.com/confab-chat/confab"
	"github.com/confab-chat/confab/chat"
)

// A read mark beyond the newest message is clamped to it: a client that
// marks what it has while a send races gets a mark no later message hides
// under (defect 6 of #17).
func TestService_MarkConversationRead(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, chat.Config{})
	alice, bob := e.user(t, "alice"), e.user(t, "bob")
	c := e.conversation(t, alice, bob)
	for range 3 {
		e.send(t, bob, c.ConversationID, "hi")
	}

	t.Run("OK", func(t *testing.T) {
		got, err := e.svc.MarkConversationRead(ctx, alice, c.ConversationID, 2)
		if err != nil {
			t.Fatal(err)
		}
		if m := got.Member(alice.UserID); m.LastReadSeq != 2 || chat.UnreadCount(got, alice.UserID) != 1 {
			t.Fatalf("lastReadSeq = %d, unread %d; want 2, 1", m.LastReadSeq, chat.UnreadCount(got, alice.UserID))
		}
	})
	t.Run("ClampedToLastSeq", func(t *testing.T) {
		got, err := e.svc.MarkConversationRead(ctx, alice, c.ConversationID, 1000)
		if err != nil {
			t.Fatal(err)
		}
		if m := got.Member(alice.UserID); m.LastReadSeq != 3 {
			t.Fatalf("lastReadSeq = %d, want lastSeq 3", m.LastReadSeq)
		}
		// The next message is unread: the mark did not run ahead of it.
		e.send(t, bob, c.ConversationID, "new")
		after, err := e.svc.GetConversation(ctx, alice, c.ConversationID)
		if err != nil {
			t.Fatal(err)
		}
		if n := chat.UnreadCount(after, alice.UserID); n != 1 {
			t.Fatalf("unread after a new message = %d, want 1", n)
		}
	})
	t.Run("ErrNegative", func(t *testing.T) {
		_, err := e.svc.MarkConversationRead(ctx, alice, c.ConversationID, -1)
		wantCode(t, err, confab.CodeInvalid)
	})
}
