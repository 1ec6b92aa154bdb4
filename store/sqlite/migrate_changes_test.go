package sqlite

import (
	"context"
	"database/sql"
	"io/fs"
	"path/filepath"
	"slices"
	"testing"
	"testing/fstest"
	"time"

	"github.com/confab-chat/confab"
	"github.com/confab-chat/confab/internal/sqlmigrate"
)

// A database made before issue 12 (0007) keeps its messages readable and
// in the timeline after 0008_changes.sql; its conversations' change logs
// start at 1 with the first change after the upgrade, and an edit of an
// old message reindexes it for search.
func TestMigrate_ChangesOnAnOldDatabase(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "confab.db")
	old := fstest.MapFS{}
	entries, err := fs.ReadDir(migrations, "migrations")
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if e.Name() >= "0008" {
			continue
		}
		b, err := fs.ReadFile(migrations, "migrations/"+e.Name())
		if err != nil {
			t.Fatal(err)
		}
		old["migrations/"+e.Name()] = &fstest.MapFile{Data: b}
	}
	db, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := sqlmigrate.Apply(ctx, db, old, "migrations"); err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{
		`INSERT INTO users (user_id, username, email, email_lower, created_at, password_hash) VALUES ('u1', 'ann', 'a@x', 'a@x', 1, 'h')`,
		`INSERT INTO conversations (conversation_id, created_by, created_at, last_message, last_message_at, message_count, last_seq, activity_at)
			VALUES ('c1', 'u1', 1, 'pizza later', 3, 1, 2, 3)`,
		`INSERT INTO members (conversation_id, user_id, joined_at, last_read_seq) VALUES ('c1', 'u1', 1, 1)`,
		`INSERT INTO messages (conversation_id, seq, message_id, user_id, content, message_type, created_at, deleted) VALUES ('c1', 1, 'm1', 'u1', 'gone', 'TEXT', 2, 1)`,
		`INSERT INTO messages (conversation_id, seq, message_id, user_id, content, message_type, created_at) VALUES ('c1', 2, 'm2', 'u1', 'pizza later', 'TEXT', 3)`,
		`INSERT INTO messages_fts (rowid, content) SELECT rowid, content FROM messages WHERE message_id = 'm2'`,
	} {
		if _, err := db.ExecContext(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	db.Close()

	s := openAt(t, path)
	c, err := s.GetConversation(ctx, "c1")
	if err != nil || c.LastChangeSeq != 0 || c.Members[0].LastReadAt != nil || c.Members[0].UnreadMentions != 0 {
		t.Fatalf("conversation after the upgrade = %+v, %v; want LastChangeSeq 0, no read time, no mention", c, err)
	}
	page, err := s.ListMessages(ctx, "c1", 0, 10)
	if err != nil || len(page) != 1 || page[0].MessageID != "m2" || page[0].ChangeSeq != 0 || page[0].Mentions != nil || page[0].ParentMessageID != "" {
		t.Fatalf("ListMessages after the upgrade = %+v, %v; want m2 as it was", page, err)
	}
	m, err := s.EditMessage(ctx, "c1", "m2", "sushi later", time.UnixMilli(4))
	if err != nil || m.ChangeSeq != 1 {
		t.Fatalf("EditMessage of an old message = %+v, %v; want ChangeSeq 1", m, err)
	}
	for terms, want := range map[string][]string{"pizza": nil, "sushi": {"m2"}} {
		s.searchIndexOnly = true
		found, err := s.SearchMessages(ctx, "c1", terms, 10)
		if err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, m := range found {
			ids = append(ids, m.MessageID)
		}
		if !slices.Equal(ids, want) {
			t.Errorf("indexed search %q after the edit = %v, want %v", terms, ids, want)
		}
	}
	next := &confab.Message{MessageID: "m3", ConversationID: "c1", UserID: "u1", Content: "new", MessageType: confab.MessageText, CreatedAt: time.UnixMilli(5)}
	if _, err := s.AppendMessage(ctx, next); err != nil || next.Seq != 3 || next.ChangeSeq != 2 {
		t.Fatalf("first send after the upgrade = seq %d ChangeSeq %d, %v; want 3 and 2", next.Seq, next.ChangeSeq, err)
	}
}
