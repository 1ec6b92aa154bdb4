package ratelimit

import (
	"fmt"
	"sync"
	"testing"
	"time"
)

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func TestAllowBurstThenRate(t *testing.T) {
	c := &clock{t: time.Unix(1_700_000_000, 0)}
	k := New(10, 20).WithClock(c.now)
	for i := range 20 {
		if ok, _ := k.Allow("ann"); !ok {
			t.Fatalf("event %d of the burst refused", i+1)
		}
	}
	ok, wait := k.Allow("ann")
	if ok {
		t.Fatal("21st event in the same instant allowed")
	}
	if wait != 100*time.Millisecond {
		t.Errorf("retryAfter = %v, want 100ms (one token at 10/s)", wait)
	}
	// A refused event takes no token: after the wait exactly one passes.
	c.add(wait)
	if ok, _ := k.Allow("ann"); !ok {
		t.Error("event after the advertised wait refused")
	}
	if ok, _ := k.Allow("ann"); ok {
		t.Error("second event after one token's wait allowed")
	}
}

func TestKeysAreIndependent(t *testing.T) {
	c := &clock{t: time.Unix(1_700_000_000, 0)}
	k := New(1, 1).WithClock(c.now)
	if ok, _ := k.Allow("ann"); !ok {
		t.Fatal("ann's first event refused")
	}
	if ok, _ := k.Allow("ann"); ok {
		t.Fatal("ann's second event allowed")
	}
	if ok, _ := k.Allow("bo"); !ok {
		t.Error("bo refused because of ann")
	}
}

func TestNilAllowsEverything(t *testing.T) {
	k := New(0, 10)
	if k != nil {
		t.Fatal("New(0, …) should be nil (unlimited)")
	}
	for range 1000 {
		if ok, _ := k.Allow("x"); !ok {
			t.Fatal("nil Keyed refused")
		}
	}
	if k.Len() != 0 {
		t.Error("nil Keyed has keys")
	}
}

func TestMemoryIsBounded(t *testing.T) {
	c := &clock{t: time.Unix(1_700_000_000, 0)}
	k := New(1, 2).WithClock(c.now)
	k.maxKeys = 100
	// Busy keys (bucket not full) cannot be swept as idle: the table drops
	// half rather than grow.
	for i := range 1000 {
		k.Allow(fmt.Sprint("busy", i))
	}
	if n := k.Len(); n > 100 {
		t.Fatalf("%d keys tracked, bound is 100", n)
	}
}

func TestIdleKeysAreSweptBeforeBusyOnes(t *testing.T) {
	c := &clock{t: time.Unix(1_700_000_000, 0)}
	k := New(1, 2).WithClock(c.now)
	k.maxKeys = 100
	for i := range 99 {
		k.Allow(fmt.Sprint("idle", i))
	}
	c.add(time.Hour) // every bucket so far is full again
	k.Allow("hot")
	k.Allow("hot") // hot's bucket is empty: forgetting it would reset it
	k.Allow("new") // the table is full: the idle keys go
	if n := k.Len(); n != 2 {
		t.Errorf("%d keys tracked after the sweep, want 2 (hot, new)", n)
	}
	if ok, _ := k.Allow("hot"); ok {
		t.Error("hot's empty bucket was reset by the sweep")
	}
}

func TestConcurrentAllowCountsEveryToken(t *testing.T) {
	c := &clock{t: time.Unix(1_700_000_000, 0)}
	k := New(1, 50).WithClock(c.now) // the clock stands still: exactly 50 tokens
	var wg sync.WaitGroup
	var mu sync.Mutex
	allowed := 0
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 100 {
				if ok, _ := k.Allow("ann"); ok {
					mu.Lock()
					allowed++
					mu.Unlock()
				}
			}
		}()
	}
	wg.Wait()
	if allowed != 50 {
		t.Errorf("%d events allowed from a bucket of 50", allowed)
	}
}

func TestAddrKey(t *testing.T) {
	tests := []struct{ in, want string }{
		{"10.0.0.1", "10.0.0.1"},
		{"10.0.0.1:51234", "10.0.0.1"},
		{"::ffff:10.0.0.1", "10.0.0.1"},
		{"2001:db8:1:2:3:4:5:6", "2001:db8:1:2::/64"},
		{"[2001:db8:1:2:3:4:5:6]:443", "2001:db8:1:2::/64"},
		{"fe80::1%eth0", "fe80::/64"},
		{"not-an-ip", "not-an-ip"},
	}
	for _, tt := range tests {
		if got := AddrKey(tt.in); got != tt.want {
			t.Errorf("AddrKey(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
