package storetest

import (
	"sync"
	"time"
)

var presenceTests = []test{
	{"AdjustConnections/TotalAcrossNodes", testAdjustConnections},
	{"AdjustConnections/StaleNodesIgnored", testAdjustConnectionsStale},
	{"AdjustConnections/Concurrent", testAdjustConnectionsConcurrent},
}

func (f *fixture) adjust(user, node string, delta int, now, stale time.Time, want int) {
	f.t.Helper()
	got, err := f.s.AdjustConnections(f.ctx, user, node, delta, now, stale)
	if err != nil || got != want {
		f.t.Fatalf("AdjustConnections(%s, %s, %+d) = %d, %v; want %d", user, node, delta, got, err, want)
	}
}

func testAdjustConnections(f *fixture) {
	t0 := f.now()
	stale := t0.Add(-time.Minute)
	f.adjust("u1", "a", +1, t0, stale, 1)
	f.adjust("u1", "b", +1, t0, stale, 2)
	f.adjust("u1", "a", +1, t0, stale, 3)
	f.adjust("u2", "a", +1, t0, stale, 1) // another user's count is apart
	f.adjust("u1", "a", -1, t0, stale, 2)
	f.adjust("u1", "a", -1, t0, stale, 1) // b still holds one: the user stays online
	f.adjust("u1", "b", -1, t0, stale, 0)
	f.adjust("u1", "b", -1, t0, stale, 0) // never below zero
	f.adjust("u1", "b", +1, t0, stale, 1)
}

func testAdjustConnectionsStale(f *fixture) {
	t0 := f.now()
	stale := t0.Add(-time.Minute)
	// A node whose stamp is older than staleBefore (it died) is not counted.
	f.adjust("u2", "dead", +1, t0.Add(-2*time.Minute), stale, 0)
	f.adjust("u2", "alive", +1, t0, stale, 1)
	// A heartbeat keeps a node's counts alive.
	if err := f.s.TouchConnections(f.ctx, "dead", t0); err != nil {
		f.t.Fatal(err)
	}
	f.adjust("u2", "alive", 0, t0, stale, 2)
}

func testAdjustConnectionsConcurrent(f *fixture) {
	t0 := f.now()
	stale := t0.Add(-time.Minute)
	const n = 16
	var wg sync.WaitGroup
	errs := make(chan error, 2*n)
	for i := range 2 * n {
		node := "a"
		if i%2 == 1 {
			node = "b"
		}
		wg.Go(func() {
			_, err := f.s.AdjustConnections(f.ctx, "u", node, +1, t0, stale)
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			f.t.Fatal(err)
		}
	}
	f.adjust("u", "a", 0, t0, stale, 2*n)
}
