package chat_test

import (
	"context"
	"testing"
	"time"

	"github.com/confab-chat/confab"
	"github.com/confab-chat/confab/chat"
)

func subscribeReceipts(t *testing.T, e *env, who confab.Identity, conversationID string) <-chan *confab.ReadMark {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	ch, err := e.svc.OnReadReceipt(ctx, who, conversationID)
	if err != nil {
		t.Fatal(err)
	}
	return ch
}

// nextReceipt returns the stream's next read mark, failing after a deadline.
func nextReceipt(t *testing.T, ch <-chan *confab.ReadMark) *confab.ReadMark {
	t.Helper()
	select {
	case v, ok := <-ch:
		if !ok {
			t.Fatal("onReadReceipt stream closed")
		}
		return v
	case <-time.After(5 * time.Second):
		t.Fatal("no read receipt within 5 s")
	}
	return nil
}

func wantMark(t *testing.T, got *confab.ReadMark, conversationID, userID string, seq int64) {
	t.Helper()
	if got.ConversationID != conversationID || got.UserID != userID || got.Seq != seq || got.At.IsZero() {
		t.Fatalf("read mark = %+v, want conversation %s user %s seq %d with a time", got, conversationID, userID, seq)
	}
}

func markRead(t *testing.T, e *env, who confab.Identity, conversationID string, seq int64) *confab.Conversation {
	t.Helper()
	c, err := e.svc.MarkConversationRead(context.Background(), who, conversationID, seq)
	if err != nil {
		t.Fatalf("MarkConversationRead: %v", err)
	}
	return c
}

func readBy(t *testing.T, e *env, who confab.Identity, conversationID string) map[string]int64 {
	t.Helper()
	c, err := e.svc.GetConversation(context.Background(), who, conversationID)
	if err != nil {
		t.Fatal(err)
	}
	marks, err := e.svc.ReadBy(context.Background(), who, c)
	if err != nil {
		t.Fatal(err)
	}
	got := make(map[string]int64)
	for _, m := range marks {
		if m.ConversationID != conversationID || m.At.IsZero() {
			t.Fatalf("readBy mark %+v: want the conversation and a time", m)
		}
		got[m.UserID] = m.Seq
	}
	return got
}

func TestService_ReadReceipts(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, chat.Config{})
	alice, bob, carol := e.user(t, "alice"), e.user(t, "bob"), e.user(t, "carol")
	c := e.conversation(t, alice, bob, carol)
	cid := c.ConversationID
	for range 4 {
		e.send(t, alice, cid, "hello")
	}
	alices := subscribeReceipts(t, e, alice, cid)
	carols := subscribeReceipts(t, e, carol, cid)

	t.Run("OK", func(t *testing.T) {
		got := markRead(t, e, carol, cid, 2)
		if m := got.Member(carol.UserID); m.LastReadSeq != 2 || m.LastReadAt == nil {
			t.Fatalf("carol's member row after the mark: %+v, want seq 2 and a time", m)
		}
		wantMark(t, nextReceipt(t, alices), cid, carol.UserID, 2)
		markRead(t, e, carol, cid, 1) // does not move the mark: no receipt
		markRead(t, e, bob, cid, 3)
		// Publish order: carol's own receipt, or her mark that did not
		// move, would come before bob's.
		wantMark(t, nextReceipt(t, carols), cid, bob.UserID, 3)
		wantMark(t, nextReceipt(t, alices), cid, bob.UserID, 3)

		if got, want := readBy(t, e, alice, cid), map[string]int64{bob.UserID: 3, carol.UserID: 2}; !equalMarks(got, want) {
			t.Fatalf("alice's readBy = %v, want %v (not her own, nobody with no mark)", got, want)
		}
		if got, want := readBy(t, e, carol, cid), map[string]int64{bob.UserID: 3}; !equalMarks(got, want) {
			t.Fatalf("carol's readBy = %v, want %v", got, want)
		}
	})

	t.Run("Hidden", func(t *testing.T) {
		hide := true
		u, err := e.svc.UpdateUserProfile(ctx, carol, chat.ProfileUpdate{UserID: carol.UserID, HideReadReceipts: &hide})
		if err != nil || !u.HideReadReceipts {
			t.Fatalf("UpdateUserProfile: %+v, %v; want hideReadReceipts true", u, err)
		}
		got := markRead(t, e, carol, cid, 4)
		if n := chat.UnreadCount(got, carol.UserID); n != 0 {
			t.Fatalf("carol's unread count with receipts hidden = %d, want 0 (it still works)", n)
		}
		markRead(t, e, bob, cid, 4)
		wantMark(t, nextReceipt(t, alices), cid, bob.UserID, 4) // not carol's, which came first
		if got, want := readBy(t, e, alice, cid), map[string]int64{bob.UserID: 4}; !equalMarks(got, want) {
			t.Fatalf("readBy with carol hiding = %v, want %v", got, want)
		}
		// Only carol sees her choice.
		if v, err := e.svc.GetUser(ctx, alice, carol.UserID); err != nil || v.HideReadReceipts {
			t.Fatalf("alice sees carol as %+v, %v: hideReadReceipts must read false", v, err)
		}
		if v, err := e.svc.GetUser(ctx, carol, carol.UserID); err != nil || !v.HideReadReceipts {
			t.Fatalf("carol sees herself as %+v, %v: want hideReadReceipts true", v, err)
		}
	})

	t.Run("ErrNotMember", func(t *testing.T) {
		eve := e.user(t, "eve")
		_, err := e.svc.OnReadReceipt(ctx, eve, cid)
		wantCode(t, err, confab.CodeNotFound)
		_, err = e.svc.ReadBy(ctx, eve, c)
		wantCode(t, err, confab.CodeNotFound)
		_, err = e.svc.MarkConversationRead(ctx, eve, cid, 1)
		wantCode(t, err, confab.CodeNotFound)
	})
}

func equalMarks(a, b map[string]int64) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}
