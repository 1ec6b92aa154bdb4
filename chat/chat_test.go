package chat_test

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/confab-chat/confab"
	"github.com/confab-chat/confab/broker/inproc"
	"github.com/confab-chat/confab/chat"
	"github.com/confab-chat/confab/store/sqlite"
	"github.com/google/uuid"
)

// env is a chat.Service over the real SQLite store and in-process broker.
type env struct {
	svc    *chat.Service
	store  confab.Store
	broker confab.Broker
}

// newEnv starts the service. Sends and new conversations are unlimited
// unless cfg sets a rate: most tests go as fast as they can.
func newEnv(t *testing.T, cfg chat.Config, opts ...chat.Option) *env {
	t.Helper()
	if cfg.SendsPerSecond == 0 {
		cfg.SendsPerSecond = -1
	}
	if cfg.ConversationsPerMinute == 0 {
		cfg.ConversationsPerMinute = -1
	}
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "confab.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	br := inproc.New()
	t.Cleanup(func() { br.Close() })
	svc := chat.New(st, br, cfg, opts...)
	t.Cleanup(svc.Close)
	return &env{svc: svc, store: st, broker: br}
}

// user creates an account and returns its identity.
func (e *env) user(t *testing.T, name string) confab.Identity {
	t.Helper()
	id := uuid.NewString()
	err := e.store.InsertAccount(context.Background(), &confab.Account{
		User:         confab.User{UserID: id, Username: name, Email: name + "@example.com", CreatedAt: time.Now().UTC().Truncate(time.Millisecond)},
		PasswordHash: "x",
	})
	if err != nil {
		t.Fatal(err)
	}
	return confab.Identity{UserID: id, Username: name, Email: name + "@example.com"}
}

