// Package notify delivers the durable outbox (confab.OutboxStore): a
// Worker claims entries with a lease, fans each domain event out into one
// delivery per recipient of every Channel (webhooks now; Web Push, e-mail
// and mobile push plug in the same way), and delivers each at least once
// with exponential backoff and jitter, giving up after MaxAttempts.
//
// Exactly one node delivers an entry at a time: the store's lease (FOR
// UPDATE SKIP LOCKED on PostgreSQL, the single writer on SQLite) keeps
// the others off it, and a node that dies leaves its leases to expire, so
// another node claims the entry again. A delivery that succeeded on a node
// that died before recording it is delivered again: receivers deduplicate
// by the delivery's idempotency id (confab.OutboxEntry.EventID).
//
// The package holds no business rules and never writes to a conversation;
// it imports the root only (channels live in subpackages).
package notify

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/url"
	"sync"
	"time"

	"github.com/confab-chat/confab"
)

// Channel is one way out of the process. Each delivery entry names its
// channel by Name.
type Channel interface {
	// Name is the OutboxEntry.Channel of the channel's deliveries.
	Name() string
	// Fanout returns the deliveries of the ChannelEvent entry ev on this
	// channel (none when nobody wants it), each with Channel, Target,
	// EventID, Event, ConversationID, At and Data set.
	Fanout(ctx context.Context, ev *confab.OutboxEntry) ([]*confab.OutboxEntry, error)
	// Deliver sends one delivery. An error wrapping ErrPermanent gives up
	// at once; any other error is retried.
	Deliver(ctx context.Context, d *confab.OutboxEntry) error
}

// ErrPermanent marks a delivery error that no retry can fix (the
// recipient is gone or disabled).
var ErrPermanent = errors.New("permanent delivery failure")

// Defaults of Config; a zero field takes its default.
const (
	DefaultLease       = 30 * time.Second // a claim's lease; channels must time out well within it
	DefaultPoll        = time.Second      // how often an idle worker looks for entries
	DefaultConcurrency = 8                // deliveries in flight per worker
	// DefaultBatch is the entries per claim: no more than run at once, so
	// every entry of a batch starts at once and ends within its lease.
	DefaultBatch       = DefaultConcurrency
	DefaultMaxAttempts = 20            // attempts before giving up (about 15 hours with the default backoff)
	DefaultBackoffBase = time.Second   // the first retry's delay
	DefaultBackoffMax  = 3 * time.Hour // the longest delay between attempts
	DefaultRetention   = 7 * 24 * time.Hour
	purgeBatch         = 1000 // done entries removed per purge call
)

// Config tunes a Worker.
type Config struct {
	Owner       string        // this node's name in leases; required, unique per process
	Lease       time.Duration // how long a claim holds its entries
	Poll        time.Duration
	Batch       int // at most Concurrency, so no claimed entry waits out its lease
	Concurrency int
	MaxAttempts int
	BackoffBase time.Duration
	BackoffMax  time.Duration
	// Retention is how long done and dead entries are kept (for replay)
	// before the worker purges them.
	Retention time.Duration
	Logger    *slog.Logger
	Now       func() time.Time
	// Delivered, when set, is called after each settled delivery with its
	// channel and outcome ("ok", "retry", "dead"): the metrics hook.
	Delivered func(channel, outcome string)
}

// Worker delivers the outbox. Open starts its goroutine; Close stops it.
type Worker struct {
	store    confab.OutboxStore
	channels map[string]Channel
	cfg      Config
	stop     context.CancelFunc
	done     chan struct{}
	wake     chan struct{}
}

// Open starts a worker on store with channels. Its one goroutine (owned by
// the Worker, stopped by Close) claims, fans out and delivers until Close.
func Open(store confab.OutboxStore, cfg Config, channels ...Channel) (*Worker, error) {
	if cfg.Owner == "" {
		return nil, errors.New("notify: Config.Owner is required")
	}
	cfg.fill()
	w := &Worker{store: store, channels: map[string]Channel{}, cfg: cfg, done: make(chan struct{}), wake: make(chan struct{}, 1)}
	for _, c := range channels {
		w.channels[c.Name()] = c
	}
	ctx, cancel := context.WithCancel(context.Background())
	w.stop = cancel
	go w.loop(ctx)
	return w, nil
}

