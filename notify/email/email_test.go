package email_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"mime"
	"mime/quotedprintable"
	"net"
	"net/http"
	"net/http/httptest"
	"net/mail"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/confab-chat/confab"
	"github.com/confab-chat/confab/mail/smtp"
	"github.com/confab-chat/confab/notify"
	"github.com/confab-chat/confab/notify/email"
	"github.com/confab-chat/confab/store/sqlite"
	gosmtp "github.com/emersion/go-smtp"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// letter is one message the test's SMTP server received.
type letter struct {
	to, subject, body string
}

// mailbox is a real SMTP server (go-smtp) on 127.0.0.1:0 that keeps what
// it receives and refuses recipients listed in reject with their code.
type mailbox struct {
	addr   string
	got    chan letter
	mu     sync.Mutex
	reject map[string]int
}

func startMailbox(t *testing.T) *mailbox {
	t.Helper()
	mb := &mailbox{got: make(chan letter, 100), reject: map[string]int{}}
	s := gosmtp.NewServer(gosmtp.BackendFunc(func(*gosmtp.Conn) (gosmtp.Session, error) { return &session{mb: mb}, nil }))
	s.Domain = "localhost"
	s.ErrorLog = log.New(io.Discard, "", 0)
	s.ReadTimeout, s.WriteTimeout = 10*time.Second, 10*time.Second
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	mb.addr = l.Addr().String()
	go s.Serve(l)
	t.Cleanup(func() { s.Close() })
	return mb
}

type session struct {
	mb *mailbox
	to string
}

func (s *session) Mail(string, *gosmtp.MailOptions) error { return nil }
func (s *session) Rcpt(to string, _ *gosmtp.RcptOptions) error {
	s.mb.mu.Lock()
	code := s.mb.reject[to]
	s.mb.mu.Unlock()
	if code != 0 {
		return &gosmtp.SMTPError{Code: code, Message: "refused by the test"}
	}
	s.to = to
	return nil
}
func (s *session) Reset()        {}
func (s *session) Logout() error { return nil }
func (s *session) Data(r io.Reader) error {
	msg, err := mail.ReadMessage(r)
	if err != nil {
		return err
	}
	body, err := io.ReadAll(quotedprintable.NewReader(msg.Body))
	if err != nil {
		return err
	}
	subject, _ := new(mime.WordDecoder).DecodeHeader(msg.Header.Get("Subject"))
	s.mb.got <- letter{to: s.to, subject: subject, body: strings.ReplaceAll(string(body), "\r\n", "\n")}
	return nil
}

func (mb *mailbox) next(t *testing.T) letter {
	t.Helper()
	select {
	case l := <-mb.got:
		return l
	case <-time.After(10 * time.Second):
		t.Fatal("no mail arrived within 10s")
	}
	return letter{}
}

// none fails if a mail is waiting.
func (mb *mailbox) none(t *testing.T) {
	t.Helper()
	select {
	case l := <-mb.got:
		t.Fatalf("unexpected mail to %s: %q", l.to, l.subject)
	default:
	}
}

var testKey = []byte("0123456789abcdef0123456789abcdef")

func key() ([]byte, error) { return testKey, nil }

const publicURL = "https://chat.example.com"

type env struct {
	t   *testing.T
	st  *sqlite.Store
	mb  *mailbox
	mu  sync.Mutex
	now time.Time
}

func newEnv(t *testing.T) *env {
	t.Helper()
	st, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "confab.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return &env{t: t, st: st, mb: startMailbox(t), now: time.Now()}
}

// clock is the channel's Now: the test moves it with advance.
func (e *env) clock() time.Time {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.now
}

func (e *env) advance(d time.Duration) {
	e.mu.Lock()
	e.now = e.now.Add(d)
	e.mu.Unlock()
}

