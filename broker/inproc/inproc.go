// Package inproc is the single-node Broker: a hub of topics, sharded so
// publishers on different conversations do not contend. Publish calls each
// subscriber's deliver callback on the publisher's goroutine; subscribers
// queue for themselves and never block (the confab.Broker contract). It
// starts no goroutines. It passes broker/brokertest.
//
// Lock order: shard.mu, then sub.mu. Publish copies the subscriber list
// under shard.mu and releases it before delivering; each delivery holds only
// that subscription's mu, so Unsubscribe can wait for an in-flight delivery
// (and guarantee none follows) without blocking other topics.
package inproc

import (
	"context"
	"errors"
	"hash/maphash"
	"sync"

	"github.com/confab-chat/confab"
)

const shardCount = 64

// ErrClosed is returned by Publish and Subscribe after Close.
var ErrClosed = errors.New("inproc: broker closed")

// Broker is an in-process confab.Broker.
type Broker struct {
	seed   maphash.Seed
	shards [shardCount]shard
	mu     sync.RWMutex
	closed bool // guarded by mu
}

type shard struct {
	mu     sync.RWMutex
	topics map[string][]*sub // guarded by mu; slices are copy-on-write
}

type sub struct {
	b       *Broker
	topic   string
	deliver func(*confab.Event)
	mu      sync.Mutex
	done    bool // guarded by mu
}

var _ confab.Broker = (*Broker)(nil)

// New returns an empty Broker.
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

func (b *Broker) isClosed() bool {
	b.mu.RLock()
	defer b.mu.RUnlock()
	return b.closed
}

// Publish delivers ev to the topic's current subscribers, in order, on the
// caller's goroutine.
func (b *Broker) Publish(_ context.Context, topic string, ev *confab.Event) error {
	if b.isClosed() {
		return ErrClosed
	}
	sh := b.shard(topic)
	sh.mu.RLock()
	subs := sh.topics[topic]
	sh.mu.RUnlock()
	for _, s := range subs {
		s.mu.Lock()
		if !s.done {
			s.deliver(ev)
		}
		s.mu.Unlock()
	}
	return nil
}

// Subscribe registers deliver for topic.
func (b *Broker) Subscribe(topic string, deliver func(*confab.Event)) (confab.Subscription, error) {
	if b.isClosed() {
		return nil, ErrClosed
	}
	s := &sub{b: b, topic: topic, deliver: deliver}
	sh := b.shard(topic)
	sh.mu.Lock()
	old := sh.topics[topic]
	next := make([]*sub, len(old), len(old)+1)
	copy(next, old)
	sh.topics[topic] = append(next, s)
	sh.mu.Unlock()
	return s, nil
}

// Unsubscribe stops delivery; it waits for a delivery in flight to this
// subscription, so none happens after it returns. It must not be called
// from inside this subscription's own deliver callback.
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

// Ping reports whether the broker is open.
func (b *Broker) Ping(context.Context) error {
	if b.isClosed() {
		return ErrClosed
	}
	return nil
}

// Close drops every subscriber; later calls return ErrClosed.
func (b *Broker) Close() error {
	b.mu.Lock()
	b.closed = true
	b.mu.Unlock()
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
