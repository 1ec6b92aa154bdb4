package realtime

import (
	"bytes"
	"errors"
	"net"
	"syscall"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// wedgedDialer dials with a tiny receive buffer: a client that then never
// reads soon stops the server's writes to it.
func wedgedDialer() *websocket.Dialer {
	nd := &net.Dialer{Control: func(_, _ string, rc syscall.RawConn) error {
		var serr error
		err := rc.Control(func(fd uintptr) {
			serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 4096)
		})
		return errors.Join(err, serr)
	}}
	return &websocket.Dialer{NetDialContext: nd.DialContext}
}

// wedge makes c's writer block on the network: a small send buffer, a
// peer that does not read, and a frame far larger than both buffers.
func wedge(t *testing.T, c *Conn) {
	t.Helper()
	tcp, ok := c.ws.NetConn().(*net.TCPConn)
	if !ok {
		t.Fatalf("server side is %T, want *net.TCPConn", c.ws.NetConn())
	}
	if err := tcp.SetWriteBuffer(4096); err != nil {
		t.Fatal(err)
	}
	c.Send(bytes.Repeat([]byte("x"), 4<<20))
}

// TestHub_KeepAlive_WedgedPeers has peers that went silent with a write
// stuck in the network: closing each takes as long as its close frame's
// deadline (here a minute). Those closes run off the keep-alive goroutine,
// so a healthy connection keeps getting its pings meanwhile.
func TestHub_KeepAlive_WedgedPeers(t *testing.T) {
	const tick = 100 * time.Millisecond // silent after 3 ticks
	th := newTestHub(t, Config{KeepAlive: tick, WriteTimeout: time.Minute, closeTimeout: time.Minute}, nil)

	healthy, _ := th.dial(t, nil)
	pings := make(chan struct{}, 1024)
	healthy.SetPingHandler(func(data string) error {
		pings <- struct{}{}
		return healthy.WriteControl(websocket.PongMessage, []byte(data), time.Now().Add(waitTimeout))
	})
	// The healthy client also sends a pong of its own every quarter
	// interval (RFC 6455 allows unsolicited pongs), so a busy test machine
	// cannot make it look silent.
	stopBeat := make(chan struct{})
	defer close(stopBeat)
	go func() {
		t := time.NewTicker(tick / 4)
		defer t.Stop()
		for {
			select {
			case <-stopBeat:
				return
			case <-t.C:
				healthy.WriteControl(websocket.PongMessage, nil, time.Now().Add(waitTimeout))
			}
		}
	}()
	ended := make(chan error, 1)
	go func() { // answers pings until the connection ends
		for {
			if _, _, err := healthy.ReadMessage(); err != nil {
				ended <- err
				return
			}
		}
	}()

	var wedged []*Conn
	for range 3 {
		ws, c := th.dial(t, wedgedDialer())
		t.Cleanup(func() { ws.Close() }) // unwedges: the stuck write fails
		wedge(t, c)
		wedged = append(wedged, c)
	}
	// The wedged peers are silent after 3 ticks; 20 more pings show that
	// closing them did not hold the keep-alive goroutine.
	for i := range 20 {
		select {
		case <-pings:
		case err := <-ended:
			t.Fatalf("healthy connection ended after %d pings: %v", i, err)
		case <-time.After(waitTimeout):
			t.Fatalf("healthy connection got %d pings after the wedged peers went silent, want 20: the keep-alive tick is blocked", i)
		}
	}
	for i, c := range wedged {
		if !c.closing() {
			t.Errorf("wedged connection %d is not being closed, want it closed as silent", i)
		}
	}
}

// TestHub_KeepAlive_SilentClosed: a client that reads but answers no ping
// (and sends nothing) is closed after 3 intervals with 1001, idle timeout.
func TestHub_KeepAlive_SilentClosed(t *testing.T) {
	th := newTestHub(t, Config{KeepAlive: 20 * time.Millisecond}, nil)
	ws, c := th.dial(t, nil)
	ws.SetPingHandler(func(string) error { return nil }) // silent: no pong
	ws.SetReadDeadline(time.Now().Add(waitTimeout))
	_, _, err := ws.ReadMessage()
	var ce *websocket.CloseError
	if !errors.As(err, &ce) || ce.Code != websocket.CloseGoingAway || ce.Text != "idle timeout" {
		t.Fatalf("read = %v, want close 1001 (idle timeout)", err)
	}
	select {
	case <-c.Done():
	case <-time.After(waitTimeout):
		t.Fatal("the silent connection did not finish")
	}
}

// TestConn_QueueOverflow: a client that reads too slowly lets its queue
// fill (MaxQueuedFrames) while a write is stuck; the connection is then
// closed with 1013 (try again later: reconnect and resume) once the frame
// being written has gone, and the queued frames are dropped.
func TestConn_QueueOverflow(t *testing.T) {
	const queue = 4
	th := newTestHub(t, Config{MaxQueuedFrames: queue, WriteTimeout: time.Minute, closeTimeout: time.Minute}, nil)
	ws, c := th.dial(t, wedgedDialer())
	wedge(t, c)
	for range queue + 1 { // the big frame may still be queued: one more
		c.Send([]byte("small"))
	}
	ws.SetReadDeadline(time.Now().Add(waitTimeout))
	for {
		_, frame, err := ws.ReadMessage()
		var ce *websocket.CloseError
		if errors.As(err, &ce) {
			if ce.Code != websocket.CloseTryAgainLater {
				t.Fatalf("close code = %d (%s), want 1013", ce.Code, ce.Text)
			}
			break
		}
		if err != nil {
			t.Fatalf("read: %v, want close 1013", err)
		}
		if string(frame) == "small" {
			t.Fatal("a queued frame was written after the queue overflowed")
		}
	}
	select {
	case <-c.Done():
	case <-time.After(waitTimeout):
		t.Fatal("the overflowed connection did not finish")
	}
}