func (e *env) channel(delay time.Duration) *email.Channel {
	e.t.Helper()
	m, err := smtp.New(smtp.Config{URL: "smtp://" + e.mb.addr, From: "confab <no-reply@chat.example.com>"})
	if err != nil {
		e.t.Fatal(err)
	}
	c, err := email.New(e.st, m, email.Config{Delay: delay, PublicURL: publicURL, Key: key, Now: e.clock})
	if err != nil {
		e.t.Fatal(err)
	}
	return c
}

func (e *env) user(id, display string) *confab.User {
	e.t.Helper()
	u := &confab.User{UserID: id, Username: id, Email: id + "@example.com", CreatedAt: time.Now().UTC()}
	if display != "" {
		u.DisplayName = &display
	}
	if err := e.st.InsertAccount(e.t.Context(), &confab.Account{User: *u}); err != nil {
		e.t.Fatal(err)
	}
	return u
}

func (e *env) conversation(name string, members ...*confab.User) *confab.Conversation {
	e.t.Helper()
	now := time.Now().UTC()
	convSeq++
	c := &confab.Conversation{ConversationID: fmt.Sprintf("c-%d", convSeq), CreatedBy: members[0].UserID, CreatedAt: now}
	if name != "" {
		c.Name = &name
		c.ConversationID = "c-" + name
	}
	for _, m := range members {
		c.Members = append(c.Members, confab.Member{UserID: m.UserID, JoinedAt: now})
	}
	if err := e.st.InsertConversation(e.t.Context(), c); err != nil {
		e.t.Fatal(err)
	}
	return c
}

var msgSeq, convSeq int

func (e *env) send(c *confab.Conversation, from *confab.User, content string) {
	e.t.Helper()
	msgSeq++
	m := &confab.Message{MessageID: fmt.Sprintf("m-%d", msgSeq), ConversationID: c.ConversationID, UserID: from.UserID,
		Content: content, MessageType: confab.MessageText, CreatedAt: time.Now().UTC()}
	if _, err := e.st.AppendMessage(e.t.Context(), m); err != nil {
		e.t.Fatal(err)
	}
}

// events returns the message.sent events in the outbox, oldest first.
func (e *env) events() []*confab.OutboxEntry {
	e.t.Helper()
	evs, err := e.st.ListOutboxEvents(e.t.Context(), time.Time{}, 0, 100)
	if err != nil {
		e.t.Fatal(err)
	}
	var out []*confab.OutboxEntry
	for _, ev := range evs {
		if ev.Event == confab.OutboxMessageSent {
			out = append(out, ev)
		}
	}
	return out
}

// fanout fans every pending message.sent event out on c and returns the
// deliveries.
func (e *env) fanout(c *email.Channel) []*confab.OutboxEntry {
	e.t.Helper()
	var out []*confab.OutboxEntry
	for _, ev := range e.events() {
		ds, err := c.Fanout(e.t.Context(), ev)
		if err != nil {
			e.t.Fatal(err)
		}
		out = append(out, ds...)
	}
	return out
}

func (e *env) settings(u *confab.User, s *confab.NotificationSettings) {
	e.t.Helper()
	if err := e.st.PutNotificationSettings(e.t.Context(), u.UserID, s); err != nil {
		e.t.Fatal(err)
	}
}

func targets(ds []*confab.OutboxEntry) string {
	var ts []string
	for _, d := range ds {
		ts = append(ts, d.Target)
	}
	return strings.Join(ts, " ")
}

