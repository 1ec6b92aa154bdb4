package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"io/fs"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/confab-chat/confab"
	"github.com/confab-chat/confab/internal/sqlmigrate"
)

// A database made before issue 15 keeps its rows as they were: members
// read with the role "" (chat.RoleOf makes the creator OWNER, the others
// MEMBER), conversations as groups with default settings, tombstones
// without DeletedBy, users neither admins nor with a policy; and the new
// methods work on them.
func TestMigrate_MembershipKeepsOldRows(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "confab.db")
	names, err := fs.Glob(migrations, "migrations/*.sql")
	if err != nil {
		t.Fatal(err)
	}
	old := fstest.MapFS{}
	for _, name := range names {
		if strings.HasPrefix(filepath.Base(name), "0012_") {
			break
		}
		b, err := fs.ReadFile(migrations, name)
		if err != nil {
			t.Fatal(err)
		}
		old[name] = &fstest.MapFile{Data: b}
	}
	db, err := sql.Open("sqlite", "file:"+path+"?_pragma=foreign_keys(1)")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := sqlmigrate.Apply(ctx, db, old, "migrations"); err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{
		`INSERT INTO users (user_id, username, email, email_lower, created_at, password_hash) VALUES ('u1', 'ann', 'a@x', 'a@x', 1, 'h'), ('u2', 'bo', 'b@x', 'b@x', 1, 'h')`,
		`INSERT INTO conversations (conversation_id, created_by, created_at, activity_at, last_seq, message_count) VALUES ('c1', 'u1', 1, 1, 1, 0)`,
		`INSERT INTO members (conversation_id, user_id, joined_at) VALUES ('c1', 'u1', 1), ('c1', 'u2', 1)`,
		`INSERT INTO messages (conversation_id, seq, message_id, user_id, content, message_type, created_at, deleted) VALUES ('c1', 1, 'm1', 'u2', 'x', 'TEXT', 1, 1)`,
	} {
		if _, err := db.ExecContext(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	db.Close()

	s := openAt(t, path)
	c, err := s.GetConversation(ctx, "c1")
	if err != nil {
		t.Fatal(err)
	}
	if c.Direct || c.Settings != (confab.ConversationSettings{}) || c.ArchivedAt != nil || len(c.Members) != 2 ||
		c.Members[0].Role != "" || c.Members[1].Role != "" || c.Members[0].MutedUntil != nil || c.Members[0].LastPostedAt != nil {
		t.Fatalf("an old conversation reads as %+v", c)
	}
	msgs, err := s.ListMessagesAfter(ctx, "c1", 0, 10)
	if err != nil || len(msgs) != 1 || !msgs[0].Deleted || msgs[0].DeletedBy != "" {
		t.Fatalf("an old tombstone reads as %+v, %v", msgs, err)
	}
	u, err := s.GetUser(ctx, "u1")
	if err != nil || u.Admin || u.AddPolicy != "" {
		t.Fatalf("an old user reads as %+v, %v", u, err)
	}
	conv, err := s.UpdateMembers(ctx, "c1", "u1", []confab.MemberUpdate{{UserID: "u2", Role: ptrTo(confab.RoleAdmin)}}, time.UnixMilli(2))
	if err != nil || conv.Members[1].Role != confab.RoleAdmin || conv.LastChangeSeq != 1 {
		t.Fatalf("UpdateMembers on an old conversation = %+v, %v", conv, err)
	}
}

func ptrTo[T any](v T) *T { return &v }

// The reads of issue 15 that can grow with the data walk their index.
func TestStore_MembershipReadsUseTheirIndex(t *testing.T) {
	s := openTemp(t)
	for _, tt := range []struct {
		name, query, index string
		args               []any
	}{
		{"ListUserMessages", listUserMessages, "messages_by_user", []any{"u", "m", 10}},
		{"Usage per day", usagePerDay, "messages_created_at", []any{0, dayMS, dayMS}},
		{"GetDirectConversation", getDirect, "conversations_direct", []any{"a b"}},
	} {
		if got := queryPlan(t, s, tt.query, tt.args...); !strings.Contains(got, "INDEX "+tt.index) {
			t.Errorf("%s plan = %q, want a walk of %s", tt.name, got, tt.index)
		}
	}
}

// DeleteConversation takes the conversation's live messages out of the
// search index (an external-content index: leaving them, or deleting a
// tombstone's entry again, corrupts it) and leaves the others' entries.
func TestStore_DeleteConversation_SearchIndexIntact(t *testing.T) {
	ctx := context.Background()
	s := openTemp(t)
	seed(t, s)
	at := time.Date(2026, 11, 25, 6, 0, 0, 0, time.UTC)
	if err := s.InsertConversation(ctx, &confab.Conversation{ConversationID: "c2", CreatedBy: "u1", CreatedAt: at, Members: []confab.Member{{UserID: "u1", JoinedAt: at}}}); err != nil {
		t.Fatal(err)
	}
	for i, conv := range []string{"c1", "c1", "c1", "c2", "c2"} {
		if _, err := s.AppendMessage(ctx, msg(fmt.Sprint("m", i), conv, fmt.Sprint("lunch note ", i))); err != nil {
			t.Fatal(err)
		}
	}
	if _, _, err := s.DeleteMessage(ctx, "c1", "m1", "", at); err != nil {
		t.Fatal(err)
	}
	if _, err := s.DeleteConversation(ctx, "c1"); err != nil {
		t.Fatal(err)
	}
	found, err := s.SearchAllMessages(ctx, "u1", "lunch", "", 10)
	if err != nil || len(found) != 2 || found[0].ConversationID != "c2" || found[1].ConversationID != "c2" {
		t.Fatalf("search after the delete = %+v, %v; want c2's two messages", found, err)
	}
	if err := ftsIntegrity(t, s); err != nil {
		t.Fatalf("search index after DeleteConversation: %v", err)
	}
}
