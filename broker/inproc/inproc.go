// Package inproc is the single-node Broker: a hub of topics, sharded by
// topic hash so publishers on different conversations do not contend.
// Publish calls each subscriber's deliver callback synchronously on the
// publisher's goroutine; subscribers queue for themselves and never block
// (the confab.Broker contract). It starts no goroutines, none per
// subscription. It passes broker/brokertest. It holds no business rules
// and never looks inside an event.
//
// Lock order (a goroutine holding one of these takes only those below it):
//
//	shard.mu   guards one shard's topic table (copy-on-write slices)
//	sub.mu     held while delivering to that subscription
//
// Publish copies the topic's subscriber slice under shard.mu (read) and
// releases it before delivering, so a deliver callback never runs under a
// shard lock and a slow callback delays only its own topic's publisher.
// Each delivery holds that subscription's mu and checks its done flag, so
// Unsubscribe (which sets done under mu) waits for a delivery in flight
// and none follows it. Close sets done on every subscription the same way.
// Consequently Unsubscribe and Close must not be called from inside a
// deliver callback of the subscription they would wait for (they would
// wait on themselves); hand them to another goroutine instead.
//
// Broker.closed is an atomic flag, so the publish path takes no lock shared
// across shards. Subscribe re-checks it under the shard lock, and Close sets
// it before sweeping the shards, so no subscription survives Close.
package inproc

import (
	"context"
	"hash/maphash"
	"sync"
	"sync/atomic"

	"github.com/confab-chat/confab"
)

// shardCount is the number of independently locked topic tables. A power
// of two well above the core count keeps two busy topics apart with high
// probability.
const shardCount = 64

// ErrClosed is returned by Publish, Subscribe and Ping after Close. It is
// a *confab.Error with CodeUnavailable, the answer broker/nats gives too
// (brokertest pins it), so a closed broker reaches a client as a retryable
// UNAVAILABLE, never as INTERNAL.
var ErrClosed error = &confab.Error{Code: confab.CodeUnavailable, Message: "The event broker is closed.", Op: "inproc"}

// Broker is an in-process confab.Broker. Its zero value is not usable; call
// New.
type Broker struct {
	seed   maphash.Seed
	closed atomic.Bool
	shards [shardCount]shard
}

type shard struct {
	mu     sync.RWMutex
	topics map[string][]*sub // guarded by mu; a stored slice is never modified (copy-on-write)
	_      [32]byte          // pads the shard to 64 bytes, so neighbouring shards' locks do not share a cache line
}

// sub is one subscription. b, topic and deliver never change.
type sub struct {
	b       *Broker
	topic   string
	deliver func(*confab.Event)
	mu      sync.Mutex
	done    bool // guarded by mu: no delivery may start once set
}

var _ confab.Broker = (*Broker)(nil)

// New returns an empty, open Broker.
func New() *Broker {
	b := &Broker{seed: maphash.MakeSeed()}
	for i := range b.shards {
		b.shards[i].topics = make(map[string][]*sub)
	}
	return b
}

func (b *Broker) shard(topic string) *shard {
	return &b.shards[maphash.String(b.seed, topic)%shardCount]
}

// Publish delivers ev to the topic's current subscribers, one after the
// other, on the caller's goroutine, and returns when each has been called.
// Events one goroutine publishes on a topic therefore reach each subscriber
// in publish order. A subscription added during a Publish may or may not
// receive that event. It returns ErrClosed after Close.
func (b *Broker) Publish(_ context.Context, topic string, ev *confab.Event) error {
	if b.closed.Load() {
		return ErrClosed
	}
	sh := b.shard(topic)
	sh.mu.RLock()
	subs := sh.topics[topic]
	sh.mu.RUnlock()
	for _, s := range subs {
		s.send(ev)
	}
	return nil
}

// send calls deliver unless the subscription has ended. The deferred
// unlock keeps the subscription usable (and Unsubscribe from hanging) if
// deliver panics.
func (s *sub) send(ev *confab.Event) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.done {
		s.deliver(ev)
	}
}

// Subscribe registers deliver for topic; every event published after it
// returns reaches deliver until Unsubscribe. deliver must not block. It
// returns ErrClosed after Close.
func (b *Broker) Subscribe(topic string, deliver func(*confab.Event)) (confab.Subscription, error) {
	if deliver == nil {
		panic("inproc: Subscribe with a nil deliver")
	}
	s := &sub{b: b, topic: topic, deliver: deliver}
	sh := b.shard(topic)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if b.closed.Load() { // under the shard lock: Close sweeps after setting it
		return nil, ErrClosed
	}
	old := sh.topics[topic]
	next := make([]*sub, len(old), len(old)+1)
	copy(next, old)
	sh.topics[topic] = append(next, s)
	return s, nil
}

// Unsubscribe stops delivery. It waits for a delivery in flight to this
// subscription, so deliver is never called after it returns. It is
// idempotent, and must not be called from inside this subscription's own
// deliver callback.
func (s *sub) Unsubscribe() {
	s.mu.Lock()
	if s.done {
		s.mu.Unlock()
		return
	}
	s.done = true
	s.mu.Unlock()

	sh := s.b.shard(s.topic)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	old := sh.topics[s.topic]
	next := make([]*sub, 0, len(old))
	for _, o := range old {
		if o != s {
			next = append(next, o)
		}
	}
	if len(next) == 0 {
		delete(sh.topics, s.topic)
	} else {
		sh.topics[s.topic] = next
	}
}

// Ping returns nil while the broker is open and ErrClosed after Close.
func (b *Broker) Ping(context.Context) error {
	if b.closed.Load() {
		return ErrClosed
	}
	return nil
}

// Close ends every subscription (waiting for deliveries in flight, so none
// follows) and makes later Publish, Subscribe and Ping return ErrClosed.
// It is idempotent and always returns nil.
func (b *Broker) Close() error {
	b.closed.Store(true)
	for i := range b.shards {
		sh := &b.shards[i]
		sh.mu.Lock()
		for _, subs := range sh.topics {
			for _, s := range subs {
				s.mu.Lock()
				s.done = true
				s.mu.Unlock()
			}
		}
		clear(sh.topics)
		sh.mu.Unlock()
	}
	return nil
}
