// Package storetest is the contract every confab.Store must pass: Run
// checks the properties the Store interface documents, using only the
// interface, so SQLite, PostgreSQL and later engines run the same suite.
package storetest

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/confab-chat/confab"
)

// Run runs the contract suite. open must return a fresh, empty store and
// register its own cleanup.
func Run(t *testing.T, open func(t *testing.T) confab.Store) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s confab.Store)
	}{
		{"InsertAccount/GetBack", testInsertAccount},
		{"InsertAccount/EmailConflictCaseInsensitive", testEmailConflict},
		{"InsertAccount/UsernameConflict", testUsernameConflict},
		{"GetAccountByLogin/EmailOrUsername", testGetAccountByLogin},
		{"Get/NotFoundCodes", testNotFound},
		{"GetUsers/SkipsMissing", testGetUsers},
		{"UpdateUser/Partial", testUpdateUser},
		{"RotateRefreshToken/ExactlyOneWins", testRotateRace},
		{"RevokeRefreshFamily/RevokesAll", testRevokeFamily},
		{"InsertConversation/UnknownMemberNotFound", testConversationUnknownMember},
		{"ListConversations/ActivityOrderAndPaging", testListConversations},
		{"ListConversationIDs/Membership", testListConversationIDs},
		{"MarkRead/NeverLowers", testMarkRead},
		{"AppendMessage/SeqGaplessConcurrent", testAppendConcurrent},
		{"AppendMessage/UnknownConversation", testAppendUnknown},
		{"AppendMessage/ClientTokenIdempotent", testClientToken},
		{"ListMessages/StablePaging", testListMessagesPaging},
		{"ListMessagesAfter/IncludesDeleted", testListAfter},
		{"DeleteMessage/SummaryUpdated", testDeleteMessage},
		{"SearchMessages/CaseInsensitivePrefix", testSearch},
		{"SearchMessages/HostileInputSafe", testSearchHostile},
		{"Times/MillisecondUTC", testTimes},
		{"AdjustConnections/TotalAcrossNodes", testConnections},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tt.fn(t, open(t))
		})
	}
}

var ctx = context.Background()

// now is a fixed millisecond-precision UTC instant, advanced per use so
// orderings are deterministic.
var (
	clockMu sync.Mutex
	clock   = time.Date(2026, 11, 25, 6, 0, 0, 0, time.UTC)
)

func now() time.Time {
	clockMu.Lock()
	defer clockMu.Unlock()
	clock = clock.Add(time.Millisecond)
	return clock
}

var idSeq struct {
	sync.Mutex
	n int
}

func newID(prefix string) string {
	idSeq.Lock()
	defer idSeq.Unlock()
	idSeq.n++
	return fmt.Sprintf("%s-%06d", prefix, idSeq.n)
}

func wantCode(t *testing.T, err error, want confab.Code) {
	t.Helper()
	if got := confab.ErrorCode(err); got != want {
		t.Fatalf("error code = %q (%v), want %q", got, err, want)
	}
}

func mustUser(t *testing.T, s confab.Store, name string) *confab.User {
	t.Helper()
	id := newID("u")
	u := confab.User{UserID: id, Username: name + "-" + id, Email: name + "-" + id + "@Example.com", CreatedAt: now()}
	if err := s.InsertAccount(ctx, &confab.Account{User: u, PasswordHash: "hash"}); err != nil {
		t.Fatalf("InsertAccount: %v", err)
	}
	return &u
}

func mustConversation(t *testing.T, s confab.Store, members ...*confab.User) *confab.Conversation {
	t.Helper()
	at := now()
	c := &confab.Conversation{ConversationID: newID("c"), CreatedBy: members[0].UserID, CreatedAt: at}
	for _, m := range members {
		c.Members = append(c.Members, confab.Member{UserID: m.UserID, JoinedAt: at})
	}
	if err := s.InsertConversation(ctx, c); err != nil {
		t.Fatalf("InsertConversation: %v", err)
	}
	return c
}

