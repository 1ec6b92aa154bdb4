package chat_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/confab-chat/confab"
	"github.com/confab-chat/confab/broker/inproc"
	"github.com/confab-chat/confab/chat"
	"github.com/confab-chat/confab/store/sqlite"
)

// fakeClock is a settable time source, safe for concurrent use.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Set(t time.Time) {
	c.mu.Lock()
	c.t = t
	c.mu.Unlock()
}

// newClockEnv is newEnv with the service on clock (messages get its time
// as CreatedAt) and no send budget.
func newClockEnv(t *testing.T, cfg chat.Config, clock *fakeClock) *env {
	t.Helper()
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "confab.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	br := inproc.New()
	t.Cleanup(func() { br.Close() })
	cfg.SendsPerSecond = -1
	svc := chat.New(st, br, cfg, chat.WithClock(clock.Now))
	t.Cleanup(svc.Close)
	return &env{svc: svc, store: st, broker: br}
}

// purgeCall is one PurgeMessages call a scriptedPurger saw, and its answer.
type purgeCall struct {
	before time.Time
	limit  int
}

type purgeResult struct {
	n   int
	err error
}

// scriptedPurger answers PurgeMessages from a script (then 0) and records
// the calls. Only PurgeMessages may be called.
type scriptedPurger struct {
	confab.MessageStore

	mu     sync.Mutex
	script []purgeResult
	calls  []purgeCall
}

func (p *scriptedPurger) PurgeMessages(ctx context.Context, before time.Time, limit int) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.calls = append(p.calls, purgeCall{before, limit})
	if len(p.script) == 0 {
		return 0, nil
	}
	r := p.script[0]
	p.script = p.script[1:]
	return r.n, r.err
}

func (p *scriptedPurger) callsSoFar() []purgeCall {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]purgeCall(nil), p.calls...)
}

func TestRetention_PurgeOnce(t *testing.T) {
	t0 := time.Date(2026, 11, 25, 6, 0, 0, 0, time.UTC)
	t.Run("OK", func(t *testing.T) {
		clock := &fakeClock{t: t0}
		e := newClockEnv(t, chat.Config{}, clock)
		alice, bob := e.user(t, "alice"), e.user(t, "bob")
		c, d := e.conversation(t, alice, bob), e.conversation(t, bob)
		for i := range 10 { // one a minute, alternating conversations
			clock.Set(t0.Add(time.Duration(i) * time.Minute))
			e.send(t, bob, []*confab.Conversation{c, d}[i%2].ConversationID, fmt.Sprint("m", i))
		}
		clock.Set(t0.Add(10 * time.Minute))
		r := &chat.Retention{Store: e.store, MaxAge: 5*time.Minute + time.Second, Batch: 2, Now: clock.Now}
		n, err := r.PurgeOnce(context.Background())
		if err != nil || n != 5 || r.Purged() != 5 {
			t.Fatalf("PurgeOnce = %d, %v, Purged %d; want the 5 messages older than 5 min, in batches of 2", n, err, r.Purged())
		}
		for _, conv := range []*confab.Conversation{c, d} {
			left, err := e.store.ListMessagesAfter(context.Background(), conv.ConversationID, 0, 100)
			if err != nil {
				t.Fatal(err)
			}
			for _, m := range left {
				if m.CreatedAt.Before(t0.Add(5 * time.Minute)) {
					t.Fatalf("message %s (created %v) survived", m.Content, m.CreatedAt)
				}
			}
		}
		if n, err := r.PurgeOnce(context.Background()); err != nil || n != 0 {
			t.Fatalf("second PurgeOnce = %d, %v; want 0", n, err)
		}
		clock.Set(t0.Add(12 * time.Minute))
		if n, err := r.PurgeOnce(context.Background()); err != nil || n != 2 || r.Purged() != 7 {
			t.Fatalf("PurgeOnce two minutes later = %d, %v, Purged %d; want 2 more, 7 in all", n, err, r.Purged())
		}
	})
	t.Run("ErrStore", func(t *testing.T) {
		boom := errors.New("boom")
		p := &scriptedPurger{script: []purgeResult{{3, nil}, {1, boom}}}
		r := &chat.Retention{Store: p, MaxAge: time.Hour, Batch: 3, Now: func() time.Time { return t0 }}
		n, err := r.PurgeOnce(context.Background())
		if !errors.Is(err, boom) || n != 4 || r.Purged() != 4 {
			t.Fatalf("PurgeOnce = %d, %v, Purged %d; want 4 (counted before the failure) and the store's error", n, err, r.Purged())
		}
		for _, c := range p.callsSoFar() {
			if !c.before.Equal(t0.Add(-time.Hour)) || c.limit != 3 {
				t.Fatalf("PurgeMessages(%v, %d), want (%v, 3)", c.before, c.limit, t0.Add(-time.Hour))
			}
		}
	})
	t.Run("KeepForever", func(t *testing.T) {
		p := &scriptedPurger{}
		r := &chat.Retention{Store: p, Now: func() time.Time { return t0 }}
		if n, err := r.PurgeOnce(context.Background()); err != nil || n != 0 || len(p.callsSoFar()) != 0 {
			t.Fatalf("PurgeOnce with MaxAge 0 = %d, %v after %d store calls; want nothing done", n, err, len(p.callsSoFar()))
		}
	})
}

