package chat

import (
	"context"
	"maps"
	"slices"
	"time"

	"github.com/confab-chat/confab"
)

// order is one of a conversation's numbered logs that an orderedStream
// follows: its messages by seq (onMessageSent) or its changes by
// changeSeq (onConversationChanged). Both logs are appended in order (a
// conversation's writes are serialised), numbered without gaps except
// where retention purged entries, and read back by position; only these
// functions tell them apart.
type order[T any] struct {
	name string // the log ("messages", "changes"), for logs and the store feed's key

	seq       func(T) int64                    // the item's position in the log
	hidden    func(T) bool                     // consumed but not delivered (nil: none is)
	fromEvent func(*confab.Event) (T, bool)    // the item an event carries, if any
	last      func(*confab.Conversation) int64 // the log's last position
	sentAt    func(T) time.Time                // for the lag observer (nil: lag not observed)
	author    func(T) string                   // whose message the item is about ("" for none): hidden from who blocks them
	// read returns up to limit items after a position, oldest first.
	read func(ctx context.Context, st confab.Store, conversationID string, after int64, limit int) ([]T, error)

	beyond string // BAD_USER_INPUT for a resume past the last position (%d)
	tooFar string // BAD_USER_INPUT for a resume further behind than MaxResume (%d)
}

// messages is the order of onMessageSent: seqs, deleted messages consumed
// without being delivered.
var messages = &order[*confab.Message]{
	name: "messages",
	seq:  func(m *confab.Message) int64 { return m.Seq },
	// A reply only in its thread is counted but not delivered: onMessageSent
	// carries the timeline, as listMessages does.
	hidden: func(m *confab.Message) bool { return m.Deleted || !m.InTimeline() },
	fromEvent: func(ev *confab.Event) (*confab.Message, bool) {
		return ev.Message, ev.Kind == confab.EventMessageSent && ev.Message != nil
	},
	read: func(ctx context.Context, st confab.Store, conversationID string, after int64, limit int) ([]*confab.Message, error) {
		return st.ListMessagesAfter(ctx, conversationID, after, limit)
	},
	last:   func(c *confab.Conversation) int64 { return c.LastSeq },
	sentAt: func(m *confab.Message) time.Time { return m.CreatedAt },
	author: func(m *confab.Message) string { return m.UserID },
	beyond: "afterSeq is beyond the newest message (seq %d).",
	tooFar: "More than %d messages were sent after afterSeq; page with listMessages, then subscribe with a newer afterSeq.",
}

// orderedStream delivers one conversation's log (see order) in order with
// no gaps and no duplicates. Broker events may arrive out of order
// (concurrent writers publish independently; other nodes relay through
// NATS): an early event waits in pending, and a gap not filled within
// GapWait is read from the store. Positions that retention purged never
// arrive: the store reads tell them apart from late ones, and the stream
// jumps over them (see jump). Below, "seq" is the log's position (a
// message's Seq or a change's ChangeSeq).
//
// The store is also where a stream catches up when events outrun it: more
// early events than pending holds are dropped (they are in the store) and
// the stream falls behind, as it does when a resume has more to replay than
// one read; the gap fill then pages from the store, as fast as the
// subscriber takes items, until a read comes back short. While the broker
// is down the store feeds every live stream (stream_outage.go). So neither
// a broker outage nor a burst of out-of-order events evicts a subscriber;
// only a full channel (a slow subscriber) does.
//
// States (all fields under mu):
//
//	starting  subscribed to the conversation's topic, start position not yet
//	          read (ready false, out nil): every event is held in pending.
//	          Overflow (more than StreamQueue held) closes it without telling
//	          the transport, and the subscription is refused (RATE_LIMITED,
//	          retry): one subscription fails, not the connection.
//	live      ready, out made with room for the backlog and StreamQueue more,
//	          registered with the storeFeed: items go out in seq order;
//	          an early one waits in pending while a gap fill is scheduled.
//	          Overflow of pending drops the event and falls behind;
//	          overflow of out evicts (StreamHooks.Evict, then closed).
//	closed    final: the subscription cancelled (by stop when the context
//	          ends, by evict, or by a failed start), the gap timer stopped
//	          or inert, and, if it was live, out closed and Wake(nil) sent.
//
// Invariants, whenever mu is free:
//   - every seq below next was delivered, skipped as hidden, or shown
//     gone by a store read (jump); none is delivered twice, and what is
//     delivered goes out in increasing seq order;
//   - once live, pending holds only seqs above next, at most StreamQueue
//     of them, and is non-empty, or behind set, only while a gap fill is
//     scheduled (gapTimer armed, or fillGap running);
//   - behind is set while items after next may exist that are neither
//     pending nor on their way as events: a fill reads them;
//   - seqs from liveFrom on were written after the stream started: only
//     their lag is observed;
//   - nothing is held or sent once closed.
type orderedStream[T any] struct {
	stream[T]
	svc            *Service
	ord            *order[T]
	conversationID string

	liveFrom int64               // guarded by mu: seqs from here on were written after the stream started (their lag is observed)
	next     int64               // guarded by mu: seq to deliver next
	ready    bool                // guarded by mu: start position known; events flow
	pending  map[int64]T         // guarded by mu: arrived ahead of next
	behind   bool                // guarded by mu: the store holds items to deliver that no event brings
	gapTimer *time.Timer         // guarded by mu: armed while a gap is open or the stream is behind
	blocked  map[string]struct{} // guarded by mu: the users the subscriber blocks, as last seen (see hides)
}

