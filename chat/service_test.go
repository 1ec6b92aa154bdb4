package chat_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/confab-chat/confab"
	"github.com/confab-chat/confab/chat"
)

// TestService_Close covers the service's closed state: Close waits for the
// summary events already scheduled, schedules nothing after it, and every
// operation afterwards is a clear, retryable UNAVAILABLE (confab serve
// runs Close while handlers may still run, when a graceful shutdown times
// out).
func TestService_Close(t *testing.T) {
	t.Run("ErrUnavailableAfter", func(t *testing.T) {
		ctx := context.Background()
		e := newEnv(t, chat.Config{})
		alice, bob := e.user(t, "alice"), e.user(t, "bob")
		c := e.conversation(t, alice, bob)
		cid := c.ConversationID
		e.svc.Close()

		ops := []struct {
			name string
			run  func() error
		}{
			{"sendMessage", func() error {
				_, err := e.svc.SendMessage(ctx, alice, chat.SendMessageInput{ConversationID: cid, Content: "late"})
				return err
			}},
			{"createConversation", func() error { _, err := e.svc.CreateConversation(ctx, alice, nil, []string{bob.UserID}); return err }},
			{"getConversation", func() error { _, err := e.svc.GetConversation(ctx, alice, cid); return err }},
			{"listConversations", func() error { _, err := e.svc.ListConversations(ctx, alice, alice.UserID, nil, nil); return err }},
			{"listMessages", func() error { _, err := e.svc.ListMessages(ctx, alice, cid, nil, nil); return err }},
			{"getUser", func() error { _, err := e.svc.GetUser(ctx, alice, bob.UserID); return err }},
			{"updateUserPresence", func() error { _, err := e.svc.UpdateUserPresence(ctx, alice, alice.UserID, true); return err }},
			{"onMessageSent", func() error {
				ctx, cancel := context.WithCancel(ctx)
				defer cancel()
				_, err := e.svc.OnMessageSent(ctx, bob, cid, nil)
				return err
			}},
			{"onConversationUpdated", func() error {
				ctx, cancel := context.WithCancel(ctx)
				defer cancel()
				_, err := e.svc.OnConversationUpdated(ctx, bob, bob.UserID)
				return err
			}},
		}
		for _, op := range ops {
			t.Run(op.name, func(t *testing.T) { wantCode(t, op.run(), confab.CodeUnavailable) })
		}
		if got := e.svc.Stats().Stored; got != 0 {
			t.Fatalf("messages stored after Close = %d, want 0", got)
		}
	})

	// Senders on several conversations keep scheduling summary flushes
	// while Close waits for them (run with -race: a flush scheduled during
	// Close's wait was a data race on the WaitGroup). Each sender stops at
	// its first error, which must be UNAVAILABLE, and the summaries
	// scheduled before Close were published by the time it returned.
	t.Run("RacingSends", func(t *testing.T) {
		ctx := context.Background()
		e := newEnv(t, chat.Config{SummaryDelay: time.Millisecond})
		alice, bob := e.user(t, "alice"), e.user(t, "bob")
		const senders = 4
		var convs []string
		for range senders {
			convs = append(convs, e.conversation(t, alice, bob).ConversationID)
		}
		updates := make(chan string, 1<<16)
		sub, err := e.broker.Subscribe(confab.UserTopic(bob.UserID), func(ev *confab.Event) {
			if ev.Kind == confab.EventConversationUpdated {
				select {
				case updates <- ev.ConversationID:
				default:
				}
			}
		})
		if err != nil {
			t.Fatal(err)
		}
		defer sub.Unsubscribe()

		var wg sync.WaitGroup
		lastOK := make([]int, senders) // the last send that succeeded, by sender
		errs := make([]error, senders)
		started := make(chan struct{}, senders)
		for i, cid := range convs {
			wg.Go(func() {
				for n := 1; n <= 300; n++ {
					_, err := e.svc.SendMessage(ctx, alice, chat.SendMessageInput{ConversationID: cid, Content: fmt.Sprint(n)})
					if err != nil {
						errs[i] = err
						return
					}
					lastOK[i] = n
					if n == 3 {
						started <- struct{}{}
					}
				}
			})
		}
		for range senders {
			<-started
		}
		e.svc.Close()
		wg.Wait()
		for i, err := range errs {
			if confab.ErrorCode(err) != confab.CodeUnavailable {
				t.Fatalf("sender %d ended with %v after %d sends, want UNAVAILABLE once closed", i, err, lastOK[i])
			}
		}
		// Every conversation had a summary event: the flushes scheduled
		// before Close ran before it returned.
		seen := map[string]bool{}
		for len(updates) > 0 {
			seen[<-updates] = true
		}
		for _, cid := range convs {
			if !seen[cid] {
				t.Fatalf("conversation %s: no summary event by the time Close returned", cid)
			}
		}
	})
}
