package realtime

import (
	"bufio"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/gorilla/websocket"
)

// Reading a connection's frames. An idle connection should cost as little
// as possible, and a goroutine parked on its socket costs its stack (8 KiB
// once the WebSocket frame reader has run on it). So, on Linux, a
// connection has no goroutine at all while the client is silent: the
// Hub's poller (epoll, one-shot) takes the client's pongs itself and
// starts a drain goroutine for anything else, which reads and handles
// every frame there is and then re-arms the poller. Elsewhere, and for
// TLS connections, a reader goroutine parks a few frames deep on the
// socket (awaitInput) and reads and handles each frame on short-lived
// goroutines.
//
// Either way the client's pongs, the only thing an idle client sends, and
// its pings are consumed without the frame reader (skipControl): after a
// control frame it would wait for the next data frame, parked deep, for as
// long as the client is silent.

// errPollClosed is the end of a polled connection whose socket was
// deregistered (Close) while its drain was finishing.
var errPollClosed = errors.New("realtime: connection closed")

// Run starts reading the connection: handle is called with each text frame
// from the client, in order and never two at once; an error from it (a
// *CloseError to choose the close code) or from reading ends the connection
// through Finish. The upgrade handler calls Run and returns: net/http then
// drops its per-request state, which an idle connection would otherwise
// keep for its whole life.
func (c *Conn) Run(handle func(frame []byte) error) {
	c.handle = handle
	c.heard.Store(time.Now().UnixNano())
	if p := c.hub.poll; p != nil && c.raw != nil && p.add(c) == nil {
		return
	}
	go c.readLoop() // not polled: on error, or closed already (the first read fails)
}

// readable is the poller's news that the socket has input. The client's
// pongs, the only traffic of an idle client, are taken right here
// (takePongs), on the poller's goroutine; anything else starts a drain
// goroutine. At most one drain runs; an event that finds one running is
// covered by it (the drain reads until the socket is empty, and re-arming
// reports input that came in meanwhile).
func (c *Conn) readable() {
	if !c.reading.CompareAndSwap(false, true) {
		return
	}
	if c.br.Buffered() == 0 {
		taken, err := c.takePongs()
		if err != nil {
			go c.Finish(err)
			return
		}
		if taken {
			c.rest()
			return
		}
	}
	go c.drain()
}

// drain reads and handles every frame the client has sent, then re-arms
// the poller. An error ends the connection; drain then keeps the reading
// claim, so nothing else finishes it.
func (c *Conn) drain() {
	c.borrowBuffer()
	for {
		if c.br.Buffered() == 0 {
			ready, err := c.inputReady()
			if err != nil {
				c.Finish(err)
				return
			}
			if !ready {
				c.returnBuffer()
				break
			}
		}
		control, err := c.skipControl()
		if err == nil && !control {
			var frame []byte
			if frame, err = c.readMessage(); err == nil {
				err = c.handle(frame)
			}
		}
		if err != nil {
			c.Finish(err)
			return
		}
	}
	c.rest()
}

// readBuffers lends read buffers to polled connections while they drain.
// An idle connection then holds none: the frame reader's bufio.Reader (the
// one gorilla reads through) is emptied when a drain has read everything,
// and given a buffer from here when the next one starts. Pongs are taken
// without it (takePongs).
var readBuffers = sync.Pool{New: func() any { return bufio.NewReaderSize(nil, readBufferSize) }}

// borrowBuffer gives the frame reader a buffer for a drain, unless it
// has one (the first drain has the upgrade's). Only the holder of the
// reading claim calls it.
func (c *Conn) borrowBuffer() {
	if c.br.Size() > 0 {
		return
	}
	c.lent = readBuffers.Get().(*bufio.Reader)
	c.lent.Reset(c.ws.NetConn())
	*c.br = *c.lent
}

// returnBuffer gives the frame reader's buffer back to readBuffers; the
// buffer must be empty (Buffered() == 0). Only the holder of the reading
// claim calls it.
func (c *Conn) returnBuffer() {
	if c.lent == nil {
		c.lent = new(bufio.Reader) // the upgrade's buffer joins the pool
	}
	*c.lent = *c.br
	c.lent.Reset(nil)
	readBuffers.Put(c.lent)
	c.lent = nil
	*c.br = bufio.Reader{} // Size 0, Buffered 0: nothing to read until borrowBuffer
}

// rest gives up the reading claim and re-arms the poller for the next
// input.
func (c *Conn) rest() {
	c.reading.Store(false)
	if err := c.hub.poll.arm(c); err != nil && c.reading.CompareAndSwap(false, true) {
		go c.Finish(err) // Close deregistered the socket and found no drain running
	}
}

// closePolled ends a polled connection whose socket Close has just closed,
// unless a drain is running (its next read fails and it finishes).
func (c *Conn) closePolled() {
	if c.reading.CompareAndSwap(false, true) {
		go c.Finish(errPollClosed)
	}
}

// readLoop is the reader goroutine of a connection that is not polled.
func (c *Conn) readLoop() {
	for {
		frame, err := c.readFrame()
		if err == nil {
			err = c.onGoroutine(func() error { return c.handle(frame) })
		}
		if err != nil {
			c.Finish(err)
			return
		}
	}
}

// readFrame waits for the next text frame from the client (awaitInput,
// skipControl) and reads it on a short-lived goroutine.
func (c *Conn) readFrame() ([]byte, error) {
	for {
		if err := c.awaitInput(); err != nil {
			return nil, err
		}
		control, err := c.skipControl()
		if err != nil {
			return nil, err
		}
		if !control {
			break
		}
	}
	var frame []byte
	err := c.onGoroutine(func() (err error) {
		frame, err = c.readMessage()
		return err
	})
	return frame, err
}

