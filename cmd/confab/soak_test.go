package main

import (
	"context"
	"io"
	"runtime"
	"testing"
	"time"

	"github.com/confab-chat/confab/bench"
)

// TestSoak_ResourcesReturnToBaseline runs the load tool against a real
// server (in this process) with 2,000 subscriber connections and checks that
// after the clients leave, goroutines and heap return to their baseline.
func TestSoak_ResourcesReturnToBaseline(t *testing.T) {
	if testing.Short() {
		t.Skip("soak")
	}
	a := runMain(t, unlimitedFlags...)
	measure := func() (int, uint64) {
		runtime.GC()
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		return runtime.NumGoroutine(), m.HeapInuse
	}
	g0, h0 := measure()
	r, err := bench.Run(context.Background(), bench.Config{
		URL: a.url, Subscribers: 2000, Conversations: 20, Senders: 4, Rate: 200, Duration: 3 * time.Second,
	}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if r.Lost != 0 || r.Duplicated != 0 || r.Deliveries == 0 {
		t.Fatalf("soak run: %+v", r)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		g, h := measure()
		if g <= g0+5 && h <= h0+16<<20 {
			t.Logf("baseline %d goroutines, %.1f MiB heap; after 2,000 connections and %d deliveries: %d goroutines, %.1f MiB heap",
				g0, float64(h0)/(1<<20), r.Deliveries, g, float64(h)/(1<<20))
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("after the clients left: %d goroutines (baseline %d), %.1f MiB heap (baseline %.1f)", g, g0, float64(h)/(1<<20), float64(h0)/(1<<20))
		}
		time.Sleep(100 * time.Millisecond) // polling resource counts, not synchronising with an event
	}
}
