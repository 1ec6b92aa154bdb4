package admin_test

import (
	"bytes"
	"slices"
	"testing"
	"time"

	"github.com/confab-chat/confab"
	"github.com/confab-chat/confab/admin"
	"github.com/confab-chat/confab/auth"
)

// TestService_RefusesNonAdmins: every operation refuses a user who is not
// a server administrator (FORBIDDEN), nobody (UNAUTHENTICATED) and a
// server without the admin API (a nil Service: FORBIDDEN), and changes
// nothing.
func TestService_RefusesNonAdmins(t *testing.T) {
	e := newEnv(t)
	alice, bob := e.user(t, "alice"), e.user(t, "bob")
	c := e.conversation(t, alice, bob)
	if err := e.st.InsertReport(ctx, &confab.Report{ReportID: "r1", ReporterID: bob.UserID, UserID: alice.UserID, Reason: "spam", CreatedAt: time.Now().UTC().Truncate(time.Millisecond), Status: confab.ReportOpen}); err != nil {
		t.Fatal(err)
	}
	ops := map[string]func(*admin.Service, admin.Actor) error{
		"ListUsers": func(s *admin.Service, a admin.Actor) error { _, err := s.ListUsers(ctx, a, "", nil, nil); return err },
		"GetUser":   func(s *admin.Service, a admin.Actor) error { _, err := s.GetUser(ctx, a, bob.UserID); return err },
		"SetUserDisabled": func(s *admin.Service, a admin.Actor) error {
			_, err := s.SetUserDisabled(ctx, a, bob.UserID, true, "")
			return err
		},
		"DeleteUser": func(s *admin.Service, a admin.Actor) error { return s.DeleteUser(ctx, a, bob.UserID, true, "") },
		"ResetPassword": func(s *admin.Service, a admin.Actor) error {
			_, err := s.ResetPassword(ctx, a, bob.UserID)
			return err
		},
		"SignOutUser": func(s *admin.Service, a admin.Actor) error { return s.SignOutUser(ctx, a, bob.UserID) },
		"SetAdmin": func(s *admin.Service, a admin.Actor) error {
			_, err := s.SetAdmin(ctx, a, alice.UserID, true)
			return err
		},
		"BanUser": func(s *admin.Service, a admin.Actor) error {
			_, err := s.BanUser(ctx, a, bob.UserID, nil, "")
			return err
		},
		"UnbanUser": func(s *admin.Service, a admin.Actor) error { _, err := s.UnbanUser(ctx, a, bob.UserID); return err },
		"ListConversations": func(s *admin.Service, a admin.Actor) error {
			_, err := s.ListConversations(ctx, a, nil, nil)
			return err
		},
		"GetConversation": func(s *admin.Service, a admin.Actor) error {
			_, err := s.GetConversation(ctx, a, c.ConversationID)
			return err
		},
		"SetArchived": func(s *admin.Service, a admin.Actor) error {
			_, err := s.SetArchived(ctx, a, c.ConversationID, true)
			return err
		},
		"DeleteConversation": func(s *admin.Service, a admin.Actor) error {
			return s.DeleteConversation(ctx, a, c.ConversationID, "")
		},
		"ListReports": func(s *admin.Service, a admin.Actor) error { _, err := s.ListReports(ctx, a, "", nil, nil); return err },
		"ResolveReport": func(s *admin.Service, a admin.Actor) error {
			_, err := s.ResolveReport(ctx, a, "r1", confab.ReportDismissed, "")
			return err
		},
		"ReportMessage": func(s *admin.Service, a admin.Actor) error {
			_, err := s.ReportMessage(ctx, a, &confab.Report{})
			return err
		},
		"ListAudit": func(s *admin.Service, a admin.Actor) error {
			_, err := s.ListAudit(ctx, a, "", "", nil, nil)
			return err
		},
		"Usage":      func(s *admin.Service, a admin.Actor) error { _, err := s.Usage(ctx, a, nil, nil); return err },
		"ExportUser": func(s *admin.Service, a admin.Actor) error { return s.ExportUser(ctx, a, bob.UserID, &bytes.Buffer{}) },
	}
	actors := []struct {
		name string
		svc  *admin.Service
		a    admin.Actor
		want confab.Code
	}{
		{"Member", e.svc, admin.Caller(alice), confab.CodeForbidden},
		{"Nobody", e.svc, admin.Actor{}, confab.CodeUnauthenticated},
		{"UnknownUser", e.svc, admin.Caller(confab.Identity{UserID: "ghost"}), confab.CodeForbidden},
		{"NoAdminAPI", nil, admin.CommandLine(), confab.CodeForbidden},
	}
	for _, ac := range actors {
		for name, op := range ops {
			t.Run(ac.name+"/"+name, func(t *testing.T) { wantCode(t, op(ac.svc, ac.a), ac.want) })
		}
	}
	if got := e.auditActions(t, ""); len(got) != 0 {
		t.Errorf("audit log after refusals: %v, want empty", got)
	}
	if u, err := e.svc.GetUser(ctx, admin.CommandLine(), bob.UserID); err != nil || u.Disabled || u.User.Admin {
		t.Errorf("bob after refusals: %+v, %v; want enabled, no admin", u, err)
	}
	if _, err := e.st.GetConversation(ctx, c.ConversationID); err != nil {
		t.Errorf("conversation after refusals: %v", err)
	}
}

