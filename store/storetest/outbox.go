package storetest

import (
	"encoding/json"
	"sync"
	"testing"
	"time"

	"github.com/confab-chat/confab"
)

// RunOutbox checks the confab.OutboxStore contract on a Store that has an
// outbox: events written in the change's transaction (nothing for a change
// that did not commit), leases that exclude each other and expire, and
// at-least-once settlement.
func RunOutbox(t *testing.T, open func(t *testing.T) confab.Store) {
	for _, tt := range outboxTests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := open(t)
			if _, ok := s.(confab.OutboxStore); !ok {
				t.Fatalf("%T does not implement confab.OutboxStore", s)
			}
			tt.fn(newFixture(t, s))
		})
	}
}

var outboxTests = []test{
	{"Outbox/EventsInChangeTransaction", testOutboxEvents},
	{"Outbox/RolledBackChangeNothing", testOutboxRolledBack},
	{"Outbox/MemberEvents", testOutboxMemberEvents},
	{"ClaimOutbox/LeasesExclude", testClaimOutboxExclusive},
	{"ClaimOutbox/ExpiredLeaseReclaimed", testClaimOutboxExpired},
	{"CompleteOutbox/AtLeastOnce", testCompleteOutbox},
	{"CompleteOutbox/EventWithoutDeliveriesRemoved", testCompleteOutboxIdleEvent},
	{"Webhooks/DisableAfterFailures", testWebhooks},
}

func (f *fixture) outbox() confab.OutboxStore { return f.s.(confab.OutboxStore) }

// claimAll claims every claimable entry at the fixture's clock, an hour
// ahead (entries are claimable from their change's time).
func (f *fixture) claimAll(owner string) []*confab.OutboxEntry {
	f.t.Helper()
	got, err := f.outbox().ClaimOutbox(f.ctx, owner, f.now().Add(time.Hour), time.Minute, confab.MaxPageLimit)
	if err != nil {
		f.t.Fatalf("ClaimOutbox: %v", err)
	}
	return got
}

func eventsOf(es []*confab.OutboxEntry) []confab.OutboxEvent {
	var out []confab.OutboxEvent
	for _, e := range es {
		out = append(out, e.Event)
	}
	return out
}

func testOutboxEvents(f *fixture) {
	ann, bo := f.user("ann"), f.user("bo")
	c := f.conversation(ann, bo)
	m := f.send(c, ann, "hello")
	if _, err := f.s.EditMessage(f.ctx, c.ConversationID, m.MessageID, "hello again", f.now()); err != nil {
		f.t.Fatalf("EditMessage: %v", err)
	}
	for range 2 { // the second is no change: no event
		if _, _, err := f.s.AddReaction(f.ctx, f.reaction(m, bo, "👍"), confab.DefaultMaxReactionKeys); err != nil {
			f.t.Fatalf("AddReaction: %v", err)
		}
	}
	name := "team"
	if _, err := f.s.UpdateConversation(f.ctx, c.ConversationID, ann.UserID, confab.ConversationUpdate{Name: &name}, f.now()); err != nil {
		f.t.Fatalf("UpdateConversation: %v", err)
	}
	if _, _, err := f.s.DeleteMessage(f.ctx, c.ConversationID, m.MessageID, "", f.now()); err != nil {
		f.t.Fatalf("DeleteMessage: %v", err)
	}
	got := f.claimAll("node-a")
	want := []confab.OutboxEvent{confab.OutboxUserCreated, confab.OutboxUserCreated, confab.OutboxConversationCreated,
		confab.OutboxMessageSent, confab.OutboxMessageEdited, confab.OutboxReactionAdded, confab.OutboxConversationUpdated,
		confab.OutboxMessageDeleted}
	if g := eventsOf(got); len(g) != len(want) || !equalEvents(g, want) {
		f.t.Fatalf("events = %v, want %v", g, want)
	}
	for i, e := range got {
		if e.Channel != confab.ChannelEvent || e.EventID != e.ID || e.Attempts != 1 || e.Owner != "node-a" || (i > 0 && e.ID <= got[i-1].ID) {
			f.t.Fatalf("entry %d = %+v; want an event of its own, attempt 1, owned by node-a, IDs increasing", i, e)
		}
	}
	var sent, edited, deleted confab.MessageData
	for _, p := range []struct {
		e   *confab.OutboxEntry
		dst any
	}{{got[3], &sent}, {got[4], &edited}, {got[7], &deleted}} {
		if err := json.Unmarshal(p.e.Data, p.dst); err != nil {
			f.t.Fatalf("data of %s: %v", p.e.Event, err)
		}
	}
	if sent.Content != "hello" || sent.MessageID != m.MessageID || sent.Seq != 1 || sent.ConversationID != c.ConversationID || sent.UserID != ann.UserID {
		f.t.Errorf("message.sent data = %+v, want the message as sent", sent)
	}
	if edited.Content != "hello again" || edited.EditedAt == nil {
		f.t.Errorf("message.edited data = %+v, want the new content and editedAt", edited)
	}
	if !deleted.Deleted || deleted.Content != "" {
		f.t.Errorf("message.deleted data = %+v, want deleted without content", deleted)
	}
	var conv confab.ConversationData
	if err := json.Unmarshal(got[6].Data, &conv); err != nil || conv.Name != "team" {
		f.t.Errorf("conversation.updated data = %+v (%v), want the new name", conv, err)
	}
}

