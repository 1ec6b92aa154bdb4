package chat_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/confab-chat/confab"
	"github.com/confab-chat/confab/chat"
)

// fakeTimers stands in for time.AfterFunc: timers fire when the test says.
type fakeTimers struct {
	mu      sync.Mutex
	pending []*fakeTimer // guarded by mu
}

type fakeTimer struct {
	d       time.Duration
	f       func()
	stopped bool // guarded by fakeTimers.mu
}

func (ft *fakeTimers) after(d time.Duration, f func()) func() bool {
	ft.mu.Lock()
	defer ft.mu.Unlock()
	tm := &fakeTimer{d: d, f: f}
	ft.pending = append(ft.pending, tm)
	return func() bool {
		ft.mu.Lock()
		defer ft.mu.Unlock()
		was := !tm.stopped
		tm.stopped = true
		return was
	}
}

// armed returns the durations of the timers neither fired nor stopped.
func (ft *fakeTimers) armed() []time.Duration {
	ft.mu.Lock()
	defer ft.mu.Unlock()
	var ds []time.Duration
	for _, tm := range ft.pending {
		if !tm.stopped {
			ds = append(ds, tm.d)
		}
	}
	return ds
}

// fire runs every armed timer once, as if its time had come.
func (ft *fakeTimers) fire() {
	ft.mu.Lock()
	var due []*fakeTimer
	for _, tm := range ft.pending {
		if !tm.stopped {
			tm.stopped = true
			due = append(due, tm)
		}
	}
	ft.pending = nil
	ft.mu.Unlock()
	for _, tm := range due {
		tm.f()
	}
}

// newTypingEnv is a service on a fake clock and fake timers, with a
// typing timeout of 5 s and no typing budget unless cfg sets one.
func newTypingEnv(t *testing.T, cfg chat.Config) (*env, *fakeClock, *fakeTimers) {
	t.Helper()
	clock := &fakeClock{t: time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC)}
	cfg.TypingTimeout = 5 * time.Second
	if cfg.TypingPerSecond == 0 {
		cfg.TypingPerSecond = -1
	}
	e := newClockEnv(t, cfg, clock)
	timers := &fakeTimers{}
	chat.SetTypingTimer(e.svc, timers.after)
	return e, clock, timers
}

// nextTyping returns the stream's next event, failing after a deadline.
func nextTyping(t *testing.T, ch <-chan *confab.Typing) *confab.Typing {
	t.Helper()
	select {
	case v, ok := <-ch:
		if !ok {
			t.Fatal("onTyping stream closed")
		}
		return v
	case <-time.After(5 * time.Second):
		t.Fatal("no typing event within 5 s")
	}
	return nil
}

func wantTyping(t *testing.T, got *confab.Typing, conversationID, userID string, typing bool) {
	t.Helper()
	if got.ConversationID != conversationID || got.UserID != userID || got.Typing != typing {
		t.Fatalf("typing event = %+v, want conversation %s user %s typing=%v", got, conversationID, userID, typing)
	}
}

func subscribeTyping(t *testing.T, e *env, who confab.Identity, conversationID string) <-chan *confab.Typing {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	ch, err := e.svc.OnTyping(ctx, who, conversationID)
	if err != nil {
		t.Fatal(err)
	}
	return ch
}

func setTyping(t *testing.T, e *env, who confab.Identity, conversationID string, typing bool) {
	t.Helper()
	if ok, err := e.svc.SetTyping(context.Background(), who, conversationID, typing); err != nil || !ok {
		t.Fatalf("SetTyping(%v) = %v, %v", typing, ok, err)
	}
}

