package storetest

import (
	"encoding/json"
	"slices"
	"sync"
	"time"

	"github.com/confab-chat/confab"
	"github.com/google/go-cmp/cmp"
)

// membershipTests check the issue #15 methods of ConversationStore and the
// new fields of conversations, members and messages.
var membershipTests = []test{
	{"InsertConversation/RolesSettingsRoundTrip", testRolesSettingsRoundTrip},
	{"InsertConversation/DirectUniquePerPairConcurrent", testDirectUnique},
	{"GetDirectConversation/NotFound", testGetDirectNotFound},
	{"AddMembers/AddsSkipsMembersAndLogs", testAddMembers},
	{"AddMembers/MaxMembersLimitedNothingWritten", testAddMembersLimited},
	{"AddMembers/UnknownNotFoundNothingWritten", testAddMembersNotFound},
	{"RemoveMember/RemovesMarksAndLogs", testRemoveMember},
	{"RemoveMember/NotMemberNotFound", testRemoveMemberNotFound},
	{"UpdateMembers/RoleAndMuteAllOrNone", testUpdateMembers},
	{"UpdateConversation/SettingsAndArchived", testUpdateConversationSettings},
	{"DeleteMessage/ByModeratorKeepsDeletedBy", testDeleteByModerator},
	{"AppendMessage/SlowModeRefusesWithinInterval", testSlowMode},
	{"AppendMessage/SlowModeOffKeepsNoPostTime", testSlowModeOff},
	{"AppendMessage/SlowModeConcurrentOneWins", testSlowModeConcurrent},
}

// member returns the membership of userID in c, nil when not a member.
func member(c *confab.Conversation, userID string) *confab.Member {
	for i := range c.Members {
		if c.Members[i].UserID == userID {
			return &c.Members[i]
		}
	}
	return nil
}

func memberIDs(ms []confab.Member) []string {
	out := make([]string, len(ms))
	for i, m := range ms {
		out[i] = m.UserID
	}
	return out
}

// addMembers adds users as members with role at at, failing on an error.
func (f *fixture) addMembers(c *confab.Conversation, by *confab.User, role confab.Role, at time.Time, users ...*confab.User) ([]confab.Member, *confab.Conversation) {
	f.t.Helper()
	var ms []confab.Member
	for _, u := range users {
		ms = append(ms, confab.Member{UserID: u.UserID, Role: role, JoinedAt: at})
	}
	added, conv, err := f.s.AddMembers(f.ctx, c.ConversationID, by.UserID, ms, confab.MaxMembers, at)
	if err != nil {
		f.t.Fatalf("AddMembers: %v", err)
	}
	return added, conv
}

// memberFacts is what a MEMBER_* change's Member must carry: the
// membership's own fields (not counters that follow later reads).
func memberFacts(m *confab.Member) any {
	if m == nil {
		return nil
	}
	return struct {
		UserID     string
		Role       confab.Role
		JoinedAt   time.Time
		MutedUntil *time.Time
	}{m.UserID, m.Role, m.JoinedAt, m.MutedUntil}
}

func testRolesSettingsRoundTrip(f *fixture) {
	ann, bo := f.user("ann"), f.user("bo")
	at := f.now()
	muted := at.Add(time.Hour)
	c := &confab.Conversation{ConversationID: f.id("c"), CreatedBy: ann.UserID, CreatedAt: at,
		Settings: confab.ConversationSettings{AddMembers: confab.RoleAdmin, Post: confab.RoleAdmin, React: confab.RoleReadOnly, SlowMode: 30},
		Members: []confab.Member{{UserID: ann.UserID, Role: confab.RoleOwner, JoinedAt: at},
			{UserID: bo.UserID, Role: confab.RoleReadOnly, JoinedAt: at, MutedUntil: &muted}}}
	if err := f.s.InsertConversation(f.ctx, c); err != nil {
		f.t.Fatal(err)
	}
	got := f.getConversation(c.ConversationID)
	if diff := cmp.Diff(c, got); diff != "" {
		f.t.Fatalf("GetConversation mismatch (-want +got):\n%s", diff)
	}
	list := f.listAll(bo.UserID, 10, nil)
	if len(list) != 1 || !cmp.Equal(list[0], got) {
		f.t.Fatalf("ListConversations = %+v, want the conversation as GetConversation reads it", list)
	}
}

