package auth

import (
	"strconv"
	"testing"
	"time"
)

func TestAddrKey(t *testing.T) {
	tests := []struct{ in, want string }{
		{"10.0.0.1", "addr:10.0.0.1"},
		{"::ffff:10.0.0.1", "addr:10.0.0.1"},
		{"2001:db8:1:2:3:4:5:6", "addr:2001:db8:1:2::/64"},
		{"fe80::1%eth0", "addr:fe80::/64"},
		{"not-an-ip", "addr:not-an-ip"},
	}
	for _, tt := range tests {
		if got := addrKey(tt.in); got != tt.want {
			t.Errorf("addrKey(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

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
