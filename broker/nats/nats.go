// Package nats is the multi-node confab.Broker: it relays events between
// nodes over NATS subjects and delivers them locally through an in-process
// hub (broker/inproc). It passes broker/brokertest.
//
// A topic "conv.<id>" is the subject "confab.conv.<id>" (subject.go);
// events travel as versioned JSON (codec.go). Each node holds one NATS
// subscription per topic that has local subscribers, counted, and drops it
// when the last local subscriber leaves. An event published on a node comes
// back to that node through its own subscription (NATS echo), so local and
// remote subscribers see one stream in one order.
//
// Ordering: NATS keeps the order of the messages one connection publishes
// on one subject, and a node publishes through one connection, so events
// published from one goroutine reach every subscriber, on every node, in
// publish order, as the Broker contract asks. Across publishers and nodes
// no order is promised; consumers order by Message.Seq and fill gaps from
// the Store.
//
// Outages: while the connection is down, events published on any node do
// not reach this node's subscribers (each node's client buffers what it
// publishes and sends it on reconnect, but what another node published
// while only this one was cut off is lost to it). WatchConnection tells a
// consumer when that starts and ends, so it can read from the Store
// meanwhile (chat does) instead of waiting for events that will not come.
//
// Goroutines: the broker starts none itself. The NATS connection runs its
// reader, its flusher and one goroutine per subscription (which decodes
// each event once and hands it to the hub); Close stops them all.
//
// Locks: Broker.mu guards the topic table and the connection watchers.
// Under it the broker only calls the NATS client to add or drop a
// subscription (which takes the client's own locks and never waits on a
// handler); the hub (inproc documents its
// locks) is never called under it, nor is a watcher. The NATS message
// handlers take only the hub's locks, never Broker.mu; the connection
// handlers take it only to copy the watchers.
package nats

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/confab-chat/confab"
	"github.com/confab-chat/confab/broker/inproc"
	natsgo "github.com/nats-io/nats.go"
)

// Broker is a confab.Broker over one NATS connection.
type Broker struct {
	nc     *natsgo.Conn
	hub    *inproc.Broker
	logger *slog.Logger

	mu       sync.Mutex
	topics   map[string]*topic // guarded by mu: topics with local subscribers
	gen      uint64            // guarded by mu: numbers each topic's hub key
	closed   bool              // guarded by mu
	watchers []func(up bool)   // guarded by mu: WatchConnection's
}

// topic is one NATS subscription and the local subscribers it feeds.
type topic struct {
	// key is the topic's name in the hub, unique to this NATS subscription:
	// after a topic is dropped and subscribed again, an event still in the
	// old subscription's handler goes to the old key, which nobody
	// subscribes, instead of reaching a subscriber that came later.
	key     string
	sub     *natsgo.Subscription
	refs    int         // guarded by Broker.mu: local subscribers, and those being added
	flushed atomic.Bool // the server has the subscription
}

var _ confab.Broker = (*Broker)(nil)

// Default timeouts, used when the caller's context has no earlier deadline.
const (
	// flushTimeout bounds the round trip by which Publish, Subscribe and
	// Ping make sure the server has what was sent. When it passes, the call
	// returns CodeUnavailable.
	flushTimeout = 5 * time.Second
)

// Option configures Open.
type Option func(*options)

type options struct {
	logger *slog.Logger
	nats   []natsgo.Option
}

// WithLogger sets the logger for connection events (disconnects,
// reconnects, slow-consumer drops) and undecodable events. The default
// discards them.
func WithLogger(l *slog.Logger) Option { return func(o *options) { o.logger = l } }

// WithNATSOptions adds options of the NATS client, such as credentials,
// TLS or reconnect timing. They apply after the broker's own (a name,
// unlimited reconnects, and handlers that log), so they can override them.
func WithNATSOptions(opts ...natsgo.Option) Option {
	return func(o *options) { o.nats = append(o.nats, opts...) }
}

