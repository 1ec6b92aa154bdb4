package bench

import (
	"bytes"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
)

// frameKind says what a received frame is to the accounting.
type frameKind int

const (
	frameIgnore   frameKind = iota // keep-alive, ack, anything else
	frameDelivery                  // one message delivered
	frameEnd                       // the server ended the subscription (error, complete)
)

// delivery is what the accounting needs of one delivered message.
type delivery struct {
	seq    int64 // the conversation's seq; negative when the frame had none
	sentAt int64 // UnixNano embedded in the content by the sender; 0 when absent
	warmUp bool  // a warm-up message (content "w=…"): not measured
}

// subscriber is one subscription's receiving end: one connection, one
// reader goroutine, and the accounting for what arrived.
type subscriber struct {
	conv int // index of its conversation

	// Set by the target's subscribe before the reader starts.
	next  func(buf *bytes.Buffer) error            // reads the next frame into buf
	parse func(frame []byte) (delivery, frameKind) // classifies a frame
	pong  func() error                             // answers a protocol-level ping; may be nil

	// Owned by the reader goroutine while it runs; Run reads them after
	// the reader has finished.
	seen       seqSet
	lat        []float64 // send→deliver, ms
	dups       int64
	outOfOrder int64
	maxSeq     int64

	// Read by the progress, warm-up and drain loops while the reader runs.
	count  atomic.Int64 // distinct measured messages received
	warmed atomic.Bool  // the warm-up message arrived: the subscription is live
	ended  atomic.Bool  // the connection or the subscription ended before the run did
}

// maxFrames bounds one reader's loop; a run ends long before.
const maxFrames = 1 << 40

// read receives until the connection fails or is closed, counting each
// delivery once.
func (s *subscriber) read(deliveries *atomic.Int64) {
	var buf bytes.Buffer
	for range maxFrames {
		if err := s.next(&buf); err != nil {
			s.ended.Store(true)
			return
		}
		d, kind := s.parse(buf.Bytes())
		switch kind {
		case frameEnd:
			s.ended.Store(true)
			return
		case frameIgnore:
			if s.pong != nil && isPing(buf.Bytes()) {
				if s.pong() != nil {
					s.ended.Store(true)
					return
				}
			}
			continue
		}
		now := time.Now().UnixNano()
		if d.seq >= 0 {
			if !s.seen.add(d.seq) {
				s.dups++
				continue
			}
			if d.seq < s.maxSeq {
				s.outOfOrder++
			} else {
				s.maxSeq = d.seq
			}
		}
		if d.warmUp {
			s.warmed.Store(true)
			continue
		}
		if d.sentAt > 0 {
			s.lat = append(s.lat, float64(now-d.sentAt)/1e6)
		}
		s.count.Add(1)
		deliveries.Add(1)
	}
}

func isPing(frame []byte) bool { return bytes.Contains(frame, []byte(`"type":"ping"`)) }

// seqSet remembers which seqs arrived: a bitmap for the small seqs of the
// bench's own fresh conversations, a map beyond it.
type seqSet struct {
	bits  []uint64
	large map[int64]bool
}

// maxBitmapSeq bounds the bitmap (2 MiB) so that a stray huge seq cannot
// make it balloon.
const maxBitmapSeq = 1 << 24

// add records seq and reports whether it is new.
func (s *seqSet) add(seq int64) bool {
	if seq >= maxBitmapSeq {
		if s.large == nil {
			s.large = make(map[int64]bool)
		}
		if s.large[seq] {
			return false
		}
		s.large[seq] = true
		return true
	}
	w, bit := int(seq/64), uint64(1)<<(seq%64)
	if w >= len(s.bits) {
		s.bits = append(s.bits, make([]uint64, w+1-len(s.bits)+len(s.bits)/2)...)
	}
	if s.bits[w]&bit != 0 {
		return false
	}
	s.bits[w] |= bit
	return true
}

// content returns size bytes of message content that begin with the send
// time: "t=<UnixNano>;" padded with 'x'.
func content(t time.Time, size int) string {
	b := make([]byte, 0, max(size, 32))
	b = append(b, "t="...)
	b = strconv.AppendInt(b, t.UnixNano(), 10)
	b = append(b, ';')
	for len(b) < size {
		b = append(b, 'x')
	}
	return string(b)
}

// warmUpContent is the content of a warm-up message; its prefix keeps it
// apart from measured messages.
func warmUpContent(size int) string {
	return "w=" + strings.Repeat("x", max(size, minSize)-2)
}

func isWarmUp(content []byte) bool { return bytes.HasPrefix(content, []byte("w=")) }

// sentAt extracts the send time from content that starts "t=<UnixNano>;".
func sentAt(content []byte) (int64, bool) {
	rest, ok := bytes.CutPrefix(content, []byte("t="))
	if !ok {
		return 0, false
	}
	num, _, ok := bytes.Cut(rest, []byte(";"))
	if !ok {
		return 0, false
	}
	n, ok := atoi(num)
	return n, ok && n > 0
}

// atoi parses a non-negative decimal without allocating.
func atoi(b []byte) (int64, bool) {
	if len(b) == 0 || len(b) > 19 {
		return 0, false
	}
	var n int64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int64(c-'0')
	}
	return n, true
}