func mustAppend(t *testing.T, s confab.Store, c *confab.Conversation, u *confab.User, content string) *confab.Message {
	t.Helper()
	m := &confab.Message{MessageID: newID("m"), ConversationID: c.ConversationID, UserID: u.UserID, Content: content, MessageType: confab.MessageText, CreatedAt: now()}
	created, err := s.AppendMessage(ctx, m)
	if err != nil || !created {
		t.Fatalf("AppendMessage = %v, %v", created, err)
	}
	return m
}

func testInsertAccount(t *testing.T, s confab.Store) {
	u := mustUser(t, s, "ann")
	got, err := s.GetUser(ctx, u.UserID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Username != u.Username || got.Email != u.Email || !got.CreatedAt.Equal(u.CreatedAt) || got.IsOnline {
		t.Fatalf("GetUser = %+v, want %+v", got, u)
	}
}

func testEmailConflict(t *testing.T, s confab.Store) {
	u := mustUser(t, s, "ann")
	dup := confab.User{UserID: newID("u"), Username: "other", Email: "ANN-" + u.UserID + "@example.COM", CreatedAt: now()}
	wantCode(t, s.InsertAccount(ctx, &confab.Account{User: dup, PasswordHash: "h"}), confab.CodeConflict)
}

func testUsernameConflict(t *testing.T, s confab.Store) {
	u := mustUser(t, s, "ann")
	dup := confab.User{UserID: newID("u"), Username: u.Username, Email: "fresh@example.com", CreatedAt: now()}
	wantCode(t, s.InsertAccount(ctx, &confab.Account{User: dup, PasswordHash: "h"}), confab.CodeConflict)
}

func testGetAccountByLogin(t *testing.T, s confab.Store) {
	u := mustUser(t, s, "ann")
	for _, login := range []string{u.Email, "ann-" + u.UserID + "@EXAMPLE.com", u.Username} {
		a, err := s.GetAccountByLogin(ctx, login)
		if err != nil || a.User.UserID != u.UserID || a.PasswordHash != "hash" {
			t.Fatalf("GetAccountByLogin(%q) = %+v, %v", login, a, err)
		}
	}
	_, err := s.GetAccountByLogin(ctx, "nobody@example.com")
	wantCode(t, err, confab.CodeNotFound)
}

func testNotFound(t *testing.T, s confab.Store) {
	_, err := s.GetUser(ctx, "missing")
	wantCode(t, err, confab.CodeNotFound)
	_, err = s.GetConversation(ctx, "missing")
	wantCode(t, err, confab.CodeNotFound)
	_, err = s.GetMessage(ctx, "missing", "missing")
	wantCode(t, err, confab.CodeNotFound)
	_, err = s.GetRefreshToken(ctx, "missing")
	wantCode(t, err, confab.CodeNotFound)
	_, err = s.UpdateUser(ctx, "missing", confab.UserUpdate{UpdatedAt: now()})
	wantCode(t, err, confab.CodeNotFound)
	_, err = s.UpdateConversation(ctx, "missing", nil, now())
	wantCode(t, err, confab.CodeNotFound)
	_, _, err = s.DeleteMessage(ctx, "missing", "missing", now())
	wantCode(t, err, confab.CodeNotFound)
}

func testGetUsers(t *testing.T, s confab.Store) {
	a, b := mustUser(t, s, "a"), mustUser(t, s, "b")
	users, err := s.GetUsers(ctx, []string{a.UserID, "missing", b.UserID})
	if err != nil || len(users) != 2 {
		t.Fatalf("GetUsers = %d users, %v; want 2", len(users), err)
	}
}

func testUpdateUser(t *testing.T, s confab.Store) {
	u := mustUser(t, s, "ann")
	name := "Ann"
	if _, err := s.UpdateUser(ctx, u.UserID, confab.UserUpdate{DisplayName: &name, UpdatedAt: now()}); err != nil {
		t.Fatal(err)
	}
	online, seen := true, now()
	got, err := s.UpdateUser(ctx, u.UserID, confab.UserUpdate{IsOnline: &online, LastSeen: &seen, UpdatedAt: now()})
	if err != nil {
		t.Fatal(err)
	}
	if got.DisplayName == nil || *got.DisplayName != "Ann" || !got.IsOnline || got.LastSeen == nil || !got.LastSeen.Equal(seen) || got.AvatarURL != nil {
		t.Fatalf("after two partial updates: %+v", got)
	}
}

func token(user, family string) *confab.RefreshToken {
	return &confab.RefreshToken{Hash: newID("h"), UserID: user, FamilyID: family, CreatedAt: now(), ExpiresAt: now().Add(time.Hour)}
}

func testRotateRace(t *testing.T, s confab.Store) {
	u := mustUser(t, s, "ann")
	old := token(u.UserID, "f1")
	if err := s.InsertRefreshToken(ctx, old); err != nil {
		t.Fatal(err)
	}
	const racers = 8
	errs := make(chan error, racers)
	for range racers {
		go func() { errs <- s.RotateRefreshToken(ctx, old.Hash, token(u.UserID, "f1")) }()
	}
	wins := 0
	for range racers {
		err := <-errs
		switch confab.ErrorCode(err) {
		case "":
			wins++
		case confab.CodeConflict:
		default:
			t.Fatalf("rotate: %v", err)
		}
	}
	if wins != 1 {
		t.Fatalf("%d rotations of one token succeeded, want exactly 1", wins)
	}
	got, err := s.GetRefreshToken(ctx, old.Hash)
	if err != nil || !got.Used {
		t.Fatalf("old token after rotation = %+v, %v; want Used", got, err)
	}
}

func testRevokeFamily(t *testing.T, s confab.Store) {
	u := mustUser(t, s, "ann")
	a, b, other := token(u.UserID, "fam"), token(u.UserID, "fam"), token(u.UserID, "other")
	for _, tk := range []*confab.RefreshToken{a, b, other} {
		if err := s.InsertRefreshToken(ctx, tk); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.RevokeRefreshFamily(ctx, "fam"); err != nil {
		t.Fatal(err)
	}
	for _, tk := range []*confab.RefreshToken{a, b} {
		if got, _ := s.GetRefreshToken(ctx, tk.Hash); got == nil || !got.Revoked {
			t.Fatalf("token of the revoked family: %+v", got)
		}
	}
	if got, _ := s.GetRefreshToken(ctx, other.Hash); got == nil || got.Revoked {
		t.Fatalf("token of another family was revoked: %+v", got)
	}
	wantCode(t, s.RotateRefreshToken(ctx, a.Hash, token(u.UserID, "fam")), confab.CodeConflict)
}

func testConversationUnknownMember(t *testing.T, s confab.Store) {
	u := mustUser(t, s, "ann")
	c := &confab.Conversation{ConversationID: newID("c"), CreatedBy: u.UserID, CreatedAt: now(),
		Members: []confab.Member{{UserID: u.UserID, JoinedAt: now()}, {UserID: "ghost", JoinedAt: now()}}}
	wantCode(t, s.InsertConversation(ctx, c), confab.CodeNotFound)
	_, err := s.GetConversation(ctx, c.ConversationID)
	wantCode(t, err, confab.CodeNotFound) // nothing half-written
}

func testListConversations(t *testing.T, s confab.Store) {
	ann, bo := mustUser(t, s, "ann"), mustUser(t, s, "bo")
	var convs []*confab.Conversation
	for range 5 {
		convs = append(convs, mustConversation(t, s, ann, bo))
	}
	mustConversation(t, s, bo) // not ann's
	mustAppend(t, s, convs[1], ann, "bump")
	// Expected order: convs[1] (newest activity), then 4, 3, 2, 0 by creation.
	want := []string{convs[1].ConversationID, convs[4].ConversationID, convs[3].ConversationID, convs[2].ConversationID, convs[0].ConversationID}
	var got []string
	page := confab.ConversationPage{Limit: 2}
	for range 10 {
		items, err := s.ListConversations(ctx, ann.UserID, page)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range items {
			got = append(got, c.ConversationID)
			if len(c.Members) != 2 {
				t.Fatalf("conversation %s lists %d members, want 2", c.ConversationID, len(c.Members))
			}
		}
		if len(items) < page.Limit {
			break
		}
		last := items[len(items)-1]
		at := last.CreatedAt
		if last.LastMessageAt != nil {
			at = *last.LastMessageAt
		}
		page.After = &confab.ActivityCursor{ActivityAt: at, ConversationID: last.ConversationID}
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("order = %v, want %v", got, want)
	}
}

func testListConversationIDs(t *testing.T, s confab.Store) {
	ann, bo := mustUser(t, s, "ann"), mustUser(t, s, "bo")
	c1, c2 := mustConversation(t, s, ann, bo), mustConversation(t, s, bo)
	ids, err := s.ListConversationIDs(ctx, bo.UserID, 10)
	if err != nil || len(ids) != 2 {
		t.Fatalf("bo's conversations = %v, %v", ids, err)
	}
	ids, _ = s.ListConversationIDs(ctx, ann.UserID, 10)
	if len(ids) != 1 || ids[0] != c1.ConversationID {
		t.Fatalf("ann's conversations = %v, want [%s] (not %s)", ids, c1.ConversationID, c2.ConversationID)
	}
	c, _ := s.GetConversation(ctx, c1.ConversationID)
	if c.Member(ann.UserID) == nil || c.Member(bo.UserID) == nil {
		t.Fatalf("members of c1 = %+v", c.Members)
	}
}

func testMarkRead(t *testing.T, s confab.Store) {
	ann := mustUser(t, s, "ann")
	c := mustConversation(t, s, ann)
	for _, seq := range []int64{5, 3} {
		if err := s.MarkRead(ctx, c.ConversationID, ann.UserID, seq); err != nil {
			t.Fatal(err)
		}
	}
	got, _ := s.GetConversation(ctx, c.ConversationID)
	if m := got.Member(ann.UserID); m.LastReadSeq != 5 {
		t.Fatalf("LastReadSeq = %d, want 5 (never lowered)", m.LastReadSeq)
	}
	wantCode(t, s.MarkRead(ctx, c.ConversationID, "stranger", 1), confab.CodeNotFound)
}

func testAppendConcurrent(t *testing.T, s confab.Store) {
	ann := mustUser(t, s, "ann")
	c := mustConversation(t, s, ann)
	const workers, each = 32, 10
	seqs := make(chan int64, workers*each)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				m := &confab.Message{MessageID: newID("m"), ConversationID: c.ConversationID, UserID: ann.UserID, Content: fmt.Sprint(w, "/", i), MessageType: confab.MessageText, CreatedAt: now()}
				if _, err := s.AppendMessage(ctx, m); err != nil {
					t.Error(err)
					return
				}
				seqs <- m.Seq
			}
		}()
	}
	wg.Wait()
	close(seqs)
	seen := map[int64]bool{}
	for seq := range seqs {
		if seen[seq] {
			t.Fatalf("seq %d assigned twice", seq)
		}
		seen[seq] = true
	}
	for i := int64(1); i <= workers*each; i++ {
		if !seen[i] {
			t.Fatalf("seq %d missing: not gapless", i)
		}
	}
	got, _ := s.GetConversation(ctx, c.ConversationID)
	if got.LastSeq != workers*each || got.MessageCount != workers*each || got.LastMessage == nil || got.LastMessageAt == nil {
		t.Fatalf("summary = %+v", got)
	}
	newest, _ := s.ListMessages(ctx, c.ConversationID, 0, 1)
	if *got.LastMessage != newest[0].Content {
		t.Fatalf("lastMessage %q is not the newest message %q", *got.LastMessage, newest[0].Content)
	}
}