// Open connects to the NATS server(s) at url (comma-separated for a
// cluster). The connection reconnects forever: while it is down, Publish,
// Ping and Subscribe to a topic this node does not follow yet return
// CodeUnavailable, and existing subscriptions resume when it is back
// (events in between are lost; consumers recover from the Store). A server
// that cannot be reached at Open is CodeUnavailable.
func Open(url string, opts ...Option) (*Broker, error) {
	o := options{logger: slog.New(slog.DiscardHandler)}
	for _, opt := range opts {
		opt(&o)
	}
	b := &Broker{hub: inproc.New(), logger: o.logger, topics: make(map[string]*topic)}
	nopts := append([]natsgo.Option{
		natsgo.Name("confab"),
		natsgo.MaxReconnects(-1),
		natsgo.DisconnectErrHandler(func(nc *natsgo.Conn, err error) {
			b.logger.Warn("nats disconnected", "url", nc.ConnectedUrlRedacted(), "err", err)
			b.notify(false)
		}),
		natsgo.ReconnectHandler(func(nc *natsgo.Conn) {
			b.logger.Info("nats reconnected", "url", nc.ConnectedUrlRedacted())
			// The client sent its subscriptions again before calling this;
			// one round trip makes sure the server has them, so whatever a
			// watcher reads from the Store after hearing "up" is followed
			// by every later event.
			if err := nc.FlushTimeout(flushTimeout); err != nil {
				b.logger.Warn("nats reconnected, flush failed", "err", err)
				return // the next disconnect, then reconnect, tells again
			}
			b.notify(true)
		}),
		natsgo.ErrorHandler(func(_ *natsgo.Conn, sub *natsgo.Subscription, err error) {
			subj := ""
			if sub != nil {
				subj = sub.Subject
			}
			// A slow consumer lost events; subscribers fill gaps from the Store.
			b.logger.Error("nats error", "subject", subj, "err", err)
		}),
	}, o.nats...)
	nc, err := natsgo.Connect(url, nopts...)
	if err != nil {
		b.hub.Close()
		return nil, unavailable("open", err)
	}
	b.nc = nc
	return b, nil
}

// WatchConnection registers f to be told when the connection to NATS goes
// down (false: from now on events may not reach this node) and when it is
// back with every subscription in place (true). Calls come one at a time,
// in order, from the NATS client's callback goroutine, and stop at Close;
// f must not block.
func (b *Broker) WatchConnection(f func(up bool)) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.watchers = append(b.watchers, f)
}

// notify tells the watchers that the connection went down or came back.
func (b *Broker) notify(up bool) {
	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		return
	}
	watchers := slices.Clone(b.watchers)
	b.mu.Unlock()
	for _, f := range watchers {
		f(up)
	}
}

// Publish sends ev to topic's subscribers on every node. It returns once
// the server has the event: after the publish it waits for one round trip
// (a NATS flush), as the Broker contract asks, so an error means the event
// may not have left this node. It never waits on subscribers. While the
// connection is down it returns CodeUnavailable at once; the event is then
// buffered by the client and sent if the connection comes back.
func (b *Broker) Publish(ctx context.Context, topicName string, ev *confab.Event) error {
	if b.isClosed() {
		return errClosed("publish")
	}
	data, err := encodeEvent(ev)
	if err != nil {
		return err
	}
	if err := b.nc.Publish(subject(topicName), data); err != nil {
		return unavailable("publish", err)
	}
	return b.flush(ctx, "publish")
}