func (c *Config) fill() {
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&c.Lease, DefaultLease)
	def(&c.Poll, DefaultPoll)
	def(&c.BackoffBase, DefaultBackoffBase)
	def(&c.BackoffMax, DefaultBackoffMax)
	def(&c.Retention, DefaultRetention)
	for _, p := range []struct {
		n *int
		v int
	}{{&c.Batch, DefaultBatch}, {&c.Concurrency, DefaultConcurrency}, {&c.MaxAttempts, DefaultMaxAttempts}} {
		if *p.n <= 0 {
			*p.n = p.v
		}
	}
	c.Batch = min(c.Batch, c.Concurrency)
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Delivered == nil {
		c.Delivered = func(string, string) {}
	}
}

// Close stops the worker and waits for its deliveries in flight; their
// leases are left to expire if a delivery outlives the stop.
func (w *Worker) Close() {
	w.stop()
	<-w.done
}

// Wake makes the worker look for entries now instead of at its next poll
// (after a commit that wrote some: serve wakes it after every local store
// call that writes an outbox event; other nodes' events wait for a poll).
// It never blocks.
func (w *Worker) Wake() {
	select {
	case w.wake <- struct{}{}:
	default:
	}
}

func (w *Worker) loop(ctx context.Context) {
	defer close(w.done)
	t := time.NewTicker(w.cfg.Poll)
	defer t.Stop()
	lastPurge := time.Time{}
	for {
		n, err := w.RunOnce(ctx)
		if err != nil && ctx.Err() == nil {
			w.cfg.Logger.Warn("outbox claim failed", "err", err)
		}
		if now := w.cfg.Now(); now.Sub(lastPurge) > time.Hour {
			lastPurge = now
			w.purge(ctx, now)
		}
		if n == w.cfg.Batch {
			continue // more may be waiting
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-w.wake:
		}
	}
}

// purge removes the done and dead entries older than Retention, a batch
// per call until none is left.
func (w *Worker) purge(ctx context.Context, now time.Time) {
	total := 0
	for ctx.Err() == nil {
		n, err := w.store.PurgeOutbox(ctx, now.Add(-w.cfg.Retention), purgeBatch)
		if err != nil {
			if ctx.Err() == nil {
				w.cfg.Logger.Warn("outbox purge failed", "err", err)
			}
			break
		}
		if total += n; n < purgeBatch {
			break
		}
	}
	if total > 0 {
		w.cfg.Logger.Debug("outbox purged", "entries", total)
	}
}

// RunOnce claims one batch and settles every entry of it, Concurrency at
// a time; it returns how many it claimed. When the store is an
// OutboxBatchStore, the batch's successful deliveries are completed
// together once the batch is done (one write instead of one each: a
// fan-out's writes otherwise queue ahead of the sends on SQLite's single
// writer).
func (w *Worker) RunOnce(ctx context.Context) (int, error) {
	batch, err := w.store.ClaimOutbox(ctx, w.cfg.Owner, w.cfg.Now(), w.cfg.Lease, w.cfg.Batch)
	if err != nil {
		return 0, err
	}
	var sent *delivered
	if bs, ok := w.store.(confab.OutboxBatchStore); ok {
		sent = &delivered{store: bs}
	}
	sem := make(chan struct{}, w.cfg.Concurrency)
	var wg sync.WaitGroup
	for _, e := range batch {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			w.settle(ctx, e, sent)
		})
	}
	wg.Wait()
	if sent != nil && len(sent.ids) > 0 {
		n, err := sent.store.CompleteOutboxes(ctx, sent.ids, w.cfg.Owner)
		if err != nil {
			w.cfg.Logger.Warn("outbox complete failed", "entries", len(sent.ids), "err", err)
		} else if n < len(sent.ids) {
			w.cfg.Logger.Warn("outbox complete failed", "entries", len(sent.ids)-n, "err", "outbox lease lost")
		}
		for _, c := range sent.channels {
			w.cfg.Delivered(c, "ok")
		}
	}
	return len(batch), nil
}

// delivered collects a batch's successful deliveries for one
// CompleteOutboxes.
type delivered struct {
	store    confab.OutboxBatchStore
	mu       sync.Mutex
	ids      []int64  // guarded by mu
	channels []string // guarded by mu
}

