package sqlite

import (
	"context"
	"testing"
)

// TestStore_WriterJournalsInMemory: the write connection keeps temporary
// files, the per-append savepoints' sub-journal among them, in memory
// (temp_store 2), so a batch never writes its sub-journal to disk.
func TestStore_WriterJournalsInMemory(t *testing.T) {
	s := openTemp(t)
	var mode int
	if err := s.write.QueryRowContext(context.Background(), `PRAGMA temp_store`).Scan(&mode); err != nil {
		t.Fatal(err)
	}
	if mode != 2 {
		t.Fatalf("write connection temp_store = %d, want 2 (MEMORY)", mode)
	}
}
