package sqlite

import (
	"context"
	"database/sql"
	"io/fs"
	"path/filepath"
	"testing"
	"testing/fstest"

	"github.com/confab-chat/confab/internal/sqlmigrate"
)

// A database made before usernames were unique whatever their case keeps
// the oldest of "Ann", "ann", "ANN" as it is and renames the later ones to
// <name>-<first 8 of the user id> (0006_username_lower.sql); from then on
// the unique index refuses a new one.
func TestMigrate_UsernameLowerRenamesDuplicates(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "confab.db")
	old := fstest.MapFS{}
	for _, v := range []string{"0001_init.sql", "0002_connections.sql", "0003_fts_per_batch.sql", "0004_messages_created_at.sql", "0005_credentials.sql"} {
		b, err := fs.ReadFile(migrations, "migrations/"+v)
		if err != nil {
			t.Fatal(err)
		}
		old["migrations/"+v] = &fstest.MapFile{Data: b}
	}
	db, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := sqlmigrate.Apply(ctx, db, old, "migrations"); err != nil {
		t.Fatal(err)
	}
	for _, u := range []struct {
		id, name string
		created  int64
	}{{"aaaaaaaa-0001", "Ann", 1}, {"bbbbbbbb-0002", "ann", 2}, {"cccccccc-0003", "ANN", 2}, {"dddddddd-0004", "bo", 3}} {
		if _, err := db.ExecContext(ctx, `INSERT INTO users (user_id, username, email, email_lower, created_at, password_hash) VALUES (?, ?, ?, ?, ?, 'h')`,
			u.id, u.name, u.id+"@example.com", u.id+"@example.com", u.created); err != nil {
			t.Fatal(err)
		}
	}
	db.Close()

	s := openAt(t, path)
	want := map[string]string{"aaaaaaaa-0001": "Ann", "bbbbbbbb-0002": "ann-bbbbbbbb", "cccccccc-0003": "ANN-cccccccc", "dddddddd-0004": "bo"}
	for id, name := range want {
		u, err := s.GetUser(ctx, id)
		if err != nil || u.Username != name {
			t.Errorf("user %s after the migration = %+v, %v; want username %q", id, u, err, name)
		}
	}
	if _, err := s.write.ExecContext(ctx, `INSERT INTO users (user_id, username, email, email_lower, created_at, password_hash) VALUES ('e', 'BO', 'e@x', 'e@x', 4, 'h')`); err == nil {
		t.Error("a username differing only in case was stored after the migration")
	}
}
