// Package brokertest is the contract every confab.Broker must pass, the
// delivery rules written on confab.Broker turned into tests. Run uses only
// the interface. Deliveries may be asynchronous (NATS), so every wait is on
// a channel with a deadline, never a sleep; a delivery that must not happen
// is detected by a flag the deliver callback checks, made conclusive by a
// marker event published after it on a fresh subscription.
//
// It imports only the root package and the standard library.
package brokertest

import (
	"context"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/confab-chat/confab"
)

// Run runs the contract suite against the brokers open returns. Each
// subtest opens a fresh broker; open registers its own cleanup (usually
// Close), which must be safe after the test closed the broker itself.
func Run(t *testing.T, open func(t *testing.T) confab.Broker) {
	tests := []struct {
		name string
		fn   func(t *testing.T, b confab.Broker)
	}{
		{"Publish/Delivers", testPublishDelivers},
		{"Publish/NoSubscribers", testPublishNoSubscribers},
		{"Publish/TopicIsolation", testPublishTopicIsolation},
		{"Publish/OrderPerPublisher", testPublishOrderPerPublisher},
		{"Publish/ManySubscribers", testPublishManySubscribers},
		{"Publish/ConcurrentPublishers", testPublishConcurrentPublishers},
		{"Subscribe/UnsubscribeStopsDelivery", testSubscribeUnsubscribeStopsDelivery},
		{"Subscribe/UnsubscribeLeavesOthers", testSubscribeUnsubscribeLeavesOthers},
		{"Subscribe/Resubscribe", testSubscribeResubscribe},
		{"Unsubscribe/Idempotent", testUnsubscribeIdempotent},
		{"Ping/OK", testPingOK},
		{"Close/PublishFails", testClosePublishFails},
		{"Close/SubscribeFails", testCloseSubscribeFails},
		{"Close/PingFails", testClosePingFails},
		{"Close/StopsDelivery", testCloseStopsDelivery},
		{"Close/Twice", testCloseTwice},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { tt.fn(t, open(t)) })
	}
}

// wait bounds every wait for a delivery. It is generous because a
// distributed broker on a loaded CI machine may take a while; a passing
// test never waits for it.
const wait = 10 * time.Second

// maxBackground bounds the events a background publisher sends.
const maxBackground = 100_000

func ev(i int) *confab.Event {
	return &confab.Event{
		Kind:           confab.EventMessageSent,
		ConversationID: "c",
		Message:        &confab.Message{ConversationID: "c", Seq: int64(i), Content: fmt.Sprint(i)},
	}
}

// sink collects deliveries on a buffered channel without ever blocking
// (deliver must not block). An overflow, meaning more deliveries than the
// test expects, fails the test when it ends.
type sink struct {
	ch       chan *confab.Event
	overflow atomic.Int64
}

func newSink(t *testing.T, n int) *sink {
	t.Helper()
	s := &sink{ch: make(chan *confab.Event, n)}
	t.Cleanup(func() {
		if got := s.overflow.Load(); got > 0 {
			t.Errorf("%d deliveries beyond the %d expected", got, n)
		}
	})
	return s
}

// deliver records e; marker events are not the test's business and are
// dropped.
func (s *sink) deliver(e *confab.Event) {
	if isMarker(e) {
		return
	}
	select {
	case s.ch <- e:
	default:
		s.overflow.Add(1)
	}
}

// recv returns the next delivery or fails the test at the deadline.
func (s *sink) recv(t *testing.T) *confab.Event {
	t.Helper()
	timer := time.NewTimer(wait)
	defer timer.Stop()
	select {
	case e := <-s.ch:
		return e
	case <-timer.C:
		t.Fatalf("no delivery within %v", wait)
		return nil
	}
}

// none fails the test if a delivery is waiting. It is conclusive only once
// a later event on the same broker has been received (see marker).
func (s *sink) none(t *testing.T, what string) {
	t.Helper()
	select {
	case e := <-s.ch:
		t.Fatalf("%s: unexpected delivery of event %d", what, e.Message.Seq)
	default:
	}
}