// TestService_ListUsers: prefix search on username, e-mail address and
// user id, in UserID order, paged.
func TestService_ListUsers(t *testing.T) {
	e := newEnv(t)
	root := e.admin(t, "root")
	ann, anna, bob := e.user(t, "ann"), e.user(t, "anna"), e.user(t, "bob")
	a := admin.Caller(root)
	ids := func(p *admin.UserPage) []string {
		var out []string
		for _, u := range p.Items {
			out = append(out, u.User.UserID)
		}
		return out
	}
	sorted := func(ids ...string) []string { slices.Sort(ids); return ids }

	p, err := e.svc.ListUsers(ctx, a, "an", nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := ids(p), sorted(ann.UserID, anna.UserID); !slices.Equal(got, want) || p.NextToken != nil {
		t.Errorf("search an = %v (next %v), want %v", got, p.NextToken, want)
	}
	p, _ = e.svc.ListUsers(ctx, a, "BOB@EXAMPLE", nil, nil)
	if got := ids(p); !slices.Equal(got, []string{bob.UserID}) {
		t.Errorf("search by e-mail = %v, want bob", got)
	}
	p, _ = e.svc.ListUsers(ctx, a, bob.UserID[:8], nil, nil)
	if got := ids(p); !slices.Contains(got, bob.UserID) {
		t.Errorf("search by id prefix = %v, want bob among them", got)
	}

	var all []string
	var next *string
	for range 5 {
		p, err := e.svc.ListUsers(ctx, a, "", ptr(3), next)
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, ids(p)...)
		if next = p.NextToken; next == nil {
			break
		}
	}
	if want := sorted(root.UserID, ann.UserID, anna.UserID, bob.UserID); !slices.Equal(all, want) {
		t.Errorf("pages = %v, want %v", all, want)
	}

	_, err = e.svc.ListUsers(ctx, a, "", ptr(0), nil)
	wantCode(t, err, confab.CodeInvalid)
	_, err = e.svc.ListUsers(ctx, a, "", nil, ptr("bad\x00token"))
	wantCode(t, err, confab.CodeInvalid)
}

// TestService_SetUserDisabled: a disabled account cannot sign in, its
// tokens stop working, and it can be enabled again; both are audited.
func TestService_SetUserDisabled(t *testing.T) {
	e := newEnv(t)
	root := e.admin(t, "root")
	u, err := e.auth.SignUp(ctx, authSignUp("carol"), "")
	if err != nil {
		t.Fatal(err)
	}
	tok, err := e.auth.Login(ctx, "carol@example.com", testPassword, "")
	if err != nil {
		t.Fatal(err)
	}
	got, err := e.svc.SetUserDisabled(ctx, admin.Caller(root), "carol", true, "spam")
	if err != nil || !got.Disabled {
		t.Fatalf("disable = %+v, %v", got, err)
	}
	if _, err := e.auth.Verify(tok.AccessToken); err == nil {
		t.Error("a disabled account's token still verifies")
	}
	_, err = e.auth.Login(ctx, "carol@example.com", testPassword, "")
	wantCode(t, err, confab.CodeUnauthenticated)

	if got, err = e.svc.SetUserDisabled(ctx, admin.Caller(root), u.UserID, false, ""); err != nil || got.Disabled {
		t.Fatalf("enable = %+v, %v", got, err)
	}
	if _, err := e.auth.Login(ctx, "carol@example.com", testPassword, ""); err != nil {
		t.Errorf("sign-in after enable: %v", err)
	}
	if got, want := e.auditActions(t, u.UserID), []confab.AuditAction{confab.AuditUserEnabled, confab.AuditUserDisabled}; !slices.Equal(got, want) {
		t.Errorf("audit = %v, want %v", got, want)
	}
	list, _ := e.st.ListAudit(ctx, confab.AuditFilter{UserID: u.UserID, Limit: 10})
	if last := list[len(list)-1]; last.ActorID != root.UserID || last.Reason != "spam" {
		t.Errorf("disable entry = %+v, want actor root, reason spam", last)
	}

	_, err = e.svc.SetUserDisabled(ctx, admin.Caller(root), "nobody", true, "")
	wantCode(t, err, confab.CodeNotFound)
}

