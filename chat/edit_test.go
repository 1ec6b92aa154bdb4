package chat_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/confab-chat/confab"
	"github.com/confab-chat/confab/chat"
)

// recorder keeps every event published on a conversation's topic.
type recorder struct {
	mu     sync.Mutex
	events []*confab.Event // guarded by mu
}

func (e *env) record(t *testing.T, conversationID string) *recorder {
	t.Helper()
	r := &recorder{}
	sub, err := e.broker.Subscribe(confab.ConversationTopic(conversationID), func(ev *confab.Event) {
		r.mu.Lock()
		r.events = append(r.events, ev)
		r.mu.Unlock()
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(sub.Unsubscribe)
	return r
}

// changes returns the change log entries published so far. The in-process
// broker delivers before Publish returns, so what a call published is here
// when it has returned.
func (r *recorder) changes() []*confab.Change {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []*confab.Change
	for _, ev := range r.events {
		if ev.Change != nil {
			out = append(out, ev.Change)
		}
	}
	return out
}

func TestService_EditMessage(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, chat.Config{MaxContentBytes: 100})
	alice, bob, eve := e.user(t, "alice"), e.user(t, "bob"), e.user(t, "eve")
	c := e.conversation(t, alice, bob)
	cid := c.ConversationID
	rec := e.record(t, cid)

	t.Run("OK", func(t *testing.T) {
		m := e.send(t, alice, cid, "helo")
		got, err := e.svc.EditMessage(ctx, alice, cid, m.MessageID, "hello")
		if err != nil {
			t.Fatal(err)
		}
		if got.Content != "hello" || got.EditedAt == nil || got.ChangeSeq <= m.ChangeSeq {
			t.Fatalf("edited = %+v, want content hello, editedAt set, a later changeSeq than %d", got, m.ChangeSeq)
		}
		read, err := e.svc.GetMessage(ctx, bob, cid, m.MessageID)
		if err != nil || read.Content != "hello" {
			t.Fatalf("bob reads %+v, %v; want the edit", read, err)
		}
		edits, err := e.svc.MessageEdits(ctx, bob, read, nil)
		if err != nil {
			t.Fatal(err)
		}
		if len(edits) != 1 || edits[0].Content != "helo" {
			t.Fatalf("edits = %+v, want the earlier version helo", edits)
		}
		conv, err := e.svc.GetConversation(ctx, bob, cid)
		if err != nil || conv.LastMessage == nil || *conv.LastMessage != "hello" {
			t.Fatalf("conversation preview = %v, %v; want the edit", conv.LastMessage, err)
		}
		chs := rec.changes()
		last := chs[len(chs)-1]
		if last.Kind != confab.ChangeMessageEdited || last.ChangeSeq != got.ChangeSeq || last.Message.Content != "hello" || last.UserID != alice.UserID {
			t.Fatalf("published change = %+v, want MESSAGE_EDITED %d by alice with the new content", last, got.ChangeSeq)
		}
	})
	t.Run("SameContentChangesNothing", func(t *testing.T) {
		m := e.send(t, alice, cid, "same")
		before := len(rec.changes())
		for range 2 { // a retried edit is one edit
			if _, err := e.svc.EditMessage(ctx, alice, cid, m.MessageID, "same!"); err != nil {
				t.Fatal(err)
			}
		}
		got, err := e.svc.GetMessage(ctx, alice, cid, m.MessageID)
		if err != nil {
			t.Fatal(err)
		}
		edits, err := e.svc.MessageEdits(ctx, alice, got, nil)
		if err != nil {
			t.Fatal(err)
		}
		if len(edits) != 1 || len(rec.changes()) != before+1 {
			t.Fatalf("edits = %d, changes published = %d; want 1 and 1", len(edits), len(rec.changes())-before)
		}
	})
	t.Run("ErrNotAuthor", func(t *testing.T) {
		m := e.send(t, bob, cid, "bob's")
		_, err := e.svc.EditMessage(ctx, alice, cid, m.MessageID, "alice was here")
		wantCode(t, err, confab.CodeForbidden)
		if got, _ := e.svc.GetMessage(ctx, bob, cid, m.MessageID); got.Content != "bob's" || got.EditedAt != nil {
			t.Fatalf("message after a refused edit = %+v", got)
		}
	})
	t.Run("ErrNonMember", func(t *testing.T) {
		m := e.send(t, alice, cid, "private")
		_, err := e.svc.EditMessage(ctx, eve, cid, m.MessageID, "eve")
		wantCode(t, err, confab.CodeNotFound)
	})
	t.Run("ErrDeleted", func(t *testing.T) {
		m := e.send(t, alice, cid, "gone")
		if _, err := e.svc.DeleteMessage(ctx, alice, cid, m.MessageID); err != nil {
			t.Fatal(err)
		}
		_, err := e.svc.EditMessage(ctx, alice, cid, m.MessageID, "back")
		wantCode(t, err, confab.CodeNotFound)
	})
	t.Run("ErrUnknownMessage", func(t *testing.T) {
		_, err := e.svc.EditMessage(ctx, alice, cid, "not-an-id", "x")
		wantCode(t, err, confab.CodeNotFound)
	})
	for _, tt := range []struct{ name, content string }{
		{"ErrEmpty", "  "},
		{"ErrTooLarge", strings.Repeat("x", 101)},
		{"ErrInvalidUTF8", "\xff"},
		{"ErrNUL", "a\x00b"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			m := e.send(t, alice, cid, "original")
			_, err := e.svc.EditMessage(ctx, alice, cid, m.MessageID, tt.content)
			wantCode(t, err, confab.CodeInvalid)
			if got, _ := e.svc.GetMessage(ctx, alice, cid, m.MessageID); got.Content != "original" {
				t.Fatalf("content after a refused edit = %q", got.Content)
			}
		})
	}
}