func equalEvents(a, b []confab.OutboxEvent) bool {
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return len(a) == len(b)
}

func testOutboxRolledBack(f *fixture) {
	ann, bo := f.user("ann"), f.user("bo")
	c := f.conversation(ann, bo)
	m := f.newMessage(c, ann, "once")
	m.ClientToken = "tok"
	if _, err := f.s.AppendMessage(f.ctx, m); err != nil {
		f.t.Fatalf("AppendMessage: %v", err)
	}
	f.claimAll("node-a") // the events so far
	retry := f.newMessage(c, ann, "once")
	retry.ClientToken = "tok"
	if created, err := f.s.AppendMessage(f.ctx, retry); err != nil || created {
		f.t.Fatalf("AppendMessage retry = %v, %v; want the stored message", created, err)
	}
	missing := f.newMessage(c, ann, "nowhere")
	missing.ConversationID = "no-such-conversation"
	if _, err := f.s.AppendMessage(f.ctx, missing); err == nil {
		f.t.Fatal("AppendMessage to a missing conversation succeeded")
	}
	reply := f.newMessage(c, ann, "to nothing")
	reply.ParentMessageID = "no-such-root"
	if _, err := f.s.AppendMessage(f.ctx, reply); err == nil {
		f.t.Fatal("AppendMessage reply to a missing root succeeded")
	}
	if _, _, err := f.s.AddReaction(f.ctx, f.reaction(m, bo, "x"), 0); confab.ErrorCode(err) != confab.CodeLimited {
		f.t.Fatalf("AddReaction over the key limit = %v, want CodeLimited", err)
	}
	dup := f.newUser("ann")
	dup.Username = ann.Username
	if err := f.s.InsertAccount(f.ctx, &confab.Account{User: dup}); confab.ErrorCode(err) != confab.CodeConflict {
		f.t.Fatalf("InsertAccount duplicate = %v, want CodeConflict", err)
	}
	if got := f.claimAll("node-a"); len(got) != 0 {
		f.t.Fatalf("changes that did not commit left events %v", eventsOf(got))
	}
}

// pending inserts n delivery entries and returns their IDs.
func (f *fixture) pending(n int) []*confab.OutboxEntry {
	f.t.Helper()
	var es []*confab.OutboxEntry
	for range n {
		at := f.now()
		es = append(es, &confab.OutboxEntry{Channel: confab.ChannelWebhook, Target: "wh-1", EventID: 7,
			Event: confab.OutboxMessageSent, At: at, NotBefore: at, Data: json.RawMessage(`{"a":1}`)})
	}
	if err := f.outbox().InsertOutbox(f.ctx, es); err != nil {
		f.t.Fatalf("InsertOutbox: %v", err)
	}
	for i, e := range es {
		if e.ID == 0 || (i > 0 && e.ID <= es[i-1].ID) {
			f.t.Fatalf("InsertOutbox IDs: entry %d has %d", i, e.ID)
		}
	}
	return es
}

