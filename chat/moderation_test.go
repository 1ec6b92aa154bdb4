package chat_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/confab-chat/confab"
	"github.com/confab-chat/confab/chat"
	"github.com/google/uuid"
)

// cast is the people of a moderation test: one of each role in a group
// conversation, a target MEMBER to act on, an outsider and a server admin
// who is not a member.
type cast struct {
	owner, admin, admin2, member, readOnly, target, outsider, serverAdmin confab.Identity
}

func (e *env) cast(t *testing.T) cast {
	t.Helper()
	k := cast{
		owner: e.user(t, "owner"), admin: e.user(t, "admin"), admin2: e.user(t, "admin2"), member: e.user(t, "member"),
		readOnly: e.user(t, "readonly"), target: e.user(t, "target"), outsider: e.user(t, "outsider"),
		serverAdmin: e.user(t, "root"),
	}
	e.makeServerAdmin(t, k.serverAdmin)
	return k
}

func (e *env) makeServerAdmin(t *testing.T, who confab.Identity) {
	t.Helper()
	yes := true
	if _, err := e.store.UpdateUser(context.Background(), who.UserID, confab.UserUpdate{Admin: &yes, UpdatedAt: time.Now().UTC()}); err != nil {
		t.Fatal(err)
	}
}

// group creates, in the store, a group conversation of k with settings:
// each member with their role from the start, so no cache of the service
// has seen it otherwise.
func (e *env) group(t *testing.T, k cast, settings confab.ConversationSettings) *confab.Conversation {
	t.Helper()
	now := time.Now().UTC().Truncate(time.Millisecond)
	c := &confab.Conversation{ConversationID: uuid.Must(uuid.NewV7()).String(), CreatedBy: k.owner.UserID, CreatedAt: now, Settings: settings}
	for _, m := range []struct {
		who  confab.Identity
		role confab.Role
	}{{k.owner, confab.RoleOwner}, {k.admin, confab.RoleAdmin}, {k.admin2, confab.RoleAdmin}, {k.member, confab.RoleMember}, {k.readOnly, confab.RoleReadOnly}, {k.target, confab.RoleMember}} {
		c.Members = append(c.Members, confab.Member{UserID: m.who.UserID, Role: m.role, JoinedAt: now})
	}
	if err := e.store.InsertConversation(context.Background(), c); err != nil {
		t.Fatal(err)
	}
	return c
}

// TestModeration_RuleTable is every role (and a non-member and a server
// admin who is not a member) × every moderation operation on a MEMBER.
func TestModeration_RuleTable(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, chat.Config{})
	k := e.cast(t)
	later := time.Now().Add(time.Hour)
	reason := "spam"
	ops := []struct {
		name string
		// setup prepares the conversation (as its owner) and returns the
		// operation to try as the actor.
		setup func(t *testing.T, cid string) func(actor confab.Identity) error
	}{
		{"deleteOthers", func(t *testing.T, cid string) func(confab.Identity) error {
			m := e.send(t, k.target, cid, "rude")
			return func(a confab.Identity) error { _, err := e.svc.DeleteMessage(ctx, a, cid, m.MessageID); return err }
		}},
		{"mute", func(t *testing.T, cid string) func(confab.Identity) error {
			return func(a confab.Identity) error {
				_, err := e.svc.MuteMember(ctx, a, cid, k.target.UserID, later, &reason)
				return err
			}
		}},
		{"unmute", func(t *testing.T, cid string) func(confab.Identity) error {
			if _, err := e.svc.MuteMember(ctx, k.owner, cid, k.target.UserID, later, nil); err != nil {
				t.Fatal(err)
			}
			return func(a confab.Identity) error { _, err := e.svc.UnmuteMember(ctx, a, cid, k.target.UserID); return err }
		}},
		{"ban", func(t *testing.T, cid string) func(confab.Identity) error {
			return func(a confab.Identity) error { return e.svc.BanMember(ctx, a, cid, k.target.UserID, nil, &reason) }
		}},
		{"unban", func(t *testing.T, cid string) func(confab.Identity) error {
			if err := e.svc.BanMember(ctx, k.owner, cid, k.target.UserID, nil, nil); err != nil {
				t.Fatal(err)
			}
			return func(a confab.Identity) error {
				lifted, err := e.svc.UnbanMember(ctx, a, cid, k.target.UserID)
				if err == nil && !lifted {
					t.Error("unban lifted nothing")
				}
				return err
			}
		}},
		{"auditLog", func(t *testing.T, cid string) func(confab.Identity) error {
			return func(a confab.Identity) error { _, err := e.svc.ConversationAuditLog(ctx, a, cid, nil, nil); return err }
		}},
		{"bans", func(t *testing.T, cid string) func(confab.Identity) error {
			return func(a confab.Identity) error { _, err := e.svc.ConversationBans(ctx, a, cid); return err }
		}},
	}
	actors := []struct {
		name  string
		who   confab.Identity
		allow confab.Code // "" allowed
	}{
		{"OWNER", k.owner, ""},
		{"ADMIN", k.admin, ""},
		{"MEMBER", k.member, confab.CodeForbidden},
		{"READ_ONLY", k.readOnly, confab.CodeForbidden},
		{"non-member", k.outsider, confab.CodeNotFound},
		{"server admin", k.serverAdmin, ""},
	}
	for _, op := range ops {
		for _, a := range actors {
			t.Run(op.name+"/"+a.name, func(t *testing.T) {
				c := e.group(t, k, confab.ConversationSettings{})
				try := op.setup(t, c.ConversationID)
				wantCode(t, try(a.who), a.allow)
			})
		}
	}
}

