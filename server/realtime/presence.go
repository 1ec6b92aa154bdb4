package realtime

import "sync"

// Presence writes. Config.Connect is a store write, and a burst of
// connections (every client of a node reconnecting after a restart, or
// 15,000 idle subscribers arriving in a benchmark) used to start one
// goroutine per connection for it, all but a few waiting for the store's
// write connection: 13,000 goroutines at once, whose stacks the runtime
// then keeps as idle heap, and whose goroutine records it keeps for good.
// So connections queue their presence here and at most maxPresenceWriters
// goroutines per Hub write it, oldest first.

// maxPresenceWriters bounds the goroutines that record presence at once.
// The store serialises writes anyway (SQLite has one write connection);
// a few more than one keep a networked store busy.
const maxPresenceWriters = 8

// presenceQueue holds the connections whose presence is not recorded yet.
type presenceQueue struct {
	mu      sync.Mutex
	pending []*Conn // guarded by mu: oldest first
	writers int     // guarded by mu: goroutines running write
}

// add queues c's presence and starts a writer if fewer than
// maxPresenceWriters run.
func (q *presenceQueue) add(c *Conn) {
	q.mu.Lock()
	q.pending = append(q.pending, c)
	start := q.writers < maxPresenceWriters
	if start {
		q.writers++
	}
	q.mu.Unlock()
	if start {
		go q.write()
	}
}

// write records the presence of queued connections until none is left.
func (q *presenceQueue) write() {
	for {
		q.mu.Lock()
		if len(q.pending) == 0 {
			q.pending = nil // a burst's backing array goes with it
			q.writers--
			q.mu.Unlock()
			return
		}
		c := q.pending[0]
		q.pending[0] = nil
		q.pending = q.pending[1:]
		q.mu.Unlock()
		c.connectPresence()
	}
}

// connectPresence records c's presence and closes c.presence, which Finish
// waits for (then releases it), so no presence write outlives the
// connection.
func (c *Conn) connectPresence() {
	c.mu.Lock()
	presence, userID := c.presence, c.identity.UserID
	c.mu.Unlock()
	defer close(presence)
	c.release = c.hub.cfg.Connect(c.ctx, userID)
}
