package chat

import (
	"context"
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/confab-chat/confab"
)

// stream is the delivery end of one subscription: a bounded channel fed
// from broker callbacks, with no goroutine of its own. The transport learns
// of each item (and of the close) through the context's StreamHooks.Wake.
//
// Overflow policy: when the channel is full the subscriber is too slow. The
// stream calls StreamHooks.Evict, closes the channel and unsubscribes; the
// client reconnects and resumes (onMessageSent's afterSeq).
type stream[T any] struct {
	hooks confab.StreamHooks
	stats *counters

	mu     sync.Mutex
	out    chan T              // guarded by mu for send and close
	closed bool                // guarded by mu
	sub    confab.Subscription // set before any close can need it
}

// push offers v to the subscriber without blocking. Callers hold st.mu.
func (st *stream[T]) push(v T) {
	if st.closed {
		return
	}
	select {
	case st.out <- v:
		st.stats.delivered.Add(1)
		if st.hooks.Wake != nil {
			st.hooks.Wake(v)
		}
	default:
		st.stats.evicted.Add(1)
		if st.hooks.Evict != nil {
			st.hooks.Evict("slow consumer: too many undelivered events; reconnect and resume")
		}
		st.closeLocked()
		// The broker may be inside this very callback: unsubscribe from
		// another goroutine so an implementation that waits for in-flight
		// deliveries cannot deadlock.
		go st.sub.Unsubscribe()
	}
}

// closeLocked ends the stream. Callers hold st.mu.
func (st *stream[T]) closeLocked() {
	if st.closed {
		return
	}
	st.closed = true
	if st.out != nil { // a message stream creates out once its start is known
		close(st.out)
	}
	if st.hooks.Wake != nil {
		st.hooks.Wake(nil) // the transport reads the close and completes
	}
}

// skip takes the oldest item off the channel (StreamHooks.Started). It
// does not block: the caller knows an item is there.
func (st *stream[T]) skip() {
	select {
	case <-st.out:
	default:
	}
}

// close ends the stream when its context is done.
func (st *stream[T]) close() {
	st.mu.Lock()
	st.closeLocked()
	st.mu.Unlock()
	st.sub.Unsubscribe()
}

// subscribeSimple starts a stream of the events on topic that pick maps to a
// value (ok=false skips the event).
func subscribeSimple[T any](ctx context.Context, s *Service, topic string, pick func(*confab.Event) (T, bool)) (<-chan T, error) {
	st := &stream[T]{hooks: confab.StreamHooksFrom(ctx), stats: &s.stats, out: make(chan T, s.cfg.StreamQueue)}
	st.mu.Lock() // no delivery until sub is set
	defer st.mu.Unlock()
	sub, err := s.broker.Subscribe(topic, func(ev *confab.Event) {
		v, ok := pick(ev)
		if !ok {
			return
		}
		st.mu.Lock()
		st.push(v)
		st.mu.Unlock()
	})
	if err != nil {
		s.stats.brokerErrors.Add(1)
		return nil, err
	}
	st.sub = sub
	context.AfterFunc(ctx, st.close)
	if st.hooks.Started != nil {
		st.hooks.Started(st.skip)
	}
	return st.out, nil
}

// OnConversationUpdated streams the caller's conversations as they are
// created or changed. userID must be the caller's own.
func (s *Service) OnConversationUpdated(ctx context.Context, caller confab.Identity, userID string) (<-chan *confab.Conversation, error) {
	if err := s.requireSelf(caller, userID); err != nil {
		return nil, err
	}
	return subscribeSimple(ctx, s, confab.UserTopic(userID), func(ev *confab.Event) (*confab.Conversation, bool) {
		return ev.Conversation, ev.Kind == confab.EventConversationUpdated && ev.Conversation != nil
	})
}

// OnUserPresenceUpdated streams presence changes of the members of a
// conversation of the caller.
func (s *Service) OnUserPresenceUpdated(ctx context.Context, caller confab.Identity, conversationID string) (<-chan *confab.User, error) {
	if err := s.requireMember(ctx, caller, conversationID); err != nil {
		return nil, err
	}
	return subscribeSimple(ctx, s, confab.ConversationTopic(conversationID), func(ev *confab.Event) (*confab.User, bool) {
		return ev.User, ev.Kind == confab.EventPresenceUpdated && ev.User != nil
	})
}

