package chat_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/confab-chat/confab"
	"github.com/confab-chat/confab/chat"
)

func (e *env) policy(t *testing.T, who confab.Identity, p confab.AddPolicy) {
	t.Helper()
	if _, err := e.svc.UpdateUserProfile(context.Background(), who, chat.ProfileUpdate{UserID: who.UserID, AddPolicy: &p}); err != nil {
		t.Fatal(err)
	}
}

// TestConsent_AddPolicy: ANYONE is added, CONTACTS only by someone they
// share a conversation with, INVITATION never: the others get an
// invitation, told live, and join only by accepting it.
func TestConsent_AddPolicy(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, chat.Config{})
	ann, anyone, contact, stranger, closed := e.user(t, "ann"), e.user(t, "anyone"), e.user(t, "contact"), e.user(t, "stranger"), e.user(t, "closed")
	e.policy(t, contact, confab.AddContacts)
	e.policy(t, stranger, confab.AddContacts)
	e.policy(t, closed, confab.AddInvitation)
	e.conversation(t, contact, ann) // ann and contact share a conversation

	sctx, cancel := context.WithCancel(ctx)
	defer cancel()
	invites, err := e.svc.OnInvitation(sctx, closed, closed.UserID)
	if err != nil {
		t.Fatal(err)
	}
	c, err := e.svc.CreateConversation(ctx, ann, nil, []string{anyone.UserID, contact.UserID, stranger.UserID, closed.UserID})
	if err != nil {
		t.Fatal(err)
	}
	got := c.Participants()
	slices.Sort(got)
	want := []string{ann.UserID, anyone.UserID, contact.UserID}
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Fatalf("members = %s, want %s", got, want)
	}
	inv := collect(t, invites, 1)[0]
	if inv.ConversationID != c.ConversationID || inv.InvitedBy != ann.UserID || inv.Role != confab.RoleMember {
		t.Fatalf("live invitation = %+v", inv)
	}
	// Not a member before accepting.
	_, err = e.svc.ListMessages(ctx, closed, c.ConversationID, nil, nil)
	wantCode(t, err, confab.CodeNotFound)

	// addMembers reports who was invited rather than added.
	res, err := e.svc.AddMembers(ctx, ann, c.ConversationID, []string{stranger.UserID, anyone.UserID}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Added) != 0 || len(res.Invited) != 1 || res.Invited[0] != stranger.UserID {
		t.Fatalf("addMembers = added %v invited %v", res.Added, res.Invited)
	}

	list, err := e.svc.Invitations(ctx, stranger)
	if err != nil || len(list) != 1 || list[0].ConversationID != c.ConversationID {
		t.Fatalf("invitations = %v (%v)", list, err)
	}
	joined, err := e.svc.AcceptInvitation(ctx, stranger, c.ConversationID)
	if err != nil {
		t.Fatal(err)
	}
	if joined.Member(stranger.UserID) == nil {
		t.Fatal("accepting did not make them a member")
	}
	if _, err := e.svc.ListMessages(ctx, stranger, c.ConversationID, nil, nil); err != nil {
		t.Fatalf("after accepting: %v", err)
	}
	if err := e.svc.DeclineInvitation(ctx, closed, c.ConversationID); err != nil {
		t.Fatal(err)
	}
	_, err = e.svc.AcceptInvitation(ctx, closed, c.ConversationID)
	wantCode(t, err, confab.CodeNotFound)
}

// TestConsent_InvitationRace: an accept and a decline (or two accepts) of
// one invitation racing: exactly one wins.
func TestConsent_InvitationRace(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, chat.Config{})
	ann := e.user(t, "ann")
	for round := range 10 {
		bo := e.user(t, fmt.Sprint("bo", round))
		e.policy(t, bo, confab.AddInvitation)
		c := e.conversation(t, ann, bo)
		var wg sync.WaitGroup
		errs := make([]error, 2)
		for i := range errs {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if i == 0 || round%2 == 0 {
					_, errs[i] = e.svc.AcceptInvitation(ctx, bo, c.ConversationID)
				} else {
					errs[i] = e.svc.DeclineInvitation(ctx, bo, c.ConversationID)
				}
			}()
		}
		wg.Wait()
		wins := 0
		for _, err := range errs {
			if err == nil {
				wins++
			} else {
				wantCode(t, err, confab.CodeNotFound)
			}
		}
		if wins != 1 {
			t.Fatalf("round %d: %d answers won (%v), want exactly 1", round, wins, errs)
		}
		after, err := e.store.GetConversation(ctx, c.ConversationID)
		if err != nil {
			t.Fatal(err)
		}
		accepted := errs[0] == nil || (round%2 == 0 && errs[1] == nil)
		if member := after.Member(bo.UserID) != nil; member != accepted {
			t.Fatalf("round %d: member=%v, but the answers returned %v", round, member, errs)
		}
	}
}

