package chat_test

import (
	"bytes"
	"context"
	"testing"

	"github.com/confab-chat/confab"
	"github.com/confab-chat/confab/chat"
)

func (e *env) reply(t *testing.T, who confab.Identity, convID, parentID, content string, also bool) *confab.Message {
	t.Helper()
	m, err := e.svc.SendMessage(context.Background(), who, chat.SendMessageInput{ConversationID: convID, Content: content, ParentMessageID: parentID, AlsoInConversation: also})
	if err != nil {
		t.Fatalf("reply: %v", err)
	}
	return m
}

func contents(ms []*confab.Message) []string {
	out := make([]string, len(ms))
	for i, m := range ms {
		out[i] = m.Content
	}
	return out
}

func TestService_SendMessage_Reply(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, chat.Config{})
	alice, bob, eve := e.user(t, "alice"), e.user(t, "bob"), e.user(t, "eve")
	c := e.conversation(t, alice, bob)
	cid := c.ConversationID
	rec := e.record(t, cid)

	root := e.send(t, alice, cid, "root")
	r1 := e.reply(t, bob, cid, root.MessageID, "r1", false)
	r2 := e.reply(t, alice, cid, r1.MessageID, "r2 (to a reply)", true)
	if r1.ParentMessageID != root.MessageID || r2.ParentMessageID != root.MessageID {
		t.Fatalf("parents = %q, %q; want both the root %q (threads are one level)", r1.ParentMessageID, r2.ParentMessageID, root.MessageID)
	}
	if r2.Seq != r1.Seq+1 || r1.Seq != root.Seq+1 {
		t.Fatalf("seqs = %d, %d, %d; replies take the conversation's next seqs", root.Seq, r1.Seq, r2.Seq)
	}

	got, err := e.svc.GetMessage(ctx, bob, cid, root.MessageID)
	if err != nil {
		t.Fatal(err)
	}
	if got.ReplyCount != 2 || got.LastReplyAt == nil || len(got.ReplyUserIDs) != 2 || got.ReplyUserIDs[0] != alice.UserID {
		t.Fatalf("root = count %d, last %v, users %v; want 2 replies, alice most recent", got.ReplyCount, got.LastReplyAt, got.ReplyUserIDs)
	}

	page, err := e.svc.ListMessages(ctx, bob, cid, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := contents(page.Items); len(got) != 2 || got[0] != "r2 (to a reply)" || got[1] != "root" {
		t.Fatalf("timeline = %q; want the reply sent also to the conversation and the root", got)
	}

	// Each reply publishes its MESSAGE_SENT, then the root's THREAD_UPDATED
	// at the next changeSeq.
	var seen []confab.ChangeKind
	for _, ch := range rec.changes() {
		seen = append(seen, ch.Kind)
		if ch.Kind == confab.ChangeThreadUpdated && (ch.MessageID != root.MessageID || ch.Message == nil || ch.Message.ReplyCount == 0) {
			t.Errorf("THREAD_UPDATED = %+v; want the root with its counts", ch)
		}
	}
	want := []confab.ChangeKind{confab.ChangeMessageSent, confab.ChangeMessageSent, confab.ChangeThreadUpdated, confab.ChangeMessageSent, confab.ChangeThreadUpdated}
	if len(seen) != len(want) {
		t.Fatalf("published kinds = %v, want %v", seen, want)
	}
	for i, ch := range rec.changes() {
		if seen[i] != want[i] || ch.ChangeSeq != int64(i+1) {
			t.Fatalf("change %d = %s #%d, want %s #%d", i, seen[i], ch.ChangeSeq, want[i], i+1)
		}
	}

	// Deleting a reply updates the root's thread.
	if _, err := e.svc.DeleteMessage(ctx, bob, cid, r1.MessageID); err != nil {
		t.Fatal(err)
	}
	chs := rec.changes()
	del, upd := chs[len(chs)-2], chs[len(chs)-1]
	if del.Kind != confab.ChangeMessageDeleted || !del.Message.Deleted || del.Message.Content != "" ||
		upd.Kind != confab.ChangeThreadUpdated || upd.ChangeSeq != del.ChangeSeq+1 || upd.Message.ReplyCount != 1 {
		t.Fatalf("after deleting a reply: %+v then %+v; want a tombstone, then the root with 1 reply", del, upd)
	}

	bad := []struct {
		name string
		in   chat.SendMessageInput
		code confab.Code
	}{
		{"ErrAlsoWithoutParent", chat.SendMessageInput{Content: "x", AlsoInConversation: true}, confab.CodeInvalid},
		{"ErrParentMissing", chat.SendMessageInput{Content: "x", ParentMessageID: "0190b7a4-0000-7000-8000-000000000000"}, confab.CodeNotFound},
		{"ErrParentNotAnID", chat.SendMessageInput{Content: "x", ParentMessageID: "nope"}, confab.CodeNotFound},
		{"ErrParentDeleted", chat.SendMessageInput{Content: "x", ParentMessageID: r1.MessageID}, confab.CodeNotFound},
	}
	for _, tt := range bad {
		t.Run(tt.name, func(t *testing.T) {
			tt.in.ConversationID = cid
			_, err := e.svc.SendMessage(ctx, alice, tt.in)
			wantCode(t, err, tt.code)
		})
	}
	t.Run("ErrParentInAnotherConversation", func(t *testing.T) {
		other := e.conversation(t, bob, eve)
		m := e.send(t, eve, other.ConversationID, "elsewhere")
		_, err := e.svc.SendMessage(ctx, bob, chat.SendMessageInput{ConversationID: cid, Content: "x", ParentMessageID: m.MessageID})
		wantCode(t, err, confab.CodeNotFound)
	})
}

