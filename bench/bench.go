// Package bench is the load generator behind `confab bench`. Against a
// running confab server, through its public interface only, it signs up its
// own users, creates conversations, opens subscriber WebSocket connections
// on either protocol (graphql-transport-ws or AppSync real-time), sends
// messages over HTTP at a given rate, and measures send latency,
// send-to-deliver latency (the send time travels inside the content),
// throughput, and deliveries lost, duplicated or out of order. Baseline
// mode drives a minimal in-process WebSocket broadcaster with the same
// shape: the machine's ceiling to compare confab with.
//
// Goroutines: Run owns all it starts (one reader per connection, the
// senders, a progress ticker, and in baseline mode the broadcaster) and
// they have all finished when it returns. Every loop is bounded in count
// and time; cancelling ctx stops the run early. Connections are closed at
// the end. It holds no business rules and imports nothing of confab's:
// it is a client like any other.
package bench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Protocols a subscriber can speak (Config.Protocol).
const (
	ProtocolGraphQLWS = "graphql-ws" // graphql-transport-ws at /graphql (protocols.md §2)
	ProtocolAppSync   = "appsync"    // AppSync real-time at /graphql/realtime (protocols.md §1)
)

// Config is one run's shape. The comments name the `confab bench` flag of
// each field; a zero value means the default given. The --json flag is the
// caller's: it prints WriteJSON of the Report.
type Config struct {
	URL           string        // --url: server base URL; default http://127.0.0.1:8080
	SendURL       string        // --send-url: send through this node instead (cross-node delivery); default URL
	Protocol      string        // --protocol: ProtocolGraphQLWS (default) or ProtocolAppSync
	Subscribers   int           // --subscribers S: WebSocket connections, one subscription each; 0 = none (send-only)
	Conversations int           // --conversations C: subscribers are spread round-robin over them; default 1
	Senders       int           // --senders P: concurrent HTTP senders; default 1
	Rate          float64       // --rate R: total sends per second over all senders; 0 = as fast as possible. Each sender waits for its response, so R needs P ≥ R × send latency
	Duration      time.Duration // --duration D: how long to send; default 10 s
	Size          int           // --size B: content bytes per message; default and minimum 32 (room for the send time)
	Users         int           // --users N: accounts the senders and connections share; default 20, at most 100 (MaxParticipants)
	Baseline      bool          // --baseline: drive the in-process broadcast baseline instead of a server
	Durable       bool          // --durable-baseline: drive the in-process durable-send ceiling (HTTP + SQLite group commit) instead; no subscribers
	Drain         time.Duration // how long to wait for deliveries after the last send; default 5 s
	ChangeMix     float64       // --change-mix F: the fraction of operations that edit or react (see changes.go); 0 = sends only, at most 0.5
	UploadRate    float64       // --upload-rate U: 1 MiB images uploaded per second during the sending phase (see uploads.go); 0 = none, at most 100
}

// Limits and defaults of Config.
const (
	DefaultURL      = "http://127.0.0.1:8080"
	minSize         = 32  // "t=" + 19 digits + ";" and some padding
	maxUsers        = 100 // confab.MaxParticipants: every user is in every conversation
	connectParallel = 64  // WebSocket handshakes in flight during setup
	setupTimeout    = 5 * time.Minute
	sendTimeout     = 30 * time.Second // one send, including one in flight when the run ends
	maxSendsPerLoop = 1 << 40          // bounds a sender's loop; the duration ends it first
)

func (c *Config) defaults() {
	if c.URL == "" {
		c.URL = DefaultURL
	}
	c.URL = strings.TrimSuffix(c.URL, "/")
	if c.Protocol == "" {
		c.Protocol = ProtocolGraphQLWS
	}
	c.Subscribers = max(c.Subscribers, 0)
	if c.Conversations <= 0 {
		c.Conversations = 1
	}
	if c.Senders <= 0 {
		c.Senders = 1
	}
	c.Rate = max(c.Rate, 0)
	if c.Duration <= 0 {
		c.Duration = 10 * time.Second
	}
	c.Size = max(c.Size, minSize)
	if c.Users <= 0 {
		c.Users = 20
	}
	c.Users = min(c.Users, maxUsers)
	if c.Drain <= 0 {
		c.Drain = 5 * time.Second
	}
}

