package storetest

import (
	"slices"
	"strings"
	"time"

	"github.com/confab-chat/confab"
	"github.com/google/go-cmp/cmp"
)

// adminTests check the administrator's whole-server reads and deletes,
// and the account fields of issue #15.
var adminTests = []test{
	{"UpdateUser/AdminAndAddPolicyEverywhere", testUserAdminFields},
	{"ListAllConversations/PagedInIDOrder", testListAllConversations},
	{"DeleteConversation/RemovesEverything", testDeleteConversation},
	{"DeleteConversation/NotFound", testDeleteConversationNotFound},
	{"ListUserMessages/NewestFirstPagedLiveOnly", testListUserMessages},
	{"Usage/DaysWeeksTopAndCounts", testUsage},
}

// adminUploadTests need an UploadStore (RunUploads runs them).
var adminUploadTests = []uploadTest{
	{"DeleteConversation/ReturnsUploadBlobKeys", testDeleteConversationUploads},
	{"Usage/StorageBytesOfAttachedFiles", testUsageStorage},
}

// testUserAdminFields: Admin and AddPolicy are stored at insert and by
// UpdateUser (nil fields kept) and read by every read of a user.
func testUserAdminFields(f *fixture) {
	u := f.newUser("root")
	u.Admin, u.AddPolicy = true, confab.AddInvitation
	if err := f.s.InsertAccount(f.ctx, &confab.Account{User: u, PasswordHash: "h"}); err != nil {
		f.t.Fatal(err)
	}
	bo := f.user("bo")
	if got, err := f.s.GetUser(f.ctx, bo.UserID); err != nil || got.Admin || got.AddPolicy != "" {
		f.t.Fatalf("a new user = %+v, %v; want no admin, empty add policy", got, err)
	}
	got, err := f.s.UpdateUser(f.ctx, bo.UserID, confab.UserUpdate{Admin: ptr(true), AddPolicy: ptr(confab.AddContacts), UpdatedAt: f.now()})
	if err != nil || !got.Admin || got.AddPolicy != confab.AddContacts {
		f.t.Fatalf("UpdateUser = %+v, %v; want admin with CONTACTS", got, err)
	}
	if got, err = f.s.UpdateUser(f.ctx, bo.UserID, confab.UserUpdate{DisplayName: ptr("Bo"), UpdatedAt: f.now()}); err != nil || !got.Admin || got.AddPolicy != confab.AddContacts {
		f.t.Fatalf("UpdateUser of another field = %+v, %v; want admin and policy kept", got, err)
	}
	want := map[string]confab.User{u.UserID: {Admin: true, AddPolicy: confab.AddInvitation}, bo.UserID: {Admin: true, AddPolicy: confab.AddContacts}}
	check := func(where string, got *confab.User) {
		f.t.Helper()
		if w := want[got.UserID]; got.Admin != w.Admin || got.AddPolicy != w.AddPolicy {
			f.t.Fatalf("%s: %s admin %v policy %q, want %v %q", where, got.Username, got.Admin, got.AddPolicy, w.Admin, w.AddPolicy)
		}
	}
	for id := range want {
		got, err := f.s.GetUser(f.ctx, id)
		if err != nil {
			f.t.Fatal(err)
		}
		check("GetUser", got)
	}
	users, err := f.s.GetUsers(f.ctx, []string{u.UserID, bo.UserID})
	if err != nil || len(users) != 2 {
		f.t.Fatalf("GetUsers = %d, %v", len(users), err)
	}
	for _, got := range users {
		check("GetUsers", got)
	}
	accounts, err := f.s.ListAccounts(f.ctx, confab.AccountFilter{Limit: 10})
	if err != nil || len(accounts) != 2 {
		f.t.Fatalf("ListAccounts = %d, %v", len(accounts), err)
	}
	for _, a := range accounts {
		check("ListAccounts", &a.User)
	}
	a, err := f.s.GetAccountByLogin(f.ctx, u.Username)
	if err != nil {
		f.t.Fatal(err)
	}
	check("GetAccountByLogin", &a.User)
	if got, err = f.s.UpdateUser(f.ctx, bo.UserID, confab.UserUpdate{Admin: ptr(false), UpdatedAt: f.now()}); err != nil || got.Admin {
		f.t.Fatalf("revoking admin = %+v, %v", got, err)
	}
}

