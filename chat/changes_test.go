package chat_test

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/confab-chat/confab"
	"github.com/confab-chat/confab/broker/inproc"
	"github.com/confab-chat/confab/chat"
	"github.com/google/go-cmp/cmp"
)

// These tests cover the change log's read side: syncConversation and
// onConversationChanged (replay, then live; gapless, no duplicate, in
// changeSeq order, bounded, resumable).

// wantChangeSeqs checks got is from, from+1, … with no gap or duplicate.
func wantChangeSeqs(t *testing.T, got []*confab.Change, from int64) {
	t.Helper()
	for i, c := range got {
		if c.ChangeSeq != from+int64(i) {
			t.Fatalf("change %d has changeSeq %d (%s), want %d (in order, no gaps, no duplicates)", i, c.ChangeSeq, c.Kind, from+int64(i))
		}
	}
}

// timeline is what a client that applies changes shows: the live messages
// of the timeline by id, each the copy with the highest ChangeSeq seen.
type timeline map[string]*confab.Message

// apply folds changes into the timeline as a client does.
func (tl timeline) apply(changes []*confab.Change) {
	for _, c := range changes {
		m := c.Message
		if m == nil {
			continue
		}
		if old := tl[m.MessageID]; old != nil && old.ChangeSeq > m.ChangeSeq {
			continue
		}
		tl[m.MessageID] = m
	}
	for id, m := range tl {
		if m.Deleted || !m.InTimeline() {
			delete(tl, id)
		}
	}
}

// fresh is the conversation's timeline as listMessages shows it now.
func (e *env) fresh(t *testing.T, who confab.Identity, convID string) timeline {
	t.Helper()
	tl := timeline{}
	var next *string
	for {
		limit := confab.MaxPageLimit
		page, err := e.svc.ListMessages(context.Background(), who, convID, &limit, next)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range page.Items {
			tl[m.MessageID] = m
		}
		if page.NextToken == nil {
			return tl
		}
		next = page.NextToken
	}
}

// wantSameTimeline compares what the client built with a fresh read:
// content, edits, thread counts and changeSeq of every message.
func wantSameTimeline(t *testing.T, got, want timeline) {
	t.Helper()
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("timeline from the changes differs from listMessages (-fresh +changes):\n%s", diff)
	}
}

