package realtime

import (
	"context"
	"testing"
	"time"

	"github.com/confab-chat/confab"
	"github.com/gorilla/websocket"
)

// TestPresence_BoundedWriters: a burst of connections records presence on
// at most maxPresenceWriters goroutines, every queued connection's in turn,
// and each is released when its connection ends.
func TestPresence_BoundedWriters(t *testing.T) {
	entered := make(chan struct{}, 64)
	gate := make(chan struct{})
	released := make(chan struct{}, 64)
	th := newTestHub(t, Config{Connect: func(context.Context, string) func() {
		entered <- struct{}{}
		<-gate
		return func() { released <- struct{}{} }
	}}, nil)
	const conns = 3 * maxPresenceWriters
	var cs []*Conn
	for range conns {
		_, c := th.dial(t, nil)
		if err := c.Authenticated(confab.Identity{UserID: "u"}, func() {}); err != nil {
			t.Fatal(err)
		}
		cs = append(cs, c)
	}
	wait := func(ch chan struct{}, n int, what string) {
		t.Helper()
		for i := range n {
			select {
			case <-ch:
			case <-time.After(waitTimeout):
				t.Fatalf("%d of %d %s", i, n, what)
			}
		}
	}
	wait(entered, maxPresenceWriters, "presence writes started")
	select {
	case <-entered:
		t.Fatalf("more than %d presence writes at once", maxPresenceWriters)
	default:
	}
	close(gate)
	wait(entered, conns-maxPresenceWriters, "queued presence writes ran")
	for _, c := range cs {
		c.Close(websocket.CloseNormalClosure, "")
	}
	wait(released, conns, "presences released")
}