// TestModeration_Ranks: a moderator acts only on members below their own
// role; an ADMIN never on another ADMIN or the OWNER; the OWNER and server
// admins on anyone but themselves. Mutes and deletes follow the same rule.
func TestModeration_Ranks(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, chat.Config{})
	k := e.cast(t)
	later := time.Now().Add(time.Hour)
	cases := []struct {
		name           string
		actor, subject confab.Identity
		want           confab.Code
	}{
		{"admin on owner", k.admin, k.owner, confab.CodeForbidden},
		{"admin on admin", k.admin, k.admin2, confab.CodeForbidden},
		{"admin on member", k.admin, k.member, ""},
		{"owner on admin", k.owner, k.admin, ""},
		{"server admin on owner", k.serverAdmin, k.owner, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := e.group(t, k, confab.ConversationSettings{})
			m := e.send(t, tc.subject, c.ConversationID, "hello")
			_, err := e.svc.DeleteMessage(ctx, tc.actor, c.ConversationID, m.MessageID)
			wantCode(t, err, tc.want)
			_, err = e.svc.MuteMember(ctx, tc.actor, c.ConversationID, tc.subject.UserID, later, nil)
			wantCode(t, err, tc.want)
		})
	}
	c := e.group(t, k, confab.ConversationSettings{})
	_, err := e.svc.MuteMember(ctx, k.owner, c.ConversationID, k.owner.UserID, later, nil)
	wantCode(t, err, confab.CodeInvalid) // not themselves
	_, err = e.svc.MuteMember(ctx, k.admin, c.ConversationID, k.outsider.UserID, later, nil)
	wantCode(t, err, confab.CodeNotFound) // a mute needs a member
}

// changed tells the service that the conversation was changed in the
// store behind its back, as every node learns of a change (the in-process
// broker delivers before Publish returns).
func (e *env) changed(t *testing.T, conversationID string) {
	t.Helper()
	err := e.broker.Publish(context.Background(), confab.ControlTopic, &confab.Event{Kind: confab.EventMembershipChanged, ConversationID: conversationID, At: time.Now()})
	if err != nil {
		t.Fatal(err)
	}
}

