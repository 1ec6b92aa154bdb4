// Package namespace confines a confab.Broker to one workspace: every topic
// a workspace's services publish or subscribe to is carried as
// "ws.<id>." + topic, so no event of one workspace reaches a subscriber of
// another, whatever topic names the two use (on NATS the subject is
// "confab.ws.<id>.<topic>"). The default workspace's topics are the
// broker's own, unchanged.
package namespace

import (
	"context"

	"github.com/confab-chat/confab"
)

// Prefix is the topic prefix of workspace id ("" for the default
// workspace).
func Prefix(id string) string {
	if id == "" {
		return ""
	}
	return "ws." + id + "."
}

// Broker is a view of a shared broker restricted to one workspace's
// topics.
type Broker struct {
	b      confab.Broker
	prefix string
}

// New returns b seen from workspace id: b itself for the default
// workspace (""), else a view that prefixes every topic. The views share
// b; Close closes b, so the owner of b closes it once (on b or one view).
func New(b confab.Broker, id string) confab.Broker {
	if id == "" {
		return b
	}
	return &Broker{b: b, prefix: Prefix(id)}
}

// Publish implements confab.Broker.
func (n *Broker) Publish(ctx context.Context, topic string, ev *confab.Event) error {
	return n.b.Publish(ctx, n.prefix+topic, ev)
}

// Subscribe implements confab.Broker.
func (n *Broker) Subscribe(topic string, deliver func(*confab.Event)) (confab.Subscription, error) {
	return n.b.Subscribe(n.prefix+topic, deliver)
}

// Ping implements confab.Broker.
func (n *Broker) Ping(ctx context.Context) error { return n.b.Ping(ctx) }

// Close implements confab.Broker: it closes the shared broker.
func (n *Broker) Close() error { return n.b.Close() }
