package storetest

import (
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/confab-chat/confab"
	"github.com/google/go-cmp/cmp"
)

var changeTests = []test{
	{"ListChanges/GaplessInOrderEveryKind", testChangesEveryKind},
	{"ListChanges/CurrentStateAndTombstones", testChangesCurrentState},
	{"ListChanges/AfterAndLimit", testChangesPaging},
	{"ListChanges/PerConversation", testChangesPerConversation},
	{"ListChanges/GaplessConcurrentWriters", testChangesConcurrent},
	{"AppendMessage/ClientTokenRetryAppendsNoChange", testChangesClientTokenRetry},
	{"UpdateConversation/AppendsChange", testChangesUpdateConversation},
}

// changes returns every change of c after afterChange, a page of
// confab.MaxPageLimit at a time, failing on an error.
func (f *fixture) changes(c *confab.Conversation, afterChange int64) []*confab.Change {
	f.t.Helper()
	var all []*confab.Change
	for {
		chs, err := f.s.ListChanges(f.ctx, c.ConversationID, afterChange, confab.MaxPageLimit)
		if err != nil {
			f.t.Fatalf("ListChanges(%d): %v", afterChange, err)
		}
		all = append(all, chs...)
		if len(chs) < confab.MaxPageLimit {
			return all
		}
		afterChange = chs[len(chs)-1].ChangeSeq
	}
}

// deleteMessageAt deletes m at a new instant and returns the message
// DeleteMessage returned and that instant.
func (f *fixture) deleteMessageAt(m *confab.Message) (*confab.Message, time.Time) {
	f.t.Helper()
	at := f.now()
	got, _, err := f.s.DeleteMessage(f.ctx, m.ConversationID, m.MessageID, "", at)
	if err != nil {
		f.t.Fatalf("DeleteMessage: %v", err)
	}
	return got, at
}

// changeSeqs returns the ChangeSeqs of chs.
func changeSeqs(chs []*confab.Change) []int64 {
	s := make([]int64, len(chs))
	for i, ch := range chs {
		s[i] = ch.ChangeSeq
	}
	return s
}

// lastChange returns the conversation's LastChangeSeq.
func (f *fixture) lastChange(c *confab.Conversation) int64 {
	f.t.Helper()
	return f.getConversation(c.ConversationID).LastChangeSeq
}

// edit edits a live message and fails on an error.
func (f *fixture) edit(m *confab.Message, content string) *confab.Message {
	f.t.Helper()
	got, err := f.s.EditMessage(f.ctx, m.ConversationID, m.MessageID, content, f.now())
	if err != nil {
		f.t.Fatalf("EditMessage: %v", err)
	}
	return got
}

// react adds u's reaction key to m and fails unless it was added.
func (f *fixture) react(m *confab.Message, u *confab.User, key string) *confab.Message {
	f.t.Helper()
	r := &confab.Reaction{ConversationID: m.ConversationID, MessageID: m.MessageID, UserID: u.UserID, Key: key, At: f.now()}
	added, got, err := f.s.AddReaction(f.ctx, r, confab.DefaultMaxReactionKeys)
	if err != nil || !added || got == nil {
		f.t.Fatalf("AddReaction(%s, %q) = %v, %v, %v; want added", u.UserID, key, added, got, err)
	}
	return got
}

// unreact removes u's reaction key from m and fails unless it was removed.
func (f *fixture) unreact(m *confab.Message, u *confab.User, key string) *confab.Message {
	f.t.Helper()
	r := &confab.Reaction{ConversationID: m.ConversationID, MessageID: m.MessageID, UserID: u.UserID, Key: key, At: f.now()}
	removed, got, err := f.s.RemoveReaction(f.ctx, r)
	if err != nil || !removed || got == nil {
		f.t.Fatalf("RemoveReaction(%s, %q) = %v, %v, %v; want removed", u.UserID, key, removed, got, err)
	}
	return got
}

// deleteMessage deletes m and returns the message DeleteMessage returned.
func (f *fixture) deleteMessage(m *confab.Message) *confab.Message {
	f.t.Helper()
	got, _, err := f.s.DeleteMessage(f.ctx, m.ConversationID, m.MessageID, "", f.now())
	if err != nil {
		f.t.Fatalf("DeleteMessage: %v", err)
	}
	return got
}

// wantChange is what a test expects of one entry of the log.
type wantChange struct {
	kind    confab.ChangeKind
	user    string
	message string
	key     string
}

