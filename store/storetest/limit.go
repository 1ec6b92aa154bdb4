package storetest

import "github.com/confab-chat/confab"

// The services validate input before it reaches a store. Every limit is
// theirs (chat: DefaultPageLimit, MaxPageLimit), so a store never invents
// one: a limit that is not positive asks for nothing and gets nothing,
// without an error, on every engine alike. Every text is confab.ValidText,
// and a store keeps it exactly.
var limitTests = []test{
	{"Limits/NotPositiveReturnsNothing", testLimitNotPositive},
	{"Text/RoundTrip", testTextRoundTrip},
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

// Any text the services let through (confab.ValidText: valid UTF-8, no
// NUL) is kept exactly, on every engine: control characters, combining
// marks, astral code points, right-to-left text and U+FFFD included.
func testTextRoundTrip(f *fixture) {
	text := "a\x01\t\n\r\x7f e\u0301 😀 \u202eשלום\u202c \ufffd \u00a0end "
	if !confab.ValidText(text, 1<<10) {
		f.t.Fatal("the sample is not valid text")
	}
	ann := f.user("ann")
	c := f.conversation(ann)
	if _, err := f.s.UpdateConversation(f.ctx, c.ConversationID, ann.UserID, confab.ConversationUpdate{Name: &text}, f.now()); err != nil {
		f.t.Fatal(err)
	}
	m := f.send(c, ann, text)
	u, err := f.s.UpdateUser(f.ctx, ann.UserID, confab.UserUpdate{DisplayName: &text, UpdatedAt: f.now()})
	if err != nil {
		f.t.Fatal(err)
	}
	got, err := f.s.GetMessage(f.ctx, c.ConversationID, m.MessageID)
	if err != nil {
		f.t.Fatal(err)
	}
	conv := f.getConversation(c.ConversationID)
	for what, v := range map[string]*string{"content": &got.Content, "name": conv.Name, "lastMessage": conv.LastMessage, "displayName": u.DisplayName} {
		if v == nil || *v != text {
			f.t.Errorf("%s = %q, want %q", what, deref(v), text)
		}
	}
}

func deref(p *string) string {
	if p == nil {
		return "<nil>"
	}
	return *p
}
