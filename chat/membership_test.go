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

// team is a group conversation with one member of each role and a
// stranger.
type team struct {
	c                                         *confab.Conversation
	owner, admin, member, readOnly, peer, out confab.Identity // peer: a second MEMBER
}

func (e *env) team(t *testing.T) *team {
	t.Helper()
	ctx := context.Background()
	n := uuid.NewString()[:8] // usernames are unique; a test may make several teams
	tm := &team{owner: e.user(t, "owner"+n), admin: e.user(t, "admin"+n), member: e.user(t, "member"+n),
		readOnly: e.user(t, "reader"+n), peer: e.user(t, "peer"+n), out: e.user(t, "stranger"+n)}
	tm.c = e.conversation(t, tm.owner, tm.admin, tm.member, tm.readOnly, tm.peer)
	for who, role := range map[string]confab.Role{tm.admin.UserID: confab.RoleAdmin, tm.readOnly.UserID: confab.RoleReadOnly} {
		if _, err := e.svc.SetMemberRole(ctx, tm.owner, tm.c.ConversationID, who, role); err != nil {
			t.Fatalf("SetMemberRole %s: %v", role, err)
		}
	}
	return tm
}

func (tm *team) as(role string) confab.Identity {
	return map[string]confab.Identity{"OWNER": tm.owner, "ADMIN": tm.admin, "MEMBER": tm.member, "READ_ONLY": tm.readOnly, "non-member": tm.out}[role]
}

func roleOf(t *testing.T, e *env, convID, userID string) confab.Role {
	t.Helper()
	c, err := e.store.GetConversation(context.Background(), convID)
	if err != nil {
		t.Fatal(err)
	}
	m := c.Member(userID)
	if m == nil {
		return ""
	}
	return chat.RoleOf(c, m)
}

// TestMembership_RuleTable is every role (and a non-member) × every
// membership operation, each on a fresh conversation: who may, who gets
// FORBIDDEN, and NOT_FOUND for a non-member as for a missing
// conversation. Each allowed operation is checked for its effect.
func TestMembership_RuleTable(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, chat.Config{})
	roles := []string{"OWNER", "ADMIN", "MEMBER", "READ_ONLY", "non-member"}
	ops := []struct {
		name string
		want map[string]confab.Code // by role; "" allowed
		do   func(tm *team, caller confab.Identity) error
		// check verifies the effect of an allowed call.
		check func(t *testing.T, tm *team, caller confab.Identity)
	}{
		{"addMembers", map[string]confab.Code{"READ_ONLY": confab.CodeForbidden, "non-member": confab.CodeNotFound},
			func(tm *team, caller confab.Identity) error {
				res, err := e.svc.AddMembers(ctx, caller, tm.c.ConversationID, []string{tm.out.UserID}, nil)
				if err == nil && (len(res.Added) != 1 || res.Conversation.Member(tm.out.UserID) == nil) {
					t.Errorf("added = %v", res.Added)
				}
				return err
			},
			func(t *testing.T, tm *team, _ confab.Identity) {
				if r := roleOf(t, e, tm.c.ConversationID, tm.out.UserID); r != confab.RoleMember {
					t.Errorf("added with role %q, want MEMBER", r)
				}
				if _, err := e.svc.ListMessages(ctx, tm.out, tm.c.ConversationID, nil, nil); err != nil {
					t.Errorf("the new member cannot read: %v", err)
				}
			}},
		{"removeMember", map[string]confab.Code{"MEMBER": confab.CodeForbidden, "READ_ONLY": confab.CodeForbidden, "non-member": confab.CodeNotFound},
			func(tm *team, caller confab.Identity) error {
				_, err := e.svc.RemoveMember(ctx, caller, tm.c.ConversationID, tm.peer.UserID, nil)
				return err
			},
			func(t *testing.T, tm *team, _ confab.Identity) {
				_, err := e.svc.ListMessages(ctx, tm.peer, tm.c.ConversationID, nil, nil)
				wantCode(t, err, confab.CodeNotFound)
			}},
		{"leaveConversation", map[string]confab.Code{"non-member": confab.CodeNotFound},
			func(tm *team, caller confab.Identity) error {
				return e.svc.LeaveConversation(ctx, caller, tm.c.ConversationID)
			},
			func(t *testing.T, tm *team, caller confab.Identity) {
				_, err := e.svc.GetConversation(ctx, caller, tm.c.ConversationID)
				wantCode(t, err, confab.CodeNotFound)
				if caller == tm.owner {
					if r := roleOf(t, e, tm.c.ConversationID, tm.admin.UserID); r != confab.RoleOwner {
						t.Errorf("after the owner left, the admin is %q, want OWNER", r)
					}
				}
			}},
		{"setMemberRole", map[string]confab.Code{"MEMBER": confab.CodeForbidden, "READ_ONLY": confab.CodeForbidden, "non-member": confab.CodeNotFound},
			func(tm *team, caller confab.Identity) error {
				_, err := e.svc.SetMemberRole(ctx, caller, tm.c.ConversationID, tm.readOnly.UserID, confab.RoleMember)
				return err
			},
			func(t *testing.T, tm *team, _ confab.Identity) {
				if r := roleOf(t, e, tm.c.ConversationID, tm.readOnly.UserID); r != confab.RoleMember {
					t.Errorf("role = %q, want MEMBER", r)
				}
			}},
		{"transferOwnership", map[string]confab.Code{"ADMIN": confab.CodeForbidden, "MEMBER": confab.CodeForbidden,
			"READ_ONLY": confab.CodeForbidden, "non-member": confab.CodeNotFound},
			func(tm *team, caller confab.Identity) error {
				_, err := e.svc.TransferOwnership(ctx, caller, tm.c.ConversationID, tm.member.UserID)
				return err
			},
			func(t *testing.T, tm *team, _ confab.Identity) {
				if r := roleOf(t, e, tm.c.ConversationID, tm.member.UserID); r != confab.RoleOwner {
					t.Errorf("new owner's role = %q", r)
				}
				if r := roleOf(t, e, tm.c.ConversationID, tm.owner.UserID); r != confab.RoleAdmin {
					t.Errorf("old owner's role = %q, want ADMIN", r)
				}
			}},
		{"updateConversationSettings", map[string]confab.Code{"MEMBER": confab.CodeForbidden, "READ_ONLY": confab.CodeForbidden, "non-member": confab.CodeNotFound},
			func(tm *team, caller confab.Identity) error {
				_, err := e.svc.UpdateConversationSettings(ctx, caller, tm.c.ConversationID,
					chat.SettingsInput{Post: ptr(confab.RoleAdmin), SlowModeSeconds: ptr(30)})
				return err
			},
			func(t *testing.T, tm *team, _ confab.Identity) {
				c, err := e.store.GetConversation(ctx, tm.c.ConversationID)
				if err != nil || c.Settings.Post != confab.RoleAdmin || c.Settings.SlowMode != 30 {
					t.Errorf("settings = %+v (%v)", c.Settings, err)
				}
			}},
	}
	for _, op := range ops {
		for _, role := range roles {
			t.Run(op.name+"/"+role, func(t *testing.T) {
				tm := e.team(t)
				caller := tm.as(role)
				err := op.do(tm, caller)
				wantCode(t, err, op.want[role])
				if err == nil {
					op.check(t, tm, caller)
				}
			})
		}
	}
}

