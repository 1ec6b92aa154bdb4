package storetest

import (
	"fmt"

	"github.com/confab-chat/confab"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

var reactionTests = []test{
	{"AddReaction/TwiceIsOneNoChange", testAddReactionIdempotent},
	{"AddReaction/MaxKeysLimited", testAddReactionMaxKeys},
	{"AddReaction/NotLiveNotFound", testAddReactionNotFound},
	{"RemoveReaction/WithoutOneNoChange", testRemoveReactionNone},
	{"RemoveReaction/NotLiveNotFound", testRemoveReactionNotFound},
	{"ListReactions/CountsOrderUsersByUser", testListReactions},
	{"ListReactions/OnlyMessagesWithReactions", testListReactionsOnlyWith},
}

func (f *fixture) reaction(m *confab.Message, u *confab.User, key string) *confab.Reaction {
	return &confab.Reaction{ConversationID: m.ConversationID, MessageID: m.MessageID, UserID: u.UserID, Key: key, At: f.now()}
}

func (f *fixture) reactions(c *confab.Conversation, ids []string, userID string, usersPerKey int) map[string][]confab.ReactionCount {
	f.t.Helper()
	got, err := f.s.ListReactions(f.ctx, c.ConversationID, ids, userID, usersPerKey)
	if err != nil {
		f.t.Fatalf("ListReactions: %v", err)
	}
	return got
}

func testAddReactionIdempotent(f *fixture) {
	ann, bo := f.user("ann"), f.user("bo")
	c := f.conversation(ann, bo)
	m := f.send(c, ann, "hi")
	r := f.reaction(m, bo, "🎉")
	added, got, err := f.s.AddReaction(f.ctx, r, confab.DefaultMaxReactionKeys)
	if err != nil || !added || got == nil || got.MessageID != m.MessageID || got.ChangeSeq != 2 {
		f.t.Fatalf("AddReaction = %v, %+v, %v; want added, the message with ChangeSeq 2", added, got, err)
	}
	again := f.reaction(m, bo, "🎉")
	added, got, err = f.s.AddReaction(f.ctx, again, confab.DefaultMaxReactionKeys)
	if err != nil || added {
		f.t.Fatalf("AddReaction again = %v, %v; want not added, no error", added, err)
	}
	if got == nil || got.MessageID != m.MessageID || got.ChangeSeq != 2 {
		f.t.Fatalf("AddReaction again returned %+v, want the message unchanged (ChangeSeq 2)", got)
	}
	if last := f.lastChange(c); last != 2 {
		f.t.Fatalf("LastChangeSeq = %d after adding a reaction twice, want 2 (one change)", last)
	}
	counts := f.reactions(c, []string{m.MessageID}, bo.UserID, 10)[m.MessageID]
	want := []confab.ReactionCount{{Key: "🎉", Count: 1, UserIDs: []string{bo.UserID}, ByUser: true, FirstAt: r.At}}
	if diff := cmp.Diff(want, counts); diff != "" {
		f.t.Fatalf("reactions after adding one twice (-want +got):\n%s", diff)
	}
}

// testAddReactionMaxKeys: a new key beyond maxKeys is CodeLimited with
// nothing written; an existing key may still be added by others.
func testAddReactionMaxKeys(f *fixture) {
	ann, bo := f.user("ann"), f.user("bo")
	c := f.conversation(ann, bo)
	m := f.send(c, ann, "hi")
	f.react(m, ann, "a")
	r := f.reaction(m, ann, "b")
	if added, _, err := f.s.AddReaction(f.ctx, r, 2); err != nil || !added {
		f.t.Fatalf("second key with maxKeys 2 = %v, %v", added, err)
	}
	last := f.lastChange(c)
	added, _, err := f.s.AddReaction(f.ctx, f.reaction(m, bo, "c"), 2)
	f.wantCode(err, confab.CodeLimited)
	if added || f.lastChange(c) != last {
		f.t.Fatalf("a limited reaction: added %v, LastChangeSeq %d (was %d); want nothing written", added, f.lastChange(c), last)
	}
	if added, _, err := f.s.AddReaction(f.ctx, f.reaction(m, bo, "a"), 2); err != nil || !added {
		f.t.Fatalf("an existing key by another user at maxKeys = %v, %v; want added", added, err)
	}
	counts := f.reactions(c, []string{m.MessageID}, ann.UserID, 10)[m.MessageID]
	if len(counts) != 2 || counts[0].Key != "a" || counts[0].Count != 2 || counts[1].Key != "b" {
		f.t.Fatalf("reactions = %+v, want a×2, b×1 and no c", counts)
	}
}

func testAddReactionNotFound(f *fixture) {
	ann := f.user("ann")
	c, other := f.conversation(ann), f.conversation(ann)
	m := f.send(c, ann, "x")
	gone := f.send(c, ann, "deleted")
	f.deleteMessage(gone)
	last := f.lastChange(c)
	for _, r := range []*confab.Reaction{
		f.reaction(gone, ann, "x"),
		{ConversationID: c.ConversationID, MessageID: "missing", UserID: ann.UserID, Key: "x", At: f.now()},
		{ConversationID: other.ConversationID, MessageID: m.MessageID, UserID: ann.UserID, Key: "x", At: f.now()},
	} {
		added, _, err := f.s.AddReaction(f.ctx, r, confab.DefaultMaxReactionKeys)
		f.wantCode(err, confab.CodeNotFound)
		if added {
			f.t.Fatal("added = true with an error")
		}
	}
	if f.lastChange(c) != last || f.lastChange(other) != 0 {
		f.t.Fatal("a refused reaction appended a change")
	}
}

func testRemoveReactionNone(f *fixture) {
	ann, bo := f.user("ann"), f.user("bo")
	c := f.conversation(ann, bo)
	m := f.send(c, ann, "hi")
	f.react(m, ann, "x")
	for _, r := range []*confab.Reaction{f.reaction(m, bo, "x"), f.reaction(m, ann, "y")} {
		removed, got, err := f.s.RemoveReaction(f.ctx, r)
		if err != nil || removed || got == nil || got.ChangeSeq != 2 {
			f.t.Fatalf("RemoveReaction(%s, %q) without one = %v, %+v, %v; want not removed, the message (ChangeSeq 2)", r.UserID, r.Key, removed, got, err)
		}
	}
	if last := f.lastChange(c); last != 2 {
		f.t.Fatalf("LastChangeSeq = %d, want 2 (nothing removed, nothing appended)", last)
	}
	got := f.unreact(m, ann, "x")
	if got.ChangeSeq != 3 {
		f.t.Fatalf("RemoveReaction's message ChangeSeq = %d, want 3", got.ChangeSeq)
	}
	if _, ok := f.reactions(c, []string{m.MessageID}, ann.UserID, 10)[m.MessageID]; ok {
		f.t.Fatal("a message whose only reaction was removed still has an entry")
	}
	removed, _, err := f.s.RemoveReaction(f.ctx, f.reaction(m, ann, "x"))
	if err != nil || removed {
		f.t.Fatalf("RemoveReaction a second time = %v, %v; want not removed", removed, err)
	}
}

func testRemoveReactionNotFound(f *fixture) {
	ann := f.user("ann")
	c := f.conversation(ann)
	m := f.send(c, ann, "x")
	f.react(m, ann, "x")
	f.deleteMessage(m)
	last := f.lastChange(c)
	removed, _, err := f.s.RemoveReaction(f.ctx, f.reaction(m, ann, "x"))
	f.wantCode(err, confab.CodeNotFound)
	if removed || f.lastChange(c) != last {
		f.t.Fatal("RemoveReaction on a deleted message removed or appended something")
	}
	_, _, err = f.s.RemoveReaction(f.ctx, &confab.Reaction{ConversationID: c.ConversationID, MessageID: "missing", UserID: ann.UserID, Key: "x", At: f.now()})
	f.wantCode(err, confab.CodeNotFound)
}

// testListReactions: keys in the order of their first reaction, counts,
// the earliest reactors first up to usersPerKey, ByUser for the reader;
// a key whose first reaction was removed takes its next one's time.
func testListReactions(f *fixture) {
	users := make([]*confab.User, 4)
	for i := range users {
		users[i] = f.user(fmt.Sprint("u", i))
	}
	ann, bo, cy, di := users[0], users[1], users[2], users[3]
	c := f.conversation(users...)
	m := f.send(c, ann, "react to me")
	rs := map[string]*confab.Reaction{}
	for _, r := range []struct {
		u   *confab.User
		key string
	}{{bo, "z"}, {ann, "👍"}, {cy, "z"}, {di, "z"}, {cy, "👍"}, {ann, ":a:"}} {
		rs[r.u.UserID+r.key] = f.reaction(m, r.u, r.key)
		if added, _, err := f.s.AddReaction(f.ctx, rs[r.u.UserID+r.key], confab.DefaultMaxReactionKeys); err != nil || !added {
			f.t.Fatalf("AddReaction: %v, %v", added, err)
		}
	}
	got := f.reactions(c, []string{m.MessageID}, cy.UserID, 2)
	want := map[string][]confab.ReactionCount{m.MessageID: {
		{Key: "z", Count: 3, UserIDs: []string{bo.UserID, cy.UserID}, ByUser: true, FirstAt: rs[bo.UserID+"z"].At},
		{Key: "👍", Count: 2, UserIDs: []string{ann.UserID, cy.UserID}, ByUser: true, FirstAt: rs[ann.UserID+"👍"].At},
		{Key: ":a:", Count: 1, UserIDs: []string{ann.UserID}, ByUser: false, FirstAt: rs[ann.UserID+":a:"].At},
	}}
	if diff := cmp.Diff(want, got); diff != "" {
		f.t.Fatalf("ListReactions for cy, 2 users a key (-want +got):\n%s", diff)
	}
	f.unreact(m, bo, "z")
	got = f.reactions(c, []string{m.MessageID}, di.UserID, 1)
	want = map[string][]confab.ReactionCount{m.MessageID: {
		{Key: "👍", Count: 2, UserIDs: []string{ann.UserID}, ByUser: false, FirstAt: rs[ann.UserID+"👍"].At},
		{Key: "z", Count: 2, UserIDs: []string{cy.UserID}, ByUser: true, FirstAt: rs[cy.UserID+"z"].At},
		{Key: ":a:", Count: 1, UserIDs: []string{ann.UserID}, ByUser: false, FirstAt: rs[ann.UserID+":a:"].At},
	}}
	if diff := cmp.Diff(want, got); diff != "" {
		f.t.Fatalf("ListReactions for di after bo's z went (-want +got):\n%s", diff)
	}
}

// testListReactionsOnlyWith reads a page of ids: those without reactions,
// missing or of another conversation have no entry; reactions of one
// message do not leak into another's.
func testListReactionsOnlyWith(f *fixture) {
	ann, bo := f.user("ann"), f.user("bo")
	c, other := f.conversation(ann, bo), f.conversation(ann)
	m1 := f.send(c, ann, "one")
	m2 := f.send(c, ann, "two")
	m3 := f.send(c, ann, "three")
	elsewhere := f.send(other, ann, "elsewhere")
	f.react(m1, bo, "x")
	f.react(m3, ann, "y")
	f.react(elsewhere, ann, "z")
	got := f.reactions(c, []string{m1.MessageID, m2.MessageID, m3.MessageID, "missing", elsewhere.MessageID}, ann.UserID, 10)
	keys := map[string][]string{}
	for id, counts := range got {
		for _, rc := range counts {
			keys[id] = append(keys[id], rc.Key)
		}
	}
	want := map[string][]string{m1.MessageID: {"x"}, m3.MessageID: {"y"}}
	if diff := cmp.Diff(want, keys, cmpopts.EquateEmpty()); diff != "" {
		f.t.Fatalf("ListReactions keys by message (-want +got):\n%s", diff)
	}
	if got[m1.MessageID][0].ByUser || !got[m3.MessageID][0].ByUser {
		f.t.Fatalf("ByUser for ann = %v on m1 (bo's), %v on m3 (hers)", got[m1.MessageID][0].ByUser, got[m3.MessageID][0].ByUser)
	}
	if got := f.reactions(c, nil, ann.UserID, 10); len(got) != 0 {
		f.t.Fatalf("ListReactions of no ids = %v, want none", got)
	}
}
