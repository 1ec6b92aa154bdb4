package main

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/confab-chat/confab"
	"github.com/confab-chat/confab/store/sqlite"
)

// TestWakeOnCommit: the worker is woken after each call that committed an
// outbox event, and not after one that failed (nothing was written).
func TestWakeOnCommit(t *testing.T) {
	raw, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "confab.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	wakes := 0
	st := wakeOnCommit(raw, func() { wakes++ })
	ctx := t.Context()
	now := time.Now().UTC().Truncate(time.Millisecond)

	must := func(step string, err error, want int) {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %v", step, err)
		}
		if wakes != want {
			t.Fatalf("after %s: %d wakes, want %d", step, wakes, want)
		}
	}
	for i, name := range []string{"ann", "bob"} {
		err := st.InsertAccount(ctx, &confab.Account{User: confab.User{UserID: name, Username: name, Email: name + "@example.com", CreatedAt: now}, PasswordHash: "x"})
		must("InsertAccount "+name, err, i+1)
	}
	c := &confab.Conversation{ConversationID: "c1", CreatedBy: "ann", CreatedAt: now,
		Members: []confab.Member{{UserID: "ann", JoinedAt: now, Role: confab.RoleOwner}, {UserID: "bob", JoinedAt: now, Role: confab.RoleMember}}}
	must("InsertConversation", st.InsertConversation(ctx, c), 3)
	m := &confab.Message{MessageID: "m1", ConversationID: "c1", UserID: "ann", Content: "hi", MessageType: confab.MessageText, CreatedAt: now}
	_, err = st.AppendMessage(ctx, m)
	must("AppendMessage", err, 4)
	_, err = st.EditMessage(ctx, "c1", "m1", "hello", now)
	must("EditMessage", err, 5)
	_, _, err = st.AddReaction(ctx, &confab.Reaction{ConversationID: "c1", MessageID: "m1", UserID: "bob", Key: "+1", At: now}, 10)
	must("AddReaction", err, 6)
	_, err = st.UpdateConversation(ctx, "c1", "ann", confab.ConversationUpdate{Name: new(string)}, now)
	must("UpdateConversation", err, 7)
	_, _, err = st.DeleteMessage(ctx, "c1", "m1", "ann", now)
	must("DeleteMessage", err, 8)

	if _, err := st.AppendMessage(ctx, &confab.Message{MessageID: "m2", ConversationID: "missing", UserID: "ann", Content: "x",
		MessageType: confab.MessageText, CreatedAt: now}); confab.ErrorCode(err) != confab.CodeNotFound {
		t.Fatalf("AppendMessage to a missing conversation: %v, want NOT_FOUND", err)
	}
	if wakes != 8 {
		t.Fatalf("a failed call woke the worker: %d wakes, want 8", wakes)
	}
}