func ptr[T any](v T) *T { return &v }

// TestMembership_RankRules: what a role may do to a role at or above its
// own, and the inputs refused whoever asks.
func TestMembership_RankRules(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, chat.Config{})
	tm := e.team(t)
	id := tm.c.ConversationID
	other := e.user(t, "other-admin")
	if _, err := e.svc.AddMembers(ctx, tm.owner, id, []string{other.UserID}, ptr(confab.RoleAdmin)); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		err  error
		want confab.Code
	}{}
	add := func(name string, err error, want confab.Code) {
		cases = append(cases, struct {
			name string
			err  error
			want confab.Code
		}{name, err, want})
	}
	_, err := e.svc.RemoveMember(ctx, tm.admin, id, other.UserID, nil)
	add("admin removes admin", err, confab.CodeForbidden)
	_, err = e.svc.RemoveMember(ctx, tm.admin, id, tm.owner.UserID, nil)
	add("admin removes owner", err, confab.CodeForbidden)
	_, err = e.svc.SetMemberRole(ctx, tm.admin, id, other.UserID, confab.RoleMember)
	add("admin demotes admin", err, confab.CodeForbidden)
	_, err = e.svc.SetMemberRole(ctx, tm.admin, id, tm.member.UserID, confab.RoleAdmin)
	add("admin makes an admin", err, confab.CodeForbidden)
	_, err = e.svc.SetMemberRole(ctx, tm.owner, id, tm.member.UserID, confab.RoleOwner)
	add("OWNER by setMemberRole", err, confab.CodeInvalid)
	_, err = e.svc.SetMemberRole(ctx, tm.owner, id, tm.member.UserID, "KING")
	add("unknown role", err, confab.CodeInvalid)
	_, err = e.svc.AddMembers(ctx, tm.member, id, []string{e.user(t, "x").UserID}, ptr(confab.RoleAdmin))
	add("member adds an admin", err, confab.CodeForbidden)
	_, err = e.svc.AddMembers(ctx, tm.owner, id, []string{e.user(t, "y").UserID}, ptr(confab.RoleOwner))
	add("add as OWNER", err, confab.CodeInvalid)
	_, err = e.svc.AddMembers(ctx, tm.owner, id, nil, nil)
	add("add nobody", err, confab.CodeInvalid)
	many := make([]string, confab.MaxAddMembers+1)
	for i := range many {
		many[i] = tm.out.UserID
	}
	_, err = e.svc.AddMembers(ctx, tm.owner, id, many, nil)
	add("add more than MaxAddMembers", err, confab.CodeInvalid)
	_, err = e.svc.AddMembers(ctx, tm.owner, id, []string{"no-such-user"}, nil)
	add("add a missing user", err, confab.CodeInvalid)
	_, err = e.svc.UpdateConversationSettings(ctx, tm.owner, id, chat.SettingsInput{SlowModeSeconds: ptr(confab.MaxSlowMode + 1)})
	add("slow mode too long", err, confab.CodeInvalid)
	_, err = e.svc.UpdateConversationSettings(ctx, tm.owner, id, chat.SettingsInput{SlowModeSeconds: ptr(-1)})
	add("negative slow mode", err, confab.CodeInvalid)
	_, err = e.svc.RemoveMember(ctx, tm.owner, id, tm.owner.UserID, nil)
	add("remove oneself", err, confab.CodeInvalid)
	_, err = e.svc.RemoveMember(ctx, tm.owner, id, tm.out.UserID, nil)
	add("remove a non-member", err, confab.CodeNotFound)
	_, err = e.svc.RemoveMember(ctx, tm.owner, id, tm.member.UserID, ptr(strings.Repeat("x", confab.MaxReasonBytes+1)))
	add("reason too long", err, confab.CodeInvalid)
	_, err = e.svc.TransferOwnership(ctx, tm.owner, id, tm.out.UserID)
	add("transfer to a non-member", err, confab.CodeNotFound)
	for _, c := range cases {
		if got := confab.ErrorCode(c.err); got != c.want {
			t.Errorf("%s: %q (%v), want %q", c.name, got, c.err, c.want)
		}
	}

	// Settings: only admins add once addMembers is ADMIN.
	if _, err := e.svc.UpdateConversationSettings(ctx, tm.admin, id, chat.SettingsInput{AddMembers: ptr(confab.RoleAdmin)}); err != nil {
		t.Fatal(err)
	}
	_, err = e.svc.AddMembers(ctx, tm.member, id, []string{tm.out.UserID}, nil)
	wantCode(t, err, confab.CodeForbidden)
	if _, err := e.svc.AddMembers(ctx, tm.admin, id, []string{tm.out.UserID}, nil); err != nil {
		t.Fatalf("admin adds once addMembers is ADMIN: %v", err)
	}
}