func testAppendUnknown(t *testing.T, s confab.Store) {
	ann := mustUser(t, s, "ann")
	_, err := s.AppendMessage(ctx, &confab.Message{MessageID: newID("m"), ConversationID: "missing", UserID: ann.UserID, Content: "x", MessageType: confab.MessageText, CreatedAt: now()})
	wantCode(t, err, confab.CodeNotFound)
}

func testClientToken(t *testing.T, s confab.Store) {
	ann, bo := mustUser(t, s, "ann"), mustUser(t, s, "bo")
	c := mustConversation(t, s, ann, bo)
	send := func(u *confab.User, content string) (*confab.Message, bool) {
		m := &confab.Message{MessageID: newID("m"), ConversationID: c.ConversationID, UserID: u.UserID, Content: content, MessageType: confab.MessageText, CreatedAt: now(), ClientToken: "retry-1"}
		created, err := s.AppendMessage(ctx, m)
		if err != nil {
			t.Fatal(err)
		}
		return m, created
	}
	first, created := send(ann, "hello")
	again, created2 := send(ann, "hello")
	if !created || created2 || again.MessageID != first.MessageID || again.Seq != first.Seq {
		t.Fatalf("retry: created=%v/%v ids %s/%s", created, created2, first.MessageID, again.MessageID)
	}
	if _, created := send(bo, "hi"); !created {
		t.Fatal("another user's identical token must be independent")
	}
	got, _ := s.GetConversation(ctx, c.ConversationID)
	if got.LastSeq != 2 || got.MessageCount != 2 {
		t.Fatalf("summary after a retried send = seq %d count %d, want 2 and 2", got.LastSeq, got.MessageCount)
	}
}

