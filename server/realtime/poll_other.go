//go:build !linux

package realtime

// poller is Linux-only (epoll); elsewhere every connection has a reader
// goroutine. The methods are never called on the nil poller.
type poller struct{}

func newPoller() *poller { return nil }

func (*poller) add(*Conn) error { return errPollClosed }
func (*poller) arm(*Conn) error { return errPollClosed }
func (*poller) remove(*Conn)    {}
func (*poller) stop()           {}
