package chat_test

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/confab-chat/confab"
	"github.com/confab-chat/confab/broker/inproc"
	"github.com/confab-chat/confab/chat"
	"github.com/confab-chat/confab/store/sqlite"
)

// These tests cover subscriptions across messages that retention purged:
// the seqs never come back, and a stream must skip them rather than wait.

// purgeBefore purges every message created before before.
func purgeBefore(t *testing.T, st confab.Store, before time.Time) {
	t.Helper()
	if _, err := st.PurgeMessages(context.Background(), before, 1000); err != nil {
		t.Fatal(err)
	}
}

// seqsOf returns the seqs of msgs.
func seqsOf(msgs []*confab.Message) []int64 {
	s := make([]int64, len(msgs))
	for i, m := range msgs {
		s[i] = m.Seq
	}
	return s
}

// TestService_OnMessageSent_ResumeAcrossPurged resumes from a seq at or
// inside a purged range: the stream replays what survives, then goes live,
// with nothing stuck on the seqs that are gone.
func TestService_OnMessageSent_ResumeAcrossPurged(t *testing.T) {
	t0 := time.Date(2026, 11, 25, 6, 0, 0, 0, time.UTC)
	const h = time.Hour // messages created at t0 are purged, at t0+h kept
	tests := []struct {
		name  string
		sent  []time.Duration // creation times (after t0) of seqs 1, 2, …
		after int64
		live  int // messages sent after subscribing
		want  []int64
	}{
		{"SurvivorsThenLive", []time.Duration{0, 0, 0, 0, 0, 0, h, h, h}, 2, 2, []int64{7, 8, 9, 10, 11}},
		{"EverythingPurged", []time.Duration{0, 0, 0, 0, 0, 0, 0, 0, 0}, 3, 5, []int64{10, 11, 12, 13, 14}},
		{"HoleInTheMiddle", []time.Duration{h, h, 0, 0, h}, 1, 1, []int64{2, 5, 6}},
		{"AfterThePurgedRange", []time.Duration{0, 0, 0, h, h, h}, 4, 2, []int64{5, 6, 7, 8}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clock := &fakeClock{t: t0}
			e := newClockEnv(t, chat.Config{MaxResume: 20}, clock)
			alice, bob := e.user(t, "alice"), e.user(t, "bob")
			c := e.conversation(t, alice, bob)
			for i, at := range tt.sent {
				clock.Set(t0.Add(at))
				e.send(t, alice, c.ConversationID, fmt.Sprint("before ", i))
			}
			purgeBefore(t, e.store, t0.Add(time.Minute))
			clock.Set(t0.Add(2 * h))

			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			ch, err := e.svc.OnMessageSent(ctx, bob, c.ConversationID, &tt.after)
			if err != nil {
				t.Fatal(err)
			}
			for i := range tt.live {
				e.send(t, alice, c.ConversationID, fmt.Sprint("live ", i))
			}
			if got := seqsOf(collect(t, ch, len(tt.want))); !slices.Equal(got, tt.want) {
				t.Fatalf("stream = %v, want %v (survivors, then live)", got, tt.want)
			}
		})
	}
}

// TestService_OnMessageSent_GapPurged loses the event of a message that is
// then purged: the next live message opens a gap that only the store can
// close, and the store's read shows the missing seq is gone.
func TestService_OnMessageSent_GapPurged(t *testing.T) {
	t0 := time.Date(2026, 11, 25, 6, 0, 0, 0, time.UTC)
	clock := &fakeClock{t: t0}
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "confab.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	br := &lossyBroker{Broker: inproc.New(), drop: map[int64]bool{2: true}}
	t.Cleanup(func() { br.Close() })
	svc := chat.New(st, br, chat.Config{GapWait: time.Millisecond}, chat.WithClock(clock.Now))
	t.Cleanup(svc.Close)
	e := &env{svc: svc, store: st, broker: br}
	alice, bob := e.user(t, "alice"), e.user(t, "bob")
	c := e.conversation(t, alice, bob)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ch, err := svc.OnMessageSent(ctx, bob, c.ConversationID, nil)
	if err != nil {
		t.Fatal(err)
	}
	e.send(t, alice, c.ConversationID, "one")
	e.send(t, alice, c.ConversationID, "two, its event lost")
	purgeBefore(t, st, t0.Add(time.Minute))
	clock.Set(t0.Add(time.Hour))
	e.send(t, alice, c.ConversationID, "three")
	e.send(t, alice, c.ConversationID, "four")
	if got := seqsOf(collect(t, ch, 3)); !slices.Equal(got, []int64{1, 3, 4}) {
		t.Fatalf("stream = %v, want [1 3 4] (seq 2 purged: skipped, not awaited)", got)
	}
}

