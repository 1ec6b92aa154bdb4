package realtime

import (
	"time"

	"github.com/gorilla/websocket"
)

// The write queue. Every frame to the client, and every pull of a
// subscription's next result, goes through Conn.queue, bounded by
// MaxQueuedFrames (beyond it the client is too slow: closed with 1013). A
// writer goroutine exists only while the queue is non-empty (write); it is
// the only goroutine that writes data frames, and the only caller of an
// operation's ResponseHandler (pull, ops.go).

// item is one unit of work for the writer: a ready frame, or a pull of the
// next result of an operation.
type item struct {
	frame []byte
	op    *op
	ping  bool
	close *CloseError // close the connection once the frames before it are written
}

// Send queues a frame. It never blocks; a connection whose queue is full is
// closed as too slow.
func (c *Conn) Send(frame []byte) { c.enqueue(item{frame: frame}) }

func (c *Conn) enqueue(it item) {
	c.mu.Lock()
	start := c.queueLocked(it)
	c.mu.Unlock()
	if start {
		go c.write()
	}
}

// queueLocked appends it to the queue and reports whether the caller must
// start the writer (go c.write(), once c.mu is released). A closed
// connection drops it; a full queue closes the connection as too slow.
// Callers hold c.mu.
func (c *Conn) queueLocked(it item) (startWriter bool) {
	if c.closed {
		return false
	}
	if len(c.queue) >= c.hub.cfg.MaxQueuedFrames {
		// Not on this goroutine: it may be a publisher's, which must not
		// wait for a close frame to be written.
		go c.Close(websocket.CloseTryAgainLater, "slow consumer: reconnect and resume")
		return false
	}
	c.queue = append(c.queue, it)
	start := !c.writing
	c.writing = true
	return start
}

// write drains the queue, then exits: the writer exists only while there
// is something to write.
func (c *Conn) write() {
	for {
		c.mu.Lock()
		if len(c.queue) == 0 || c.closed {
			c.queue = nil
			c.writing = false
			c.mu.Unlock()
			return
		}
		it := c.queue[0]
		c.queue[0] = item{}
		c.queue = c.queue[1:]
		c.mu.Unlock()

		if it.close != nil {
			c.Close(it.close.Code, it.close.Reason)
			return
		}
		frame := it.frame
		if it.op != nil {
			frame = c.pull(it.op)
			if frame == nil {
				continue
			}
		}
		deadline := time.Now().Add(c.hub.cfg.WriteTimeout)
		var err error
		if it.ping {
			err = c.ws.WriteControl(websocket.PingMessage, nil, deadline)
		} else {
			c.ws.SetWriteDeadline(deadline)
			err = c.ws.WriteMessage(websocket.TextMessage, frame)
		}
		if err != nil {
			c.Close(websocket.CloseAbnormalClosure, "")
			return
		}
	}
}

// CloseAfterFlush closes the connection once the frames already queued
// (an error frame, say) have been written.
func (c *Conn) CloseAfterFlush(code int, reason string) {
	c.enqueue(item{close: &CloseError{Code: code, Reason: reason}})
}

// keepAlive queues a WebSocket ping and the protocol's keep-alive frame.
func (c *Conn) keepAlive() {
	c.enqueue(item{ping: true})
	if ka := c.proto.KeepAlive(); ka != nil {
		c.Send(ka)
	}
}
