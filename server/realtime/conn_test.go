package realtime_test

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
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
			typ, ext := f.firstError(t)
			if typ != "LimitExceededError" || ext["code"] != "RATE_LIMITED" || ext["retryAfterSeconds"] != 1.0 {
				t.Fatalf("error %s, want LimitExceededError, RATE_LIMITED and retryAfterSeconds 1 (retryable)", f.raw)
			}
			e.send(t, alice, calm, "still here")
			f = c.read()
			if f.ID != "calm" || f.content(t) != "still here" {
				t.Fatalf("after the refusal: %s, want the calm subscription's message", f.raw)
			}
		})
	}
}

// TestConn_SharedRenders: subscriptions with the same document and
// variables of a shared field (Config.SharedFields) render a message once;
// the others frame that rendering (OnShared counts them). Another
// document renders its own.
func TestConn_SharedRenders(t *testing.T) {
	var shared atomic.Int64
	e := newEnv(t, realtime.Config{
		SharedFields: map[string]bool{"onMessageSent": true},
		OnShared:     func(string) { shared.Add(1) },
	}, chat.Config{}, nil)
	alice, bob := e.user(t, "alice"), e.user(t, "bob")
	conv := e.conversation(t, alice, bob)
	const other = `subscription S($conversationId: ID!) { onMessageSent(conversationId: $conversationId) { content } }`

	// AppSync acknowledges each start once its stream is live, so the
	// message below reaches all three.
	c := e.connect(t, "appsync", "tok-bob")
	vars := map[string]any{"conversationId": conv}
	for _, id := range []string{"a", "b", "other"} {
		q := onMessageSent
		if id == "other" {
			q = other
		}
		c.subscribe(id, q, vars)
		c.waitAck(id)
	}
	e.send(t, alice, conv, "once")
	payloads := map[string]string{}
	for range 3 {
		f := c.read()
		if f.content(t) != "once" {
			t.Fatalf("frame %s, want the message", f.raw)
		}
		payloads[f.ID] = string(f.Payload)
	}
	if payloads["a"] != payloads["b"] {
		t.Fatalf("shared payloads differ: %s and %s", payloads["a"], payloads["b"])
	}
	if got := shared.Load(); got != 1 {
		t.Fatalf("results served from another subscription's rendering = %d, want 1 (a and b share; other does not)", got)
	}
}

// TestConn_ResumeBacklogDelivered: a resumed subscription's backlog is
// queued in its stream before the engine reads any of it (the stream hands
// over one item at a time, StreamHooks.Ready): every item arrives, in
// order, on both protocols.
func TestConn_ResumeBacklogDelivered(t *testing.T) {
	e := newEnv(t, realtime.Config{}, chat.Config{}, nil)
	alice, bob := e.user(t, "alice"), e.user(t, "bob")
	conv := e.conversation(t, alice, bob)
	const n = 5
	for i := range n {
		e.send(t, alice, conv, fmt.Sprint(i))
	}
	for _, proto := range []string{"gqlws", "appsync"} {
		c := e.connect(t, proto, "tok-bob")
		c.subscribe("r", onMessageSent, map[string]any{"conversationId": conv, "afterSeq": 0})
		for i := range n {
			f := c.read()
			if f.Type == "start_ack" {
				f = c.read()
			}
			if got := f.content(t); got != fmt.Sprint(i) {
				t.Fatalf("%s: frame %d is %s, want message %d", proto, i, f.raw, i)
			}
		}
	}
}
