package main

import (
	"context"
	"fmt"
	"io"
	"path/filepath"
	"sync"
	"testing"

	"github.com/confab-chat/confab/store/sqlite"
)

// TestMain_BackupOnline takes a backup while messages are being sent; the
// copy opens as a store and holds a consistent prefix of the conversation
// (gapless seqs, summary matching the rows); restoring it serves the data.
func TestMain_BackupOnline(t *testing.T) {
	a := runMain(t, "--sends-per-second", "-1") // writes run flat out during the backup
	alice := a.signUp(t, "alice")
	cid := a.mustGQL(t, alice.idToken, createConv, map[string]any{"p": []string{}})["createConversation"].(map[string]any)["conversationId"].(string)
	for i := range 20 {
		a.mustGQL(t, alice.idToken, sendMsg, map[string]any{"c": cid, "t": fmt.Sprint("before ", i)})
	}
	var wg sync.WaitGroup
	stop := make(chan struct{})
	wg.Add(1)
	go func() { // writes continue during the backup
		defer wg.Done()
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			a.mustGQL(t, alice.idToken, sendMsg, map[string]any{"c": cid, "t": fmt.Sprint("during ", i)})
		}
	}()
	to := filepath.Join(t.TempDir(), "backup.db")
	m := &Main{Stdout: io.Discard, Stderr: io.Discard, Getenv: func(string) string { return "" }}
	err := m.Run(context.Background(), []string{"backup", "--data", a.data, "--to", to})
	close(stop)
	wg.Wait()
	if err != nil {
		t.Fatal(err)
	}
	st, err := sqlite.Open(context.Background(), to)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	c, err := st.GetConversation(context.Background(), cid)
	if err != nil {
		t.Fatal(err)
	}
	if c.LastSeq < 20 || int64(c.MessageCount) != c.LastSeq {
		t.Fatalf("backup summary: lastSeq %d, count %d", c.LastSeq, c.MessageCount)
	}
	msgs, err := st.ListMessagesAfter(context.Background(), cid, 0, 1000)
	if err != nil || int64(len(msgs)) != c.LastSeq {
		t.Fatalf("backup holds %d messages, summary says %d (%v)", len(msgs), c.LastSeq, err)
	}
	for i, msg := range msgs {
		if msg.Seq != int64(i+1) {
			t.Fatalf("backup seq %d at %d: not a consistent prefix", msg.Seq, i)
		}
	}
	if err := m.Run(context.Background(), []string{"backup", "--data", a.data, "--to", to}); err == nil {
		t.Fatal("a backup over an existing file must be refused")
	}
}
