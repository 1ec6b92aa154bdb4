package storetest

import (
	"fmt"
	"slices"

	"github.com/confab-chat/confab"
	"github.com/google/go-cmp/cmp"
)

var threadTests = []test{
	{"AppendMessage/ReplyUpdatesRootAndChange", testReplyUpdatesRoot},
	{"AppendMessage/ReplyUsersMostRecentFirstBounded", testReplyUsers},
	{"AppendMessage/ReplyToMissingOrDeletedRootNotFound", testReplyRootNotFound},
	{"DeleteMessage/ReplyDropsCountAndChange", testDeleteReply},
	{"ListMessages/ThreadOnlyRepliesLeftOut", testListMessagesTimeline},
	{"ListThread/OrdersAndBounds", testListThread},
	{"CountUnreadReplies/OthersAboveThreadMark", testUnreadReplies},
}

// reply sends a reply of u to root and fails unless it was created.
func (f *fixture) reply(root *confab.Message, u *confab.User, content string, alsoInConversation bool) *confab.Message {
	f.t.Helper()
	m := &confab.Message{MessageID: f.id("m"), ConversationID: root.ConversationID, UserID: u.UserID, Content: content,
		MessageType: confab.MessageText, CreatedAt: f.now(), ParentMessageID: root.MessageID, AlsoInConversation: alsoInConversation}
	created, err := f.s.AppendMessage(f.ctx, m)
	if err != nil || !created {
		f.t.Fatalf("AppendMessage(reply) = %v, %v; want created", created, err)
	}
	return m
}

func (f *fixture) getMessage(m *confab.Message) *confab.Message {
	f.t.Helper()
	got, err := f.s.GetMessage(f.ctx, m.ConversationID, m.MessageID)
	if err != nil {
		f.t.Fatalf("GetMessage: %v", err)
	}
	return got
}

// testReplyUpdatesRoot: a reply is a message with its own seq; its root's
// count, last reply time and repliers follow, and THREAD_UPDATED of the
// root comes right after the reply's MESSAGE_SENT.
func testReplyUpdatesRoot(f *fixture) {
	ann, bo := f.user("ann"), f.user("bo")
	c := f.conversation(ann, bo)
	root := f.send(c, ann, "root")
	r := f.reply(root, bo, "reply", false)
	if r.Seq != 2 || r.ChangeSeq != 2 {
		f.t.Fatalf("reply seq %d ChangeSeq %d, want 2 and 2", r.Seq, r.ChangeSeq)
	}
	got := f.getMessage(root)
	if got.ReplyCount != 1 || got.LastReplyAt == nil || !got.LastReplyAt.Equal(r.CreatedAt) ||
		!slices.Equal(got.ReplyUserIDs, []string{bo.UserID}) || got.ChangeSeq != 3 {
		f.t.Fatalf("root after a reply = count %d last %v users %v ChangeSeq %d; want 1, %v, [%s], 3",
			got.ReplyCount, got.LastReplyAt, got.ReplyUserIDs, got.ChangeSeq, r.CreatedAt, bo.UserID)
	}
	stored := f.getMessage(r)
	if diff := cmp.Diff(r, stored); diff != "" {
		f.t.Fatalf("stored reply differs from the appended one (-appended +stored):\n%s", diff)
	}
	f.wantChanges(f.changes(c, 0), c, 1, []wantChange{
		{confab.ChangeMessageSent, ann.UserID, root.MessageID, ""},
		{confab.ChangeMessageSent, bo.UserID, r.MessageID, ""},
		{confab.ChangeThreadUpdated, bo.UserID, root.MessageID, ""},
	})
	if ch := f.changes(c, 2)[0]; ch.Message.ReplyCount != 1 || !ch.At.Equal(r.CreatedAt) {
		f.t.Fatalf("THREAD_UPDATED = at %v, root %+v; want at the reply's time, the root with its count", ch.At, ch.Message)
	}
	conv := f.getConversation(c.ConversationID)
	if conv.LastSeq != 2 || conv.MessageCount != 2 || conv.LastChangeSeq != 3 || conv.LastMessage == nil || *conv.LastMessage != "reply" ||
		conv.LastMessageAt == nil || !conv.LastMessageAt.Equal(r.CreatedAt) {
		f.t.Fatalf("conversation after a thread-only reply = %+v; every message sets the summary", conv)
	}
}

