package chat_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/confab-chat/confab"
	"github.com/confab-chat/confab/chat"
)

// Issue 18: getUser and findUser showed anyone's email, isOnline and
// lastSeen to anyone. A user sees their own record; a stranger sees
// neither email nor presence; a user who shares a conversation sees
// presence, and the email only when the deployment opts in.
func TestService_Privacy_StrangersAndMembers(t *testing.T) {
	for _, show := range []string{"", chat.ShowEmailsMembers} {
		t.Run("ShowEmails="+show, func(t *testing.T) {
			ctx := context.Background()
			e := newEnv(t, chat.Config{ShowEmails: show})
			alice, bob, carol := e.user(t, "alice"), e.user(t, "bob"), e.user(t, "carol")
			e.conversation(t, alice, bob)
			release := e.svc.Connect(ctx, alice.UserID)
			defer release()

			self, err := e.svc.GetUser(ctx, alice, alice.UserID)
			if err != nil || self.Email != "alice@example.com" || !self.IsOnline {
				t.Fatalf("alice's own record = %+v, %v; want her email and presence", self, err)
			}
			stranger, err := e.svc.GetUser(ctx, carol, alice.UserID)
			if err != nil {
				t.Fatal(err)
			}
			if stranger.Email != confab.HiddenEmail || stranger.IsOnline || stranger.LastSeen != nil {
				t.Errorf("a stranger sees email %q, online %v, lastSeen %v; want %q, offline, never", stranger.Email, stranger.IsOnline, stranger.LastSeen, confab.HiddenEmail)
			}
			if stranger.Username != "alice" {
				t.Errorf("a stranger sees username %q, want the profile", stranger.Username)
			}
			member, err := e.svc.GetUser(ctx, bob, alice.UserID)
			if err != nil {
				t.Fatal(err)
			}
			if !member.IsOnline {
				t.Errorf("a member sees alice offline; want her presence")
			}
			wantEmail := confab.HiddenEmail
			if show == chat.ShowEmailsMembers {
				wantEmail = "alice@example.com"
			}
			if member.Email != wantEmail {
				t.Errorf("a member sees email %q, want %q", member.Email, wantEmail)
			}

			byName, err := e.svc.FindUser(ctx, carol, "alice")
			if err != nil {
				t.Fatal(err)
			}
			if byName.Email != confab.HiddenEmail || byName.IsOnline {
				t.Errorf("findUser(username) by a stranger: email %q, online %v; want the address hidden", byName.Email, byName.IsOnline)
			}
			byEmail, err := e.svc.FindUser(ctx, carol, "Alice@Example.com")
			if err != nil {
				t.Fatal(err)
			}
			if byEmail.UserID != alice.UserID || byEmail.Email != "alice@example.com" || byEmail.IsOnline {
				t.Errorf("findUser(email) by a stranger = %+v; want alice with the typed address, no presence", byEmail)
			}
			if u, err := e.svc.GetUser(ctx, alice, alice.UserID); err != nil || u.Email != "alice@example.com" {
				t.Errorf("the store must keep the email: %+v, %v", u, err)
			}
		})
	}
}

