package storetest

import (
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/confab-chat/confab"
	"github.com/google/go-cmp/cmp"
)

var purgeTests = []test{
	{"PurgeMessages/OnlyOlderAcrossConversations", testPurgeOnlyOlder},
	{"PurgeMessages/LimitThenContinues", testPurgeLimit},
	{"PurgeMessages/OldestFirst", testPurgeOldestFirst},
	{"PurgeMessages/CountsLiveNotTombstones", testPurgeCounts},
	{"PurgeMessages/LastLiveClearsPreviewKeepsOrder", testPurgeLastLive},
	{"PurgeMessages/PreviewFollowsNewestLive", testPurgePreviewFollows},
	{"PurgeMessages/GoneFromReadsAndSearch", testPurgeGoneFromReads},
	{"PurgeMessages/SeqNotReused", testPurgeSeqNotReused},
	{"PurgeMessages/EmptyStore", testPurgeEmpty},
	{"PurgeMessages/WhileAppending", testPurgeWhileAppending},
}

// purge calls PurgeMessages and fails unless it removed want messages.
func (f *fixture) purge(before time.Time, limit, want int) {
	f.t.Helper()
	n, err := f.s.PurgeMessages(f.ctx, before, limit)
	if err != nil || n != want {
		f.t.Fatalf("PurgeMessages(limit %d) = %d, %v; want %d", limit, n, err, want)
	}
}

// after returns the seqs ListMessagesAfter(0) finds in c, deleted included.
func (f *fixture) after(c *confab.Conversation) []int64 {
	f.t.Helper()
	msgs, err := f.s.ListMessagesAfter(f.ctx, c.ConversationID, 0, 1000)
	if err != nil {
		f.t.Fatalf("ListMessagesAfter: %v", err)
	}
	return seqs(msgs)
}

// testPurgeOnlyOlder purges with a bound between two sends: exactly the
// messages created before it go, in every conversation, and one created at
// the bound itself stays.
func testPurgeOnlyOlder(f *fixture) {
	ann, bo := f.user("ann"), f.user("bo")
	c, d := f.conversation(ann, bo), f.conversation(bo)
	f.send(c, ann, "c old 1")
	f.send(d, bo, "d old 1")
	f.send(c, bo, "c old 2")
	bound := f.newMessage(d, bo, "d at the bound")
	if created, err := f.s.AppendMessage(f.ctx, bound); err != nil || !created {
		f.t.Fatalf("AppendMessage = %v, %v", created, err)
	}
	f.send(c, ann, "c new")
	f.purge(bound.CreatedAt, 100, 3)
	if got := f.after(c); !slices.Equal(got, []int64{3}) {
		f.t.Fatalf("c keeps seqs %v, want [3]", got)
	}
	if got := f.after(d); !slices.Equal(got, []int64{2}) {
		f.t.Fatalf("d keeps seqs %v, want [2] (created at the bound, not before it)", got)
	}
	f.purge(bound.CreatedAt, 100, 0)
}

// testPurgeLimit purges 7 old messages 3 at a time: 3, 3, 1, then 0.
func testPurgeLimit(f *fixture) {
	ann := f.user("ann")
	c, d := f.conversation(ann), f.conversation(ann)
	for i := range 7 {
		f.send([]*confab.Conversation{c, d}[i%2], ann, fmt.Sprint("old ", i))
	}
	before := f.now()
	f.send(c, ann, "new")
	for _, want := range []int{3, 3, 1, 0} {
		f.purge(before, 3, want)
	}
	if got := append(f.after(c), f.after(d)...); !slices.Equal(got, []int64{5}) {
		f.t.Fatalf("left %v, want only c's seq 5", got)
	}
	f.purge(f.now(), 0, 0) // a limit of 0 removes nothing
	if got := f.after(c); !slices.Equal(got, []int64{5}) {
		f.t.Fatalf("limit 0 removed messages: c keeps %v", got)
	}
}

