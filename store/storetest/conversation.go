package storetest

import (
	"slices"
	"time"

	"github.com/confab-chat/confab"
	"github.com/google/go-cmp/cmp"
)

var conversationTests = []test{
	{"InsertConversation/RoundTrip", testInsertConversationRoundTrip},
	{"InsertConversation/UnknownMemberNotFound", testInsertConversationUnknownMember},
	{"InsertConversation/DuplicateConflict", testInsertConversationDuplicate},
	{"GetConversation/NotFound", testGetConversationNotFound},
	{"UpdateConversation/NameAndUpdatedAt", testUpdateConversation},
	{"UpdateConversation/NotFound", testUpdateConversationNotFound},
	{"ListConversations/MembersOnly", testListConversationsMembersOnly},
	{"ListConversations/ActivityOrder", testListConversationsOrder},
	{"ListConversations/PagingWhileMessagesArrive", testListConversationsPaging},
	{"ListConversationIDs/Membership", testListConversationIDs},
	{"MarkRead/NeverLowers", testMarkReadNeverLowers},
	{"MarkRead/NotMemberNotFound", testMarkReadNotMember},
}

func testInsertConversationRoundTrip(f *fixture) {
	ann, bo, cy := f.user("ann"), f.user("bo"), f.user("cy")
	at := f.now()
	later := at.Add(time.Second)
	c := &confab.Conversation{ConversationID: f.id("c"), Name: ptr("Lunch"), CreatedBy: ann.UserID, CreatedAt: at,
		// Stored out of order: Members come back by JoinedAt, then UserID.
		Members: []confab.Member{{UserID: cy.UserID, JoinedAt: later}, {UserID: bo.UserID, JoinedAt: at}, {UserID: ann.UserID, JoinedAt: at}}}
	if err := f.s.InsertConversation(f.ctx, c); err != nil {
		f.t.Fatal(err)
	}
	want := *c
	want.Members = []confab.Member{{UserID: ann.UserID, JoinedAt: at}, {UserID: bo.UserID, JoinedAt: at}, {UserID: cy.UserID, JoinedAt: later}}
	if diff := cmp.Diff(&want, f.getConversation(c.ConversationID)); diff != "" {
		f.t.Fatalf("GetConversation mismatch (-want +got):\n%s", diff)
	}
}

func testInsertConversationUnknownMember(f *fixture) {
	u := f.user("ann")
	c := &confab.Conversation{ConversationID: f.id("c"), CreatedBy: u.UserID, CreatedAt: f.now(),
		Members: []confab.Member{{UserID: u.UserID, JoinedAt: f.now()}, {UserID: "ghost", JoinedAt: f.now()}}}
	f.wantCode(f.s.InsertConversation(f.ctx, c), confab.CodeNotFound)
	_, err := f.s.GetConversation(f.ctx, c.ConversationID)
	f.wantCode(err, confab.CodeNotFound) // nothing half-written
	if ids, err := f.s.ListConversationIDs(f.ctx, u.UserID, 10); err != nil || len(ids) != 0 {
		f.t.Fatalf("ann's conversations after a failed insert = %v, %v; want none", ids, err)
	}
}

func testInsertConversationDuplicate(f *fixture) {
	ann, bo := f.user("ann"), f.user("bo")
	c := f.conversation(ann)
	dup := &confab.Conversation{ConversationID: c.ConversationID, CreatedBy: bo.UserID, CreatedAt: f.now(),
		Members: []confab.Member{{UserID: bo.UserID, JoinedAt: f.now()}}}
	f.wantCode(f.s.InsertConversation(f.ctx, dup), confab.CodeConflict)
	if got := f.getConversation(c.ConversationID); got.CreatedBy != ann.UserID || len(got.Members) != 1 {
		f.t.Fatalf("conversation after a conflicting insert = %+v", got)
	}
}

func testGetConversationNotFound(f *fixture) {
	_, err := f.s.GetConversation(f.ctx, "missing")
	f.wantCode(err, confab.CodeNotFound)
}

func testUpdateConversation(f *fixture) {
	ann := f.user("ann")
	c := f.conversation(ann)
	f.send(c, ann, "hello")
	at := f.now()
	got, err := f.s.UpdateConversation(f.ctx, c.ConversationID, ann.UserID, confab.ConversationUpdate{Name: ptr("Renamed")}, at)
	if err != nil {
		f.t.Fatal(err)
	}
	if got.Name == nil || *got.Name != "Renamed" || got.UpdatedAt == nil || !got.UpdatedAt.Equal(at) || got.LastSeq != 1 || len(got.Members) != 1 {
		f.t.Fatalf("after renaming: %+v", got)
	}
	at2 := f.now()
	got, err = f.s.UpdateConversation(f.ctx, c.ConversationID, ann.UserID, confab.ConversationUpdate{Name: nil}, at2)
	if err != nil {
		f.t.Fatal(err)
	}
	if got.Name == nil || *got.Name != "Renamed" || !got.UpdatedAt.Equal(at2) {
		f.t.Fatalf("a nil name must keep the name and set UpdatedAt: %+v", got)
	}
	if diff := cmp.Diff(got, f.getConversation(c.ConversationID)); diff != "" {
		f.t.Fatalf("UpdateConversation's result is not what GetConversation reads (-update +get):\n%s", diff)
	}
}

