package inproc_test

import (
	"context"
	"fmt"
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

func TestBroker_Close(t *testing.T) {
	b := inproc.New()
	b.Close()
	if err := b.Publish(context.Background(), "t", &confab.Event{}); err == nil {
		t.Fatal("Publish after Close succeeded")
	}
	if _, err := b.Subscribe("t", func(*confab.Event) {}); err == nil {
		t.Fatal("Subscribe after Close succeeded")
	}
}

func BenchmarkBroker_Publish(b *testing.B) {
	for _, subs := range []int{1, 100, 5000} {
		b.Run(fmt.Sprint(subs, "subscribers"), func(b *testing.B) {
			br := inproc.New()
			defer br.Close()
			for range subs {
				br.Subscribe("conv.x", func(*confab.Event) {})
			}
			ev := &confab.Event{Kind: confab.EventMessageSent, Message: &confab.Message{}}
			b.ReportAllocs()
			for b.Loop() {
				br.Publish(context.Background(), "conv.x", ev)
			}
		})
	}
}
