package chat_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/confab-chat/confab"
	"github.com/confab-chat/confab/chat"
	"github.com/google/uuid"
)

func TestService_SendMessage_Mentions(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, chat.Config{})
	alice, bob, carol, eve := e.user(t, "alice"), e.user(t, "bob"), e.user(t, "carol"), e.user(t, "eve")
	c := e.conversation(t, alice, bob, carol)
	cid := c.ConversationID
	send := func(mentions ...string) (*confab.Message, error) {
		return e.svc.SendMessage(ctx, alice, chat.SendMessageInput{ConversationID: cid, Content: "hey", Mentions: mentions})
	}

	t.Run("OK", func(t *testing.T) {
		m, err := send(carol.UserID, bob.UserID, carol.UserID, alice.UserID)
		if err != nil {
			t.Fatal(err)
		}
		want := []string{carol.UserID, bob.UserID, alice.UserID}
		got, err := e.svc.GetMessage(ctx, bob, cid, m.MessageID)
		if err != nil {
			t.Fatal(err)
		}
		if fmt.Sprint(got.Mentions) != fmt.Sprint(want) {
			t.Fatalf("mentions = %v, want %v (in order, each once)", got.Mentions, want)
		}
		conv, err := e.svc.GetConversation(ctx, bob, cid)
		if err != nil {
			t.Fatal(err)
		}
		if mb := conv.Member(bob.UserID); mb == nil || mb.UnreadMentions != 1 {
			t.Fatalf("bob's member record = %+v; want 1 unread mention", mb)
		}
	})
	t.Run("ErrNonMember", func(t *testing.T) {
		before, _ := e.svc.GetConversation(ctx, alice, cid)
		_, err := send(bob.UserID, eve.UserID)
		wantCode(t, err, confab.CodeInvalid)
		after, _ := e.svc.GetConversation(ctx, alice, cid)
		if after.LastSeq != before.LastSeq {
			t.Fatalf("a refused send stored a message: lastSeq %d → %d", before.LastSeq, after.LastSeq)
		}
	})
	for _, tt := range []struct{ name, id string }{
		{"ErrUnknownUser", "not-a-user"},
		{"ErrEmptyID", ""},
		{"ErrInvalidUTF8", "\xff"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := send(bob.UserID, tt.id)
			wantCode(t, err, confab.CodeInvalid)
		})
	}
	t.Run("ErrTooMany", func(t *testing.T) {
		ids := []string{bob.UserID}
		for range confab.MaxMentions {
			ids = append(ids, uuid.NewString())
		}
		_, err := send(ids...)
		wantCode(t, err, confab.CodeInvalid)
	})
	t.Run("DuplicatesDoNotCount", func(t *testing.T) {
		var ids []string
		for range confab.MaxMentions + 10 {
			ids = append(ids, bob.UserID)
		}
		m, err := send(ids...)
		if err != nil || len(m.Mentions) != 1 {
			t.Fatalf("send = %+v, %v; want one mention", m, err)
		}
	})
}

// TestService_WritesShareTheSendBudget: edits and reactions spend the
// send budget, so nobody floods the change log every member replays.
func TestService_WritesShareTheSendBudget(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2026, 12, 3, 9, 0, 0, 0, time.UTC)
	e := newEnv(t, chat.Config{SendsPerSecond: 1, SendBurst: 3}, chat.WithClock(func() time.Time { return now }))
	alice := e.user(t, "alice")
	c := e.conversation(t, alice)
	m := e.send(t, alice, c.ConversationID, "one")
	if _, err := e.svc.EditMessage(ctx, alice, c.ConversationID, m.MessageID, "two"); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.AddReaction(ctx, alice, c.ConversationID, m.MessageID, "👍"); err != nil {
		t.Fatal(err)
	}
	_, err := e.svc.RemoveReaction(ctx, alice, c.ConversationID, m.MessageID, "👍")
	wantCode(t, err, confab.CodeLimited)
	_, err = e.svc.EditMessage(ctx, alice, c.ConversationID, m.MessageID, "three")
	wantCode(t, err, confab.CodeLimited)
}