// Report is a run's result. Latencies are in milliseconds; rates are per
// second of the sending phase.
type Report struct {
	Mode          string  `json:"mode"`     // "confab", "baseline" or "durable-baseline"
	Protocol      string  `json:"protocol"` // Config.Protocol, or "raw-ws" for the baseline
	Subscribers   int     `json:"subscribers"`
	Conversations int     `json:"conversations"`
	Senders       int     `json:"senders"`
	Rate          float64 `json:"rate"` // asked for; 0 = unlimited
	Size          int     `json:"size"`
	Seconds       float64 `json:"seconds"` // the sending phase
	SendsOK       int64   `json:"sends_ok"`
	SendErrors    int64   `json:"send_errors"`
	SendsPerSec   float64 `json:"sends_per_sec"`
	SendP50       float64 `json:"send_p50_ms"`
	SendP99       float64 `json:"send_p99_ms"`
	DeliverP50    float64 `json:"deliver_p50_ms"`
	DeliverP95    float64 `json:"deliver_p95_ms"`
	DeliverP99    float64 `json:"deliver_p99_ms"`
	DeliverMax    float64 `json:"deliver_max_ms"`
	Deliveries    int64   `json:"deliveries"`          // distinct messages received, over all subscribers
	DeliveriesSec float64 `json:"deliveries_per_sec"`  // Deliveries / Seconds
	Expected      int64   `json:"expected_deliveries"` // acknowledged sends × subscribers of their conversation
	Lost          int64   `json:"lost"`                // expected but not received by the end of the drain
	Duplicated    int64   `json:"duplicated"`          // received again with a seq already seen
	OutOfOrder    int64   `json:"out_of_order"`        // received after a higher seq
	Disconnected  int64   `json:"disconnected"`        // subscriptions the server ended (closed or errored) during the run
	// Server figures scraped from /metrics at the end (before closing);
	// null when the server does not export them. Baseline: this process,
	// load tool included.
	ServerRSSMiB *float64 `json:"server_rss_mib"`
	Goroutines   *float64 `json:"server_goroutines"`
	// The change mix (Config.ChangeMix): edits and reactions made, refused
	// or failed, and their response latencies.
	ChangeMix    float64 `json:"change_mix"`
	ChangesOK    int64   `json:"changes_ok"`
	ChangeErrors int64   `json:"change_errors"`
	ChangeP50    float64 `json:"change_p50_ms"`
	ChangeP99    float64 `json:"change_p99_ms"`
	// The uploads (Config.UploadRate): completed, refused as busy
	// (UNAVAILABLE), failed otherwise, not started because
	// maxUploadsInFlight were running; their latencies from createUpload
	// to completeUpload's answer, and how many completed per second of
	// the sending phase.
	UploadRate    float64 `json:"upload_rate"`
	UploadsOK     int64   `json:"uploads_ok"`
	UploadsBusy   int64   `json:"uploads_busy"`
	UploadErrors  int64   `json:"upload_errors"`
	UploadSkipped int64   `json:"uploads_skipped"`
	UploadsPerSec float64 `json:"uploads_per_sec"`
	UploadP50     float64 `json:"upload_p50_ms"`
	UploadP99     float64 `json:"upload_p99_ms"`
}

// target is what a run drives: a confab server, or the baseline.
type target interface {
	setup(ctx context.Context, cfg Config) (convs []string, err error)
	subscribe(ctx context.Context, i int, conv string, s *subscriber) error
	send(ctx context.Context, sender int, conv, content string) (messageID string, err error)
	change(ctx context.Context, sender int, c change, content string) error
	upload(ctx context.Context, i int, conv string, data []byte) error
	serverStats(ctx context.Context) (rssMiB, goroutines *float64)
	closeAll() // closes every connection (WebSocket and idle HTTP)
	close()    // releases the target itself
}

