package sqlite

import (
	"context"
	"fmt"
	"testing"
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
