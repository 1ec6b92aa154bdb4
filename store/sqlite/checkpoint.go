package sqlite

import (
	"context"
	"database/sql"
	"sync"
	"sync/atomic"
	"time"
)

// SQLite's automatic checkpoint runs inside the commit that takes the WAL
// past wal_autocheckpoint pages (1,000 by default): the group-commit
// writer's batch then also copies the WAL into the database file and
// fsyncs it before its callers are answered, a tail every twenty or so
// batches. So the write connection's auto-checkpoint is only a backstop
// (walBackstopPages) and the checkpointer below, on its own connection and
// goroutine, runs PASSIVE checkpoints, which never block the writer.
const (
	// walBackstopPages is the write connection's wal_autocheckpoint: the
	// WAL size (pages of 4 KiB) at which a commit checkpoints after all,
	// should the checkpointer fall that far behind.
	walBackstopPages = 10_000
	// checkpointEvery is how many writer batches wake the checkpointer:
	// about the 1,000 pages SQLite would wait for (a batch of 20 appends
	// writes about 50 pages).
	checkpointEvery = 16
	// checkpointInterval wakes it anyway, for WAL frames written by the
	// store's other writes (conversations, reads markers, presence).
	checkpointInterval = time.Second
)

// checkpointer runs PASSIVE WAL checkpoints on its own connection when
// woken. Its goroutine, started by start and ended by stop, is the only
// user of db.
type checkpointer struct {
	db   *sql.DB
	wake chan struct{} // buffered (1): wakes coalesce
	quit chan struct{}
	done chan struct{}
	once sync.Once // stop
	err  error     // of closing db, set by stop's once

	commits atomic.Uint64 // writer batches since Open; every checkpointEvery-th wakes
	runs    atomic.Uint64 // checkpoints run (failed ones included)
}

func newCheckpointer(db *sql.DB) *checkpointer {
	return &checkpointer{db: db, wake: make(chan struct{}, 1), quit: make(chan struct{}), done: make(chan struct{})}
}

func (c *checkpointer) start() { go c.loop() }

// committed is called by the writer after each commit; it never blocks.
func (c *checkpointer) committed() {
	if c.commits.Add(1)%checkpointEvery != 0 {
		return
	}
	select {
	case c.wake <- struct{}{}:
	default: // already woken
	}
}

func (c *checkpointer) loop() {
	defer close(c.done)
	tick := time.NewTicker(checkpointInterval)
	defer tick.Stop()
	for {
		select {
		case <-c.quit:
			return
		case <-c.wake:
		case <-tick.C:
		}
		// A failure (SQLITE_BUSY from a concurrent checkpoint, a full
		// disk) leaves the frames in the WAL for the next run or the
		// backstop; nothing is lost.
		_, _, _ = c.checkpoint(context.Background())
	}
}

// checkpoint runs one PASSIVE checkpoint and returns the WAL's frames and
// how many of them are now in the database file.
func (c *checkpointer) checkpoint(ctx context.Context) (walFrames, checkpointed int64, err error) {
	defer c.runs.Add(1)
	var busy int64
	err = c.db.QueryRowContext(ctx, `PRAGMA wal_checkpoint(PASSIVE)`).Scan(&busy, &walFrames, &checkpointed)
	return walFrames, checkpointed, err
}

// stop ends the goroutine and closes db; SQLite checkpoints the WAL when
// the last connection closes. It is idempotent, as Store.Close is.
func (c *checkpointer) stop() error {
	c.once.Do(func() {
		close(c.quit)
		<-c.done
		c.err = c.db.Close()
	})
	return c.err
}
