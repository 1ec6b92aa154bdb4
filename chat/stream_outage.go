package chat

import (
	"context"
	"sync"
	"time"

	"github.com/confab-chat/confab"
)

// outagePoll is how often, while the broker is down, each conversation
// with live message streams on this node is read from the store.
const outagePoll = 250 * time.Millisecond

// connectionWatcher is a broker that can lose events while its connection
// is down and says when that starts and ends (broker/nats). See
// nats.Broker.WatchConnection.
type connectionWatcher interface {
	WatchConnection(func(up bool))
}

// storeFeed feeds this node's live message streams from the store while
// the broker is down, so a broker outage looks to subscribers like a
// slower broker, not like a reason to reconnect: every outagePoll it reads
// each conversation that has live streams, once for all of them, from the
// lowest position among them, and hands the messages to each stream as a
// gap fill would. After the broker is back it reads once more, since the
// events of messages committed between the last read and the broker's
// return are lost.
//
// Locks: storeFeed.mu is a leaf. A stream registers and unregisters
// without holding its own mu, and the feed takes a stream's mu only with
// its own free.
type storeFeed struct {
	svc *Service

	mu      sync.Mutex
	streams map[string]map[*messageStream]struct{} // guarded by mu: live streams by conversation
	down    bool                                   // guarded by mu: the broker is down
	again   bool                                   // guarded by mu: the broker's status changed since the running read began
	polling bool                                   // guarded by mu: a read is scheduled or running
}

// watchBroker starts feeding streams from the store during the broker's
// outages, if the broker tells of them.
func (s *Service) watchBroker() {
	s.feed.svc = s
	s.feed.streams = make(map[string]map[*messageStream]struct{})
	if w, ok := s.broker.(connectionWatcher); ok {
		w.WatchConnection(s.feed.setUp)
	}
}

// add registers a live stream.
func (f *storeFeed) add(ms *messageStream) {
	f.mu.Lock()
	defer f.mu.Unlock()
	set := f.streams[ms.conversationID]
	if set == nil {
		set = make(map[*messageStream]struct{})
		f.streams[ms.conversationID] = set
	}
	set[ms] = struct{}{}
}

// remove unregisters a stream.
func (f *storeFeed) remove(ms *messageStream) {
	f.mu.Lock()
	defer f.mu.Unlock()
	set := f.streams[ms.conversationID]
	delete(set, ms)
	if len(set) == 0 {
		delete(f.streams, ms.conversationID)
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

// poll reads every conversation with live streams once, then schedules the
// next read while the broker is down (or changed status meanwhile).
func (f *storeFeed) poll() {
	f.mu.Lock()
	f.again = false
	convs := make(map[string][]*messageStream, len(f.streams))
	for id, set := range f.streams {
		for ms := range set {
			convs[id] = append(convs[id], ms)
		}
	}
	f.mu.Unlock()

	for id, streams := range convs {
		f.read(id, streams)
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

// read gives the streams of one conversation what the store holds after
// the lowest of their positions.
func (f *storeFeed) read(conversationID string, streams []*messageStream) {
	after := int64(-1)
	for _, ms := range streams {
		ms.mu.Lock()
		if !ms.closed && (after < 0 || ms.next-1 < after) {
			after = ms.next - 1
		}
		ms.mu.Unlock()
	}
	if after < 0 {
		return // all closed
	}
	ctx, cancel := context.WithTimeout(context.Background(), gapFillTimeout)
	msgs, err := f.svc.store.ListMessagesAfter(ctx, conversationID, after, f.svc.cfg.StreamQueue)
	cancel()
	if err != nil {
		f.svc.logger.Warn("store read during a broker outage failed", "conversation_id", conversationID, "err", err)
		return
	}
	for _, ms := range streams {
		ms.mu.Lock()
		ms.take(msgs)
		ms.mu.Unlock()
	}
}

// take places messages read from the store, in seq order, by a read that
// began at or below next-1, so a seq it skipped is gone (see jump). It
// stops when the subscriber's channel is full and leaves the rest to a
// gap fill (behind), rather than evicting a subscriber that the store
// outpaced. Callers hold mu.
func (ms *messageStream) take(msgs []*confab.Message) {
	for _, m := range msgs {
		if ms.closed {
			return
		}
		if m.Seq >= ms.next && len(ms.out) == cap(ms.out) {
			ms.fallBehind()
			return
		}
		ms.jump(m.Seq)
		ms.accept(m)
	}
}
