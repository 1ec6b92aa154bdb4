package chat

import (
	"context"
	"sync"
	"time"
)

// outagePoll is how often, while the broker is down, each conversation
// with live ordered streams on this node is read from the store.
const outagePoll = 250 * time.Millisecond

// connectionWatcher is a broker that can lose events while its connection
// is down and says when that starts and ends (broker/nats). See
// nats.Broker.WatchConnection.
type connectionWatcher interface {
	WatchConnection(func(up bool))
}

// storeFeed feeds this node's live ordered streams (messages and changes)
// from the store while the broker is down, so a broker outage looks to
// subscribers like a slower broker, not like a reason to reconnect: every
// outagePoll it reads each log (a conversation's messages or changes) that
// has live streams, once for all of them, from the lowest position among
// them, and hands the items to each stream as a gap fill would. After the
// broker is back it reads once more, since the events of writes committed
// between the last read and the broker's return are lost.
//
// Locks: storeFeed.mu is a leaf. A stream registers and unregisters
// without holding its own mu, and the feed takes a stream's mu only with
// its own free.
type storeFeed struct {
	svc *Service

	mu      sync.Mutex
	streams map[feedKey]map[feeder]struct{} // guarded by mu: live streams by log
	down    bool                            // guarded by mu: the broker is down
	again   bool                            // guarded by mu: the broker's status changed since the running read began
	polling bool                            // guarded by mu: a read is scheduled or running
}

// feedKey names one log of one conversation: the streams that share it
// are fed by one read.
type feedKey struct{ conversationID, log string }

// feeder is a live ordered stream as the feed sees it (orderedStream).
type feeder interface {
	// key is the log the stream follows.
	key() feedKey
	// position is the seq the stream delivered last; false once closed.
	position() (int64, bool)
	// readAfter reads the log after a position and returns what hands the
	// items read to a stream of the same key.
	readAfter(ctx context.Context, after int64, limit int) (func(feeder), error)
}

// watchBroker starts feeding streams from the store during the broker's
// outages, if the broker tells of them.
func (s *Service) watchBroker() {
	s.feed.svc = s
	s.feed.streams = make(map[feedKey]map[feeder]struct{})
	if w, ok := s.broker.(connectionWatcher); ok {
		w.WatchConnection(s.feed.setUp)
	}
}

// add registers a live stream.
func (f *storeFeed) add(ms feeder) {
	f.mu.Lock()
	defer f.mu.Unlock()
	k := ms.key()
	set := f.streams[k]
	if set == nil {
		set = make(map[feeder]struct{})
		f.streams[k] = set
	}
	set[ms] = struct{}{}
}

// remove unregisters a stream.
func (f *storeFeed) remove(ms feeder) {
	f.mu.Lock()
	defer f.mu.Unlock()
	k := ms.key()
	set := f.streams[k]
	delete(set, ms)
	if len(set) == 0 {
		delete(f.streams, k)
	}
}

// setUp is the broker's connection status: down starts the reads, up ends
// them after one more.
func (f *storeFeed) setUp(up bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if up {
		f.svc.logger.Info("broker back: subscribers are fed by events again")
	} else {
		f.svc.logger.Warn("broker down: feeding subscribers from the store; failed publishes are not logged until it is back")
	}
	f.down, f.again = !up, true
	if !f.polling {
		f.polling = true
		time.AfterFunc(0, f.poll)
	}
}

// brokerDown reports whether the broker said it is down and not yet back.
func (f *storeFeed) brokerDown() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.down
}

// poll reads every log with live streams once, then schedules the
// next read while the broker is down (or changed status meanwhile).
func (f *storeFeed) poll() {
	f.mu.Lock()
	f.again = false
	logs := make(map[feedKey][]feeder, len(f.streams))
	for k, set := range f.streams {
		for ms := range set {
			logs[k] = append(logs[k], ms)
		}
	}
	f.mu.Unlock()

	for k, streams := range logs {
		f.read(k, streams)
	}

	f.mu.Lock()
	defer f.mu.Unlock()
	switch {
	case f.svc.closed.Load() || (!f.down && !f.again):
		f.polling = false
	case f.down:
		time.AfterFunc(outagePoll, f.poll)
	default: // came back during the read: read once more now
		time.AfterFunc(0, f.poll)
	}
}

// read gives the streams of one log what the store holds after the lowest
// of their positions.
func (f *storeFeed) read(k feedKey, streams []feeder) {
	after := int64(-1)
	for _, ms := range streams {
		if p, ok := ms.position(); ok && (after < 0 || p < after) {
			after = p
		}
	}
	if after < 0 {
		return // all closed
	}
	ctx, cancel := context.WithTimeout(context.Background(), gapFillTimeout)
	deliver, err := streams[0].readAfter(ctx, after, f.svc.cfg.StreamQueue)
	cancel()
	if err != nil {
		f.svc.logger.Warn("store read during a broker outage failed", "log", k.log, "conversation_id", k.conversationID, "err", err)
		return
	}
	for _, ms := range streams {
		deliver(ms)
	}
}

func (ms *orderedStream[T]) key() feedKey { return feedKey{ms.conversationID, ms.ord.name} }

func (ms *orderedStream[T]) position() (int64, bool) {
	ms.mu.Lock()
	defer ms.mu.Unlock()
	return ms.next - 1, !ms.closed
}

func (ms *orderedStream[T]) readAfter(ctx context.Context, after int64, limit int) (func(feeder), error) {
	items, err := ms.ord.read(ctx, ms.svc.store, ms.conversationID, after, limit)
	if err != nil {
		return nil, err
	}
	return func(f feeder) {
		o := f.(*orderedStream[T]) // the same key: the same order
		o.mu.Lock()
		o.take(items)
		o.mu.Unlock()
	}, nil
}

// take places items read from the store, in seq order, by a read that
// began at or below next-1, so a seq it skipped is gone (see jump). It
// stops when the subscriber's channel and queue are full and leaves the rest to a
// gap fill (behind), rather than evicting a subscriber that the store
// outpaced. Callers hold mu.
func (ms *orderedStream[T]) take(items []T) {
	for _, m := range items {
		if ms.closed {
			return
		}
		seq := ms.ord.seq(m)
		if seq >= ms.next && ms.room() <= 0 {
			ms.fallBehind()
			return
		}
		ms.jump(seq)
		ms.accept(m)
	}
}