func testListAllConversations(f *fixture) {
	ann, bo := f.user("ann"), f.user("bo")
	var convs []*confab.Conversation
	for range 3 {
		convs = append(convs, f.conversation(ann))
	}
	convs = append(convs, f.conversation(bo, ann)) // members of no admin
	page, err := f.s.ListAllConversations(f.ctx, "", 3)
	if err != nil {
		f.t.Fatal(err)
	}
	if got := ids(page); !slices.Equal(got, ids(convs[:3])) {
		f.t.Fatalf("first page = %v, want %v", got, ids(convs[:3]))
	}
	page, err = f.s.ListAllConversations(f.ctx, page[2].ConversationID, 3)
	if err != nil || len(page) != 1 {
		f.t.Fatalf("second page = %v, %v; want the last conversation", ids(page), err)
	}
	if diff := cmp.Diff(f.getConversation(convs[3].ConversationID), page[0]); diff != "" {
		f.t.Fatalf("listed conversation differs from GetConversation (-get +list):\n%s", diff)
	}
}

// testDeleteConversation removes a conversation with everything in it;
// the other conversation keeps everything, and the pair of a deleted
// direct conversation may have a new one.
func testDeleteConversation(f *fixture) {
	ann, bo, cy := f.user("ann"), f.user("bo"), f.user("cy")
	c := f.direct(ann, bo)
	if err := f.s.InsertConversation(f.ctx, c); err != nil {
		f.t.Fatal(err)
	}
	keep := f.conversation(ann, bo)
	kept := f.send(keep, ann, "stays")
	root := f.mention(c, ann, "root @bo", bo)
	f.reply(root, bo, "reply", false)
	f.edit(root, "root edited @bo")
	f.react(root, bo, "👍")
	f.markRead(c, bo, 1)
	if err := f.s.MarkThreadRead(f.ctx, c.ConversationID, root.MessageID, ann.UserID, 2); err != nil {
		f.t.Fatal(err)
	}
	f.invite(c, cy, ann, confab.RoleMember)
	if err := f.s.PutBan(f.ctx, &confab.Ban{ConversationID: c.ConversationID, UserID: cy.UserID, BannedBy: ann.UserID, CreatedAt: f.now()}); err != nil {
		f.t.Fatal(err)
	}
	keys, err := f.s.DeleteConversation(f.ctx, c.ConversationID)
	if err != nil || len(keys) != 0 {
		f.t.Fatalf("DeleteConversation = %v, %v; want no blob keys (no uploads)", keys, err)
	}
	_, err = f.s.GetConversation(f.ctx, c.ConversationID)
	f.wantCode(err, confab.CodeNotFound)
	_, err = f.s.GetMessage(f.ctx, c.ConversationID, root.MessageID)
	f.wantCode(err, confab.CodeNotFound)
	_, err = f.s.GetDirectConversation(f.ctx, ann.UserID, bo.UserID)
	f.wantCode(err, confab.CodeNotFound)
	_, err = f.s.GetInvitation(f.ctx, c.ConversationID, cy.UserID)
	f.wantCode(err, confab.CodeNotFound)
	_, err = f.s.GetBan(f.ctx, c.ConversationID, cy.UserID)
	f.wantCode(err, confab.CodeNotFound)
	if msgs, err := f.s.ListMessagesAfter(f.ctx, c.ConversationID, 0, 10); err != nil || len(msgs) != 0 {
		f.t.Fatalf("messages after delete = %d, %v", len(msgs), err)
	}
	if msgs, err := f.s.ListMessages(f.ctx, c.ConversationID, 0, 10); err != nil || len(msgs) != 0 {
		f.t.Fatalf("timeline after delete = %d, %v", len(msgs), err)
	}
	if chs, err := f.s.ListChanges(f.ctx, c.ConversationID, 0, 10); err != nil || len(chs) != 0 {
		f.t.Fatalf("changes after delete = %d, %v", len(chs), err)
	}
	if edits, err := f.s.ListMessageEdits(f.ctx, c.ConversationID, root.MessageID, 10); err != nil || len(edits) != 0 {
		f.t.Fatalf("edits after delete = %d, %v", len(edits), err)
	}
	if rs, err := f.s.ListReactions(f.ctx, c.ConversationID, []string{root.MessageID}, bo.UserID, 5); err != nil || len(rs) != 0 {
		f.t.Fatalf("reactions after delete = %v, %v", rs, err)
	}
	if list, err := f.s.ListInvitations(f.ctx, cy.UserID, 10); err != nil || len(list) != 0 {
		f.t.Fatalf("cy's invitations after delete = %v, %v", list, err)
	}
	for _, u := range []*confab.User{ann, bo} {
		if got := ids(f.listAll(u.UserID, 10, nil)); !slices.Equal(got, []string{keep.ConversationID}) {
			f.t.Fatalf("%s's conversations after delete = %v, want only the other one", u.Username, got)
		}
	}
	if shares, err := f.s.SharesConversation(f.ctx, ann.UserID, bo.UserID); err != nil || !shares {
		f.t.Fatalf("SharesConversation = %v, %v; they still share the other conversation", shares, err)
	}
	if got := f.getMessage(kept); got.Content != "stays" {
		f.t.Fatalf("the other conversation's message = %+v", got)
	}
	if msgs, err := f.s.ListUserMessages(f.ctx, ann.UserID, "", 10); err != nil || len(msgs) != 1 || msgs[0].MessageID != kept.MessageID {
		f.t.Fatalf("ann's messages after delete = %v, %v; want only the other conversation's", msgs, err)
	}
	// The pair may start a new direct conversation.
	if err := f.s.InsertConversation(f.ctx, f.direct(bo, ann)); err != nil {
		f.t.Fatalf("a new direct conversation of the pair: %v", err)
	}
}