func testClaimOutboxExclusive(f *fixture) {
	const entries, claimers = 40, 8
	f.pending(entries)
	now := f.now().Add(time.Hour)
	var mu sync.Mutex
	seen := map[int64]string{}
	var wg sync.WaitGroup
	for i := range claimers {
		owner := string(rune('a' + i))
		wg.Go(func() {
			for {
				got, err := f.outbox().ClaimOutbox(f.ctx, owner, now, time.Minute, 3)
				if err != nil {
					f.t.Errorf("ClaimOutbox: %v", err)
					return
				}
				if len(got) == 0 {
					return
				}
				mu.Lock()
				for _, e := range got {
					if prev, ok := seen[e.ID]; ok {
						f.t.Errorf("entry %d claimed by %s and %s", e.ID, prev, owner)
					}
					seen[e.ID] = owner
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if len(seen) != entries {
		f.t.Fatalf("claimed %d entries, want %d", len(seen), entries)
	}
}

func testClaimOutboxExpired(f *fixture) {
	es := f.pending(1)
	t0 := f.now().Add(time.Hour)
	o := f.outbox()
	got, err := o.ClaimOutbox(f.ctx, "node-a", t0, time.Minute, 10)
	if err != nil || len(got) != 1 || got[0].ID != es[0].ID || got[0].EventID != 7 || got[0].Target != "wh-1" {
		f.t.Fatalf("ClaimOutbox = %+v, %v; want the entry", got, err)
	}
	if got, err := o.ClaimOutbox(f.ctx, "node-b", t0.Add(30*time.Second), time.Minute, 10); err != nil || len(got) != 0 {
		f.t.Fatalf("ClaimOutbox within the lease = %d entries, %v; want none", len(got), err)
	}
	got, err = o.ClaimOutbox(f.ctx, "node-b", t0.Add(2*time.Minute), time.Minute, 10)
	if err != nil || len(got) != 1 || got[0].Attempts != 2 || got[0].Owner != "node-b" {
		f.t.Fatalf("ClaimOutbox after the lease = %+v, %v; want the entry at attempt 2 for node-b", got, err)
	}
	f.wantCode(o.CompleteOutbox(f.ctx, es[0].ID, "node-a", nil), confab.CodeConflict)
	f.wantCode(o.RetryOutbox(f.ctx, es[0].ID, "node-a", t0, "late"), confab.CodeConflict)
	if err := o.CompleteOutbox(f.ctx, es[0].ID, "node-b", nil); err != nil {
		f.t.Fatalf("CompleteOutbox by the lease holder: %v", err)
	}
}

func testCompleteOutbox(f *fixture) {
	es := f.pending(3)
	o := f.outbox()
	t0 := f.now().Add(time.Hour)
	if _, err := o.ClaimOutbox(f.ctx, "n", t0, time.Minute, 10); err != nil {
		f.t.Fatalf("ClaimOutbox: %v", err)
	}
	next := []*confab.OutboxEntry{{Channel: confab.ChannelWebhook, Target: "wh-2", EventID: es[0].ID, Event: confab.OutboxMessageSent,
		At: es[0].At, NotBefore: es[0].At, Data: es[0].Data}}
	if err := o.CompleteOutbox(f.ctx, es[0].ID, "n", next); err != nil || next[0].ID == 0 {
		f.t.Fatalf("CompleteOutbox = %v, next ID %d", err, next[0].ID)
	}
	if err := o.RetryOutbox(f.ctx, es[1].ID, "n", t0.Add(time.Hour), "503"); err != nil {
		f.t.Fatalf("RetryOutbox: %v", err)
	}
	if err := o.GiveUpOutbox(f.ctx, es[2].ID, "n", "gone"); err != nil {
		f.t.Fatalf("GiveUpOutbox: %v", err)
	}
	f.wantCode(o.CompleteOutbox(f.ctx, es[0].ID, "n", nil), confab.CodeConflict)
	got, err := o.ClaimOutbox(f.ctx, "n", t0.Add(2*time.Minute), 2*time.Hour, 10)
	if err != nil || len(got) != 1 || got[0].ID != next[0].ID || got[0].EventID != es[0].ID {
		f.t.Fatalf("ClaimOutbox before the retry time = %+v, %v; want only the new delivery", got, err)
	}
	got, err = o.ClaimOutbox(f.ctx, "n", t0.Add(time.Hour), time.Minute, 10)
	if err != nil || len(got) != 1 || got[0].ID != es[1].ID || got[0].LastError != "503" || got[0].Attempts != 2 {
		f.t.Fatalf("ClaimOutbox at the retry time = %+v, %v; want the retried entry at attempt 2", got, err)
	}
	dead, err := o.GetOutboxEntry(f.ctx, es[2].ID)
	if err != nil || !dead.Dead || dead.LastError != "gone" {
		f.t.Fatalf("GetOutboxEntry of the given-up entry = %+v, %v", dead, err)
	}
	_, err = o.GetOutboxEntry(f.ctx, 1<<40)
	f.wantCode(err, confab.CodeNotFound)
	n, err := o.PurgeOutbox(f.ctx, t0.Add(time.Hour), 10)
	if err != nil || n != 2 { // the completed and the dead; the others are pending
		f.t.Fatalf("PurgeOutbox = %d, %v; want 2", n, err)
	}
}

func testWebhooks(f *fixture) {
	o := f.outbox()
	at := f.now()
	for _, id := range []string{"wh-b", "wh-a"} {
		w := &confab.Webhook{WebhookID: id, URL: "https://example.com/" + id, Events: []confab.OutboxEvent{confab.OutboxMessageSent, confab.OutboxUserCreated},
			Secret: "whsec_c2VjcmV0", CreatedAt: at}
		if err := o.InsertWebhook(f.ctx, w); err != nil {
			f.t.Fatalf("InsertWebhook: %v", err)
		}
	}
	f.wantCode(o.InsertWebhook(f.ctx, &confab.Webhook{WebhookID: "wh-a", URL: "x", Events: []confab.OutboxEvent{confab.OutboxMessageSent}, CreatedAt: at}), confab.CodeConflict)
	ws, err := o.ListWebhooks(f.ctx)
	if err != nil || len(ws) != 2 || ws[0].WebhookID != "wh-a" || len(ws[0].Events) != 2 || !ws[0].Wants(confab.OutboxUserCreated) || ws[0].Wants(confab.OutboxMessageEdited) {
		f.t.Fatalf("ListWebhooks = %+v, %v", ws, err)
	}
	for i := 1; i <= 3; i++ {
		w, err := o.RecordWebhookResult(f.ctx, "wh-a", false, 3, at)
		if err != nil || w.Failures != i || (w.DisabledAt != nil) != (i == 3) {
			f.t.Fatalf("failure %d: %+v, %v; want disabled at the third", i, w, err)
		}
	}
	if err := o.EnableWebhook(f.ctx, "wh-a"); err != nil {
		f.t.Fatalf("EnableWebhook: %v", err)
	}
	if w, err := o.RecordWebhookResult(f.ctx, "wh-a", true, 3, at); err != nil || w.Failures != 0 || w.DisabledAt != nil {
		f.t.Fatalf("after enabling and a success: %+v, %v", w, err)
	}
	if err := o.DeleteWebhook(f.ctx, "wh-a"); err != nil {
		f.t.Fatalf("DeleteWebhook: %v", err)
	}
	f.wantCode(o.DeleteWebhook(f.ctx, "wh-a"), confab.CodeNotFound)
	_, err = o.RecordWebhookResult(f.ctx, "wh-a", true, 3, at)
	f.wantCode(err, confab.CodeNotFound)
}

// testCompleteOutboxIdleEvent: an event no channel fanned out to is
// removed when completed (its message text is not kept for a replay
// nobody can ask for); one with deliveries stays, for replay.
func testCompleteOutboxIdleEvent(f *fixture) {
	ann := f.user("ann")
	c := f.conversation(ann)
	f.send(c, ann, "first")
	f.send(c, ann, "second")
	o := f.outbox()
	t0 := f.now().Add(time.Hour)
	claimed, err := o.ClaimOutbox(f.ctx, "n", t0, time.Minute, 100)
	if err != nil {
		f.t.Fatalf("ClaimOutbox: %v", err)
	}
	var sent []*confab.OutboxEntry
	for _, e := range claimed {
		if e.Channel == confab.ChannelEvent && e.Event == confab.OutboxMessageSent {
			sent = append(sent, e)
		}
	}
	if len(sent) != 2 {
		f.t.Fatalf("claimed %d message.sent events, want 2", len(sent))
	}
	next := []*confab.OutboxEntry{{Channel: confab.ChannelWebhook, Target: "wh-1", EventID: sent[1].ID, Event: sent[1].Event,
		At: sent[1].At, NotBefore: sent[1].At, Data: sent[1].Data}}
	if err := o.CompleteOutbox(f.ctx, sent[0].ID, "n", nil); err != nil {
		f.t.Fatalf("CompleteOutbox without deliveries: %v", err)
	}
	if err := o.CompleteOutbox(f.ctx, sent[1].ID, "n", next); err != nil {
		f.t.Fatalf("CompleteOutbox with a delivery: %v", err)
	}
	_, err = o.GetOutboxEntry(f.ctx, sent[0].ID)
	f.wantCode(err, confab.CodeNotFound)
	kept, err := o.GetOutboxEntry(f.ctx, sent[1].ID)
	if err != nil || !kept.Done {
		f.t.Fatalf("GetOutboxEntry of the delivered event = %+v, %v; want it kept, done", kept, err)
	}
}
