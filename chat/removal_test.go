package chat_test

import (
	"context"
	"testing"
	"time"

	"github.com/confab-chat/confab"
	"github.com/confab-chat/confab/chat"
)

// waitClosed fails unless ch closes within the deadline (items before the
// close are skipped).
func waitClosed[T any](t *testing.T, name string, ch <-chan T) {
	t.Helper()
	deadline := time.After(10 * time.Second)
	for {
		select {
		case _, ok := <-ch:
			if !ok {
				return
			}
		case <-deadline:
			t.Fatalf("%s: the removed member's stream did not end", name)
		}
	}
}

// TestRemoval_EndsStreamsOnEveryNode: every stream a removed member has
// on the conversation, on the node that removed them and on another one,
// ends at once; from then on their reads answer NOT_FOUND on both nodes;
// the other members' streams go on.
func TestRemoval_EndsStreamsOnEveryNode(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, chat.Config{})
	nodeB := chat.New(e.store, e.broker, chat.Config{SendsPerSecond: -1, ConversationsPerMinute: -1})
	t.Cleanup(nodeB.Close)
	ann, bo, cy := e.user(t, "ann"), e.user(t, "bo"), e.user(t, "cy")
	c := e.conversation(t, ann, bo, cy)
	id := c.ConversationID
	sctx, cancel := context.WithCancel(ctx)
	defer cancel()

	type streamOf struct {
		name string
		wait func()
	}
	var streams []streamOf
	for node, svc := range map[string]*chat.Service{"A": e.svc, "B": nodeB} {
		sent, err := svc.OnMessageSent(sctx, bo, id, nil)
		if err != nil {
			t.Fatal(err)
		}
		changed, err := svc.OnConversationChanged(sctx, bo, id, nil)
		if err != nil {
			t.Fatal(err)
		}
		typing, err := svc.OnTyping(sctx, bo, id)
		if err != nil {
			t.Fatal(err)
		}
		receipts, err := svc.OnReadReceipt(sctx, bo, id)
		if err != nil {
			t.Fatal(err)
		}
		deleted, err := svc.OnMessageDeleted(sctx, bo, id)
		if err != nil {
			t.Fatal(err)
		}
		presence, err := svc.OnUserPresenceUpdated(sctx, bo, id)
		if err != nil {
			t.Fatal(err)
		}
		streams = append(streams,
			streamOf{node + "/onMessageSent", func() { waitClosed(t, node+"/onMessageSent", sent) }},
			streamOf{node + "/onConversationChanged", func() { waitClosed(t, node+"/onConversationChanged", changed) }},
			streamOf{node + "/onTyping", func() { waitClosed(t, node+"/onTyping", typing) }},
			streamOf{node + "/onReadReceipt", func() { waitClosed(t, node+"/onReadReceipt", receipts) }},
			streamOf{node + "/onMessageDeleted", func() { waitClosed(t, node+"/onMessageDeleted", deleted) }},
			streamOf{node + "/onUserPresenceUpdated", func() { waitClosed(t, node+"/onUserPresenceUpdated", presence) }},
		)
	}
	cyOnB, err := nodeB.OnMessageSent(sctx, cy, id, nil)
	if err != nil {
		t.Fatal(err)
	}
	// bo's reads are cached on both nodes before the removal.
	for _, svc := range []*chat.Service{e.svc, nodeB} {
		if _, err := svc.ListMessages(ctx, bo, id, nil, nil); err != nil {
			t.Fatal(err)
		}
	}

	if _, err := e.svc.RemoveMember(ctx, ann, id, bo.UserID, nil); err != nil {
		t.Fatal(err)
	}
	for _, s := range streams {
		s.wait()
	}
	for node, svc := range map[string]*chat.Service{"A": e.svc, "B": nodeB} {
		_, err := svc.ListMessages(ctx, bo, id, nil, nil)
		wantCode(t, err, confab.CodeNotFound)
		_, err = svc.SyncConversation(ctx, bo, id, 0, nil)
		wantCode(t, err, confab.CodeNotFound)
		_, err = svc.OnMessageSent(sctx, bo, id, nil)
		if confab.ErrorCode(err) != confab.CodeNotFound {
			t.Fatalf("node %s: a removed member subscribes: %v", node, err)
		}
		_, err = svc.SendMessage(ctx, bo, chat.SendMessageInput{ConversationID: id, Content: "still here?"})
		wantCode(t, err, confab.CodeNotFound)
	}
	e.send(t, cy, id, "after bo left")
	if m := collect(t, cyOnB, 1)[0]; m.Content != "after bo left" {
		t.Fatalf("cy's stream on node B: %q", m.Content)
	}
}