// TestModeration_PostingRules: roles, settings, mutes, archiving and slow
// mode decide who may post, edit and react.
func TestModeration_PostingRules(t *testing.T) {
	ctx := context.Background()
	t0 := time.Date(2026, 12, 3, 9, 0, 0, 0, time.UTC)
	clock := &fakeClock{t: t0}
	e := newEnv(t, chat.Config{}, chat.WithClock(clock.Now))
	k := e.cast(t)
	send := func(who confab.Identity, cid string) (*confab.Message, error) {
		return e.svc.SendMessage(ctx, who, chat.SendMessageInput{ConversationID: cid, Content: "hi"})
	}
	react := func(who confab.Identity, m *confab.Message) error {
		_, err := e.svc.AddReaction(ctx, who, m.ConversationID, m.MessageID, "👍")
		return err
	}
	edit := func(who confab.Identity, m *confab.Message) error {
		_, err := e.svc.EditMessage(ctx, who, m.ConversationID, m.MessageID, "edited at "+clock.Now().String())
		return err
	}

	t.Run("read-only", func(t *testing.T) {
		c := e.group(t, k, confab.ConversationSettings{})
		m := e.send(t, k.member, c.ConversationID, "hello")
		_, err := send(k.readOnly, c.ConversationID)
		wantCode(t, err, confab.CodeForbidden)
		wantCode(t, react(k.readOnly, m), confab.CodeForbidden)

		// Settings may let read-only members react, never post.
		c = e.group(t, k, confab.ConversationSettings{React: confab.RoleReadOnly, Post: confab.RoleReadOnly})
		m = e.send(t, k.member, c.ConversationID, "hello")
		wantCode(t, react(k.readOnly, m), "")
		_, err = send(k.readOnly, c.ConversationID)
		wantCode(t, err, confab.CodeForbidden)
	})

	t.Run("announcement", func(t *testing.T) {
		c := e.group(t, k, confab.ConversationSettings{Post: confab.RoleAdmin})
		_, err := send(k.member, c.ConversationID)
		wantCode(t, err, confab.CodeForbidden)
		m := e.send(t, k.admin, c.ConversationID, "news")
		e.send(t, k.owner, c.ConversationID, "more news")
		wantCode(t, react(k.member, m), "") // reacting stays open to members
	})

	t.Run("muted until a time", func(t *testing.T) {
		clock.Set(t0)
		c := e.group(t, k, confab.ConversationSettings{})
		m := e.send(t, k.target, c.ConversationID, "before")
		until := t0.Add(time.Hour)
		if _, err := e.svc.MuteMember(ctx, k.admin, c.ConversationID, k.target.UserID, until, nil); err != nil {
			t.Fatal(err)
		}
		_, err := send(k.target, c.ConversationID)
		wantCode(t, err, confab.CodeForbidden)
		if !strings.Contains(confab.ErrorMessage(err), "2026-12-03T10:00:00Z") {
			t.Errorf("mute refusal %q does not name its end", confab.ErrorMessage(err))
		}
		wantCode(t, react(k.target, m), confab.CodeForbidden)
		wantCode(t, edit(k.target, m), confab.CodeForbidden)
		e.send(t, k.member, c.ConversationID, "others still talk")

		clock.Set(until.Add(-time.Millisecond))
		_, err = send(k.target, c.ConversationID)
		wantCode(t, err, confab.CodeForbidden)
		clock.Set(until)
		e.send(t, k.target, c.ConversationID, "after")
		wantCode(t, react(k.target, m), "")
		wantCode(t, edit(k.target, m), "")
	})

	t.Run("unmuted", func(t *testing.T) {
		clock.Set(t0)
		c := e.group(t, k, confab.ConversationSettings{})
		if _, err := e.svc.MuteMember(ctx, k.admin, c.ConversationID, k.target.UserID, t0.Add(time.Hour), nil); err != nil {
			t.Fatal(err)
		}
		got, err := e.svc.UnmuteMember(ctx, k.admin, c.ConversationID, k.target.UserID)
		if err != nil {
			t.Fatal(err)
		}
		if m := got.Member(k.target.UserID); m.MutedUntil != nil && m.MutedUntil.After(t0) {
			t.Errorf("MutedUntil = %v after unmute", m.MutedUntil)
		}
		e.send(t, k.target, c.ConversationID, "back")
	})

	t.Run("archived", func(t *testing.T) {
		clock.Set(t0)
		c := e.group(t, k, confab.ConversationSettings{})
		m := e.send(t, k.owner, c.ConversationID, "last words")
		yes := true
		if _, err := e.store.UpdateConversation(ctx, c.ConversationID, k.serverAdmin.UserID, confab.ConversationUpdate{Archived: &yes}, t0); err != nil {
			t.Fatal(err)
		}
		e.changed(t, c.ConversationID)
		for _, who := range []confab.Identity{k.owner, k.admin, k.member} {
			_, err := send(who, c.ConversationID)
			wantCode(t, err, confab.CodeForbidden)
			wantCode(t, react(who, m), confab.CodeForbidden)
		}
		wantCode(t, edit(k.owner, m), confab.CodeForbidden)
		_, err := e.svc.DeleteMessage(ctx, k.owner, c.ConversationID, m.MessageID)
		wantCode(t, err, confab.CodeForbidden)
		if _, err := e.svc.GetMessage(ctx, k.member, c.ConversationID, m.MessageID); err != nil {
			t.Errorf("reading an archived conversation: %v", err)
		}
	})

	t.Run("slow mode", func(t *testing.T) {
		clock.Set(t0)
		c := e.group(t, k, confab.ConversationSettings{SlowMode: 10})
		e.send(t, k.member, c.ConversationID, "one")
		clock.Set(t0.Add(4 * time.Second))
		_, err := send(k.member, c.ConversationID)
		wantCode(t, err, confab.CodeLimited)
		if d := confab.RetryAfter(err); d != 6*time.Second {
			t.Errorf("RetryAfter = %v, want the 6s left of 10", d)
		}
		e.send(t, k.target, c.ConversationID, "another member is not slowed by it")
		for range 3 { // admins and the owner are never slowed
			e.send(t, k.admin, c.ConversationID, "admin")
			e.send(t, k.owner, c.ConversationID, "owner")
		}
		clock.Set(t0.Add(10 * time.Second))
		e.send(t, k.member, c.ConversationID, "two")
		got, err := e.svc.GetConversation(ctx, k.member, c.ConversationID)
		if err != nil {
			t.Fatal(err)
		}
		if got.MessageCount != 9 {
			t.Errorf("MessageCount = %d, want 9: the refused send wrote nothing", got.MessageCount)
		}
	})
}