// OnMessageDeleted streams messages of a conversation of the caller as they
// are deleted.
func (s *Service) OnMessageDeleted(ctx context.Context, caller confab.Identity, conversationID string) (<-chan *confab.Message, error) {
	if err := s.requireMember(ctx, caller, conversationID); err != nil {
		return nil, err
	}
	return subscribeSimple(ctx, s, confab.ConversationTopic(conversationID), func(ev *confab.Event) (*confab.Message, bool) {
		return ev.Message, ev.Kind == confab.EventMessageDeleted && ev.Message != nil
	})
}

// messageStream delivers one conversation's messages in seq order with no
// gaps and no duplicates. Broker events may arrive out of order (concurrent
// senders publish independently; other nodes relay through NATS): an early
// event waits in pending, and a gap not filled within GapWait is read from
// the store.
//
// Seqs that retention purged never arrive: the store reads tell them apart
// from late ones, and the stream jumps over them (see jump).
type messageStream struct {
	stream[*confab.Message]
	svc            *Service
	conversationID string

	liveFrom int64                     // guarded by mu: seqs from here on were sent after the stream started (their lag is observed)
	next     int64                     // guarded by mu: seq to deliver next
	ready    bool                      // guarded by mu: start position known; events flow
	pending  map[int64]*confab.Message // guarded by mu: arrived ahead of next
	gapTimer *time.Timer               // guarded by mu: armed while a gap is open
}