func (e *env) conversation(t *testing.T, owner confab.Identity, others ...confab.Identity) *confab.Conversation {
	t.Helper()
	var ids []string
	for _, o := range others {
		ids = append(ids, o.UserID)
	}
	c, err := e.svc.CreateConversation(context.Background(), owner, nil, ids)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func (e *env) send(t *testing.T, who confab.Identity, convID, content string) *confab.Message {
	t.Helper()
	m, err := e.svc.SendMessage(context.Background(), who, chat.SendMessageInput{ConversationID: convID, Content: content})
	if err != nil {
		t.Fatalf("SendMessage: %v", err)
	}
	return m
}

func wantCode(t *testing.T, err error, want confab.Code) {
	t.Helper()
	if got := confab.ErrorCode(err); got != want {
		t.Fatalf("error code = %q (%v), want %q", got, err, want)
	}
}

// TestService_Authorization is the authorisation matrix: every operation
// as a member, a non-member and while acting as another user.
func TestService_Authorization(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, chat.Config{})
	alice, bob, eve := e.user(t, "alice"), e.user(t, "bob"), e.user(t, "eve")
	c := e.conversation(t, alice, bob)
	m := e.send(t, bob, c.ConversationID, "hello")
	cid, mid := c.ConversationID, m.MessageID
	name := "renamed"

	ops := []struct {
		name string
		run  func(caller confab.Identity) error
	}{
		{"getConversation", func(id confab.Identity) error { _, err := e.svc.GetConversation(ctx, id, cid); return err }},
		{"updateConversation", func(id confab.Identity) error { _, err := e.svc.UpdateConversation(ctx, id, cid, &name); return err }},
		{"sendMessage", func(id confab.Identity) error {
			_, err := e.svc.SendMessage(ctx, id, chat.SendMessageInput{ConversationID: cid, Content: "x"})
			return err
		}},
		{"getMessage", func(id confab.Identity) error { _, err := e.svc.GetMessage(ctx, id, cid, mid); return err }},
		{"listMessages", func(id confab.Identity) error { _, err := e.svc.ListMessages(ctx, id, cid, nil, nil); return err }},
		{"searchMessages", func(id confab.Identity) error { _, err := e.svc.SearchMessages(ctx, id, cid, "hello", nil); return err }},
		{"markConversationRead", func(id confab.Identity) error { _, err := e.svc.MarkConversationRead(ctx, id, cid, 1); return err }},
		{"onMessageSent", func(id confab.Identity) error {
			ctx, cancel := context.WithCancel(ctx)
			defer cancel()
			_, err := e.svc.OnMessageSent(ctx, id, cid, nil)
			return err
		}},
		{"onMessageDeleted", func(id confab.Identity) error {
			ctx, cancel := context.WithCancel(ctx)
			defer cancel()
			_, err := e.svc.OnMessageDeleted(ctx, id, cid)
			return err
		}},
		{"onUserPresenceUpdated", func(id confab.Identity) error {
			ctx, cancel := context.WithCancel(ctx)
			defer cancel()
			_, err := e.svc.OnUserPresenceUpdated(ctx, id, cid)
			return err
		}},
	}
	for _, op := range ops {
		t.Run(op.name+"/Member", func(t *testing.T) {
			if err := op.run(alice); err != nil {
				t.Fatalf("member: %v", err)
			}
		})
		t.Run(op.name+"/ErrNonMember", func(t *testing.T) { wantCode(t, op.run(eve), confab.CodeNotFound) })
		t.Run(op.name+"/ErrNoCaller", func(t *testing.T) { wantCode(t, op.run(confab.Identity{}), confab.CodeUnauthenticated) })
	}

	// Acting as another user.
	self := []struct {
		name string
		run  func(caller confab.Identity, userID string) error
	}{
		{"listConversations", func(id confab.Identity, u string) error {
			_, err := e.svc.ListConversations(ctx, id, u, nil, nil)
			return err
		}},
		{"updateUserPresence", func(id confab.Identity, u string) error {
			_, err := e.svc.UpdateUserPresence(ctx, id, u, true)
			return err
		}},
		{"updateUserProfile", func(id confab.Identity, u string) error {
			_, err := e.svc.UpdateUserProfile(ctx, id, chat.ProfileUpdate{UserID: u, DisplayName: &name})
			return err
		}},
		{"onConversationUpdated", func(id confab.Identity, u string) error {
			ctx, cancel := context.WithCancel(ctx)
			defer cancel()
			_, err := e.svc.OnConversationUpdated(ctx, id, u)
			return err
		}},
	}
	for _, op := range self {
		t.Run(op.name+"/Self", func(t *testing.T) {
			if err := op.run(alice, alice.UserID); err != nil {
				t.Fatal(err)
			}
		})
		t.Run(op.name+"/ErrOtherUser", func(t *testing.T) { wantCode(t, op.run(eve, alice.UserID), confab.CodeForbidden) })
	}

	t.Run("deleteMessage/ErrNotAuthor", func(t *testing.T) {
		// Bob, a member, not a moderator: alice, the creator and so the
		// owner, may delete his messages (moderation_test.go).
		own := e.send(t, alice, cid, "mine")
		_, err := e.svc.DeleteMessage(ctx, bob, cid, own.MessageID)
		wantCode(t, err, confab.CodeForbidden)
	})
	t.Run("deleteMessage/ErrNonMember", func(t *testing.T) {
		_, err := e.svc.DeleteMessage(ctx, eve, cid, mid)
		wantCode(t, err, confab.CodeNotFound)
	})
	t.Run("nonMemberSameAsMissing", func(t *testing.T) {
		_, hidden := e.svc.GetConversation(ctx, eve, cid)
		_, missing := e.svc.GetConversation(ctx, eve, uuid.NewString())
		if hidden.Error() != missing.Error() {
			t.Fatalf("hidden = %v, missing = %v: must be indistinguishable", hidden, missing)
		}
	})
}

