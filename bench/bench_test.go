package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// TestRun_Baseline drives the baseline broadcaster end to end with a small
// shape: every acknowledged send reaches every subscriber of its
// conversation once, in order.
func TestRun_Baseline(t *testing.T) {
	var progress bytes.Buffer
	cfg := Config{Baseline: true, Subscribers: 20, Conversations: 4, Senders: 2, Rate: 200, Duration: time.Second, Drain: 5 * time.Second}
	r, err := Run(t.Context(), cfg, &progress)
	if err != nil {
		t.Fatal(err)
	}
	if r.SendsOK == 0 || r.Deliveries == 0 {
		t.Fatalf("sends %d, deliveries %d; want both > 0", r.SendsOK, r.Deliveries)
	}
	if r.Lost != 0 || r.Duplicated != 0 || r.OutOfOrder != 0 || r.Disconnected != 0 || r.SendErrors != 0 {
		t.Fatalf("lost %d, duplicated %d, out of order %d, disconnected %d, send errors %d; want all 0 (report %+v)",
			r.Lost, r.Duplicated, r.OutOfOrder, r.Disconnected, r.SendErrors, r)
	}
	// Every send reaches the 5 subscribers of its conversation.
	if want := r.SendsOK * 5; r.Expected != want || r.Deliveries != want {
		t.Fatalf("deliveries %d, expected %d; want %d", r.Deliveries, r.Expected, want)
	}
	if r.DeliverP50 <= 0 || r.DeliverMax < r.DeliverP99 || r.DeliverP99 < r.DeliverP50 {
		t.Fatalf("deliver latencies p50 %v p99 %v max %v: not positive and ordered", r.DeliverP50, r.DeliverP99, r.DeliverMax)
	}
	// 200/s for 1 s: never faster than asked (slower on a loaded machine).
	if r.SendsOK < 50 || r.SendsOK > 260 {
		t.Fatalf("sends = %d in %.2fs at rate 200/s", r.SendsOK, r.Seconds)
	}
	if r.Goroutines == nil {
		t.Fatal("baseline goroutines = n/a")
	}

	var table, line bytes.Buffer
	WriteTable(&table, r)
	if !strings.Contains(table.String(), "lost 0") {
		t.Fatalf("table lacks the loss figure:\n%s", table.String())
	}
	if err := WriteJSON(&line, r); err != nil {
		t.Fatal(err)
	}
	var back map[string]any
	if err := json.Unmarshal(line.Bytes(), &back); err != nil || back["out_of_order"] != 0.0 || back["mode"] != "baseline" {
		t.Fatalf("JSON line %s: %v", line.String(), err)
	}
	if strings.Count(line.String(), "\n") != 1 {
		t.Fatalf("JSON is not one line: %q", line.String())
	}
}

// TestRun_Cancel stops a long run early through its context: partial
// report, the context's error, everything closed (goleak checks the rest).
func TestRun_Cancel(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	sending := &signalWriter{want: "sends", seen: make(chan struct{})}
	done := make(chan struct{})
	var r *Report
	var err error
	go func() {
		defer close(done)
		r, err = Run(ctx, Config{Baseline: true, Subscribers: 4, Conversations: 2, Senders: 2, Rate: 100, Duration: time.Hour}, sending)
	}()
	select { // cancel once the run is sending
	case <-sending.seen:
	case <-done:
		t.Fatalf("Run returned early: %v", err)
	case <-time.After(10 * time.Second):
		t.Fatal("no progress line within 10 s")
	}
	cancel()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not return within 10 s of cancellation")
	}
	if !errors.Is(err, context.Canceled) || r == nil || r.SendsOK == 0 {
		t.Fatalf("Run = %+v, %v; want a partial report with sends and context.Canceled", r, err)
	}
}

// signalWriter closes seen the first time a write contains want.
type signalWriter struct {
	want string
	seen chan struct{}
	once sync.Once
}

func (w *signalWriter) Write(p []byte) (int, error) {
	if strings.Contains(string(p), w.want) {
		w.once.Do(func() { close(w.seen) })
	}
	return len(p), nil
}

func TestContent_RoundTrip(t *testing.T) {
	at := time.Unix(0, 1732512345678901234)
	c := content(at, 100)
	got, ok := sentAt([]byte(c))
	if len(c) != 100 || !ok || got != at.UnixNano() {
		t.Fatalf("content %q → %v, %v", c, got, ok)
	}
	if _, ok := sentAt([]byte("hello")); ok {
		t.Fatal("plain text has no timestamp")
	}
}