// OnMessageSent streams the messages of a conversation of the caller in seq
// order. With afterSeq it first replays every message after that seq (at
// most MaxResume; further behind is BAD_USER_INPUT) and then goes live, with
// nothing missed or repeated in between.
func (s *Service) OnMessageSent(ctx context.Context, caller confab.Identity, conversationID string, afterSeq *int64) (<-chan *confab.Message, error) {
	if err := s.requireMember(ctx, caller, conversationID); err != nil {
		return nil, err
	}
	if afterSeq != nil && *afterSeq < 0 {
		return nil, confab.Errorf(confab.CodeInvalid, "afterSeq must not be negative.")
	}
	ms := &messageStream{svc: s, conversationID: conversationID, pending: make(map[int64]*confab.Message)}
	ms.hooks = confab.StreamHooksFrom(ctx)
	ms.stats = &s.stats

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

	backlog, next, lastSeq, err := s.resumePoint(ctx, conversationID, afterSeq)
	if err != nil {
		sub.Unsubscribe()
		return nil, err
	}
	ms.mu.Lock()
	if ms.closed { // overflowed while starting: more live events than the queue
		ms.mu.Unlock()
		sub.Unsubscribe()
		return nil, errBusy()
	}
	ms.out = make(chan *confab.Message, len(backlog)+s.cfg.StreamQueue)
	ms.next = next
	ms.liveFrom = lastSeq + 1
	ms.ready = true
	early := ms.pending
	ms.pending = make(map[int64]*confab.Message)
	for _, m := range backlog {
		ms.jump(m.Seq) // over seqs purged since afterSeq
		ms.accept(m)
	}
	ms.jump(lastSeq + 1) // every seq up to LastSeq that the backlog lacks was purged
	for _, m := range early {
		ms.accept(m)
	}
	ms.mu.Unlock()
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

// resumePoint returns the messages to replay, the seq that follows them,
// and the conversation's LastSeq read before them: the backlog holds every
// message up to it that still exists.
func (s *Service) resumePoint(ctx context.Context, conversationID string, afterSeq *int64) (backlog []*confab.Message, next, lastSeq int64, err error) {
	c, err := s.store.GetConversation(ctx, conversationID)
	if err != nil {
		return nil, 0, 0, err
	}
	if afterSeq == nil {
		return nil, c.LastSeq + 1, c.LastSeq, nil
	}
	if *afterSeq > c.LastSeq {
		return nil, 0, 0, confab.Errorf(confab.CodeInvalid, "afterSeq is beyond the newest message (seq %d).", c.LastSeq)
	}
	if c.LastSeq-*afterSeq > int64(s.cfg.MaxResume) {
		return nil, 0, 0, confab.Errorf(confab.CodeInvalid, "More than %d messages were sent after afterSeq; page with listMessages, then subscribe with a newer afterSeq.", s.cfg.MaxResume)
	}
	backlog, err = s.store.ListMessagesAfter(ctx, conversationID, *afterSeq, s.cfg.MaxResume)
	if err != nil {
		return nil, 0, 0, err
	}
	return backlog, *afterSeq + 1, c.LastSeq, nil
}

func (ms *messageStream) onEvent(ev *confab.Event) {
	if ev.Kind != confab.EventMessageSent || ev.Message == nil {
		return
	}
	ms.mu.Lock()
	defer ms.mu.Unlock()
	if ms.closed {
		return
	}
	if !ms.ready {
		ms.hold(ev.Message)
		return
	}
	ms.accept(ev.Message)
}

// accept places m in order. Callers hold mu.
func (ms *messageStream) accept(m *confab.Message) {
	switch {
	case ms.closed || m.Seq < ms.next:
		return // already delivered
	case m.Seq > ms.next:
		ms.hold(m)
		ms.armGapTimer()
		return
	}
	ms.emit(m)
	ms.drain()
}

// drain delivers the held messages that follow on from next, and stops the
// gap timer once nothing is held. Callers hold mu.
func (ms *messageStream) drain() {
	for !ms.closed {
		p, ok := ms.pending[ms.next]
		if !ok {
			break
		}
		delete(ms.pending, ms.next)
		ms.emit(p)
	}
	if len(ms.pending) == 0 && ms.gapTimer != nil {
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
func (ms *messageStream) jump(seq int64) {
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

// hold keeps m until its turn. Too many held means the gap is not closing
// fast enough for this subscriber: evict it. While the stream starts there
// is nothing to evict yet: it is only marked closed, and OnMessageSent
// refuses this one subscription (the transport must not drop the client's
// whole connection for it). Callers hold mu.
func (ms *messageStream) hold(m *confab.Message) {
	if len(ms.pending) >= ms.svc.cfg.StreamQueue && !ms.ready {
		ms.stats.evicted.Add(1)
		ms.closed = true
		clear(ms.pending)
		return
	}
	if len(ms.pending) >= ms.svc.cfg.StreamQueue {
		ms.stats.evicted.Add(1)
		if ms.hooks.Evict != nil {
			ms.hooks.Evict("slow consumer: too many out-of-order events; reconnect and resume")
		}
		ms.closeLocked()
		go ms.sub.Unsubscribe()
		return
	}
	ms.pending[m.Seq] = m
}

// emit delivers the message at ms.next (deleted ones are skipped but their
// seq is consumed). Callers hold mu.
func (ms *messageStream) emit(m *confab.Message) {
	ms.next = m.Seq + 1
	if !m.Deleted {
		if observe := ms.svc.observeLag; observe != nil && m.Seq >= ms.liveFrom {
			observe(ms.svc.now().Sub(m.CreatedAt))
		}
		ms.push(m)
	}
}

// gapFillTimeout bounds one store read that fills a gap; on failure the
// timer is re-armed.
const gapFillTimeout = 5 * time.Second

func (ms *messageStream) armGapTimer() {
	if ms.gapTimer == nil {
		ms.gapTimer = time.AfterFunc(ms.svc.cfg.GapWait, ms.fillGap)
	}
}

// fillGap reads the messages missing before the held ones from the store,
// and jumps over the seqs the read shows were purged (see jump).
func (ms *messageStream) fillGap() {
	ms.mu.Lock()
	ms.gapTimer = nil
	if ms.closed || len(ms.pending) == 0 {
		ms.mu.Unlock()
		return
	}
	after := ms.next - 1
	held := slices.Sorted(maps.Keys(ms.pending))
	ms.mu.Unlock()

	limit := ms.svc.cfg.StreamQueue
	ctx, cancel := context.WithTimeout(context.Background(), gapFillTimeout)
	msgs, err := ms.svc.store.ListMessagesAfter(ctx, ms.conversationID, after, limit)
	cancel()
	ms.mu.Lock()
	defer ms.mu.Unlock()
	if err != nil {
		ms.svc.logger.Warn("gap fill failed", "conversation_id", ms.conversationID, "err", err)
	}
	for _, m := range msgs {
		ms.jump(m.Seq)
		ms.accept(m)
	}
	if err == nil && len(msgs) < limit {
		// The read was complete, and every held seq was committed before
		// it began: whatever it lacked below a held seq was purged.
		for _, seq := range held {
			ms.jump(seq)
		}
	}
	if !ms.closed && len(ms.pending) > 0 {
		ms.armGapTimer()
	}
}

func (ms *messageStream) stop() {
	ms.mu.Lock()
	if ms.gapTimer != nil {
		ms.gapTimer.Stop()
		ms.gapTimer = nil
	}
	ms.closeLocked()
	ms.mu.Unlock()
	ms.sub.Unsubscribe()
}