const testPassword = "Passw0rd!x"

func authSignUp(name string) auth.SignUpInput {
	return auth.SignUpInput{Email: name + "@example.com", Password: testPassword, Username: name}
}

// TestService_BanUser: a ban disables the account until its end (an end
// in the past is refused); unban enables it and deletes the ban. An
// administrator cannot ban themselves.
func TestService_BanUser(t *testing.T) {
	e := newEnv(t)
	root, dave := e.admin(t, "root"), e.user(t, "dave")
	a := admin.Caller(root)
	past := time.Now().Add(-time.Minute)
	_, err := e.svc.BanUser(ctx, a, dave.UserID, &past, "")
	wantCode(t, err, confab.CodeInvalid)
	_, err = e.svc.BanUser(ctx, a, root.UserID, nil, "")
	wantCode(t, err, confab.CodeInvalid)

	until := time.Now().Add(time.Hour).UTC().Truncate(time.Millisecond)
	u, err := e.svc.BanUser(ctx, a, dave.UserID, &until, "abuse")
	if err != nil {
		t.Fatal(err)
	}
	if !u.Disabled || u.Ban == nil || u.Ban.Until == nil || !u.Ban.Until.Equal(until) || u.Ban.BannedBy != root.UserID || u.Ban.Reason != "abuse" {
		t.Fatalf("banned = %+v (ban %+v)", u, u.Ban)
	}
	list, _ := e.st.ListAudit(ctx, confab.AuditFilter{UserID: dave.UserID, Limit: 10})
	if len(list) != 1 || list[0].Action != confab.AuditUserBanned || list[0].Until == nil || !list[0].Until.Equal(until) || list[0].Reason != "abuse" {
		t.Errorf("audit = %+v, want one USER_BANNED until %v", list, until)
	}

	if u, err = e.svc.UnbanUser(ctx, a, "dave"); err != nil || u.Disabled || u.Ban != nil {
		t.Fatalf("unbanned = %+v, %v", u, err)
	}
	if _, err := e.st.GetBan(ctx, "", dave.UserID); confab.ErrorCode(err) != confab.CodeNotFound {
		t.Errorf("ban after unban: %v, want NOT_FOUND", err)
	}
	if got := e.auditActions(t, dave.UserID); !slices.Equal(got, []confab.AuditAction{confab.AuditUserUnbanned, confab.AuditUserBanned}) {
		t.Errorf("audit = %v", got)
	}
}

// TestService_ResetPassword: the temporary password returned signs in
// only to the NEW_PASSWORD_REQUIRED challenge; the old one no longer works.
func TestService_ResetPassword(t *testing.T) {
	e := newEnv(t)
	root := e.admin(t, "root")
	if _, err := e.auth.SignUp(ctx, authSignUp("erin"), ""); err != nil {
		t.Fatal(err)
	}
	pw, err := e.svc.ResetPassword(ctx, admin.Caller(root), "erin")
	if err != nil {
		t.Fatal(err)
	}
	_, err = e.auth.Login(ctx, "erin", testPassword, "")
	wantCode(t, err, confab.CodeUnauthenticated)
	r, err := e.auth.SignIn(ctx, "erin", pw, "")
	if err != nil {
		t.Fatalf("sign-in with the temporary password: %v", err)
	}
	if r.Challenge != "NEW_PASSWORD_REQUIRED" || r.Tokens != nil {
		t.Errorf("sign-in = %+v, want the NEW_PASSWORD_REQUIRED challenge only", r)
	}
	if got := e.auditActions(t, r.UserID); !slices.Equal(got, []confab.AuditAction{confab.AuditPasswordReset}) {
		t.Errorf("audit = %v", got)
	}
}

