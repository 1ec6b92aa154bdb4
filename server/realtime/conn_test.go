package realtime_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/confab-chat/confab"
	"github.com/confab-chat/confab/chat"
	"github.com/confab-chat/confab/server/realtime"
	"go.uber.org/goleak"
)

// TestMain checks, after every test has shut its hub, server, chat
// service, broker and store down, that no goroutine is left behind.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// gatedStart holds the first GetConversation of one conversation back until
// the test releases it. Conversations' members are cached when they are
// created, so that read is the start position of an onMessageSent stream
// that has subscribed already: the test publishes while it starts.
type gatedStart struct {
	confab.Store
	conversationID string
	reading        chan struct{} // closed when the gated read begins
	release        chan struct{} // closed by the test
	once           sync.Once
}

func (g *gatedStart) GetConversation(ctx context.Context, id string) (*confab.Conversation, error) {
	if id == g.conversationID {
		g.once.Do(func() {
			close(g.reading)
			<-g.release
		})
	}
	return g.Store.GetConversation(ctx, id)
}

// TestConn_BusySubscription overflows an onMessageSent stream while it
// starts (more events than its queue before its start is known). That one
// subscription is answered with the protocol's error, a retryable
// LimitExceededError; the connection stays open and its other
// subscription keeps delivering.
func TestConn_BusySubscription(t *testing.T) {
	const queue = 2
	for _, proto := range protocols {
		t.Run(proto, func(t *testing.T) {
			gate := &gatedStart{reading: make(chan struct{}), release: make(chan struct{})}
			e := newEnv(t, realtime.Config{}, chat.Config{StreamQueue: queue}, func(st confab.Store) confab.Store {
				gate.Store = st
				return gate
			})
			alice, bob := e.user(t, "alice"), e.user(t, "bob")
			calm, busy := e.conversation(t, alice, bob), e.conversation(t, alice, bob)
			gate.conversationID = busy

			c := e.connect(t, proto, "tok-bob")
			// afterSeq 0: the message sent below is delivered whether it
			// commits before or after this stream has started.
			c.subscribe("calm", onMessageSent, map[string]any{"conversationId": calm, "afterSeq": 0})
			c.subscribe("busy", onMessageSent, map[string]any{"conversationId": busy})
			select {
			case <-gate.reading:
			case <-time.After(readTimeout):
				t.Fatal("the busy stream did not read its start position")
			}
			for seq := range int64(queue + 1) { // ahead of any start: all held
				ev := &confab.Event{Kind: confab.EventMessageSent, ConversationID: busy,
					Message: &confab.Message{ConversationID: busy, Seq: 10 + seq}}
				if err := e.broker.Publish(context.Background(), confab.ConversationTopic(busy), ev); err != nil {
					t.Fatal(err)
				}
			}
			close(gate.release)

			f := c.read()
			if f.Type != "error" || f.ID != "busy" {
				t.Fatalf("first frame = %s, want the busy subscription's error", f.raw)
			}
			if got := f.errorType(t); got != "LimitExceededError" {
				t.Fatalf("errorType = %q, want LimitExceededError (retryable)", got)
			}
			e.send(t, alice, calm, "still here")
			f = c.read()
			if f.ID != "calm" || f.content(t) != "still here" {
				t.Fatalf("after the refusal: %s, want the calm subscription's message", f.raw)
			}
		})
	}
}