// testReplyUsers: repliers are distinct, most recent first, at most
// confab.MaxReplyUsers.
func testReplyUsers(f *fixture) {
	ann, bo := f.user("ann"), f.user("bo")
	c := f.conversation(ann, bo)
	root := f.send(c, ann, "root")
	f.reply(root, bo, "1", false)
	f.reply(root, ann, "2", true)
	f.reply(root, bo, "3", false)
	if got := f.getMessage(root); got.ReplyCount != 3 || !slices.Equal(got.ReplyUserIDs, []string{bo.UserID, ann.UserID}) {
		f.t.Fatalf("root = count %d users %v; want 3, [bo ann]", got.ReplyCount, got.ReplyUserIDs)
	}
	var many []string
	for i := range confab.MaxReplyUsers + 1 {
		u := f.user(fmt.Sprint("r", i))
		f.reply(root, u, "hi", false)
		many = slices.Insert(many, 0, u.UserID)
	}
	if got := f.getMessage(root); got.ReplyCount != 3+confab.MaxReplyUsers+1 || !slices.Equal(got.ReplyUserIDs, many[:confab.MaxReplyUsers]) {
		f.t.Fatalf("root = count %d users %v; want %d, %v", got.ReplyCount, got.ReplyUserIDs, 3+confab.MaxReplyUsers+1, many[:confab.MaxReplyUsers])
	}
}

// testReplyRootNotFound: a reply to a root that is missing, deleted or in
// another conversation is CodeNotFound and writes nothing.
func testReplyRootNotFound(f *fixture) {
	ann := f.user("ann")
	c, other := f.conversation(ann), f.conversation(ann)
	f.send(c, ann, "live")
	gone := f.send(c, ann, "deleted")
	f.deleteMessage(gone)
	elsewhere := f.send(other, ann, "elsewhere")
	before := f.getConversation(c.ConversationID)
	for _, parent := range []string{"missing", gone.MessageID, elsewhere.MessageID} {
		m := f.newMessage(c, ann, "orphan")
		m.ParentMessageID = parent
		created, err := f.s.AppendMessage(f.ctx, m)
		f.wantCode(err, confab.CodeNotFound)
		if created {
			f.t.Fatal("created = true with an error")
		}
	}
	after := f.getConversation(c.ConversationID)
	if diff := cmp.Diff(before, after); diff != "" {
		f.t.Fatalf("a refused reply changed the conversation (-before +after):\n%s", diff)
	}
	if next := f.send(c, ann, "next"); next.Seq != before.LastSeq+1 || next.ChangeSeq != before.LastChangeSeq+1 {
		f.t.Fatalf("next send = seq %d ChangeSeq %d, want %d and %d (nothing written before)", next.Seq, next.ChangeSeq, before.LastSeq+1, before.LastChangeSeq+1)
	}
}

// testDeleteReply: deleting a reply drops its root's count and appends
// THREAD_UPDATED of the root right after MESSAGE_DELETED.
func testDeleteReply(f *fixture) {
	ann, bo := f.user("ann"), f.user("bo")
	c := f.conversation(ann, bo)
	root := f.send(c, ann, "root")
	f.reply(root, bo, "first", false)
	r2 := f.reply(root, bo, "second", false) // change 4, root 5
	deleted := f.deleteMessage(r2)
	if deleted.ChangeSeq != 6 || deleted.ParentMessageID != root.MessageID {
		f.t.Fatalf("DeleteMessage(reply) = ChangeSeq %d parent %q, want 6 and the root", deleted.ChangeSeq, deleted.ParentMessageID)
	}
	got := f.getMessage(root)
	if got.ReplyCount != 1 || got.ChangeSeq != 7 {
		f.t.Fatalf("root after a reply's deletion = count %d ChangeSeq %d, want 1 and 7", got.ReplyCount, got.ChangeSeq)
	}
	f.wantChanges(f.changes(c, 5), c, 6, []wantChange{
		{confab.ChangeMessageDeleted, bo.UserID, r2.MessageID, ""},
		{confab.ChangeThreadUpdated, bo.UserID, root.MessageID, ""},
	})
	if conv := f.getConversation(c.ConversationID); conv.MessageCount != 2 || conv.LastChangeSeq != 7 {
		f.t.Fatalf("conversation after deleting a reply = count %d LastChangeSeq %d, want 2 and 7", conv.MessageCount, conv.LastChangeSeq)
	}
}