// gatedGapReads holds the first ListMessagesAfter back until the test
// releases it, so that a purge can land between a gap opening and the
// store read that fills it.
type gatedGapReads struct {
	confab.Store
	reading chan struct{} // one signal, when the first read begins
	release chan struct{} // closed by the test
}

func (g *gatedGapReads) ListMessagesAfter(ctx context.Context, conversationID string, afterSeq int64, limit int) ([]*confab.Message, error) {
	select {
	case g.reading <- struct{}{}:
		<-g.release
	default:
	}
	return g.Store.ListMessagesAfter(ctx, conversationID, afterSeq, limit)
}

// TestService_OnMessageSent_GapAndHeldPurged has a held message purged too,
// after it was published and before the gap read: the read returns
// nothing, and being complete it still proves the missing seq is gone.
func TestService_OnMessageSent_GapAndHeldPurged(t *testing.T) {
	t0 := time.Date(2026, 11, 25, 6, 0, 0, 0, time.UTC)
	clock := &fakeClock{t: t0}
	sqliteStore, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "confab.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sqliteStore.Close() })
	st := &gatedGapReads{Store: sqliteStore, reading: make(chan struct{}, 1), release: make(chan struct{})}
	br := &lossyBroker{Broker: inproc.New(), drop: map[int64]bool{2: true}}
	t.Cleanup(func() { br.Close() })
	svc := chat.New(st, br, chat.Config{GapWait: time.Millisecond}, chat.WithClock(clock.Now))
	t.Cleanup(svc.Close)
	e := &env{svc: svc, store: st, broker: br}
	alice, bob := e.user(t, "alice"), e.user(t, "bob")
	c := e.conversation(t, alice, bob)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ch, err := svc.OnMessageSent(ctx, bob, c.ConversationID, nil)
	if err != nil {
		t.Fatal(err)
	}
	e.send(t, alice, c.ConversationID, "one")
	e.send(t, alice, c.ConversationID, "two, its event lost")
	e.send(t, alice, c.ConversationID, "three, held for two")
	select {
	case <-st.reading:
	case <-time.After(10 * time.Second):
		t.Fatal("the gap was not read from the store")
	}
	purgeBefore(t, st, t0.Add(time.Minute)) // seqs 1 to 3: the store has nothing after 1
	close(st.release)
	if got := seqsOf(collect(t, ch, 2)); !slices.Equal(got, []int64{1, 3}) {
		t.Fatalf("stream = %v, want [1 3] (seq 2 purged: skipped; 3 delivered as held)", got)
	}
	// Only now: a seq 4 committed before the gap read ends would be in that
	// read, proving 3 (purged) gone before it is delivered.
	clock.Set(t0.Add(time.Hour))
	e.send(t, alice, c.ConversationID, "four")
	if got := seqsOf(collect(t, ch, 1)); !slices.Equal(got, []int64{4}) {
		t.Fatalf("then %v, want [4]", got)
	}
}

// gatedStart holds the first GetConversation of one conversation back
// until the test releases it: that read is the start position of a
// message stream that has already subscribed, so the test can publish
// while the stream starts.
type gatedStart struct {
	confab.Store
	conversationID string
	reading        chan struct{} // closed when the gated read begins
	release        chan struct{} // closed by the test
	once           sync.Once
}