func testListMessagesPaging(t *testing.T, s confab.Store) {
	ann := mustUser(t, s, "ann")
	c := mustConversation(t, s, ann)
	for i := range 7 {
		mustAppend(t, s, c, ann, fmt.Sprint("m", i+1))
	}
	var got []int64
	before := int64(0)
	for range 10 {
		page, err := s.ListMessages(ctx, c.ConversationID, before, 3)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range page {
			got = append(got, m.Seq)
		}
		if len(page) < 3 {
			break
		}
		before = page[len(page)-1].Seq
		mustAppend(t, s, c, ann, "concurrent insert") // must not shift older pages
	}
	if fmt.Sprint(got) != "[7 6 5 4 3 2 1]" {
		t.Fatalf("pages = %v, want [7 6 5 4 3 2 1]", got)
	}
}

func testListAfter(t *testing.T, s confab.Store) {
	ann := mustUser(t, s, "ann")
	c := mustConversation(t, s, ann)
	var msgs []*confab.Message
	for i := range 4 {
		msgs = append(msgs, mustAppend(t, s, c, ann, fmt.Sprint(i)))
	}
	if _, _, err := s.DeleteMessage(ctx, c.ConversationID, msgs[2].MessageID, now()); err != nil {
		t.Fatal(err)
	}
	after, err := s.ListMessagesAfter(ctx, c.ConversationID, 1, 10)
	if err != nil || len(after) != 3 || after[0].Seq != 2 || !after[1].Deleted || after[2].Seq != 4 {
		t.Fatalf("ListMessagesAfter(1) = %v, %v", after, err)
	}
	live, _ := s.ListMessages(ctx, c.ConversationID, 0, 10)
	if len(live) != 3 {
		t.Fatalf("ListMessages shows %d messages, want 3 live", len(live))
	}
}

