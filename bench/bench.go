// Package bench is the load generator behind `confab bench`: it signs up
// its own users against a running confab server, opens subscriber
// WebSocket connections on either protocol, sends messages over HTTP at a
// given rate, and measures send latency, send-to-deliver latency (the send
// time travels inside the content), throughput, and lost or duplicated
// deliveries. Baseline mode drives a minimal WebSocket broadcaster with the
// same shape, the machine's ceiling to compare against.
//
// Every loop is bounded in count and time; everything stops when the
// context ends. Targets are loopback addresses only.
package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Config is one run's shape.
type Config struct {
	URL           string        // --url: server base URL (http://127.0.0.1:8080)
	SendURL       string        // --send-url: send through another node (default URL): cross-node delivery
	Protocol      string        // --protocol: graphql-ws (graphql-transport-ws) or appsync
	Subscribers   int           // --subscribers S: WebSocket connections, one subscription each
	Conversations int           // --conversations C: subscribers are spread round-robin over them
	Senders       int           // --senders P: concurrent HTTP senders
	Rate          float64       // --rate R: total sends per second; 0 = as fast as possible
	Duration      time.Duration // --duration D: how long to send
	Size          int           // --size B: content bytes per message
	Users         int           // --users: accounts created (connections share them); default 20
	Baseline      bool          // --baseline: drive the in-process broadcast baseline instead
	Drain         time.Duration // how long to wait for deliveries after the last send; default 5 s
}

func (c *Config) defaults() {
	if c.URL == "" {
		c.URL = "http://127.0.0.1:8080"
	}
	c.URL = strings.TrimSuffix(c.URL, "/")
	if c.Protocol == "" {
		c.Protocol = "graphql-ws"
	}
	if c.Subscribers < 0 {
		c.Subscribers = 0
	}
	if c.Conversations <= 0 {
		c.Conversations = 1
	}
	if c.Senders <= 0 {
		c.Senders = 1
	}
	if c.Duration <= 0 {
		c.Duration = 10 * time.Second
	}
	if c.Size < 32 {
		c.Size = 32
	}
	if c.Users <= 0 {
		c.Users = 20
	}
	if c.Users > 99 {
		c.Users = 99 // a conversation holds at most 100 participants
	}
	if c.Drain <= 0 {
		c.Drain = 5 * time.Second
	}
}

// Report is a run's result. Latencies are in milliseconds.
type Report struct {
	Mode          string  `json:"mode"`
	Protocol      string  `json:"protocol"`
	Subscribers   int     `json:"subscribers"`
	Conversations int     `json:"conversations"`
	Senders       int     `json:"senders"`
	Rate          float64 `json:"rate"`
	Seconds       float64 `json:"seconds"`
	SendsOK       int64   `json:"sends_ok"`
	SendErrors    int64   `json:"send_errors"`
	SendsPerSec   float64 `json:"sends_per_sec"`
	SendP50       float64 `json:"send_p50_ms"`
	SendP99       float64 `json:"send_p99_ms"`
	DeliverP50    float64 `json:"deliver_p50_ms"`
	DeliverP95    float64 `json:"deliver_p95_ms"`
	DeliverP99    float64 `json:"deliver_p99_ms"`
	DeliverMax    float64 `json:"deliver_max_ms"`
	Deliveries    int64   `json:"deliveries"`
	DeliveriesSec float64 `json:"deliveries_per_sec"`
	Expected      int64   `json:"expected_deliveries"`
	Lost          int64   `json:"lost"`
	Duplicated    int64   `json:"duplicated"`
	Disconnected  int64   `json:"disconnected"`
	ServerRSSMiB  float64 `json:"server_rss_mib"`
	Goroutines    float64 `json:"server_goroutines"`
}