// Run runs one load test and returns its report, writing a progress line
// per second to out. It needs a running server at cfg.URL unless
// cfg.Baseline is set. If ctx ends first, Run stops sending, closes
// everything and returns the partial report together with ctx's error.
func Run(ctx context.Context, cfg Config, out io.Writer) (*Report, error) {
	cfg.defaults()
	if err := checkChangeMix(cfg); err != nil {
		return nil, err
	}
	if err := checkUploads(cfg); err != nil {
		return nil, err
	}
	var tgt target
	switch {
	case cfg.Baseline && cfg.Durable:
		return nil, errors.New("bench: --baseline and --durable-baseline are two different ceilings: choose one")
	case cfg.Durable:
		d, err := startDurable(cfg)
		if err != nil {
			return nil, fmt.Errorf("bench: durable baseline: %w", err)
		}
		tgt = d
	case cfg.Baseline:
		b, err := startBaseline(cfg)
		if err != nil {
			return nil, fmt.Errorf("bench: baseline: %w", err)
		}
		tgt = b
	default:
		t, err := newConfabTarget(cfg)
		if err != nil {
			return nil, err
		}
		tgt = t
	}
	defer tgt.close()
	defer tgt.closeAll()

	setupCtx, cancel := context.WithTimeout(ctx, setupTimeout)
	defer cancel()
	convs, err := tgt.setup(setupCtx, cfg)
	if err != nil {
		return nil, fmt.Errorf("bench: setup: %w", err)
	}
	subs, err := connect(setupCtx, tgt, cfg, convs, out)
	if err != nil {
		return nil, fmt.Errorf("bench: subscribe: %w", err)
	}

	var deliveries atomic.Int64
	var readers sync.WaitGroup
	for _, s := range subs {
		readers.Go(func() { s.read(&deliveries) })
	}
	// The readers end when their connections close; closing comes first
	// on every path out of here.
	defer readers.Wait()
	defer tgt.closeAll()

	if err := warmUp(setupCtx, tgt, cfg, convs, subs, out); err != nil {
		return nil, fmt.Errorf("bench: warm-up: %w", err)
	}

	r := &sendState{sent: make([]atomic.Int64, len(convs)), lat: make([][]float64, cfg.Senders), changeLat: make([][]float64, cfg.Senders)}
	if cfg.UploadRate > 0 {
		r.uploads.data = noisePNG() // before the timed phase: it takes a while
	}
	elapsed := r.run(ctx, tgt, cfg, convs, subs, &deliveries, out)

	// Every acknowledged send should reach every subscriber of its
	// conversation: wait for them, at most Drain, but not for subscribers
	// the server has ended.
	drain(ctx, cfg.Drain, subs, r.sent)
	rss, gor := tgt.serverStats(ctx)
	var disconnected int64 // before closing: our own close is not a disconnect
	for _, s := range subs {
		if s.ended.Load() {
			disconnected++
		}
	}
	tgt.closeAll()
	readers.Wait()

	rep := report(cfg, convs, subs, r, elapsed)
	rep.Disconnected = disconnected
	rep.ServerRSSMiB, rep.Goroutines = rss, gor
	if err := ctx.Err(); err != nil {
		return rep, fmt.Errorf("bench: interrupted: %w", err)
	}
	return rep, nil
}

// connect opens the subscribers, spread round-robin over convs, at most
// connectParallel handshakes at a time, with a progress line per second.
func connect(ctx context.Context, tgt target, cfg Config, convs []string, out io.Writer) ([]*subscriber, error) {
	subs := make([]*subscriber, cfg.Subscribers)
	errs := make([]error, len(subs))
	var done atomic.Int64
	stop := progress(out, func(elapsed time.Duration) string {
		return fmt.Sprintf("… connecting %d/%d", done.Load(), len(subs))
	})
	defer stop()
	sem := make(chan struct{}, connectParallel)
	var wg sync.WaitGroup
	for i := range subs {
		subs[i] = &subscriber{conv: i % len(convs)}
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
			errs[i] = ctx.Err()
		}
		if errs[i] != nil {
			break
		}
		wg.Go(func() {
			defer func() { <-sem }()
			errs[i] = tgt.subscribe(ctx, i, convs[subs[i].conv], subs[i])
			done.Add(1)
		})
	}
	wg.Wait()
	if err := firstError(errs); err != nil {
		return nil, err // Run's deferred closeAll closes those that opened
	}
	return subs, nil
}