func TestService_ListThread(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, chat.Config{})
	alice, bob, eve := e.user(t, "alice"), e.user(t, "bob"), e.user(t, "eve")
	c := e.conversation(t, alice, bob)
	cid := c.ConversationID
	root := e.send(t, alice, cid, "root")
	e.send(t, alice, cid, "not in the thread")
	for _, s := range []string{"1", "2", "3", "4", "5"} {
		e.reply(t, bob, cid, root.MessageID, s, false)
	}
	two := 2

	for _, tt := range []struct {
		name        string
		newestFirst bool
		want        []string
	}{
		{"OldestFirst", false, []string{"1", "2", "3", "4", "5"}},
		{"NewestFirst", true, []string{"6", "5", "4", "3", "2", "1"}}, // "6" from OldestFirst
	} {
		t.Run(tt.name, func(t *testing.T) {
			var got []string
			var tok *string
			for pages := 0; ; pages++ {
				if pages > 3 {
					t.Fatal("paging does not end")
				}
				p, err := e.svc.ListThread(ctx, alice, cid, root.MessageID, &two, tok, tt.newestFirst)
				if err != nil {
					t.Fatal(err)
				}
				got = append(got, contents(p.Items)...)
				if p.NextToken == nil {
					break
				}
				if tt.name == "OldestFirst" && pages == 0 {
					// A reply sent while paging oldest first comes on a later page.
					e.reply(t, bob, cid, root.MessageID, "6", false)
					tt.want = append(tt.want, "6")
				}
				tok = p.NextToken
			}
			if len(got) != len(tt.want) {
				t.Fatalf("thread = %q, want %q", got, tt.want)
			}
			for i := range got {
				if got[i] != tt.want[i] {
					t.Fatalf("thread = %q, want %q", got, tt.want)
				}
			}
		})
	}
	t.Run("ErrTokenOfTheOtherOrder", func(t *testing.T) {
		p, err := e.svc.ListThread(ctx, alice, cid, root.MessageID, &two, nil, false)
		if err != nil || p.NextToken == nil {
			t.Fatalf("first page: %v", err)
		}
		_, err = e.svc.ListThread(ctx, alice, cid, root.MessageID, &two, p.NextToken, true)
		wantCode(t, err, confab.CodeInvalid)
		_, err = e.svc.ListThread(ctx, alice, cid, p.Items[0].MessageID, &two, p.NextToken, false)
		wantCode(t, err, confab.CodeInvalid)
	})
	t.Run("ErrNonMember", func(t *testing.T) {
		_, err := e.svc.ListThread(ctx, eve, cid, root.MessageID, nil, nil, false)
		wantCode(t, err, confab.CodeNotFound)
	})
	t.Run("NoReplies", func(t *testing.T) {
		m := e.send(t, alice, cid, "lonely")
		p, err := e.svc.ListThread(ctx, alice, cid, m.MessageID, nil, nil, false)
		if err != nil || len(p.Items) != 0 || p.NextToken != nil {
			t.Fatalf("thread of a message without replies = %+v, %v", p, err)
		}
	})
}