// TestDigest_OneForManyMessages: three messages to an offline member make
// one delivery, due after the delay, and one e-mail listing all three;
// the sender, and a member who is connected, get nothing.
func TestDigest_OneForManyMessages(t *testing.T) {
	e := newEnv(t)
	ann, bob, cat := e.user("ann", "Ann Lee"), e.user("bob", "Bob"), e.user("cat", "")
	conv := e.conversation("team", ann, bob, cat)
	now := time.Now()
	if _, err := e.st.AdjustConnections(t.Context(), cat.UserID, "node-a", +1, now, now.Add(-time.Minute)); err != nil {
		t.Fatal(err)
	}
	e.send(conv, ann, "first")
	e.send(conv, ann, "second")
	e.send(conv, ann, "lunch\nat noon?")

	ch := e.channel(30 * time.Minute)
	ds := e.fanout(ch)
	if targets(ds) != "bob" {
		t.Fatalf("digest deliveries to %q, want bob only (ann sent, cat is connected, one per user)", targets(ds))
	}
	// Another node (its own channel, the same store) sees the pending
	// digest too.
	if ds := e.fanout(e.channel(30 * time.Minute)); len(ds) != 0 {
		t.Fatalf("a second node enqueued digests to %q", targets(ds))
	}
	d := ds[0]
	if d.Channel != confab.ChannelEmail || !d.NotBefore.Equal(e.clock().Add(30*time.Minute)) {
		t.Fatalf("delivery %+v: want channel email, due 30m from now", d)
	}

	e.advance(30 * time.Minute)
	if err := ch.Deliver(t.Context(), d); err != nil {
		t.Fatal(err)
	}
	l := e.mb.next(t)
	if l.to != "bob@example.com" || l.subject != "3 unread messages on chat.example.com" {
		t.Fatalf("mail to %q, subject %q", l.to, l.subject)
	}
	for _, want := range []string{"Hello Bob,", "* team: 3 unread", "Ann Lee: lunch at noon?", publicURL + "/c/c-team", publicURL + "/notifications/unsubscribe?"} {
		if !strings.Contains(l.body, want) {
			t.Errorf("body lacks %q:\n%s", want, l.body)
		}
	}
	e.mb.none(t)

	// The window is per user: after it, the next message makes a new one
	// (and cat, whose connection count nobody stamped for half an hour,
	// counts as gone).
	e.send(conv, ann, "again")
	if ds := e.fanout(ch); targets(ds) != "bob cat" {
		t.Fatalf("after the window: deliveries to %q, want bob and cat", targets(ds))
	}
}

// TestDigest_CameBack: a member who connected after the message, or is
// connected at delivery, or read everything, gets no e-mail.
func TestDigest_CameBack(t *testing.T) {
	for _, tt := range []struct {
		name string
		back func(e *env, bob *confab.User, conv *confab.Conversation)
	}{
		{"seen since", func(e *env, bob *confab.User, _ *confab.Conversation) {
			seen := time.Now().Add(time.Second)
			if _, err := e.st.UpdateUser(e.t.Context(), bob.UserID, confab.UserUpdate{LastSeen: &seen, UpdatedAt: seen}); err != nil {
				e.t.Fatal(err)
			}
		}},
		{"connected now", func(e *env, bob *confab.User, _ *confab.Conversation) {
			now := time.Now()
			if _, err := e.st.AdjustConnections(e.t.Context(), bob.UserID, "node-a", +1, now, now.Add(-time.Minute)); err != nil {
				e.t.Fatal(err)
			}
		}},
		{"read", func(e *env, bob *confab.User, conv *confab.Conversation) {
			if err := e.st.MarkRead(e.t.Context(), conv.ConversationID, bob.UserID, 1, time.Now()); err != nil {
				e.t.Fatal(err)
			}
		}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			ann, bob := e.user("ann", ""), e.user("bob", "")
			conv := e.conversation("", ann, bob)
			e.send(conv, ann, "hi")
			ch := e.channel(time.Minute)
			ds := e.fanout(ch)
			if targets(ds) != "bob" {
				t.Fatalf("deliveries to %q, want bob", targets(ds))
			}
			tt.back(e, bob, conv)
			e.advance(time.Minute)
			if err := ch.Deliver(t.Context(), ds[0]); err != nil {
				t.Fatal(err)
			}
			e.mb.none(t)
		})
	}
}