// testListMessagesTimeline: the timeline has every message that is not a
// reply, and replies also sent to the conversation.
func testListMessagesTimeline(f *fixture) {
	ann, bo := f.user("ann"), f.user("bo")
	c := f.conversation(ann, bo)
	root := f.send(c, ann, "root")
	f.reply(root, bo, "thread only", false)
	also := f.reply(root, bo, "also in conversation", true)
	last := f.send(c, ann, "after")
	page, err := f.s.ListMessages(f.ctx, c.ConversationID, 0, 10)
	if err != nil || !slices.Equal(seqs(page), []int64{last.Seq, also.Seq, root.Seq}) {
		f.t.Fatalf("ListMessages = %v, %v; want [%d %d %d] (thread-only reply left out)", seqs(page), err, last.Seq, also.Seq, root.Seq)
	}
	if page[1].ParentMessageID != root.MessageID || !page[1].AlsoInConversation || page[2].ReplyCount != 2 {
		f.t.Fatalf("listed reply = parent %q also %v, root count %d", page[1].ParentMessageID, page[1].AlsoInConversation, page[2].ReplyCount)
	}
	if got := f.after(c); !slices.Equal(got, []int64{1, 2, 3, 4}) {
		f.t.Fatalf("ListMessagesAfter(0) = %v, want every seq (replies are messages like any other)", got)
	}
	page, err = f.s.ListMessages(f.ctx, c.ConversationID, 0, 1)
	if err != nil || !slices.Equal(seqs(page), []int64{last.Seq}) {
		f.t.Fatalf("ListMessages limit 1 = %v, %v", seqs(page), err)
	}
	page, err = f.s.ListMessages(f.ctx, c.ConversationID, also.Seq, 1)
	if err != nil || !slices.Equal(seqs(page), []int64{root.Seq}) {
		f.t.Fatalf("ListMessages before the reply, limit 1 = %v, %v; want the root (the thread-only reply skipped)", seqs(page), err)
	}
}