func TestParseConfabFrame(t *testing.T) {
	const ts = "1732512345678901234"
	tests := []struct {
		name  string
		frame string
		want  delivery
		kind  frameKind
	}{
		{"next", `{"id":"1","type":"next","payload":{"data":{"onMessageSent":{"messageId":"m","conversationId":"c","seq":42,"content":"t=` + ts + `;xx","createdAt":"2026-01-01T00:00:00Z"}}}}`,
			delivery{seq: 42, sentAt: 1732512345678901234}, frameDelivery},
		{"appsync data", `{"id":"1","type":"data","payload":{"data":{"onMessageSent":{"seq":7,"content":"t=` + ts + `;"}}}}`,
			delivery{seq: 7, sentAt: 1732512345678901234}, frameDelivery},
		{"spaced JSON takes the slow path", `{"type": "next", "payload": {"data": {"onMessageSent": {"seq": 3, "content": "t=` + ts + `;x"}}}}`,
			delivery{seq: 3, sentAt: 1732512345678901234}, frameDelivery},
		{"content without time", `{"type":"next","payload":{"data":{"onMessageSent":{"seq":9,"content":"hello"}}}}`,
			delivery{seq: 9}, frameDelivery},
		{"warm-up", `{"type":"next","payload":{"data":{"onMessageSent":{"seq":1,"content":"w=xxxx"}}}}`,
			delivery{seq: 1, warmUp: true}, frameDelivery},
		{"ka", `{"type":"ka"}`, delivery{}, frameIgnore},
		{"start_ack", `{"id":"1","type":"start_ack"}`, delivery{}, frameIgnore},
		{"null data", `{"id":"1","type":"next","payload":{"data":{"onMessageSent":null}}}`, delivery{}, frameIgnore},
		{"error", `{"id":"1","type":"error","payload":[{"message":"no"}]}`, delivery{}, frameEnd},
		{"complete", `{"id":"1","type":"complete"}`, delivery{}, frameEnd},
		{"not JSON", `garbage`, delivery{}, frameIgnore},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, kind := parseConfabFrame([]byte(tt.frame))
			if kind != tt.kind || (kind == frameDelivery && got != tt.want) {
				t.Fatalf("parseConfabFrame = %+v, %d; want %+v, %d", got, kind, tt.want, tt.kind)
			}
		})
	}
}

func TestSubscriber_Accounting(t *testing.T) {
	frames := []string{"1 w=x", "2 b", "3 c", "3 c", "5 e", "4 d", "ka", "6 f"}
	i := 0
	s := &subscriber{
		next: func(buf *bytes.Buffer) error {
			if i == len(frames) {
				return io.EOF
			}
			buf.Reset()
			buf.WriteString(frames[i])
			i++
			return nil
		},
		parse: parseBaselineFrame,
	}
	var n atomic.Int64
	s.read(&n)
	if got := s.count.Load(); got != 5 {
		t.Errorf("count = %d, want 5", got)
	}
	if s.dups != 1 || s.outOfOrder != 1 {
		t.Errorf("dups %d, out of order %d; want 1, 1", s.dups, s.outOfOrder)
	}
	if !s.warmed.Load() {
		t.Error("warmed = false after a warm-up frame, want true")
	}
	if !s.ended.Load() {
		t.Error("ended = false after EOF, want true")
	}
}

func TestSeqSet(t *testing.T) {
	var s seqSet
	for _, seq := range []int64{0, 1, 63, 64, 1000, maxBitmapSeq, 1 << 40} {
		if !s.add(seq) {
			t.Fatalf("add(%d) first time = false", seq)
		}
		if s.add(seq) {
			t.Fatalf("add(%d) second time = true", seq)
		}
	}
}

func TestPercentile(t *testing.T) {
	v := []float64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}
	tests := []struct {
		p    float64
		want float64
	}{{50, 5}, {90, 9}, {99, 10}, {100, 10}, {1, 1}}
	for _, tt := range tests {
		if got := percentile(v, tt.p); got != tt.want {
			t.Errorf("percentile(1..10, %v) = %v, want %v", tt.p, got, tt.want)
		}
	}
	if got := percentile(nil, 50); got != 0 {
		t.Errorf("percentile(nil) = %v, want 0", got)
	}
}

func TestScrapeMetrics(t *testing.T) {
	rss, g := scrapeMetrics(strings.NewReader("# HELP x\nprocess_resident_memory_bytes 4.194304e+07\ngo_goroutines 12 1700000000\ngo_goroutines_other 5\n"))
	if rss == nil || *rss != 40 || g == nil || *g != 12 {
		t.Fatalf("scrapeMetrics = %v, %v; want 40 MiB, 12", rss, g)
	}
	if rss, g := scrapeMetrics(strings.NewReader("up 1\n")); rss != nil || g != nil {
		t.Fatal("absent gauges should be nil (n/a)")
	}
}

func TestJWTSubject(t *testing.T) {
	// {"alg":"none"}.{"sub":"u-123","token_use":"id"}.sig
	tok := "eyJhbGciOiJub25lIn0.eyJzdWIiOiJ1LTEyMyIsInRva2VuX3VzZSI6ImlkIn0.c2ln"
	if got, err := jwtSubject(tok); err != nil || got != "u-123" {
		t.Fatalf("jwtSubject = %q, %v; want u-123", got, err)
	}
	if _, err := jwtSubject("nope"); err == nil {
		t.Fatal("jwtSubject(nope) = nil error")
	}
}
