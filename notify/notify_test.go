package notify_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/confab-chat/confab"
	"github.com/confab-chat/confab/notify"
	"github.com/confab-chat/confab/store/postgres"
	"github.com/confab-chat/confab/store/sqlite"
	"github.com/jackc/pgx/v5"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestBackoff(t *testing.T) {
	const base, max = time.Second, time.Minute
	tests := []struct {
		name    string
		attempt int
		r       float64
		want    time.Duration
	}{
		{"FirstNoJitter", 1, 0, base / 2},
		{"FirstFullJitter", 1, 0.999999, base - 1},
		{"Doubles", 3, 0, 2 * time.Second},
		{"Capped", 30, 0, max / 2},
		{"CappedFull", 1000, 0.5, max * 3 / 4},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := notify.Backoff(tt.attempt, base, max, tt.r); got < tt.want-time.Microsecond || got > tt.want+time.Microsecond {
				t.Fatalf("Backoff(%d, r=%v) = %v, want %v", tt.attempt, tt.r, got, tt.want)
			}
		})
	}
}

// recorder is a Channel that records deliveries by EventID and node, and
// fans every event out to one target.
type recorder struct {
	node string
	mu   *sync.Mutex
	seen map[int64][]string // EventID → nodes that delivered it
	all  chan struct{}      // closed when want events were delivered
	want int
}

func (r *recorder) Name() string { return "test" }

func (r *recorder) Fanout(_ context.Context, ev *confab.OutboxEntry) ([]*confab.OutboxEntry, error) {
	return []*confab.OutboxEntry{{Channel: "test", Target: "t", EventID: ev.EventID, Event: ev.Event, At: ev.At, NotBefore: ev.At, Data: ev.Data}}, nil
}

func (r *recorder) Deliver(_ context.Context, d *confab.OutboxEntry) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.seen[d.EventID] = append(r.seen[d.EventID], r.node)
	if len(r.seen) == r.want {
		close(r.all)
	}
	return nil
}

// TestWorker_ExactlyOneNodeDelivers runs two workers, each on its own
// connection to one database (two nodes), over many events: each is
// delivered once, by one of them.
func TestWorker_ExactlyOneNodeDelivers(t *testing.T) {
	t.Run("SQLite", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "confab.db")
		open := func() confab.Store {
			s, err := sqlite.Open(t.Context(), path)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { s.Close() })
			return s
		}
		exactlyOne(t, open(), open())
	})
	t.Run("PostgreSQL", func(t *testing.T) {
		u := freshSchema(t)
		open := func() confab.Store {
			s, err := postgres.Open(t.Context(), u)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { s.Close() })
			return s
		}
		exactlyOne(t, open(), open())
	})
}

func exactlyOne(t *testing.T, a, b confab.Store) {
	const events = 200
	ctx := t.Context()
	var entries []*confab.OutboxEntry
	for i := range events {
		at := time.Now().UTC()
		entries = append(entries, &confab.OutboxEntry{Channel: confab.ChannelEvent, Event: confab.OutboxMessageSent, At: at, NotBefore: at,
			Data: json.RawMessage(fmt.Sprintf(`{"n":%d}`, i))})
	}
	if err := a.(confab.OutboxStore).InsertOutbox(ctx, entries); err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	seen := map[int64][]string{}
	all := make(chan struct{})
	for _, n := range []struct {
		name string
		s    confab.Store
	}{{"a", a}, {"b", b}} {
		ch := &recorder{node: n.name, mu: &mu, seen: seen, all: all, want: events}
		w, err := notify.Open(n.s.(confab.OutboxStore), notify.Config{Owner: n.name, Poll: 5 * time.Millisecond, Batch: 4}, ch)
		if err != nil {
			t.Fatal(err)
		}
		defer w.Close()
	}
	select {
	case <-all:
	case <-time.After(30 * time.Second):
		t.Fatal("not every event delivered within 30s")
	}
	mu.Lock()
	defer mu.Unlock()
	by := map[string]int{}
	for id, nodes := range seen {
		if len(nodes) != 1 {
			t.Errorf("event %d delivered by %v, want exactly one node", id, nodes)
		}
		by[nodes[0]]++
	}
	t.Logf("deliveries by node: %v", by)
}

// TestWorker_DeliversFanoutWithoutPolling: with a poll too long to
// matter, an event waiting at start is fanned out and its delivery sent
// at once: the fan-out wakes the worker for the deliveries it wrote.
func TestWorker_DeliversFanoutWithoutPolling(t *testing.T) {
	st, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "confab.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	at := time.Now().UTC()
	ev := &confab.OutboxEntry{Channel: confab.ChannelEvent, Event: confab.OutboxMessageSent, At: at, NotBefore: at, Data: json.RawMessage(`{}`)}
	if err := st.InsertOutbox(t.Context(), []*confab.OutboxEntry{ev}); err != nil {
		t.Fatal(err)
	}
	rec := &recorder{node: "n", mu: &sync.Mutex{}, seen: map[int64][]string{}, all: make(chan struct{}), want: 1}
	w, err := notify.Open(st, notify.Config{Owner: "n", Poll: time.Hour}, rec)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	select {
	case <-rec.all:
	case <-time.After(10 * time.Second):
		t.Fatal("the delivery was not sent within 10s (it waited for the hourly poll)")
	}
}

// TestWorker_RetryThenGiveUp: a permanent error gives up at once, other
// errors are retried until MaxAttempts.
func TestWorker_RetryThenGiveUp(t *testing.T) {
	st, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "confab.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	at := time.Now().UTC()
	es := []*confab.OutboxEntry{
		{Channel: "fail", Target: "transient", Event: confab.OutboxMessageSent, At: at, NotBefore: at, Data: json.RawMessage(`{}`)},
		{Channel: "fail", Target: "permanent", Event: confab.OutboxMessageSent, At: at, NotBefore: at, Data: json.RawMessage(`{}`)},
	}
	if err := st.InsertOutbox(t.Context(), es); err != nil {
		t.Fatal(err)
	}
	dead := make(chan string, 10)
	w, err := notify.Open(st, notify.Config{Owner: "n", Poll: 5 * time.Millisecond, MaxAttempts: 3, BackoffBase: time.Millisecond, BackoffMax: time.Millisecond,
		Delivered: func(_, outcome string) {
			if outcome == "dead" {
				dead <- outcome
			}
		}}, failing{})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	for range 2 {
		select {
		case <-dead:
		case <-time.After(10 * time.Second):
			t.Fatal("not given up within 10s")
		}
	}
	for _, e := range es {
		got, err := st.GetOutboxEntry(t.Context(), e.ID)
		want := map[string]int{"transient": 3, "permanent": 1}[e.Target]
		if err != nil || !got.Dead || got.Attempts != want {
			t.Errorf("%s entry = %+v, %v; want dead after %d attempts", e.Target, got, err, want)
		}
	}
}

type failing struct{}

func (failing) Name() string { return "fail" }
func (failing) Fanout(context.Context, *confab.OutboxEntry) ([]*confab.OutboxEntry, error) {
	return nil, nil
}
func (failing) Deliver(_ context.Context, d *confab.OutboxEntry) error {
	if d.Target == "permanent" {
		return fmt.Errorf("gone: %w", notify.ErrPermanent)
	}
	return errors.New("try later")
}

