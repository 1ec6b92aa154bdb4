package chat_test

import (
	"context"
	"fmt"
	"log/slog"
	"path/filepath"
	"slices"
	"sync"
	"testing"

	"github.com/confab-chat/confab"
	"github.com/confab-chat/confab/broker/inproc"
	"github.com/confab-chat/confab/chat"
	"github.com/confab-chat/confab/store/sqlite"
)

// outageBroker is the in-process broker with a connection that can go
// down, as broker/nats's can: while down, published events are lost, and
// watchers are told, as nats.Broker.WatchConnection tells them.
type outageBroker struct {
	*inproc.Broker
	mu       sync.Mutex
	down     bool
	watchers []func(up bool)
}

func (b *outageBroker) WatchConnection(f func(up bool)) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.watchers = append(b.watchers, f)
}

func (b *outageBroker) setDown(down bool) {
	b.mu.Lock()
	b.down = down
	watchers := slices.Clone(b.watchers)
	b.mu.Unlock()
	for _, f := range watchers {
		f(!down)
	}
}

func (b *outageBroker) Publish(ctx context.Context, topic string, ev *confab.Event) error {
	b.mu.Lock()
	down := b.down
	b.mu.Unlock()
	if down {
		return confab.Errorf(confab.CodeUnavailable, "down")
	}
	return b.Broker.Publish(ctx, topic, ev)
}

// reorderBroker holds the events published while holding is set and
// publishes them newest first on release: a burst of out-of-order events,
// such as the clients of several nodes flush when NATS comes back.
type reorderBroker struct {
	*inproc.Broker
	mu      sync.Mutex
	holding bool
	held    []*confab.Event
	topics  []string
}

func (b *reorderBroker) Publish(ctx context.Context, topic string, ev *confab.Event) error {
	b.mu.Lock()
	if b.holding {
		b.held, b.topics = append(b.held, ev), append(b.topics, topic)
		b.mu.Unlock()
		return nil
	}
	b.mu.Unlock()
	return b.Broker.Publish(ctx, topic, ev)
}

func (b *reorderBroker) release() {
	b.mu.Lock()
	held, topics := b.held, b.topics
	b.held, b.topics, b.holding = nil, nil, false
	b.mu.Unlock()
	for i := len(held) - 1; i >= 0; i-- {
		b.Broker.Publish(context.Background(), topics[i], held[i])
	}
}

// countLogs is a slog.Handler that counts records by message.
type countLogs struct {
	mu sync.Mutex
	n  map[string]int
}

func (h *countLogs) Enabled(context.Context, slog.Level) bool { return true }
func (h *countLogs) Handle(_ context.Context, r slog.Record) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.n[r.Message]++
	return nil
}
func (h *countLogs) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h *countLogs) WithGroup(string) slog.Handler      { return h }

func (h *countLogs) count(msg string) int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.n[msg]
}

func newBrokerEnv(t *testing.T, br confab.Broker, cfg chat.Config, opts ...chat.Option) *env {
	t.Helper()
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "confab.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	t.Cleanup(func() { br.Close() })
	cfg.SendsPerSecond = -1
	svc := chat.New(st, br, cfg, opts...)
	t.Cleanup(svc.Close)
	return &env{svc: svc, store: st, broker: br}
}

