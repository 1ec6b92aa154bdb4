package metered_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/confab-chat/confab"
	"github.com/confab-chat/confab/store/metered"
	"github.com/confab-chat/confab/store/sqlite"
)

type report struct {
	op     string
	failed bool
}

func TestWrap_ReportsEveryCall(t *testing.T) {
	ctx := context.Background()
	inner, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "confab.db"))
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var got []report
	st := metered.Wrap(inner, func(op string, took time.Duration, err error) {
		if took < 0 {
			t.Errorf("%s took %v", op, took)
		}
		mu.Lock()
		got = append(got, report{op, metered.Failed(err)})
		mu.Unlock()
	})

	now := time.Now().UTC().Truncate(time.Millisecond)
	if err := st.InsertAccount(ctx, &confab.Account{User: confab.User{UserID: "u1", Username: "ann", Email: "ann@example.com", CreatedAt: now}, PasswordHash: "x"}); err != nil {
		t.Fatal(err)
	}
	if _, err := st.GetUser(ctx, "nobody"); confab.ErrorCode(err) != confab.CodeNotFound {
		t.Fatalf("GetUser(nobody): %v", err)
	}
	if err := st.InsertAccount(ctx, &confab.Account{User: confab.User{UserID: "u2", Username: "ann", Email: "ann@example.com", CreatedAt: now}, PasswordHash: "x"}); confab.ErrorCode(err) != confab.CodeConflict {
		t.Fatalf("duplicate InsertAccount: %v", err)
	}
	c := &confab.Conversation{ConversationID: "c1", CreatedAt: now, Members: []confab.Member{{UserID: "u1", JoinedAt: now}}}
	if err := st.InsertConversation(ctx, c); err != nil {
		t.Fatal(err)
	}
	m := &confab.Message{MessageID: "m1", ConversationID: "c1", UserID: "u1", Content: "hi", MessageType: confab.MessageText, CreatedAt: now}
	if _, err := st.AppendMessage(ctx, m); err != nil {
		t.Fatal(err)
	}
	if _, _, err := st.DeleteMessage(ctx, "c1", "m1", "", now); err != nil {
		t.Fatal(err)
	}
	inner.Close() // every call from here on is a store failure
	if _, err := st.GetConversation(ctx, "c1"); err == nil {
		t.Fatal("GetConversation on a closed store succeeded")
	}

	want := []report{
		{"InsertAccount", false},
		{"GetUser", false},       // not found is an answer
		{"InsertAccount", false}, // so is a conflict
		{"InsertConversation", false},
		{"AppendMessage", false},
		{"DeleteMessage", false},
		{"GetConversation", true},
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("reports\n got %v\nwant %v", got, want)
	}
}

func TestFailed(t *testing.T) {
	tests := []struct {
		err  error
		want bool
	}{
		{nil, false},
		{confab.Errorf(confab.CodeNotFound, "x"), false},
		{confab.Errorf(confab.CodeConflict, "x"), false},
		{confab.Errorf(confab.CodeInvalid, "x"), false},
		{fmt.Errorf("op: %w", context.Canceled), false},
		{context.DeadlineExceeded, false},
		{confab.Errorf(confab.CodeUnavailable, "x"), true},
		{errors.New("disk I/O error"), true},
	}
	for _, tt := range tests {
		if got := metered.Failed(tt.err); got != tt.want {
			t.Errorf("Failed(%v) = %v, want %v", tt.err, got, tt.want)
		}
	}
}