func subscribe(t *testing.T, b confab.Broker, topic string, deliver func(*confab.Event)) confab.Subscription {
	t.Helper()
	s, err := b.Subscribe(topic, deliver)
	if err != nil {
		t.Fatalf("Subscribe(%q) = %v", topic, err)
	}
	t.Cleanup(s.Unsubscribe)
	return s
}

func publish(t *testing.T, b confab.Broker, topic string, e *confab.Event) {
	t.Helper()
	if err := b.Publish(t.Context(), topic, e); err != nil {
		t.Fatalf("Publish(%q) = %v", topic, err)
	}
}

// markerSeq marks the events marker publishes; sinks ignore them.
const markerSeq = -1

func isMarker(e *confab.Event) bool { return e.Message != nil && e.Message.Seq == markerSeq }

// marker publishes a marker event on topic through a fresh subscription
// and waits for it. A broker delivers one publisher's events on a topic in
// order, so once the marker arrives, every event published on topic before
// it (by this goroutine, or by one that has finished publishing) has been
// processed, and a delivery that should not happen would have happened.
func marker(t *testing.T, b confab.Broker, topic string) {
	t.Helper()
	got := make(chan struct{}, 1)
	subscribe(t, b, topic, func(e *confab.Event) {
		if isMarker(e) {
			select {
			case got <- struct{}{}:
			default:
			}
		}
	})
	publish(t, b, topic, ev(markerSeq))
	select {
	case <-got:
	case <-time.After(wait):
		t.Fatalf("marker on %q not delivered within %v", topic, wait)
	}
}

func testPublishDelivers(t *testing.T, b confab.Broker) {
	s := newSink(t, 1)
	subscribe(t, b, "t1", s.deliver)
	publish(t, b, "t1", ev(1))
	got := s.recv(t)
	if got.Kind != confab.EventMessageSent || got.Message == nil || got.Message.Seq != 1 || got.Message.Content != "1" {
		t.Fatalf("delivered %+v, want kind %s with message seq 1", got, confab.EventMessageSent)
	}
}

func testPublishNoSubscribers(t *testing.T, b confab.Broker) {
	publish(t, b, "nobody", ev(1))
}

func testPublishTopicIsolation(t *testing.T, b confab.Broker) {
	a, other := newSink(t, 10), newSink(t, 10)
	subscribe(t, b, "a", a.deliver)
	subscribe(t, b, "b", other.deliver)
	publish(t, b, "a", ev(1))
	publish(t, b, "b", ev(2))
	if got := a.recv(t).Message.Seq; got != 1 {
		t.Fatalf("topic a got event %d, want 1", got)
	}
	if got := other.recv(t).Message.Seq; got != 2 {
		t.Fatalf("topic b got event %d, want 2", got)
	}
	marker(t, b, "a")
	marker(t, b, "b")
	a.none(t, "topic a")
	other.none(t, "topic b")
}

func testPublishOrderPerPublisher(t *testing.T, b confab.Broker) {
	const n = 1000
	s := newSink(t, n)
	subscribe(t, b, "o", s.deliver)
	for i := 1; i <= n; i++ {
		publish(t, b, "o", ev(i))
	}
	for i := 1; i <= n; i++ {
		if got := s.recv(t).Message.Seq; got != int64(i) {
			t.Fatalf("delivery %d = event %d, want %d (publish order)", i, got, i)
		}
	}
}

func testPublishManySubscribers(t *testing.T, b confab.Broker) {
	const subs = 200
	sinks := make([]*sink, subs)
	for i := range sinks {
		sinks[i] = newSink(t, 1)
		subscribe(t, b, "m", sinks[i].deliver)
	}
	publish(t, b, "m", ev(7))
	for i, s := range sinks {
		if got := s.recv(t).Message.Seq; got != 7 {
			t.Fatalf("subscriber %d got event %d, want 7", i, got)
		}
	}
}

