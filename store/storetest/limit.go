package storetest

import "github.com/confab-chat/confab"

// The service validates and defaults every limit before it reaches a
// store (chat: DefaultPageLimit, MaxPageLimit), so a store never invents
// one. A limit that is not positive asks for nothing and gets nothing,
// without an error, on every engine alike.
var limitTests = []test{
	{"Limits/NotPositiveReturnsNothing", testLimitNotPositive},
}

func testLimitNotPositive(f *fixture) {
	ann := f.user("ann")
	c := f.conversation(ann)
	f.send(c, ann, "hello world")
	for _, limit := range []int{0, -1} {
		msgs, err := f.s.ListMessages(f.ctx, c.ConversationID, 0, limit)
		f.wantNothing("ListMessages", limit, len(msgs), err)
		msgs, err = f.s.ListMessagesAfter(f.ctx, c.ConversationID, 0, limit)
		f.wantNothing("ListMessagesAfter", limit, len(msgs), err)
		msgs, err = f.s.SearchMessages(f.ctx, c.ConversationID, "hello", limit)
		f.wantNothing("SearchMessages", limit, len(msgs), err)
		convs, err := f.s.ListConversations(f.ctx, ann.UserID, confab.ConversationPage{Limit: limit})
		f.wantNothing("ListConversations", limit, len(convs), err)
		ids, err := f.s.ListConversationIDs(f.ctx, ann.UserID, limit)
		f.wantNothing("ListConversationIDs", limit, len(ids), err)
		n, err := f.s.PurgeMessages(f.ctx, f.now(), limit)
		f.wantNothing("PurgeMessages", limit, n, err)
	}
	if got := f.getConversation(c.ConversationID); got.MessageCount != 1 {
		f.t.Fatalf("MessageCount = %d after purges with no limit, want 1", got.MessageCount)
	}
}

// wantNothing fails unless method, called with limit, returned no items
// and no error.
func (f *fixture) wantNothing(method string, limit, n int, err error) {
	f.t.Helper()
	if err != nil || n != 0 {
		f.t.Fatalf("%s(limit %d) = %d items, %v; want none and no error", method, limit, n, err)
	}
}