func (g *gatedStart) GetConversation(ctx context.Context, id string) (*confab.Conversation, error) {
	if id == g.conversationID {
		g.once.Do(func() {
			close(g.reading)
			<-g.release
		})
	}
	return g.Store.GetConversation(ctx, id)
}

// TestService_OnMessageSent_BusyAtStart overflows a message stream while
// it starts (more events held than StreamQueue before its start position
// is known): that one subscription is refused with a retryable
// RATE_LIMITED, and the transport is not asked to evict (which would drop
// the client's whole connection, its other subscriptions included).
func TestService_OnMessageSent_BusyAtStart(t *testing.T) {
	const queue = 2
	sqliteStore, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "confab.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sqliteStore.Close() })
	st := &gatedStart{Store: sqliteStore, reading: make(chan struct{}), release: make(chan struct{})}
	br := inproc.New()
	t.Cleanup(func() { br.Close() })
	svc := chat.New(st, br, chat.Config{StreamQueue: queue, SendsPerSecond: -1})
	t.Cleanup(svc.Close)
	e := &env{svc: svc, store: st, broker: br}
	alice, bob := e.user(t, "alice"), e.user(t, "bob")
	c := e.conversation(t, alice, bob) // remembers the members: the only gated read is the start's
	st.conversationID = c.ConversationID

	var evictions, wakes atomic.Int64
	ctx, cancel := context.WithCancel(confab.WithStreamHooks(context.Background(), confab.StreamHooks{
		Evict: func(string) { evictions.Add(1) },
		Wake:  func(any) { wakes.Add(1) },
	}))
	defer cancel()
	type result struct {
		ch  <-chan *confab.Message
		err error
	}
	done := make(chan result, 1)
	go func() {
		ch, err := svc.OnMessageSent(ctx, bob, c.ConversationID, nil)
		done <- result{ch, err}
	}()
	select {
	case <-st.reading:
	case <-time.After(10 * time.Second):
		t.Fatal("the stream did not read its start position")
	}
	for seq := range int64(queue + 1) { // ahead of any start: all held
		ev := &confab.Event{Kind: confab.EventMessageSent, ConversationID: c.ConversationID,
			Message: &confab.Message{ConversationID: c.ConversationID, Seq: 10 + seq}}
		if err := br.Publish(context.Background(), confab.ConversationTopic(c.ConversationID), ev); err != nil {
			t.Fatal(err)
		}
	}
	close(st.release)
	var r result
	select {
	case r = <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("OnMessageSent did not return")
	}
	wantCode(t, r.err, confab.CodeLimited)
	if confab.RetryAfter(r.err) <= 0 {
		t.Errorf("RetryAfter(%v) = 0, want a retry hint", r.err)
	}
	if n := evictions.Load(); n != 0 {
		t.Errorf("Evict called %d times, want 0: only this subscription is refused", n)
	}
	if n := wakes.Load(); n != 0 {
		t.Errorf("Wake called %d times for a stream that never started, want 0", n)
	}
}

// lazyHooks are the stream hooks of a transport that reads the channel one
// pull at a time (StreamHooks.Ready), as the WebSocket engine does.
type lazyHooks struct {
	wakes   chan any
	evicted chan string
	skip    func()
	ready   func()
}

func newLazyHooks() *lazyHooks {
	return &lazyHooks{wakes: make(chan any, 64), evicted: make(chan string, 1)}
}

func (h *lazyHooks) hooks() confab.StreamHooks {
	return confab.StreamHooks{
		Wake:    func(it any) { h.wakes <- it },
		Evict:   func(reason string) { h.evicted <- reason },
		Started: func(skip func()) { h.skip = skip },
		Ready:   func(ready func()) { h.ready = ready },
	}
}

// woken waits for n Wake calls.
func (h *lazyHooks) woken(t *testing.T, n int) {
	t.Helper()
	for range n {
		select {
		case <-h.wakes:
		case <-time.After(10 * time.Second):
			t.Fatal("no Wake")
		}
	}
}