// onGoroutine runs fn on a short-lived goroutine and waits for it, so that
// the stack fn grows (JSON, token verification, GraphQL parsing, the frame
// reader) is not kept by the reader goroutine parked between frames.
func (c *Conn) onGoroutine(fn func() error) error {
	done := make(chan error, 1)
	go func() { done <- fn() }()
	return <-done
}

// readMessage reads one whole message and refreshes the idle deadline.
func (c *Conn) readMessage() ([]byte, error) {
	kind, data, err := c.ws.ReadMessage()
	if err != nil {
		return nil, err
	}
	c.heardNow()
	if kind != websocket.TextMessage {
		// Binary frames carry nothing in either protocol.
		return nil, &CloseError{Code: websocket.CloseUnsupportedData, Reason: "binary frames are not supported"}
	}
	return data, nil
}

// heardNow notes that the client spoke: the idle deadline (a reader
// blocked mid-frame) and the idle check of polled connections move on.
func (c *Conn) heardNow() error {
	now := time.Now()
	c.heard.Store(now.UnixNano())
	return c.ws.SetReadDeadline(now.Add(c.idleLimit()))
}

// idleLimit is how long a client may stay silent, pongs included.
func (c *Conn) idleLimit() time.Duration { return 3 * c.hub.cfg.KeepAlive }

// silent reports whether a polled connection's client has said nothing,
// not even a pong, for longer than idleLimit. (A reader goroutine gets the
// read deadline's error instead.)
func (c *Conn) silent() bool {
	c.mu.Lock()
	polled := c.polled
	c.mu.Unlock()
	return polled && time.Since(time.Unix(0, c.heard.Load())) > c.idleLimit()
}

// skipControl consumes the next frame if it is a ping or a pong, as the
// frame reader's handlers would: a pong (the client's answer to the
// keep-alive ping) is dropped, a ping is answered with a pong carrying its
// payload. After a control frame the frame reader would wait for the next
// data frame, parked deep, for as long as the client says nothing else.
// Anything else, or a malformed control frame, is left to the frame
// reader. It blocks only for the rest of a frame that has begun to arrive.
func (c *Conn) skipControl() (bool, error) {
	if c.raw == nil {
		return false, nil
	}
	h, err := c.br.Peek(2)
	if err != nil {
		return false, err
	}
	opcode, n, ok := controlFrame(h)
	if !ok {
		return false, nil
	}
	f, err := c.br.Peek(n)
	if err != nil {
		return false, err
	}
	if opcode == websocket.PingMessage {
		payload := make([]byte, n-6)
		for i := range payload {
			payload[i] = f[6+i] ^ f[2+i%4] // unmask
		}
		// As gorilla's default ping handler: a failed write is the
		// writer's to notice.
		c.ws.WriteControl(websocket.PongMessage, payload, time.Now().Add(c.hub.cfg.WriteTimeout))
	}
	c.br.Discard(n)
	return true, c.heardNow()
}

// takePongs consumes what the client has sent, straight from the socket,
// if it is nothing but whole pongs; otherwise (anything else, part of a
// frame, or an end of input) it takes nothing and reports false. The
// frame reader's buffer must be empty.
func (c *Conn) takePongs() (bool, error) {
	var buf [256]byte // a few pongs: a client's pong is at most 131 bytes
	n, err := c.recv(buf[:], true)
	if err != nil || n <= 0 {
		return false, nil // the drain reads the error or the end
	}
	for i := 0; i < n; {
		opcode, size, ok := controlFrame(buf[i:n])
		if !ok || opcode != websocket.PongMessage || i+size > n {
			return false, nil // pings are answered by a drain: a write could block the poller
		}
		i += size
	}
	if m, err := c.recv(buf[:n], false); err != nil || m != n {
		// The peeked bytes are queued, so this cannot happen; if it did,
		// the stream would be out of step with the frame reader.
		return false, fmt.Errorf("realtime: discarding %d bytes of pongs: read %d: %v", n, m, err)
	}
	return true, c.heardNow()
}

// controlFrame reports whether h begins with the header of a ping or a
// pong from a client (final, masked, a control frame's at most 125 bytes
// of payload) and if so its opcode and the frame's whole length: header,
// mask key and payload.
func controlFrame(h []byte) (opcode, n int, ok bool) {
	const fin, masked = 0x80, 0x80
	if len(h) < 2 || h[1]&masked == 0 || int(h[1]&^masked) > 125 {
		return 0, 0, false
	}
	switch h[0] {
	case fin | websocket.PingMessage, fin | websocket.PongMessage:
		return int(h[0] &^ fin), 2 + 4 + int(h[1]&^masked), true
	}
	return 0, 0, false
}

// awaitInput returns once the client has sent something the frame reader
// has not read yet, or with the read deadline's error (a net.Error, as
// from a read). It waits on the socket without reading (peekReady), so the
// frame reader sees every byte. On a connection that is not a plain
// socket it returns at once.
func (c *Conn) awaitInput() error {
	if c.raw == nil || c.br.Buffered() > 0 {
		return nil
	}
	return c.raw.Read(peekReady)
}

// inputReady reports, without waiting, whether the socket has input (or
// an end or error for the next read to report).
func (c *Conn) inputReady() (ready bool, err error) {
	err = c.raw.Read(func(fd uintptr) bool {
		ready = peekReady(fd)
		return true
	})
	return ready, err // past the idle deadline: its error, as from a read
}