func testPublishConcurrentPublishers(t *testing.T, b confab.Broker) {
	const publishers, each = 8, 200
	s := newSink(t, publishers*each)
	subscribe(t, b, "c", s.deliver)
	var wg sync.WaitGroup
	for p := range publishers {
		wg.Go(func() {
			for i := range each {
				if err := b.Publish(t.Context(), "c", ev(p*each+i)); err != nil {
					t.Errorf("publisher %d: Publish = %v", p, err)
					return
				}
			}
		})
	}
	wg.Wait()
	if t.Failed() {
		return
	}
	seen := make(map[int64]bool, publishers*each)
	last := make([]int64, publishers) // per publisher: the last event seen
	for i := range last {
		last[i] = -1
	}
	for range publishers * each {
		seq := s.recv(t).Message.Seq
		if seen[seq] {
			t.Fatalf("event %d delivered twice", seq)
		}
		seen[seq] = true
		p := seq / each
		if seq <= last[p] {
			t.Fatalf("publisher %d: event %d delivered after %d", p, seq, last[p])
		}
		last[p] = seq
	}
	marker(t, b, "c")
	s.none(t, "after every event arrived once")
}

// background publishes on topic from its own goroutine until the
// returned stop is called (or maxBackground events, or wait, pass). stop
// returns once the goroutine has finished; the test's cleanup calls it too.
// Errors are tolerated only once closed reports true.
func background(t *testing.T, b confab.Broker, topic string, closed func() bool) (stop func()) {
	quit, done := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		end := time.Now().Add(wait)
		for i := range maxBackground {
			select {
			case <-quit:
				return
			default:
			}
			if time.Now().After(end) {
				return
			}
			if err := b.Publish(context.Background(), topic, ev(i)); err != nil {
				if !closed() {
					t.Errorf("background Publish = %v", err)
				}
				return
			}
		}
	}()
	var once sync.Once
	stop = func() {
		once.Do(func() { close(quit) })
		<-done
	}
	t.Cleanup(stop)
	return stop
}

// watched is a deliver callback that counts deliveries, signals the first,
// and counts the calls still running once ended was set. It checks at its
// start and again at its end, after yielding: the broker must have waited
// for a delivery in flight before Unsubscribe or Close returns (a consumer
// such as chat closes the queue deliver feeds as soon as Unsubscribe
// returns), so ended is set only after such a call has finished.
type watched struct {
	first  chan struct{}
	once   sync.Once
	ended  atomic.Bool
	n      atomic.Int64
	strays atomic.Int64
}

func newWatched() *watched { return &watched{first: make(chan struct{})} }

func (w *watched) deliver(*confab.Event) {
	stray := w.ended.Load()
	w.n.Add(1)
	w.once.Do(func() { close(w.first) })
	runtime.Gosched() // widens the window in which a broker that does not wait is caught
	if stray || w.ended.Load() {
		w.strays.Add(1)
	}
}

func (w *watched) waitFirst(t *testing.T) {
	t.Helper()
	select {
	case <-w.first:
	case <-time.After(wait):
		t.Fatalf("no delivery within %v", wait)
	}
}

func testSubscribeUnsubscribeStopsDelivery(t *testing.T, b confab.Broker) {
	for round := range 5 { // several rounds: the race window is small
		w := newWatched()
		s, err := b.Subscribe("u", w.deliver)
		if err != nil {
			t.Fatal(err)
		}
		stops := []func(){
			background(t, b, "u", func() bool { return false }),
			background(t, b, "u", func() bool { return false }),
		}
		w.waitFirst(t) // Unsubscribe while deliveries are flowing
		s.Unsubscribe()
		w.ended.Store(true)
		for i := range 100 { // publishes certainly after Unsubscribe returned
			publish(t, b, "u", ev(i))
		}
		for _, stop := range stops {
			stop()
		}
		marker(t, b, "u") // now a stray delivery would have been counted
		if got := w.strays.Load(); got > 0 {
			t.Fatalf("round %d: %d deliveries after Unsubscribe returned (%d before)", round, got, w.n.Load()-got)
		}
	}
}