// TestModeration_AuditLog: every moderation action is in the
// conversation's audit log, newest first: who did what to whom, when and
// why; the log pages with an opaque token bound to the conversation.
func TestModeration_AuditLog(t *testing.T) {
	ctx := context.Background()
	t0 := time.Date(2026, 12, 3, 9, 0, 0, 0, time.UTC)
	clock := &fakeClock{t: t0}
	e := newEnv(t, chat.Config{}, chat.WithClock(clock.Now))
	k := e.cast(t)
	c := e.group(t, k, confab.ConversationSettings{})
	cid := c.ConversationID
	rec := e.record(t, cid)
	step := func(i int) time.Time { at := t0.Add(time.Duration(i) * time.Minute); clock.Set(at); return at }
	flood, again := "flood", "again"
	muteEnd := t0.Add(2 * time.Hour)

	m := e.send(t, k.target, cid, "rude")
	step(1)
	if _, err := e.svc.MuteMember(ctx, k.admin, cid, k.target.UserID, muteEnd, &flood); err != nil {
		t.Fatal(err)
	}
	step(2)
	if _, err := e.svc.UnmuteMember(ctx, k.admin, cid, k.target.UserID); err != nil {
		t.Fatal(err)
	}
	step(3)
	deleted, err := e.svc.DeleteMessage(ctx, k.owner, cid, m.MessageID)
	if err != nil {
		t.Fatal(err)
	}
	if deleted.DeletedBy != k.owner.UserID {
		t.Errorf("DeletedBy = %q, want the moderator", deleted.DeletedBy)
	}
	step(4)
	if err := e.svc.BanMember(ctx, k.serverAdmin, cid, k.target.UserID, nil, &again); err != nil {
		t.Fatal(err)
	}
	step(5)
	if _, err := e.svc.UnbanMember(ctx, k.owner, cid, k.target.UserID); err != nil {
		t.Fatal(err)
	}

	want := []confab.AuditEntry{ // newest first
		{At: t0.Add(5 * time.Minute), ActorID: k.owner.UserID, Action: confab.AuditUserUnbanned, UserID: k.target.UserID},
		{At: t0.Add(4 * time.Minute), ActorID: k.serverAdmin.UserID, Action: confab.AuditUserBanned, UserID: k.target.UserID, Reason: again},
		{At: t0.Add(3 * time.Minute), ActorID: k.owner.UserID, Action: confab.AuditMessageDeleted, UserID: k.target.UserID, MessageID: m.MessageID},
		{At: t0.Add(2 * time.Minute), ActorID: k.admin.UserID, Action: confab.AuditMemberUnmuted, UserID: k.target.UserID},
		{At: t0.Add(1 * time.Minute), ActorID: k.admin.UserID, Action: confab.AuditMemberMuted, UserID: k.target.UserID, Reason: flood, Until: &muteEnd},
	}
	var got []*confab.AuditEntry
	two := 2
	var token *string
	for pages := 0; ; pages++ {
		page, err := e.svc.ConversationAuditLog(ctx, k.admin, cid, &two, token)
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, page.Items...)
		if page.NextToken == nil {
			if pages != 2 {
				t.Errorf("%d pages of 2 for 5 entries, want 3", pages+1)
			}
			break
		}
		token = page.NextToken
	}
	if len(got) != len(want) {
		t.Fatalf("audit log has %d entries, want %d: %+v", len(got), len(want), got)
	}
	for i, w := range want {
		g := got[i]
		if g.EntryID == "" || g.ConversationID != cid || !g.At.Equal(w.At) || g.ActorID != w.ActorID || g.Action != w.Action ||
			g.UserID != w.UserID || g.MessageID != w.MessageID || g.Reason != w.Reason || !sameTime(g.Until, w.Until) {
			t.Errorf("entry %d = %+v\nwant %+v", i, *g, w)
		}
	}

	// The tombstone in the change log says who deleted the message.
	changes, err := e.store.ListChanges(ctx, cid, 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	for _, ch := range changes {
		if ch.Kind == confab.ChangeMessageDeleted && (ch.Message == nil || ch.Message.DeletedBy != k.owner.UserID || ch.UserID != k.owner.UserID) {
			t.Errorf("MESSAGE_DELETED change %+v: want the moderator as its author and the tombstone's DeletedBy", ch)
		}
	}
	// The mute and the ban were published as member changes.
	var kinds []confab.ChangeKind
	for _, ch := range rec.changes() {
		if ch.MemberID == k.target.UserID {
			kinds = append(kinds, ch.Kind)
		}
	}
	if want := []confab.ChangeKind{confab.ChangeMemberUpdated, confab.ChangeMemberUpdated, confab.ChangeMemberRemoved}; !equalKinds(kinds, want) {
		t.Errorf("member changes published = %v, want %v", kinds, want)
	}

	// A token is bound to its conversation.
	other := e.group(t, k, confab.ConversationSettings{})
	_, err = e.svc.ConversationAuditLog(ctx, k.admin, other.ConversationID, &two, token)
	wantCode(t, err, confab.CodeInvalid)
	zero := 0
	_, err = e.svc.ConversationAuditLog(ctx, k.admin, cid, &zero, nil)
	wantCode(t, err, confab.CodeInvalid)
}