// OnMessageSent streams the messages of a conversation of the caller in seq
// order. With afterSeq it first replays every message after that seq (at
// most MaxResume; further behind is BAD_USER_INPUT), paged from the store
// as the subscriber takes them, and then goes live, with nothing missed or
// repeated in between.
func (s *Service) OnMessageSent(ctx context.Context, caller confab.Identity, conversationID string, afterSeq *int64) (<-chan *confab.Message, error) {
	if err := s.requireMember(ctx, caller, conversationID); err != nil {
		return nil, err
	}
	if afterSeq != nil && *afterSeq < 0 {
		return nil, confab.Errorf(confab.CodeInvalid, "afterSeq must not be negative.")
	}
	return subscribeOrdered(ctx, s, messages, conversationID, caller.UserID, afterSeq)
}

// subscribeOrdered starts a stream of ord for member, in a conversation
// whose membership was checked, from after (nil: live only; at most
// MaxResume behind).
func subscribeOrdered[T any](ctx context.Context, s *Service, ord *order[T], conversationID, member string, after *int64) (<-chan T, error) {
	ms := &orderedStream[T]{svc: s, ord: ord, conversationID: conversationID, pending: make(map[int64]T)}
	ms.hooks = confab.StreamHooksFrom(ctx)
	ms.stats = &s.stats
	ms.member = member
	blocked, err := s.blockedBy(ctx, member)
	if err != nil {
		return nil, err
	}
	ms.blocked = blocked

	// Subscribe first, then read the start position: an event committed in
	// between is both buffered and in the store, and the seq check drops
	// the second copy.
	ms.mu.Lock()
	sub, err := s.broker.Subscribe(confab.ConversationTopic(conversationID), ms.onEvent)
	if err != nil {
		ms.mu.Unlock()
		s.stats.brokerErrors.Add(1)
		return nil, err
	}
	ms.sub = sub
	ms.mu.Unlock()

	backlog, complete, next, lastSeq, err := resumePoint(ctx, s, ord, conversationID, member, after)
	if err != nil {
		sub.Unsubscribe()
		return nil, err
	}
	ms.mu.Lock()
	if ms.closed { // removed, or overflowed while starting: more live events than the queue
		gone := ms.gone
		ms.mu.Unlock()
		sub.Unsubscribe()
		if gone {
			return nil, errConversationNotFound()
		}
		return nil, errBusy()
	}
	ms.open(len(backlog) + s.cfg.StreamQueue)
	ms.next = next
	ms.liveFrom = lastSeq + 1
	ms.ready = true
	early := ms.pending
	ms.pending = make(map[int64]T)
	for _, m := range backlog {
		ms.jump(ord.seq(m)) // over seqs purged since after
		ms.accept(m)
	}
	if complete {
		ms.jump(lastSeq + 1) // every seq up to the last one that the backlog lacks was purged
	} else {
		ms.fallBehind() // the rest is paged in by gap fills
	}
	for _, m := range early {
		ms.accept(m)
	}
	ms.mu.Unlock()
	s.feed.add(ms) // before stop can run, which removes it
	context.AfterFunc(ctx, ms.stop)
	if ms.hooks.Started != nil {
		ms.hooks.Started(ms.skip)
	}
	return ms.out, nil
}

// busyRetry is the wait suggested to a subscriber refused as too busy.
const busyRetry = time.Second

// errBusy refuses a subscription whose conversation sent more events while
// it started than its queue holds. Retryable: the burst passes.
func errBusy() error {
	return confab.Limited(busyRetry, "The conversation is too busy to subscribe right now.")
}

