package sqlite_test

import (
	"context"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/confab-chat/confab"
	"github.com/confab-chat/confab/store/sqlite"
	"github.com/confab-chat/confab/store/storetest"
	"go.uber.org/goleak"
)

func open(t *testing.T) confab.Store {
	t.Helper()
	s, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "confab.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestStore_Contract(t *testing.T) {
	storetest.Run(t, func(t *testing.T) confab.Store { return open(t) })
}

func TestStore_Durability(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "confab.db")
	s, err := sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC().Truncate(time.Millisecond)
	u := confab.User{UserID: "u1", Username: "ann", Email: "ann@example.com", CreatedAt: now}
	if err := s.InsertAccount(ctx, &confab.Account{User: u, PasswordHash: "h"}); err != nil {
		t.Fatal(err)
	}
	c := &confab.Conversation{ConversationID: "c1", CreatedBy: "u1", CreatedAt: now, Members: []confab.Member{{UserID: "u1", JoinedAt: now}}}
	if err := s.InsertConversation(ctx, c); err != nil {
		t.Fatal(err)
	}
	// A batch in which one append fails: its batch-mates still commit.
	var wg sync.WaitGroup
	errs := make([]error, 20)
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			conv := "c1"
			if i == 7 {
				conv = "missing"
			}
			_, errs[i] = s.AppendMessage(ctx, &confab.Message{MessageID: fmt.Sprint("m", i), ConversationID: conv, UserID: "u1", Content: "x", MessageType: confab.MessageText, CreatedAt: now})
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if (i == 7) != (err != nil) {
			t.Fatalf("append %d: %v", i, err)
		}
	}
	stats := s.WriterStats()
	if stats.Appends != 20 || stats.Batches == 0 {
		t.Fatalf("writer stats = %+v", stats)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	// Reopen: migrations are idempotent and everything acknowledged is there.
	s, err = sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	got, err := s.GetConversation(ctx, "c1")
	if err != nil || got.LastSeq != 19 || got.MessageCount != 19 {
		t.Fatalf("after reopen: %+v, %v; want 19 messages", got, err)
	}
}

func TestStore_AppendAfterClose(t *testing.T) {
	s := open(t)
	s.Close()
	_, err := s.AppendMessage(context.Background(), &confab.Message{ConversationID: "c"})
	if confab.ErrorCode(err) != confab.CodeUnavailable {
		t.Fatalf("append after close: %v, want UNAVAILABLE", err)
	}
}