// TestConsent_DirectInvitation: a direct conversation with someone whose
// policy refuses is created, for now as a group of the caller (the store
// keys a direct pair by both members), with an invitation for them.
func TestConsent_DirectInvitation(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, chat.Config{})
	ann, bo := e.user(t, "ann"), e.user(t, "bo")
	e.policy(t, bo, confab.AddInvitation)
	d, err := e.svc.CreateDirectConversation(ctx, ann, nil, []string{bo.UserID})
	if err != nil {
		t.Fatal(err)
	}
	if d.Member(bo.UserID) != nil {
		t.Fatalf("direct conversation before accepting: %+v", d)
	}
	joined, err := e.svc.AcceptInvitation(ctx, bo, d.ConversationID)
	if err != nil || len(joined.Members) != 2 {
		t.Fatalf("accept = %+v (%v)", joined, err)
	}
}

// TestBlocks: a block, either way, refuses adding and direct
// conversations without saying who blocked whom; the blocker stops seeing
// the blocked user's messages in lists, searches and live; unblocking
// shows them again.
func TestBlocks(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, chat.Config{})
	ann, bo, cy := e.user(t, "ann"), e.user(t, "bo"), e.user(t, "cy")
	c := e.conversation(t, ann, bo, cy)
	id := c.ConversationID
	e.send(t, bo, id, "hello from bo")
	e.send(t, cy, id, "hello from cy")

	sctx, cancel := context.WithCancel(ctx)
	defer cancel()
	live, err := e.svc.OnMessageSent(sctx, ann, id, nil)
	if err != nil {
		t.Fatal(err)
	}
	changes, err := e.svc.OnConversationChanged(sctx, ann, id, nil)
	if err != nil {
		t.Fatal(err)
	}

	if err := e.svc.BlockUser(ctx, ann, bo.UserID); err != nil {
		t.Fatal(err)
	}
	blocked, err := e.svc.BlockedUsers(ctx, ann)
	if err != nil || len(blocked) != 1 || blocked[0].UserID != bo.UserID {
		t.Fatalf("blockedUsers = %v (%v)", blocked, err)
	}
	wantCode(t, e.svc.BlockUser(ctx, ann, ann.UserID), confab.CodeInvalid)
	wantCode(t, e.svc.BlockUser(ctx, ann, "no-such-user"), confab.CodeNotFound)

	// Both ways, and the message names who cannot be added, not who blocked.
	for _, tc := range []struct{ from, to confab.Identity }{{ann, bo}, {bo, ann}} {
		_, err := e.svc.CreateDirectConversation(ctx, tc.from, nil, []string{tc.to.UserID})
		wantCode(t, err, confab.CodeForbidden)
		if msg := confab.ErrorMessage(err); !strings.Contains(msg, tc.to.Username) || strings.Contains(msg, "block") {
			t.Errorf("refusal says %q", msg)
		}
		_, err = e.svc.CreateConversation(ctx, tc.from, nil, []string{tc.to.UserID, cy.UserID})
		wantCode(t, err, confab.CodeForbidden)
		g := e.conversation(t, tc.from, cy)
		_, err = e.svc.AddMembers(ctx, tc.from, g.ConversationID, []string{tc.to.UserID}, nil)
		wantCode(t, err, confab.CodeForbidden)
	}

	e.send(t, bo, id, "hidden from ann")
	e.send(t, cy, id, "shown to ann")
	if m := collect(t, live, 1)[0]; m.Content != "shown to ann" {
		t.Fatalf("ann's live stream got %q first, want cy's message (bo's hidden)", m.Content)
	}
	for _, ch := range collect(t, changes, 1) {
		if ch.Message == nil || ch.Message.UserID != cy.UserID {
			t.Fatalf("ann's change stream got %+v first, want cy's message", ch)
		}
	}
	page, err := e.svc.ListMessages(ctx, ann, id, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range page.Items {
		if m.UserID == bo.UserID {
			t.Fatalf("listMessages shows bo's %q to ann", m.Content)
		}
	}
	if len(page.Items) != 2 {
		t.Fatalf("ann sees %d messages, want cy's 2", len(page.Items))
	}
	hits, err := e.svc.SearchMessages(ctx, ann, id, "hello", nil)
	if err != nil || len(hits) != 1 || hits[0].UserID != cy.UserID {
		t.Fatalf("search = %v (%v), want cy's hello only", hits, err)
	}
	all, err := e.svc.SearchAllMessages(ctx, ann, "hello", nil, nil)
	if err != nil || len(all.Items) != 1 {
		t.Fatalf("searchAll = %v (%v), want cy's hello only", all, err)
	}
	// bo still sees everything: the block hides only from the blocker.
	if p, err := e.svc.ListMessages(ctx, bo, id, nil, nil); err != nil || len(p.Items) != 4 {
		t.Fatalf("bo sees %v (%v)", p, err)
	}

	if err := e.svc.UnblockUser(ctx, ann, bo.UserID); err != nil {
		t.Fatal(err)
	}
	e.send(t, bo, id, "visible again")
	deadline := time.After(10 * time.Second)
	for {
		select {
		case m := <-live:
			if m.Content == "visible again" {
				return
			}
		case <-deadline:
			t.Fatal("bo's message after the unblock never reached ann's live stream")
		}
	}
}