// TestService_ChangeLog_ConcurrentWriters: 8 members send, reply, edit and
// react at once through the service. The conversation's change log is
// gapless (1..lastChangeSeq), and every change was published exactly once,
// with the kind and message the log has.
func TestService_ChangeLog_ConcurrentWriters(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, chat.Config{})
	const writers, rounds = 8, 10
	users := make([]confab.Identity, writers)
	for i := range users {
		users[i] = e.user(t, fmt.Sprintf("w%d", i))
	}
	c := e.conversation(t, users[0], users[1:]...)
	cid := c.ConversationID
	root := e.send(t, users[0], cid, "root")
	rec := e.record(t, cid)

	var wg sync.WaitGroup
	errs := make(chan error, writers)
	for _, u := range users {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range rounds {
				m, err := e.svc.SendMessage(ctx, u, chat.SendMessageInput{ConversationID: cid, Content: fmt.Sprint("m", i)})
				if err == nil {
					_, err = e.svc.EditMessage(ctx, u, cid, m.MessageID, fmt.Sprint("edited ", i))
				}
				if err == nil {
					_, err = e.svc.AddReaction(ctx, u, cid, root.MessageID, fmt.Sprint(":k", i%3, ":"))
				}
				if err == nil {
					_, err = e.svc.SendMessage(ctx, u, chat.SendMessageInput{ConversationID: cid, Content: "reply", ParentMessageID: root.MessageID})
				}
				if err == nil && i%2 == 0 {
					_, err = e.svc.RemoveReaction(ctx, u, cid, root.MessageID, fmt.Sprint(":k", i%3, ":"))
				}
				if err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}

	conv, err := e.svc.GetConversation(ctx, users[0], cid)
	if err != nil {
		t.Fatal(err)
	}
	var log []*confab.Change
	for {
		page, err := e.store.ListChanges(ctx, cid, int64(len(log)), confab.MaxPageLimit)
		if err != nil {
			t.Fatal(err)
		}
		if len(page) == 0 {
			break
		}
		log = append(log, page...)
	}
	if int64(len(log)) != conv.LastChangeSeq {
		t.Fatalf("log has %d changes, lastChangeSeq = %d", len(log), conv.LastChangeSeq)
	}
	for i, ch := range log {
		if ch.ChangeSeq != int64(i+1) {
			t.Fatalf("change %d has changeSeq %d: the log has a gap", i, ch.ChangeSeq)
		}
	}
	published := map[int64]*confab.Change{}
	for _, ch := range rec.changes() {
		if published[ch.ChangeSeq] != nil {
			t.Fatalf("changeSeq %d published twice", ch.ChangeSeq)
		}
		published[ch.ChangeSeq] = ch
	}
	for _, ch := range log[1:] { // the root's send was before the recorder
		p := published[ch.ChangeSeq]
		if p == nil || p.Kind != ch.Kind || p.MessageID != ch.MessageID {
			t.Fatalf("log has %+v; published %+v", ch, p)
		}
	}
	if len(published) != len(log)-1 {
		t.Fatalf("published %d changes, the log has %d after the root", len(published), len(log)-1)
	}
}

// TestService_Authorization_ConversationFeatures extends the
// authorisation matrix to the operations of issue 12: a member may, a
// non-member sees nothing (NOT_FOUND, as for a conversation that does not
// exist), a caller without identity is UNAUTHENTICATED, and nobody edits
// another's message.
func TestService_Authorization_ConversationFeatures(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, chat.Config{})
	alice, bob, eve := e.user(t, "alice"), e.user(t, "bob"), e.user(t, "eve")
	c := e.conversation(t, alice, bob)
	cid := c.ConversationID
	root := e.send(t, alice, cid, "root")
	e.reply(t, bob, cid, root.MessageID, "reply", false)
	root, err := e.svc.GetMessage(ctx, alice, cid, root.MessageID)
	if err != nil {
		t.Fatal(err)
	}
	ops := []struct {
		name string
		run  func(id confab.Identity) error
	}{
		{"sendReply", func(id confab.Identity) error {
			_, err := e.svc.SendMessage(ctx, id, chat.SendMessageInput{ConversationID: cid, Content: "x", ParentMessageID: root.MessageID})
			return err
		}},
		{"sendMention", func(id confab.Identity) error {
			_, err := e.svc.SendMessage(ctx, id, chat.SendMessageInput{ConversationID: cid, Content: "x", Mentions: []string{bob.UserID}})
			return err
		}},
		{"editMessage", func(id confab.Identity) error {
			_, err := e.svc.EditMessage(ctx, id, cid, root.MessageID, "edited "+uuid.NewString())
			return err
		}},
		{"addReaction", func(id confab.Identity) error {
			_, err := e.svc.AddReaction(ctx, id, cid, root.MessageID, "👍")
			return err
		}},
		{"removeReaction", func(id confab.Identity) error {
			_, err := e.svc.RemoveReaction(ctx, id, cid, root.MessageID, "👍")
			return err
		}},
		{"markThreadRead", func(id confab.Identity) error {
			_, err := e.svc.MarkThreadRead(ctx, id, cid, root.MessageID, 1)
			return err
		}},
		{"listThread", func(id confab.Identity) error {
			_, err := e.svc.ListThread(ctx, id, cid, root.MessageID, nil, nil, false)
			return err
		}},
		{"message.reactions", func(id confab.Identity) error {
			_, err := e.svc.Reactions(ctx, id, []*confab.Message{root}, 10)
			return err
		}},
		{"message.unreadReplies", func(id confab.Identity) error {
			_, err := e.svc.UnreadReplies(ctx, id, []*confab.Message{root})
			return err
		}},
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

	t.Run("editMessage/ErrNotAuthor", func(t *testing.T) {
		_, err := e.svc.EditMessage(ctx, bob, cid, root.MessageID, "bob writes in alice's name")
		wantCode(t, err, confab.CodeForbidden)
	})
	t.Run("nonMemberSeesNothing", func(t *testing.T) {
		// The same answer for a message of a hidden conversation as for one
		// that does not exist.
		_, hidden := e.svc.AddReaction(ctx, eve, cid, root.MessageID, "👍")
		_, missing := e.svc.AddReaction(ctx, eve, uuid.NewString(), uuid.NewString(), "👍")
		if hidden.Error() != missing.Error() {
			t.Fatalf("hidden = %v, missing = %v: must be indistinguishable", hidden, missing)
		}
		edited, err := e.svc.GetMessage(ctx, alice, cid, root.MessageID)
		if err != nil || edited.EditedAt == nil {
			t.Fatalf("root = %+v, %v; want it edited by editMessage/Member", edited, err)
		}
		_, err = e.svc.MessageEdits(ctx, eve, edited, nil)
		wantCode(t, err, confab.CodeNotFound)
	})
}
