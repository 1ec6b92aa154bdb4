// Package storetest is the contract every confab.Store must pass. Run
// checks the properties that the Store interface's doc comments promise,
// through the interface only, so SQLite, PostgreSQL and later engines run
// the very same suite against their real engine.
//
// It imports only the root package, the standard library and go-cmp. It
// never skips: a backend that cannot run it decides that before calling Run.
package storetest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/confab-chat/confab"
)

// Run runs the contract suite, one parallel subtest per property, named
// <Method>/<Property>. open must return a fresh, empty store and register
// its own cleanup (t.Cleanup); each subtest calls it once.
func Run(t *testing.T, open func(t *testing.T) confab.Store) {
	var tests []test
	for _, group := range [][]test{userTests, tokenTests, credentialTests, conversationTests, messageTests, searchTests, purgeTests, presenceTests, limitTests, previewTests,
		changeTests, reactionTests, editTests, threadTests, mentionTests, searchAllTests, purgeChangeTests,
		membershipTests, moderationTests, adminTests} {
		tests = append(tests, group...)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tt.fn(newFixture(t, open(t)))
		})
	}
}

// test is one property of the contract.
type test struct {
	name string
	fn   func(f *fixture)
}

// fixture is one subtest's store with deterministic clocks and ids. Its
// methods are safe for concurrent use; those that fail the test call
// t.Fatal and so belong on the test's goroutine.
type fixture struct {
	t   *testing.T
	s   confab.Store
	ctx context.Context

	mu    sync.Mutex // guards clock and n
	clock time.Time
	n     int
}

func newFixture(t *testing.T, s confab.Store) *fixture {
	return &fixture{t: t, s: s, ctx: t.Context(), clock: time.Date(2026, 11, 25, 6, 0, 0, 0, time.UTC)}
}

// now returns a millisecond-precision UTC instant, one millisecond later
// at every call, so orders by time are deterministic.
func (f *fixture) now() time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.clock = f.clock.Add(time.Millisecond)
	return f.clock
}

// id returns a new id with the given prefix; ids sort in creation order.
func (f *fixture) id(prefix string) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.n++
	return fmt.Sprintf("%s-%06d", prefix, f.n)
}

// wantCode fails unless err has the code want. A store words nothing for
// users (the services do), so its *confab.Error carries no Message.
func (f *fixture) wantCode(err error, want confab.Code) {
	f.t.Helper()
	if got := confab.ErrorCode(err); got != want {
		f.t.Fatalf("error code = %q (%v), want %q", got, err, want)
	}
	var e *confab.Error
	if errors.As(err, &e) && e.Message != "" {
		f.t.Fatalf("error %v has the user-facing message %q; a store leaves it to the service", err, e.Message)
	}
}

func (f *fixture) newUser(name string) confab.User {
	id := f.id("u")
	return confab.User{UserID: id, Username: name + "-" + id, Email: name + "-" + id + "@Example.com", CreatedAt: f.now()}
}

// user inserts a new account and returns its user.
func (f *fixture) user(name string) *confab.User {
	f.t.Helper()
	u := f.newUser(name)
	if err := f.s.InsertAccount(f.ctx, &confab.Account{User: u, PasswordHash: "hash-of-" + name}); err != nil {
		f.t.Fatalf("InsertAccount: %v", err)
	}
	return &u
}

// conversation inserts a conversation of members, created by the first.
func (f *fixture) conversation(members ...*confab.User) *confab.Conversation {
	f.t.Helper()
	at := f.now()
	c := &confab.Conversation{ConversationID: f.id("c"), CreatedBy: members[0].UserID, CreatedAt: at}
	for _, m := range members {
		c.Members = append(c.Members, confab.Member{UserID: m.UserID, JoinedAt: at})
	}
	if err := f.s.InsertConversation(f.ctx, c); err != nil {
		f.t.Fatalf("InsertConversation: %v", err)
	}
	return c
}

func (f *fixture) newMessage(c *confab.Conversation, u *confab.User, content string) *confab.Message {
	return &confab.Message{MessageID: f.id("m"), ConversationID: c.ConversationID, UserID: u.UserID,
		Content: content, MessageType: confab.MessageText, CreatedAt: f.now()}
}

// send appends a new message and fails unless it was created.
func (f *fixture) send(c *confab.Conversation, u *confab.User, content string) *confab.Message {
	f.t.Helper()
	m := f.newMessage(c, u, content)
	created, err := f.s.AppendMessage(f.ctx, m)
	if err != nil || !created {
		f.t.Fatalf("AppendMessage = %v, %v; want created", created, err)
	}
	return m
}

func (f *fixture) getConversation(id string) *confab.Conversation {
	f.t.Helper()
	c, err := f.s.GetConversation(f.ctx, id)
	if err != nil {
		f.t.Fatalf("GetConversation: %v", err)
	}
	return c
}

// seqs returns the seqs of msgs, for compact messages.
func seqs(msgs []*confab.Message) []int64 {
	s := make([]int64, len(msgs))
	for i, m := range msgs {
		s[i] = m.Seq
	}
	return s
}

func ptr[T any](v T) *T { return &v }