// TestDigest_Muted: a muted conversation is left out of the digest, and a
// message in it alone enqueues none; a member who turned digests off or
// notifications off gets none.
func TestDigest_Muted(t *testing.T) {
	e := newEnv(t)
	ann, bob, cat, dan := e.user("ann", "Ann"), e.user("bob", ""), e.user("cat", ""), e.user("dan", "")
	team := e.conversation("team", ann, bob, cat, dan)
	noisy := e.conversation("noisy", ann, bob)
	e.settings(bob, &confab.NotificationSettings{Mutes: map[string]*time.Time{noisy.ConversationID: nil}})
	e.settings(cat, &confab.NotificationSettings{EmailDigestsOff: true})
	e.settings(dan, &confab.NotificationSettings{Level: confab.NotifyNone})
	ch := e.channel(time.Minute)

	e.send(noisy, ann, "muted words")
	if ds := e.fanout(ch); len(ds) != 0 {
		t.Fatalf("a message in a muted conversation enqueued digests to %q", targets(ds))
	}
	e.send(team, ann, "team news")
	e.send(noisy, ann, "more muted words")
	ds := e.fanout(ch)
	if targets(ds) != "bob" {
		t.Fatalf("deliveries to %q, want bob (cat opted out, dan wants nothing)", targets(ds))
	}
	e.advance(time.Minute)
	if err := ch.Deliver(t.Context(), ds[0]); err != nil {
		t.Fatal(err)
	}
	l := e.mb.next(t)
	if !strings.Contains(l.body, "* team: 1 unread") || strings.Contains(l.body, "noisy") || strings.Contains(l.body, "muted") {
		t.Fatalf("digest should list team only:\n%s", l.body)
	}
	if l.subject != "1 unread message on chat.example.com" {
		t.Fatalf("subject %q counts the muted conversation", l.subject)
	}
}

// TestDigest_HidePreviews: without previews the digest names the
// conversations (unnamed ones by their first other members) and counts,
// but shows no words.
func TestDigest_HidePreviews(t *testing.T) {
	e := newEnv(t)
	ann, bob := e.user("ann", "Ann"), e.user("bob", "")
	conv := e.conversation("", ann, bob)
	group := e.conversation("", ann, bob, e.user("cat", ""), e.user("dan", ""), e.user("eve", ""))
	e.settings(bob, &confab.NotificationSettings{HidePreviews: true})
	e.send(conv, ann, "the secret plan")
	e.send(group, ann, "the secret plan, in a group")
	ch := e.channel(time.Minute)
	ds := e.fanout(ch)
	e.advance(time.Minute)
	if err := ch.Deliver(t.Context(), ds[0]); err != nil {
		t.Fatal(err)
	}
	l := e.mb.next(t)
	if !strings.Contains(l.body, "* Ann: 1 unread") || !strings.Contains(l.body, "* Ann, cat, dan and 1 more: 1 unread") || strings.Contains(l.body, "secret") {
		t.Fatalf("body shows a preview or misnames the conversation:\n%s", l.body)
	}
}