// Run runs one load test and writes a progress line per second to out.
func Run(ctx context.Context, cfg Config, out io.Writer) (*Report, error) {
	cfg.defaults()
	var tgt target
	if cfg.Baseline {
		b, err := startBaseline()
		if err != nil {
			return nil, err
		}
		defer b.close()
		tgt = b
	} else {
		send := strings.TrimSuffix(cfg.SendURL, "/")
		if send == "" {
			send = cfg.URL
		}
		tgt = &confabTarget{base: cfg.URL, sendBase: send, protocol: cfg.Protocol, http: newHTTPClient(cfg.Senders)}
	}
	setupCtx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	convs, err := tgt.setup(setupCtx, cfg)
	if err != nil {
		return nil, fmt.Errorf("bench: setup: %w", err)
	}

	st := &stats{}
	subs := make([]*subscriber, cfg.Subscribers)
	var wg sync.WaitGroup
	for i := range subs {
		subs[i] = &subscriber{conv: i % len(convs), last: -1}
	}
	// Connect in bounded parallel batches.
	sem := make(chan struct{}, 64)
	var connErr atomic.Value
	for i, s := range subs {
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			if err := tgt.subscribe(setupCtx, i, convs[s.conv], s); err != nil {
				connErr.Store(err)
			}
		}()
	}
	wg.Wait()
	if err, _ := connErr.Load().(error); err != nil {
		tgt.closeAll()
		return nil, fmt.Errorf("bench: subscribe: %w", err)
	}
	for _, s := range subs {
		s := s
		wg.Add(1)
		go func() { defer wg.Done(); s.read(st) }()
	}

	runCtx, stop := context.WithTimeout(ctx, cfg.Duration)
	defer stop()
	sent := make([]atomic.Int64, len(convs)) // successful sends per conversation
	start := time.Now()
	var sendLat [][]float64 = make([][]float64, cfg.Senders)
	var swg sync.WaitGroup
	var seq atomic.Int64
	for p := range cfg.Senders {
		swg.Add(1)
		go func() {
			defer swg.Done()
			var interval time.Duration
			if cfg.Rate > 0 {
				interval = time.Duration(float64(time.Second) * float64(cfg.Senders) / cfg.Rate)
			}
			next := time.Now()
			for k := 0; ; k++ {
				if interval > 0 {
					next = next.Add(interval)
					if d := time.Until(next); d > 0 {
						select {
						case <-runCtx.Done():
							return
						case <-time.After(d):
						}
					}
				}
				if runCtx.Err() != nil {
					return
				}
				n := seq.Add(1)
				ci := int(n) % len(convs)
				t0 := time.Now()
				// The request outlives runCtx: a send in flight when the
				// run ends may still commit, so it finishes and is counted.
				sctx, cancel := context.WithTimeout(ctx, 30*time.Second)
				err := tgt.send(sctx, p, convs[ci], content(t0, cfg.Size))
				cancel()
				if err != nil {
					st.sendErrors.Add(1)
					continue
				}
				sent[ci].Add(1)
				st.sendsOK.Add(1)
				sendLat[p] = append(sendLat[p], ms(time.Since(t0)))
			}
		}()
	}
	progress := time.NewTicker(time.Second)
	defer progress.Stop()
	done := make(chan struct{})
	go func() { swg.Wait(); close(done) }()
loop:
	for {
		select {
		case <-done:
			break loop
		case <-progress.C:
			fmt.Fprintf(out, "… %4.0fs sends %d (errors %d) deliveries %d\n", time.Since(start).Seconds(), st.sendsOK.Load(), st.sendErrors.Load(), st.deliveries.Load())
		}
	}
	elapsed := time.Since(start)

	// Expected deliveries: every acknowledged send to a subscriber's
	// conversation. Wait for them, bounded by Drain.
	var expected int64
	for _, s := range subs {
		expected += sent[s.conv].Load()
	}
	drainEnd := time.Now().Add(cfg.Drain)
	for st.deliveries.Load()+st.disconnectedMissing(subs, sent) < expected && time.Now().Before(drainEnd) {
		time.Sleep(20 * time.Millisecond) // polling a counter until the bounded drain ends
	}
	rss, gor := tgt.serverStats()
	var disc int64 // before closing: the clients' own close is not a disconnect
	for _, s := range subs {
		if s.disconnected.Load() {
			disc++
		}
	}
	tgt.closeAll()
	wg.Wait()

	var sl, dl []float64
	for _, l := range sendLat {
		sl = append(sl, l...)
	}
	var dups int64
	for _, s := range subs {
		dl = append(dl, s.lat...)
		dups += s.dups
	}
	sort.Float64s(sl)
	sort.Float64s(dl)
	r := &Report{
		Mode: "confab", Protocol: cfg.Protocol, Subscribers: cfg.Subscribers, Conversations: len(convs), Senders: cfg.Senders, Rate: cfg.Rate,
		Seconds: elapsed.Seconds(), SendsOK: st.sendsOK.Load(), SendErrors: st.sendErrors.Load(),
		SendP50: pct(sl, 50), SendP99: pct(sl, 99), DeliverP50: pct(dl, 50), DeliverP95: pct(dl, 95), DeliverP99: pct(dl, 99), DeliverMax: pct(dl, 100),
		Deliveries: st.deliveries.Load(), Expected: expected, Duplicated: dups, Disconnected: disc, ServerRSSMiB: rss, Goroutines: gor,
	}
	if cfg.Baseline {
		r.Mode, r.Protocol = "baseline", "raw-ws"
	}
	r.SendsPerSec = float64(r.SendsOK) / elapsed.Seconds()
	r.DeliveriesSec = float64(r.Deliveries) / elapsed.Seconds()
	if lost := expected - r.Deliveries; lost > 0 {
		r.Lost = lost
	}
	return r, nil
}