func (f *fixture) wantChanges(chs []*confab.Change, c *confab.Conversation, first int64, want []wantChange) {
	f.t.Helper()
	if len(chs) != len(want) {
		f.t.Fatalf("ListChanges = %d changes %v, want %d", len(chs), changeSeqs(chs), len(want))
	}
	for i, ch := range chs {
		w := want[i]
		userOK := ch.UserID == w.user
		if ch.ConversationID != c.ConversationID || ch.ChangeSeq != first+int64(i) || ch.Kind != w.kind ||
			!userOK || ch.MessageID != w.message || ch.ReactionKey != w.key {
			f.t.Fatalf("change %d = {conv %s seq %d %s user %s message %q key %q}, want {conv %s seq %d %s user %s message %q key %q}",
				i, ch.ConversationID, ch.ChangeSeq, ch.Kind, ch.UserID, ch.MessageID, ch.ReactionKey,
				c.ConversationID, first+int64(i), w.kind, w.user, w.message, w.key)
		}
		if (ch.Message == nil) != (w.message == "") || ch.Message != nil && ch.Message.MessageID != w.message {
			f.t.Fatalf("change %d (%s) carries message %+v, want %q", ch.ChangeSeq, ch.Kind, ch.Message, w.message)
		}
	}
}

// testChangesEveryKind makes one change of every kind that a store method
// appends: each gets the next ChangeSeq, which the method returns on the
// message, and ListChanges reads them back in order with who, what, and
// when.
func testChangesEveryKind(f *fixture) {
	ann, bo := f.user("ann"), f.user("bo")
	c := f.conversation(ann, bo)
	if c := f.getConversation(c.ConversationID); c.LastChangeSeq != 0 {
		f.t.Fatalf("LastChangeSeq of a new conversation = %d, want 0", c.LastChangeSeq)
	}
	m1 := f.send(c, ann, "one")
	m2 := f.send(c, bo, "two")
	edited := f.edit(m1, "one, edited")
	reaction := f.reaction(m2, ann, "👍")
	_, reacted, err := f.s.AddReaction(f.ctx, reaction, confab.DefaultMaxReactionKeys)
	if err != nil {
		f.t.Fatal(err)
	}
	renameAt := f.now()
	conv, err := f.s.UpdateConversation(f.ctx, c.ConversationID, ann.UserID, confab.ConversationUpdate{Name: ptr("renamed")}, renameAt)
	if err != nil {
		f.t.Fatal(err)
	}
	unreacted := f.unreact(m2, ann, "👍")
	deleted, deletedAt := f.deleteMessageAt(m1)
	got := []int64{m1.ChangeSeq, m2.ChangeSeq, edited.ChangeSeq, reacted.ChangeSeq, conv.LastChangeSeq, unreacted.ChangeSeq, deleted.ChangeSeq}
	if want := []int64{1, 2, 3, 4, 5, 6, 7}; !slices.Equal(got, want) {
		f.t.Fatalf("ChangeSeqs returned by send, send, edit, react, rename, unreact, delete = %v, want %v", got, want)
	}
	if last := f.lastChange(c); last != 7 {
		f.t.Fatalf("LastChangeSeq = %d, want 7", last)
	}
	chs := f.changes(c, 0)
	f.wantChanges(chs, c, 1, []wantChange{
		{confab.ChangeMessageSent, ann.UserID, m1.MessageID, ""},
		{confab.ChangeMessageSent, bo.UserID, m2.MessageID, ""},
		{confab.ChangeMessageEdited, ann.UserID, m1.MessageID, ""},
		{confab.ChangeReactionAdded, ann.UserID, m2.MessageID, "👍"},
		{confab.ChangeConversationUpdated, ann.UserID, "", ""},
		{confab.ChangeReactionRemoved, ann.UserID, m2.MessageID, "👍"},
		{confab.ChangeMessageDeleted, ann.UserID, m1.MessageID, ""},
	})
	ats := []struct {
		seq  int64
		want time.Time
	}{{1, m1.CreatedAt}, {2, m2.CreatedAt}, {3, *edited.EditedAt}, {4, reaction.At}, {5, renameAt}, {7, deletedAt}}
	for _, a := range ats {
		if at := chs[a.seq-1].At; !at.Equal(a.want) {
			f.t.Errorf("change %d At = %v, want %v", a.seq, at, a.want)
		}
	}
}

