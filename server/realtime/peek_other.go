//go:build !unix

package realtime

// peekReady reports the socket ready at once where MSG_PEEK is not
// available: the reader then parks inside the frame reader.
func peekReady(uintptr) bool { return true }

// recv is never called where there is no poller (see poll_other.go).
func (c *Conn) recv([]byte, bool) (int, error) { return 0, errPollClosed }