func (f *fixture) direct(a, b *confab.User) *confab.Conversation {
	at := f.now()
	return &confab.Conversation{ConversationID: f.id("c"), CreatedBy: a.UserID, CreatedAt: at, Direct: true,
		Members: []confab.Member{{UserID: a.UserID, Role: confab.RoleOwner, JoinedAt: at}, {UserID: b.UserID, Role: confab.RoleMember, JoinedAt: at}}}
}

// testDirectUnique: of two direct conversations of one pair inserted at
// once exactly one is stored; the other is CodeConflict and leaves
// nothing. A group of the same pair, or a direct one of another pair, is
// no conflict.
func testDirectUnique(f *fixture) {
	ann, bo, cy := f.user("ann"), f.user("bo"), f.user("cy")
	group := f.conversation(ann, bo)
	cs := []*confab.Conversation{f.direct(ann, bo), f.direct(bo, ann)}
	errs := make([]error, len(cs))
	var wg sync.WaitGroup
	for i, c := range cs {
		wg.Go(func() { errs[i] = f.s.InsertConversation(f.ctx, c) })
	}
	wg.Wait()
	won := -1
	for i, err := range errs {
		if err == nil {
			if won >= 0 {
				f.t.Fatal("both direct conversations of one pair were stored")
			}
			won = i
		}
	}
	if won < 0 {
		f.t.Fatalf("no direct conversation stored: %v", errs)
	}
	f.wantCode(errs[1-won], confab.CodeConflict)
	_, err := f.s.GetConversation(f.ctx, cs[1-won].ConversationID)
	f.wantCode(err, confab.CodeNotFound)
	for _, pair := range [][2]*confab.User{{ann, bo}, {bo, ann}} {
		got, err := f.s.GetDirectConversation(f.ctx, pair[0].UserID, pair[1].UserID)
		if err != nil {
			f.t.Fatalf("GetDirectConversation: %v", err)
		}
		if got.ConversationID != cs[won].ConversationID || !got.Direct || len(got.Members) != 2 {
			f.t.Fatalf("GetDirectConversation = %+v, want %s, direct, with both members", got, cs[won].ConversationID)
		}
	}
	if f.getConversation(group.ConversationID).Direct {
		f.t.Fatal("a group of two reads as direct")
	}
	if err := f.s.InsertConversation(f.ctx, f.direct(ann, cy)); err != nil {
		f.t.Fatalf("direct conversation of another pair: %v", err)
	}
}

func testGetDirectNotFound(f *fixture) {
	ann, bo := f.user("ann"), f.user("bo")
	f.conversation(ann, bo) // a group of the pair is not their direct conversation
	_, err := f.s.GetDirectConversation(f.ctx, ann.UserID, bo.UserID)
	f.wantCode(err, confab.CodeNotFound)
}

