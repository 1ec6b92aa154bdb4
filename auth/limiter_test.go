package auth

import (
	"strconv"
	"testing"
	"time"
)

func TestLimiter_Bounded(t *testing.T) {
	clk := &clock{t: time.Now()}
	l := newLimiter(5, time.Minute, clk.now)
	for i := range maxLimiterKeys + 10 {
		l.hit(strconv.Itoa(i))
	}
	if n := len(l.keys); n > maxLimiterKeys {
		t.Fatalf("limiter holds %d keys, want at most %d", n, maxLimiterKeys)
	}
}