func TestService_SendMessage(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, chat.Config{MaxContentBytes: 100})
	alice, bob := e.user(t, "alice"), e.user(t, "bob")
	c := e.conversation(t, alice, bob)

	t.Run("OK", func(t *testing.T) {
		m := e.send(t, alice, c.ConversationID, "hi")
		if m.Seq != 1 || m.UserID != alice.UserID || m.MessageType != confab.MessageText {
			t.Fatalf("message = %+v", m)
		}
		got, err := e.svc.GetConversation(ctx, bob, c.ConversationID)
		if err != nil {
			t.Fatal(err)
		}
		if got.LastMessage == nil || *got.LastMessage != "hi" || got.MessageCount != 1 || got.LastSeq != 1 {
			t.Fatalf("conversation summary = %+v", got)
		}
	})
	bad := []struct {
		name string
		in   chat.SendMessageInput
	}{
		{"ErrEmpty", chat.SendMessageInput{Content: "   "}},
		{"ErrTooLarge", chat.SendMessageInput{Content: strings.Repeat("x", 101)}},
		{"ErrSystem", chat.SendMessageInput{Content: "x", MessageType: confab.MessageSystem}},
		{"ErrUnknownType", chat.SendMessageInput{Content: "x", MessageType: "VIDEO"}},
		{"ErrInvalidUTF8", chat.SendMessageInput{Content: "\xff\xfe"}},
	}
	for _, tt := range bad {
		t.Run(tt.name, func(t *testing.T) {
			tt.in.ConversationID = c.ConversationID
			_, err := e.svc.SendMessage(ctx, alice, tt.in)
			wantCode(t, err, confab.CodeInvalid)
		})
	}
	t.Run("ClientTokenIdempotent", func(t *testing.T) {
		in := chat.SendMessageInput{ConversationID: c.ConversationID, Content: "once", ClientToken: "tok-1"}
		a, err := e.svc.SendMessage(ctx, alice, in)
		if err != nil {
			t.Fatal(err)
		}
		b, err := e.svc.SendMessage(ctx, alice, in)
		if err != nil {
			t.Fatal(err)
		}
		if a.MessageID != b.MessageID || a.Seq != b.Seq {
			t.Fatalf("retry = %s/%d, want original %s/%d", b.MessageID, b.Seq, a.MessageID, a.Seq)
		}
		in.Content = "different"
		_, err = e.svc.SendMessage(ctx, alice, in)
		wantCode(t, err, confab.CodeConflict)
	})
}

// TestService_SendMessage_RateLimited: each user has a bucket of
// SendBurst sends refilled at SendsPerSecond; over it the send is refused
// with RATE_LIMITED and the wait, stores nothing, and leaves other users'
// budgets alone.
func TestService_SendMessage_RateLimited(t *testing.T) {
	ctx := context.Background()
	var mu sync.Mutex
	now := time.Date(2026, 11, 25, 9, 0, 0, 0, time.UTC)
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	e := newEnv(t, chat.Config{SendsPerSecond: 2, SendBurst: 3}, chat.WithClock(clock))
	svc := e.svc
	alice, bob := e.user(t, "alice"), e.user(t, "bob")
	c := e.conversation(t, alice, bob)
	send := func(who confab.Identity) error {
		_, err := svc.SendMessage(ctx, who, chat.SendMessageInput{ConversationID: c.ConversationID, Content: "x"})
		return err
	}

	for i := range 3 {
		if err := send(alice); err != nil {
			t.Fatalf("send %d of the burst: %v", i+1, err)
		}
	}
	err := send(alice)
	wantCode(t, err, confab.CodeLimited)
	if d := confab.RetryAfter(err); d != 500*time.Millisecond {
		t.Errorf("RetryAfter = %v, want 500ms (one send at 2/s)", d)
	}
	if !strings.Contains(confab.ErrorMessage(err), "Try again in 1 second.") {
		t.Errorf("message %q does not say when to retry", confab.ErrorMessage(err))
	}
	if err := send(bob); err != nil {
		t.Errorf("bob refused because of alice: %v", err)
	}
	got, err := svc.GetConversation(ctx, alice, c.ConversationID)
	if err != nil {
		t.Fatal(err)
	}
	if got.MessageCount != 4 || got.LastSeq != 4 {
		t.Errorf("count %d, last seq %d after 4 accepted sends and 1 refused: want 4, 4", got.MessageCount, got.LastSeq)
	}

	mu.Lock()
	now = now.Add(500 * time.Millisecond)
	mu.Unlock()
	if err := send(alice); err != nil {
		t.Errorf("send after the advertised wait: %v", err)
	}
	wantCode(t, send(alice), confab.CodeLimited)
}

// TestService_SendMessage_Unlimited: a negative SendsPerSecond turns the
// limit off.
func TestService_SendMessage_Unlimited(t *testing.T) {
	e := newEnv(t, chat.Config{SendsPerSecond: -1}) // explicit: the point of the test
	alice := e.user(t, "alice")
	c := e.conversation(t, alice)
	for i := range 200 {
		e.send(t, alice, c.ConversationID, fmt.Sprint("m", i))
	}
}