// testAddMembers: members already in are skipped; each one added gets a
// MEMBER_ADDED change with the next ChangeSeq and its membership; the
// conversation comes back with them and UpdatedAt.
func testAddMembers(f *fixture) {
	ann, bo, cy, di := f.user("ann"), f.user("bo"), f.user("cy"), f.user("di")
	c := f.conversation(ann, bo)
	f.send(c, ann, "hi")
	at := f.now()
	in := []confab.Member{{UserID: bo.UserID, Role: confab.RoleAdmin, JoinedAt: at}, {UserID: cy.UserID, Role: confab.RoleMember, JoinedAt: at},
		{UserID: di.UserID, Role: confab.RoleReadOnly, JoinedAt: at}}
	added, conv, err := f.s.AddMembers(f.ctx, c.ConversationID, ann.UserID, in, confab.MaxMembers, at)
	if err != nil {
		f.t.Fatal(err)
	}
	if diff := cmp.Diff(in[1:], added); diff != "" {
		f.t.Fatalf("added mismatch (-want +got):\n%s", diff)
	}
	if got := memberIDs(conv.Members); !slices.Equal(got, []string{ann.UserID, bo.UserID, cy.UserID, di.UserID}) {
		f.t.Fatalf("members after AddMembers = %v", got)
	}
	if m := member(conv, bo.UserID); m.Role != "" {
		f.t.Fatalf("bo, already a member, got role %q: an existing member must be left as is", m.Role)
	}
	if conv.UpdatedAt == nil || !conv.UpdatedAt.Equal(at) || conv.LastChangeSeq != 3 {
		f.t.Fatalf("conversation after AddMembers: UpdatedAt %v LastChangeSeq %d, want %v and 3", conv.UpdatedAt, conv.LastChangeSeq, at)
	}
	if diff := cmp.Diff(conv, f.getConversation(c.ConversationID)); diff != "" {
		f.t.Fatalf("returned conversation differs from the stored one (-returned +stored):\n%s", diff)
	}
	chs := f.changes(c, 1)
	f.wantChanges(chs, c, 2, []wantChange{{kind: confab.ChangeMemberAdded, user: ann.UserID}, {kind: confab.ChangeMemberAdded, user: ann.UserID}})
	for i, ch := range chs {
		if ch.MemberID != added[i].UserID || !ch.At.Equal(at) || !cmp.Equal(memberFacts(ch.Member), memberFacts(&added[i])) {
			f.t.Fatalf("change %d = member %q %+v at %v, want %+v at %v", ch.ChangeSeq, ch.MemberID, ch.Member, ch.At, added[i], at)
		}
	}
	// Adding only members changes nothing at all.
	added, conv, err = f.s.AddMembers(f.ctx, c.ConversationID, ann.UserID, in, confab.MaxMembers, f.now())
	if err != nil || len(added) != 0 || conv.LastChangeSeq != 3 || !conv.UpdatedAt.Equal(at) {
		f.t.Fatalf("AddMembers of members = %v, LastChangeSeq %d, UpdatedAt %v, %v; want nothing added or changed", added, conv.LastChangeSeq, conv.UpdatedAt, err)
	}
	if got := ids(f.listAll(di.UserID, 10, nil)); !slices.Equal(got, []string{c.ConversationID}) {
		f.t.Fatalf("di's conversations = %v, want the one they were added to", got)
	}
}

func testAddMembersLimited(f *fixture) {
	ann, bo, cy, di := f.user("ann"), f.user("bo"), f.user("cy"), f.user("di")
	c := f.conversation(ann, bo)
	at := f.now()
	// bo is already in: three members plus two new would be four, over 3.
	in := []confab.Member{{UserID: bo.UserID, JoinedAt: at}, {UserID: cy.UserID, JoinedAt: at}, {UserID: di.UserID, JoinedAt: at}}
	_, _, err := f.s.AddMembers(f.ctx, c.ConversationID, ann.UserID, in, 3, at)
	f.wantCode(err, confab.CodeLimited)
	got := f.getConversation(c.ConversationID)
	if len(got.Members) != 2 || got.LastChangeSeq != 0 || got.UpdatedAt != nil {
		f.t.Fatalf("after a refused AddMembers: members %v LastChangeSeq %d UpdatedAt %v; want nothing written", memberIDs(got.Members), got.LastChangeSeq, got.UpdatedAt)
	}
	// Exactly at the limit is fine.
	added, conv, err := f.s.AddMembers(f.ctx, c.ConversationID, ann.UserID, in[:2], 3, at)
	if err != nil || len(added) != 1 || len(conv.Members) != 3 {
		f.t.Fatalf("AddMembers up to the limit = %v, %d members, %v", added, len(conv.Members), err)
	}
}

func testAddMembersNotFound(f *fixture) {
	ann, bo := f.user("ann"), f.user("bo")
	c := f.conversation(ann)
	at := f.now()
	_, _, err := f.s.AddMembers(f.ctx, c.ConversationID, ann.UserID, []confab.Member{{UserID: bo.UserID, JoinedAt: at}, {UserID: "ghost", JoinedAt: at}}, confab.MaxMembers, at)
	f.wantCode(err, confab.CodeNotFound)
	if got := f.getConversation(c.ConversationID); len(got.Members) != 1 || got.LastChangeSeq != 0 {
		f.t.Fatalf("after AddMembers of an unknown user: members %v LastChangeSeq %d, want nothing written", memberIDs(got.Members), got.LastChangeSeq)
	}
	_, _, err = f.s.AddMembers(f.ctx, "missing", ann.UserID, []confab.Member{{UserID: bo.UserID, JoinedAt: at}}, confab.MaxMembers, at)
	f.wantCode(err, confab.CodeNotFound)
	if got := f.listAll(bo.UserID, 10, nil); len(got) != 0 {
		f.t.Fatalf("bo's conversations = %v, want none", ids(got))
	}
}