// freshSchema is an empty PostgreSQL schema, dropped at the end, as a URL
// (store/postgres's test helper, copied).
func freshSchema(t *testing.T) string {
	t.Helper()
	base := os.Getenv("CONFAB_TEST_POSTGRES")
	if base == "" {
		const msg = "CONFAB_TEST_POSTGRES is unset"
		for _, name := range strings.FieldsFunc(os.Getenv("CONFAB_TEST_REQUIRE"), func(r rune) bool { return r == ',' || r == ' ' }) {
			if name == "all" || name == "postgres" {
				t.Fatal(msg + " (CONFAB_TEST_REQUIRE asks for postgres)")
			}
		}
		t.Skip(msg)
	}
	b := make([]byte, 8)
	rand.Read(b)
	schema := "test_" + hex.EncodeToString(b)
	exec := func(q string) {
		c, err := pgx.Connect(context.Background(), base)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close(context.Background())
		if _, err := c.Exec(context.Background(), q); err != nil {
			t.Error(err)
		}
	}
	exec("CREATE SCHEMA " + schema)
	t.Cleanup(func() { exec("DROP SCHEMA " + schema + " CASCADE") })
	u, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

// spread is a Channel that fans every event out to n targets.
type spread struct {
	n         int
	delivered chan string
}

func (s *spread) Name() string { return "test" }

func (s *spread) Fanout(_ context.Context, ev *confab.OutboxEntry) ([]*confab.OutboxEntry, error) {
	var out []*confab.OutboxEntry
	for i := range s.n {
		out = append(out, &confab.OutboxEntry{Channel: "test", Target: fmt.Sprint(i), EventID: ev.EventID, Event: ev.Event, At: ev.At, NotBefore: ev.At, Data: ev.Data})
	}
	return out, nil
}

func (s *spread) Deliver(_ context.Context, d *confab.OutboxEntry) error {
	s.delivered <- d.Target
	return nil
}

// batchCounting counts how deliveries are completed on a real store.
type batchCounting struct {
	*sqlite.Store
	mu              sync.Mutex
	single, batches int
}

func (s *batchCounting) CompleteOutbox(ctx context.Context, id int64, owner string, next []*confab.OutboxEntry) error {
	if len(next) == 0 {
		s.mu.Lock()
		s.single++
		s.mu.Unlock()
	}
	return s.Store.CompleteOutbox(ctx, id, owner, next)
}

func (s *batchCounting) CompleteOutboxes(ctx context.Context, ids []int64, owner string) (int, error) {
	s.mu.Lock()
	s.batches++
	s.mu.Unlock()
	return s.Store.CompleteOutboxes(ctx, ids, owner)
}

// TestWorker_CompletesBatches: on an OutboxBatchStore the deliveries of a
// claimed batch are completed in one write, and every one is settled.
func TestWorker_CompletesBatches(t *testing.T) {
	st, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "confab.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	at := time.Now().UTC()
	if err := st.InsertOutbox(t.Context(), []*confab.OutboxEntry{{Channel: confab.ChannelEvent, Event: confab.OutboxMessageSent, At: at, NotBefore: at, Data: json.RawMessage(`{}`)}}); err != nil {
		t.Fatal(err)
	}
	const targets = 16 // two batches of notify.DefaultBatch
	bs := &batchCounting{Store: st}
	ch := &spread{n: targets, delivered: make(chan string, targets)}
	settled := make(chan string, targets+1)
	w, err := notify.Open(bs, notify.Config{Owner: "node-a", Poll: 10 * time.Millisecond,
		Delivered: func(channel, outcome string) { settled <- channel + " " + outcome }}, ch)
	if err != nil {
		t.Fatal(err)
	}
	for range targets {
		select {
		case s := <-settled:
			if s != "test ok" {
				t.Fatalf("settled %q, want test ok", s)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("not every delivery settled within 10s")
		}
	}
	w.Close()
	bs.mu.Lock()
	single, batches := bs.single, bs.batches
	bs.mu.Unlock()
	if single != 0 || batches != targets/notify.DefaultBatch {
		t.Fatalf("deliveries completed by %d single writes and %d batches, want 0 and %d", single, batches, targets/notify.DefaultBatch)
	}
	left, err := st.ClaimOutbox(t.Context(), "probe", time.Now().Add(24*time.Hour), time.Minute, 100)
	if err != nil || len(left) != 0 {
		t.Fatalf("outbox after the worker: %d entries (%v), want none", len(left), err)
	}
}