// Subscribe calls deliver for every event published on topic, on any node,
// after Subscribe returns: it waits until the NATS server has the
// subscription (one round trip, only while the topic's NATS subscription
// is new). deliver runs on the topic's NATS goroutine and must not block;
// the subscription must not be cancelled from inside deliver.
//
// The round trip happens before deliver is registered, so a failure is
// undone without waiting on a delivery (the caller may hold a lock that
// its deliver takes, as chat does).
func (b *Broker) Subscribe(topicName string, deliver func(*confab.Event)) (confab.Subscription, error) {
	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		return nil, errClosed("subscribe")
	}
	t := b.topics[topicName]
	if t == nil {
		b.gen++
		t = &topic{key: fmt.Sprintf("%s\x00%d", topicName, b.gen)}
		sub, err := b.nc.Subscribe(subject(topicName), b.relay(t.key))
		if err != nil {
			b.mu.Unlock()
			return nil, unavailable("subscribe", err)
		}
		t.sub = sub
		b.topics[topicName] = t
	}
	t.refs++ // held while unregistered, so t is not dropped meanwhile
	b.mu.Unlock()

	if !t.flushed.Load() {
		// The round trip covers the SUB whoever created t wrote before it.
		if err := b.flush(context.Background(), "subscribe"); err != nil {
			b.release(topicName, t)
			return nil, err
		}
		t.flushed.Store(true)
	}
	local, err := b.hub.Subscribe(t.key, deliver)
	if err != nil { // the hub is closed only by Close
		b.release(topicName, t)
		return nil, errClosed("subscribe")
	}
	return &subscription{b: b, name: topicName, t: t, local: local}, nil
}

// release drops one local subscriber of t, and t's NATS subscription with
// the last one.
func (b *Broker) release(topicName string, t *topic) {
	b.mu.Lock()
	defer b.mu.Unlock()
	t.refs--
	if t.refs > 0 || b.topics[topicName] != t {
		return
	}
	delete(b.topics, topicName)
	// Fails only when the connection is closed, which ends the
	// subscription anyway.
	_ = t.sub.Unsubscribe()
}

// relay returns the NATS handler of a topic: decode once, then fan out to
// the topic's local subscribers through the hub.
func (b *Broker) relay(key string) natsgo.MsgHandler {
	return func(msg *natsgo.Msg) {
		ev, err := decodeEvent(msg.Data)
		if err != nil {
			b.logger.Error("nats: dropped an event", "subject", msg.Subject, "err", err)
			return
		}
		// Fails only after Close, when delivery is over anyway.
		_ = b.hub.Publish(context.Background(), key, ev)
	}
}

type subscription struct {
	b     *Broker
	name  string
	t     *topic
	local confab.Subscription
	once  sync.Once
}

// Unsubscribe stops delivery (waiting for a delivery in flight, so none
// follows) and drops the NATS subscription with the topic's last local
// subscriber. It is idempotent.
func (s *subscription) Unsubscribe() {
	s.once.Do(func() {
		s.local.Unsubscribe()
		s.b.release(s.name, s.t)
	})
}

// Ping reports whether the NATS server answers a round trip.
func (b *Broker) Ping(ctx context.Context) error {
	if b.isClosed() {
		return errClosed("ping")
	}
	return b.flush(ctx, "ping")
}

// Close stops delivery (waiting for deliveries in flight) and closes the
// connection; later calls return CodeUnavailable. Events published before
// Close are flushed to the server first.
func (b *Broker) Close() error {
	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		return nil
	}
	b.closed = true
	clear(b.topics)
	b.mu.Unlock()
	b.hub.Close()
	b.nc.Close()
	return nil
}

func (b *Broker) isClosed() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.closed
}

// flush waits until the server has processed everything sent so far, for
// at most flushTimeout or ctx's deadline. A connection that is down fails
// at once rather than waiting for a reconnect.
func (b *Broker) flush(ctx context.Context, op string) error {
	if !b.nc.IsConnected() {
		return unavailable(op, fmt.Errorf("connection %s", b.nc.Status()))
	}
	ctx, cancel := context.WithTimeout(ctx, flushTimeout)
	defer cancel()
	if err := b.nc.FlushWithContext(ctx); err != nil {
		return unavailable(op, err)
	}
	return nil
}

func unavailable(op string, err error) error {
	return &confab.Error{Code: confab.CodeUnavailable, Message: "The event broker is unavailable; retry.", Op: "nats." + op, Err: err}
}

func errClosed(op string) error {
	return &confab.Error{Code: confab.CodeUnavailable, Message: "The event broker is closed.", Op: "nats." + op}
}
