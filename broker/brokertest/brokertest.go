// Package brokertest is the contract every confab.Broker must pass. Run
// uses only the interface; deliveries may be asynchronous (NATS), so every
// wait is on a channel with a deadline, never a sleep.
package brokertest

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/confab-chat/confab"
)

// Run runs the contract suite. open returns a fresh broker and registers
// its own cleanup.
func Run(t *testing.T, open func(t *testing.T) confab.Broker) {
	tests := []struct {
		name string
		fn   func(t *testing.T, b confab.Broker)
	}{
		{"Publish/Delivers", testDelivers},
		{"Publish/TopicIsolation", testIsolation},
		{"Publish/OrderPerPublisher", testOrder},
		{"Publish/ManySubscribers", testMany},
		{"Publish/ConcurrentPublishers", testConcurrent},
		{"Subscribe/UnsubscribeStopsDelivery", testUnsubscribe},
		{"Unsubscribe/Idempotent", testIdempotent},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { tt.fn(t, open(t)) })
	}
}

const wait = 10 * time.Second

var ctx = context.Background()

func ev(i int) *confab.Event {
	return &confab.Event{Kind: confab.EventMessageSent, ConversationID: "c", Message: &confab.Message{Seq: int64(i), Content: fmt.Sprint(i)}}
}

// sink collects deliveries on a buffered channel (deliver must not block).
func sink(n int) (chan *confab.Event, func(*confab.Event)) {
	ch := make(chan *confab.Event, n)
	return ch, func(e *confab.Event) {
		select {
		case ch <- e:
		default:
			panic("brokertest: sink overflow")
		}
	}
}

func recv(t *testing.T, ch <-chan *confab.Event) *confab.Event {
	t.Helper()
	select {
	case e := <-ch:
		return e
	case <-time.After(wait):
		t.Fatal("no delivery before the deadline")
		return nil
	}
}

func mustSubscribe(t *testing.T, b confab.Broker, topic string, deliver func(*confab.Event)) confab.Subscription {
	t.Helper()
	s, err := b.Subscribe(topic, deliver)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Unsubscribe)
	return s
}

func testDelivers(t *testing.T, b confab.Broker) {
	ch, deliver := sink(1)
	mustSubscribe(t, b, "t1", deliver)
	if err := b.Publish(ctx, "t1", ev(1)); err != nil {
		t.Fatal(err)
	}
	if got := recv(t, ch); got.Message.Seq != 1 || got.Kind != confab.EventMessageSent {
		t.Fatalf("delivered %+v", got)
	}
}

func testIsolation(t *testing.T, b confab.Broker) {
	a, deliverA := sink(10)
	other, deliverB := sink(10)
	mustSubscribe(t, b, "a", deliverA)
	mustSubscribe(t, b, "b", deliverB)
	b.Publish(ctx, "a", ev(1))
	b.Publish(ctx, "b", ev(2))
	if got := recv(t, a); got.Message.Seq != 1 {
		t.Fatalf("topic a got %d", got.Message.Seq)
	}
	if got := recv(t, other); got.Message.Seq != 2 {
		t.Fatalf("topic b got %d", got.Message.Seq)
	}
	select {
	case e := <-a:
		t.Fatalf("topic a also got %+v", e.Message)
	default:
	}
}

func testOrder(t *testing.T, b confab.Broker) {
	const n = 1000
	ch, deliver := sink(n)
	mustSubscribe(t, b, "o", deliver)
	for i := 1; i <= n; i++ {
		if err := b.Publish(ctx, "o", ev(i)); err != nil {
			t.Fatal(err)
		}
	}
	for i := 1; i <= n; i++ {
		if got := recv(t, ch); got.Message.Seq != int64(i) {
			t.Fatalf("event %d arrived as %d: out of order", i, got.Message.Seq)
		}
	}
}

func testMany(t *testing.T, b confab.Broker) {
	const subs = 200
	var chans []chan *confab.Event
	for range subs {
		ch, deliver := sink(1)
		chans = append(chans, ch)
		mustSubscribe(t, b, "m", deliver)
	}
	b.Publish(ctx, "m", ev(7))
	for _, ch := range chans {
		if recv(t, ch).Message.Seq != 7 {
			t.Fatal("wrong event")
		}
	}
}

func testConcurrent(t *testing.T, b confab.Broker) {
	const publishers, each = 8, 100
	ch, deliver := sink(publishers * each)
	mustSubscribe(t, b, "c", deliver)
	var wg sync.WaitGroup
	for p := range publishers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				b.Publish(ctx, "c", ev(p*each+i))
			}
		}()
	}
	wg.Wait()
	seen := map[int64]bool{}
	for range publishers * each {
		seq := recv(t, ch).Message.Seq
		if seen[seq] {
			t.Fatalf("event %d delivered twice", seq)
		}
		seen[seq] = true
	}
}

func testUnsubscribe(t *testing.T, b confab.Broker) {
	var mu sync.Mutex
	stopped := false
	s, err := b.Subscribe("u", func(*confab.Event) {
		mu.Lock()
		defer mu.Unlock()
		if stopped {
			panic("brokertest: delivery after Unsubscribe returned")
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := range 2000 {
			b.Publish(ctx, "u", ev(i))
		}
	}()
	s.Unsubscribe()
	mu.Lock()
	stopped = true
	mu.Unlock()
	<-done
	// A marker on a fresh subscription proves later publishes were
	// processed, so a stray delivery would already have panicked.
	ch, deliver := sink(1)
	mustSubscribe(t, b, "u", deliver)
	b.Publish(ctx, "u", ev(-1))
	recv(t, ch)
}

func testIdempotent(t *testing.T, b confab.Broker) {
	s, err := b.Subscribe("i", func(*confab.Event) {})
	if err != nil {
		t.Fatal(err)
	}
	s.Unsubscribe()
	s.Unsubscribe()
}
