package sqlite

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"
)

// ftsIntegrity runs FTS5's integrity check against the content table
// (rank 1): it fails when the index holds an entry that messages does not,
// or misses one that it does. Tombstones are in messages but, by design,
// not in the index, so it first removes their rows (raw, with no index
// command: they have no entry).
func ftsIntegrity(t *testing.T, s *Store) error {
	t.Helper()
	ctx := context.Background()
	if _, err := s.write.ExecContext(ctx, `DELETE FROM messages WHERE deleted = 1`); err != nil {
		t.Fatal(err)
	}
	_, err := s.write.ExecContext(ctx, `INSERT INTO messages_fts (messages_fts, rank) VALUES ('integrity-check', 1)`)
	return err
}

// TestStore_PurgeMessages_SearchIndexIntact purges live messages and
// tombstones in batches, then appends: the external-content index stays
// exactly in step with the live rows. The control case shows the check
// notices a tombstone's entry deleted twice, the mistake PurgeMessages
// must not make.
func TestStore_PurgeMessages_SearchIndexIntact(t *testing.T) {
	ctx := context.Background()
	s := openTemp(t)
	seed(t, s)
	base := time.Date(2026, 11, 25, 7, 0, 0, 0, time.UTC)
	for i := range 40 {
		m := msg(fmt.Sprint("m", i), "c1", fmt.Sprintf("note %d about lunch %s", i, strings.Repeat("x", i)))
		m.CreatedAt = base.Add(time.Duration(i) * time.Second)
		if _, err := s.AppendMessage(ctx, m); err != nil {
			t.Fatal(err)
		}
	}
	for _, i := range []int{3, 4, 11, 30} { // tombstones inside and outside the purged range
		if _, _, err := s.DeleteMessage(ctx, "c1", fmt.Sprint("m", i), "", base); err != nil {
			t.Fatal(err)
		}
	}
	total := 0
	for {
		n, err := s.PurgeMessages(ctx, base.Add(20*time.Second), 7)
		if err != nil {
			t.Fatal(err)
		}
		total += n
		if n < 7 {
			break
		}
	}
	if total != 20 {
		t.Fatalf("purged %d, want 20", total)
	}
	m := msg("m40", "c1", "lunch after the purge")
	m.CreatedAt = base.Add(time.Minute)
	if _, err := s.AppendMessage(ctx, m); err != nil {
		t.Fatal(err)
	}
	found, err := s.SearchMessages(ctx, "c1", "lunch", 100)
	if err != nil || len(found) != 20 || found[0].Seq != 41 || found[len(found)-1].Seq != 21 {
		t.Fatalf("search = %d messages, %v; want the 19 live survivors and the new one, newest first", len(found), err)
	}
	if err := ftsIntegrity(t, s); err != nil {
		t.Fatalf("search index after purge and append: %v", err)
	}

	t.Run("ControlDoubleDelete", func(t *testing.T) {
		if _, _, err := s.DeleteMessage(ctx, "c1", "m35", "", base); err != nil {
			t.Fatal(err)
		}
		if _, err := s.write.ExecContext(ctx, `INSERT INTO messages_fts (messages_fts, rowid, content)
			SELECT 'delete', rowid, content FROM messages WHERE message_id = 'm35'`); err != nil {
			t.Fatal(err)
		}
		if err := ftsIntegrity(t, s); err == nil {
			t.Fatal("integrity check passed after a tombstone's entry was deleted twice; it proves nothing")
		}
	})
}

// TestStore_PurgeMessages_UsesCreatedAtIndex checks that choosing a batch
// walks messages_created_at instead of scanning and sorting the table.
func TestStore_PurgeMessages_UsesCreatedAtIndex(t *testing.T) {
	s := openTemp(t)
	rows, err := s.read.Query(`EXPLAIN QUERY PLAN `+purgeBatch, 1, 500)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var plan []string
	for rows.Next() {
		var id, parent, unused int
		var detail string
		if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
			t.Fatal(err)
		}
		plan = append(plan, detail)
	}
	got := strings.Join(plan, "; ")
	if !strings.Contains(got, "INDEX messages_created_at") || strings.Contains(got, "TEMP B-TREE") {
		t.Fatalf("plan = %q, want a walk of messages_created_at with no sort", got)
	}
}
