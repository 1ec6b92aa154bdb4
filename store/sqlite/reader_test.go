package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"testing"
	"time"
)

// The read pool prepares each query once and reuses it, caches at most
// maxReadStmts, and still answers queries past the bound.
func TestReadPool_Statements(t *testing.T) {
	s := openTemp(t)
	ctx := context.Background()
	for i := range maxReadStmts + 6 {
		for range 2 {
			var got int
			if err := s.read.QueryRowContext(ctx, fmt.Sprintf("SELECT ? + %d", i), 1).Scan(&got); err != nil || got != i+1 {
				t.Fatalf("query %d = %d, %v; want %d", i, got, err, i+1)
			}
		}
	}
	first := s.read.stmt(ctx, "SELECT ? + 0")
	if first == nil || s.read.stmt(ctx, "SELECT ? + 0") != first {
		t.Fatal("a cached query is not reused")
	}
	if n := len(s.read.stmts); n != maxReadStmts {
		t.Fatalf("%d statements cached, want the bound %d", n, maxReadStmts)
	}
	rows, err := s.read.QueryContext(ctx, "SELECT no_such_column FROM users")
	if err == nil {
		rows.Close()
		t.Fatal("a bad query succeeded")
	}
}

// A query being prepared does not hold up reads of queries already
// prepared (defect 7 of #17: the pool's lock was held across the prepare).
func TestReadPool_SlowPrepareDoesNotBlockReads(t *testing.T) {
	s := openTemp(t)
	ctx := context.Background()
	var got int
	if err := s.read.QueryRowContext(ctx, "SELECT 1").Scan(&got); err != nil {
		t.Fatal(err)
	}
	preparing, release := make(chan struct{}), make(chan struct{})
	prepare := s.read.prepare
	s.read.prepare = func(ctx context.Context, query string) (*sql.Stmt, error) {
		if query == "SELECT 2" {
			close(preparing)
			<-release
		}
		return prepare(ctx, query)
	}
	slow := make(chan error, 1)
	go func() { slow <- s.read.QueryRowContext(ctx, "SELECT 2").Scan(new(int)) }()
	<-preparing

	fast := make(chan error, 1)
	go func() { fast <- s.read.QueryRowContext(ctx, "SELECT 1").Scan(new(int)) }()
	select {
	case err := <-fast:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(5 * time.Second):
		close(release)
		t.Fatal("a prepared query waited for another query's prepare")
	}
	close(release)
	if err := <-slow; err != nil {
		t.Fatal(err)
	}
	if s.read.stmt(ctx, "SELECT 2") == nil {
		t.Fatal("the slowly prepared query was not cached")
	}
}