// TestService_SetAdmin: the command line makes the first administrator;
// an administrator grants and revokes others but cannot revoke
// themselves; a revoked administrator loses the API at once.
func TestService_SetAdmin(t *testing.T) {
	e := newEnv(t)
	root, frank := e.admin(t, "root"), e.user(t, "frank")
	_, err := e.svc.SetAdmin(ctx, admin.Caller(root), root.UserID, false)
	wantCode(t, err, confab.CodeInvalid)
	if u, err := e.svc.SetAdmin(ctx, admin.Caller(root), "frank", true); err != nil || !u.User.Admin {
		t.Fatalf("grant = %+v, %v", u, err)
	}
	if _, err := e.svc.ListUsers(ctx, admin.Caller(frank), "", nil, nil); err != nil {
		t.Fatalf("frank as administrator: %v", err)
	}
	if u, err := e.svc.SetAdmin(ctx, admin.Caller(frank), root.UserID, false); err != nil || u.User.Admin {
		t.Fatalf("frank revokes root = %+v, %v", u, err)
	}
	_, err = e.svc.ListUsers(ctx, admin.Caller(root), "", nil, nil)
	wantCode(t, err, confab.CodeForbidden)
	if got := e.auditActions(t, root.UserID); !slices.Equal(got, []confab.AuditAction{confab.AuditAdminRevoked, confab.AuditAdminGranted}) {
		t.Errorf("root's audit = %v", got)
	}
}

// TestService_DeleteUser: with deleteMessages, each of the user's messages
// is deleted as a moderator's deletion (members get the events) before the
// account goes; others' messages stay. Without, the messages stay.
func TestService_DeleteUser(t *testing.T) {
	e := newEnv(t)
	root, gina, hal, ivy := e.admin(t, "root"), e.user(t, "gina"), e.user(t, "hal"), e.user(t, "ivy")
	c := e.conversation(t, gina, hal, ivy)
	var ginas []*confab.Message
	for _, s := range []string{"one", "two", "three"} {
		ginas = append(ginas, e.send(t, gina, c.ConversationID, s))
	}
	hals := e.send(t, hal, c.ConversationID, "mine")
	ivys := e.send(t, ivy, c.ConversationID, "ivy's")

	deleted := make(chan *confab.Event, 10)
	sub, err := e.broker.Subscribe(confab.ConversationTopic(c.ConversationID), func(ev *confab.Event) {
		if ev.Kind == confab.EventMessageDeleted {
			deleted <- ev
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Unsubscribe()

	if err := e.svc.DeleteUser(ctx, admin.Caller(root), "gina", true, "spam"); err != nil {
		t.Fatal(err)
	}
	for range ginas {
		select {
		case ev := <-deleted:
			if ev.Message.UserID != gina.UserID || ev.Change == nil || ev.Change.UserID != root.UserID {
				t.Errorf("deletion event %+v (change %+v), want gina's message deleted by root", ev.Message, ev.Change)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("no deletion event for each of gina's messages")
		}
	}
	all, err := e.st.ListMessagesAfter(ctx, c.ConversationID, 0, 10) // deleted ones included
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range all {
		if m.UserID == gina.UserID && (!m.Deleted || m.DeletedBy != root.UserID) {
			t.Errorf("gina's %q after delete: deleted %v by %q; want deleted by root", m.Content, m.Deleted, m.DeletedBy)
		}
	}
	if got, err := e.st.GetMessage(ctx, c.ConversationID, hals.MessageID); err != nil || got.Deleted {
		t.Errorf("hal's message: %+v, %v; want it kept", got, err)
	}
	if _, err := e.st.GetUser(ctx, gina.UserID); confab.ErrorCode(err) != confab.CodeNotFound {
		t.Errorf("gina's account: %v, want NOT_FOUND", err)
	}
	if got := e.auditActions(t, gina.UserID); !slices.Contains(got, confab.AuditUserDeleted) {
		t.Errorf("audit = %v, want USER_DELETED", got)
	}

	if err := e.svc.DeleteUser(ctx, admin.Caller(root), ivy.UserID, false, ""); err != nil {
		t.Fatal(err)
	}
	if got, err := e.st.GetMessage(ctx, c.ConversationID, ivys.MessageID); err != nil || got.Deleted {
		t.Errorf("ivy's message without deleteMessages: %+v, %v; want it kept", got, err)
	}
	err = e.svc.DeleteUser(ctx, admin.Caller(root), root.UserID, false, "")
	wantCode(t, err, confab.CodeInvalid)
}