func TestService_ListMessages_Cursor(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, chat.Config{})
	alice, bob := e.user(t, "alice"), e.user(t, "bob")
	c := e.conversation(t, alice, bob)
	other := e.conversation(t, alice)
	for i := 1; i <= 5; i++ {
		e.send(t, alice, c.ConversationID, fmt.Sprint("m", i))
	}
	two := 2
	p1, err := e.svc.ListMessages(ctx, alice, c.ConversationID, &two, nil)
	if err != nil || len(p1.Items) != 2 || p1.Items[0].Seq != 5 || p1.NextToken == nil {
		t.Fatalf("page 1 = %+v, %v", p1, err)
	}
	e.send(t, bob, c.ConversationID, "new") // an insert between pages must not shift the next page
	p2, err := e.svc.ListMessages(ctx, alice, c.ConversationID, &two, p1.NextToken)
	if err != nil || len(p2.Items) != 2 || p2.Items[0].Seq != 3 {
		t.Fatalf("page 2 = %+v, %v", p2, err)
	}
	t.Run("ErrTampered", func(t *testing.T) {
		tok := *p1.NextToken
		tampered := tok[:len(tok)-2] + "AA"
		_, err := e.svc.ListMessages(ctx, alice, c.ConversationID, &two, &tampered)
		wantCode(t, err, confab.CodeInvalid)
	})
	t.Run("ErrReplayedOnOtherConversation", func(t *testing.T) {
		_, err := e.svc.ListMessages(ctx, alice, other.ConversationID, &two, p1.NextToken)
		wantCode(t, err, confab.CodeInvalid)
	})
	t.Run("ErrLimit", func(t *testing.T) {
		big := 101
		_, err := e.svc.ListMessages(ctx, alice, c.ConversationID, &big, nil)
		wantCode(t, err, confab.CodeInvalid)
	})
}

// collect reads n items (messages, changes) from a stream or fails after
// a deadline.
func collect[T any](t *testing.T, ch <-chan T, n int) []T {
	t.Helper()
	var got []T
	deadline := time.After(10 * time.Second)
	for len(got) < n {
		select {
		case m, ok := <-ch:
			if !ok {
				t.Fatalf("stream closed after %d of %d items", len(got), n)
			}
			got = append(got, m)
		case <-deadline:
			t.Fatalf("got %d of %d items before the deadline", len(got), n)
		}
	}
	return got
}

func wantSeqs(t *testing.T, got []*confab.Message, from int64) {
	t.Helper()
	for i, m := range got {
		if m.Seq != from+int64(i) {
			t.Fatalf("message %d has seq %d, want %d (in order, no gaps, no duplicates)", i, m.Seq, from+int64(i))
		}
	}
}