type stats struct {
	sendsOK, sendErrors, deliveries atomic.Int64
}

// disconnectedMissing is what disconnected subscribers can no longer
// receive (they are counted as disconnected, not waited for).
func (st *stats) disconnectedMissing(subs []*subscriber, sent []atomic.Int64) int64 {
	var n int64
	for _, s := range subs {
		if s.disconnected.Load() {
			if miss := sent[s.conv].Load() - s.count.Load(); miss > 0 {
				n += miss
			}
		}
	}
	return n
}

// subscriber is one subscription's receiving end.
type subscriber struct {
	conv         int
	next         func() ([]byte, error) // reads the next delivery's content and seq
	closeFn      func()
	parse        func([]byte) (content string, seq int64, ok bool)
	last         int64
	lat          []float64
	dups         int64
	count        atomic.Int64
	disconnected atomic.Bool
}

func (s *subscriber) read(st *stats) {
	for {
		frame, err := s.next()
		if err != nil {
			s.disconnected.Store(true)
			return
		}
		content, seq, ok := s.parse(frame)
		if !ok {
			continue
		}
		now := time.Now()
		if seq >= 0 {
			if seq <= s.last {
				s.dups++
				continue
			}
			s.last = seq
		}
		if t, ok := sentAt(content); ok {
			s.lat = append(s.lat, ms(now.Sub(t)))
		}
		s.count.Add(1)
		st.deliveries.Add(1)
	}
}

// content embeds the send time: "t=<unixnano>;" padded with 'x'.
func content(t time.Time, size int) string {
	s := "t=" + strconv.FormatInt(t.UnixNano(), 10) + ";"
	if len(s) < size {
		s += strings.Repeat("x", size-len(s))
	}
	return s
}

func sentAt(content string) (time.Time, bool) {
	rest, ok := strings.CutPrefix(content, "t=")
	if !ok {
		return time.Time{}, false
	}
	num, _, ok := strings.Cut(rest, ";")
	if !ok {
		return time.Time{}, false
	}
	n, err := strconv.ParseInt(num, 10, 64)
	if err != nil {
		return time.Time{}, false
	}
	return time.Unix(0, n), true
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// pct returns the p-th percentile of sorted values (p=100: max).
func pct(sorted []float64, p float64) float64 {
	if len(sorted) == 0 {
		return 0
	}
	i := int(float64(len(sorted)-1) * p / 100)
	return sorted[i]
}

// WriteTable writes r as a human-readable table.
func WriteTable(w io.Writer, r *Report) {
	fmt.Fprintf(w, "mode %s  protocol %s  subscribers %d  conversations %d  senders %d  rate %.0f/s  %.1fs\n",
		r.Mode, r.Protocol, r.Subscribers, r.Conversations, r.Senders, r.Rate, r.Seconds)
	fmt.Fprintf(w, "  sends        %8d ok  %6d errors  %9.0f /s   latency p50 %.2f ms  p99 %.2f ms\n", r.SendsOK, r.SendErrors, r.SendsPerSec, r.SendP50, r.SendP99)
	fmt.Fprintf(w, "  deliveries   %8d of %d expected  %9.0f /s   lost %d  duplicated %d  disconnected %d\n", r.Deliveries, r.Expected, r.DeliveriesSec, r.Lost, r.Duplicated, r.Disconnected)
	fmt.Fprintf(w, "  send→deliver p50 %.2f ms  p95 %.2f ms  p99 %.2f ms  max %.2f ms\n", r.DeliverP50, r.DeliverP95, r.DeliverP99, r.DeliverMax)
	fmt.Fprintf(w, "  server       rss %.1f MiB  goroutines %.0f\n", r.ServerRSSMiB, r.Goroutines)
}

// WriteJSON writes r as one JSON line.
func WriteJSON(w io.Writer, r *Report) {
	b, _ := json.Marshal(r) // a struct of numbers and strings always marshals
	fmt.Fprintln(w, string(b))
}

func newHTTPClient(conns int) *http.Client {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConnsPerHost = conns + 4
	t.MaxConnsPerHost = conns + 4
	return &http.Client{Transport: t, Timeout: 30 * time.Second}
}

// target is what a run drives: confab, or the baseline broadcaster.
type target interface {
	setup(ctx context.Context, cfg Config) (convs []string, err error)
	subscribe(ctx context.Context, i int, conv string, s *subscriber) error
	send(ctx context.Context, sender int, conv, content string) error
	serverStats() (rssMiB, goroutines float64)
	closeAll()
}