// TestService_EditMessage_Window: with an edit window, the author may edit
// until it ends and is refused after.
func TestService_EditMessage_Window(t *testing.T) {
	ctx := context.Background()
	var mu sync.Mutex
	now := time.Date(2026, 12, 3, 9, 0, 0, 0, time.UTC)
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	advance := func(d time.Duration) { mu.Lock(); now = now.Add(d); mu.Unlock() }
	e := newEnv(t, chat.Config{EditWindow: time.Minute}, chat.WithClock(clock))
	alice := e.user(t, "alice")
	c := e.conversation(t, alice)
	m := e.send(t, alice, c.ConversationID, "v1")

	advance(time.Minute)
	if _, err := e.svc.EditMessage(ctx, alice, c.ConversationID, m.MessageID, "v2"); err != nil {
		t.Fatalf("edit at the end of the window: %v", err)
	}
	advance(time.Millisecond)
	_, err := e.svc.EditMessage(ctx, alice, c.ConversationID, m.MessageID, "v3")
	wantCode(t, err, confab.CodeForbidden)
}

// TestService_MessageEdits: earlier versions come newest first, bounded by
// limit; a deleted message shows none (its content is gone, so are they).
func TestService_MessageEdits(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, chat.Config{})
	alice, bob := e.user(t, "alice"), e.user(t, "bob")
	c := e.conversation(t, alice, bob)
	cid := c.ConversationID
	m := e.send(t, alice, cid, "v1")
	for _, v := range []string{"v2", "v3"} {
		var err error
		if m, err = e.svc.EditMessage(ctx, alice, cid, m.MessageID, v); err != nil {
			t.Fatal(err)
		}
	}
	one := 1
	edits, err := e.svc.MessageEdits(ctx, bob, m, &one)
	if err != nil || len(edits) != 1 || edits[0].Content != "v2" {
		t.Fatalf("edits(limit 1) = %+v, %v; want [v2]", edits, err)
	}
	zero := 0
	_, err = e.svc.MessageEdits(ctx, bob, m, &zero)
	wantCode(t, err, confab.CodeInvalid)

	deleted, err := e.svc.DeleteMessage(ctx, alice, cid, m.MessageID)
	if err != nil {
		t.Fatal(err)
	}
	deleted.Deleted = true
	if edits, err := e.svc.MessageEdits(ctx, bob, deleted, nil); err != nil || len(edits) != 0 {
		t.Fatalf("edits of a deleted message = %+v, %v; want none", edits, err)
	}
}