// A user who hides presence is offline and never seen to everyone else,
// members included; the members' live view is told once, and later
// connections publish nothing.
func TestService_Privacy_HidePresence(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, chat.Config{})
	alice, bob, dan := e.user(t, "alice"), e.user(t, "bob"), e.user(t, "dan")
	c := e.conversation(t, alice, bob, dan)
	release := e.svc.Connect(ctx, alice.UserID)
	defer release()
	sctx, cancel := context.WithCancel(ctx)
	defer cancel()
	ch, err := e.svc.OnUserPresenceUpdated(sctx, bob, c.ConversationID)
	if err != nil {
		t.Fatal(err)
	}
	next := func() *confab.User {
		t.Helper()
		select {
		case u := <-ch:
			return u
		case <-time.After(10 * time.Second):
			t.Fatal("no presence event")
			return nil
		}
	}

	hide := true
	me, err := e.svc.UpdateUserProfile(ctx, alice, chat.ProfileUpdate{UserID: alice.UserID, HidePresence: &hide})
	if err != nil || !me.HidePresence {
		t.Fatalf("UpdateUserProfile(hidePresence) = %+v, %v", me, err)
	}
	if u := next(); u.UserID != alice.UserID || u.IsOnline || u.LastSeen != nil || u.HidePresence {
		t.Fatalf("members' live view after hiding: %+v; want alice offline, never seen", u)
	}
	u, err := e.svc.GetUser(ctx, bob, alice.UserID)
	if err != nil || u.IsOnline || u.LastSeen != nil || u.HidePresence {
		t.Fatalf("a member's getUser of a hidden user = %+v, %v; want offline, never seen", u, err)
	}
	self, err := e.svc.GetUser(ctx, alice, alice.UserID)
	if err != nil || !self.IsOnline || !self.HidePresence {
		t.Fatalf("alice's own record = %+v, %v; want her presence and her choice", self, err)
	}

	// alice's next connection publishes nothing: the next event bob gets
	// is dan's.
	release2 := e.svc.Connect(ctx, alice.UserID)
	release2()
	releaseDan := e.svc.Connect(ctx, dan.UserID)
	defer releaseDan()
	if u := next(); u.UserID != dan.UserID {
		t.Fatalf("event about %s (online %v) while alice hides presence; want dan's", u.Username, u.IsOnline)
	}
}

// Message.author is what a member sees, whoever asks and whoever wrote it:
// one rendering serves every subscriber.
func TestService_Authors_MemberView(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, chat.Config{})
	alice, bob, carol := e.user(t, "alice"), e.user(t, "bob"), e.user(t, "carol")
	c := e.conversation(t, alice, bob)
	release := e.svc.Connect(ctx, alice.UserID)
	defer release()
	for _, caller := range []confab.Identity{alice, bob} {
		users, err := e.svc.Authors(ctx, caller, c.ConversationID, []string{alice.UserID, carol.UserID})
		if err != nil {
			t.Fatal(err)
		}
		if len(users) != 1 || users[0].UserID != alice.UserID {
			t.Fatalf("Authors as %s = %+v; want alice only (carol is no member)", caller.Username, users)
		}
		if u := users[0]; u.Email != confab.HiddenEmail || !u.IsOnline {
			t.Errorf("author as %s sees: email %q online %v; want the member view", caller.Username, u.Email, u.IsOnline)
		}
	}
	_, err := e.svc.Authors(ctx, carol, c.ConversationID, []string{alice.UserID})
	wantCode(t, err, confab.CodeNotFound)
}

// Issue 18: one user created 60 conversations with strangers in 0.1 s.
func TestService_CreateConversation_RateLimited(t *testing.T) {
	ctx := context.Background()
	var mu sync.Mutex
	now := time.Date(2026, 11, 25, 9, 0, 0, 0, time.UTC)
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	e := newEnv(t, chat.Config{ConversationsPerMinute: 3}, chat.WithClock(clock))
	alice, bob, carol := e.user(t, "alice"), e.user(t, "bob"), e.user(t, "carol")
	create := func(who, with confab.Identity) error {
		_, err := e.svc.CreateConversation(ctx, who, nil, []string{with.UserID})
		return err
	}
	for i := range 3 {
		if err := create(alice, bob); err != nil {
			t.Fatalf("conversation %d of the burst: %v", i+1, err)
		}
	}
	err := create(alice, carol)
	wantCode(t, err, confab.CodeLimited)
	if d := confab.RetryAfter(err); d != 20*time.Second {
		t.Errorf("RetryAfter = %v, want 20s (3 a minute)", d)
	}
	if err := create(bob, carol); err != nil {
		t.Errorf("bob refused because of alice: %v", err)
	}
	mu.Lock()
	now = now.Add(20 * time.Second)
	mu.Unlock()
	if err := create(alice, carol); err != nil {
		t.Errorf("after the advertised wait: %v", err)
	}
}