// TestService_OnMessageSent_BrokerOutage: while the broker is down, no
// event arrives, yet the subscriber gets every message sent meanwhile, in
// order, read from the store; when the broker is back, live delivery goes
// on with nothing missed or repeated, and nobody was evicted. The outage
// is logged once, not once per failed publish.
func TestService_OnMessageSent_BrokerOutage(t *testing.T) {
	br := &outageBroker{Broker: inproc.New()}
	logs := &countLogs{n: map[string]int{}}
	e := newBrokerEnv(t, br, chat.Config{StreamQueue: 16}, chat.WithLogger(slog.New(logs)))
	alice, bob := e.user(t, "alice"), e.user(t, "bob")
	c := e.conversation(t, alice, bob)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ch, err := e.svc.OnMessageSent(ctx, bob, c.ConversationID, nil)
	if err != nil {
		t.Fatal(err)
	}
	e.send(t, alice, c.ConversationID, "before")
	wantSeqs(t, collect(t, ch, 1), 1)

	br.setDown(true)
	for i := range 40 { // more than StreamQueue
		e.send(t, alice, c.ConversationID, fmt.Sprint("during ", i))
	}
	wantSeqs(t, collect(t, ch, 40), 2) // while the broker is still down
	if n := logs.count("publish failed"); n != 0 {
		t.Fatalf(`%d "publish failed" errors logged during an outage the broker reported, want 0 (one warning says it)`, n)
	}

	br.setDown(false)
	for i := range 3 {
		e.send(t, alice, c.ConversationID, fmt.Sprint("after ", i))
	}
	wantSeqs(t, collect(t, ch, 3), 42)
	if n := e.svc.Stats().Evicted; n != 0 {
		t.Fatalf("%d subscribers evicted, want 0", n)
	}
}

// TestService_OnMessageSent_OutOfOrderBurst: a burst of events far larger
// than StreamQueue arrives newest first. The stream does not evict its
// subscriber for it (it used to: "too many out-of-order events"): it drops
// what it cannot hold and reads it from the store, delivering every
// message once, in order.
func TestService_OnMessageSent_OutOfOrderBurst(t *testing.T) {
	br := &reorderBroker{Broker: inproc.New()}
	e := newBrokerEnv(t, br, chat.Config{StreamQueue: 8})
	alice, bob := e.user(t, "alice"), e.user(t, "bob")
	c := e.conversation(t, alice, bob)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ch, err := e.svc.OnMessageSent(ctx, bob, c.ConversationID, nil)
	if err != nil {
		t.Fatal(err)
	}
	br.mu.Lock()
	br.holding = true
	br.mu.Unlock()
	const n = 50
	for i := range n {
		e.send(t, alice, c.ConversationID, fmt.Sprint("burst ", i))
	}
	br.release()
	wantSeqs(t, collect(t, ch, n), 1)
	if n := e.svc.Stats().Evicted; n != 0 {
		t.Fatalf("%d subscribers evicted, want 0", n)
	}
}

// TestService_OnMessageSent_ResumePaged resumes far more messages behind
// than StreamQueue (within MaxResume): the replay is paged in from the
// store as the subscriber takes it, none evicted, then goes live.
func TestService_OnMessageSent_ResumePaged(t *testing.T) {
	e := newEnv(t, chat.Config{StreamQueue: 8, MaxResume: 100})
	alice, bob := e.user(t, "alice"), e.user(t, "bob")
	c := e.conversation(t, alice, bob)
	for i := range 90 {
		e.send(t, alice, c.ConversationID, fmt.Sprint("before ", i))
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	after := int64(5)
	ch, err := e.svc.OnMessageSent(ctx, bob, c.ConversationID, &after)
	if err != nil {
		t.Fatal(err)
	}
	if got := cap(ch); got > 2*8 {
		t.Fatalf("the stream buffers %d messages for a resume 85 behind, want at most 2×StreamQueue (paged, not read at once)", got)
	}
	e.send(t, alice, c.ConversationID, "live")
	wantSeqs(t, collect(t, ch, 86), 6) // 6…90 replayed, then 91 live
	if n := e.svc.Stats().Evicted; n != 0 {
		t.Fatalf("%d subscribers evicted, want 0", n)
	}
}

// TestService_MaxResumeDefault: a client can resume after a short outage
// at a busy conversation's pace (200 messages/s for 5 s and more).
func TestService_MaxResumeDefault(t *testing.T) {
	if got := newEnv(t, chat.Config{}).svc.Config().MaxResume; got < 10000 {
		t.Fatalf("default MaxResume %d, want at least 10,000", got)
	}
}