// warmUpTimeout bounds the wait for every subscription to go live.
const warmUpTimeout = 2 * time.Minute

// warmUp sends one unmeasured message to each conversation that has
// subscribers and waits until every subscriber has received it. Only then
// is every subscription live on the server (graphql-transport-ws has no
// subscribe acknowledgement, and a server may still be working through a
// backlog of subscribes), so the timed phase measures steady state, not
// setup. Subscribers the server ended do not hold it up.
func warmUp(ctx context.Context, tgt target, cfg Config, convs []string, subs []*subscriber, out io.Writer) error {
	if len(subs) == 0 {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, warmUpTimeout)
	defer cancel()
	var live atomic.Int64
	stop := progress(out, func(time.Duration) string {
		return fmt.Sprintf("… warming up: %d/%d subscriptions live", live.Load(), len(subs))
	})
	defer stop()
	errs := make([]error, min(len(convs), len(subs)))
	sem := make(chan struct{}, setupParallel)
	var wg sync.WaitGroup
	for ci := range errs { // conversations beyond len(subs) have no subscriber
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			_, errs[ci] = tgt.send(ctx, ci, convs[ci], warmUpContent(cfg.Size))
		})
	}
	wg.Wait()
	if err := firstError(errs); err != nil {
		return err
	}
	tick := time.NewTicker(drainPoll)
	defer tick.Stop()
	for range int(warmUpTimeout/drainPoll) + 1 {
		n := int64(0)
		for _, s := range subs {
			if s.warmed.Load() || s.ended.Load() {
				n++
			}
		}
		live.Store(n)
		if n == int64(len(subs)) {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%d of %d subscriptions live: %w", n, len(subs), ctx.Err())
		case <-tick.C:
		}
	}
	return fmt.Errorf("%d of %d subscriptions live", live.Load(), len(subs))
}

func firstError(errs []error) error {
	n := 0
	var first error
	for _, err := range errs {
		if err != nil {
			if first == nil {
				first = err
			}
			n++
		}
	}
	if n > 1 {
		return fmt.Errorf("%w (and %d more failures)", first, n-1)
	}
	return first
}

// sendState is the senders' accounting.
type sendState struct {
	sent       []atomic.Int64 // acknowledged sends per conversation
	ok, errors atomic.Int64
	lat        [][]float64 // per sender: send latencies, ms (each sender owns its slice)

	changes, changeErrors atomic.Int64
	changeLat             [][]float64 // per sender: edit and reaction latencies, ms

	uploads uploadState
}

