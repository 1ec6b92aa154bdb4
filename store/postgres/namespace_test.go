package postgres_test

import (
	"crypto/rand"
	"encoding/hex"
	"testing"

	"github.com/confab-chat/confab/store/postgres"
	"github.com/confab-chat/confab/store/storetest"
	"github.com/jackc/pgx/v5"
)

// openSchema opens the store in schema through OpenSchema (which creates
// it), dropped when the test ends.
func openSchema(t *testing.T, base, schema string) *postgres.Store {
	t.Helper()
	s, err := postgres.OpenSchema(ctx, base, schema)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		s.Close()
		admin, err := pgx.Connect(ctx, base)
		if err != nil {
			t.Errorf("drop schema %s: %v", schema, err)
			return
		}
		defer admin.Close(ctx)
		if _, err := admin.Exec(ctx, "DROP SCHEMA "+schema+" CASCADE"); err != nil {
			t.Errorf("drop schema %s: %v", schema, err)
		}
	})
	return s
}

// TestStore_Namespaces: two workspaces' schemas (cmd/confab: ws_<id>) of
// one database, opened side by side, share no row.
func TestStore_Namespaces(t *testing.T) {
	base := serverURL(t)
	b := make([]byte, 6)
	rand.Read(b)
	suffix := hex.EncodeToString(b)
	storetest.Namespaces(t, openSchema(t, base, "ws_a"+suffix), openSchema(t, base, "ws_b"+suffix))
}

func TestOpenSchema_BadName(t *testing.T) {
	for _, schema := range []string{"", "Ws_acme", "ws-acme", "ws;drop", `"ws"`} {
		if s, err := postgres.OpenSchema(ctx, "postgres://127.0.0.1:1/none", schema); err == nil {
			s.Close()
			t.Errorf("OpenSchema(%q) = nil error, want a bad name", schema)
		}
	}
}
