package storetest

import (
	"slices"

	"github.com/confab-chat/confab"
)

var mentionTests = []test{
	{"AppendMessage/MentionsKeptUnreadMentionsRise", testMentions},
	{"MarkRead/UnreadMentionsFollowMark", testMentionsMarkRead},
	{"DeleteMessage/UnreadMentionFalls", testMentionsDelete},
	{"MarkRead/SetsLastReadAt", testMarkReadAt},
}

// unreadMentions returns each member's UnreadMentions, in member order.
func (f *fixture) unreadMentions(c *confab.Conversation, users ...*confab.User) []int {
	f.t.Helper()
	conv := f.getConversation(c.ConversationID)
	got := make([]int, len(users))
	for i, u := range users {
		m := conv.Member(u.UserID)
		if m == nil {
			f.t.Fatalf("%s is not a member", u.UserID)
		}
		got[i] = m.UnreadMentions
	}
	return got
}

func (f *fixture) mention(c *confab.Conversation, u *confab.User, content string, mentioned ...*confab.User) *confab.Message {
	f.t.Helper()
	m := f.newMessage(c, u, content)
	for _, x := range mentioned {
		m.Mentions = append(m.Mentions, x.UserID)
	}
	if created, err := f.s.AppendMessage(f.ctx, m); err != nil || !created {
		f.t.Fatalf("AppendMessage(mentions) = %v, %v", created, err)
	}
	return m
}

func (f *fixture) markRead(c *confab.Conversation, u *confab.User, seq int64) {
	f.t.Helper()
	if err := f.s.MarkRead(f.ctx, c.ConversationID, u.UserID, seq, f.now()); err != nil {
		f.t.Fatalf("MarkRead: %v", err)
	}
}

// testMentions: mentions are kept in the order given and read back by every
// read; each mentioned member but the author has one more unread mention.
func testMentions(f *fixture) {
	ann, bo, cy := f.user("ann"), f.user("bo"), f.user("cy")
	c := f.conversation(ann, bo, cy)
	m := f.mention(c, ann, "@cy @bo @ann look", cy, bo, ann)
	want := []string{cy.UserID, bo.UserID, ann.UserID}
	if got := f.getMessage(m); !slices.Equal(got.Mentions, want) {
		f.t.Fatalf("GetMessage mentions = %v, want %v", got.Mentions, want)
	}
	if got := f.lastOf(f.s.ListMessages(f.ctx, c.ConversationID, 0, 10)); !slices.Equal(got.Mentions, want) {
		f.t.Fatalf("ListMessages mentions = %v, want %v", got.Mentions, want)
	}
	if got := f.lastOf(f.s.ListMessagesAfter(f.ctx, c.ConversationID, 0, 10)); !slices.Equal(got.Mentions, want) {
		f.t.Fatalf("ListMessagesAfter mentions = %v, want %v", got.Mentions, want)
	}
	if got := f.unreadMentions(c, ann, bo, cy); !slices.Equal(got, []int{0, 1, 1}) {
		f.t.Fatalf("UnreadMentions of ann, bo, cy = %v, want [0 1 1] (the author's own not counted)", got)
	}
	f.mention(c, bo, "@cy again", cy)
	f.send(c, bo, "no mention")
	if got := f.unreadMentions(c, ann, bo, cy); !slices.Equal(got, []int{0, 1, 2}) {
		f.t.Fatalf("UnreadMentions after a second mention = %v, want [0 1 2]", got)
	}
	convs, err := f.s.ListConversations(f.ctx, cy.UserID, confab.ConversationPage{Limit: 10})
	if err != nil || len(convs) != 1 || convs[0].Member(cy.UserID).UnreadMentions != 2 {
		f.t.Fatalf("ListConversations = %v; want cy's 2 unread mentions on its members too", err)
	}
}

// testMentionsMarkRead: only mentions above the read mark are unread.
func testMentionsMarkRead(f *fixture) {
	ann, bo := f.user("ann"), f.user("bo")
	c := f.conversation(ann, bo)
	m1 := f.mention(c, ann, "one", bo)
	m2 := f.send(c, ann, "plain")
	f.mention(c, ann, "three", bo)
	f.markRead(c, bo, m2.Seq)
	if got := f.unreadMentions(c, bo); got[0] != 1 {
		f.t.Fatalf("UnreadMentions after reading up to seq %d = %d, want 1", m2.Seq, got[0])
	}
	f.markRead(c, bo, m1.Seq) // lower: nothing changes
	if got := f.unreadMentions(c, bo); got[0] != 1 {
		f.t.Fatalf("UnreadMentions after a lower mark = %d, want 1", got[0])
	}
	f.markRead(c, bo, 3)
	if got := f.unreadMentions(c, bo); got[0] != 0 {
		f.t.Fatalf("UnreadMentions after reading everything = %d, want 0", got[0])
	}
	f.mention(c, ann, "four", bo)
	if got := f.unreadMentions(c, bo); got[0] != 1 {
		f.t.Fatalf("UnreadMentions after a new mention = %d, want 1", got[0])
	}
}

// testMentionsDelete: deleting an unread mentioning message lowers the
// count; deleting a read one changes nothing.
func testMentionsDelete(f *fixture) {
	ann, bo := f.user("ann"), f.user("bo")
	c := f.conversation(ann, bo)
	read := f.mention(c, ann, "read", bo)
	f.markRead(c, bo, read.Seq)
	unread1 := f.mention(c, ann, "unread 1", bo)
	f.mention(c, ann, "unread 2", bo)
	f.deleteMessage(read)
	if got := f.unreadMentions(c, bo); got[0] != 2 {
		f.t.Fatalf("UnreadMentions after deleting a read mention = %d, want 2", got[0])
	}
	f.deleteMessage(unread1)
	if got := f.unreadMentions(c, bo); got[0] != 1 {
		f.t.Fatalf("UnreadMentions after deleting an unread mention = %d, want 1", got[0])
	}
}

// testMarkReadAt: LastReadAt is nil before the first mark and is the time
// of the last mark that raised LastReadSeq.
func testMarkReadAt(f *fixture) {
	ann, bo := f.user("ann"), f.user("bo")
	c := f.conversation(ann, bo)
	f.send(c, ann, "1")
	f.send(c, ann, "2")
	if m := f.getConversation(c.ConversationID).Member(bo.UserID); m.LastReadAt != nil {
		f.t.Fatalf("LastReadAt before any mark = %v, want nil", m.LastReadAt)
	}
	at := f.now()
	if err := f.s.MarkRead(f.ctx, c.ConversationID, bo.UserID, 2, at); err != nil {
		f.t.Fatal(err)
	}
	if err := f.s.MarkRead(f.ctx, c.ConversationID, bo.UserID, 1, f.now()); err != nil {
		f.t.Fatal(err)
	}
	conv := f.getConversation(c.ConversationID)
	if m := conv.Member(bo.UserID); m.LastReadSeq != 2 || m.LastReadAt == nil || !m.LastReadAt.Equal(at) {
		f.t.Fatalf("bo's mark = seq %d at %v, want 2 at %v (a lower mark changes nothing)", m.LastReadSeq, m.LastReadAt, at)
	}
	if m := conv.Member(ann.UserID); m.LastReadAt != nil {
		f.t.Fatalf("ann's LastReadAt = %v, want nil (untouched)", m.LastReadAt)
	}
	if conv.LastChangeSeq != 2 {
		f.t.Fatalf("LastChangeSeq = %d, want 2 (a read mark is not a change)", conv.LastChangeSeq)
	}
}