// mixedChanges makes one of every kind of change: sends, a reply, an edit,
// a reaction added and removed, a deletion and a rename.
func (e *env) mixedChanges(t *testing.T, a, b confab.Identity, convID, tag string) {
	t.Helper()
	ctx := context.Background()
	m1 := e.send(t, a, convID, tag+" one")
	m2 := e.send(t, b, convID, tag+" two")
	if _, err := e.svc.SendMessage(ctx, b, chat.SendMessageInput{ConversationID: convID, Content: tag + " reply", ParentMessageID: m1.MessageID}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.EditMessage(ctx, a, convID, m1.MessageID, tag+" one, edited"); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.AddReaction(ctx, b, convID, m1.MessageID, "👍"); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.AddReaction(ctx, a, convID, m2.MessageID, ":tada:"); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.RemoveReaction(ctx, a, convID, m2.MessageID, ":tada:"); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.DeleteMessage(ctx, b, convID, m2.MessageID); err != nil {
		t.Fatal(err)
	}
	name := tag + " room"
	if _, err := e.svc.UpdateConversation(ctx, a, convID, &name); err != nil {
		t.Fatal(err)
	}
}

// mixedChangeCount is how many changes mixedChanges makes: 3 sends, the
// reply's THREAD_UPDATED, an edit, 2 reactions added and 1 removed, a
// deletion and a rename.
const mixedChangeCount = 10

func TestService_SyncConversation(t *testing.T) {
	e := newEnv(t, chat.Config{})
	alice, bob, eve := e.user(t, "alice"), e.user(t, "bob"), e.user(t, "eve")
	c := e.conversation(t, alice, bob)
	e.mixedChanges(t, alice, bob, c.ConversationID, "a")
	ctx := context.Background()

	three := 3
	var all []*confab.Change
	after := int64(0)
	for pages := 0; ; pages++ {
		page, err := e.svc.SyncConversation(ctx, bob, c.ConversationID, after, &three)
		if err != nil {
			t.Fatal(err)
		}
		if len(page.Changes) > 3 || page.LastChangeSeq != mixedChangeCount {
			t.Fatalf("page after %d: %d changes, lastChangeSeq %d; want at most 3 and %d", after, len(page.Changes), page.LastChangeSeq, mixedChangeCount)
		}
		all = append(all, page.Changes...)
		if !page.HasMore {
			break
		}
		after = page.Changes[len(page.Changes)-1].ChangeSeq
	}
	wantChangeSeqs(t, all, 1)
	if len(all) != mixedChangeCount {
		t.Fatalf("synced %d changes, want %d", len(all), mixedChangeCount)
	}
	var kinds []confab.ChangeKind
	for _, ch := range all {
		kinds = append(kinds, ch.Kind)
		if ch.Message != nil && ch.Message.Deleted && ch.Message.Content != "" {
			t.Fatalf("change %d carries deleted message content %q, want a tombstone", ch.ChangeSeq, ch.Message.Content)
		}
	}
	wantKinds := []confab.ChangeKind{confab.ChangeMessageSent, confab.ChangeMessageSent, confab.ChangeMessageSent, confab.ChangeThreadUpdated,
		confab.ChangeMessageEdited, confab.ChangeReactionAdded, confab.ChangeReactionAdded, confab.ChangeReactionRemoved,
		confab.ChangeMessageDeleted, confab.ChangeConversationUpdated}
	if !slices.Equal(kinds, wantKinds) {
		t.Fatalf("kinds = %v, want %v", kinds, wantKinds)
	}
	// Its UserID is not checked: Store.UpdateConversation is not told who
	// renamed (only the live event knows).
	if last := all[len(all)-1]; last.Message != nil || last.MessageID != "" {
		t.Fatalf("rename change = %+v, want no message", last)
	}
	tl := timeline{}
	tl.apply(all)
	wantSameTimeline(t, tl, e.fresh(t, bob, c.ConversationID))

	t.Run("DefaultLimit", func(t *testing.T) {
		page, err := e.svc.SyncConversation(ctx, bob, c.ConversationID, 0, nil)
		if err != nil {
			t.Fatal(err)
		}
		if len(page.Changes) != mixedChangeCount || page.HasMore {
			t.Fatalf("%d changes, hasMore %v; want all %d (the default %d holds them)", len(page.Changes), page.HasMore, mixedChangeCount, confab.DefaultSyncLimit)
		}
	})
	t.Run("UpToDate", func(t *testing.T) {
		page, err := e.svc.SyncConversation(ctx, bob, c.ConversationID, mixedChangeCount, nil)
		if err != nil {
			t.Fatal(err)
		}
		if len(page.Changes) != 0 || page.HasMore || page.LastChangeSeq != mixedChangeCount {
			t.Fatalf("page = %+v, want empty at %d", page, mixedChangeCount)
		}
	})
	t.Run("ErrNotMember", func(t *testing.T) {
		_, err := e.svc.SyncConversation(ctx, eve, c.ConversationID, 0, nil)
		wantCode(t, err, confab.CodeNotFound)
	})
	t.Run("ErrNegative", func(t *testing.T) {
		_, err := e.svc.SyncConversation(ctx, bob, c.ConversationID, -1, nil)
		wantCode(t, err, confab.CodeInvalid)
	})
	t.Run("ErrBeyondNewest", func(t *testing.T) {
		_, err := e.svc.SyncConversation(ctx, bob, c.ConversationID, mixedChangeCount+1, nil)
		wantCode(t, err, confab.CodeInvalid)
	})
	for _, n := range []int{0, confab.MaxPageLimit + 1} {
		t.Run(fmt.Sprint("ErrLimit", n), func(t *testing.T) {
			_, err := e.svc.SyncConversation(ctx, bob, c.ConversationID, 0, &n)
			wantCode(t, err, confab.CodeInvalid)
		})
	}
}

// TestService_SyncConversation_ErrTooFarBehind: further behind than
// MaxResume, the answer says to reload with listMessages.
func TestService_SyncConversation_ErrTooFarBehind(t *testing.T) {
	e := newEnv(t, chat.Config{MaxResume: 5})
	alice, bob := e.user(t, "alice"), e.user(t, "bob")
	c := e.conversation(t, alice, bob)
	for i := range 8 {
		e.send(t, alice, c.ConversationID, fmt.Sprint(i))
	}
	_, err := e.svc.SyncConversation(context.Background(), bob, c.ConversationID, 2, nil)
	wantCode(t, err, confab.CodeInvalid)
	if !strings.Contains(confab.ErrorMessage(err), "listMessages") {
		t.Fatalf("message %q should tell the client to reload with listMessages", confab.ErrorMessage(err))
	}
	if _, err := e.svc.SyncConversation(context.Background(), bob, c.ConversationID, 3, nil); err != nil {
		t.Fatalf("5 behind (MaxResume): %v", err)
	}
	after := int64(2)
	_, err = e.svc.OnConversationChanged(context.Background(), bob, c.ConversationID, &after)
	wantCode(t, err, confab.CodeInvalid)
}

// TestService_OnConversationChanged_ResumeThenLive: a client away during
// every kind of change resumes with afterChange, gets what it missed, then
// live changes, each once and in order, and ends with the timeline a fresh
// listMessages shows.
func TestService_OnConversationChanged_ResumeThenLive(t *testing.T) {
	e := newEnv(t, chat.Config{})
	alice, bob := e.user(t, "alice"), e.user(t, "bob")
	c := e.conversation(t, alice, bob)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()

	e.send(t, alice, c.ConversationID, "seen before going away")
	page, err := e.svc.SyncConversation(ctx, bob, c.ConversationID, 0, nil)
	if err != nil {
		t.Fatal(err)
	}
	tl := timeline{}
	tl.apply(page.Changes)

	e.mixedChanges(t, alice, bob, c.ConversationID, "away")
	ch, err := e.svc.OnConversationChanged(ctx, bob, c.ConversationID, &page.LastChangeSeq)
	if err != nil {
		t.Fatal(err)
	}
	e.mixedChanges(t, bob, alice, c.ConversationID, "live")
	got := collect(t, ch, 2*mixedChangeCount)
	wantChangeSeqs(t, got, 2)
	tl.apply(got)
	wantSameTimeline(t, tl, e.fresh(t, bob, c.ConversationID))
	select {
	case extra := <-ch:
		t.Fatalf("a change beyond the last: %+v", extra)
	default:
	}
}

func TestService_OnConversationChanged_Errors(t *testing.T) {
	e := newEnv(t, chat.Config{})
	alice, bob, eve := e.user(t, "alice"), e.user(t, "bob"), e.user(t, "eve")
	c := e.conversation(t, alice, bob)
	e.send(t, alice, c.ConversationID, "one")
	ctx := context.Background()
	_, err := e.svc.OnConversationChanged(ctx, eve, c.ConversationID, nil)
	wantCode(t, err, confab.CodeNotFound)
	neg, far := int64(-1), int64(2)
	_, err = e.svc.OnConversationChanged(ctx, bob, c.ConversationID, &neg)
	wantCode(t, err, confab.CodeInvalid)
	_, err = e.svc.OnConversationChanged(ctx, bob, c.ConversationID, &far)
	wantCode(t, err, confab.CodeInvalid)
}

// TestService_OnConversationChanged_ConcurrentWriters: 8 writers send,
// edit, react and delete at once; the subscriber sees the change log
// gapless, in order, each change once, up to the conversation's
// lastChangeSeq.
func TestService_OnConversationChanged_ConcurrentWriters(t *testing.T) {
	e := newEnv(t, chat.Config{StreamQueue: 2048})
	alice, bob := e.user(t, "alice"), e.user(t, "bob")
	c := e.conversation(t, alice, bob)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ch, err := e.svc.OnConversationChanged(ctx, bob, c.ConversationID, nil)
	if err != nil {
		t.Fatal(err)
	}
	const writers, each = 8, 10
	var wg sync.WaitGroup
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			who := []confab.Identity{alice, bob}[w%2]
			for i := range each {
				m, err := e.svc.SendMessage(ctx, who, chat.SendMessageInput{ConversationID: c.ConversationID, Content: fmt.Sprint(w, "-", i)})
				if err == nil {
					_, err = e.svc.AddReaction(ctx, who, c.ConversationID, m.MessageID, "👍")
				}
				if err == nil && i%2 == 0 {
					_, err = e.svc.EditMessage(ctx, who, c.ConversationID, m.MessageID, fmt.Sprint(w, "-", i, " edited"))
				}
				if err == nil && i%3 == 0 {
					_, err = e.svc.DeleteMessage(ctx, who, c.ConversationID, m.MessageID)
				}
				if err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	conv, err := e.svc.GetConversation(ctx, bob, c.ConversationID)
	if err != nil {
		t.Fatal(err)
	}
	// each writer: 10 sends, 10 reactions, 5 edits, 4 deletions
	if want := int64(writers * (each + each + 5 + 4)); conv.LastChangeSeq != want {
		t.Fatalf("lastChangeSeq = %d, want %d", conv.LastChangeSeq, want)
	}
	got := collect(t, ch, int(conv.LastChangeSeq))
	wantChangeSeqs(t, got, 1)
	tl := timeline{}
	tl.apply(got)
	wantSameTimeline(t, tl, e.fresh(t, bob, c.ConversationID))
}

// TestService_OnConversationChanged_OutOfOrderBurst: a burst of change
// events far larger than StreamQueue arrives newest first; the stream
// reads what it cannot hold from the store and evicts nobody.
func TestService_OnConversationChanged_OutOfOrderBurst(t *testing.T) {
	br := &reorderBroker{Broker: inproc.New()}
	e := newBrokerEnv(t, br, chat.Config{StreamQueue: 8})
	alice, bob := e.user(t, "alice"), e.user(t, "bob")
	c := e.conversation(t, alice, bob)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ch, err := e.svc.OnConversationChanged(ctx, bob, c.ConversationID, nil)
	if err != nil {
		t.Fatal(err)
	}
	br.mu.Lock()
	br.holding = true
	br.mu.Unlock()
	for i := range 5 {
		e.mixedChanges(t, alice, bob, c.ConversationID, fmt.Sprint("burst ", i))
	}
	br.release()
	wantChangeSeqs(t, collect(t, ch, 5*mixedChangeCount), 1)
	if n := e.svc.Stats().Evicted; n != 0 {
		t.Fatalf("%d subscribers evicted, want 0", n)
	}
}

// lossyChanges drops the events whose change is in drop, standing in for a
// relay between nodes that lost them.
type lossyChanges struct {
	confab.Broker
	drop map[int64]bool
}

func (b *lossyChanges) Publish(ctx context.Context, topic string, ev *confab.Event) error {
	if ev.Change != nil && b.drop[ev.Change.ChangeSeq] {
		return nil
	}
	return b.Broker.Publish(ctx, topic, ev)
}

// TestService_OnConversationChanged_FillsGapsFromStore: lost change events
// (an edit, a reaction, a thread update) are read from the store.
func TestService_OnConversationChanged_FillsGapsFromStore(t *testing.T) {
	br := &lossyChanges{Broker: inproc.New(), drop: map[int64]bool{4: true, 5: true, 7: true}}
	e := newBrokerEnv(t, br, chat.Config{GapWait: time.Millisecond})
	alice, bob := e.user(t, "alice"), e.user(t, "bob")
	c := e.conversation(t, alice, bob)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ch, err := e.svc.OnConversationChanged(ctx, bob, c.ConversationID, nil)
	if err != nil {
		t.Fatal(err)
	}
	e.mixedChanges(t, alice, bob, c.ConversationID, "lossy")
	got := collect(t, ch, mixedChangeCount)
	wantChangeSeqs(t, got, 1)
	tl := timeline{}
	tl.apply(got)
	wantSameTimeline(t, tl, e.fresh(t, bob, c.ConversationID))
}

// TestService_OnConversationChanged_SlowConsumerEvicted: a subscriber that
// does not read is evicted through the hook; resuming after the last
// change it took, it gets the rest, none twice.
func TestService_OnConversationChanged_SlowConsumerEvicted(t *testing.T) {
	e := newEnv(t, chat.Config{StreamQueue: 4})
	alice, bob := e.user(t, "alice"), e.user(t, "bob")
	c := e.conversation(t, alice, bob)
	evicted := make(chan string, 1)
	ctx, cancel := context.WithCancel(confab.WithStreamHooks(context.Background(), confab.StreamHooks{
		Evict: func(reason string) { evicted <- reason },
	}))
	defer cancel()
	ch, err := e.svc.OnConversationChanged(ctx, bob, c.ConversationID, nil)
	if err != nil {
		t.Fatal(err)
	}
	e.mixedChanges(t, alice, bob, c.ConversationID, "x") // more than the queue holds; nobody reads
	select {
	case reason := <-evicted:
		if !strings.Contains(reason, "slow consumer") {
			t.Fatalf("reason = %q", reason)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("slow consumer was not evicted")
	}
	var got []*confab.Change
	for c := range ch { // the stream ends after what it buffered
		got = append(got, c)
	}
	if len(got) != 4 {
		t.Fatalf("buffered %d changes before the close, want 4", len(got))
	}
	last := got[len(got)-1].ChangeSeq
	again, err := e.svc.OnConversationChanged(context.Background(), bob, c.ConversationID, &last)
	if err != nil {
		t.Fatal(err)
	}
	rest := collect(t, again, mixedChangeCount-len(got))
	wantChangeSeqs(t, append(got, rest...), 1)
}

// TestService_OnConversationChanged_ResumeAcrossPurged: retention purged
// old messages and their changes; a resume from inside the purged range
// replays what survives and goes live without waiting for the gone ones.
func TestService_OnConversationChanged_ResumeAcrossPurged(t *testing.T) {
	t0 := time.Date(2026, 11, 25, 6, 0, 0, 0, time.UTC)
	clock := &fakeClock{t: t0}
	e := newClockEnv(t, chat.Config{MaxResume: 50}, clock)
	alice, bob := e.user(t, "alice"), e.user(t, "bob")
	c := e.conversation(t, alice, bob)
	for i := range 4 { // changes 1-4, purged below
		e.send(t, alice, c.ConversationID, fmt.Sprint("old ", i))
	}
	clock.Set(t0.Add(time.Hour))
	kept := e.send(t, alice, c.ConversationID, "kept") // change 5
	if _, err := e.svc.EditMessage(context.Background(), alice, c.ConversationID, kept.MessageID, "kept, edited"); err != nil {
		t.Fatal(err) // change 6
	}
	purgeBefore(t, e.store, t0.Add(time.Minute))
	clock.Set(t0.Add(2 * time.Hour))

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	after := int64(2)
	ch, err := e.svc.OnConversationChanged(ctx, bob, c.ConversationID, &after)
	if err != nil {
		t.Fatal(err)
	}
	e.send(t, alice, c.ConversationID, "live") // change 7
	var seqs []int64
	for _, ch := range collect(t, ch, 3) {
		seqs = append(seqs, ch.ChangeSeq)
	}
	if !slices.Equal(seqs, []int64{5, 6, 7}) {
		t.Fatalf("stream = %v, want [5 6 7] (1-4 purged: skipped, not awaited)", seqs)
	}
	page, err := e.svc.SyncConversation(ctx, bob, c.ConversationID, 0, nil)
	if err != nil {
		t.Fatal(err)
	}
	tl := timeline{}
	tl.apply(page.Changes)
	if got := slices.Sorted(maps.Keys(tl)); len(got) != 2 {
		t.Fatalf("sync from 0 after the purge shows %d messages, want the 2 kept", len(got))
	}
	wantSameTimeline(t, tl, e.fresh(t, bob, c.ConversationID))
}

// TestService_OnConversationChanged_BrokerOutage: while the broker is
// down the change stream is fed from the store like the message stream.
func TestService_OnConversationChanged_BrokerOutage(t *testing.T) {
	br := &outageBroker{Broker: inproc.New()}
	e := newBrokerEnv(t, br, chat.Config{StreamQueue: 16})
	alice, bob := e.user(t, "alice"), e.user(t, "bob")
	c := e.conversation(t, alice, bob)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ch, err := e.svc.OnConversationChanged(ctx, bob, c.ConversationID, nil)
	if err != nil {
		t.Fatal(err)
	}
	br.setDown(true)
	for i := range 3 {
		e.mixedChanges(t, alice, bob, c.ConversationID, fmt.Sprint("during ", i))
	}
	wantChangeSeqs(t, collect(t, ch, 3*mixedChangeCount), 1) // while still down
	br.setDown(false)
	e.send(t, alice, c.ConversationID, "after")
	wantChangeSeqs(t, collect(t, ch, 1), 3*mixedChangeCount+1)
	if n := e.svc.Stats().Evicted; n != 0 {
		t.Fatalf("%d subscribers evicted, want 0", n)
	}
}

// TestService_DeleteMessage_DeletedAt: a deletion carries its time. The
// deleteMessage answer, the onMessageDeleted event and the live
// MESSAGE_DELETED change say deleted at the deletion (Message.deletedAt
// reads UpdatedAt of a deleted message), as the change log read back does.
func TestService_DeleteMessage_DeletedAt(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, chat.Config{})
	alice, bob := e.user(t, "alice"), e.user(t, "bob")
	cid := e.conversation(t, alice, bob).ConversationID
	rec := e.record(t, cid)
	m := e.send(t, alice, cid, "soon gone")

	got, err := e.svc.DeleteMessage(ctx, alice, cid, m.MessageID)
	if err != nil {
		t.Fatal(err)
	}
	if !got.Deleted || got.UpdatedAt == nil {
		t.Fatalf("deleteMessage answered %+v; want it deleted, with its deletion time", got)
	}
	at := *got.UpdatedAt
	chs := rec.changes()
	live := chs[len(chs)-1]
	if live.Kind != confab.ChangeMessageDeleted || !live.Message.Deleted || live.Message.UpdatedAt == nil || !live.Message.UpdatedAt.Equal(at) {
		t.Fatalf("live change = %+v (message %+v); want MESSAGE_DELETED deleted at %v", live, live.Message, at)
	}
	sync, err := e.svc.SyncConversation(ctx, bob, cid, 0, nil)
	if err != nil {
		t.Fatal(err)
	}
	read := sync.Changes[len(sync.Changes)-1].Message
	if !read.Deleted || read.UpdatedAt == nil || !read.UpdatedAt.Equal(at) || read.Content != "" {
		t.Fatalf("synced tombstone = %+v; want deleted at %v, no content", read, at)
	}
}