// TestDigest_Unsubscribe: the link in a digest turns digests off (no more
// deliveries); a forged or altered link is 400 and changes nothing.
func TestDigest_Unsubscribe(t *testing.T) {
	e := newEnv(t)
	ann, bob := e.user("ann", ""), e.user("bob", "")
	conv := e.conversation("team", ann, bob)
	e.send(conv, ann, "hi")
	ch := e.channel(time.Minute)
	ds := e.fanout(ch)
	e.advance(time.Minute)
	if err := ch.Deliver(t.Context(), ds[0]); err != nil {
		t.Fatal(err)
	}
	link := regexp.MustCompile(`https://\S+/notifications/unsubscribe\?\S+`).FindString(e.mb.next(t).body)
	u, err := url.Parse(link)
	if err != nil || link == "" {
		t.Fatalf("no unsubscribe link (%v)", err)
	}
	srv := httptest.NewServer(email.UnsubscribeHandler(e.st, key, nil))
	defer srv.Close()
	get := func(query url.Values) int {
		t.Helper()
		resp, err := http.Get(srv.URL + email.UnsubscribePath + "?" + query.Encode())
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	off := func() bool {
		t.Helper()
		all, err := e.st.GetNotificationSettings(t.Context(), []string{bob.UserID})
		if err != nil {
			t.Fatal(err)
		}
		return all[bob.UserID] != nil && all[bob.UserID].EmailDigestsOff
	}

	q := u.Query()
	tok := q.Get("t")
	for name, forged := range map[string]url.Values{
		"no token":       {"u": {bob.UserID}},
		"altered token":  {"u": {bob.UserID}, "t": {tok[:len(tok)-2] + "AA"}},
		"another user":   {"u": {ann.UserID}, "t": {tok}},
		"another key":    {"u": {bob.UserID}, "t": {email.Token([]byte("another key of 32 bytes, really!"), bob.UserID)}},
		"no user at all": {"t": {tok}},
	} {
		if code := get(forged); code != http.StatusBadRequest {
			t.Errorf("%s: %d, want 400", name, code)
		}
	}
	if off() {
		t.Fatal("a forged link turned digests off")
	}
	if code := get(q); code != http.StatusOK || !off() {
		t.Fatalf("the digest's link: %d, digests off %v; want 200, off", code, off())
	}
	e.advance(time.Hour) // the window has ended
	e.send(conv, ann, "still there?")
	if ds := e.fanout(ch); len(ds) != 0 {
		t.Fatalf("after unsubscribing: deliveries to %q", targets(ds))
	}
}

// TestDigest_SMTPErrors: a 5xx refusal is permanent, a 4xx one is retried.
func TestDigest_SMTPErrors(t *testing.T) {
	for _, tt := range []struct {
		code      int
		permanent bool
	}{{550, true}, {451, false}} {
		t.Run(fmt.Sprint(tt.code), func(t *testing.T) {
			e := newEnv(t)
			ann, bob := e.user("ann", ""), e.user("bob", "")
			conv := e.conversation("team", ann, bob)
			e.mb.reject["bob@example.com"] = tt.code
			e.send(conv, ann, "hi")
			ch := e.channel(time.Minute)
			ds := e.fanout(ch)
			e.advance(time.Minute)
			err := ch.Deliver(t.Context(), ds[0])
			if err == nil || errors.Is(err, notify.ErrPermanent) != tt.permanent {
				t.Fatalf("Deliver = %v; want an error, permanent %v", err, tt.permanent)
			}
		})
	}
}

// TestDigest_Worker runs the outbox worker: with a delay an offline member
// gets exactly one digest for a burst; with delay 0 nothing is enqueued on
// the email channel at all. The delay is long enough for the worker to fan
// out the whole burst before it ends, even on a loaded host (200 ms was
// not: a message fanned out after the digest went asks for another).
func TestDigest_Worker(t *testing.T) {
	for _, delay := range []time.Duration{2 * time.Second, 0} {
		t.Run(delay.String(), func(t *testing.T) {
			e := newEnv(t)
			ann, bob := e.user("ann", ""), e.user("bob", "")
			conv := e.conversation("team", ann, bob)
			for i := range 5 {
				e.send(conv, ann, fmt.Sprintf("message %d", i))
			}
			m, err := smtp.New(smtp.Config{URL: "smtp://" + e.mb.addr, From: "confab <no-reply@chat.example.com>"})
			if err != nil {
				t.Fatal(err)
			}
			ch, err := email.New(e.st, m, email.Config{Delay: delay, PublicURL: publicURL, Key: key})
			if err != nil {
				t.Fatal(err)
			}
			settled := make(chan string, 100)
			w, err := notify.Open(e.st, notify.Config{Owner: "node-a", Poll: 10 * time.Millisecond,
				Delivered: func(channel, outcome string) { settled <- channel + " " + outcome }}, ch)
			if err != nil {
				t.Fatal(err)
			}
			if delay > 0 {
				if l := e.mb.next(t); l.to != "bob@example.com" || !strings.Contains(l.body, "* team: 5 unread") {
					t.Fatalf("digest to %s:\n%s", l.to, l.body)
				}
				select {
				case s := <-settled:
					if s != "email ok" {
						t.Fatalf("settled %q, want email ok", s)
					}
				case <-time.After(10 * time.Second):
					t.Fatal("the delivery was not settled")
				}
			}
			waitEventsDone(t, e.st)
			w.Close()
			// Nothing is left to deliver, now or later: no second digest.
			left, err := e.st.ClaimOutbox(context.Background(), "probe", time.Now().Add(24*time.Hour), time.Minute, 100)
			if err != nil || len(left) != 0 {
				t.Fatalf("outbox after the worker: %d entries (%v), want none", len(left), err)
			}
			e.mb.none(t)
			if len(settled) != 0 {
				t.Fatalf("more deliveries settled: %q", <-settled)
			}
		})
	}
}

// waitEventsDone waits (bounded) until the worker has fanned out every
// event: a fanned-out event with no deliveries is removed from the outbox.
func waitEventsDone(t *testing.T, st *sqlite.Store) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		evs, err := st.ListOutboxEvents(t.Context(), time.Time{}, 0, 100)
		if err != nil {
			t.Fatal(err)
		}
		pending := 0
		for _, ev := range evs {
			if !ev.Done {
				pending++
			}
		}
		if pending == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d events not fanned out within 10s", pending)
		}
		time.Sleep(10 * time.Millisecond) // polling a condition with a deadline
	}
}

