package storetest

import (
	"testing"

	"github.com/confab-chat/confab"
)

// Namespaces checks that a and b, two namespaces of one engine opened side
// by side (two workspaces' stores: files, schemas, table prefixes), do not
// see each other's rows: what is written in a is NOT_FOUND or absent in b,
// and b accepts the very same keys as rows of its own.
func Namespaces(t *testing.T, a, b confab.Store) {
	fa, fb := newFixture(t, a), newFixture(t, b)
	ann, bob := fa.user("ann"), fa.user("bob")
	conv := fa.conversation(ann, bob)
	msg := fa.send(conv, ann, "hello from a")

	_, err := b.GetUser(fb.ctx, ann.UserID)
	fb.wantCode(err, confab.CodeNotFound)
	_, err = b.GetAccountByLogin(fb.ctx, ann.Email)
	fb.wantCode(err, confab.CodeNotFound)
	_, err = b.GetConversation(fb.ctx, conv.ConversationID)
	fb.wantCode(err, confab.CodeNotFound)
	_, err = b.GetMessage(fb.ctx, conv.ConversationID, msg.MessageID)
	fb.wantCode(err, confab.CodeNotFound)
	if msgs, err := b.ListMessages(fb.ctx, conv.ConversationID, 0, 10); err == nil && len(msgs) > 0 {
		t.Fatalf("b lists %d messages of a's conversation", len(msgs))
	}
	if convs, err := b.ListConversations(fb.ctx, ann.UserID, confab.ConversationPage{Limit: 10}); err != nil || len(convs) > 0 {
		t.Fatalf("b lists a's user's conversations: %d, %v", len(convs), err)
	}

	// The same keys are free in b: the same account, conversation and
	// message are new rows there, and a keeps its own.
	if err := b.InsertAccount(fb.ctx, &confab.Account{User: *ann, PasswordHash: "other"}); err != nil {
		t.Fatalf("b InsertAccount(a's user) = %v, want a new row", err)
	}
	if err := b.InsertConversation(fb.ctx, &confab.Conversation{ConversationID: conv.ConversationID, CreatedBy: ann.UserID, CreatedAt: fb.now(),
		Members: []confab.Member{{UserID: ann.UserID, JoinedAt: fb.now()}}}); err != nil {
		t.Fatalf("b InsertConversation(a's id) = %v, want a new row", err)
	}
	m := *msg
	m.Content = "hello from b"
	m.Seq = 0
	if created, err := b.AppendMessage(fb.ctx, &m); err != nil || !created {
		t.Fatalf("b AppendMessage(a's id) = %v, %v; want created", created, err)
	}
	got, err := a.GetMessage(fa.ctx, conv.ConversationID, msg.MessageID)
	if err != nil || got.Content != "hello from a" {
		t.Fatalf("a's message after b wrote its own = %+v, %v", got, err)
	}
	if acct, err := a.GetAccountByLogin(fa.ctx, ann.Email); err != nil || acct.PasswordHash != "hash-of-ann" {
		t.Fatalf("a's account after b wrote its own = %+v, %v", acct, err)
	}
}
