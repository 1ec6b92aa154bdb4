package confab

import "context"

// Broker fans events out to subscribers of a topic, on this node and (for
// distributed brokers) on every other node.
//
// Delivery contract (checked by broker/brokertest):
//   - Publish never waits on subscribers. It returns once the event is handed
//     to the transport (in-process: delivered to local subscribers' callbacks;
//     NATS: flushed to the server).
//   - Events of one topic published from one goroutine reach each subscriber
//     in publish order. Across publishers no order is promised; consumers
//     order messages by Message.Seq and fill gaps from the Store.
//   - A deliver callback must not block; it runs on a broker goroutine (or the
//     publisher's). A subscriber that cannot keep up must drop and recover
//     from the Store, never stall the broker.
//   - After Unsubscribe returns, deliver is not called again.
//
// Every method is safe for concurrent use.
type Broker interface {
	// Publish sends ev to every current subscriber of topic.
	Publish(ctx context.Context, topic string, ev *Event) error
	// Subscribe calls deliver for every event published on topic from now
	// until the subscription is cancelled. The *Event is shared: read only.
	Subscribe(topic string, deliver func(*Event)) (Subscription, error)
	// Ping reports whether the broker's transport is reachable.
	Ping(ctx context.Context) error
	// Close stops delivery and releases resources.
	Close() error
}

// Subscription is a live subscription to one topic.
type Subscription interface {
	// Unsubscribe stops delivery. It is idempotent.
	Unsubscribe()
}