func testDeleteConversationNotFound(f *fixture) {
	_, err := f.s.DeleteConversation(f.ctx, "missing")
	f.wantCode(err, confab.CodeNotFound)
	ann := f.user("ann")
	c := f.conversation(ann)
	if _, err := f.s.DeleteConversation(f.ctx, c.ConversationID); err != nil {
		f.t.Fatal(err)
	}
	_, err = f.s.DeleteConversation(f.ctx, c.ConversationID)
	f.wantCode(err, confab.CodeNotFound)
}

func messageIDs(msgs []*confab.Message) []string {
	out := make([]string, len(msgs))
	for i, m := range msgs {
		out[i] = m.MessageID
	}
	return out
}

func testListUserMessages(f *fixture) {
	ann, bo := f.user("ann"), f.user("bo")
	c, d := f.conversation(ann, bo), f.conversation(ann)
	var mine []*confab.Message
	for i := range 5 {
		conv := c
		if i%2 == 1 {
			conv = d
		}
		mine = append(mine, f.send(conv, ann, "mine"))
		f.send(c, bo, "not mine")
	}
	mine = append(mine, f.reply(mine[0], ann, "a reply", false))
	if _, _, err := f.s.DeleteMessage(f.ctx, c.ConversationID, mine[2].MessageID, "", f.now()); err != nil {
		f.t.Fatal(err)
	}
	want := messageIDs([]*confab.Message{mine[5], mine[4], mine[3], mine[1], mine[0]})
	list := func(before string, limit int) []*confab.Message {
		f.t.Helper()
		msgs, err := f.s.ListUserMessages(f.ctx, ann.UserID, before, limit)
		if err != nil {
			f.t.Fatalf("ListUserMessages: %v", err)
		}
		return msgs
	}
	first := list("", 3)
	if got := messageIDs(first); !slices.Equal(got, want[:3]) {
		f.t.Fatalf("first page = %v, want %v", got, want[:3])
	}
	if got := messageIDs(list(first[2].MessageID, 3)); !slices.Equal(got, want[3:]) {
		f.t.Fatalf("second page = %v, want %v (the deleted one left out)", got, want[3:])
	}
	if diff := cmp.Diff(f.getMessage(mine[4]), first[1]); diff != "" {
		f.t.Fatalf("listed message differs from GetMessage (-get +list):\n%s", diff)
	}
}

func dayCounts(start time.Time, counts ...int) []confab.DayCount {
	out := make([]confab.DayCount, len(counts))
	for i, n := range counts {
		out[i] = confab.DayCount{Day: start.AddDate(0, 0, i), Count: n}
	}
	return out
}

