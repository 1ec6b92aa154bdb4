package postgres_test

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/confab-chat/confab"
	"github.com/confab-chat/confab/store/postgres"
)

// TestStore_PurgeTwoNodes purges from two nodes at once while others
// append and delete in the same conversations: no call fails (no deadlock
// between the purges' conversation locks and the writers' row locks), the
// old messages are purged exactly once between the two, and every summary
// agrees with what is stored.
func TestStore_PurgeTwoNodes(t *testing.T) {
	u := freshSchema(t)
	nodes := []*postgres.Store{openURL(t, u), openURL(t, u)}
	userID, _ := fixture(t, nodes[0])
	base := time.Date(2026, 11, 25, 6, 0, 0, 0, time.UTC)
	const convs, old = 6, 300
	var ids []string
	for i := range convs {
		c := &confab.Conversation{ConversationID: fmt.Sprint("conv-", i), CreatedBy: userID, CreatedAt: base,
			Members: []confab.Member{{UserID: userID, JoinedAt: base}}}
		if err := nodes[0].InsertConversation(ctx, c); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, c.ConversationID)
	}
	message := func(id, conv string, at time.Time) *confab.Message {
		return &confab.Message{MessageID: id, ConversationID: conv, UserID: userID, Content: "content of " + id,
			MessageType: confab.MessageText, CreatedAt: at}
	}
	for i := range old {
		if _, err := nodes[i%2].AppendMessage(ctx, message(fmt.Sprint("old-", i), ids[i%convs], base.Add(time.Duration(i)*time.Millisecond))); err != nil {
			t.Fatal(err)
		}
	}
	before := base.Add(time.Hour)

	errs := make(chan error, 16)
	purged := make([]int, len(nodes))
	var wg sync.WaitGroup
	for n, node := range nodes {
		wg.Go(func() {
			for {
				k, err := node.PurgeMessages(ctx, before, 25)
				if err != nil {
					errs <- fmt.Errorf("node %d PurgeMessages: %w", n, err)
					return
				}
				purged[n] += k
				if k == 0 {
					return
				}
			}
		})
	}
	for w := range 4 {
		node := nodes[w%2]
		wg.Go(func() {
			for i := range 25 {
				conv := ids[(w+i)%convs]
				if _, err := node.AppendMessage(ctx, message(fmt.Sprint("new-", w, "-", i), conv, before.Add(time.Minute))); err != nil {
					errs <- fmt.Errorf("AppendMessage: %w", err)
					return
				}
				// Delete an old message (the purge may have taken it:
				// NotFound) and every other new one.
				victim := fmt.Sprint("old-", (w*25+i)*7%old)
				if _, _, err := node.DeleteMessage(ctx, ids[(w*25+i)*7%old%convs], victim, "", before); err != nil && confab.ErrorCode(err) != confab.CodeNotFound {
					errs <- fmt.Errorf("DeleteMessage old: %w", err)
					return
				}
				if i%2 == 0 {
					if _, _, err := node.DeleteMessage(ctx, conv, fmt.Sprint("new-", w, "-", i), "", before); err != nil {
						errs <- fmt.Errorf("DeleteMessage new: %w", err)
						return
					}
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	// A purge that finds its conversations emptied by the other node's
	// may return 0 while older messages remain elsewhere: finish here.
	for {
		k, err := nodes[0].PurgeMessages(ctx, before, 25)
		if err != nil {
			t.Fatal(err)
		}
		if k == 0 {
			break
		}
		purged[0] += k
	}
	if purged[0]+purged[1] != old {
		t.Fatalf("purged %d + %d, want %d in all (each old message once)", purged[0], purged[1], old)
	}
	for _, id := range ids {
		msgs, err := nodes[0].ListMessagesAfter(ctx, id, 0, 1000)
		if err != nil {
			t.Fatal(err)
		}
		live, preview := 0, (*string)(nil)
		for _, m := range msgs {
			if !m.Deleted {
				live++
				preview = &m.Content
			}
		}
		c, err := nodes[1].GetConversation(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if c.MessageCount != live || (preview == nil) != (c.LastMessage == nil) || (preview != nil && *preview != *c.LastMessage) {
			t.Fatalf("%s: count %d, preview %v; stored %d live, newest %v", id, c.MessageCount, c.LastMessage, live, preview)
		}
		if c.LastSeq != int64(old/convs+len(msgs)) {
			t.Fatalf("%s: LastSeq %d, want %d old and %d new", id, c.LastSeq, old/convs, len(msgs))
		}
	}
}