func (d *delivered) add(e *confab.OutboxEntry) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.ids = append(d.ids, e.ID)
	d.channels = append(d.channels, e.Channel)
}

// settle handles one claimed entry: an event is fanned out and completed
// with its deliveries in one transaction; a delivery is sent, then
// completed (added to sent, when not nil, for RunOnce to complete), retried
// later or given up.
func (w *Worker) settle(ctx context.Context, e *confab.OutboxEntry, sent *delivered) {
	log := w.cfg.Logger.With("outbox_id", e.ID, "event_id", e.EventID, "event", string(e.Event), "channel", e.Channel, "target", e.Target)
	if e.Channel == confab.ChannelEvent {
		var next []*confab.OutboxEntry
		for _, c := range w.channels {
			ds, err := c.Fanout(ctx, e)
			if err != nil {
				w.retry(ctx, log, e, fmt.Errorf("fan out to %s: %w", c.Name(), err))
				return
			}
			next = append(next, ds...)
		}
		if err := w.store.CompleteOutbox(ctx, e.ID, w.cfg.Owner, next); err != nil {
			log.Warn("outbox complete failed", "err", err)
			return
		}
		if len(next) > 0 {
			w.Wake() // the deliveries are claimable now: send them without waiting for a poll
		}
		return
	}
	c, ok := w.channels[e.Channel]
	if !ok {
		// Another node has the channel configured; this one cannot deliver.
		w.retry(ctx, log, e, fmt.Errorf("no %q channel on this node", e.Channel))
		return
	}
	err := c.Deliver(ctx, e)
	switch {
	case err == nil && sent != nil:
		sent.add(e)
	case err == nil:
		if err := w.store.CompleteOutbox(ctx, e.ID, w.cfg.Owner, nil); err != nil {
			log.Warn("outbox complete failed", "err", err)
		}
		w.cfg.Delivered(e.Channel, "ok")
	case errors.Is(err, ErrPermanent):
		w.giveUp(ctx, log, e, err)
	default:
		w.retry(ctx, log, e, err)
	}
}

func (w *Worker) retry(ctx context.Context, log *slog.Logger, e *confab.OutboxEntry, err error) {
	if e.Attempts >= w.cfg.MaxAttempts {
		w.giveUp(ctx, log, e, err)
		return
	}
	at := w.cfg.Now().Add(Backoff(e.Attempts, w.cfg.BackoffBase, w.cfg.BackoffMax, rand.Float64()))
	log.Info("outbox delivery failed; will retry", "attempt", e.Attempts, "retry_at", at, "err", err)
	if err := w.store.RetryOutbox(ctx, e.ID, w.cfg.Owner, at, err.Error()); err != nil {
		log.Warn("outbox retry failed", "err", err)
	}
	w.cfg.Delivered(e.Channel, "retry")
}

func (w *Worker) giveUp(ctx context.Context, log *slog.Logger, e *confab.OutboxEntry, err error) {
	log.Warn("outbox delivery given up", "attempt", e.Attempts, "err", err)
	if err := w.store.GiveUpOutbox(ctx, e.ID, w.cfg.Owner, err.Error()); err != nil {
		log.Warn("outbox give up failed", "err", err)
	}
	w.cfg.Delivered(e.Channel, "dead")
}

// Backoff is the delay before the attempt after attempt (1 = the first
// failed): base·2^(attempt-1), at most max, with "equal jitter" (half of it
// fixed, half random by r in [0,1)) so that receivers coming back are not
// hit by every sender at once.
func Backoff(attempt int, base, max time.Duration, r float64) time.Duration {
	d := base
	for i := 1; i < attempt && d < max; i++ {
		d *= 2
	}
	d = min(d, max)
	return d/2 + time.Duration(r*float64(d/2))
}

// MaxURLBytes bounds an endpoint URL (a webhook's, the before-send hook's).
const MaxURLBytes = 2048

// CheckURL validates an endpoint URL: absolute http or https with a host,
// no credentials, at most MaxURLBytes.
func CheckURL(raw string) error {
	if len(raw) > MaxURLBytes {
		return fmt.Errorf("the URL is longer than %d bytes", MaxURLBytes)
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return errors.New("the URL must be an absolute http:// or https:// URL")
	}
	if u.User != nil {
		return errors.New("the URL must not carry credentials")
	}
	return nil
}
