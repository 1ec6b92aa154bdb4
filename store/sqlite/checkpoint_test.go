package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
)

// TestStore_CheckpointOffCommitPath: the write connection checkpoints only
// as a backstop far beyond SQLite's default, the writer's commits wake the
// checkpointer, and the checkpointer's PASSIVE checkpoint on its own
// connection moves the WAL into the database file.
func TestStore_CheckpointOffCommitPath(t *testing.T) {
	ctx := context.Background()
	s := openTemp(t)
	seed(t, s)
	var pages int
	if err := s.write.QueryRowContext(ctx, `PRAGMA wal_autocheckpoint`).Scan(&pages); err != nil {
		t.Fatal(err)
	}
	if pages != walBackstopPages {
		t.Fatalf("write connection wal_autocheckpoint = %d, want the backstop %d (1,000, SQLite's default, checkpoints inside a commit)", pages, walBackstopPages)
	}
	const n = 2 * checkpointEvery
	for i := range n { // one at a time: one batch each
		if _, err := s.AppendMessage(ctx, msg(fmt.Sprint("m", i), "c1", strings.Repeat("lunch ", 700))); err != nil {
			t.Fatal(err)
		}
	}
	if got := s.ckpt.commits.Load(); got < n {
		t.Fatalf("checkpointer told of %d commits, want at least %d", got, n)
	}
	waitFor(t, "a checkpoint", func() bool { return s.ckpt.runs.Load() > 0 })
	frames, done, err := s.ckpt.checkpoint(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if frames != done {
		t.Fatalf("after a PASSIVE checkpoint with no reader: %d WAL frames, %d in the database file", frames, done)
	}
}

// TestCheckpointer_WakesEveryN: every checkpointEvery-th commit wakes the
// checkpointer, and wakes coalesce, so the writer never blocks on it.
func TestCheckpointer_WakesEveryN(t *testing.T) {
	db, err := sql.Open("sqlite", "file:"+filepath.Join(t.TempDir(), "c.db"))
	if err != nil {
		t.Fatal(err)
	}
	c := newCheckpointer(db) // not started: nothing takes the wakes
	defer db.Close()
	for range checkpointEvery - 1 {
		c.committed()
	}
	if len(c.wake) != 0 {
		t.Fatalf("woken after %d commits, want after %d", checkpointEvery-1, checkpointEvery)
	}
	for range 3*checkpointEvery + 1 { // does not block with the wake pending
		c.committed()
	}
	if len(c.wake) != 1 {
		t.Fatalf("wake pending = %d, want 1", len(c.wake))
	}
}