func testDeleteMessage(t *testing.T, s confab.Store) {
	ann := mustUser(t, s, "ann")
	c := mustConversation(t, s, ann)
	mustAppend(t, s, c, ann, "first")
	last := mustAppend(t, s, c, ann, "second")
	m, conv, err := s.DeleteMessage(ctx, c.ConversationID, last.MessageID, now())
	if err != nil || m.MessageID != last.MessageID {
		t.Fatalf("DeleteMessage = %+v, %v", m, err)
	}
	if conv.MessageCount != 1 || conv.LastMessage == nil || *conv.LastMessage != "first" || conv.LastSeq != 2 {
		t.Fatalf("summary after deleting the newest = %+v", conv)
	}
	_, err = s.GetMessage(ctx, c.ConversationID, last.MessageID)
	wantCode(t, err, confab.CodeNotFound)
	_, _, err = s.DeleteMessage(ctx, c.ConversationID, last.MessageID, now())
	wantCode(t, err, confab.CodeNotFound)
	next := mustAppend(t, s, c, ann, "third")
	if next.Seq != 3 {
		t.Fatalf("seq after a delete = %d, want 3 (never reused)", next.Seq)
	}
}

func testSearch(t *testing.T, s confab.Store) {
	ann := mustUser(t, s, "ann")
	c, other := mustConversation(t, s, ann), mustConversation(t, s, ann)
	mustAppend(t, s, c, ann, "Lunch at the Pizzeria")
	mustAppend(t, s, c, ann, "no match here")
	mustAppend(t, s, c, ann, "pizza again, café")
	mustAppend(t, s, other, ann, "pizza elsewhere")
	got, err := s.SearchMessages(ctx, c.ConversationID, "PIZZ", 10)
	if err != nil || len(got) != 2 || got[0].Content != "pizza again, café" {
		t.Fatalf("search PIZZ = %v, %v; want 2 newest first, this conversation only", got, err)
	}
	if got, _ := s.SearchMessages(ctx, c.ConversationID, "cafe", 10); len(got) != 1 {
		t.Fatalf("search cafe found %d, want 1 (diacritics folded)", len(got))
	}
	if got, _ := s.SearchMessages(ctx, c.ConversationID, "lunch pizzeria", 10); len(got) != 1 {
		t.Fatalf("search of two words found %d, want 1 (all words)", len(got))
	}
}

