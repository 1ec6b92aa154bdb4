package storetest

import (
	"slices"

	"github.com/confab-chat/confab"
	"github.com/google/go-cmp/cmp"
)

var editTests = []test{
	{"EditMessage/ContentEditedAtChange", testEditMessage},
	{"EditMessage/NotLiveNotFound", testEditMessageNotFound},
	{"EditMessage/PreviewFollowsNewest", testEditPreview},
	{"ListMessageEdits/NewestFirstLimit", testListMessageEdits},
}

func (f *fixture) edits(m *confab.Message, limit int) []*confab.MessageEdit {
	f.t.Helper()
	got, err := f.s.ListMessageEdits(f.ctx, m.ConversationID, m.MessageID, limit)
	if err != nil {
		f.t.Fatalf("ListMessageEdits: %v", err)
	}
	return got
}

// testEditMessage: the message returned is what every read shows after:
// new content, EditedAt and UpdatedAt, and the MESSAGE_EDITED ChangeSeq;
// its seq and creation stay.
func testEditMessage(f *fixture) {
	ann := f.user("ann")
	c := f.conversation(ann)
	m := f.send(c, ann, "helo")
	at := f.now()
	got, err := f.s.EditMessage(f.ctx, c.ConversationID, m.MessageID, "hello", at)
	if err != nil {
		f.t.Fatal(err)
	}
	want := *m
	want.Content, want.EditedAt, want.UpdatedAt, want.ChangeSeq = "hello", &at, &at, 2
	if diff := cmp.Diff(&want, got); diff != "" {
		f.t.Fatalf("EditMessage's message (-want +got):\n%s", diff)
	}
	read, err := f.s.GetMessage(f.ctx, c.ConversationID, m.MessageID)
	if err != nil {
		f.t.Fatal(err)
	}
	if diff := cmp.Diff(got, read); diff != "" {
		f.t.Fatalf("GetMessage after an edit (-edit +get):\n%s", diff)
	}
	if diff := cmp.Diff(got, f.lastOf(f.s.ListMessages(f.ctx, c.ConversationID, 0, 10))); diff != "" {
		f.t.Fatalf("ListMessages after an edit (-edit +list):\n%s", diff)
	}
	if conv := f.getConversation(c.ConversationID); conv.LastSeq != 1 || conv.MessageCount != 1 || conv.LastChangeSeq != 2 {
		f.t.Fatalf("after an edit: LastSeq %d MessageCount %d LastChangeSeq %d; want 1, 1, 2", conv.LastSeq, conv.MessageCount, conv.LastChangeSeq)
	}
}

func testEditMessageNotFound(f *fixture) {
	ann := f.user("ann")
	c, other := f.conversation(ann), f.conversation(ann)
	m := f.send(c, ann, "x")
	gone := f.send(c, ann, "y")
	f.deleteMessage(gone)
	last := f.lastChange(c)
	for _, q := range []struct{ conv, msg string }{{c.ConversationID, gone.MessageID}, {c.ConversationID, "missing"}, {other.ConversationID, m.MessageID}, {"missing", m.MessageID}} {
		_, err := f.s.EditMessage(f.ctx, q.conv, q.msg, "edited", f.now())
		f.wantCode(err, confab.CodeNotFound)
	}
	if f.lastChange(c) != last || len(f.edits(gone, 10)) != 0 {
		f.t.Fatal("a refused edit appended a change or kept an edit")
	}
}

// testEditPreview: editing the newest live message moves the preview to
// its new content; editing an older one leaves it.
func testEditPreview(f *fixture) {
	ann := f.user("ann")
	c := f.conversation(ann)
	old := f.send(c, ann, "old")
	newest := f.send(c, ann, "newest")
	f.edit(old, "old, edited")
	f.wantPreview(c, "newest")
	f.edit(newest, longContent)
	f.wantPreview(c, longContent)
	f.deleteMessage(newest)
	f.wantPreview(c, "old, edited")
}

// testEditSearch (in searchTests, so that every way of searching runs it):
// the search index follows an edit (the old words are gone,
// the new ones found) in the conversation and across conversations.
func testEditSearch(f *fixture) {
	ann := f.user("ann")
	c := f.conversation(ann)
	m := f.send(c, ann, "pizza tonight")
	f.send(c, ann, "pasta maybe")
	f.edit(m, "sushi tonight")
	if got := f.search(c, "pizza", 10); len(got) != 0 {
		f.t.Fatalf("search for the replaced word = %q, want none", got)
	}
	if got := f.search(c, "sushi", 10); !slices.Equal(got, []string{"sushi tonight"}) {
		f.t.Fatalf("search for the new word = %q, want the edited message", got)
	}
	if got := f.searchAll(ann, "sushi", "", 10); !slices.Equal(got, []string{m.MessageID}) {
		f.t.Fatalf("SearchAllMessages for the new word = %v, want [%s]", got, m.MessageID)
	}
	if got := f.searchAll(ann, "pizza", "", 10); len(got) != 0 {
		f.t.Fatalf("SearchAllMessages for the replaced word = %v, want none", got)
	}
	f.edit(m, "pizza after all")
	if got := f.search(c, "tonight", 10); len(got) != 0 {
		f.t.Fatalf("search after a second edit = %q, want none", got)
	}
	if got := f.search(c, "pizza", 10); !slices.Equal(got, []string{"pizza after all"}) {
		f.t.Fatalf("search for the word edited back = %q", got)
	}
}

// testListMessageEdits: each edit keeps the version it replaced, newest
// first, with when it was written and replaced; kept after deletion.
func testListMessageEdits(f *fixture) {
	ann := f.user("ann")
	c := f.conversation(ann)
	m := f.send(c, ann, "v1")
	other := f.send(c, ann, "never edited")
	e1 := f.edit(m, "v2")
	e2 := f.edit(m, "v3")
	want := []*confab.MessageEdit{
		{Content: "v2", At: *e1.EditedAt, ReplacedAt: *e2.EditedAt},
		{Content: "v1", At: m.CreatedAt, ReplacedAt: *e1.EditedAt},
	}
	if diff := cmp.Diff(want, f.edits(m, 10)); diff != "" {
		f.t.Fatalf("ListMessageEdits (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(want[:1], f.edits(m, 1)); diff != "" {
		f.t.Fatalf("ListMessageEdits limit 1 (-want +got):\n%s", diff)
	}
	if got := f.edits(other, 10); len(got) != 0 {
		f.t.Fatalf("edits of a message never edited = %+v, want none", got)
	}
	f.deleteMessage(m)
	if diff := cmp.Diff(want, f.edits(m, 10)); diff != "" {
		f.t.Fatalf("ListMessageEdits of a deleted message (-want +got):\n%s", diff)
	}
	for _, limit := range []int{0, -1} {
		got, err := f.s.ListMessageEdits(f.ctx, c.ConversationID, m.MessageID, limit)
		f.wantNothing("ListMessageEdits", limit, len(got), err)
	}
}