// unread is the caller's unread replies in root's thread.
func (e *env) unread(t *testing.T, who confab.Identity, root *confab.Message) int {
	t.Helper()
	root, err := e.svc.GetMessage(context.Background(), who, root.ConversationID, root.MessageID)
	if err != nil {
		t.Fatal(err)
	}
	n, err := e.svc.UnreadReplies(context.Background(), who, []*confab.Message{root})
	if err != nil {
		t.Fatal(err)
	}
	return n[root.MessageID]
}

func TestService_MarkThreadRead(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, chat.Config{})
	alice, bob, eve := e.user(t, "alice"), e.user(t, "bob"), e.user(t, "eve")
	c := e.conversation(t, alice, bob)
	cid := c.ConversationID
	root := e.send(t, alice, cid, "root")
	r1 := e.reply(t, bob, cid, root.MessageID, "r1", false)
	r2 := e.reply(t, bob, cid, root.MessageID, "r2", false)
	e.reply(t, alice, cid, root.MessageID, "alice's own", false)

	if got := e.unread(t, alice, root); got != 2 {
		t.Fatalf("alice's unread replies = %d, want 2 (bob's; her own never count)", got)
	}
	if got := e.unread(t, bob, root); got != 1 {
		t.Fatalf("bob's unread replies = %d, want 1 (alice's)", got)
	}
	got, err := e.svc.MarkThreadRead(ctx, alice, cid, root.MessageID, r1.Seq)
	if err != nil || got.MessageID != root.MessageID {
		t.Fatalf("markThreadRead = %+v, %v; want the root", got, err)
	}
	if got := e.unread(t, alice, root); got != 1 {
		t.Fatalf("after reading up to r1: %d unread, want 1", got)
	}
	// A reply's id stands for its root; a seq past the end is clamped.
	if _, err := e.svc.MarkThreadRead(ctx, alice, cid, r2.MessageID, 1<<40); err != nil {
		t.Fatal(err)
	}
	if got := e.unread(t, alice, root); got != 0 {
		t.Fatalf("after reading all: %d unread, want 0", got)
	}
	// The mark never moves back, and later replies are unread.
	if _, err := e.svc.MarkThreadRead(ctx, alice, cid, root.MessageID, 1); err != nil {
		t.Fatal(err)
	}
	e.reply(t, bob, cid, root.MessageID, "r3", false)
	if got := e.unread(t, alice, root); got != 1 {
		t.Fatalf("after a new reply: %d unread, want 1", got)
	}
	if got := e.unread(t, bob, root); got != 1 {
		t.Fatalf("bob's marks are his own: %d unread, want 1", got)
	}

	t.Run("ErrNegativeSeq", func(t *testing.T) {
		_, err := e.svc.MarkThreadRead(ctx, alice, cid, root.MessageID, -1)
		wantCode(t, err, confab.CodeInvalid)
	})
	t.Run("ErrNonMember", func(t *testing.T) {
		_, err := e.svc.MarkThreadRead(ctx, eve, cid, root.MessageID, 1)
		wantCode(t, err, confab.CodeNotFound)
		read, err := e.svc.GetMessage(ctx, alice, cid, root.MessageID)
		if err != nil {
			t.Fatal(err)
		}
		_, err = e.svc.UnreadReplies(ctx, eve, []*confab.Message{read})
		wantCode(t, err, confab.CodeNotFound)
	})
	t.Run("ErrUnknownRoot", func(t *testing.T) {
		_, err := e.svc.MarkThreadRead(ctx, alice, cid, "0190b7a4-0000-7000-8000-000000000000", 1)
		wantCode(t, err, confab.CodeNotFound)
	})
}