func testSubscribeUnsubscribeLeavesOthers(t *testing.T, b confab.Broker) {
	gone, stays := newSink(t, 1), newSink(t, 2)
	s := subscribe(t, b, "l", gone.deliver)
	subscribe(t, b, "l", stays.deliver)
	s.Unsubscribe()
	publish(t, b, "l", ev(1))
	if got := stays.recv(t).Message.Seq; got != 1 {
		t.Fatalf("remaining subscriber got event %d, want 1", got)
	}
	marker(t, b, "l")
	gone.none(t, "unsubscribed")
}

func testSubscribeResubscribe(t *testing.T, b confab.Broker) {
	first := newSink(t, 1)
	s := subscribe(t, b, "r", first.deliver)
	s.Unsubscribe()
	again := newSink(t, 2)
	subscribe(t, b, "r", again.deliver)
	publish(t, b, "r", ev(1))
	if got := again.recv(t).Message.Seq; got != 1 {
		t.Fatalf("new subscription got event %d, want 1", got)
	}
	marker(t, b, "r")
	again.none(t, "new subscription, second copy")
	first.none(t, "old subscription")
}

func testUnsubscribeIdempotent(t *testing.T, b confab.Broker) {
	s, err := b.Subscribe("i", func(*confab.Event) {})
	if err != nil {
		t.Fatal(err)
	}
	s.Unsubscribe()
	s.Unsubscribe()
	// The topic still works for others afterwards.
	marker(t, b, "i")
}

func testPingOK(t *testing.T, b confab.Broker) {
	if err := b.Ping(t.Context()); err != nil {
		t.Fatalf("Ping = %v, want nil", err)
	}
}

func testClosePublishFails(t *testing.T, b confab.Broker) {
	if err := b.Close(); err != nil {
		t.Fatalf("Close = %v", err)
	}
	err := b.Publish(t.Context(), "t", ev(1))
	wantUnavailable(t, "Publish after Close", err)
}

func testCloseSubscribeFails(t *testing.T, b confab.Broker) {
	if err := b.Close(); err != nil {
		t.Fatalf("Close = %v", err)
	}
	s, err := b.Subscribe("t", func(*confab.Event) {})
	if err == nil {
		s.Unsubscribe()
	}
	wantUnavailable(t, "Subscribe after Close", err)
}

func testClosePingFails(t *testing.T, b confab.Broker) {
	if err := b.Close(); err != nil {
		t.Fatalf("Close = %v", err)
	}
	err := b.Ping(t.Context())
	wantUnavailable(t, "Ping after Close", err)
}

// wantUnavailable checks the answer of a closed broker: UNAVAILABLE, the
// code callers retry on, and the same whichever broker is configured (the
// contract of confab.Broker).
func wantUnavailable(t *testing.T, what string, err error) {
	t.Helper()
	if got := confab.ErrorCode(err); got != confab.CodeUnavailable {
		t.Fatalf("%s = %v (code %q), want code %q", what, err, got, confab.CodeUnavailable)
	}
}

func testCloseStopsDelivery(t *testing.T, b confab.Broker) {
	w := newWatched()
	s, err := b.Subscribe("x", w.deliver)
	if err != nil {
		t.Fatal(err)
	}
	var closed atomic.Bool
	stop := background(t, b, "x", closed.Load)
	w.waitFirst(t)
	closed.Store(true)
	if err := b.Close(); err != nil {
		t.Fatalf("Close = %v", err)
	}
	w.ended.Store(true)
	stop()
	s.Unsubscribe() // still safe after Close
	if got := w.strays.Load(); got > 0 {
		t.Fatalf("%d deliveries after Close returned", got)
	}
}

func testCloseTwice(t *testing.T, b confab.Broker) {
	if err := b.Close(); err != nil {
		t.Fatalf("Close = %v", err)
	}
	b.Close() // the second call's result is unspecified; it must return
}
