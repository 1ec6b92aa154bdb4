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

// TestReports: members report messages of their conversations and anyone
// reports another user, with a reason; each report lands in the admin
// queue once; reports are rate limited per user.
func TestReports(t *testing.T) {
	ctx := context.Background()
	clock := &fakeClock{}
	e := newEnv(t, chat.Config{}, chat.WithClock(clock.Now))
	alice, bob, eve := e.user(t, "alice"), e.user(t, "bob"), e.user(t, "eve")
	t0 := time.Now().UTC().Truncate(time.Millisecond) // after the accounts were made, as in life
	clock.Set(t0)
	c := e.conversation(t, alice, bob)
	m := e.send(t, bob, c.ConversationID, "buy my stuff")
	queue := func() []*confab.Report {
		t.Helper()
		rs, err := e.store.ListReports(ctx, confab.ReportFilter{Limit: 100})
		if err != nil {
			t.Fatal(err)
		}
		return rs
	}

	if err := e.svc.ReportMessage(ctx, alice, c.ConversationID, m.MessageID, "  spam "); err != nil {
		t.Fatal(err)
	}
	rs := queue()
	if len(rs) != 1 {
		t.Fatalf("queue = %+v, want the report", rs)
	}
	want := confab.Report{ReportID: rs[0].ReportID, ReporterID: alice.UserID, UserID: bob.UserID, ConversationID: c.ConversationID,
		MessageID: m.MessageID, Reason: "spam", CreatedAt: t0, Status: confab.ReportOpen}
	if got := *rs[0]; got.ReporterID != want.ReporterID || got.UserID != want.UserID || got.ConversationID != want.ConversationID ||
		got.MessageID != want.MessageID || got.Reason != want.Reason || !got.CreatedAt.Equal(t0) || got.Status != want.Status {
		t.Errorf("report = %+v\nwant %+v", got, want)
	}

	// Reporting the same message again is accepted and changes nothing.
	if err := e.svc.ReportMessage(ctx, alice, c.ConversationID, m.MessageID, "still spam"); err != nil {
		t.Fatalf("second report: %v", err)
	}
	if rs := queue(); len(rs) != 1 || rs[0].Reason != "spam" {
		t.Errorf("queue after a second report = %+v, want the first report alone", rs)
	}

	for _, tc := range []struct {
		name string
		err  error
		want confab.Code
	}{
		{"own message", e.svc.ReportMessage(ctx, bob, c.ConversationID, m.MessageID, "oops"), confab.CodeInvalid},
		{"non-member", e.svc.ReportMessage(ctx, eve, c.ConversationID, m.MessageID, "spam"), confab.CodeNotFound},
		{"missing message", e.svc.ReportMessage(ctx, alice, c.ConversationID, uuid.NewString(), "spam"), confab.CodeNotFound},
		{"empty reason", e.svc.ReportMessage(ctx, alice, c.ConversationID, m.MessageID, " \n"), confab.CodeInvalid},
		{"long reason", e.svc.ReportUser(ctx, alice, bob.UserID, strings.Repeat("x", confab.MaxReasonBytes+1)), confab.CodeInvalid},
		{"NUL in reason", e.svc.ReportUser(ctx, alice, bob.UserID, "a\x00b"), confab.CodeInvalid},
		{"yourself", e.svc.ReportUser(ctx, alice, alice.UserID, "me"), confab.CodeInvalid},
		{"missing user", e.svc.ReportUser(ctx, alice, uuid.NewString(), "who"), confab.CodeNotFound},
	} {
		if got := confab.ErrorCode(tc.err); got != tc.want {
			t.Errorf("%s: %q (%v), want %q", tc.name, got, tc.err, tc.want)
		}
	}
	if rs := queue(); len(rs) != 1 {
		t.Errorf("refused reports reached the queue: %+v", rs)
	}

	// Eve shares no conversation with Bob and may still report him.
	if err := e.svc.ReportUser(ctx, eve, bob.UserID, "harassment"); err != nil {
		t.Fatal(err)
	}
	if err := e.svc.ReportUser(ctx, eve, bob.UserID, "again"); err != nil {
		t.Fatal(err)
	}
	if err := e.svc.ReportUser(ctx, alice, bob.UserID, "me too"); err != nil { // not a message report: another thing
		t.Fatal(err)
	}
	rs = queue()
	if len(rs) != 3 || rs[1].ReporterID != eve.UserID || rs[1].UserID != bob.UserID || rs[1].MessageID != "" || rs[1].Reason != "harassment" || rs[0].ReporterID != alice.UserID {
		t.Errorf("queue = %+v, want alice's report of bob, eve's first report of bob, alice's of the message", rs)
	}
}

// TestReports_RateLimited: ReportsPerMinute reports a minute per user;
// the next is RATE_LIMITED with the wait, other users are not affected.
func TestReports_RateLimited(t *testing.T) {
	ctx := context.Background()
	t0 := time.Date(2026, 12, 3, 9, 0, 0, 0, time.UTC)
	clock := &fakeClock{t: t0}
	e := newEnv(t, chat.Config{}, chat.WithClock(clock.Now))
	alice, bob := e.user(t, "alice"), e.user(t, "bob")
	var others []confab.Identity
	for i := range chat.ReportsPerMinute + 1 {
		others = append(others, e.user(t, fmt.Sprint("other", i)))
	}
	for i := range chat.ReportsPerMinute {
		if err := e.svc.ReportUser(ctx, alice, others[i].UserID, "spam"); err != nil {
			t.Fatalf("report %d: %v", i+1, err)
		}
	}
	err := e.svc.ReportUser(ctx, alice, others[chat.ReportsPerMinute].UserID, "spam")
	wantCode(t, err, confab.CodeLimited)
	if d := confab.RetryAfter(err); d != 6*time.Second {
		t.Errorf("RetryAfter = %v, want 6s (a minute / %d)", d, chat.ReportsPerMinute)
	}
	if err := e.svc.ReportUser(ctx, bob, alice.UserID, "spam"); err != nil {
		t.Errorf("bob limited by alice's reports: %v", err)
	}
	clock.Set(t0.Add(6 * time.Second))
	if err := e.svc.ReportUser(ctx, alice, others[chat.ReportsPerMinute].UserID, "spam"); err != nil {
		t.Errorf("after the wait: %v", err)
	}
}
