package storetest

import (
	"slices"

	"github.com/confab-chat/confab"
)

var searchAllTests = []test{
	{"SearchAllMessages/MyConversationsNewestFirst", testSearchAllScope},
	{"SearchAllMessages/BeforeIDPages", testSearchAllPaging},
	{"SearchAllMessages/DeletedAndNoWords", testSearchAllDeleted},
}

// searchAll returns the ids SearchAllMessages finds for u, failing on an error.
func (f *fixture) searchAll(u *confab.User, terms, beforeID string, limit int) []string {
	f.t.Helper()
	msgs, err := f.s.SearchAllMessages(f.ctx, u.UserID, terms, beforeID, limit)
	if err != nil {
		f.t.Fatalf("SearchAllMessages(%q, before %q): %v", terms, beforeID, err)
	}
	ids := make([]string, len(msgs))
	for i, m := range msgs {
		ids[i] = m.MessageID
	}
	return ids
}

// testSearchAllScope: hits come from every conversation the user is a
// member of, never from another, newest first, with their conversation.
func testSearchAllScope(f *fixture) {
	ann, bo := f.user("ann"), f.user("bo")
	c, d, notMine := f.conversation(ann, bo), f.conversation(ann), f.conversation(bo)
	m1 := f.send(c, bo, "pizza in c")
	m2 := f.send(d, ann, "Pizza in d")
	f.send(notMine, bo, "pizza not for ann")
	f.send(c, ann, "pasta")
	m3 := f.send(c, ann, "more pizzas")
	msgs, err := f.s.SearchAllMessages(f.ctx, ann.UserID, "PIZZ", "", 10)
	if err != nil {
		f.t.Fatal(err)
	}
	var got []string
	for _, m := range msgs {
		got = append(got, m.MessageID)
		if want := map[string]string{m1.MessageID: c.ConversationID, m2.MessageID: d.ConversationID, m3.MessageID: c.ConversationID}[m.MessageID]; m.ConversationID != want {
			f.t.Fatalf("hit %s in conversation %q, want %q", m.MessageID, m.ConversationID, want)
		}
	}
	if want := []string{m3.MessageID, m2.MessageID, m1.MessageID}; !slices.Equal(got, want) {
		f.t.Fatalf("SearchAllMessages for ann = %v, want %v (her conversations only, newest first)", got, want)
	}
	if got := f.searchAll(bo, "pizza", "", 10); len(got) != 3 {
		f.t.Fatalf("SearchAllMessages for bo = %v, want 3 hits (c and his own)", got)
	}
	if got := f.searchAll(f.user("cy"), "pizza", "", 10); len(got) != 0 {
		f.t.Fatalf("SearchAllMessages for a user in no conversation = %v, want none", got)
	}
}

// testSearchAllPaging pages with beforeID, the last id of the previous page.
func testSearchAllPaging(f *fixture) {
	ann := f.user("ann")
	c, d := f.conversation(ann), f.conversation(ann)
	var want []string
	for i := range 5 {
		m := f.send([]*confab.Conversation{c, d}[i%2], ann, "deploy")
		want = slices.Insert(want, 0, m.MessageID)
	}
	var got []string
	before := ""
	for range 5 {
		page := f.searchAll(ann, "deploy", before, 2)
		got = append(got, page...)
		if len(page) < 2 {
			break
		}
		before = page[len(page)-1]
	}
	if !slices.Equal(got, want) {
		f.t.Fatalf("pages = %v, want %v", got, want)
	}
	for _, limit := range []int{0, -1} {
		msgs, err := f.s.SearchAllMessages(f.ctx, ann.UserID, "deploy", "", limit)
		f.wantNothing("SearchAllMessages", limit, len(msgs), err)
	}
}

func testSearchAllDeleted(f *fixture) {
	ann := f.user("ann")
	c := f.conversation(ann)
	keep := f.send(c, ann, "pizza kept")
	gone := f.send(c, ann, "pizza gone")
	f.deleteMessage(gone)
	if got := f.searchAll(ann, "pizza", "", 10); !slices.Equal(got, []string{keep.MessageID}) {
		f.t.Fatalf("SearchAllMessages = %v, want only the live %s", got, keep.MessageID)
	}
	for _, terms := range []string{"", "  ", "!?", `" OR 1=1 --`, "NEAR(", "*"} {
		if got := f.searchAll(ann, terms, "", 10); len(got) != 0 {
			f.t.Errorf("SearchAllMessages(%q) = %v, want none", terms, got)
		}
	}
}