func TestService_SetTyping(t *testing.T) {
	ctx := context.Background()

	t.Run("OK", func(t *testing.T) {
		e, _, _ := newTypingEnv(t, chat.Config{})
		alice, bob := e.user(t, "alice"), e.user(t, "bob")
		c := e.conversation(t, alice, bob)
		before, _ := e.svc.GetConversation(ctx, alice, c.ConversationID)
		ch := subscribeTyping(t, e, alice, c.ConversationID)

		setTyping(t, e, bob, c.ConversationID, true)
		got := nextTyping(t, ch)
		wantTyping(t, got, c.ConversationID, bob.UserID, true)
		if got.At.IsZero() {
			t.Fatal("typing event without a time")
		}
		setTyping(t, e, bob, c.ConversationID, true) // a refresh: not reported again
		setTyping(t, e, bob, c.ConversationID, false)
		wantTyping(t, nextTyping(t, ch), c.ConversationID, bob.UserID, false)
		setTyping(t, e, bob, c.ConversationID, false) // already stopped: nothing
		setTyping(t, e, bob, c.ConversationID, true)
		wantTyping(t, nextTyping(t, ch), c.ConversationID, bob.UserID, true)

		// Never stored: the conversation is as it was.
		after, err := e.svc.GetConversation(ctx, alice, c.ConversationID)
		if err != nil {
			t.Fatal(err)
		}
		if after.LastSeq != before.LastSeq || after.LastChangeSeq != before.LastChangeSeq || after.UpdatedAt != nil {
			t.Fatalf("conversation changed by typing: %+v, was %+v", after, before)
		}
	})

	t.Run("NeverEchoed", func(t *testing.T) {
		e, _, _ := newTypingEnv(t, chat.Config{})
		alice, bob := e.user(t, "alice"), e.user(t, "bob")
		c := e.conversation(t, alice, bob)
		bobs := subscribeTyping(t, e, bob, c.ConversationID)
		setTyping(t, e, bob, c.ConversationID, true)
		setTyping(t, e, alice, c.ConversationID, true)
		// Delivery is in publish order: bob's own notice would come first.
		wantTyping(t, nextTyping(t, bobs), c.ConversationID, alice.UserID, true)
	})

	t.Run("Expires", func(t *testing.T) {
		e, clock, timers := newTypingEnv(t, chat.Config{})
		alice, bob, carol := e.user(t, "alice"), e.user(t, "bob"), e.user(t, "carol")
		c := e.conversation(t, alice, bob, carol)
		ch := subscribeTyping(t, e, alice, c.ConversationID)
		if n := len(timers.armed()); n != 0 {
			t.Fatalf("%d timers armed while nobody types, want 0", n)
		}
		t0 := clock.Now()

		setTyping(t, e, bob, c.ConversationID, true)
		wantTyping(t, nextTyping(t, ch), c.ConversationID, bob.UserID, true)
		if got := timers.armed(); len(got) != 1 || got[0] != 5*time.Second {
			t.Fatalf("armed timers %v, want one of 5s", got)
		}

		clock.Set(t0.Add(3 * time.Second))
		setTyping(t, e, bob, c.ConversationID, true) // refreshed: now runs out at t0+8s
		clock.Set(t0.Add(6 * time.Second))
		timers.fire() // the timer armed for t0+5s
		setTyping(t, e, carol, c.ConversationID, true)
		// Bob's refresh held: the next event is carol's, not bob's expiry.
		wantTyping(t, nextTyping(t, ch), c.ConversationID, carol.UserID, true)
		if got := timers.armed(); len(got) != 1 || got[0] != 2*time.Second {
			t.Fatalf("armed timers %v, want one timer, for bob's expiry 2s later", got)
		}

		clock.Set(t0.Add(8 * time.Second))
		timers.fire()
		got := nextTyping(t, ch)
		wantTyping(t, got, c.ConversationID, bob.UserID, false)
		if !got.At.Equal(t0.Add(8 * time.Second)) {
			t.Fatalf("expiry at %v, want %v", got.At, t0.Add(8*time.Second))
		}
		clock.Set(t0.Add(11 * time.Second))
		timers.fire()
		wantTyping(t, nextTyping(t, ch), c.ConversationID, carol.UserID, false)
		if n := len(timers.armed()); n != 0 {
			t.Fatalf("%d timers armed once nobody types, want 0", n)
		}
	})

	t.Run("EndedByMessage", func(t *testing.T) {
		e, _, timers := newTypingEnv(t, chat.Config{})
		alice, bob := e.user(t, "alice"), e.user(t, "bob")
		c := e.conversation(t, alice, bob)
		ch := subscribeTyping(t, e, alice, c.ConversationID)
		setTyping(t, e, bob, c.ConversationID, true)
		wantTyping(t, nextTyping(t, ch), c.ConversationID, bob.UserID, true)
		e.send(t, bob, c.ConversationID, "done typing")
		wantTyping(t, nextTyping(t, ch), c.ConversationID, bob.UserID, false)
		if n := len(timers.armed()); n != 0 {
			t.Fatalf("%d timers armed once nobody types, want 0", n)
		}
	})

	t.Run("TimerStoppedWithStream", func(t *testing.T) {
		e, _, timers := newTypingEnv(t, chat.Config{})
		alice, bob := e.user(t, "alice"), e.user(t, "bob")
		c := e.conversation(t, alice, bob)
		sctx, cancel := context.WithCancel(ctx)
		ch, err := e.svc.OnTyping(sctx, alice, c.ConversationID)
		if err != nil {
			t.Fatal(err)
		}
		setTyping(t, e, bob, c.ConversationID, true)
		nextTyping(t, ch)
		cancel()
		for range ch { // drains until the stream closes
		}
		if n := len(timers.armed()); n != 0 {
			t.Fatalf("%d timers armed after the stream ended, want 0", n)
		}
	})

	t.Run("ErrRateLimited", func(t *testing.T) {
		e, clock, _ := newTypingEnv(t, chat.Config{TypingPerSecond: 1}) // bursts of 2
		alice, bob := e.user(t, "alice"), e.user(t, "bob")
		c := e.conversation(t, alice, bob)
		setTyping(t, e, bob, c.ConversationID, true)
		setTyping(t, e, bob, c.ConversationID, true)
		_, err := e.svc.SetTyping(ctx, bob, c.ConversationID, true)
		wantCode(t, err, confab.CodeLimited)
		setTyping(t, e, alice, c.ConversationID, true) // per user
		clock.Set(clock.Now().Add(time.Second))
		setTyping(t, e, bob, c.ConversationID, true)
	})

	t.Run("ErrNotMember", func(t *testing.T) {
		e, _, _ := newTypingEnv(t, chat.Config{})
		alice, bob, eve := e.user(t, "alice"), e.user(t, "bob"), e.user(t, "eve")
		c := e.conversation(t, alice, bob)
		_, err := e.svc.SetTyping(ctx, eve, c.ConversationID, true)
		wantCode(t, err, confab.CodeNotFound)
		_, err = e.svc.OnTyping(ctx, eve, c.ConversationID)
		wantCode(t, err, confab.CodeNotFound)
		_, err = e.svc.SetTyping(ctx, confab.Identity{}, c.ConversationID, true)
		wantCode(t, err, confab.CodeUnauthenticated)
	})
}
