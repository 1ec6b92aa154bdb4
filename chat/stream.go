package chat

import (
	"context"
	"sync"

	"github.com/confab-chat/confab"
)

// stream is the delivery end of one subscription: a bounded channel fed
// from broker callbacks, with no goroutine of its own. The transport learns
// of each item (and of the close) through the context's StreamHooks.Wake.
// It serves onConversationUpdated, onUserPresenceUpdated and
// onMessageDeleted as it is, and is the base of the ordered streams of
// onMessageSent and onConversationChanged (stream_ordered.go).
//
// Overflow policy (evict, the one eviction path): when the channel and
// queue hold their limit the subscriber is too slow. The stream calls
// StreamHooks.Evict, closes the channel and unsubscribes; the client
// reconnects and resumes (onMessageSent's afterSeq, onConversationChanged's
// afterChange).
//
// Memory: a transport that reads the channel one pull at a time
// (StreamHooks.Ready, the WebSocket engine) gets a channel of one item, and
// the items after it wait in queue, which grows on demand and is released
// when it empties. An idle subscription then holds no buffer of StreamQueue
// slots (1 KiB of pointers each, times every idle subscriber); the bound is
// the same either way (limit undelivered items, then evict).
type stream[T any] struct {
	hooks confab.StreamHooks
	stats *counters

	mu        sync.Mutex
	out       chan T              // guarded by mu for send and close
	queue     []T                 // guarded by mu: undelivered items behind the one in out, oldest first (see open)
	limit     int                 // guarded by mu: the most undelivered items, out and queue together (0: cap(out))
	closed    bool                // guarded by mu
	outClosed bool                // guarded by mu: out is closed (after closed, once queue is empty)
	sub       confab.Subscription // set before any close can need it
	member    string              // the subscriber, whose removal from the conversation ends the stream ("" for a user topic)
	gone      bool                // guarded by mu: ended because member was removed
}

// removes reports whether ev removes the subscriber from the conversation
// (a MEMBER_REMOVED change about them): then their stream ends at once, on
// every node, since the change reaches every subscriber of the topic.
func (st *stream[T]) removes(ev *confab.Event) bool {
	return st.member != "" && ev.Change != nil && ev.Change.Kind == confab.ChangeMemberRemoved && ev.Change.MemberID == st.member
}

// endRemoved ends the stream of a subscriber removed from the
// conversation (see removes). Callers hold st.mu.
func (st *stream[T]) endRemoved() {
	if st.closed {
		return
	}
	st.gone = true
	st.closeLocked()
	go st.sub.Unsubscribe() // the broker may be inside this very callback (see evict)
}

// open makes the channel for at most limit undelivered items: a channel of
// limit slots, or, for a transport that calls ready before each read
// (StreamHooks.Ready), a channel of one and a queue grown on demand.
// Callers hold st.mu or have not published st yet.
func (st *stream[T]) open(limit int) {
	st.limit = limit
	if st.hooks.Ready == nil || limit <= 1 {
		st.out = make(chan T, limit)
		return
	}
	st.out = make(chan T, 1)
	st.hooks.Ready(st.ready)
}

// room is how many more items the subscriber may leave undelivered before
// it is evicted. Callers hold st.mu.
func (st *stream[T]) room() int {
	return max(st.limit, cap(st.out)) - len(st.out) - len(st.queue)
}

// undelivered reports whether items wait for the subscriber. Callers hold
// st.mu.
func (st *stream[T]) undelivered() bool { return len(st.out) > 0 || len(st.queue) > 0 }

// push offers v to the subscriber without blocking. Callers hold st.mu.
func (st *stream[T]) push(v T) {
	if st.closed {
		return
	}
	switch {
	case len(st.queue) == 0 && len(st.out) < cap(st.out):
		st.out <- v
	case st.room() > 0:
		st.queue = append(st.queue, v)
	default:
		st.evict("slow consumer: too many undelivered events; reconnect and resume")
		return
	}
	st.stats.delivered.Add(1)
	if st.hooks.Wake != nil {
		st.hooks.Wake(v)
	}
}

