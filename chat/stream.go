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
// Overflow policy (evict, the one eviction path): when the channel is full
// the subscriber is too slow. The stream calls StreamHooks.Evict, closes
// the channel and unsubscribes; the client reconnects and resumes
// (onMessageSent's afterSeq, onConversationChanged's afterChange).
type stream[T any] struct {
	hooks confab.StreamHooks
	stats *counters

	mu     sync.Mutex
	out    chan T              // guarded by mu for send and close
	closed bool                // guarded by mu
	sub    confab.Subscription // set before any close can need it
	member string              // the subscriber, whose removal from the conversation ends the stream ("" for a user topic)
	gone   bool                // guarded by mu: ended because member was removed
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
		st.evict("slow consumer: too many undelivered events; reconnect and resume")
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
	return subscribeMember(ctx, s, topic, "", pick)
}

// subscribeMember is subscribeSimple on a conversation's topic for one of
// its members: the stream ends when they are removed from it.
func subscribeMember[T any](ctx context.Context, s *Service, topic, member string, pick func(*confab.Event) (T, bool)) (<-chan T, error) {
	st := &stream[T]{hooks: confab.StreamHooksFrom(ctx), stats: &s.stats, out: make(chan T, s.cfg.StreamQueue), member: member}
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