func testSearchHostile(t *testing.T, s confab.Store) {
	ann := mustUser(t, s, "ann")
	c := mustConversation(t, s, ann)
	mustAppend(t, s, c, ann, "ordinary text")
	for _, q := range []string{`" OR 1=1 --`, `*`, `NEAR(a b)`, `'`, `"`, `)`, `AND`, `content:x`, `^ordinary`, `'); DROP TABLE messages; --`, "\x00"} {
		if _, err := s.SearchMessages(ctx, c.ConversationID, q, 10); err != nil {
			t.Errorf("search %q: %v", q, err)
		}
	}
	if got, _ := s.SearchMessages(ctx, c.ConversationID, "ordinary", 10); len(got) != 1 {
		t.Fatal("the messages are intact after hostile searches")
	}
}

func testTimes(t *testing.T, s confab.Store) {
	ann := mustUser(t, s, "ann")
	c := mustConversation(t, s, ann)
	at := time.Date(2026, 1, 2, 3, 4, 5, 678_000_000, time.UTC)
	m := &confab.Message{MessageID: newID("m"), ConversationID: c.ConversationID, UserID: ann.UserID, Content: "t", MessageType: confab.MessageText, CreatedAt: at}
	if _, err := s.AppendMessage(ctx, m); err != nil {
		t.Fatal(err)
	}
	got, err := s.GetMessage(ctx, c.ConversationID, m.MessageID)
	if err != nil || !got.CreatedAt.Equal(at) || got.CreatedAt.Location() != time.UTC {
		t.Fatalf("CreatedAt = %v (%v), want %v in UTC", got.CreatedAt, err, at)
	}
}

func testConnections(t *testing.T, s confab.Store) {
	t0 := now()
	stale := t0.Add(-time.Minute)
	adjust := func(node string, delta, want int) {
		t.Helper()
		got, err := s.AdjustConnections(ctx, "u1", node, delta, t0, stale)
		if err != nil || got != want {
			t.Fatalf("AdjustConnections(%s, %+d) = %d, %v; want %d", node, delta, got, err, want)
		}
	}
	adjust("a", +1, 1)
	adjust("b", +1, 2)
	adjust("a", +1, 3)
	adjust("a", -1, 2)
	adjust("a", -1, 1) // b still holds one: the user stays online
	adjust("b", -1, 0)
	adjust("b", -1, 0) // never below zero
	// A node whose stamp is stale (it died) no longer counts.
	if _, err := s.AdjustConnections(ctx, "u2", "dead", +1, t0.Add(-2*time.Minute), stale); err != nil {
		t.Fatal(err)
	}
	got, err := s.AdjustConnections(ctx, "u2", "alive", +1, t0, stale)
	if err != nil || got != 1 {
		t.Fatalf("total with a dead node's count = %d, %v; want 1", got, err)
	}
	// A heartbeat keeps a node's counts alive.
	if err := s.TouchConnections(ctx, "dead", t0); err != nil {
		t.Fatal(err)
	}
	got, _ = s.AdjustConnections(ctx, "u2", "alive", 0, t0, stale)
	if got != 2 {
		t.Fatalf("total after the heartbeat = %d, want 2", got)
	}
}
