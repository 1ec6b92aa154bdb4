package admin_test

import (
	"slices"
	"testing"
	"time"

	"github.com/confab-chat/confab"
	"github.com/confab-chat/confab/admin"
	"github.com/confab-chat/confab/chat"
	"github.com/google/uuid"
)

// TestService_Conversations: an administrator lists and inspects every
// conversation, whoever its members are, archives it (members get the
// CONVERSATION_UPDATED change) and deletes it; each change is audited.
func TestService_Conversations(t *testing.T) {
	e := newEnv(t)
	root, jo, kim := e.admin(t, "root"), e.user(t, "jo"), e.user(t, "kim")
	a := admin.Caller(root)
	var convs []string
	for range 3 {
		convs = append(convs, e.conversation(t, jo, kim).ConversationID)
	}
	slices.Sort(convs)

	var seen []string
	var next *string
	for range 5 {
		p, err := e.svc.ListConversations(ctx, a, ptr(2), next)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range p.Items {
			seen = append(seen, c.ConversationID)
			if len(c.Members) != 2 {
				t.Errorf("conversation %s listed with %d members, want 2", c.ConversationID, len(c.Members))
			}
		}
		if next = p.NextToken; next == nil {
			break
		}
	}
	if !slices.Equal(seen, convs) {
		t.Errorf("listed %v, want %v", seen, convs)
	}
	if c, err := e.svc.GetConversation(ctx, a, convs[0]); err != nil || c.Member(kim.UserID) == nil {
		t.Errorf("inspect = %+v, %v", c, err)
	}
	_, err := e.svc.GetConversation(ctx, a, "missing")
	wantCode(t, err, confab.CodeNotFound)

	changes := make(chan *confab.Event, 10)
	sub, err := e.broker.Subscribe(confab.ConversationTopic(convs[0]), func(ev *confab.Event) { changes <- ev })
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Unsubscribe()
	control := make(chan *confab.Event, 10)
	csub, err := e.broker.Subscribe(confab.ControlTopic, func(ev *confab.Event) { control <- ev })
	if err != nil {
		t.Fatal(err)
	}
	defer csub.Unsubscribe()
	// wantDropped waits for the cache drop of conversationID on every node.
	wantDropped := func(conversationID string) {
		t.Helper()
		select {
		case ev := <-control:
			if ev.Kind != confab.EventMembershipChanged || ev.ConversationID != conversationID {
				t.Errorf("control event %+v, want membership_changed of %s", ev, conversationID)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("no cache drop of %s", conversationID)
		}
	}
	c, err := e.svc.SetArchived(ctx, a, convs[0], true)
	if err != nil || c.ArchivedAt == nil {
		t.Fatalf("archive = %+v, %v", c, err)
	}
	select {
	case ev := <-changes:
		if ev.Change == nil || ev.Change.Kind != confab.ChangeConversationUpdated || ev.Conversation.ArchivedAt == nil || ev.Change.UserID != root.UserID {
			t.Errorf("archive event %+v, want CONVERSATION_UPDATED by root with ArchivedAt", ev)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no event for the archive")
	}
	wantDropped(convs[0])
	_, err = e.chat.SendMessage(ctx, jo, chat.SendMessageInput{ConversationID: convs[0], Content: "still here?"})
	wantCode(t, err, confab.CodeForbidden) // archived: read-only
	if c, err = e.svc.SetArchived(ctx, a, convs[0], false); err != nil || c.ArchivedAt != nil {
		t.Fatalf("unarchive = %+v, %v", c, err)
	}
	wantDropped(convs[0])
	e.send(t, jo, convs[0], "back")

	if err := e.svc.DeleteConversation(ctx, a, convs[1], "illegal content"); err != nil {
		t.Fatal(err)
	}
	wantDropped(convs[1])
	if _, err := e.st.GetConversation(ctx, convs[1]); confab.ErrorCode(err) != confab.CodeNotFound {
		t.Errorf("deleted conversation: %v, want NOT_FOUND", err)
	}
	wantCode(t, e.svc.DeleteConversation(ctx, a, convs[1], ""), confab.CodeNotFound)

	log, err := e.svc.ListAudit(ctx, a, "", "", nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	var got []confab.AuditAction
	for _, en := range log.Items {
		if en.ConversationID != "" {
			got = append(got, en.Action)
		}
	}
	want := []confab.AuditAction{confab.AuditConversationDeleted, confab.AuditConversationUnarchived, confab.AuditConversationArchived}
	if !slices.Equal(got, want) {
		t.Errorf("audit = %v, want %v", got, want)
	}
	byConv, _ := e.svc.ListAudit(ctx, a, convs[1], "", nil, nil)
	if len(byConv.Items) != 1 || byConv.Items[0].Reason != "illegal content" {
		t.Errorf("audit of the deleted conversation = %+v", byConv.Items)
	}
}

// TestService_ResolveReport: an open report is resolved once (CONFLICT
// after), the entry names the reported user and message, and the queue
// filters by status.
func TestService_ResolveReport(t *testing.T) {
	e := newEnv(t)
	root, lee, max := e.admin(t, "root"), e.user(t, "lee"), e.user(t, "max")
	a := admin.Caller(root)
	c := e.conversation(t, lee, max)
	m := e.send(t, max, c.ConversationID, "buy now")
	now := time.Now().UTC().Truncate(time.Millisecond)
	first, second := uuid.Must(uuid.NewV7()).String(), uuid.Must(uuid.NewV7()).String()
	for i, id := range []string{first, second} {
		r := &confab.Report{ReportID: id, ReporterID: lee.UserID, UserID: max.UserID, ConversationID: c.ConversationID, MessageID: m.MessageID,
			Reason: "spam", CreatedAt: now.Add(time.Duration(i) * time.Second), Status: confab.ReportOpen}
		if err := e.st.InsertReport(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	_, err := e.svc.ResolveReport(ctx, a, first, confab.ReportOpen, "")
	wantCode(t, err, confab.CodeInvalid)
	r, err := e.svc.ResolveReport(ctx, a, first, confab.ReportResolved, "deleted it")
	if err != nil || r.Status != confab.ReportResolved || r.ResolvedBy != root.UserID || r.Resolution != "deleted it" {
		t.Fatalf("resolve = %+v, %v", r, err)
	}
	_, err = e.svc.ResolveReport(ctx, a, first, confab.ReportDismissed, "")
	wantCode(t, err, confab.CodeConflict)
	_, err = e.svc.ResolveReport(ctx, a, "missing", confab.ReportDismissed, "")
	wantCode(t, err, confab.CodeNotFound)

	open, err := e.svc.ListReports(ctx, a, confab.ReportOpen, nil, nil)
	if err != nil || len(open.Items) != 1 || open.Items[0].ReportID != second {
		t.Errorf("open reports = %+v, %v", open, err)
	}
	msg, err := e.svc.ReportMessage(ctx, a, open.Items[0])
	if err != nil || msg == nil || msg.Content != "buy now" {
		t.Errorf("reported message = %+v, %v", msg, err)
	}
	list, _ := e.st.ListAudit(ctx, confab.AuditFilter{UserID: max.UserID, Limit: 10})
	if len(list) != 1 || list[0].Action != confab.AuditReportResolved || list[0].MessageID != m.MessageID || list[0].ConversationID != c.ConversationID {
		t.Errorf("audit = %+v, want one REPORT_RESOLVED of the message", list)
	}
}
