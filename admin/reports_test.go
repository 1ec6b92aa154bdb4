package admin_test

import (
	"bytes"
	"encoding/json"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/confab-chat/confab"
	"github.com/confab-chat/confab/admin"
	"github.com/google/uuid"
)

// TestService_Usage: messages seeded across days give the daily and
// weekly series (zero days included), the busiest conversation with its
// name, and the counts of now; the span and top are bounded.
func TestService_Usage(t *testing.T) {
	e := newEnv(t)
	root := e.admin(t, "root")
	ann, ben, cat := e.user(t, "ann"), e.user(t, "ben"), e.user(t, "cat")
	c1 := e.conversation(t, ann, ben, cat)
	c2 := e.conversation(t, cat, ann)

	now := time.Now().UTC()
	today := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, time.UTC)
	twoDaysAgo := today.AddDate(0, 0, -2)
	e.clock.set(twoDaysAgo.Add(10 * time.Hour))
	e.send(t, ann, c1.ConversationID, "a")
	e.send(t, ann, c1.ConversationID, "b")
	e.send(t, ben, c1.ConversationID, "c")
	e.clock.reset() // today, by the real clock
	e.send(t, ann, c2.ConversationID, "d")
	e.send(t, cat, c2.ConversationID, "e")

	u, err := e.svc.Usage(ctx, admin.Caller(root), ptr(3), ptr(1))
	if err != nil {
		t.Fatal(err)
	}
	if !u.From.Equal(twoDaysAgo) || !u.To.Equal(today) {
		t.Errorf("span %v..%v, want %v..%v", u.From, u.To, twoDaysAgo, today)
	}
	series := func(list []confab.DayCount) []int {
		var out []int
		for _, d := range list {
			out = append(out, d.Count)
		}
		return out
	}
	if got := series(u.MessagesPerDay); !slices.Equal(got, []int{3, 0, 2}) {
		t.Errorf("messages per day = %v, want [3 0 2]", got)
	}
	if got := series(u.ActiveUsersPerDay); !slices.Equal(got, []int{2, 0, 2}) {
		t.Errorf("active users per day = %v, want [2 0 2]", got)
	}
	if len(u.MessagesPerDay) == 3 && !u.MessagesPerDay[1].Day.Equal(today.AddDate(0, 0, -1)) {
		t.Errorf("second day = %v", u.MessagesPerDay[1].Day)
	}
	// ISO weeks: ann and ben two days ago, ann and cat today.
	authors := map[time.Time]map[string]bool{}
	for _, m := range []struct {
		day time.Time
		who string
	}{{twoDaysAgo, "ann"}, {twoDaysAgo, "ben"}, {today, "ann"}, {today, "cat"}} {
		monday := m.day.AddDate(0, 0, -((int(m.day.Weekday()) + 6) % 7))
		if authors[monday] == nil {
			authors[monday] = map[string]bool{}
		}
		authors[monday][m.who] = true
	}
	var weeks []int
	for _, monday := range slices.SortedFunc(maps.Keys(authors), time.Time.Compare) {
		weeks = append(weeks, len(authors[monday]))
	}
	if got := series(u.ActiveUsersPerWeek); !slices.Equal(got, weeks) {
		t.Errorf("active users per week = %v, want %v", got, weeks)
	}
	if len(u.TopConversations) != 1 || u.TopConversations[0].ConversationID != c1.ConversationID || u.TopConversations[0].Messages != 3 {
		t.Errorf("top = %+v, want %s with 3", u.TopConversations, c1.ConversationID)
	}
	if n := u.Names[c1.ConversationID]; n == nil || *n != "team" {
		t.Errorf("name of the top conversation = %v, want team", n)
	}
	if u.Users != 4 || u.Conversations != 2 {
		t.Errorf("users %d, conversations %d; want 4, 2", u.Users, u.Conversations)
	}

	for _, bad := range []struct{ days, top int }{{0, 1}, {confab.MaxUsageDays + 1, 1}, {1, admin.MaxTopConversations + 1}, {1, -1}} {
		_, err := e.svc.Usage(ctx, admin.Caller(root), &bad.days, &bad.top)
		wantCode(t, err, confab.CodeInvalid)
	}
	if u, err := e.svc.Usage(ctx, admin.Caller(root), nil, nil); err != nil || len(u.MessagesPerDay) != confab.DefaultUsageDays {
		t.Errorf("default span: %d days, %v; want %d", len(u.MessagesPerDay), err, confab.DefaultUsageDays)
	}
}