func testUpdateConversationNotFound(f *fixture) {
	_, err := f.s.UpdateConversation(f.ctx, "missing", "", confab.ConversationUpdate{Name: ptr("x")}, f.now())
	f.wantCode(err, confab.CodeNotFound)
}

// listAll pages through userID's conversations with page size n, calling
// between (if non-nil) after every page.
func (f *fixture) listAll(userID string, n int, between func()) []*confab.Conversation {
	f.t.Helper()
	var all []*confab.Conversation
	p := confab.ConversationPage{Limit: n}
	for range 100 {
		page, err := f.s.ListConversations(f.ctx, userID, p)
		if err != nil {
			f.t.Fatal(err)
		}
		if len(page) > n {
			f.t.Fatalf("page of %d conversations, limit %d", len(page), n)
		}
		all = append(all, page...)
		if len(page) < n {
			return all
		}
		last := page[len(page)-1]
		p.After = &confab.ActivityCursor{ActivityAt: last.ActivityAt(), ConversationID: last.ConversationID}
		if between != nil {
			between()
		}
	}
	f.t.Fatal("ListConversations never ended")
	return nil
}

func ids(convs []*confab.Conversation) []string {
	s := make([]string, len(convs))
	for i, c := range convs {
		s[i] = c.ConversationID
	}
	return s
}

func testListConversationsMembersOnly(f *fixture) {
	ann, bo, cy := f.user("ann"), f.user("bo"), f.user("cy")
	both := f.conversation(ann, bo)
	bos := f.conversation(bo)
	all := f.listAll(bo.UserID, 10, nil)
	if got, want := ids(all), []string{bos.ConversationID, both.ConversationID}; !slices.Equal(got, want) {
		f.t.Fatalf("bo's conversations = %v, want %v", got, want)
	}
	if diff := cmp.Diff(f.getConversation(both.ConversationID), all[1]); diff != "" {
		f.t.Fatalf("listed conversation differs from GetConversation (-get +list):\n%s", diff)
	}
	if got := ids(f.listAll(ann.UserID, 10, nil)); !slices.Equal(got, []string{both.ConversationID}) {
		f.t.Fatalf("ann's conversations = %v, want [%s]", got, both.ConversationID)
	}
	if got := f.listAll(cy.UserID, 10, nil); len(got) != 0 {
		f.t.Fatalf("cy's conversations = %v, want none", ids(got))
	}
}

func testListConversationsOrder(f *fixture) {
	ann, bo := f.user("ann"), f.user("bo")
	at := f.now()
	var convs []*confab.Conversation
	for i := range 5 {
		c := &confab.Conversation{ConversationID: f.id("c"), CreatedBy: ann.UserID, CreatedAt: at,
			Members: []confab.Member{{UserID: ann.UserID, JoinedAt: at}, {UserID: bo.UserID, JoinedAt: at}}}
		if i >= 3 { // created later than the first three, which tie
			c.CreatedAt = at.Add(time.Duration(i) * time.Second)
		}
		if err := f.s.InsertConversation(f.ctx, c); err != nil {
			f.t.Fatal(err)
		}
		convs = append(convs, c)
	}
	f.conversation(bo) // not ann's
	// A message makes convs[1] the most recent; ties (convs 0 and 2,
	// created at the same instant) go by ConversationID.
	m := f.newMessage(convs[1], ann, "bump")
	m.CreatedAt = at.Add(time.Minute)
	if _, err := f.s.AppendMessage(f.ctx, m); err != nil {
		f.t.Fatal(err)
	}
	want := []string{convs[1].ConversationID, convs[4].ConversationID, convs[3].ConversationID, convs[0].ConversationID, convs[2].ConversationID}
	for _, n := range []int{1, 2, 5, 10} {
		all := f.listAll(ann.UserID, n, nil)
		if got := ids(all); !slices.Equal(got, want) {
			f.t.Fatalf("pages of %d: order = %v, want %v", n, got, want)
		}
		for _, c := range all {
			if len(c.Members) != 2 {
				f.t.Fatalf("conversation %s lists %d members, want 2", c.ConversationID, len(c.Members))
			}
		}
	}
}

