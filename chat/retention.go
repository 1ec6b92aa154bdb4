package chat

import (
	"context"
	"log/slog"
	"runtime"
	"sync/atomic"
	"time"

	"github.com/confab-chat/confab"
)

// DefaultRetentionBatch is the most messages one purge transaction
// removes unless Retention.Batch says otherwise: small enough that the
// senders it holds up (SQLite's one writer, PostgreSQL's conversation
// locks) wait milliseconds, large enough that a backlog goes quickly.
const DefaultRetentionBatch = 500

// Retention is a deployment's message retention policy: it deletes
// messages older than MaxAge for good (the recipe's DynamoDB TTL tip), in
// the background. Each pass purges in store transactions of at most Batch
// messages and yields between them, so sends interleave with a large purge
// instead of waiting for it.
//
// Purged messages are gone from every read, search included; no event is
// published for them (clients were never told of a deletion, and a
// subscription resuming across purged seqs skips them, see stream.go).
// Conversations keep LastSeq and LastMessageAt; see
// confab.MessageStore.PurgeMessages.
//
// Set the fields before calling Run or PurgeOnce; Purged is safe to call
// at any time.
type Retention struct {
	// Store is where messages are purged.
	Store confab.MessageStore
	// MaxAge is how long a message is kept after its CreatedAt. Zero (or
	// negative) keeps messages forever: Run returns at once and PurgeOnce
	// removes nothing.
	MaxAge time.Duration
	// Interval is the time from the end of one pass to the start of the
	// next. Default MaxAge/10, within 1 s to 1 min: a message outlives
	// MaxAge by at most about that.
	Interval time.Duration
	// Batch is the most messages one store transaction removes. Default
	// DefaultRetentionBatch.
	Batch int
	// Logger receives each pass that removed messages (info) or failed
	// (warn). Default: discard.
	Logger *slog.Logger
	// Now is the clock. Default time.Now.
	Now func() time.Time

	after  func(time.Duration) <-chan time.Time // the wait between passes; time.After unless a test sets it
	purged atomic.Uint64
}

// Purged returns how many messages this Retention has removed since it was
// created (confab_retention_purged_total).
func (r *Retention) Purged() uint64 { return r.purged.Load() }

// Run purges at once and then every Interval until ctx is done. It blocks,
// so run it on a goroutine whose owner cancels ctx and waits for Run to
// return before closing the store. A failed pass is logged and retried at
// the next interval.
func (r *Retention) Run(ctx context.Context) {
	if r.MaxAge <= 0 {
		return
	}
	logger := r.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	after := r.after
	if after == nil {
		after = time.After
	}
	for {
		start := time.Now()
		before := r.cutoff()
		n, err := r.purge(ctx, before)
		switch {
		case ctx.Err() != nil:
			return
		case err != nil:
			logger.WarnContext(ctx, "retention: purge failed", "purged", n, "before", before, "err", err)
		case n > 0:
			logger.InfoContext(ctx, "retention: purged messages", "purged", n, "before", before,
				"duration_ms", time.Since(start).Milliseconds(), "purged_total", r.Purged())
		}
		select {
		case <-ctx.Done():
			return
		case <-after(r.interval()):
		}
	}
}

// PurgeOnce removes every message older than MaxAge, batch by batch, and
// returns how many it removed. On an error it returns the count so far.
func (r *Retention) PurgeOnce(ctx context.Context) (int, error) {
	if r.MaxAge <= 0 {
		return 0, nil
	}
	return r.purge(ctx, r.cutoff())
}

// cutoff is the CreatedAt before which messages go.
func (r *Retention) cutoff() time.Time {
	now := time.Now
	if r.Now != nil {
		now = r.Now
	}
	return now().Add(-r.MaxAge)
}

// purge removes the messages created before before, a batch per store
// call, until a batch comes back short.
func (r *Retention) purge(ctx context.Context, before time.Time) (int, error) {
	batch := r.Batch
	if batch <= 0 {
		batch = DefaultRetentionBatch
	}
	total := 0
	for {
		n, err := r.Store.PurgeMessages(ctx, before, batch)
		total += n
		r.purged.Add(uint64(n))
		if err != nil {
			return total, err
		}
		if n < batch {
			return total, nil
		}
		if err := ctx.Err(); err != nil {
			return total, err
		}
		// Let the writers that waited for this transaction go first:
		// SQLite's write connection goes to whoever waited for it (the
		// group-commit writer) and PostgreSQL's locks were released at
		// commit; this only gives their goroutines the chance to run.
		runtime.Gosched()
	}
}

// interval is Interval or its default.
func (r *Retention) interval() time.Duration {
	if r.Interval > 0 {
		return r.Interval
	}
	return min(max(r.MaxAge/10, time.Second), time.Minute)
}