// TestNew_Checks: a channel needs an absolute public URL, a key and a
// mailer.
func TestNew_Checks(t *testing.T) {
	m, _ := smtp.New(smtp.Config{URL: "smtp://127.0.0.1:25", From: "a@example.com"})
	for name, cfg := range map[string]email.Config{
		"no URL":       {Key: key},
		"relative URL": {PublicURL: "/chat", Key: key},
		"no key":       {PublicURL: publicURL},
	} {
		if _, err := email.New(nil, m, cfg); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	if _, err := email.New(nil, nil, email.Config{PublicURL: publicURL, Key: key}); err == nil {
		t.Error("no mailer: accepted")
	}
}

// TestDigest_ManyConversations: a digest lists MaxConversations, most
// recent first, and counts the others and all their messages.
func TestDigest_ManyConversations(t *testing.T) {
	e := newEnv(t)
	ann, bob := e.user("ann", ""), e.user("bob", "")
	n := email.MaxConversations + 2
	for i := range n {
		e.send(e.conversation(fmt.Sprintf("room%02d", i), ann, bob), ann, "hi")
	}
	ch := e.channel(time.Minute)
	ds := e.fanout(ch)
	if len(ds) != 1 {
		t.Fatalf("%d deliveries for %d conversations, want 1", len(ds), n)
	}
	e.advance(time.Minute)
	if err := ch.Deliver(t.Context(), ds[0]); err != nil {
		t.Fatal(err)
	}
	l := e.mb.next(t)
	if got := strings.Count(l.body, "\n* "); got != email.MaxConversations {
		t.Errorf("%d conversations listed, want %d:\n%s", got, email.MaxConversations, l.body)
	}
	if !strings.Contains(l.body, "* room11: 1 unread") || strings.Contains(l.body, "* room00") || !strings.Contains(l.body, "…and 2 more conversations.") {
		t.Errorf("want the newest listed and 2 more counted:\n%s", l.body)
	}
	if l.subject != fmt.Sprintf("%d unread messages on chat.example.com", n) {
		t.Errorf("subject %q", l.subject)
	}
}
