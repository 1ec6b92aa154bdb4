package main

import (
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

const (
	removeMemberMut = `mutation($c:ID!,$u:ID!){ removeMember(conversationId:$c, userId:$u){ conversationId participants } }`
	convChangedSub  = `subscription($c:ID!){ onConversationChanged(conversationId:$c){ changeSeq kind memberId } }`
	msgSentSub      = `subscription($c:ID!){ onMessageSent(conversationId:$c){ seq content } }`
	convUpdatedSub  = `subscription($u:ID!){ onConversationUpdated(userId:$u){ conversationId participants myRole members { items { userId role } } } }`
)

// frames reads the raw frames of either real-time protocol.
type frames interface {
	frame() map[string]any
}

// subscriber is the subscribing half of a liveSub.
type subscriber interface {
	subscribe(id, query string, vars map[string]any)
}

type gqlwsFrames struct{ ws *wsClient }

func (f gqlwsFrames) subscribe(id, query string, vars map[string]any) {
	gqlwsLive(f).subscribe(id, query, vars)
}

func (f gqlwsFrames) frame() map[string]any { return f.ws.read() }

type appsyncFrames struct{ live appsyncLive }

func (f appsyncFrames) subscribe(id, query string, vars map[string]any) {
	f.live.subscribe(id, query, vars)
}

func (f appsyncFrames) frame() map[string]any { return f.live.c.read(false) }

// dialFrames connects acct on protocol and subscribes to onMessageSent
// (id "m"), onConversationChanged ("c") and onTyping ("t") of cid.
func dialFrames(t *testing.T, a *app, protocol string, acct *account, cid string) frames {
	t.Helper()
	s := dialLive(t, a, protocol, acct)
	vars := map[string]any{"c": cid}
	s.subscribe("m", msgSentSub, vars)
	s.subscribe("c", convChangedSub, vars)
	s.subscribe("t", onTypingSub, vars)
	if l, ok := s.(appsyncLive); ok {
		return appsyncFrames{l}
	}
	return gqlwsFrames{s.(gqlwsLive).ws}
}

// wantCompleted reads frames until each of ids completed; an error frame
// or anything but a result fails. It returns the results read meanwhile
// (their data, by subscription id).
func wantCompleted(t *testing.T, name string, f frames, ids ...string) map[string][]map[string]any {
	t.Helper()
	open := make(map[string]bool)
	for _, id := range ids {
		open[id] = true
	}
	results := make(map[string][]map[string]any)
	for len(open) > 0 {
		m := f.frame()
		id, _ := m["id"].(string)
		switch m["type"] {
		case "complete":
			delete(open, id)
		case "next", "data": // a result that was on its way
			data, _ := m["payload"].(map[string]any)["data"].(map[string]any)
			results[id] = append(results[id], data)
		default:
			t.Fatalf("%s: frame %v while waiting for %v to complete", name, m, open)
		}
	}
	return results
}

func mustCID(t *testing.T, a *app, acct *account, others ...*account) string {
	t.Helper()
	var ids []string
	for _, o := range others {
		ids = append(ids, o.userID)
	}
	return a.mustGQL(t, acct.idToken, createConv, map[string]any{"p": ids})["createConversation"].(map[string]any)["conversationId"].(string)
}

// TestMain_RemovalEndsSubscriptions: removing a member ends their live
// subscriptions to the conversation at once, over graphql-transport-ws
// and the AppSync protocol, and their reads answer NOT_FOUND from then
// on; the other member's subscription goes on.
func TestMain_RemovalEndsSubscriptions(t *testing.T) {
	a := runMain(t)
	for _, protocol := range []string{"graphql-ws", "appsync"} {
		t.Run(protocol, func(t *testing.T) {
			alice, bob, cy := a.signUp(t, "alice"), a.signUp(t, "bob"), a.signUp(t, "cy")
			cid := mustCID(t, a, alice, bob, cy)
			bobLive := dialFrames(t, a, protocol, bob, cid)
			bobLive.(subscriber).subscribe("u", convUpdatedSub, map[string]any{"u": bob.userID})
			cyLive := dialLive(t, a, protocol, cy)
			cyLive.subscribe("m", msgSentSub, map[string]any{"c": cid})
			waitSubscriptions(t, a, "onTyping", 1)
			waitSubscriptions(t, a, "onMessageSent", 2)

			a.mustGQL(t, alice.idToken, removeMemberMut, map[string]any{"c": cid, "u": bob.userID})
			results := wantCompleted(t, "bob", bobLive, "m", "c", "t")
			// bob's list drops it: the conversation comes once more, without him.
			for len(results["u"]) == 0 {
				m := bobLive.frame()
				if m["type"] != "next" && m["type"] != "data" {
					t.Fatalf("bob after the removal: %v", m)
				}
				results[m["id"].(string)] = append(results[m["id"].(string)], m["payload"].(map[string]any)["data"].(map[string]any))
			}
			conv := results["u"][0]["onConversationUpdated"].(map[string]any)
			if conv["conversationId"] != cid || conv["myRole"] != nil || slices.Contains(conv["participants"].([]any), any(bob.userID)) ||
				len(conv["members"].(map[string]any)["items"].([]any)) != 2 {
				t.Fatalf("bob's last update of the conversation: %v", conv)
			}
			_, body := a.gql(t, bob.idToken, listMsgs, map[string]any{"c": cid, "n": nil})
			if code := errCode(body); code != "NOT_FOUND" {
				t.Fatalf("bob's listMessages after removal: %v", body)
			}
			a.mustGQL(t, alice.idToken, sendMsg, map[string]any{"c": cid, "t": "after bob"})
			if id, data := cyLive.next(); id != "m" || fmt.Sprint(data["onMessageSent"].(map[string]any)["content"]) != "after bob" {
				t.Fatalf("cy's subscription: %s %v", id, data)
			}
		})
	}
}

// TestMultiNode_RemovalEndsSubscriptions: two confab processes on one
// PostgreSQL and one NATS. A member removed through node A loses their
// subscriptions on node B at once, on both protocols, and node B, which
// had their membership cached, answers their reads NOT_FOUND.
func TestMultiNode_RemovalEndsSubscriptions(t *testing.T) {
	pg := postgresURL(t)
	natsURL := startNATS(t)
	bin := buildBinary(t)
	keyDir := t.TempDir()
	shared := []string{"--store", "postgres", "--postgres", pg, "--broker", "nats", "--nats", natsURL, "--key-file", filepath.Join(keyDir, "key.pem")}
	_, nodeA := startProcess(t, bin, append([]string{"--data", t.TempDir()}, shared...)...)
	_, nodeB := startProcess(t, bin, append([]string{"--data", t.TempDir()}, shared...)...)

	alice, bob := nodeA.signUp(t, "alice"), nodeA.signUp(t, "bob")
	cid := mustCID(t, nodeA, alice, bob)
	viaGQLWS := dialFrames(t, nodeB, "graphql-ws", bob, cid)
	viaAppSync := dialFrames(t, nodeB, "appsync", bob, cid)
	// Every stream started (an ordered stream's start reads the store: a
	// removal during it refuses the subscription with NOT_FOUND instead).
	for _, field := range []string{"onTyping", "onMessageSent", "onConversationChanged"} {
		waitSubscriptions(t, nodeB, field, 2)
	}
	nodeB.mustGQL(t, bob.idToken, listMsgs, map[string]any{"c": cid, "n": nil}) // cached on B

	nodeA.mustGQL(t, alice.idToken, removeMemberMut, map[string]any{"c": cid, "u": bob.userID})
	wantCompleted(t, "graphql-ws on B", viaGQLWS, "m", "c", "t")
	wantCompleted(t, "appsync on B", viaAppSync, "m", "c", "t")
	_, body := nodeB.gql(t, bob.idToken, listMsgs, map[string]any{"c": cid, "n": nil})
	if code := errCode(body); code != "NOT_FOUND" {
		t.Fatalf("bob's listMessages on B after removal on A: %v", body)
	}
}

// TestMain_MembershipAPI walks the membership API over HTTP: members
// pages, myRole and settings, direct conversations, consent with
// invitations, blocks, and the caller-only addPolicy.
func TestMain_MembershipAPI(t *testing.T) {
	a := runMain(t)
	alice, bob, cy, dan := a.signUp(t, "alice"), a.signUp(t, "bob"), a.signUp(t, "cy"), a.signUp(t, "dan")
	cid := mustCID(t, a, alice, bob, cy)

	q := `query($c:ID!,$n:String){ getConversation(conversationId:$c){ direct archivedAt myRole
		settings { addMembers post react slowModeSeconds }
		members(limit:2, nextToken:$n){ items { userId role user { username } } nextToken } } }`
	conv := a.mustGQL(t, alice.idToken, q, map[string]any{"c": cid})["getConversation"].(map[string]any)
	if conv["myRole"] != "OWNER" || conv["direct"] != false || conv["archivedAt"] != nil {
		t.Fatalf("conversation = %v", conv)
	}
	if s := fmt.Sprint(conv["settings"]); s != "map[addMembers:MEMBER post:MEMBER react:MEMBER slowModeSeconds:0]" {
		t.Fatalf("settings = %s", s)
	}
	roles := map[string]any{}
	page := conv["members"].(map[string]any)
	if len(page["items"].([]any)) != 2 || page["nextToken"] == nil {
		t.Fatalf("first members page = %v", page)
	}
	for _, it := range page["items"].([]any) {
		roles[it.(map[string]any)["userId"].(string)] = it.(map[string]any)["role"]
	}
	conv = a.mustGQL(t, bob.idToken, q, map[string]any{"c": cid, "n": page["nextToken"]})["getConversation"].(map[string]any)
	page = conv["members"].(map[string]any)
	if len(page["items"].([]any)) != 1 || page["nextToken"] != nil || conv["myRole"] != "MEMBER" {
		t.Fatalf("second members page (as bob) = %v", conv)
	}
	for _, it := range page["items"].([]any) {
		roles[it.(map[string]any)["userId"].(string)] = it.(map[string]any)["role"]
	}
	if want := fmt.Sprint(map[string]any{alice.userID: "OWNER", bob.userID: "MEMBER", cy.userID: "MEMBER"}); fmt.Sprint(roles) != want {
		t.Fatalf("members over both pages = %v, want %s", roles, want)
	}

	// Consent: dan takes invitations only.
	me := `query { me { userId addPolicy isAdmin } }`
	a.mustGQL(t, dan.idToken, `mutation($u:ID!){ updateUserProfile(input:{userId:$u, addPolicy:INVITATION}){ userId } }`, map[string]any{"u": dan.userID})
	if got := fmt.Sprint(a.mustGQL(t, dan.idToken, me, nil)["me"]); got != fmt.Sprintf("map[addPolicy:INVITATION isAdmin:false userId:%s]", dan.userID) {
		t.Fatalf("me = %s", got)
	}
	other := a.mustGQL(t, alice.idToken, `query($u:ID!){ getUser(userId:$u){ addPolicy } }`, map[string]any{"u": dan.userID})["getUser"].(map[string]any)
	if other["addPolicy"] != nil {
		t.Fatalf("alice sees dan's addPolicy: %v", other)
	}
	res := a.mustGQL(t, alice.idToken, `mutation($c:ID!,$u:[ID!]!){ addMembers(conversationId:$c, userIds:$u){ added invited } }`,
		map[string]any{"c": cid, "u": []string{dan.userID}})["addMembers"].(map[string]any)
	if fmt.Sprint(res) != fmt.Sprintf("map[added:[] invited:[%s]]", dan.userID) {
		t.Fatalf("addMembers = %v", res)
	}
	invs := a.mustGQL(t, dan.idToken, `query { invitations { conversationId conversationName invitedBy inviter { username } role } }`, nil)["invitations"].([]any)
	if len(invs) != 1 {
		t.Fatalf("invitations = %v", invs)
	}
	inv := invs[0].(map[string]any)
	inviter, _ := inv["inviter"].(map[string]any)
	if inv["conversationId"] != cid || inv["conversationName"] != "team" || inv["invitedBy"] != alice.userID || inv["role"] != "MEMBER" ||
		inviter == nil || !strings.HasPrefix(inviter["username"].(string), "alice") {
		t.Fatalf("invitation = %v", inv)
	}
	a.mustGQL(t, dan.idToken, `mutation($c:ID!){ acceptInvitation(conversationId:$c){ conversationId } }`, map[string]any{"c": cid})
	a.mustGQL(t, dan.idToken, listMsgs, map[string]any{"c": cid, "n": nil})

	// Direct conversations are unique per pair.
	direct := `mutation($p:[ID!]!){ createConversation(input:{participants:$p, direct:true}){ conversationId direct participants } }`
	d1 := a.mustGQL(t, alice.idToken, direct, map[string]any{"p": []string{bob.userID}})["createConversation"].(map[string]any)
	d2 := a.mustGQL(t, bob.idToken, direct, map[string]any{"p": []string{alice.userID}})["createConversation"].(map[string]any)
	if d1["direct"] != true || d1["conversationId"] != d2["conversationId"] {
		t.Fatalf("direct conversations %v and %v", d1, d2)
	}
	_, body := a.gql(t, alice.idToken, `mutation($c:ID!,$u:[ID!]!){ addMembers(conversationId:$c, userIds:$u){ added } }`,
		map[string]any{"c": d1["conversationId"], "u": []string{cy.userID}})
	if errCode(body) != "BAD_USER_INPUT" {
		t.Fatalf("adding to a direct conversation: %v", body)
	}

	// Blocks.
	a.mustGQL(t, cy.idToken, `mutation($u:ID!){ blockUser(userId:$u) }`, map[string]any{"u": alice.userID})
	blocked := a.mustGQL(t, cy.idToken, `query { blockedUsers { userId } }`, nil)["blockedUsers"].([]any)
	if len(blocked) != 1 || blocked[0].(map[string]any)["userId"] != alice.userID {
		t.Fatalf("blockedUsers = %v", blocked)
	}
	_, body = a.gql(t, alice.idToken, direct, map[string]any{"p": []string{cy.userID}})
	if errCode(body) != "FORBIDDEN" {
		t.Fatalf("a direct conversation with who blocked you: %v", body)
	}
}