// testRemoveMember: the member, their read and thread marks go; the log
// has MEMBER_REMOVED without a membership; a later add starts afresh.
func testRemoveMember(f *fixture) {
	ann, bo := f.user("ann"), f.user("bo")
	c := f.conversation(ann, bo)
	root := f.send(c, ann, "root")
	r := f.reply(root, ann, "reply", false)
	f.markRead(c, bo, r.Seq)
	if err := f.s.MarkThreadRead(f.ctx, c.ConversationID, root.MessageID, bo.UserID, r.Seq); err != nil {
		f.t.Fatal(err)
	}
	before := f.lastChange(c)
	at := f.now()
	conv, err := f.s.RemoveMember(f.ctx, c.ConversationID, bo.UserID, ann.UserID, at)
	if err != nil {
		f.t.Fatal(err)
	}
	if got := memberIDs(conv.Members); !slices.Equal(got, []string{ann.UserID}) || !conv.UpdatedAt.Equal(at) || conv.LastChangeSeq != before+1 {
		f.t.Fatalf("after RemoveMember: members %v UpdatedAt %v LastChangeSeq %d, want [ann] %v %d", got, conv.UpdatedAt, conv.LastChangeSeq, at, before+1)
	}
	chs := f.changes(c, before)
	f.wantChanges(chs, c, before+1, []wantChange{{kind: confab.ChangeMemberRemoved, user: ann.UserID}})
	if chs[0].MemberID != bo.UserID || chs[0].Member != nil {
		f.t.Fatalf("MEMBER_REMOVED = member %q %+v, want bo without a membership", chs[0].MemberID, chs[0].Member)
	}
	if got := f.listAll(bo.UserID, 10, nil); len(got) != 0 {
		f.t.Fatalf("bo's conversations after removal = %v, want none", ids(got))
	}
	if ids, err := f.s.ListConversationIDs(f.ctx, bo.UserID, 10); err != nil || len(ids) != 0 {
		f.t.Fatalf("bo's conversation ids after removal = %v, %v", ids, err)
	}
	f.wantCode(f.s.MarkRead(f.ctx, c.ConversationID, bo.UserID, 1, f.now()), confab.CodeNotFound)
	_, back := f.addMembers(c, ann, confab.RoleMember, f.now(), bo)
	if m := member(back, bo.UserID); m.LastReadSeq != 0 || m.LastReadAt != nil {
		f.t.Fatalf("bo added again: read mark %d %v, want none (removed with the membership)", m.LastReadSeq, m.LastReadAt)
	}
	unread, err := f.s.CountUnreadReplies(f.ctx, c.ConversationID, bo.UserID, []string{root.MessageID})
	if err != nil || unread[root.MessageID] != 1 {
		f.t.Fatalf("bo's unread replies after coming back = %v, %v; want 1 (the thread mark went with the membership)", unread, err)
	}
}

func testRemoveMemberNotFound(f *fixture) {
	ann, bo := f.user("ann"), f.user("bo")
	c := f.conversation(ann)
	_, err := f.s.RemoveMember(f.ctx, c.ConversationID, bo.UserID, ann.UserID, f.now())
	f.wantCode(err, confab.CodeNotFound)
	_, err = f.s.RemoveMember(f.ctx, "missing", ann.UserID, ann.UserID, f.now())
	f.wantCode(err, confab.CodeNotFound)
	if got := f.getConversation(c.ConversationID); got.LastChangeSeq != 0 || got.UpdatedAt != nil {
		f.t.Fatalf("after removing a non-member: LastChangeSeq %d UpdatedAt %v, want nothing written", got.LastChangeSeq, got.UpdatedAt)
	}
}

