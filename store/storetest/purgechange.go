package storetest

import (
	"slices"
	"time"

	"github.com/confab-chat/confab"
)

var purgeChangeTests = []test{
	{"PurgeMessages/TakesEditsReactionsMentionsChanges", testPurgeTakesAlong},
	{"PurgeMessages/ThreadRootKeepsCounts", testPurgeReplyKeepsRoot},
}

// appendAt appends a message of u created at at.
func (f *fixture) appendAt(c *confab.Conversation, u *confab.User, content string, at time.Time, mentions ...string) *confab.Message {
	f.t.Helper()
	m := f.newMessage(c, u, content)
	m.CreatedAt, m.Mentions = at, mentions
	if created, err := f.s.AppendMessage(f.ctx, m); err != nil || !created {
		f.t.Fatalf("AppendMessage = %v, %v", created, err)
	}
	return m
}

// testPurgeTakesAlong purges an old message that was edited, reacted to
// and mentions a member: its edits, reactions, unread mention and changes
// go; the young message's changes stay, and ChangeSeqs go on from where
// they were.
func testPurgeTakesAlong(f *fixture) {
	ann, bo := f.user("ann"), f.user("bo")
	c := f.conversation(ann, bo)
	base := f.now()
	old := f.appendAt(c, ann, "old @bo", base.Add(-time.Hour), bo.UserID)
	young := f.appendAt(c, ann, "young", base.Add(time.Hour))
	f.edit(old, "old, edited")
	f.react(old, bo, "x")
	f.react(young, bo, "y")
	if got := f.unreadMentions(c, bo); got[0] != 1 {
		f.t.Fatalf("UnreadMentions before the purge = %d, want 1", got[0])
	}
	f.purge(base, 10, 1)
	if got := changeSeqs(f.changes(c, 0)); !slices.Equal(got, []int64{2, 5}) {
		f.t.Fatalf("changes after the purge = %v, want [2 5] (the young message's send and reaction)", got)
	}
	if got := f.edits(old, 10); len(got) != 0 {
		f.t.Fatalf("edits of a purged message = %+v, want none", got)
	}
	got := f.reactions(c, []string{old.MessageID, young.MessageID}, bo.UserID, 10)
	if _, ok := got[old.MessageID]; ok || len(got[young.MessageID]) != 1 {
		f.t.Fatalf("reactions after the purge = %+v, want only the young message's", got)
	}
	if got := f.unreadMentions(c, bo); got[0] != 0 {
		f.t.Fatalf("UnreadMentions after purging the mention = %d, want 0", got[0])
	}
	if next := f.send(c, ann, "next"); next.ChangeSeq != 6 {
		f.t.Fatalf("ChangeSeq after the purge = %d, want 6 (never reused)", next.ChangeSeq)
	}
}

// testPurgeReplyKeepsRoot purges an old reply of a younger root: the root
// keeps its counts (retention is not a deletion).
func testPurgeReplyKeepsRoot(f *fixture) {
	ann, bo := f.user("ann"), f.user("bo")
	c := f.conversation(ann, bo)
	base := f.now()
	root := f.appendAt(c, ann, "root", base.Add(time.Hour))
	r := f.newMessage(c, bo, "old reply")
	r.CreatedAt, r.ParentMessageID = base.Add(-time.Hour), root.MessageID
	if _, err := f.s.AppendMessage(f.ctx, r); err != nil {
		f.t.Fatal(err)
	}
	f.purge(base, 10, 1)
	if got := f.getMessage(root); got.ReplyCount != 1 || !slices.Equal(got.ReplyUserIDs, []string{bo.UserID}) {
		f.t.Fatalf("root after its reply was purged = count %d users %v, want kept (1, [bo])", got.ReplyCount, got.ReplyUserIDs)
	}
	if msgs, err := f.s.ListThread(f.ctx, c.ConversationID, root.MessageID, confab.ThreadPage{Limit: 10}); err != nil || len(msgs) != 0 {
		f.t.Fatalf("ListThread after the purge = %v, %v; want none", seqs(msgs), err)
	}
}
