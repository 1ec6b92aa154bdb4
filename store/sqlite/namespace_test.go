package sqlite

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/confab-chat/confab/store/storetest"
)

// TestStore_Namespaces: two workspaces' files (cmd/confab:
// <data>/workspaces/<id>/confab.db) opened side by side share no row.
func TestStore_Namespaces(t *testing.T) {
	dir := t.TempDir()
	var paths []string
	for _, id := range []string{"acme", "globex"} {
		p := filepath.Join(dir, "workspaces", id)
		if err := os.MkdirAll(p, 0o700); err != nil {
			t.Fatal(err)
		}
		paths = append(paths, filepath.Join(p, "confab.db"))
	}
	storetest.Namespaces(t, openAt(t, paths[0]), openAt(t, paths[1]))
}