// pull reads the next item as the transport does: ready, then one read.
func pull[T any](t *testing.T, h *lazyHooks, ch <-chan T) (T, bool) {
	t.Helper()
	h.ready()
	select {
	case v, ok := <-ch:
		return v, ok
	case <-time.After(10 * time.Second):
		t.Fatal("ready left nothing on the channel")
		var zero T
		return zero, false
	}
}

// TestService_OnMessageSent_QueueGrowsOnDemand: for a transport that calls
// ready before each read, a stream holds a channel of one item instead of
// StreamQueue slots, and still delivers everything in order, skips what
// the transport skips, and evicts at the same bound.
func TestService_OnMessageSent_QueueGrowsOnDemand(t *testing.T) {
	const queue = 4
	e := newEnv(t, chat.Config{StreamQueue: queue})
	alice, bob := e.user(t, "alice"), e.user(t, "bob")
	c := e.conversation(t, alice, bob)
	h := newLazyHooks()
	ctx, cancel := context.WithCancel(confab.WithStreamHooks(context.Background(), h.hooks()))
	defer cancel()
	ch, err := e.svc.OnMessageSent(ctx, bob, c.ConversationID, nil)
	if err != nil {
		t.Fatal(err)
	}
	if cap(ch) != 1 || h.ready == nil || h.skip == nil {
		t.Fatalf("cap(channel) = %d, ready set %v, skip set %v: want a channel of one and both hooks", cap(ch), h.ready != nil, h.skip != nil)
	}

	for i := range 3 {
		e.send(t, alice, c.ConversationID, fmt.Sprint(i))
	}
	h.woken(t, 3)
	h.skip() // seq 1, as for a rendering another subscriber made
	for _, want := range []int64{2, 3} {
		if m, ok := pull(t, h, ch); !ok || m.Seq != want {
			t.Fatalf("pulled seq %v (open %v), want %d", m, ok, want)
		}
	}

	for i := range queue { // exactly the bound, nobody reads: no eviction
		e.send(t, alice, c.ConversationID, fmt.Sprint(i))
	}
	h.woken(t, queue)
	select {
	case reason := <-h.evicted:
		t.Fatalf("evicted at the bound (%s), want one more first", reason)
	default:
	}
	e.send(t, alice, c.ConversationID, "one too many")
	select {
	case <-h.evicted:
	case <-time.After(10 * time.Second):
		t.Fatal("not evicted past the bound")
	}
	var got []int64
	for {
		m, ok := pull(t, h, ch)
		if !ok {
			break
		}
		got = append(got, m.Seq)
	}
	if want := []int64{4, 5, 6, 7}; !slices.Equal(got, want) {
		t.Fatalf("after the eviction the channel gave seqs %v, then closed; want %v", got, want)
	}
}

// TestService_OnConversationUpdated_QueueGrowsOnDemand: the same for a
// simple stream, closed by its context with items still queued: they are
// read before the close.
func TestService_OnConversationUpdated_QueueGrowsOnDemand(t *testing.T) {
	e := newEnv(t, chat.Config{StreamQueue: 8})
	alice, bob := e.user(t, "alice"), e.user(t, "bob")
	h := newLazyHooks()
	ctx, cancel := context.WithCancel(confab.WithStreamHooks(context.Background(), h.hooks()))
	defer cancel()
	ch, err := e.svc.OnConversationUpdated(ctx, bob, bob.UserID)
	if err != nil {
		t.Fatal(err)
	}
	if cap(ch) != 1 {
		t.Fatalf("cap(channel) = %d, want 1", cap(ch))
	}
	var want []string
	for range 3 {
		want = append(want, e.conversation(t, alice, bob).ConversationID)
	}
	h.woken(t, 3)
	cancel()
	h.woken(t, 1) // the close
	var got []string
	for {
		c, ok := pull(t, h, ch)
		if !ok {
			break
		}
		got = append(got, c.ConversationID)
	}
	if !slices.Equal(got, want) {
		t.Fatalf("got %v before the close, want %v", got, want)
	}
}
