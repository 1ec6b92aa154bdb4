package nats_test

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"testing"
	"time"

	"github.com/confab-chat/confab"
	"github.com/confab-chat/confab/broker/brokertest"
	"github.com/confab-chat/confab/broker/nats"
	"github.com/nats-io/nats-server/v2/server"
	natsgo "github.com/nats-io/nats.go"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

const wait = 10 * time.Second

var ctx = context.Background()

// runServer starts an embedded NATS server on 127.0.0.1 (port 0 picks a
// free one) and stops it when the test ends.
func runServer(t *testing.T, port int) *server.Server {
	t.Helper()
	ns, err := server.NewServer(&server.Options{Host: "127.0.0.1", Port: port, NoLog: true, NoSigs: true})
	if err != nil {
		t.Fatal(err)
	}
	go ns.Start()
	if !ns.ReadyForConnections(10 * time.Second) {
		t.Fatal("nats-server not ready")
	}
	t.Cleanup(func() {
		ns.Shutdown()
		ns.WaitForShutdown()
	})
	return ns
}

func open(t *testing.T, ns *server.Server, opts ...nats.Option) *nats.Broker {
	t.Helper()
	b, err := nats.Open(ns.ClientURL(), opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	return b
}

func TestBroker_Contract(t *testing.T) {
	ns := runServer(t, -1)
	brokertest.Run(t, func(t *testing.T) confab.Broker { return open(t, ns) })
}

// sink collects deliveries; deliver must not block.
func sink(t *testing.T, n int) (chan *confab.Event, func(*confab.Event)) {
	ch := make(chan *confab.Event, n)
	return ch, func(e *confab.Event) {
		select {
		case ch <- e:
		default:
			t.Error("sink overflow")
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

func msgEvent(seq int) *confab.Event {
	at := time.Date(2026, 11, 25, 6, 0, 0, 0, time.UTC)
	return &confab.Event{Kind: confab.EventMessageSent, ConversationID: "c1", At: at,
		Message: &confab.Message{MessageID: "m" + strconv.Itoa(seq), ConversationID: "c1", Seq: int64(seq), UserID: "u1",
			Content: fmt.Sprint("message ", seq), MessageType: confab.MessageText, CreatedAt: at}}
}

// TestBroker_TwoNodes runs two brokers on one NATS server, like two nodes:
// an event published on either reaches the subscribers of both, in the
// publisher's order, decoded intact.
func TestBroker_TwoNodes(t *testing.T) {
	ns := runServer(t, -1)
	nodeA, nodeB := open(t, ns), open(t, ns)
	topic := confab.ConversationTopic("c1")
	const n = 200
	onA, deliverA := sink(t, 2*n)
	onB, deliverB := sink(t, 2*n)
	onB2, deliverB2 := sink(t, 2*n)
	mustSubscribe(t, nodeA, topic, deliverA)
	mustSubscribe(t, nodeB, topic, deliverB)
	mustSubscribe(t, nodeB, topic, deliverB2)
	for _, from := range []*nats.Broker{nodeA, nodeB} {
		for i := 1; i <= n; i++ {
			if err := from.Publish(ctx, topic, msgEvent(i)); err != nil {
				t.Fatal(err)
			}
		}
		for _, ch := range []chan *confab.Event{onA, onB, onB2} {
			for i := 1; i <= n; i++ {
				got := recv(t, ch)
				if got.Message.Seq != int64(i) {
					t.Fatalf("event %d arrived as %d: out of order", i, got.Message.Seq)
				}
				if got.Message.Content != fmt.Sprint("message ", i) || !got.At.Equal(msgEvent(i).At) {
					t.Fatalf("event %d arrived as %+v", i, got)
				}
			}
		}
	}
	// A topic only node B follows gets node A's events; A's own topic list
	// is unaffected.
	other, deliverOther := sink(t, 1)
	mustSubscribe(t, nodeB, confab.UserTopic("u1"), deliverOther)
	if err := nodeA.Publish(ctx, confab.UserTopic("u1"), &confab.Event{Kind: confab.EventConversationUpdated,
		Conversation: &confab.Conversation{ConversationID: "c1", Members: []confab.Member{{UserID: "u1"}}}}); err != nil {
		t.Fatal(err)
	}
	if got := recv(t, other); got.Conversation == nil || len(got.Conversation.Members) != 1 {
		t.Fatalf("conversation event arrived as %+v", got)
	}
}

// TestBroker_OneNATSSubscriptionPerTopic checks the reference count: local
// subscribers of one topic share one NATS subscription, dropped with the
// last of them.
func TestBroker_OneNATSSubscriptionPerTopic(t *testing.T) {
	ns := runServer(t, -1)
	b := open(t, ns)
	if err := b.Ping(ctx); err != nil {
		t.Fatal(err)
	}
	base := ns.NumSubscriptions()
	subs := func(want uint32, when string) {
		t.Helper()
		if err := b.Ping(ctx); err != nil { // the server has processed every SUB and UNSUB sent
			t.Fatal(err)
		}
		if got := ns.NumSubscriptions() - base; got != want {
			t.Fatalf("%s: server has %d subscriptions of the broker, want %d", when, got, want)
		}
	}
	s1, err := b.Subscribe("conv.x", func(*confab.Event) {})
	if err != nil {
		t.Fatal(err)
	}
	s2, err := b.Subscribe("conv.x", func(*confab.Event) {})
	if err != nil {
		t.Fatal(err)
	}
	s3, err := b.Subscribe("conv.y", func(*confab.Event) {})
	if err != nil {
		t.Fatal(err)
	}
	subs(2, "two topics, three subscribers")
	s1.Unsubscribe()
	subs(2, "one subscriber of conv.x left")
	s2.Unsubscribe()
	s2.Unsubscribe()
	subs(1, "conv.x has no subscriber")
	s3.Unsubscribe()
	subs(0, "no subscriber")

	ch, deliver := sink(t, 1)
	mustSubscribe(t, b, "conv.x", deliver)
	if err := b.Publish(ctx, "conv.x", msgEvent(1)); err != nil {
		t.Fatal(err)
	}
	recv(t, ch) // subscribing again after the drop works
}

// logSignal is a slog.Handler that reports each record's message on a
// channel, so a test can wait for a connection event.
type logSignal chan string

func (h logSignal) Enabled(context.Context, slog.Level) bool { return true }
func (h logSignal) Handle(_ context.Context, r slog.Record) error {
	select {
	case h <- r.Message:
	default:
	}
	return nil
}
func (h logSignal) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h logSignal) WithGroup(string) slog.Handler      { return h }

func waitLog(t *testing.T, logs logSignal, msg string) {
	t.Helper()
	deadline := time.After(wait)
	for {
		select {
		case got := <-logs:
			if got == msg {
				return
			}
		case <-deadline:
			t.Fatalf("no %q logged before the deadline", msg)
		}
	}
}

// TestBroker_Reconnect stops the NATS server under a subscribed broker and
// starts a new one on the same port: while it is down Publish, Ping and a
// new topic's Subscribe are UNAVAILABLE; once the client reconnects, the subscription works again.
func TestBroker_Reconnect(t *testing.T) {
	ns := runServer(t, -1)
	port := ns.Addr().(*net.TCPAddr).Port
	logs := make(logSignal, 16)
	b := open(t, ns, nats.WithLogger(slog.New(logs)), nats.WithNATSOptions(natsgo.ReconnectWait(20*time.Millisecond), natsgo.ReconnectJitter(0, 0)))
	ch, deliver := sink(t, 10)
	mustSubscribe(t, b, "conv.r", deliver)

	ns.Shutdown()
	ns.WaitForShutdown()
	waitLog(t, logs, "nats disconnected")
	if err := b.Publish(ctx, "conv.r", msgEvent(1)); confab.ErrorCode(err) != confab.CodeUnavailable {
		t.Fatalf("Publish while down: %v, want %s", err, confab.CodeUnavailable)
	}
	if err := b.Ping(ctx); confab.ErrorCode(err) != confab.CodeUnavailable {
		t.Fatalf("Ping while down: %v, want %s", err, confab.CodeUnavailable)
	}
	if _, err := b.Subscribe("conv.new", func(*confab.Event) {}); confab.ErrorCode(err) != confab.CodeUnavailable {
		t.Fatalf("Subscribe to a new topic while down: %v, want %s", err, confab.CodeUnavailable)
	}

	runServer(t, port)
	waitLog(t, logs, "nats reconnected")
	if err := b.Ping(ctx); err != nil {
		t.Fatalf("Ping after reconnect: %v", err)
	}
	if err := b.Publish(ctx, "conv.r", msgEvent(2)); err != nil {
		t.Fatal(err)
	}
	// The event buffered while down may arrive first; then the new one.
	for {
		if got := recv(t, ch); got.Message.Seq == 2 {
			break
		}
	}
}

func TestBroker_Closed(t *testing.T) {
	ns := runServer(t, -1)
	b := open(t, ns)
	s, err := b.Subscribe("conv.c", func(*confab.Event) {})
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	s.Unsubscribe() // after Close: still fine
	if err := b.Publish(ctx, "conv.c", msgEvent(1)); confab.ErrorCode(err) != confab.CodeUnavailable {
		t.Fatalf("Publish after Close: %v, want %s", err, confab.CodeUnavailable)
	}
	if _, err := b.Subscribe("conv.c", func(*confab.Event) {}); confab.ErrorCode(err) != confab.CodeUnavailable {
		t.Fatalf("Subscribe after Close: %v, want %s", err, confab.CodeUnavailable)
	}
	if err := b.Ping(ctx); confab.ErrorCode(err) != confab.CodeUnavailable {
		t.Fatalf("Ping after Close: %v, want %s", err, confab.CodeUnavailable)
	}
	if err := b.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
}

func TestOpen_ErrNoServer(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close() // nothing listens on addr now
	if _, err := nats.Open("nats://" + addr); confab.ErrorCode(err) != confab.CodeUnavailable {
		t.Fatalf("Open with no server: %v, want %s", err, confab.CodeUnavailable)
	}
}

// TestBroker_WatchConnection: a watcher hears "down" when the NATS server
// goes away and "up" once the broker is back with its subscriptions in
// place: an event another node publishes right after "up" is delivered.
func TestBroker_WatchConnection(t *testing.T) {
	ns := runServer(t, -1)
	port := ns.Addr().(*net.TCPAddr).Port
	b := open(t, ns, nats.WithNATSOptions(natsgo.ReconnectWait(20*time.Millisecond), natsgo.ReconnectJitter(0, 0)))
	status := make(chan bool, 4)
	b.WatchConnection(func(up bool) { status <- up })
	ch, deliver := sink(t, 10)
	mustSubscribe(t, b, "conv.w", deliver)
	next := func() bool {
		t.Helper()
		select {
		case up := <-status:
			return up
		case <-time.After(wait):
			t.Fatal("no connection status before the deadline")
			return false
		}
	}

	ns.Shutdown()
	ns.WaitForShutdown()
	if next() {
		t.Fatal(`first status after the server stopped is "up", want "down"`)
	}
	other := open(t, runServer(t, port))
	if !next() {
		t.Fatal(`status after the server came back is "down", want "up"`)
	}
	if err := other.Publish(ctx, "conv.w", msgEvent(7)); err != nil {
		t.Fatal(err)
	}
	if got := recv(t, ch); got.Message.Seq != 7 {
		t.Fatalf("delivered seq %d after up, want 7", got.Message.Seq)
	}
}
