//go:build unix

package realtime

import "syscall"

// peekReady is a syscall.RawConn.Read callback: it reports whether the
// socket has input (or an end or error for the next read to report)
// without taking any of it. false makes the runtime park the caller until
// the socket is readable, then call it again.
func peekReady(fd uintptr) bool {
	var b [1]byte
	for {
		_, _, err := syscall.Recvfrom(int(fd), b[:], syscall.MSG_PEEK|syscall.MSG_DONTWAIT)
		switch err {
		case syscall.EINTR:
			continue
		case syscall.EAGAIN:
			return false
		}
		return true
	}
}

// recv reads from the socket without waiting; peek leaves the bytes
// queued.
func (c *Conn) recv(b []byte, peek bool) (n int, err error) {
	flags := syscall.MSG_DONTWAIT
	if peek {
		flags |= syscall.MSG_PEEK
	}
	rerr := c.raw.Read(func(fd uintptr) bool {
		for {
			n, _, err = syscall.Recvfrom(int(fd), b, flags)
			if err != syscall.EINTR {
				return true
			}
		}
	})
	if rerr != nil {
		return 0, rerr
	}
	return n, err
}