// testListConversationsPaging pages through a user's conversations while
// messages arrive in some of them. No conversation may be listed twice, and
// every conversation that kept its place must be listed (one whose activity
// jumped above the cursor is at the top of the next first page instead).
func testListConversationsPaging(f *fixture) {
	ann := f.user("ann")
	var convs []*confab.Conversation
	for range 12 {
		convs = append(convs, f.conversation(ann))
	}
	// Newest first: convs[11], …, convs[0]. Pages of 3.
	bumped := map[string]bool{}
	page := 0
	all := f.listAll(ann.UserID, 3, func() {
		page++
		switch page {
		case 1: // one already listed, and one not yet listed, get messages
			for _, c := range []*confab.Conversation{convs[11], convs[2]} {
				f.send(c, ann, "news")
				bumped[c.ConversationID] = true
			}
		case 2:
			f.send(convs[10], ann, "more news")
			bumped[convs[10].ConversationID] = true
		}
	})
	seen := map[string]bool{}
	for _, id := range ids(all) {
		if seen[id] {
			f.t.Fatalf("conversation %s listed twice: %v", id, ids(all))
		}
		seen[id] = true
	}
	for _, c := range convs {
		if !seen[c.ConversationID] && !bumped[c.ConversationID] {
			f.t.Fatalf("conversation %s omitted: %v", c.ConversationID, ids(all))
		}
	}
	// A fresh listing has the bumped conversations on top, newest first.
	first := ids(f.listAll(ann.UserID, 3, nil))
	if want := []string{convs[10].ConversationID, convs[2].ConversationID, convs[11].ConversationID}; !slices.Equal(first[:3], want) {
		f.t.Fatalf("fresh listing starts %v, want %v", first[:3], want)
	}
	if len(first) != len(convs) {
		f.t.Fatalf("fresh listing has %d conversations, want %d", len(first), len(convs))
	}
}

func testListConversationIDs(f *fixture) {
	ann, bo := f.user("ann"), f.user("bo")
	c1, c2, c3 := f.conversation(ann, bo), f.conversation(bo), f.conversation(bo, ann)
	got, err := f.s.ListConversationIDs(f.ctx, bo.UserID, 10)
	if err != nil {
		f.t.Fatal(err)
	}
	slices.Sort(got)
	if want := []string{c1.ConversationID, c2.ConversationID, c3.ConversationID}; !slices.Equal(got, want) {
		f.t.Fatalf("bo's conversation ids = %v, want %v", got, want)
	}
	got, err = f.s.ListConversationIDs(f.ctx, ann.UserID, 10)
	slices.Sort(got)
	if want := []string{c1.ConversationID, c3.ConversationID}; err != nil || !slices.Equal(got, want) {
		f.t.Fatalf("ann's conversation ids = %v, %v; want %v", got, err, want)
	}
	if got, err := f.s.ListConversationIDs(f.ctx, bo.UserID, 2); err != nil || len(got) != 2 {
		f.t.Fatalf("ListConversationIDs(limit 2) = %v, %v; want 2 ids", got, err)
	}
	for _, c := range []*confab.Conversation{c1, c3} {
		got := f.getConversation(c.ConversationID)
		if got.Member(ann.UserID) == nil || got.Member(bo.UserID) == nil {
			f.t.Fatalf("members of %s = %+v, want ann and bo", c.ConversationID, got.Members)
		}
	}
}

func testMarkReadNeverLowers(f *fixture) {
	ann, bo := f.user("ann"), f.user("bo")
	c := f.conversation(ann, bo)
	for _, seq := range []int64{5, 3, 5} {
		if err := f.s.MarkRead(f.ctx, c.ConversationID, ann.UserID, seq, f.now()); err != nil {
			f.t.Fatal(err)
		}
	}
	got := f.getConversation(c.ConversationID)
	if m := got.Member(ann.UserID); m.LastReadSeq != 5 {
		f.t.Fatalf("ann's LastReadSeq = %d, want 5 (never lowered)", m.LastReadSeq)
	}
	if m := got.Member(bo.UserID); m.LastReadSeq != 0 {
		f.t.Fatalf("bo's LastReadSeq = %d, want 0 (untouched)", m.LastReadSeq)
	}
}

func testMarkReadNotMember(f *fixture) {
	ann, bo := f.user("ann"), f.user("bo")
	c := f.conversation(ann)
	f.wantCode(f.s.MarkRead(f.ctx, c.ConversationID, bo.UserID, 1, f.now()), confab.CodeNotFound)
	f.wantCode(f.s.MarkRead(f.ctx, "missing", ann.UserID, 1, f.now()), confab.CodeNotFound)
}