// testListThread: live replies only, oldest first after AfterSeq or newest
// first before BeforeSeq, at most Limit; empty for a root without replies
// or a missing one.
func testListThread(f *fixture) {
	ann, bo := f.user("ann"), f.user("bo")
	c := f.conversation(ann, bo)
	root := f.send(c, ann, "root")
	other := f.send(c, ann, "another root")
	var rs []*confab.Message
	for i := range 5 {
		rs = append(rs, f.reply(root, []*confab.User{ann, bo}[i%2], fmt.Sprint("r", i), i == 3))
		if i == 1 {
			f.reply(other, bo, "elsewhere", false)
		}
	}
	f.deleteMessage(rs[2])
	thread := func(p confab.ThreadPage) []int64 {
		f.t.Helper()
		msgs, err := f.s.ListThread(f.ctx, c.ConversationID, root.MessageID, p)
		if err != nil {
			f.t.Fatalf("ListThread(%+v): %v", p, err)
		}
		return seqs(msgs)
	}
	s := seqs(rs)
	for _, tt := range []struct {
		p    confab.ThreadPage
		want []int64
	}{
		{confab.ThreadPage{Limit: 10}, []int64{s[0], s[1], s[3], s[4]}},
		{confab.ThreadPage{Limit: 2}, []int64{s[0], s[1]}},
		{confab.ThreadPage{Limit: 2, AfterSeq: s[1]}, []int64{s[3], s[4]}},
		{confab.ThreadPage{Limit: 10, AfterSeq: s[4]}, nil},
		{confab.ThreadPage{Limit: 10, NewestFirst: true}, []int64{s[4], s[3], s[1], s[0]}},
		{confab.ThreadPage{Limit: 2, NewestFirst: true, BeforeSeq: s[4]}, []int64{s[3], s[1]}},
		{confab.ThreadPage{Limit: 10, NewestFirst: true, BeforeSeq: s[0]}, nil},
		{confab.ThreadPage{Limit: 0}, nil},
	} {
		if got := thread(tt.p); !slices.Equal(got, tt.want) {
			f.t.Errorf("ListThread(%+v) = %v, want %v", tt.p, got, tt.want)
		}
	}
	msgs, err := f.s.ListThread(f.ctx, c.ConversationID, root.MessageID, confab.ThreadPage{Limit: 1})
	if err != nil || len(msgs) != 1 {
		f.t.Fatalf("ListThread = %v, %v", seqs(msgs), err)
	}
	if diff := cmp.Diff(rs[0], msgs[0]); diff != "" {
		f.t.Fatalf("listed reply differs from the appended one (-appended +listed):\n%s", diff)
	}
	for _, id := range []string{rs[0].MessageID, "missing"} {
		if msgs, err := f.s.ListThread(f.ctx, c.ConversationID, id, confab.ThreadPage{Limit: 10}); err != nil || len(msgs) != 0 {
			f.t.Errorf("ListThread(%s) = %v, %v; want none", id, seqs(msgs), err)
		}
	}
}

// testUnreadReplies: a member's unread replies in a thread are the live
// replies by others above their thread mark, which only rises.
func testUnreadReplies(f *fixture) {
	ann, bo := f.user("ann"), f.user("bo")
	c := f.conversation(ann, bo)
	root := f.send(c, ann, "root")
	quiet := f.send(c, ann, "no replies")
	b1 := f.reply(root, bo, "b1", false)
	a1 := f.reply(root, ann, "a1", false)
	b2 := f.reply(root, bo, "b2", true)
	ids := []string{root.MessageID, quiet.MessageID, "missing"}
	unread := func(u *confab.User) map[string]int {
		f.t.Helper()
		got, err := f.s.CountUnreadReplies(f.ctx, c.ConversationID, u.UserID, ids)
		if err != nil {
			f.t.Fatalf("CountUnreadReplies: %v", err)
		}
		return got
	}
	mark := func(u *confab.User, seq int64) {
		f.t.Helper()
		if err := f.s.MarkThreadRead(f.ctx, c.ConversationID, root.MessageID, u.UserID, seq); err != nil {
			f.t.Fatalf("MarkThreadRead: %v", err)
		}
	}
	check := func(u *confab.User, want map[string]int) {
		f.t.Helper()
		if diff := cmp.Diff(want, unread(u)); diff != "" {
			f.t.Fatalf("CountUnreadReplies(%s) (-want +got):\n%s", u.Username, diff)
		}
	}
	check(ann, map[string]int{root.MessageID: 2})
	check(bo, map[string]int{root.MessageID: 1})
	mark(ann, b1.Seq)
	check(ann, map[string]int{root.MessageID: 1})
	mark(ann, root.Seq) // never lowers
	check(ann, map[string]int{root.MessageID: 1})
	check(bo, map[string]int{root.MessageID: 1}) // marks are per user
	mark(bo, a1.Seq)
	check(bo, map[string]int{})
	f.deleteMessage(b2)
	check(ann, map[string]int{})
	f.reply(root, bo, "b3", false)
	check(ann, map[string]int{root.MessageID: 1})
	if last := f.lastChange(c); last != 12 {
		f.t.Fatalf("LastChangeSeq = %d, want 12 (thread marks append no change)", last)
	}
}