// TestMembership_DirectAndArchived: a direct conversation gains and loses
// nobody; an archived one changes no membership.
func TestMembership_DirectAndArchived(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, chat.Config{})
	ann, bo, cy := e.user(t, "ann"), e.user(t, "bo"), e.user(t, "cy")
	d, err := e.svc.CreateDirectConversation(ctx, ann, nil, []string{bo.UserID})
	if err != nil {
		t.Fatal(err)
	}
	if !d.Direct || len(d.Members) != 2 {
		t.Fatalf("direct conversation: %+v", d)
	}
	again, err := e.svc.CreateDirectConversation(ctx, bo, nil, []string{ann.UserID})
	if err != nil || again.ConversationID != d.ConversationID {
		t.Fatalf("the pair's second create = %v (%v), want the existing %s", again, err, d.ConversationID)
	}
	_, err = e.svc.CreateDirectConversation(ctx, ann, nil, []string{bo.UserID, cy.UserID})
	wantCode(t, err, confab.CodeInvalid)
	_, err = e.svc.AddMembers(ctx, ann, d.ConversationID, []string{cy.UserID}, nil)
	wantCode(t, err, confab.CodeInvalid)
	_, err = e.svc.RemoveMember(ctx, ann, d.ConversationID, bo.UserID, nil)
	wantCode(t, err, confab.CodeInvalid)
	wantCode(t, e.svc.LeaveConversation(ctx, ann, d.ConversationID), confab.CodeInvalid)

	// A group of two stays a group.
	g := e.conversation(t, ann, bo)
	if g.Direct {
		t.Fatal("a two-person group is direct")
	}

	tm := e.team(t)
	if _, err := e.store.UpdateConversation(ctx, tm.c.ConversationID, tm.owner.UserID, confab.ConversationUpdate{Archived: ptr(true)}, time.Now().UTC()); err != nil {
		t.Fatal(err)
	}
	e.svc.MembershipChanged(ctx, tm.c.ConversationID)
	_, err = e.svc.AddMembers(ctx, tm.owner, tm.c.ConversationID, []string{tm.out.UserID}, nil)
	wantCode(t, err, confab.CodeForbidden)
	wantCode(t, e.svc.LeaveConversation(ctx, tm.member, tm.c.ConversationID), confab.CodeForbidden)
}

