package bench

import (
	"context"
	"io"
	"testing"
	"time"
)

// TestRun_Baseline drives the baseline broadcaster end to end with a small
// shape: every acknowledged send reaches every subscriber of its
// conversation, in order.
func TestRun_Baseline(t *testing.T) {
	r, err := Run(context.Background(), Config{Baseline: true, Subscribers: 20, Conversations: 4, Senders: 2, Rate: 200, Duration: time.Second, Drain: 5 * time.Second}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if r.SendsOK == 0 || r.Deliveries == 0 || r.Lost != 0 || r.Duplicated != 0 || r.Disconnected != 0 {
		t.Fatalf("report = %+v", r)
	}
}

func TestContent_RoundTrip(t *testing.T) {
	at := time.Unix(0, 1732512345678901234)
	c := content(at, 100)
	got, ok := sentAt(c)
	if len(c) != 100 || !ok || !got.Equal(at) {
		t.Fatalf("content %q → %v, %v", c, got, ok)
	}
	if _, ok := sentAt("hello"); ok {
		t.Fatal("plain text has no timestamp")
	}
}
