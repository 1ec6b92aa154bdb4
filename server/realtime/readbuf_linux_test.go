package realtime

import (
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// TestConn_IdleHoldsNoReadBuffer: a polled connection gives its read
// buffer back once a drain has read everything there was, and borrows one
// for the next frame, which it still reads whole, a frame larger than the
// buffer too.
func TestConn_IdleHoldsNoReadBuffer(t *testing.T) {
	frames := make(chan string, 4)
	th := newTestHub(t, Config{}, func(_ *Conn, f []byte) error {
		frames <- string(f)
		return nil
	})
	ws, c := th.dial(t, nil)
	for _, msg := range []string{"first", strings.Repeat("x", 3*readBufferSize), "third"} {
		if err := ws.WriteMessage(websocket.TextMessage, []byte(msg)); err != nil {
			t.Fatal(err)
		}
		select {
		case got := <-frames:
			if got != msg {
				t.Fatalf("read %d bytes %.10q…, want %d bytes %.10q…", len(got), got, len(msg), msg)
			}
		case <-time.After(waitTimeout):
			t.Fatal("frame not handled")
		}
		// Take the reading claim as the poller would: once it is free the
		// drain that handled msg has ended.
		for !c.reading.CompareAndSwap(false, true) {
			runtime.Gosched()
		}
		if n := c.br.Size(); n != 0 {
			t.Errorf("after reading %d bytes the idle connection holds a read buffer of %d bytes, want none", len(msg), n)
		}
		c.rest() // the claim back, the socket re-armed
	}
}