func testUpdateMembers(f *fixture) {
	ann, bo, cy, di := f.user("ann"), f.user("bo"), f.user("cy"), f.user("di")
	c := f.conversation(ann, bo, cy)
	until := f.now().Add(time.Hour)
	// One update of a non-member: all or none.
	_, err := f.s.UpdateMembers(f.ctx, c.ConversationID, ann.UserID, []confab.MemberUpdate{
		{UserID: bo.UserID, Role: ptr(confab.RoleAdmin)}, {UserID: di.UserID, Role: ptr(confab.RoleAdmin)}}, f.now())
	f.wantCode(err, confab.CodeNotFound)
	if got := f.getConversation(c.ConversationID); member(got, bo.UserID).Role != "" || got.LastChangeSeq != 0 {
		f.t.Fatalf("after a refused UpdateMembers: bo %+v LastChangeSeq %d, want nothing written", member(got, bo.UserID), got.LastChangeSeq)
	}
	at := f.now()
	conv, err := f.s.UpdateMembers(f.ctx, c.ConversationID, ann.UserID, []confab.MemberUpdate{
		{UserID: bo.UserID, Role: ptr(confab.RoleAdmin)}, {UserID: cy.UserID, MutedUntil: &until}}, at)
	if err != nil {
		f.t.Fatal(err)
	}
	b, cm := member(conv, bo.UserID), member(conv, cy.UserID)
	if b.Role != confab.RoleAdmin || b.MutedUntil != nil || cm.Role != "" || cm.MutedUntil == nil || !cm.MutedUntil.Equal(until) ||
		!conv.UpdatedAt.Equal(at) || conv.LastChangeSeq != 2 {
		f.t.Fatalf("after UpdateMembers: bo %+v cy %+v UpdatedAt %v LastChangeSeq %d", b, cm, conv.UpdatedAt, conv.LastChangeSeq)
	}
	if diff := cmp.Diff(conv, f.getConversation(c.ConversationID)); diff != "" {
		f.t.Fatalf("returned conversation differs from the stored one (-returned +stored):\n%s", diff)
	}
	chs := f.changes(c, 0)
	f.wantChanges(chs, c, 1, []wantChange{{kind: confab.ChangeMemberUpdated, user: ann.UserID}, {kind: confab.ChangeMemberUpdated, user: ann.UserID}})
	if chs[0].MemberID != bo.UserID || !cmp.Equal(memberFacts(chs[0].Member), memberFacts(b)) ||
		chs[1].MemberID != cy.UserID || !cmp.Equal(memberFacts(chs[1].Member), memberFacts(cm)) {
		f.t.Fatalf("MEMBER_UPDATED changes = %q %+v, %q %+v; want bo's and cy's memberships after the update", chs[0].MemberID, chs[0].Member, chs[1].MemberID, chs[1].Member)
	}
	// A zero time unmutes.
	conv, err = f.s.UpdateMembers(f.ctx, c.ConversationID, ann.UserID, []confab.MemberUpdate{{UserID: cy.UserID, MutedUntil: &time.Time{}}}, f.now())
	if err != nil || member(conv, cy.UserID).MutedUntil != nil {
		f.t.Fatalf("after unmuting: cy %+v, %v; want MutedUntil nil", member(conv, cy.UserID), err)
	}
	if chs := f.changes(c, 2); len(chs) != 1 || chs[0].Member == nil || chs[0].Member.MutedUntil != nil {
		f.t.Fatalf("unmute change = %+v, want one MEMBER_UPDATED with MutedUntil nil", chs)
	}
}

func testUpdateConversationSettings(f *fixture) {
	ann := f.user("ann")
	c := f.conversation(ann)
	settings := confab.ConversationSettings{AddMembers: confab.RoleAdmin, Post: confab.RoleAdmin, React: confab.RoleReadOnly, SlowMode: 60}
	at := f.now()
	got, err := f.s.UpdateConversation(f.ctx, c.ConversationID, ann.UserID, confab.ConversationUpdate{Settings: &settings, Archived: ptr(true)}, at)
	if err != nil {
		f.t.Fatal(err)
	}
	if got.Settings != settings || got.ArchivedAt == nil || !got.ArchivedAt.Equal(at) || got.Name != nil {
		f.t.Fatalf("after UpdateConversation: settings %+v archived %v name %v; want %+v, %v, no name", got.Settings, got.ArchivedAt, got.Name, settings, at)
	}
	if diff := cmp.Diff(got, f.getConversation(c.ConversationID)); diff != "" {
		f.t.Fatalf("returned conversation differs from the stored one (-returned +stored):\n%s", diff)
	}
	// Nil fields stay; Archived false clears ArchivedAt.
	got, err = f.s.UpdateConversation(f.ctx, c.ConversationID, ann.UserID, confab.ConversationUpdate{Name: ptr("n")}, f.now())
	if err != nil || got.Settings != settings || got.ArchivedAt == nil {
		f.t.Fatalf("after renaming: %+v, %v; want settings and archive kept", got, err)
	}
	got, err = f.s.UpdateConversation(f.ctx, c.ConversationID, ann.UserID, confab.ConversationUpdate{Archived: ptr(false)}, f.now())
	if err != nil || got.ArchivedAt != nil || got.Settings != settings || deref(got.Name) != "n" {
		f.t.Fatalf("after unarchiving: %+v, %v; want ArchivedAt nil, the rest kept", got, err)
	}
	if got.LastChangeSeq != 3 {
		f.t.Fatalf("LastChangeSeq = %d after three updates, want 3", got.LastChangeSeq)
	}
}