// run sends for cfg.Duration (or until ctx ends) and returns the length of
// the sending phase. A send in flight when the phase ends finishes and is
// counted, since it may have committed.
func (st *sendState) run(ctx context.Context, tgt target, cfg Config, convs []string, subs []*subscriber, deliveries *atomic.Int64, out io.Writer) time.Duration {
	runCtx, cancel := context.WithTimeout(ctx, cfg.Duration)
	defer cancel()
	start := time.Now()
	var prevSends, prevDeliveries int64
	stop := progress(out, func(elapsed time.Duration) string {
		s, d := st.ok.Load(), deliveries.Load()
		line := fmt.Sprintf("… %3.0fs  sends %d (%d/s, %d errors)  deliveries %d (%d/s)  disconnected %d",
			elapsed.Seconds(), s, s-prevSends, st.errors.Load(), d, d-prevDeliveries, countEnded(subs))
		if cfg.UploadRate > 0 {
			line += fmt.Sprintf("  uploads %d (%d busy, %d errors, %d skipped)", st.uploads.ok.Load(), st.uploads.busy.Load(), st.uploads.errors.Load(), st.uploads.skipped.Load())
		}
		prevSends, prevDeliveries = s, d
		return line
	})
	defer stop()

	var interval time.Duration // per sender, between operations (sends and changes)
	if cfg.Rate > 0 {
		interval = time.Duration(float64(time.Second) * float64(cfg.Senders) * (1 - cfg.ChangeMix) / cfg.Rate)
	}
	var next atomic.Int64 // picks the conversation of each send, round-robin
	var uploader sync.WaitGroup
	uploader.Go(func() { st.uploads.run(ctx, runCtx, tgt, cfg.UploadRate, convs) })
	defer uploader.Wait() // uploads in flight finish after the phase, like sends
	var wg sync.WaitGroup
	for p := range cfg.Senders {
		wg.Go(func() {
			// Stagger the senders over one interval so that a low rate
			// is smooth rather than bursts of cfg.Senders.
			due := start.Add(interval * time.Duration(p) / time.Duration(cfg.Senders))
			timer := time.NewTimer(time.Hour)
			defer timer.Stop()
			mix := &mixer{mix: cfg.ChangeMix}
			for range maxSendsPerLoop {
				if interval > 0 {
					if d := time.Until(due); d > 0 {
						timer.Reset(d)
						select {
						case <-runCtx.Done():
							return
						case <-timer.C:
						}
					}
					due = due.Add(interval)
					if time.Since(due) > time.Second {
						due = time.Now() // fell behind (a stall): resume the rate, no burst
					}
				}
				if runCtx.Err() != nil {
					return
				}
				if c, ok := mix.next(); ok {
					st.change(ctx, tgt, p, mix, c, cfg.Size)
					continue
				}
				ci := int(next.Add(1)-1) % len(convs)
				t0 := time.Now()
				sctx, cancel := context.WithTimeout(ctx, sendTimeout)
				id, err := tgt.send(sctx, p, convs[ci], content(t0, cfg.Size))
				cancel()
				if err != nil {
					st.errors.Add(1)
					continue
				}
				mix.sent(convs[ci], id)
				st.sent[ci].Add(1)
				st.ok.Add(1)
				st.lat[p] = append(st.lat[p], float64(time.Since(t0).Microseconds())/1000)
			}
		})
	}
	wg.Wait()
	return time.Since(start)
}

// change makes one change as sender p and accounts for it.
func (st *sendState) change(ctx context.Context, tgt target, p int, mix *mixer, c change, size int) {
	t0 := time.Now()
	ctx, cancel := context.WithTimeout(ctx, sendTimeout)
	defer cancel()
	if err := tgt.change(ctx, p, c, content(t0, size)); err != nil {
		st.changeErrors.Add(1)
		return
	}
	mix.done(c)
	st.changes.Add(1)
	st.changeLat[p] = append(st.changeLat[p], float64(time.Since(t0).Microseconds())/1000)
}

func countEnded(subs []*subscriber) int64 {
	var n int64
	for _, s := range subs {
		if s.ended.Load() {
			n++
		}
	}
	return n
}

// drainPoll is how often drain checks the delivery counters.
const drainPoll = 20 * time.Millisecond

// drain waits until every live subscriber has as many messages as were
// acknowledged to its conversation, or until limit passes or ctx ends.
func drain(ctx context.Context, limit time.Duration, subs []*subscriber, sent []atomic.Int64) {
	deadline := time.NewTimer(limit)
	defer deadline.Stop()
	tick := time.NewTicker(drainPoll)
	defer tick.Stop()
	for range int(limit/drainPoll) + 2 {
		if drained(subs, sent) {
			return
		}
		select {
		case <-ctx.Done():
			return
		case <-deadline.C:
			return
		case <-tick.C:
		}
	}
}

