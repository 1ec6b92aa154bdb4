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