// startRun runs r.Run on a goroutine with the wait between passes handed
// to the test: each pass, once finished, sends the channel that starts the
// next one on waits, with the interval it asked for. stop cancels Run and
// waits for it to return.
func startRun(t *testing.T, r *chat.Retention) (waits <-chan wait, stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	ch := make(chan wait)
	chat.SetRetentionWait(r, func(d time.Duration) <-chan time.Time {
		next := make(chan time.Time, 1)
		select {
		case ch <- wait{d, next}:
		case <-ctx.Done():
		}
		return next
	})
	done := make(chan struct{})
	go func() {
		defer close(done)
		r.Run(ctx)
	}()
	stop = func() {
		cancel()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Fatal("Run did not return after its context was cancelled")
		}
	}
	t.Cleanup(func() { cancel(); <-done })
	return ch, stop
}

type wait struct {
	interval time.Duration
	next     chan<- time.Time
}

func nextWait(t *testing.T, waits <-chan wait) wait {
	t.Helper()
	select {
	case w := <-waits:
		return w
	case <-time.After(10 * time.Second):
		t.Fatal("the retention pass did not finish")
		return wait{}
	}
}

// TestRetention_Run drives three passes by hand: the first purges at once
// in batches until one comes back short, the second fails and is logged,
// the third finds nothing; then cancelling the context ends Run.
func TestRetention_Run(t *testing.T) {
	t0 := time.Date(2026, 11, 25, 6, 0, 0, 0, time.UTC)
	clock := &fakeClock{t: t0}
	boom := errors.New("boom")
	p := &scriptedPurger{script: []purgeResult{{2, nil}, {2, nil}, {1, nil}, {0, boom}}}
	var logs bytes.Buffer
	r := &chat.Retention{Store: p, MaxAge: time.Hour, Batch: 2, Now: clock.Now,
		Logger: slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))}
	waits, stop := startRun(t, r)

	w := nextWait(t, waits)
	if calls := p.callsSoFar(); len(calls) != 3 || !calls[2].before.Equal(t0.Add(-time.Hour)) || r.Purged() != 5 {
		t.Fatalf("first pass: %d calls (%v), Purged %d; want 3 batches before %v, 5 purged", len(calls), calls, r.Purged(), t0.Add(-time.Hour))
	}
	if w.interval != time.Minute {
		t.Fatalf("interval = %v, want 1m (MaxAge/10, at most 1m)", w.interval)
	}
	clock.Set(t0.Add(time.Minute))
	w.next <- clock.Now()
	w = nextWait(t, waits)
	if calls := p.callsSoFar(); len(calls) != 4 || !calls[3].before.Equal(t0.Add(time.Minute-time.Hour)) {
		t.Fatalf("second pass: calls %v; want a 4th before %v", calls, t0.Add(time.Minute-time.Hour))
	}
	w.next <- clock.Now()
	nextWait(t, waits)
	if calls := p.callsSoFar(); len(calls) != 5 || r.Purged() != 5 {
		t.Fatalf("third pass: %d calls, Purged %d; want 5 and 5", len(calls), r.Purged())
	}
	stop()

	var lines []map[string]any
	dec := json.NewDecoder(&logs)
	for dec.More() {
		var l map[string]any
		if err := dec.Decode(&l); err != nil {
			t.Fatal(err)
		}
		lines = append(lines, l)
	}
	if len(lines) != 2 || lines[0]["level"] != "INFO" || lines[0]["purged"] != 5.0 || lines[0]["purged_total"] != 5.0 ||
		lines[1]["level"] != "WARN" || lines[1]["err"] != "boom" {
		t.Fatalf("logs = %v; want one info line for the 5 purged and one warning for the failure (nothing for an empty pass)", lines)
	}
}