// testUsage reads a span of five days (from through to, both included)
// with a day without messages, across two ISO weeks; messages just outside
// the span count nowhere. Deleted messages were sent: they count.
func testUsage(f *fixture) {
	ann, bo, cy, di := f.user("ann"), f.user("bo"), f.user("cy"), f.user("di")
	c1, c2, c3, c4 := f.conversation(ann, bo), f.conversation(ann, bo, cy), f.conversation(cy), f.conversation(di)
	day := func(d, h int) time.Time { return time.Date(2026, 11, d, h, 0, 0, 0, time.UTC) }
	from, to := day(20, 0), day(24, 0) // Friday to Tuesday
	ms := time.Millisecond
	f.appendAt(c4, di, "before", from.Add(-ms))
	f.appendAt(c1, ann, "a", day(20, 0))
	f.appendAt(c1, bo, "b", day(20, 10))
	f.appendAt(c2, ann, "c", day(20, 23))
	gone := f.appendAt(c2, cy, "d", day(22, 12))
	f.appendAt(c3, cy, "e", day(22, 13))
	f.appendAt(c1, ann, "f", day(23, 8))
	f.appendAt(c2, bo, "g", day(25, 0).Add(-ms))
	f.appendAt(c4, di, "after", day(25, 0))
	if _, _, err := f.s.DeleteMessage(f.ctx, c2.ConversationID, gone.MessageID, "", f.now()); err != nil {
		f.t.Fatal(err)
	}
	got, err := f.s.Usage(f.ctx, from, to, 10)
	if err != nil {
		f.t.Fatal(err)
	}
	want := &confab.Usage{From: from, To: to,
		MessagesPerDay:     dayCounts(from, 3, 0, 2, 1, 1),
		ActiveUsersPerDay:  dayCounts(from, 2, 0, 1, 1, 1),
		ActiveUsersPerWeek: append(dayCounts(day(16, 0), 3), confab.DayCount{Day: day(23, 0), Count: 2}),
		TopConversations: []confab.ConversationCount{{ConversationID: c1.ConversationID, Messages: 3}, {ConversationID: c2.ConversationID, Messages: 3},
			{ConversationID: c3.ConversationID, Messages: 1}},
		Users: 4, Conversations: 4,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		f.t.Fatalf("Usage mismatch (-want +got):\n%s", diff)
	}
	got, err = f.s.Usage(f.ctx, from, to, 1)
	if err != nil || len(got.TopConversations) != 1 || got.TopConversations[0].ConversationID != c1.ConversationID {
		f.t.Fatalf("Usage top 1 = %+v, %v; want c1 (ties by id)", got.TopConversations, err)
	}
	// One day: the span's both ends are that day.
	got, err = f.s.Usage(f.ctx, day(21, 0), day(21, 0), 10)
	if err != nil || !cmp.Equal(got.MessagesPerDay, dayCounts(day(21, 0), 0)) || len(got.TopConversations) != 0 ||
		!cmp.Equal(got.ActiveUsersPerWeek, dayCounts(day(16, 0), 0)) {
		f.t.Fatalf("Usage of an empty day = %+v, %v", got, err)
	}
}

func testDeleteConversationUploads(f *uploadFixture) {
	a := f.user("ann")
	c, other := f.conversation(a), f.conversation(a)
	m := f.send(c, a, "with files")
	attached := f.upload(c, a, 10, true)
	if err := f.us.AttachUploads(f.ctx, []string{attached.UploadID}, a.UserID, c.ConversationID, m.MessageID, f.now()); err != nil {
		f.t.Fatal(err)
	}
	pending := f.upload(c, a, 20, false)
	elsewhere := f.upload(other, a, 30, false)
	keys, err := f.s.DeleteConversation(f.ctx, c.ConversationID)
	if err != nil {
		f.t.Fatal(err)
	}
	// Every blob of each upload: at least where the client put the bytes
	// and where they went once checked; nothing of another conversation.
	for _, up := range []*confab.Upload{attached, pending} {
		for _, k := range []string{"uploads/" + up.UploadID + "/in", "uploads/" + up.UploadID + "/file"} {
			if !slices.Contains(keys, k) {
				f.t.Fatalf("blob keys %v lack %s", keys, k)
			}
		}
	}
	for _, k := range keys {
		if !confab.ValidBlobKey(k) || !strings.HasPrefix(k, "uploads/"+attached.UploadID+"/") && !strings.HasPrefix(k, "uploads/"+pending.UploadID+"/") {
			f.t.Fatalf("blob key %q is not one of the conversation's uploads", k)
		}
	}
	for _, up := range []*confab.Upload{attached, pending} {
		_, err := f.us.GetUpload(f.ctx, up.UploadID)
		f.wantCode(err, confab.CodeNotFound)
	}
	if got := f.get(elsewhere.UploadID); got.ConversationID != other.ConversationID {
		f.t.Fatalf("the other conversation's upload = %+v", got)
	}
}

func testUsageStorage(f *uploadFixture) {
	a := f.user("ann")
	c := f.conversation(a)
	m := f.send(c, a, "files")
	up1, up2 := f.upload(c, a, 1000, true), f.upload(c, a, 234, true)
	f.upload(c, a, 5000, true) // ready but never attached: not counted
	if err := f.us.AttachUploads(f.ctx, []string{up1.UploadID, up2.UploadID}, a.UserID, c.ConversationID, m.MessageID, f.now()); err != nil {
		f.t.Fatal(err)
	}
	day := time.Date(2026, 11, 25, 0, 0, 0, 0, time.UTC)
	got, err := f.s.Usage(f.ctx, day, day, 5)
	if err != nil || got.StorageBytes != 1234 || got.Users != 1 || got.Conversations != 1 {
		f.t.Fatalf("Usage = %+v, %v; want 1234 bytes of attached files, 1 user, 1 conversation", got, err)
	}
}
