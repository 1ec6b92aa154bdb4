package postgres_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/confab-chat/confab"
	"github.com/confab-chat/confab/store/postgres"
	"github.com/jackc/pgx/v5"
)

// TestStore_FrozenSenderDoesNotStallOthers stands in for a node frozen
// between its append's UPDATE and COMMIT: one of the store's own sessions
// takes the conversation's row lock and then waits, idle in transaction.
// Another node's append fails CodeUnavailable within lock_timeout instead
// of waiting for the frozen one; the server ends the frozen session
// (idle_in_transaction_session_timeout), which frees the lock, so the
// retry with the same client token succeeds; the frozen sender, once it
// resumes, is told CodeUnavailable (its transaction was rolled back).
func TestStore_FrozenSenderDoesNotStallOthers(t *testing.T) {
	u := freshSchema(t)
	frozen, other := openURL(t, u), openURL(t, u)
	userID, convID := fixture(t, frozen)

	var pid int32
	locked, resume := make(chan struct{}), make(chan struct{})
	release := sync.OnceFunc(func() { close(resume) })
	t.Cleanup(release) // runs before the stores close, which waits for the transaction
	frozenErr := make(chan error, 1)
	go func() {
		frozenErr <- frozen.InTx(ctx, func(tx pgx.Tx) error {
			if err := tx.QueryRow(ctx, `SELECT pg_backend_pid()`).Scan(&pid); err != nil {
				return err
			}
			if _, err := tx.Exec(ctx, `UPDATE conversations SET last_seq = last_seq + 1 WHERE conversation_id = $1`, convID); err != nil {
				return err
			}
			close(locked)
			<-resume // frozen: the session is idle in transaction, holding the lock
			_, err := tx.Exec(ctx, `SELECT 1`)
			return err
		})
	}()
	select {
	case <-locked:
	case err := <-frozenErr:
		t.Fatal(err)
	}

	m := &confab.Message{MessageID: "m1", ConversationID: convID, UserID: userID, Content: "hi",
		MessageType: confab.MessageText, CreatedAt: time.Now(), ClientToken: "tok-1"}
	waitCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	start := time.Now()
	_, err := other.AppendMessage(waitCtx, m)
	if confab.ErrorCode(err) != confab.CodeUnavailable {
		t.Fatalf("append behind a frozen sender after %v: %v (code %s), want CodeUnavailable within lock_timeout", time.Since(start), err, confab.ErrorCode(err))
	}
	if waited := time.Since(start); waited > 5*time.Second {
		t.Fatalf("append waited %v for the frozen sender's lock", waited)
	}

	// The server ends the frozen session; its lock goes with it.
	admin, err := pgx.Connect(ctx, serverURL(t))
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close(ctx)
	deadline := time.Now().Add(10 * time.Second)
	for {
		var alive bool
		if err := admin.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_stat_activity WHERE pid = $1)`, pid).Scan(&alive); err != nil {
			t.Fatal(err)
		}
		if !alive {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the frozen session, idle in transaction, was not ended by idle_in_transaction_session_timeout")
		}
		time.Sleep(50 * time.Millisecond) // polling the server's state, not synchronising goroutines
	}

	created, err := other.AppendMessage(ctx, m)
	if err != nil || !created || m.Seq != 1 {
		t.Fatalf("retry with the client token: created %v, seq %d, %v; want created, seq 1 (the frozen UPDATE rolled back)", created, m.Seq, err)
	}
	release()
	if err := <-frozenErr; confab.ErrorCode(err) != confab.CodeUnavailable {
		t.Fatalf("the frozen sender resumed to %v (code %s), want CodeUnavailable", err, confab.ErrorCode(err))
	}
}

// TestStore_MigrateWaitsPastLockTimeout: a node starting while another
// migrates waits for the migration lock however long that takes (here
// longer than lock_timeout), instead of failing to start.
func TestStore_MigrateWaitsPastLockTimeout(t *testing.T) {
	u := freshSchema(t)
	conn, err := pgx.Connect(ctx, u) // search_path: the fresh schema, as the store's
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, `SELECT pg_advisory_lock(hashtextextended('confab.migrate:' || coalesce(current_schema(), ''), 0))`); err != nil {
		t.Fatal(err)
	}
	var testPID int32
	if err := conn.QueryRow(ctx, `SELECT pg_backend_pid()`).Scan(&testPID); err != nil {
		t.Fatal(err)
	}
	opened := make(chan error, 1)
	go func() {
		s, err := postgres.Open(ctx, u)
		if err == nil {
			s.Close()
		}
		opened <- err
	}()
	// Wait until the starting node has waited for the lock longer than
	// lock_timeout (2 s), as pg_stat_activity shows it.
	deadline := time.Now().Add(15 * time.Second)
	for {
		var waiting bool
		if err := conn.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_stat_activity
			WHERE pg_blocking_pids(pid) @> ARRAY[$1::int] AND now() - query_start > interval '2500 ms')`, testPID).Scan(&waiting); err != nil {
			t.Fatal(err)
		}
		if waiting {
			break
		}
		select {
		case err := <-opened:
			t.Fatalf("Open returned %v while another node held the migration lock, want it to wait", err)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatal("the starting node never waited 2.5 s for the migration lock")
		}
		time.Sleep(50 * time.Millisecond) // polling the server's state
	}
	if _, err := conn.Exec(ctx, `SELECT pg_advisory_unlock_all()`); err != nil {
		t.Fatal(err)
	}
	if err := <-opened; err != nil {
		t.Fatalf("Open after the migration lock was released: %v", err)
	}
}