func TestService_OnMessageSent_OrderedUnderConcurrentSenders(t *testing.T) {
	e := newEnv(t, chat.Config{StreamQueue: 1024})
	alice, bob := e.user(t, "alice"), e.user(t, "bob")
	c := e.conversation(t, alice, bob)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ch, err := e.svc.OnMessageSent(ctx, bob, c.ConversationID, nil)
	if err != nil {
		t.Fatal(err)
	}
	const senders, each = 8, 25
	var wg sync.WaitGroup
	for s := range senders {
		wg.Add(1)
		go func() {
			defer wg.Done()
			who := alice
			if s%2 == 1 {
				who = bob
			}
			for i := range each {
				if _, err := e.svc.SendMessage(context.Background(), who, chat.SendMessageInput{ConversationID: c.ConversationID, Content: fmt.Sprint(s, "-", i)}); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	wantSeqs(t, collect(t, ch, senders*each), 1)
}

func TestService_OnMessageSent_Resume(t *testing.T) {
	e := newEnv(t, chat.Config{MaxResume: 10})
	alice, bob := e.user(t, "alice"), e.user(t, "bob")
	c := e.conversation(t, alice, bob)
	for i := range 5 {
		e.send(t, alice, c.ConversationID, fmt.Sprint("before ", i))
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	after := int64(2)
	ch, err := e.svc.OnMessageSent(ctx, bob, c.ConversationID, &after)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		e.send(t, alice, c.ConversationID, fmt.Sprint("after ", i))
	}
	wantSeqs(t, collect(t, ch, 6), 3) // 3,4,5 replayed, then 6,7,8 live

	t.Run("ErrTooFarBehind", func(t *testing.T) {
		for i := range 12 {
			e.send(t, alice, c.ConversationID, fmt.Sprint("more ", i))
		}
		zero := int64(0)
		_, err := e.svc.OnMessageSent(ctx, bob, c.ConversationID, &zero)
		wantCode(t, err, confab.CodeInvalid)
		if !strings.Contains(confab.ErrorMessage(err), "listMessages") {
			t.Fatalf("message %q should tell the client to page with listMessages", confab.ErrorMessage(err))
		}
	})
	t.Run("ErrBeyondNewest", func(t *testing.T) {
		far := int64(1000)
		_, err := e.svc.OnMessageSent(ctx, bob, c.ConversationID, &far)
		wantCode(t, err, confab.CodeInvalid)
	})
}

// lossyBroker drops the events whose message seq is in drop, standing in
// for a relay between nodes that lost or delayed them.
type lossyBroker struct {
	confab.Broker
	drop map[int64]bool
}

func (b *lossyBroker) Publish(ctx context.Context, topic string, ev *confab.Event) error {
	if ev.Message != nil && b.drop[ev.Message.Seq] {
		return nil
	}
	return b.Broker.Publish(ctx, topic, ev)
}

func TestService_OnMessageSent_FillsGapsFromStore(t *testing.T) {
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "confab.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	br := &lossyBroker{Broker: inproc.New(), drop: map[int64]bool{2: true, 3: true}}
	svc := chat.New(st, br, chat.Config{GapWait: time.Millisecond})
	t.Cleanup(svc.Close)
	e := &env{svc: svc, store: st, broker: br}
	alice, bob := e.user(t, "alice"), e.user(t, "bob")
	c := e.conversation(t, alice, bob)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ch, err := e.svc.OnMessageSent(ctx, bob, c.ConversationID, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 5 {
		e.send(t, alice, c.ConversationID, fmt.Sprint(i))
	}
	wantSeqs(t, collect(t, ch, 5), 1)
}

func TestService_OnMessageSent_SlowConsumerEvicted(t *testing.T) {
	e := newEnv(t, chat.Config{StreamQueue: 4})
	alice, bob := e.user(t, "alice"), e.user(t, "bob")
	c := e.conversation(t, alice, bob)
	evicted := make(chan string, 1)
	ctx, cancel := context.WithCancel(confab.WithStreamHooks(context.Background(), confab.StreamHooks{
		Evict: func(reason string) { evicted <- reason },
	}))
	defer cancel()
	ch, err := e.svc.OnMessageSent(ctx, bob, c.ConversationID, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 5 { // one more than the queue holds; nobody reads
		e.send(t, alice, c.ConversationID, fmt.Sprint(i))
	}
	select {
	case reason := <-evicted:
		if !strings.Contains(reason, "slow consumer") {
			t.Fatalf("reason = %q", reason)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("slow consumer was not evicted")
	}
	n := 0
	for range ch { // the stream ends after what it buffered
		n++
	}
	if n != 4 {
		t.Fatalf("buffered %d messages before the close, want 4", n)
	}
	if st := e.svc.Stats(); st.Evicted != 1 || st.Delivered < 4 {
		t.Fatalf("stats = %+v, want 1 eviction and the 4 deliveries counted", st)
	}
}

func TestService_Presence_FromConnections(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, chat.Config{})
	alice, bob := e.user(t, "alice"), e.user(t, "bob")
	c := e.conversation(t, alice, bob)
	sctx, cancel := context.WithCancel(ctx)
	defer cancel()
	ch, err := e.svc.OnUserPresenceUpdated(sctx, alice, c.ConversationID)
	if err != nil {
		t.Fatal(err)
	}
	release1 := e.svc.Connect(ctx, bob.UserID)
	release2 := e.svc.Connect(ctx, bob.UserID) // a second tab: no new event
	next := func() *confab.User {
		select {
		case u := <-ch:
			return u
		case <-time.After(10 * time.Second):
			t.Fatal("no presence event")
			return nil
		}
	}
	if u := next(); u.UserID != bob.UserID || !u.IsOnline {
		t.Fatalf("after connect: %+v", u)
	}
	release1()
	release2()
	u := next()
	if u.IsOnline || u.LastSeen == nil {
		t.Fatalf("after the last connection closed: online=%v lastSeen=%v", u.IsOnline, u.LastSeen)
	}
	select {
	case extra := <-ch:
		t.Fatalf("unexpected extra presence event %+v", extra)
	default:
	}
}

func TestService_ConversationUpdatedOnSend(t *testing.T) {
	e := newEnv(t, chat.Config{})
	alice, bob := e.user(t, "alice"), e.user(t, "bob")
	c := e.conversation(t, alice, bob)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ch, err := e.svc.OnConversationUpdated(ctx, bob, bob.UserID)
	if err != nil {
		t.Fatal(err)
	}
	e.send(t, alice, c.ConversationID, "ping")
	select {
	case got := <-ch:
		if got.LastMessage == nil || *got.LastMessage != "ping" || chat.UnreadCount(got, bob.UserID) != 1 {
			t.Fatalf("update = %+v", got)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no conversation update")
	}
}

// TestService_Presence_AcrossNodes: two services on one store stand for two
// nodes; a user connected to both stays online until the last connection
// anywhere closes.
func TestService_Presence_AcrossNodes(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, chat.Config{NodeID: "node-a"})
	nodeB := chat.New(e.store, e.broker, chat.Config{NodeID: "node-b"})
	t.Cleanup(nodeB.Close)
	alice, bob := e.user(t, "alice"), e.user(t, "bob")
	c := e.conversation(t, alice, bob)
	sctx, cancel := context.WithCancel(ctx)
	defer cancel()
	ch, err := e.svc.OnUserPresenceUpdated(sctx, alice, c.ConversationID)
	if err != nil {
		t.Fatal(err)
	}
	releaseA := e.svc.Connect(ctx, bob.UserID)
	releaseB := nodeB.Connect(ctx, bob.UserID)
	if u := <-ch; !u.IsOnline {
		t.Fatalf("first connection: %+v", u)
	}
	releaseA()
	if u, err := e.store.GetUser(ctx, bob.UserID); err != nil || !u.IsOnline {
		t.Fatalf("after node A's connection closed, with one on node B: online=%v (%v), want online", u.IsOnline, err)
	}
	releaseB()
	select {
	case u := <-ch:
		if u.IsOnline || u.LastSeen == nil {
			t.Fatalf("after the last connection anywhere: %+v", u)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no offline event")
	}
}

// TestService_LagObserver: each live message queued to a subscriber is
// observed once with its delivery lag; a replayed one (afterSeq) is not.
func TestService_LagObserver(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var mu sync.Mutex
	now := time.Date(2026, 11, 25, 9, 0, 0, 0, time.UTC)
	clock := func() time.Time { // every reading is 3 ms later than the last
		mu.Lock()
		defer mu.Unlock()
		now = now.Add(3 * time.Millisecond)
		return now
	}
	var lags []time.Duration
	e := newEnv(t, chat.Config{}, chat.WithClock(clock),
		chat.WithLagObserver(func(d time.Duration) { mu.Lock(); lags = append(lags, d); mu.Unlock() }))
	svc := e.svc
	alice := e.user(t, "alice")
	c := e.conversation(t, alice)
	e.send(t, alice, c.ConversationID, "before")

	after := int64(0)
	ch, err := svc.OnMessageSent(ctx, alice, c.ConversationID, &after)
	if err != nil {
		t.Fatal(err)
	}
	if m := <-ch; m.Content != "before" {
		t.Fatalf("replay = %q", m.Content)
	}
	e.send(t, alice, c.ConversationID, "live 1")
	e.send(t, alice, c.ConversationID, "live 2")
	for range 2 {
		<-ch
	}
	mu.Lock()
	defer mu.Unlock()
	if len(lags) != 2 {
		t.Fatalf("%d lags observed (%v), want 2: the replayed message is not live", len(lags), lags)
	}
	for _, d := range lags {
		if d <= 0 || d > time.Second {
			t.Errorf("lag %v: want the clock's few steps between send and delivery", d)
		}
	}
}