// ready puts the oldest queued item on the channel for the transport's
// next read (StreamHooks.Ready), and closes the channel once the stream is
// closed and nothing is left to read.
func (st *stream[T]) ready() {
	st.mu.Lock()
	st.refill()
	st.mu.Unlock()
}

// refill is ready with st.mu held.
func (st *stream[T]) refill() {
	if len(st.out) == 0 && len(st.queue) > 0 {
		st.out <- st.queue[0]
		var zero T
		st.queue[0] = zero
		st.queue = st.queue[1:]
		if len(st.queue) == 0 {
			st.queue = nil // an idle stream keeps no backing array
		}
	}
	if st.closed && st.out != nil && len(st.queue) == 0 && !st.outClosed {
		st.outClosed = true
		close(st.out)
	}
}

// evict ends a subscriber that cannot keep up: its channel, or the
// messages an ordered stream holds back, overflowed. It is the one
// eviction path, counted in Stats.Evicted. A started stream asks the
// transport to evict (StreamHooks.Evict: the client reconnects and
// resumes), closes and unsubscribes. A stream still starting (an ordered
// stream before its start position is known, which has no channel yet) is
// only marked closed: its start then refuses the subscription (errBusy),
// and the transport answers that one subscription, not the whole
// connection. Callers hold st.mu.
func (st *stream[T]) evict(reason string) {
	if st.closed {
		return
	}
	st.stats.evicted.Add(1)
	if st.out == nil {
		st.closed = true
		return
	}
	if st.hooks.Evict != nil {
		st.hooks.Evict(reason)
	}
	st.closeLocked()
	// The broker may be inside this very callback: unsubscribe from
	// another goroutine so an implementation that waits for in-flight
	// deliveries cannot deadlock.
	go st.sub.Unsubscribe()
}

// closeLocked ends the stream. Callers hold st.mu.
func (st *stream[T]) closeLocked() {
	if st.closed {
		return
	}
	st.closed = true
	// A message stream creates out once its start is known; what is
	// queued is still read, through ready, before the close.
	st.refill()
	if st.hooks.Wake != nil {
		st.hooks.Wake(nil) // the transport reads the close and completes
	}
}

// skip takes the oldest undelivered item (StreamHooks.Started). It does
// not block: the caller knows an item is there.
func (st *stream[T]) skip() {
	st.mu.Lock()
	defer st.mu.Unlock()
	st.refill()
	select {
	case <-st.out:
	default:
	}
	st.refill() // closes out if that was the last item of a closed stream
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
	return subscribeMember(ctx, s, topic, "", pick)
}

// subscribeMember is subscribeSimple on a conversation's topic for one of
// its members: the stream ends when they are removed from it.
func subscribeMember[T any](ctx context.Context, s *Service, topic, member string, pick func(*confab.Event) (T, bool)) (<-chan T, error) {
	st := &stream[T]{hooks: confab.StreamHooksFrom(ctx), stats: &s.stats, member: member}
	st.open(s.cfg.StreamQueue)
	st.mu.Lock() // no delivery until sub is set
	defer st.mu.Unlock()
	sub, err := s.broker.Subscribe(topic, func(ev *confab.Event) {
		if st.removes(ev) {
			st.mu.Lock()
			st.endRemoved()
			st.mu.Unlock()
			return
		}
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
	return subscribeMember(ctx, s, confab.ConversationTopic(conversationID), caller.UserID, func(ev *confab.Event) (*confab.User, bool) {
		return ev.User, ev.Kind == confab.EventPresenceUpdated && ev.User != nil
	})
}

// OnMessageDeleted streams messages of a conversation of the caller as they
// are deleted.
func (s *Service) OnMessageDeleted(ctx context.Context, caller confab.Identity, conversationID string) (<-chan *confab.Message, error) {
	if err := s.requireMember(ctx, caller, conversationID); err != nil {
		return nil, err
	}
	return subscribeMember(ctx, s, confab.ConversationTopic(conversationID), caller.UserID, func(ev *confab.Event) (*confab.Message, bool) {
		return ev.Message, ev.Kind == confab.EventMessageDeleted && ev.Message != nil
	})
}