// testPurgeOldestFirst gives messages CreatedAt out of send order: a
// limited purge takes the oldest by CreatedAt, whatever their seq or
// conversation.
func testPurgeOldestFirst(f *fixture) {
	ann := f.user("ann")
	c, d := f.conversation(ann), f.conversation(ann)
	base := f.now()
	for _, m := range []struct {
		c   *confab.Conversation
		age time.Duration
	}{{c, 3}, {d, 5}, {c, 1}, {d, 4}, {c, 2}} {
		msg := f.newMessage(m.c, ann, "x")
		msg.CreatedAt = base.Add(-m.age * time.Minute)
		if _, err := f.s.AppendMessage(f.ctx, msg); err != nil {
			f.t.Fatal(err)
		}
	}
	f.purge(base, 2, 2) // the 5- and 4-minute-old messages: d's seqs 1 and 2
	if got := f.after(d); len(got) != 0 {
		f.t.Fatalf("d keeps %v, want none (its messages were the oldest)", got)
	}
	f.purge(base, 1, 1) // then 3 minutes old: c's seq 1
	if got := f.after(c); !slices.Equal(got, []int64{2, 3}) {
		f.t.Fatalf("c keeps %v, want [2 3]", got)
	}
}

// testPurgeCounts purges a live message and a tombstone: MessageCount drops
// by the live one only, the preview of the newest live message stays, and
// LastSeq and LastMessageAt do not move.
func testPurgeCounts(f *fixture) {
	ann := f.user("ann")
	c := f.conversation(ann)
	f.send(c, ann, "old live")
	tomb := f.send(c, ann, "old deleted")
	if _, _, err := f.s.DeleteMessage(f.ctx, c.ConversationID, tomb.MessageID, "", f.now()); err != nil {
		f.t.Fatal(err)
	}
	before := f.now()
	last := f.send(c, ann, "new")
	want := f.getConversation(c.ConversationID)
	f.purge(before, 10, 2)
	got := f.getConversation(c.ConversationID)
	want.MessageCount = 1
	if diff := cmp.Diff(want, got); diff != "" {
		f.t.Fatalf("conversation after purging a live message and a tombstone (-want +got):\n%s", diff)
	}
	if got.LastMessage == nil || *got.LastMessage != "new" || got.LastSeq != 3 || !got.LastMessageAt.Equal(last.CreatedAt) {
		f.t.Fatalf("summary = %+v; want the newest message's", got)
	}
}

// testPurgeLastLive purges every message of a conversation: no count, no
// preview, but LastSeq and LastMessageAt stay, and so does the order of
// the conversation list (unlike deleting the last live message).
func testPurgeLastLive(f *fixture) {
	ann := f.user("ann")
	c, quiet := f.conversation(ann), f.conversation(ann)
	f.send(c, ann, "one")
	tomb := f.send(c, ann, "two")
	last := f.send(c, ann, "three")
	if _, _, err := f.s.DeleteMessage(f.ctx, c.ConversationID, tomb.MessageID, "", f.now()); err != nil {
		f.t.Fatal(err)
	}
	order := ids(f.listAll(ann.UserID, 10, nil))
	f.purge(f.now(), 10, 3)
	conv := f.getConversation(c.ConversationID)
	if conv.MessageCount != 0 || conv.LastMessage != nil || conv.LastSeq != 3 ||
		conv.LastMessageAt == nil || !conv.LastMessageAt.Equal(last.CreatedAt) {
		f.t.Fatalf("summary after purging everything = count %d, preview %v, seq %d, at %v; want 0, nil, 3, %v",
			conv.MessageCount, conv.LastMessage, conv.LastSeq, conv.LastMessageAt, last.CreatedAt)
	}
	if got := ids(f.listAll(ann.UserID, 1, nil)); !slices.Equal(got, order) || got[0] != c.ConversationID {
		f.t.Fatalf("list order after purge = %v, want %v (unchanged)", got, order)
	}
	if got := f.getConversation(quiet.ConversationID); got.LastSeq != 0 || got.MessageCount != 0 {
		f.t.Fatalf("a conversation without messages changed: %+v", got)
	}
}

