package dynamodb_test

import (
	"testing"

	"github.com/confab-chat/confab/store/storetest"
)

// TestStore_Namespaces: the default workspace's tables and a workspace's
// (cmd/confab: <prefix>ws-<id>-), opened side by side, share no row.
func TestStore_Namespaces(t *testing.T) {
	endpoint(t)
	base := freshPrefix(t)
	ws := base + "ws-acme-"
	t.Cleanup(func() { dropTables(t, ws) })
	storetest.Namespaces(t, openPrefix(t, base), openPrefix(t, ws))
}