func drained(subs []*subscriber, sent []atomic.Int64) bool {
	for _, s := range subs {
		if !s.ended.Load() && s.count.Load() < sent[s.conv].Load() {
			return false
		}
	}
	return true
}

// progress calls line once a second and writes its result to out, until
// the returned stop is called; stop waits for the writer to finish.
func progress(out io.Writer, line func(elapsed time.Duration) string) (stop func()) {
	quit, done := make(chan struct{}), make(chan struct{})
	start := time.Now()
	go func() {
		defer close(done)
		tick := time.NewTicker(time.Second)
		defer tick.Stop()
		for {
			select {
			case <-quit:
				return
			case <-tick.C:
				fmt.Fprintln(out, line(time.Since(start))) // progress is best effort
			}
		}
	}()
	var once sync.Once
	return func() {
		once.Do(func() { close(quit) })
		<-done
	}
}

// report assembles the Report once the readers have finished.
func report(cfg Config, convs []string, subs []*subscriber, st *sendState, elapsed time.Duration) *Report {
	r := &Report{
		Mode: "confab", Protocol: cfg.Protocol,
		Subscribers: cfg.Subscribers, Conversations: len(convs), Senders: cfg.Senders, Rate: cfg.Rate, Size: cfg.Size,
		Seconds: elapsed.Seconds(), SendsOK: st.ok.Load(), SendErrors: st.errors.Load(),
		ChangeMix: cfg.ChangeMix, ChangesOK: st.changes.Load(), ChangeErrors: st.changeErrors.Load(),
		UploadRate: cfg.UploadRate, UploadsOK: st.uploads.ok.Load(), UploadsBusy: st.uploads.busy.Load(),
		UploadErrors: st.uploads.errors.Load(), UploadSkipped: st.uploads.skipped.Load(),
	}
	ul := slices.Sorted(slices.Values(st.uploads.lat))
	r.UploadP50, r.UploadP99 = percentile(ul, 50), percentile(ul, 99)
	switch {
	case cfg.Baseline:
		r.Mode, r.Protocol = "baseline", "raw-ws"
	case cfg.Durable:
		r.Mode, r.Protocol = "durable-baseline", "http-sqlite"
	}
	var sl, dl, cl []float64
	for _, l := range st.lat {
		sl = append(sl, l...)
	}
	for _, l := range st.changeLat {
		cl = append(cl, l...)
	}
	slices.Sort(cl)
	r.ChangeP50, r.ChangeP99 = percentile(cl, 50), percentile(cl, 99)
	for _, s := range subs {
		dl = append(dl, s.lat...)
		got := s.count.Load()
		want := st.sent[s.conv].Load()
		r.Deliveries += got
		r.Expected += want
		r.Lost += max(want-got, 0)
		r.Duplicated += s.dups
		r.OutOfOrder += s.outOfOrder
	}
	slices.Sort(sl)
	slices.Sort(dl)
	r.SendP50, r.SendP99 = percentile(sl, 50), percentile(sl, 99)
	r.DeliverP50, r.DeliverP95, r.DeliverP99, r.DeliverMax = percentile(dl, 50), percentile(dl, 95), percentile(dl, 99), percentile(dl, 100)
	if s := elapsed.Seconds(); s > 0 {
		r.SendsPerSec = float64(r.SendsOK) / s
		r.DeliveriesSec = float64(r.Deliveries) / s
		r.UploadsPerSec = float64(r.UploadsOK) / s
	}
	return r
}

// percentile returns the p-th percentile (nearest rank) of sorted values;
// p = 100 is the maximum. It is 0 for no values.
func percentile(sorted []float64, p float64) float64 {
	if len(sorted) == 0 {
		return 0
	}
	i := int(float64(len(sorted))*p/100+0.999999) - 1 // ceil(n·p/100) - 1
	return sorted[min(max(i, 0), len(sorted)-1)]
}

func newHTTPClient(conns int) *http.Client {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConnsPerHost = conns + 4
	t.MaxConnsPerHost = conns + 4
	return &http.Client{Transport: t, Timeout: sendTimeout}
}