// TestRemoval_TellsLists: a removal reaches the removed member's
// conversation list (without them in it) and the others' change stream
// as MEMBER_REMOVED.
func TestRemoval_TellsLists(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, chat.Config{})
	ann, bo := e.user(t, "ann"), e.user(t, "bo")
	c := e.conversation(t, ann, bo)
	sctx, cancel := context.WithCancel(ctx)
	defer cancel()
	lists, err := e.svc.OnConversationUpdated(sctx, bo, bo.UserID)
	if err != nil {
		t.Fatal(err)
	}
	changes, err := e.svc.OnConversationChanged(sctx, ann, c.ConversationID, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.RemoveMember(ctx, ann, c.ConversationID, bo.UserID, nil); err != nil {
		t.Fatal(err)
	}
	got := collect(t, lists, 1)[0]
	if got.ConversationID != c.ConversationID || got.Member(bo.UserID) != nil {
		t.Fatalf("bo's list got %+v, want the conversation without bo", got)
	}
	ch := collect(t, changes, 1)[0]
	if ch.Kind != confab.ChangeMemberRemoved || ch.MemberID != bo.UserID || ch.UserID != ann.UserID {
		t.Fatalf("change = %+v", ch)
	}
	// The change log a client syncs from has it too.
	page, err := e.svc.SyncConversation(ctx, ann, c.ConversationID, 0, nil)
	if err != nil || len(page.Changes) == 0 || page.Changes[len(page.Changes)-1].Kind != confab.ChangeMemberRemoved {
		t.Fatalf("sync = %+v (%v)", page, err)
	}
}

// TestMembershipCache_AcrossNodes: a role given through one node counts
// at once on another that had the conversation cached.
func TestMembershipCache_AcrossNodes(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, chat.Config{})
	nodeB := chat.New(e.store, e.broker, chat.Config{SendsPerSecond: -1})
	t.Cleanup(nodeB.Close)
	ann, bo, cy := e.user(t, "ann"), e.user(t, "bo"), e.user(t, "cy")
	c := e.conversation(t, ann, bo)
	_, err := nodeB.UpdateConversationSettings(ctx, bo, c.ConversationID, chat.SettingsInput{SlowModeSeconds: ptr(10)})
	wantCode(t, err, confab.CodeForbidden) // cached on node B: bo is a MEMBER
	if _, err := e.svc.SetMemberRole(ctx, ann, c.ConversationID, bo.UserID, confab.RoleAdmin); err != nil {
		t.Fatal(err)
	}
	if _, err := nodeB.UpdateConversationSettings(ctx, bo, c.ConversationID, chat.SettingsInput{SlowModeSeconds: ptr(10)}); err != nil {
		t.Fatalf("node B after bo became admin on node A: %v", err)
	}
	// And a member added on one node reads on the other.
	_, err = nodeB.ListMessages(ctx, cy, c.ConversationID, nil, nil)
	wantCode(t, err, confab.CodeNotFound)
	if _, err := e.svc.AddMembers(ctx, ann, c.ConversationID, []string{cy.UserID}, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := nodeB.ListMessages(ctx, cy, c.ConversationID, nil, nil); err != nil {
		t.Fatalf("node B after cy was added on node A: %v", err)
	}
}