// testPurgePreviewFollowsNewestLive covers senders whose clocks disagree:
// the newest message (by seq, the one the preview copies) has the older
// CreatedAt and is purged while an older seq stays. The purged content
// must not survive as the preview: it becomes that of the newest live
// message left.
func testPurgePreviewFollows(f *fixture) {
	ann := f.user("ann")
	c := f.conversation(ann)
	base := f.now()
	first := f.newMessage(c, ann, "stays")
	first.CreatedAt = base.Add(time.Minute)
	newest := f.newMessage(c, ann, "purged secret")
	newest.CreatedAt = base
	for _, m := range []*confab.Message{first, newest} {
		if _, err := f.s.AppendMessage(f.ctx, m); err != nil {
			f.t.Fatal(err)
		}
	}
	f.purge(base.Add(time.Second), 10, 1)
	conv := f.getConversation(c.ConversationID)
	if conv.LastMessage == nil || *conv.LastMessage != "stays" || conv.MessageCount != 1 || conv.LastSeq != 2 {
		f.t.Fatalf("summary = preview %v, count %d, seq %d; want %q, 1, 2", conv.LastMessage, conv.MessageCount, conv.LastSeq, "stays")
	}
}

// testPurgeGoneFromReads checks every read after a purge: the purged are
// gone from GetMessage, ListMessages, ListMessagesAfter and search, and
// the rest is found as before, a new message included.
func testPurgeGoneFromReads(f *fixture) {
	ann := f.user("ann")
	c, d := f.conversation(ann), f.conversation(ann)
	var old []*confab.Message
	for i := range 4 {
		old = append(old, f.send(c, ann, fmt.Sprint("pizza old ", i)))
	}
	old = append(old, f.send(d, ann, "pizza elsewhere old"))
	if _, _, err := f.s.DeleteMessage(f.ctx, c.ConversationID, old[1].MessageID, "", f.now()); err != nil {
		f.t.Fatal(err)
	}
	before := f.now()
	keep := f.send(c, ann, "pizza new")
	keepTomb := f.send(c, ann, "pizza deleted but young")
	if _, _, err := f.s.DeleteMessage(f.ctx, c.ConversationID, keepTomb.MessageID, "", f.now()); err != nil {
		f.t.Fatal(err)
	}
	f.purge(before, 100, 5)

	for _, m := range old {
		_, err := f.s.GetMessage(f.ctx, m.ConversationID, m.MessageID)
		f.wantCode(err, confab.CodeNotFound)
	}
	if page, err := f.s.ListMessages(f.ctx, c.ConversationID, 0, 10); err != nil || !slices.Equal(seqs(page), []int64{keep.Seq}) {
		f.t.Fatalf("ListMessages = %v, %v; want [%d]", seqs(page), err, keep.Seq)
	}
	if got := f.after(c); !slices.Equal(got, []int64{5, 6}) {
		f.t.Fatalf("ListMessagesAfter(0) = %v, want [5 6] (the young tombstone stays)", got)
	}
	if got := f.search(c, "pizza", 10); !slices.Equal(got, []string{"pizza new"}) {
		f.t.Fatalf("search = %q, want only the message left", got)
	}
	if got := f.search(d, "pizza", 10); len(got) != 0 {
		f.t.Fatalf("search in the other conversation = %q, want none", got)
	}
	f.send(c, ann, "pizza newer")
	f.send(d, ann, "pizza elsewhere new")
	if got := f.search(c, "pizza", 10); !slices.Equal(got, []string{"pizza newer", "pizza new"}) {
		f.t.Fatalf("search after new sends = %q, want both live messages newest first", got)
	}
	if got := f.search(d, "elsewhere", 10); !slices.Equal(got, []string{"pizza elsewhere new"}) {
		f.t.Fatalf("search in the other conversation after a new send = %q", got)
	}
}