// TestBlocks_AcrossNodes: a block made through one node hides messages
// from lists served by another (its cached block list is dropped through
// the control topic).
func TestBlocks_AcrossNodes(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, chat.Config{})
	nodeB := chat.New(e.store, e.broker, chat.Config{SendsPerSecond: -1})
	t.Cleanup(nodeB.Close)
	ann, bo := e.user(t, "ann"), e.user(t, "bo")
	c := e.conversation(t, ann, bo)
	e.send(t, bo, c.ConversationID, "hi")
	if p, err := nodeB.ListMessages(ctx, ann, c.ConversationID, nil, nil); err != nil || len(p.Items) != 1 {
		t.Fatalf("before the block: %v (%v)", p, err)
	}
	if err := e.svc.BlockUser(ctx, ann, bo.UserID); err != nil {
		t.Fatal(err)
	}
	if p, err := nodeB.ListMessages(ctx, ann, c.ConversationID, nil, nil); err != nil || len(p.Items) != 0 {
		t.Fatalf("node B after the block on node A: %d messages (%v), want none", len(p.Items), err)
	}
}

// TestConsent_Bans: a user banned from a conversation cannot be added to
// it nor accept an invitation to it (an expired ban no longer counts).
func TestConsent_Bans(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, chat.Config{})
	ann, bo, cy := e.user(t, "ann"), e.user(t, "bo"), e.user(t, "cy")
	e.policy(t, cy, confab.AddInvitation)
	c := e.conversation(t, ann, cy) // cy is invited
	now := time.Now().UTC().Truncate(time.Millisecond)
	past := now.Add(-time.Minute)
	for _, b := range []*confab.Ban{
		{ConversationID: c.ConversationID, UserID: bo.UserID, BannedBy: ann.UserID, CreatedAt: now},
		{ConversationID: c.ConversationID, UserID: cy.UserID, BannedBy: ann.UserID, CreatedAt: now},
	} {
		if err := e.store.PutBan(ctx, b); err != nil {
			t.Fatal(err)
		}
	}
	_, err := e.svc.AddMembers(ctx, ann, c.ConversationID, []string{bo.UserID}, nil)
	wantCode(t, err, confab.CodeForbidden)
	_, err = e.svc.AcceptInvitation(ctx, cy, c.ConversationID)
	wantCode(t, err, confab.CodeForbidden)

	if err := e.store.PutBan(ctx, &confab.Ban{ConversationID: c.ConversationID, UserID: bo.UserID, BannedBy: ann.UserID,
		CreatedAt: past, Until: &past}); err != nil {
		t.Fatal(err)
	}
	if res, err := e.svc.AddMembers(ctx, ann, c.ConversationID, []string{bo.UserID}, nil); err != nil || len(res.Added) != 1 {
		t.Fatalf("after the ban expired: %v (%v)", res, err)
	}
}
