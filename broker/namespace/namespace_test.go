package namespace_test

import (
	"context"
	"testing"
	"time"

	"github.com/confab-chat/confab"
	"github.com/confab-chat/confab/broker/brokertest"
	"github.com/confab-chat/confab/broker/inproc"
	"github.com/confab-chat/confab/broker/namespace"
)

func TestBroker_Contract(t *testing.T) {
	brokertest.Run(t, func(t *testing.T) confab.Broker {
		b := namespace.New(inproc.New(), "acme")
		t.Cleanup(func() { b.Close() })
		return b
	})
}

// TestBroker_Isolation: two workspaces and the default share one broker
// and use the same topic names; each sees only its own events, which
// travel on the underlying broker under ws.<id>.
func TestBroker_Isolation(t *testing.T) {
	base := inproc.New()
	defer base.Close()
	views := map[string]confab.Broker{"": namespace.New(base, ""), "acme": namespace.New(base, "acme"), "globex": namespace.New(base, "globex")}
	if views[""] != base {
		t.Fatal("the default workspace's view is not the broker itself")
	}
	got := map[string]chan string{}
	for id, b := range views {
		ch := make(chan string, 10)
		got[id] = ch
		for _, topic := range []string{confab.ConversationTopic("c1"), confab.ControlTopic} {
			sub, err := b.Subscribe(topic, func(ev *confab.Event) { ch <- topic + " " + ev.ConversationID })
			if err != nil {
				t.Fatal(err)
			}
			defer sub.Unsubscribe()
		}
	}
	raw := make(chan string, 10)
	sub, err := base.Subscribe("ws.acme."+confab.ConversationTopic("c1"), func(ev *confab.Event) { raw <- ev.ConversationID })
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Unsubscribe()

	ctx := context.Background()
	for _, id := range []string{"acme", "", "globex"} {
		if err := views[id].Publish(ctx, confab.ConversationTopic("c1"), &confab.Event{ConversationID: "from-" + id}); err != nil {
			t.Fatal(err)
		}
		if err := views[id].Publish(ctx, confab.ControlTopic, &confab.Event{ConversationID: "ctl-" + id}); err != nil {
			t.Fatal(err)
		}
	}
	for id, ch := range got { // inproc delivers on Publish: everything is in
		want := []string{"conv.c1 from-" + id, confab.ControlTopic + " ctl-" + id}
		for _, w := range want {
			select {
			case g := <-ch:
				if g != w {
					t.Errorf("workspace %q got %q, want %q", id, g, w)
				}
			case <-time.After(5 * time.Second):
				t.Fatalf("workspace %q: no %q", id, w)
			}
		}
		if len(ch) != 0 {
			t.Errorf("workspace %q got %d more events: another workspace's", id, len(ch))
		}
	}
	if g := <-raw; g != "from-acme" || len(raw) != 0 {
		t.Errorf("ws.acme.conv.c1 on the broker carried %q (+%d), want from-acme only", g, len(raw))
	}
}
