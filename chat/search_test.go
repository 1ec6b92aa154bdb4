package chat_test

import (
	"context"
	"testing"

	"github.com/confab-chat/confab"
	"github.com/confab-chat/confab/chat"
)

func TestService_SearchAllMessages(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, chat.Config{})
	alice, bob, eve := e.user(t, "alice"), e.user(t, "bob"), e.user(t, "eve")
	c1 := e.conversation(t, alice, bob)
	c2 := e.conversation(t, alice)
	theirs := e.conversation(t, bob, eve) // alice is not a member
	var want []*confab.Message            // alice's hits, oldest first
	for i := range 3 {
		want = append(want, e.send(t, bob, c1.ConversationID, "pizza tonight"))
		want = append(want, e.send(t, alice, c2.ConversationID, "note: pizza dough"))
		e.send(t, eve, theirs.ConversationID, "pizza elsewhere")
		e.send(t, bob, c1.ConversationID, "no match here")
		if i == 1 {
			gone := e.send(t, alice, c2.ConversationID, "deleted pizza")
			if _, err := e.svc.DeleteMessage(ctx, alice, c2.ConversationID, gone.MessageID); err != nil {
				t.Fatal(err)
			}
		}
	}

	t.Run("OK", func(t *testing.T) {
		var got []chat.Hit
		var token *string
		limit := 4
		for pages := 0; ; pages++ {
			if pages > 3 {
				t.Fatal("more pages than hits")
			}
			page, err := e.svc.SearchAllMessages(ctx, alice, "  PIZ ", &limit, token)
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, page.Items...)
			if token = page.NextToken; token == nil {
				break
			}
		}
		if len(got) != len(want) {
			t.Fatalf("%d hits, want %d (alice's two conversations, newest first, deleted ones left out)", len(got), len(want))
		}
		for i, h := range got {
			w := want[len(want)-1-i]
			if h.Message.MessageID != w.MessageID {
				t.Fatalf("hit %d = %q in %s, want %q in %s", i, h.Message.Content, h.Message.ConversationID, w.Content, w.ConversationID)
			}
			if h.Conversation == nil || h.Conversation.ConversationID != w.ConversationID || h.Conversation.Member(alice.UserID) == nil {
				t.Fatalf("hit %d comes with conversation %+v, want %s", i, h.Conversation, w.ConversationID)
			}
		}
	})

	t.Run("ErrToken", func(t *testing.T) {
		limit := 1
		page, err := e.svc.SearchAllMessages(ctx, alice, "pizza", &limit, nil)
		if err != nil || page.NextToken == nil {
			t.Fatalf("first page: %v, %v", page, err)
		}
		_, err = e.svc.SearchAllMessages(ctx, alice, "dough", &limit, page.NextToken) // another term
		wantCode(t, err, confab.CodeInvalid)
		_, err = e.svc.SearchAllMessages(ctx, bob, "pizza", &limit, page.NextToken) // another user
		wantCode(t, err, confab.CodeInvalid)
		bad := "not-a-token"
		_, err = e.svc.SearchAllMessages(ctx, alice, "pizza", &limit, &bad)
		wantCode(t, err, confab.CodeInvalid)
	})

	t.Run("ErrInput", func(t *testing.T) {
		for _, term := range []string{"", "   ", "a\x00b", string(make([]byte, confab.MaxSearchTermBytes+1))} {
			_, err := e.svc.SearchAllMessages(ctx, alice, term, nil, nil)
			wantCode(t, err, confab.CodeInvalid)
		}
		for _, n := range []int{0, confab.MaxPageLimit + 1} {
			_, err := e.svc.SearchAllMessages(ctx, alice, "pizza", &n, nil)
			wantCode(t, err, confab.CodeInvalid)
		}
		_, err := e.svc.SearchAllMessages(ctx, confab.Identity{}, "pizza", nil, nil)
		wantCode(t, err, confab.CodeUnauthenticated)
	})

	t.Run("StrangerSeesNothing", func(t *testing.T) {
		stranger := e.user(t, "stranger")
		page, err := e.svc.SearchAllMessages(ctx, stranger, "pizza", nil, nil)
		if err != nil || len(page.Items) != 0 || page.NextToken != nil {
			t.Fatalf("a user in no conversation found %+v, %v", page, err)
		}
	})
}