// resumePoint returns the first page of items to replay (at most
// StreamQueue), whether it is complete, the seq that follows after, and
// the conversation's last seq read before the page: a complete page holds
// every item up to it that still exists. Read after subscribing, the
// conversation also shows whether member was removed before the stream
// could hear of it (NOT_FOUND).
func resumePoint[T any](ctx context.Context, s *Service, ord *order[T], conversationID, member string, after *int64) (backlog []T, complete bool, next, lastSeq int64, err error) {
	c, err := s.store.GetConversation(ctx, conversationID)
	if err != nil {
		return nil, false, 0, 0, err
	}
	if c.Member(member) == nil {
		return nil, false, 0, 0, errConversationNotFound()
	}
	last := ord.last(c)
	if after == nil {
		return nil, true, last + 1, last, nil
	}
	if err := checkResume(s, ord, *after, last); err != nil {
		return nil, false, 0, 0, err
	}
	page := min(s.cfg.MaxResume, s.cfg.StreamQueue)
	backlog, err = ord.read(ctx, s.store, conversationID, *after, page)
	if err != nil {
		return nil, false, 0, 0, err
	}
	return backlog, len(backlog) < page, *after + 1, last, nil
}

// checkResume refuses a resume position (not negative) beyond the log's last one, or
// further behind it than MaxResume.
func checkResume[T any](s *Service, ord *order[T], after, last int64) error {
	if after > last {
		return confab.Errorf(confab.CodeInvalid, ord.beyond, last)
	}
	if last-after > int64(s.cfg.MaxResume) {
		return confab.Errorf(confab.CodeInvalid, ord.tooFar, s.cfg.MaxResume)
	}
	return nil
}

func (ms *orderedStream[T]) onEvent(ev *confab.Event) {
	if ms.removes(ev) {
		ms.mu.Lock()
		if !ms.closed {
			ms.gone = true
			ms.closed = ms.out == nil // starting: its start refuses the subscription
			if ms.out != nil {
				ms.stopLocked()
				go ms.svc.feed.remove(ms)
				go ms.sub.Unsubscribe() // the broker may be inside this very callback
			}
		}
		ms.mu.Unlock()
		return
	}
	m, ok := ms.ord.fromEvent(ev)
	if !ok {
		return
	}
	blocked := ms.blockList()
	ms.mu.Lock()
	defer ms.mu.Unlock()
	if ms.closed {
		return
	}
	if blocked != nil {
		ms.blocked = blocked
	}
	if !ms.ready {
		ms.hold(m)
		return
	}
	ms.accept(m)
}

// accept places m in order. Callers hold mu.
func (ms *orderedStream[T]) accept(m T) {
	seq := ms.ord.seq(m)
	switch {
	case ms.closed || seq < ms.next:
		return // already delivered
	case seq > ms.next:
		ms.hold(m)
		ms.armGapTimer()
		return
	}
	ms.emit(m)
	ms.drain()
}

// drain delivers the held items that follow on from next, and stops the
// gap timer once nothing is held and the stream is not behind. Callers hold
// mu.
func (ms *orderedStream[T]) drain() {
	for !ms.closed {
		p, ok := ms.pending[ms.next]
		if !ok {
			break
		}
		delete(ms.pending, ms.next)
		ms.emit(p)
	}
	if len(ms.pending) == 0 && !ms.behind && ms.gapTimer != nil {
		ms.gapTimer.Stop()
		ms.gapTimer = nil
	}
}

// jump moves next up to seq, over seqs that are gone for good (purged by
// retention), drops what is held below seq and delivers what is held from
// seq on. Callers hold mu.
//
// Only a store read proves a seq gone. Seqs are committed in order (a
// conversation's appends are serialised) and a read sees every commit that
// came before it, so a seq a read did not return is gone when it lies
// below a seq that read returned, below the LastSeq read before it, or
// below a held one (committed before it was published) when the read began
// after holding it and came back complete.
func (ms *orderedStream[T]) jump(seq int64) {
	if ms.closed || seq <= ms.next {
		return
	}
	for p := range ms.pending {
		if p < seq {
			delete(ms.pending, p)
		}
	}
	ms.next = seq
	ms.drain()
}

// hold keeps m until its turn. When pending is full a live stream drops m,
// which is in the store, and falls behind; a stream still starting has no
// position to read from yet, so it closes, which refuses the subscription
// (see evict). Nothing is held once closed. Callers hold mu.
func (ms *orderedStream[T]) hold(m T) {
	if len(ms.pending) < ms.svc.cfg.StreamQueue {
		ms.pending[ms.ord.seq(m)] = m
		return
	}
	if !ms.ready {
		ms.evict("too many events while subscribing")
		clear(ms.pending)
		return
	}
	ms.fallBehind()
}

// fallBehind notes that the store holds items to deliver that no event
// will bring, and schedules a fill to read them. Callers hold mu.
func (ms *orderedStream[T]) fallBehind() {
	ms.behind = true
	ms.armGapTimer()
}