func TestRetention_Interval(t *testing.T) {
	tests := []struct {
		name     string
		maxAge   time.Duration
		interval time.Duration
		want     time.Duration
	}{
		{"TenthOfMaxAge", 30 * time.Second, 0, 3 * time.Second},
		{"AtMostAMinute", 30 * 24 * time.Hour, 0, time.Minute},
		{"AtLeastASecond", 2 * time.Second, 0, time.Second},
		{"Set", time.Hour, 5 * time.Second, 5 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := &chat.Retention{Store: &scriptedPurger{}, MaxAge: tt.maxAge, Interval: tt.interval}
			waits, stop := startRun(t, r)
			if w := nextWait(t, waits); w.interval != tt.want {
				t.Fatalf("interval = %v, want %v", w.interval, tt.want)
			}
			stop()
		})
	}
	t.Run("KeepForeverReturns", func(t *testing.T) {
		p := &scriptedPurger{}
		r := &chat.Retention{Store: p}
		r.Run(context.Background()) // returns at once: nothing to do, ever
		if len(p.callsSoFar()) != 0 {
			t.Fatal("Run with MaxAge 0 called the store")
		}
	})
}

// gatedPurges starts each purge batch after the first only once a send
// has signalled its success (one signal per batch, at most one kept
// waiting), which proves that sends complete between the purge's
// transactions rather than waiting for the whole purge.
type gatedPurges struct {
	confab.Store
	sent    <-chan struct{}
	batches int // only Retention's goroutine calls PurgeMessages
}

func (g *gatedPurges) PurgeMessages(ctx context.Context, before time.Time, limit int) (int, error) {
	if g.batches > 0 {
		select {
		case <-g.sent:
		case <-time.After(10 * time.Second):
			return 0, fmt.Errorf("no send completed between purge batches %d and %d", g.batches, g.batches+1)
		}
	}
	g.batches++
	return g.Store.PurgeMessages(ctx, before, limit)
}

// TestRetention_SendsWhilePurging purges 3,000 old messages in batches
// of 200 on the real SQLite store while two users keep sending: every send
// succeeds (no SQLITE_BUSY, no waiting for the whole purge), every old
// message goes, and every summary agrees with what is stored.
func TestRetention_SendsWhilePurging(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	clock := &fakeClock{t: time.Now().UTC().Truncate(time.Millisecond)}
	e := newClockEnv(t, chat.Config{}, clock)
	alice, bob := e.user(t, "alice"), e.user(t, "bob")
	convs := []*confab.Conversation{e.conversation(t, alice, bob), e.conversation(t, bob, alice)}
	const old, batch, maxSends = 3000, 200, 1000
	var wg sync.WaitGroup
	oldAt := clock.Now().Add(-48 * time.Hour)
	for w := range 30 { // concurrent appends share group commits
		wg.Go(func() {
			for i := w; i < old; i += 30 {
				m := &confab.Message{MessageID: fmt.Sprint("old-", i), ConversationID: convs[i%2].ConversationID, UserID: alice.UserID,
					Content: fmt.Sprint("old message ", i), MessageType: confab.MessageText, CreatedAt: oldAt}
				if _, err := e.store.AppendMessage(ctx, m); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	if t.Failed() {
		t.FailNow()
	}

	sent := make(chan struct{}, 1)
	r := &chat.Retention{Store: &gatedPurges{Store: e.store, sent: sent}, MaxAge: 24 * time.Hour, Batch: batch, Now: clock.Now}
	purged := make(chan error, 1)
	purging := make(chan struct{}) // closed when PurgeOnce has returned
	go func() {
		defer close(purging)
		n, err := r.PurgeOnce(ctx)
		if err == nil && n != old {
			err = fmt.Errorf("purged %d, want %d", n, old)
		}
		purged <- err
	}()
	sends := make([]int, 2)
	errs := make(chan error, 2)
	for s, who := range []confab.Identity{alice, bob} {
		wg.Go(func() {
			for sends[s] < maxSends {
				select {
				case <-ctx.Done():
					errs <- ctx.Err()
					return
				case <-purging:
					return
				default:
				}
				if _, err := e.svc.SendMessage(ctx, who, chat.SendMessageInput{ConversationID: convs[s].ConversationID, Content: "while purging"}); err != nil {
					errs <- fmt.Errorf("send %d of %s: %w", sends[s], who.Username, err)
					return
				}
				sends[s]++
				select {
				case sent <- struct{}{}:
				default:
				}
			}
		})
	}
	if err := <-purged; err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	for s, c := range convs {
		got, err := e.svc.GetConversation(ctx, alice, c.ConversationID)
		if err != nil {
			t.Fatal(err)
		}
		left, err := e.store.ListMessagesAfter(ctx, c.ConversationID, 0, 2*maxSends)
		if err != nil {
			t.Fatal(err)
		}
		if got.MessageCount != sends[s] || len(left) != sends[s] || got.LastSeq != int64(old/2+sends[s]) {
			t.Fatalf("conversation %d: count %d, %d stored, LastSeq %d; want the %d new messages after %d old",
				s, got.MessageCount, len(left), got.LastSeq, sends[s], old/2)
		}
	}
	t.Logf("%d sends while purging %d messages in batches of %d", sends[0]+sends[1], old, batch)
}
