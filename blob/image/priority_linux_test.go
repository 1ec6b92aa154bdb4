package image

import (
	"runtime"
	"syscall"
	"testing"
)

// threadNice returns the calling thread's nice value (the raw syscall
// answers 20 − nice).
func threadNice(t *testing.T) int {
	t.Helper()
	p, err := syscall.Getpriority(syscall.PRIO_PROCESS, syscall.Gettid())
	if err != nil {
		t.Fatal(err)
	}
	return 20 - p
}

func TestProcessor_NiceLowersTheImagesPriority(t *testing.T) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	own := threadNice(t)
	if own >= 15 {
		t.Skipf("the test already runs at nice %d", own)
	}
	for _, tt := range []struct {
		nice, want int
	}{
		{0, own}, // the default: the server's priority
		{15, 15},
		{40, 19}, // the kernel's lowest
		{-1, own},
	} {
		got := -100
		New(Config{Nice: tt.nice}).background(func() { got = threadNice(t) })
		if got != tt.want {
			t.Errorf("Nice %d: the work ran at nice %d, want %d", tt.nice, got, tt.want)
		}
	}
	if n := threadNice(t); n != own {
		t.Errorf("the caller's thread is at nice %d after the work, want %d as before", n, own)
	}
	// A processor's images run there too.
	p := New(Config{Nice: 15})
	if _, err := p.Process(t.Context(), encodePNG(t, quadrants(400, 200))); err != nil {
		t.Fatal(err)
	}
}