// testDeleteByModerator: a moderator's delete keeps who deleted with the
// tombstone and is their change; the author's own delete keeps no
// DeletedBy.
func testDeleteByModerator(f *fixture) {
	ann, bo := f.user("ann"), f.user("bo")
	c := f.conversation(ann, bo)
	m1, m2 := f.send(c, bo, "spam"), f.send(c, bo, "oops")
	got, _, err := f.s.DeleteMessage(f.ctx, c.ConversationID, m1.MessageID, ann.UserID, f.now())
	if err != nil {
		f.t.Fatal(err)
	}
	if got.DeletedBy != ann.UserID || got.UserID != bo.UserID {
		f.t.Fatalf("deleted message DeletedBy %q author %q, want ann and bo", got.DeletedBy, got.UserID)
	}
	if _, _, err := f.s.DeleteMessage(f.ctx, c.ConversationID, m2.MessageID, bo.UserID, f.now()); err != nil {
		f.t.Fatal(err)
	}
	after, err := f.s.ListMessagesAfter(f.ctx, c.ConversationID, 0, 10)
	if err != nil || len(after) != 2 || !after[0].Deleted || after[0].DeletedBy != ann.UserID || !after[1].Deleted || after[1].DeletedBy != "" {
		f.t.Fatalf("tombstones = %+v, %v; want m1 deleted by ann, m2 by its author (DeletedBy empty)", after, err)
	}
	chs := f.changes(c, 2)
	f.wantChanges(chs, c, 3, []wantChange{{kind: confab.ChangeMessageDeleted, user: ann.UserID, message: m1.MessageID},
		{kind: confab.ChangeMessageDeleted, user: bo.UserID, message: m2.MessageID}})
	if chs[0].Message.DeletedBy != ann.UserID {
		f.t.Fatalf("change's message DeletedBy = %q, want ann", chs[0].Message.DeletedBy)
	}
}

// slowSend appends a message of u at at with slow mode on.
func (f *fixture) slowSend(c *confab.Conversation, u *confab.User, at time.Time, slow time.Duration) (*confab.Message, error) {
	m := f.newMessage(c, u, "slow")
	m.CreatedAt, m.SlowMode = at, slow
	_, err := f.s.AppendMessage(f.ctx, m)
	return m, err
}

func testSlowMode(f *fixture) {
	ann, bo := f.user("ann"), f.user("bo")
	c := f.conversation(ann, bo)
	t0 := f.now()
	if _, err := f.slowSend(c, bo, t0, time.Minute); err != nil {
		f.t.Fatal(err)
	}
	got := f.getConversation(c.ConversationID)
	if m := member(got, bo.UserID); m.LastPostedAt == nil || !m.LastPostedAt.Equal(t0) {
		f.t.Fatalf("bo's LastPostedAt = %v, want %v", m.LastPostedAt, t0)
	}
	_, err := f.slowSend(c, bo, t0.Add(time.Minute-time.Millisecond), time.Minute)
	f.wantCode(err, confab.CodeLimited)
	after := f.getConversation(c.ConversationID)
	if after.LastSeq != 1 || after.LastChangeSeq != 1 || !member(after, bo.UserID).LastPostedAt.Equal(t0) {
		f.t.Fatalf("after a refused send: LastSeq %d LastChangeSeq %d LastPostedAt %v; want 1, 1, %v", after.LastSeq, after.LastChangeSeq, member(after, bo.UserID).LastPostedAt, t0)
	}
	if msgs, err := f.s.ListMessagesAfter(f.ctx, c.ConversationID, 0, 10); err != nil || len(msgs) != 1 {
		f.t.Fatalf("messages after a refused send = %d, %v; want 1", len(msgs), err)
	}
	// Another member is not slowed by bo.
	if _, err := f.slowSend(c, ann, t0.Add(time.Second), time.Minute); err != nil {
		f.t.Fatalf("ann's send: %v", err)
	}
	m, err := f.slowSend(c, bo, t0.Add(time.Minute), time.Minute)
	if err != nil || m.Seq != 3 {
		f.t.Fatalf("bo's send after the interval = seq %d, %v; want 3", m.Seq, err)
	}
	if got := member(f.getConversation(c.ConversationID), bo.UserID); !got.LastPostedAt.Equal(t0.Add(time.Minute)) {
		f.t.Fatalf("bo's LastPostedAt = %v, want %v", got.LastPostedAt, t0.Add(time.Minute))
	}
}

// testSlowModeConcurrent: of sends of one author at once, with slow mode,
// exactly one is stored (the check and the mark are one transaction); an
// other member's send is not held back.
func testSlowModeConcurrent(f *fixture) {
	ann, bo := f.user("ann"), f.user("bo")
	c := f.conversation(ann, bo)
	at := f.now()
	const n = 8
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { _, errs[i] = f.slowSend(c, bo, at.Add(time.Duration(i)*time.Millisecond), time.Minute) })
	}
	wg.Wait()
	stored := 0
	for _, err := range errs {
		if err == nil {
			stored++
		} else if confab.ErrorCode(err) != confab.CodeLimited {
			f.t.Fatalf("a concurrent slow send failed with %v, want RATE_LIMITED", err)
		}
	}
	if stored != 1 {
		f.t.Fatalf("%d of %d concurrent slow sends stored, want exactly 1", stored, n)
	}
	if _, err := f.slowSend(c, ann, at, time.Minute); err != nil {
		f.t.Fatalf("ann's send: %v", err)
	}
	if got := f.getConversation(c.ConversationID); got.LastSeq != 2 || got.MessageCount != 2 {
		f.t.Fatalf("LastSeq %d MessageCount %d, want 2 and 2", got.LastSeq, got.MessageCount)
	}
}

func testSlowModeOff(f *fixture) {
	ann := f.user("ann")
	c := f.conversation(ann)
	f.send(c, ann, "one")
	f.send(c, ann, "two") // no slow mode: no wait, nothing kept
	if m := member(f.getConversation(c.ConversationID), ann.UserID); m.LastPostedAt != nil {
		f.t.Fatalf("LastPostedAt = %v without slow mode, want nil", m.LastPostedAt)
	}
}

// testOutboxMemberEvents: AddMembers writes member.added per member added,
// RemoveMember member.removed, each with who and the role.
func testOutboxMemberEvents(f *fixture) {
	ann, bo, cy := f.user("ann"), f.user("bo"), f.user("cy")
	c := f.conversation(ann)
	f.claimAll("node-a")
	at := f.now()
	f.addMembers(c, ann, confab.RoleAdmin, at, bo, cy)
	f.addMembers(c, ann, confab.RoleAdmin, f.now(), bo) // no change, no event
	if _, err := f.s.RemoveMember(f.ctx, c.ConversationID, cy.UserID, cy.UserID, at); err != nil {
		f.t.Fatal(err)
	}
	got := f.claimAll("node-b")
	want := []confab.OutboxEvent{confab.OutboxMemberAdded, confab.OutboxMemberAdded, confab.OutboxMemberRemoved}
	if g := eventsOf(got); !equalEvents(g, want) {
		f.t.Fatalf("events = %v, want %v", g, want)
	}
	wantData := []confab.MemberData{
		{ConversationID: c.ConversationID, UserID: bo.UserID, Role: string(confab.RoleAdmin), By: ann.UserID, At: at},
		{ConversationID: c.ConversationID, UserID: cy.UserID, Role: string(confab.RoleAdmin), By: ann.UserID, At: at},
		{ConversationID: c.ConversationID, UserID: cy.UserID, By: cy.UserID, At: at},
	}
	for i, e := range got {
		var d confab.MemberData
		if err := json.Unmarshal(e.Data, &d); err != nil {
			f.t.Fatal(err)
		}
		if !cmp.Equal(d, wantData[i]) {
			f.t.Fatalf("%s data = %+v, want %+v", e.Event, d, wantData[i])
		}
	}
}