// emit delivers the item at ms.next (hidden ones are skipped but their
// seq is consumed). Callers hold mu.
func (ms *orderedStream[T]) emit(m T) {
	seq := ms.ord.seq(m)
	ms.next = seq + 1
	if (ms.ord.hidden != nil && ms.ord.hidden(m)) || ms.hides(m) {
		return
	}
	if observe := ms.svc.observeLag; observe != nil && ms.ord.sentAt != nil && seq >= ms.liveFrom {
		observe(ms.svc.now().Sub(ms.ord.sentAt(m)))
	}
	ms.push(m)
}

// gapFillTimeout bounds one store read that fills a gap; on failure the
// timer is re-armed.
const gapFillTimeout = 5 * time.Second

func (ms *orderedStream[T]) armGapTimer() {
	if ms.gapTimer == nil {
		ms.gapTimer = time.AfterFunc(ms.svc.cfg.GapWait, ms.fillGap)
	}
}

// fillGap reads the items missing before the held ones, or the next
// page of a stream that is behind, from the store, and jumps over the seqs
// the read shows were purged (see jump). It reads no more than the
// subscriber's channel and queue have room for besides what is held, so a page never
// evicts a subscriber that takes its items.
func (ms *orderedStream[T]) fillGap() {
	ms.mu.Lock()
	ms.gapTimer = nil
	if ms.closed || (len(ms.pending) == 0 && !ms.behind) {
		ms.mu.Unlock()
		return
	}
	room := ms.room()
	limit := min(ms.svc.cfg.StreamQueue, room-len(ms.pending))
	if limit <= 0 {
		if ms.undelivered() { // the subscriber has not taken the last page yet
			ms.armGapTimer()
			ms.mu.Unlock()
			return
		}
		// What is held fills all the room: leave it to the store.
		clear(ms.pending)
		ms.behind = true
		limit = min(ms.svc.cfg.StreamQueue, room)
	}
	after := ms.next - 1
	held := slices.Sorted(maps.Keys(ms.pending))
	// An event dropped from now on may be committed after the read
	// begins: it sets behind again, for the next fill.
	wasBehind := ms.behind
	ms.behind = false
	ms.mu.Unlock()

	blocked := ms.blockList()
	ctx, cancel := context.WithTimeout(context.Background(), gapFillTimeout)
	msgs, err := ms.ord.read(ctx, ms.svc.store, ms.conversationID, after, limit)
	cancel()
	ms.mu.Lock()
	defer ms.mu.Unlock()
	if blocked != nil {
		ms.blocked = blocked
	}
	if err != nil {
		ms.svc.logger.Warn("gap fill failed", "log", ms.ord.name, "conversation_id", ms.conversationID, "err", err)
	}
	complete := err == nil && len(msgs) < limit
	if !complete && wasBehind {
		ms.behind = true // more to read
	}
	ms.take(msgs)
	if complete {
		// The read was complete, and every held seq was committed before
		// it began: whatever it lacked below a held seq was purged.
		for _, seq := range held {
			ms.jump(seq)
		}
	}
	if !ms.closed && (len(ms.pending) > 0 || ms.behind) {
		ms.armGapTimer()
	}
}

// hides reports whether m is about a message of a user the subscriber
// blocks, by the block list last seen (see blockList). Callers hold mu.
func (ms *orderedStream[T]) hides(m T) bool {
	if ms.ord.author == nil || len(ms.blocked) == 0 {
		return false
	}
	_, hide := ms.blocked[ms.ord.author(m)]
	return hide
}

// blockList returns the subscriber's block list from the service's cache,
// to be stored in blocked under mu; after a change dropped it, it is read
// again (one store read per user and node). Nil when that read failed:
// the list last seen serves. Callers do not hold mu (no store call under a
// stream's lock).
func (ms *orderedStream[T]) blockList() map[string]struct{} {
	if ms.ord.author == nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), blockReadTimeout)
	defer cancel()
	set, err := ms.svc.blockedBy(ctx, ms.member)
	if err != nil {
		ms.svc.logger.Warn("block list not read: the last one seen serves", "user_id", ms.member, "err", err)
		return nil
	}
	return set
}

// blockReadTimeout bounds the read of a block list a live stream makes
// after the list changed.
const blockReadTimeout = 2 * time.Second

// stopLocked stops the gap timer and closes the stream. Callers hold mu.
func (ms *orderedStream[T]) stopLocked() {
	if ms.gapTimer != nil {
		ms.gapTimer.Stop()
		ms.gapTimer = nil
	}
	ms.closeLocked()
}

func (ms *orderedStream[T]) stop() {
	ms.mu.Lock()
	ms.stopLocked()
	ms.mu.Unlock()
	ms.svc.feed.remove(ms)
	ms.sub.Unsubscribe()
}
