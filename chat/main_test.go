package chat_test

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain checks, once every test has closed its service, broker and
// store, that no goroutine is left behind: streams, flushes, gap fills and
// the presence heartbeat all have an owner that stops them.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }
