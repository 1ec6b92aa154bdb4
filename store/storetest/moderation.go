package storetest

import (
	"slices"
	"sync"
	"time"

	"github.com/confab-chat/confab"
	"github.com/google/go-cmp/cmp"
)

// moderationTests check ModerationStore's blocks, invitations, bans,
// reports and audit log.
var moderationTests = []test{
	{"InsertBlock/IdempotentListedOldestFirst", testBlocks},
	{"InsertBlock/MaxBlocksLimited", testBlocksLimited},
	{"BlocksBetween/EitherDirection", testBlocksBetween},
	{"SharesConversation/Membership", testSharesConversation},
	{"InsertInvitation/ReplacesAndLists", testInvitations},
	{"DeleteInvitation/RaceExactlyOneWins", testDeleteInvitationRace},
	{"PutBan/ScopesReplaceAndList", testBans},
	{"ResolveReport/OnceThenConflict", testResolveReport},
	{"ListReports/NewestFirstByStatusPaged", testListReports},
	{"ListAudit/NewestFirstFilteredPaged", testListAudit},
}

func (f *fixture) block(u, blocked *confab.User, maxBlocks int) (bool, *confab.Block) {
	f.t.Helper()
	b := &confab.Block{UserID: u.UserID, BlockedID: blocked.UserID, CreatedAt: f.now()}
	added, err := f.s.InsertBlock(f.ctx, b, maxBlocks)
	if err != nil {
		f.t.Fatalf("InsertBlock: %v", err)
	}
	return added, b
}

func (f *fixture) blocks(u *confab.User, limit int) []*confab.Block {
	f.t.Helper()
	bs, err := f.s.ListBlocks(f.ctx, u.UserID, limit)
	if err != nil {
		f.t.Fatalf("ListBlocks: %v", err)
	}
	return bs
}

func testBlocks(f *fixture) {
	ann, bo, cy := f.user("ann"), f.user("bo"), f.user("cy")
	_, b1 := f.block(ann, cy, confab.MaxBlocks)
	_, b2 := f.block(ann, bo, confab.MaxBlocks)
	if added, _ := f.block(ann, cy, confab.MaxBlocks); added {
		f.t.Fatal("blocking twice reported added")
	}
	if diff := cmp.Diff([]*confab.Block{b1, b2}, f.blocks(ann, 10)); diff != "" {
		f.t.Fatalf("ListBlocks mismatch, want oldest first with the first block's time (-want +got):\n%s", diff)
	}
	if got := f.blocks(ann, 1); len(got) != 1 || got[0].BlockedID != cy.UserID {
		f.t.Fatalf("ListBlocks limit 1 = %+v, want cy only", got)
	}
	if got := f.blocks(bo, 10); len(got) != 0 {
		f.t.Fatalf("bo's blocks = %+v, want none (a block is one user's)", got)
	}
	removed, err := f.s.DeleteBlock(f.ctx, ann.UserID, cy.UserID)
	if err != nil || !removed {
		f.t.Fatalf("DeleteBlock = %v, %v; want removed", removed, err)
	}
	if removed, err := f.s.DeleteBlock(f.ctx, ann.UserID, cy.UserID); err != nil || removed {
		f.t.Fatalf("second DeleteBlock = %v, %v; want not removed, no error", removed, err)
	}
	if diff := cmp.Diff([]*confab.Block{b2}, f.blocks(ann, 10)); diff != "" {
		f.t.Fatalf("ListBlocks after unblocking (-want +got):\n%s", diff)
	}
}

func testBlocksLimited(f *fixture) {
	ann, bo, cy, di := f.user("ann"), f.user("bo"), f.user("cy"), f.user("di")
	f.block(ann, bo, 2)
	f.block(ann, cy, 2)
	if added, _ := f.block(ann, cy, 2); added { // already blocked: no error at the limit
		f.t.Fatal("blocking again at the limit reported added")
	}
	_, err := f.s.InsertBlock(f.ctx, &confab.Block{UserID: ann.UserID, BlockedID: di.UserID, CreatedAt: f.now()}, 2)
	f.wantCode(err, confab.CodeLimited)
	if got := f.blocks(ann, 10); len(got) != 2 {
		f.t.Fatalf("blocks after a refused one = %d, want 2", len(got))
	}
	f.block(di, ann, 2) // another user's count is their own
}

func testBlocksBetween(f *fixture) {
	ann, bo, cy, di := f.user("ann"), f.user("bo"), f.user("cy"), f.user("di")
	_, annBo := f.block(ann, bo, confab.MaxBlocks)
	_, cyAnn := f.block(cy, ann, confab.MaxBlocks)
	f.block(bo, di, confab.MaxBlocks) // not about ann
	got, err := f.s.BlocksBetween(f.ctx, ann.UserID, []string{bo.UserID, cy.UserID, di.UserID, "ghost"})
	if err != nil {
		f.t.Fatal(err)
	}
	slices.SortFunc(got, func(a, b *confab.Block) int { return a.CreatedAt.Compare(b.CreatedAt) })
	if diff := cmp.Diff([]*confab.Block{annBo, cyAnn}, got); diff != "" {
		f.t.Fatalf("BlocksBetween mismatch (-want +got):\n%s", diff)
	}
	if got, err := f.s.BlocksBetween(f.ctx, di.UserID, []string{ann.UserID}); err != nil || len(got) != 0 {
		f.t.Fatalf("BlocksBetween(di, ann) = %+v, %v; want none", got, err)
	}
}

func testSharesConversation(f *fixture) {
	ann, bo, cy := f.user("ann"), f.user("bo"), f.user("cy")
	c := f.conversation(ann, bo)
	f.conversation(cy)
	for _, q := range []struct {
		a, b *confab.User
		want bool
	}{{ann, bo, true}, {bo, ann, true}, {ann, cy, false}} {
		if got, err := f.s.SharesConversation(f.ctx, q.a.UserID, q.b.UserID); err != nil || got != q.want {
			f.t.Fatalf("SharesConversation(%s, %s) = %v, %v; want %v", q.a.Username, q.b.Username, got, err, q.want)
		}
	}
	if _, err := f.s.RemoveMember(f.ctx, c.ConversationID, bo.UserID, bo.UserID, f.now()); err != nil {
		f.t.Fatal(err)
	}
	if got, err := f.s.SharesConversation(f.ctx, ann.UserID, bo.UserID); err != nil || got {
		f.t.Fatalf("SharesConversation after bo left = %v, %v; want false", got, err)
	}
}

func (f *fixture) invite(c *confab.Conversation, u, by *confab.User, role confab.Role) *confab.Invitation {
	f.t.Helper()
	inv := &confab.Invitation{ConversationID: c.ConversationID, UserID: u.UserID, InvitedBy: by.UserID, Role: role, CreatedAt: f.now()}
	if err := f.s.InsertInvitation(f.ctx, inv); err != nil {
		f.t.Fatalf("InsertInvitation: %v", err)
	}
	return inv
}

func testInvitations(f *fixture) {
	ann, bo, cy := f.user("ann"), f.user("bo"), f.user("cy")
	c1, c2 := f.conversation(ann), f.conversation(ann)
	f.invite(c1, cy, ann, confab.RoleMember)
	i2 := f.invite(c2, cy, ann, confab.RoleMember)
	i1 := f.invite(c1, cy, bo, confab.RoleAdmin) // replaces the first
	got, err := f.s.GetInvitation(f.ctx, c1.ConversationID, cy.UserID)
	if err != nil {
		f.t.Fatal(err)
	}
	if diff := cmp.Diff(i1, got); diff != "" {
		f.t.Fatalf("GetInvitation mismatch (-want +got):\n%s", diff)
	}
	list, err := f.s.ListInvitations(f.ctx, cy.UserID, 10)
	if err != nil {
		f.t.Fatal(err)
	}
	if diff := cmp.Diff([]*confab.Invitation{i1, i2}, list); diff != "" {
		f.t.Fatalf("ListInvitations mismatch, want newest first (-want +got):\n%s", diff)
	}
	if list, err := f.s.ListInvitations(f.ctx, cy.UserID, 1); err != nil || len(list) != 1 || list[0].ConversationID != c1.ConversationID {
		f.t.Fatalf("ListInvitations limit 1 = %+v, %v", list, err)
	}
	_, err = f.s.GetInvitation(f.ctx, c1.ConversationID, bo.UserID)
	f.wantCode(err, confab.CodeNotFound)
	if err := f.s.DeleteInvitation(f.ctx, c1.ConversationID, cy.UserID); err != nil {
		f.t.Fatal(err)
	}
	_, err = f.s.GetInvitation(f.ctx, c1.ConversationID, cy.UserID)
	f.wantCode(err, confab.CodeNotFound)
	if list, err := f.s.ListInvitations(f.ctx, cy.UserID, 10); err != nil || len(list) != 1 || list[0].ConversationID != c2.ConversationID {
		f.t.Fatalf("ListInvitations after a delete = %+v, %v; want c2's only", list, err)
	}
}

func testDeleteInvitationRace(f *fixture) {
	ann, bo := f.user("ann"), f.user("bo")
	c := f.conversation(ann)
	for round := range 5 {
		f.invite(c, bo, ann, confab.RoleMember)
		errs := make([]error, 2)
		var wg sync.WaitGroup
		for i := range errs {
			wg.Go(func() { errs[i] = f.s.DeleteInvitation(f.ctx, c.ConversationID, bo.UserID) })
		}
		wg.Wait()
		won := 0
		for _, err := range errs {
			if err == nil {
				won++
			} else {
				f.wantCode(err, confab.CodeNotFound)
			}
		}
		if won != 1 {
			f.t.Fatalf("round %d: %d of two deletes won (%v), want exactly one", round, won, errs)
		}
	}
}

func testBans(f *fixture) {
	ann, bo, cy := f.user("ann"), f.user("bo"), f.user("cy")
	c := f.conversation(ann)
	until := f.now().Add(time.Hour)
	convBan := &confab.Ban{ConversationID: c.ConversationID, UserID: bo.UserID, BannedBy: ann.UserID, Reason: "spam", CreatedAt: f.now(), Until: &until}
	serverBan := &confab.Ban{UserID: bo.UserID, BannedBy: ann.UserID, Reason: "abuse", CreatedAt: f.now()}
	for _, b := range []*confab.Ban{convBan, serverBan} {
		if err := f.s.PutBan(f.ctx, b); err != nil {
			f.t.Fatal(err)
		}
	}
	for _, b := range []*confab.Ban{convBan, serverBan} {
		got, err := f.s.GetBan(f.ctx, b.ConversationID, b.UserID)
		if err != nil {
			f.t.Fatal(err)
		}
		if diff := cmp.Diff(b, got); diff != "" {
			f.t.Fatalf("GetBan(%q) mismatch (-want +got):\n%s", b.ConversationID, diff)
		}
	}
	// A new ban of the same scope replaces the earlier one.
	cyBan := &confab.Ban{ConversationID: c.ConversationID, UserID: cy.UserID, BannedBy: ann.UserID, CreatedAt: f.now()}
	again := &confab.Ban{ConversationID: c.ConversationID, UserID: bo.UserID, BannedBy: cy.UserID, Reason: "again", CreatedAt: f.now()}
	for _, b := range []*confab.Ban{cyBan, again} {
		if err := f.s.PutBan(f.ctx, b); err != nil {
			f.t.Fatal(err)
		}
	}
	list, err := f.s.ListBans(f.ctx, c.ConversationID, 10)
	if err != nil {
		f.t.Fatal(err)
	}
	if diff := cmp.Diff([]*confab.Ban{again, cyBan}, list); diff != "" {
		f.t.Fatalf("ListBans mismatch, want newest first, replaced once (-want +got):\n%s", diff)
	}
	if list, err := f.s.ListBans(f.ctx, "", 10); err != nil || !cmp.Equal(list, []*confab.Ban{serverBan}) {
		f.t.Fatalf("server-wide bans = %+v, %v; want bo's", list, err)
	}
	if removed, err := f.s.DeleteBan(f.ctx, c.ConversationID, bo.UserID); err != nil || !removed {
		f.t.Fatalf("DeleteBan = %v, %v; want removed", removed, err)
	}
	if removed, err := f.s.DeleteBan(f.ctx, c.ConversationID, bo.UserID); err != nil || removed {
		f.t.Fatalf("second DeleteBan = %v, %v; want not removed", removed, err)
	}
	_, err = f.s.GetBan(f.ctx, c.ConversationID, bo.UserID)
	f.wantCode(err, confab.CodeNotFound)
	if _, err := f.s.GetBan(f.ctx, "", bo.UserID); err != nil {
		f.t.Fatalf("the server-wide ban went with the conversation's: %v", err)
	}
}

func (f *fixture) report(reporter, about *confab.User, m *confab.Message) *confab.Report {
	f.t.Helper()
	r := &confab.Report{ReportID: f.id("r"), ReporterID: reporter.UserID, UserID: about.UserID, Reason: "rude", CreatedAt: f.now(), Status: confab.ReportOpen}
	if m != nil {
		r.ConversationID, r.MessageID = m.ConversationID, m.MessageID
	}
	if err := f.s.InsertReport(f.ctx, r); err != nil {
		f.t.Fatalf("InsertReport: %v", err)
	}
	return r
}

func testResolveReport(f *fixture) {
	ann, bo := f.user("ann"), f.user("bo")
	c := f.conversation(ann, bo)
	m := f.send(c, bo, "rude words")
	r := f.report(ann, bo, m)
	got, err := f.s.GetReport(f.ctx, r.ReportID)
	if err != nil {
		f.t.Fatal(err)
	}
	if diff := cmp.Diff(r, got); diff != "" {
		f.t.Fatalf("GetReport mismatch (-want +got):\n%s", diff)
	}
	at := f.now()
	got, err = f.s.ResolveReport(f.ctx, r.ReportID, ann.UserID, confab.ReportDismissed, "fine", at)
	if err != nil {
		f.t.Fatal(err)
	}
	want := *r
	want.Status, want.ResolvedBy, want.ResolvedAt, want.Resolution = confab.ReportDismissed, ann.UserID, &at, "fine"
	if diff := cmp.Diff(&want, got); diff != "" {
		f.t.Fatalf("ResolveReport mismatch (-want +got):\n%s", diff)
	}
	_, err = f.s.ResolveReport(f.ctx, r.ReportID, bo.UserID, confab.ReportResolved, "again", f.now())
	f.wantCode(err, confab.CodeConflict)
	if got, err := f.s.GetReport(f.ctx, r.ReportID); err != nil || !cmp.Equal(&want, got) {
		f.t.Fatalf("report after a second resolve = %+v, %v; want the first resolution kept", got, err)
	}
	_, err = f.s.ResolveReport(f.ctx, "missing", ann.UserID, confab.ReportResolved, "", f.now())
	f.wantCode(err, confab.CodeNotFound)
	_, err = f.s.GetReport(f.ctx, "missing")
	f.wantCode(err, confab.CodeNotFound)
}

func reportIDs(rs []*confab.Report) []string {
	out := make([]string, len(rs))
	for i, r := range rs {
		out[i] = r.ReportID
	}
	return out
}

func testListReports(f *fixture) {
	ann, bo := f.user("ann"), f.user("bo")
	var all []*confab.Report
	for range 5 {
		all = append(all, f.report(ann, bo, nil))
	}
	if _, err := f.s.ResolveReport(f.ctx, all[1].ReportID, ann.UserID, confab.ReportResolved, "done", f.now()); err != nil {
		f.t.Fatal(err)
	}
	list := func(status confab.ReportStatus, before string, limit int) []string {
		f.t.Helper()
		rs, err := f.s.ListReports(f.ctx, confab.ReportFilter{Status: status, Before: before, Limit: limit})
		if err != nil {
			f.t.Fatalf("ListReports: %v", err)
		}
		return reportIDs(rs)
	}
	id := func(i int) string { return all[i].ReportID }
	if got := list("", "", 10); !slices.Equal(got, []string{id(4), id(3), id(2), id(1), id(0)}) {
		f.t.Fatalf("every report = %v, want newest first", got)
	}
	if got := list(confab.ReportOpen, "", 2); !slices.Equal(got, []string{id(4), id(3)}) {
		f.t.Fatalf("open reports, first page = %v", got)
	}
	if got := list(confab.ReportOpen, id(3), 2); !slices.Equal(got, []string{id(2), id(0)}) {
		f.t.Fatalf("open reports, second page = %v (the resolved one left out)", got)
	}
	if got := list(confab.ReportResolved, "", 10); !slices.Equal(got, []string{id(1)}) {
		f.t.Fatalf("resolved reports = %v", got)
	}
	if got := list(confab.ReportDismissed, "", 10); len(got) != 0 {
		f.t.Fatalf("dismissed reports = %v, want none", got)
	}
}

func testListAudit(f *fixture) {
	ann, bo := f.user("ann"), f.user("bo")
	c, d := f.conversation(ann, bo), f.conversation(ann)
	until := f.now().Add(time.Hour)
	entries := []*confab.AuditEntry{
		{ActorID: ann.UserID, Action: confab.AuditMemberMuted, ConversationID: c.ConversationID, UserID: bo.UserID, Reason: "noise", Until: &until},
		{ActorID: ann.UserID, Action: confab.AuditRoleChanged, ConversationID: d.ConversationID, UserID: ann.UserID, Detail: "ADMIN"},
		{Action: confab.AuditUserDisabled, UserID: bo.UserID}, // by the command line
		{ActorID: ann.UserID, Action: confab.AuditMessageDeleted, ConversationID: c.ConversationID, UserID: bo.UserID, MessageID: "m-1"},
	}
	for _, e := range entries {
		e.EntryID, e.At = f.id("a"), f.now()
		if err := f.s.InsertAudit(f.ctx, e); err != nil {
			f.t.Fatal(err)
		}
	}
	list := func(filter confab.AuditFilter) []*confab.AuditEntry {
		f.t.Helper()
		es, err := f.s.ListAudit(f.ctx, filter)
		if err != nil {
			f.t.Fatalf("ListAudit: %v", err)
		}
		return es
	}
	rev := func(es ...*confab.AuditEntry) []*confab.AuditEntry { return es }
	if diff := cmp.Diff(rev(entries[3], entries[2], entries[1]), list(confab.AuditFilter{Limit: 3})); diff != "" {
		f.t.Fatalf("ListAudit first page mismatch, want newest first (-want +got):\n%s", diff)
	}
	if got := list(confab.AuditFilter{Before: entries[1].EntryID, Limit: 3}); len(got) != 1 || got[0].EntryID != entries[0].EntryID {
		f.t.Fatalf("ListAudit second page = %+v, want the oldest entry", got)
	}
	if diff := cmp.Diff(rev(entries[3], entries[0]), list(confab.AuditFilter{ConversationID: c.ConversationID, Limit: 10})); diff != "" {
		f.t.Fatalf("ListAudit of a conversation mismatch (-want +got):\n%s", diff)
	}
	got := list(confab.AuditFilter{UserID: bo.UserID, Limit: 10})
	if len(got) != 3 || got[0].EntryID != entries[3].EntryID || got[1].EntryID != entries[2].EntryID || got[2].EntryID != entries[0].EntryID {
		f.t.Fatalf("ListAudit about bo = %+v, want entries 3, 2, 0", got)
	}
	if got := list(confab.AuditFilter{ConversationID: c.ConversationID, UserID: bo.UserID, Before: entries[3].EntryID, Limit: 10}); len(got) != 1 || got[0].EntryID != entries[0].EntryID {
		f.t.Fatalf("ListAudit about bo in c before entry 3 = %+v, want entry 0", got)
	}
}
