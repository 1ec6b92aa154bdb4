package realtime

import (
	"sync"
	"syscall"
)

// poller watches the sockets of idle connections with one epoll instance
// and one goroutine for the Hub, so that an idle connection needs no
// goroutine of its own (see reader.go). Each socket is registered one-shot:
// an event disarms it until its drain has read everything and calls arm.
// Go's own poller keeps its registration of the same socket; reads still
// go through it.
type poller struct {
	epfd int
	wake [2]int // a pipe: a byte on wake[1] ends run

	mu      sync.Mutex
	conns   map[int32]*Conn // guarded by mu: registered sockets by descriptor
	stopped bool            // guarded by mu: stop was called; the descriptors are closing
	done    chan struct{}   // closed when run has returned and closed the descriptors
}

const pollEvents = syscall.EPOLLIN | syscall.EPOLLRDHUP | syscall.EPOLLONESHOT

// newPoller starts a poller, or returns nil if the system refuses one (the
// Hub then gives each connection a reader goroutine).
func newPoller() *poller {
	epfd, err := syscall.EpollCreate1(syscall.EPOLL_CLOEXEC)
	if err != nil {
		return nil
	}
	p := &poller{epfd: epfd, conns: make(map[int32]*Conn), done: make(chan struct{})}
	if err := syscall.Pipe2(p.wake[:], syscall.O_CLOEXEC|syscall.O_NONBLOCK); err != nil {
		syscall.Close(epfd)
		return nil
	}
	ev := syscall.EpollEvent{Events: syscall.EPOLLIN, Fd: int32(p.wake[0])}
	if err := syscall.EpollCtl(epfd, syscall.EPOLL_CTL_ADD, p.wake[0], &ev); err != nil {
		p.closeFDs()
		return nil
	}
	go p.run()
	return p
}

func (p *poller) run() {
	defer close(p.done)
	defer func() {
		p.mu.Lock()
		defer p.mu.Unlock()
		p.stopped = true
		p.closeFDs()
	}()
	events := make([]syscall.EpollEvent, 128)
	for {
		n, err := syscall.EpollWait(p.epfd, events, -1)
		if err == syscall.EINTR {
			continue
		}
		if err != nil {
			// Cannot happen short of a bug. New connections then get a
			// reader goroutine each (add fails); the registered ones hear
			// nothing more, so their pongs stop and the keep-alive tick
			// closes them as silent, and their clients reconnect.
			return
		}
		for _, ev := range events[:n] {
			if int(ev.Fd) == p.wake[0] {
				return
			}
			p.mu.Lock()
			c := p.conns[ev.Fd]
			p.mu.Unlock()
			if c != nil {
				c.readable()
			}
		}
	}
}

// add registers c's socket, unless c is closed already. Holding c.mu
// while registering keeps Close from closing the descriptor in between
// (Close deregisters first, and a closed descriptor's number may be
// reused at once).
func (p *poller) add(c *Conn) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return errPollClosed
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.stopped {
		return errPollClosed
	}
	ev := syscall.EpollEvent{Events: pollEvents, Fd: c.fd}
	if err := syscall.EpollCtl(p.epfd, syscall.EPOLL_CTL_ADD, int(c.fd), &ev); err != nil {
		return err
	}
	p.conns[c.fd] = c
	c.polled = true
	return nil
}

// arm re-enables c's one-shot registration; the kernel reports input
// that arrived while it was disarmed. errPollClosed if c was removed.
func (p *poller) arm(c *Conn) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.stopped || p.conns[c.fd] != c {
		return errPollClosed
	}
	ev := syscall.EpollEvent{Events: pollEvents, Fd: c.fd}
	return syscall.EpollCtl(p.epfd, syscall.EPOLL_CTL_MOD, int(c.fd), &ev)
}

// remove deregisters c's socket; Close calls it before closing the socket.
func (p *poller) remove(c *Conn) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.stopped || p.conns[c.fd] != c {
		return
	}
	delete(p.conns, c.fd)
	syscall.EpollCtl(p.epfd, syscall.EPOLL_CTL_DEL, int(c.fd), nil) // the socket is closed next either way
}

// stop ends run and waits for it; later calls only wait. Connections
// still registered keep their sockets; the Hub closes them first.
func (p *poller) stop() {
	p.mu.Lock()
	if !p.stopped {
		p.stopped = true
		syscall.Write(p.wake[1], []byte{0})
	}
	p.mu.Unlock()
	<-p.done
}

// closeFDs closes the pipe and the epoll instance (a failed start, or the
// end of run with mu held).
func (p *poller) closeFDs() {
	syscall.Close(p.wake[0])
	syscall.Close(p.wake[1])
	syscall.Close(p.epfd)
}