// testPurgeSeqNotReused purges a conversation's newest messages: the next
// append still gets LastSeq+1.
func testPurgeSeqNotReused(f *fixture) {
	ann := f.user("ann")
	c := f.conversation(ann)
	for i := range 3 {
		f.send(c, ann, fmt.Sprint(i))
	}
	f.purge(f.now(), 10, 3)
	if m := f.send(c, ann, "after"); m.Seq != 4 {
		f.t.Fatalf("seq after a purge = %d, want 4 (never reused)", m.Seq)
	}
	if conv := f.getConversation(c.ConversationID); conv.LastSeq != 4 || conv.MessageCount != 1 ||
		conv.LastMessage == nil || *conv.LastMessage != "after" {
		f.t.Fatalf("summary = seq %d count %d preview %v; want 4, 1, after", conv.LastSeq, conv.MessageCount, conv.LastMessage)
	}
}

func testPurgeEmpty(f *fixture) {
	f.purge(f.now(), 500, 0)
	ann := f.user("ann")
	f.conversation(ann)
	f.purge(f.now(), 500, 0)
}

// testPurgeWhileAppending purges old messages in small batches while
// senders append to the same conversations: nothing fails, seqs stay
// gapless for the survivors, and each summary agrees with what is stored.
func testPurgeWhileAppending(f *fixture) {
	ann := f.user("ann")
	convs := []*confab.Conversation{f.conversation(ann), f.conversation(ann), f.conversation(ann)}
	const old, senders, each = 60, 4, 15
	for i := range old {
		f.send(convs[i%len(convs)], ann, fmt.Sprint("old ", i))
	}
	before := f.now()
	errs := make(chan error, senders+1)
	var wg sync.WaitGroup
	for w := range senders {
		wg.Go(func() {
			for i := range each {
				m := f.newMessage(convs[(w+i)%len(convs)], ann, fmt.Sprint("new ", w, i))
				if _, err := f.s.AppendMessage(f.ctx, m); err != nil {
					errs <- fmt.Errorf("AppendMessage: %w", err)
					return
				}
			}
		})
	}
	wg.Go(func() {
		total := 0
		for {
			n, err := f.s.PurgeMessages(f.ctx, before, 7)
			if err != nil {
				errs <- fmt.Errorf("PurgeMessages: %w", err)
				return
			}
			total += n
			if n < 7 {
				break
			}
		}
		if total != old {
			errs <- fmt.Errorf("purged %d in all, want %d", total, old)
		}
	})
	wg.Wait()
	close(errs)
	for err := range errs {
		f.t.Fatal(err)
	}
	left := 0
	for _, c := range convs {
		msgs, err := f.s.ListMessagesAfter(f.ctx, c.ConversationID, 0, 1000)
		if err != nil {
			f.t.Fatal(err)
		}
		conv := f.getConversation(c.ConversationID)
		for i, m := range msgs {
			if m.Seq != conv.LastSeq-int64(len(msgs)-1-i) {
				f.t.Fatalf("conversation %s keeps seqs %v up to LastSeq %d, want the newest contiguous", c.ConversationID, seqs(msgs), conv.LastSeq)
			}
		}
		if conv.MessageCount != len(msgs) || conv.LastSeq != int64(old/len(convs)+len(msgs)) {
			f.t.Fatalf("conversation %s: count %d, LastSeq %d; stored %d new ones after %d old", c.ConversationID, conv.MessageCount, conv.LastSeq, len(msgs), old/len(convs))
		}
		left += len(msgs)
	}
	if left != senders*each {
		f.t.Fatalf("%d messages left, want the %d new ones", left, senders*each)
	}
}
