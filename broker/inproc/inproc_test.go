package inproc_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"

	"github.com/confab-chat/confab"
	"github.com/confab-chat/confab/broker/brokertest"
	"github.com/confab-chat/confab/broker/inproc"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestBroker_Contract(t *testing.T) {
	brokertest.Run(t, func(t *testing.T) confab.Broker {
		b := inproc.New()
		t.Cleanup(func() { b.Close() })
		return b
	})
}

// TestBroker_PublishSynchronous pins what inproc adds to the contract:
// Publish has called every subscriber when it returns.
func TestBroker_PublishSynchronous(t *testing.T) {
	b := inproc.New()
	t.Cleanup(func() { b.Close() })
	var n atomic.Int64
	for range 3 {
		s, err := b.Subscribe("s", func(*confab.Event) { n.Add(1) })
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(s.Unsubscribe)
	}
	if err := b.Publish(t.Context(), "s", &confab.Event{}); err != nil {
		t.Fatal(err)
	}
	if got := n.Load(); got != 3 {
		t.Fatalf("deliveries when Publish returned = %d, want 3", got)
	}
}

// TestBroker_ErrClosed checks the error value callers may compare with.
func TestBroker_ErrClosed(t *testing.T) {
	b := inproc.New()
	b.Close()
	if err := b.Publish(t.Context(), "t", &confab.Event{}); err != inproc.ErrClosed {
		t.Fatalf("Publish after Close = %v, want ErrClosed", err)
	}
	if _, err := b.Subscribe("t", func(*confab.Event) {}); err != inproc.ErrClosed {
		t.Fatalf("Subscribe after Close = %v, want ErrClosed", err)
	}
	if err := b.Ping(t.Context()); err != inproc.ErrClosed {
		t.Fatalf("Ping after Close = %v, want ErrClosed", err)
	}
}

func BenchmarkBroker_Publish(b *testing.B) {
	for _, subs := range []int{1, 100, 5000} {
		b.Run(fmt.Sprint(subs, "subscribers"), func(b *testing.B) {
			br := inproc.New()
			defer br.Close()
			for range subs {
				if _, err := br.Subscribe("conv.x", func(*confab.Event) {}); err != nil {
					b.Fatal(err)
				}
			}
			ev := &confab.Event{Kind: confab.EventMessageSent, Message: &confab.Message{}}
			ctx := context.Background()
			b.ReportAllocs()
			for b.Loop() {
				if err := br.Publish(ctx, "conv.x", ev); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkBroker_PublishParallel publishes from every core, each
// goroutine on its own topic with 10 subscribers: the sharded case.
func BenchmarkBroker_PublishParallel(b *testing.B) {
	br := inproc.New()
	defer br.Close()
	const topics = 256
	for i := range topics {
		for range 10 {
			if _, err := br.Subscribe(fmt.Sprint("conv.", i), func(*confab.Event) {}); err != nil {
				b.Fatal(err)
			}
		}
	}
	ev := &confab.Event{Kind: confab.EventMessageSent, Message: &confab.Message{}}
	var next atomic.Int64
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		topic := fmt.Sprint("conv.", next.Add(1)%topics)
		ctx := context.Background()
		for pb.Next() {
			if err := br.Publish(ctx, topic, ev); err != nil {
				b.Error(err)
				return
			}
		}
	})
}