// testChangesCurrentState: ListChanges carries each message as it is now,
// so older entries about a message show its latest content, reactions'
// ChangeSeq and deletion.
func testChangesCurrentState(f *fixture) {
	ann := f.user("ann")
	c := f.conversation(ann)
	m := f.send(c, ann, "draft")
	keep := f.send(c, ann, "kept")
	f.edit(keep, "kept, edited")
	f.react(keep, ann, ":ok:")
	f.edit(m, "final")
	_, deletedAt := f.deleteMessageAt(m)
	chs := f.changes(c, 0)
	if len(chs) != 6 {
		f.t.Fatalf("ListChanges = %v, want 6 changes", changeSeqs(chs))
	}
	for _, ch := range chs {
		switch ch.MessageID {
		case m.MessageID:
			if !ch.Message.Deleted || ch.Message.ChangeSeq != 6 || ch.Message.UpdatedAt == nil || !ch.Message.UpdatedAt.Equal(deletedAt) {
				f.t.Fatalf("change %d (%s) carries %+v; want the tombstone (Deleted, ChangeSeq 6)", ch.ChangeSeq, ch.Kind, ch.Message)
			}
		case keep.MessageID:
			if ch.Message.Deleted || ch.Message.Content != "kept, edited" || ch.Message.ChangeSeq != 4 || ch.Message.EditedAt == nil || ch.Message.Seq != keep.Seq {
				f.t.Fatalf("change %d (%s) carries %+v; want the message as it is now (edited, ChangeSeq 4)", ch.ChangeSeq, ch.Kind, ch.Message)
			}
		}
	}
	now, err := f.s.GetMessage(f.ctx, c.ConversationID, keep.MessageID)
	if err != nil {
		f.t.Fatal(err)
	}
	if diff := cmp.Diff(now, chs[1].Message); diff != "" {
		f.t.Fatalf("ListChanges' message differs from GetMessage (-get +change):\n%s", diff)
	}
}

func testChangesPaging(f *fixture) {
	ann := f.user("ann")
	c := f.conversation(ann)
	for i := range 5 {
		f.send(c, ann, fmt.Sprint("m", i))
	}
	page, err := f.s.ListChanges(f.ctx, c.ConversationID, 2, 2)
	if err != nil || !slices.Equal(changeSeqs(page), []int64{3, 4}) {
		f.t.Fatalf("ListChanges(after 2, limit 2) = %v, %v; want [3 4]", changeSeqs(page), err)
	}
	if rest := f.changes(c, 5); len(rest) != 0 {
		f.t.Fatalf("ListChanges(after the last) = %v, want none", changeSeqs(rest))
	}
	for _, limit := range []int{0, -1} {
		chs, err := f.s.ListChanges(f.ctx, c.ConversationID, 0, limit)
		f.wantNothing("ListChanges", limit, len(chs), err)
	}
	if chs, err := f.s.ListChanges(f.ctx, "missing", 0, 10); err != nil || len(chs) != 0 {
		f.t.Fatalf("ListChanges of a missing conversation = %v, %v; want none", changeSeqs(chs), err)
	}
}

// testChangesPerConversation: each conversation has its own log, from 1.
func testChangesPerConversation(f *fixture) {
	ann := f.user("ann")
	c, d := f.conversation(ann), f.conversation(ann)
	f.send(c, ann, "c1")
	md := f.send(d, ann, "d1")
	f.send(c, ann, "c2")
	if md.ChangeSeq != 1 {
		f.t.Fatalf("first change of d = %d, want 1", md.ChangeSeq)
	}
	if got := changeSeqs(f.changes(c, 0)); !slices.Equal(got, []int64{1, 2}) {
		f.t.Fatalf("changes of c = %v, want [1 2]", got)
	}
	chs := f.changes(d, 0)
	f.wantChanges(chs, d, 1, []wantChange{{confab.ChangeMessageSent, ann.UserID, md.MessageID, ""}})
}