// TestService_OnMessageSent_TimelineOnly: onMessageSent carries what
// listMessages shows. A reply only in its thread takes a seq but is not
// delivered, replayed or live; a reply also sent to the conversation is.
func TestService_OnMessageSent_TimelineOnly(t *testing.T) {
	e := newEnv(t, chat.Config{})
	alice, bob := e.user(t, "alice"), e.user(t, "bob")
	cid := e.conversation(t, alice, bob).ConversationID
	root := e.send(t, alice, cid, "root")
	e.reply(t, bob, cid, root.MessageID, "thread only, replayed", false)

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	zero := int64(0)
	ch, err := e.svc.OnMessageSent(ctx, bob, cid, &zero)
	if err != nil {
		t.Fatal(err)
	}
	e.reply(t, alice, cid, root.MessageID, "thread only, live", false)
	e.reply(t, alice, cid, root.MessageID, "also in the conversation", true)
	e.send(t, bob, cid, "after")

	got := contents(collect(t, ch, 3))
	want := []string{"root", "also in the conversation", "after"}
	if len(got) != len(want) || got[0] != want[0] || got[1] != want[1] || got[2] != want[2] {
		t.Fatalf("onMessageSent delivered %q, want %q", got, want)
	}
}

// TestService_SendMessage_ReplyWithAttachments: a reply carries files like
// any message. Bob finds them, with links minted for him, in the thread,
// in the timeline (a reply also sent there), in the live change stream
// and in its replay; the originals download byte-identical.
func TestService_SendMessage_ReplyWithAttachments(t *testing.T) {
	fe := newFileEnv(t, chat.UploadConfig{})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	alice, bob, eve := fe.user(t, "alice"), fe.user(t, "bob"), fe.user(t, "eve")
	cid := fe.conversation(t, alice, bob).ConversationID
	root := fe.send(t, alice, cid, "root")
	live, err := fe.svc.OnConversationChanged(ctx, bob, cid, &root.ChangeSeq)
	if err != nil {
		t.Fatal(err)
	}

	photo := pngOf(t, 400, 300)
	img := fe.upload(t, alice, cid, "photo.png", "image/png", photo)
	doc := fe.upload(t, alice, cid, "report.pdf", "application/pdf", pdf)
	r1, err := fe.svc.SendMessage(ctx, alice, chat.SendMessageInput{ConversationID: cid, ParentMessageID: root.MessageID, Attachments: []string{img}})
	if err != nil {
		t.Fatal(err)
	}
	r2, err := fe.svc.SendMessage(ctx, alice, chat.SendMessageInput{ConversationID: cid, Content: "the report",
		ParentMessageID: r1.MessageID, AlsoInConversation: true, Attachments: []string{doc}})
	if err != nil {
		t.Fatal(err)
	}
	if r1.MessageType != confab.MessageImage || r1.ParentMessageID != root.MessageID || r2.ParentMessageID != root.MessageID {
		t.Fatalf("replies = %s under %q, %s under %q; want IMAGE and TEXT under the root %q",
			r1.MessageType, r1.ParentMessageID, r2.MessageType, r2.ParentMessageID, root.MessageID)
	}
	want := map[string][]byte{r1.MessageID: photo, r2.MessageID: pdf}

	// wantFiles checks that bob gets m's file with a link of his own and
	// that it downloads as sent.
	wantFiles := func(t *testing.T, where string, m *confab.Message) {
		t.Helper()
		atts, err := fe.svc.MessageAttachments(ctx, bob, m)
		if err != nil || len(atts) != 1 {
			t.Fatalf("%s: attachments of %q = %v, %v; want one", where, m.Content, atts, err)
		}
		if status, body := fe.get(t, atts[0].URL); status != 200 || !bytes.Equal(body, want[m.MessageID]) {
			t.Fatalf("%s: download of %s = %d, %d bytes; want the %d sent", where, atts[0].FileName, status, len(body), len(want[m.MessageID]))
		}
		if m.MessageID == r1.MessageID && atts[0].ThumbnailURL == nil {
			t.Errorf("%s: the image has no thumbnail", where)
		}
	}

	thread, err := fe.svc.ListThread(ctx, bob, cid, root.MessageID, nil, nil, false)
	if err != nil || len(thread.Items) != 2 {
		t.Fatalf("listThread = %+v, %v; want both replies", thread, err)
	}
	byMsg, err := fe.svc.PageAttachments(ctx, bob, thread.Items)
	if err != nil || len(byMsg[r1.MessageID]) != 1 || len(byMsg[r2.MessageID]) != 1 {
		t.Fatalf("the thread page's attachments = %v, %v; want one file per reply", byMsg, err)
	}
	for _, m := range thread.Items {
		wantFiles(t, "listThread", m)
	}

	timeline, err := fe.svc.ListMessages(ctx, bob, cid, nil, nil)
	if err != nil || len(timeline.Items) != 2 || timeline.Items[0].MessageID != r2.MessageID {
		t.Fatalf("listMessages = %+v, %v; want the reply also sent there, then the root", timeline, err)
	}
	wantFiles(t, "listMessages", timeline.Items[0])

	// Live and replayed: each reply's MESSAGE_SENT, then the root's
	// THREAD_UPDATED.
	replay, err := fe.svc.SyncConversation(ctx, bob, cid, root.ChangeSeq, nil)
	if err != nil {
		t.Fatal(err)
	}
	for where, changes := range map[string][]*confab.Change{"live": collect(t, live, 4), "replay": replay.Changes} {
		kinds := []confab.ChangeKind{confab.ChangeMessageSent, confab.ChangeThreadUpdated, confab.ChangeMessageSent, confab.ChangeThreadUpdated}
		if len(changes) != len(kinds) {
			t.Fatalf("%s: %d changes, want %d", where, len(changes), len(kinds))
		}
		for i, ch := range changes {
			if ch.Kind != kinds[i] || ch.Message == nil {
				t.Fatalf("%s: change %d = %s with message %v, want %s", where, i, ch.Kind, ch.Message, kinds[i])
			}
			if ch.Kind == confab.ChangeThreadUpdated {
				n := (i + 1) / 2
				if where == "replay" {
					n = 2 // a replay shows the root as it is now
				}
				if ch.MessageID != root.MessageID || ch.Message.ReplyCount != n {
					t.Errorf("%s: THREAD_UPDATED = %q with %d replies, want the root with %d", where, ch.MessageID, ch.Message.ReplyCount, n)
				}
				continue
			}
			wantFiles(t, where, ch.Message)
		}
	}

	t.Run("ErrNonMember", func(t *testing.T) {
		_, err := fe.svc.PageAttachments(ctx, eve, thread.Items)
		wantCode(t, err, confab.CodeNotFound)
	})
	t.Run("ErrUploadUsed", func(t *testing.T) {
		_, err := fe.svc.SendMessage(ctx, alice, chat.SendMessageInput{ConversationID: cid, ParentMessageID: root.MessageID, Attachments: []string{img}})
		wantCode(t, err, confab.CodeConflict)
	})
}