func sameTime(a, b *time.Time) bool {
	if a == nil || b == nil {
		return a == b
	}
	return a.Equal(*b)
}

func equalKinds(a, b []confab.ChangeKind) bool {
	return strings.Join(kindStrings(a), ",") == strings.Join(kindStrings(b), ",")
}

func kindStrings(ks []confab.ChangeKind) []string {
	out := make([]string, len(ks))
	for i, k := range ks {
		out[i] = string(k)
	}
	return out
}

// TestModeration_Ban: a banned member is removed at once and can neither
// read nor post; a timed ban must end within a year; bans are listed
// while they hold; a user may be banned before joining; direct
// conversations never lose members.
func TestModeration_Ban(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	t0 := time.Date(2026, 12, 3, 9, 0, 0, 0, time.UTC)
	clock := &fakeClock{t: t0}
	e := newEnv(t, chat.Config{}, chat.WithClock(clock.Now))
	k := e.cast(t)
	c := e.group(t, k, confab.ConversationSettings{})
	cid := c.ConversationID
	updates, err := e.svc.OnConversationUpdated(ctx, k.target, k.target.UserID)
	if err != nil {
		t.Fatal(err)
	}

	tooLate := t0.Add(366 * 24 * time.Hour)
	wantCode(t, e.svc.BanMember(ctx, k.owner, cid, k.target.UserID, &tooLate, nil), confab.CodeInvalid)
	past := t0.Add(-time.Second)
	wantCode(t, e.svc.BanMember(ctx, k.owner, cid, k.target.UserID, &past, nil), confab.CodeInvalid)
	long := strings.Repeat("x", confab.MaxReasonBytes+1)
	wantCode(t, e.svc.BanMember(ctx, k.owner, cid, k.target.UserID, nil, &long), confab.CodeInvalid)
	wantCode(t, e.svc.BanMember(ctx, k.owner, cid, uuid.NewString(), nil, nil), confab.CodeNotFound)

	day := t0.Add(24 * time.Hour)
	if err := e.svc.BanMember(ctx, k.owner, cid, k.target.UserID, &day, nil); err != nil {
		t.Fatal(err)
	}
	select {
	case got := <-updates:
		if got.ConversationID != cid || got.Member(k.target.UserID) != nil {
			t.Errorf("the banned user was told %+v, want the conversation without them", got)
		}
	case <-time.After(5 * time.Second):
		t.Error("the banned user's onConversationUpdated had nothing")
	}
	_, err = e.svc.SendMessage(ctx, k.target, chat.SendMessageInput{ConversationID: cid, Content: "let me in"})
	wantCode(t, err, confab.CodeNotFound)
	_, err = e.svc.ListMessages(ctx, k.target, cid, nil, nil)
	wantCode(t, err, confab.CodeNotFound)

	// A ban ahead of joining, for good.
	clock.Set(t0.Add(time.Minute))
	if err := e.svc.BanMember(ctx, k.admin, cid, k.outsider.UserID, nil, nil); err != nil {
		t.Fatal(err)
	}
	bans, err := e.svc.ConversationBans(ctx, k.admin, cid)
	if err != nil {
		t.Fatal(err)
	}
	if len(bans) != 2 || bans[0].UserID != k.outsider.UserID || bans[0].Until != nil || bans[1].UserID != k.target.UserID || !sameTime(bans[1].Until, &day) {
		t.Errorf("bans = %s, want the outsider's for good, then the target's for a day", fmtBans(bans))
	}
	clock.Set(day)
	if bans, err = e.svc.ConversationBans(ctx, k.admin, cid); err != nil || len(bans) != 1 {
		t.Errorf("bans once the day is over = %+v, %v: want only the one for good", bans, err)
	}
	lifted, err := e.svc.UnbanMember(ctx, k.admin, cid, k.member.UserID)
	if err != nil || lifted {
		t.Errorf("unban of someone not banned = %v, %v; want false", lifted, err)
	}

	direct := &confab.Conversation{ConversationID: uuid.Must(uuid.NewV7()).String(), CreatedBy: k.owner.UserID, CreatedAt: t0, Direct: true,
		Members: []confab.Member{{UserID: k.owner.UserID, Role: confab.RoleOwner, JoinedAt: t0}, {UserID: k.member.UserID, Role: confab.RoleMember, JoinedAt: t0}}}
	if err := e.store.InsertConversation(ctx, direct); err != nil {
		t.Fatal(err)
	}
	wantCode(t, e.svc.BanMember(ctx, k.owner, direct.ConversationID, k.member.UserID, nil, nil), confab.CodeForbidden) // no moderators of its own
	wantCode(t, e.svc.BanMember(ctx, k.serverAdmin, direct.ConversationID, k.member.UserID, nil, nil), confab.CodeInvalid)
}

func fmtBans(bans []*confab.Ban) string {
	var b strings.Builder
	for _, ban := range bans {
		fmt.Fprintf(&b, "{%s until %v by %s} ", ban.UserID, ban.Until, ban.BannedBy)
	}
	return b.String()
}