// testChangesConcurrent has 8 writers send, edit and react in one
// conversation at once: the log is exactly 1..N, every ChangeSeq a method
// returned names the change it made, and LastChangeSeq is N.
func testChangesConcurrent(f *fixture) {
	const writers, rounds = 8, 5
	users := make([]*confab.User, writers)
	for i := range users {
		users[i] = f.user(fmt.Sprint("w", i))
	}
	c := f.conversation(users...)
	type made struct {
		seq     int64
		kind    confab.ChangeKind
		message string
	}
	results := make(chan made, writers*rounds*3)
	errs := make(chan error, writers)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for w, u := range users {
		wg.Go(func() {
			<-start
			for i := range rounds {
				m := f.newMessage(c, u, fmt.Sprintf("writer %d round %d", w, i))
				if _, err := f.s.AppendMessage(f.ctx, m); err != nil {
					errs <- err
					return
				}
				results <- made{m.ChangeSeq, confab.ChangeMessageSent, m.MessageID}
				e, err := f.s.EditMessage(f.ctx, c.ConversationID, m.MessageID, m.Content+" (edited)", f.now())
				if err != nil {
					errs <- err
					return
				}
				results <- made{e.ChangeSeq, confab.ChangeMessageEdited, m.MessageID}
				r := &confab.Reaction{ConversationID: c.ConversationID, MessageID: m.MessageID, UserID: u.UserID, Key: "+1", At: f.now()}
				_, rm, err := f.s.AddReaction(f.ctx, r, confab.DefaultMaxReactionKeys)
				if err != nil {
					errs <- err
					return
				}
				results <- made{rm.ChangeSeq, confab.ChangeReactionAdded, m.MessageID}
			}
		})
	}
	close(start)
	wg.Wait()
	close(results)
	close(errs)
	for err := range errs {
		f.t.Fatalf("writer: %v", err)
	}
	const total = writers * rounds * 3
	bySeq := map[int64]made{}
	for r := range results {
		if prev, dup := bySeq[r.seq]; dup {
			f.t.Fatalf("ChangeSeq %d returned twice: %+v and %+v", r.seq, prev, r)
		}
		bySeq[r.seq] = r
	}
	chs := f.changes(c, 0)
	if len(chs) != total {
		f.t.Fatalf("ListChanges = %d changes, want %d", len(chs), total)
	}
	for i, ch := range chs {
		r := bySeq[ch.ChangeSeq]
		if ch.ChangeSeq != int64(i+1) || r.kind != ch.Kind || r.message != ch.MessageID {
			f.t.Fatalf("change %d = seq %d %s %s; its writer got %+v (want 1..%d, no gap or duplicate)", i, ch.ChangeSeq, ch.Kind, ch.MessageID, r, total)
		}
	}
	if last := f.lastChange(c); last != total {
		f.t.Fatalf("LastChangeSeq = %d, want %d", last, total)
	}
}

// testChangesClientTokenRetry: a retried send writes nothing, so it
// appends no change, and returns the stored message with its ChangeSeq.
func testChangesClientTokenRetry(f *fixture) {
	ann := f.user("ann")
	c := f.conversation(ann)
	first := f.newMessage(c, ann, "once")
	first.ClientToken = "t"
	if _, err := f.s.AppendMessage(f.ctx, first); err != nil {
		f.t.Fatal(err)
	}
	again := f.newMessage(c, ann, "once")
	again.ClientToken = "t"
	created, err := f.s.AppendMessage(f.ctx, again)
	if err != nil || created || again.ChangeSeq != first.ChangeSeq {
		f.t.Fatalf("retry = created %v, %v, ChangeSeq %d; want not created, ChangeSeq %d", created, err, again.ChangeSeq, first.ChangeSeq)
	}
	if got := changeSeqs(f.changes(c, 0)); !slices.Equal(got, []int64{1}) {
		f.t.Fatalf("changes after a retried send = %v, want [1]", got)
	}
}

// testChangesUpdateConversation: a rename, and an update without a name,
// each append CONVERSATION_UPDATED, without a message.
func testChangesUpdateConversation(f *fixture) {
	ann := f.user("ann")
	c := f.conversation(ann)
	f.send(c, ann, "hi")
	for i, name := range []*string{ptr("one"), nil} {
		conv, err := f.s.UpdateConversation(f.ctx, c.ConversationID, ann.UserID, confab.ConversationUpdate{Name: name}, f.now())
		if err != nil {
			f.t.Fatal(err)
		}
		if want := int64(i + 2); conv.LastChangeSeq != want {
			f.t.Fatalf("LastChangeSeq after update %d = %d, want %d", i, conv.LastChangeSeq, want)
		}
	}
	chs := f.changes(c, 1)
	if len(chs) != 2 || chs[0].Kind != confab.ChangeConversationUpdated || chs[1].Kind != confab.ChangeConversationUpdated ||
		chs[0].Message != nil || chs[0].MessageID != "" || chs[0].UserID != ann.UserID || chs[1].UserID != ann.UserID {
		f.t.Fatalf("changes after the send = %+v, want two CONVERSATION_UPDATED by ann without a message", chs)
	}
	f.wantCode(func() error {
		_, err := f.s.UpdateConversation(f.ctx, "missing", "", confab.ConversationUpdate{Name: nil}, f.now())
		return err
	}(), confab.CodeNotFound)
}