// TestMembership_OwnerLeaves: ownership passes to the longest-standing
// admin, else member; the last member leaving leaves it empty.
func TestMembership_OwnerLeaves(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, chat.Config{})
	ann, bo, cy := e.user(t, "ann"), e.user(t, "bo"), e.user(t, "cy")
	c := e.conversation(t, ann, bo, cy)
	heir := bo // members who joined together stand in UserID order
	if cy.UserID < bo.UserID {
		heir = cy
	}
	if err := e.svc.LeaveConversation(ctx, ann, c.ConversationID); err != nil {
		t.Fatal(err)
	}
	if r := roleOf(t, e, c.ConversationID, heir.UserID); r != confab.RoleOwner {
		t.Fatalf("without admins, the longest-standing member became %q, want OWNER", r)
	}
	for _, who := range []confab.Identity{bo, cy} {
		if err := e.svc.LeaveConversation(ctx, who, c.ConversationID); err != nil {
			t.Fatal(err)
		}
	}
	after, err := e.store.GetConversation(ctx, c.ConversationID)
	if err != nil || len(after.Members) != 0 {
		t.Fatalf("after everyone left: %+v (%v), want an empty conversation", after, err)
	}
}

// TestMembership_Audit: actions on others are in the audit log; leaving
// is not.
func TestMembership_Audit(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, chat.Config{})
	tm := e.team(t)
	id := tm.c.ConversationID
	if _, err := e.svc.AddMembers(ctx, tm.admin, id, []string{tm.out.UserID}, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.RemoveMember(ctx, tm.admin, id, tm.out.UserID, ptr("spam")); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.UpdateConversationSettings(ctx, tm.admin, id, chat.SettingsInput{SlowModeSeconds: ptr(5)}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.TransferOwnership(ctx, tm.owner, id, tm.admin.UserID); err != nil {
		t.Fatal(err)
	}
	if err := e.svc.LeaveConversation(ctx, tm.member, id); err != nil {
		t.Fatal(err)
	}
	entries, err := e.store.ListAudit(ctx, confab.AuditFilter{ConversationID: id, Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, en := range entries {
		got = append(got, string(en.Action))
		if en.Action == confab.AuditMemberRemoved && (en.Reason != "spam" || en.ActorID != tm.admin.UserID || en.UserID != tm.out.UserID) {
			t.Errorf("removal entry: %+v", en)
		}
	}
	want := "OWNER_TRANSFERRED SETTINGS_CHANGED MEMBER_REMOVED MEMBER_ADDED ROLE_CHANGED ROLE_CHANGED" // newest first; the team's roles last
	if strings.Join(got, " ") != want {
		t.Fatalf("audit log = %v, want %s", got, want)
	}
}

// TestMembership_MaxMembers: a conversation holds at most
// confab.MaxMembers; adding beyond is RATE_LIMITED (a limit, not bad
// input) and adds nobody.
func TestMembership_MaxMembers(t *testing.T) {
	if testing.Short() {
		t.Skip("creates a thousand accounts")
	}
	ctx := context.Background()
	e := newEnv(t, chat.Config{})
	owner := e.user(t, "owner")
	c := e.conversation(t, owner)
	var batch []string
	for i := range confab.MaxMembers {
		batch = append(batch, e.user(t, fmt.Sprint("u", i)).UserID)
		if len(batch) == confab.MaxAddMembers || i == confab.MaxMembers-1 {
			_, err := e.svc.AddMembers(ctx, owner, c.ConversationID, batch, nil)
			if i < confab.MaxMembers-1 && err != nil {
				t.Fatalf("adding member %d: %v", i, err)
			}
			if i == confab.MaxMembers-1 {
				wantCode(t, err, confab.CodeLimited) // the owner makes it MaxMembers+1
			}
			batch = batch[:0]
		}
	}
	after, err := e.store.GetConversation(ctx, c.ConversationID)
	if err != nil || len(after.Members) != confab.MaxMembers-confab.MaxAddMembers+1 {
		t.Fatalf("members after the refused call: %d (%v), want %d", len(after.Members), err, confab.MaxMembers-confab.MaxAddMembers+1)
	}
}