// TestService_ExportUser: the export holds the profile with the real
// e-mail address, memberships with roles, blocks, reports made and every
// message, and no secret; it is audited.
func TestService_ExportUser(t *testing.T) {
	e := newEnv(t)
	root, dora, eli := e.admin(t, "root"), e.user(t, "dora"), e.user(t, "eli")
	c := e.conversation(t, dora, eli)
	var want []string
	for i := range 150 { // more than one page of the store
		want = append(want, e.send(t, dora, c.ConversationID, "message "+strings.Repeat("x", i%3)+string(rune('a'+i%26))).MessageID)
	}
	e.send(t, eli, c.ConversationID, "not dora's")
	if _, err := e.st.InsertBlock(ctx, &confab.Block{UserID: dora.UserID, BlockedID: eli.UserID, CreatedAt: time.Now().UTC().Truncate(time.Millisecond)}, confab.MaxBlocks); err != nil {
		t.Fatal(err)
	}
	rep := &confab.Report{ReportID: uuid.Must(uuid.NewV7()).String(), ReporterID: dora.UserID, UserID: eli.UserID, Reason: "rude",
		CreatedAt: time.Now().UTC().Truncate(time.Millisecond), Status: confab.ReportOpen}
	if err := e.st.InsertReport(ctx, rep); err != nil {
		t.Fatal(err)
	}

	var out bytes.Buffer
	if err := e.svc.ExportUser(ctx, admin.Caller(root), "dora@example.com", &out); err != nil {
		t.Fatal(err)
	}
	var got struct {
		Profile struct {
			UserID, Email string
		}
		Account struct {
			Confirmed, Disabled bool
		}
		Memberships []struct {
			ConversationID, Role string
		}
		Blocks []struct {
			BlockedUserID string
		}
		Reports []struct {
			ReportID, Reason string
		}
		PushSubscriptions []any
		Messages          []struct {
			MessageID, ConversationID, Content string
		}
		MessagesTruncated bool
	}
	if err := json.Unmarshal(out.Bytes(), &got); err != nil {
		t.Fatalf("export is not JSON: %v\n%s", err, out.Bytes()[:min(out.Len(), 500)])
	}
	if got.Profile.UserID != dora.UserID || got.Profile.Email != "dora@example.com" || !got.Account.Confirmed || got.Account.Disabled {
		t.Errorf("profile %+v, account %+v", got.Profile, got.Account)
	}
	if len(got.Memberships) != 1 || got.Memberships[0].ConversationID != c.ConversationID || got.Memberships[0].Role != string(confab.RoleOwner) {
		t.Errorf("memberships = %+v, want owner of %s", got.Memberships, c.ConversationID)
	}
	if len(got.Blocks) != 1 || got.Blocks[0].BlockedUserID != eli.UserID {
		t.Errorf("blocks = %+v", got.Blocks)
	}
	if len(got.Reports) != 1 || got.Reports[0].ReportID != rep.ReportID {
		t.Errorf("reports = %+v", got.Reports)
	}
	var ids []string
	for _, m := range got.Messages {
		ids = append(ids, m.MessageID)
		if m.ConversationID != c.ConversationID || m.Content == "not dora's" {
			t.Errorf("exported message %+v", m)
		}
	}
	slices.Sort(ids)
	slices.Sort(want)
	if !slices.Equal(ids, want) || got.MessagesTruncated {
		t.Errorf("exported %d messages (truncated %v), want dora's %d", len(ids), got.MessagesTruncated, len(want))
	}
	for _, secret := range []string{"argon2id", "password_hash", "passwordHash", "p256dh"} {
		if bytes.Contains(out.Bytes(), []byte(secret)) {
			t.Errorf("export contains %q", secret)
		}
	}
	if got := e.auditActions(t, dora.UserID); !slices.Equal(got, []confab.AuditAction{confab.AuditUserExported}) {
		t.Errorf("audit = %v", got)
	}
}
