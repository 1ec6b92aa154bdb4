package main

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/confab-chat/confab"
	"github.com/confab-chat/confab/store/dynamodb"
)

// TestMain_Moderation: the moderation API over POST /graphql through the
// real Main on 127.0.0.1: the owner deletes a member's message (the
// tombstone says who), mutes and unmutes, bans; members report; the
// audit log pages; a member is no moderator. On each of featureStores.
func TestMain_Moderation(t *testing.T) {
	for _, st := range featureStores {
		t.Run(st.name, func(t *testing.T) {
			flags := st.flags(t)
			a := runMain(t, flags...)
			testModeration(t, a, func(userID string) { grantAdmin(t, a, flags, userID) })
		})
	}
}

// grantAdmin makes the user a server admin in the store a runs on.
func grantAdmin(t *testing.T, a *app, flags []string, userID string) {
	t.Helper()
	ctx := context.Background()
	engine, url := "sqlite", ""
	if len(flags) == 4 && flags[1] == "postgres" {
		engine, url = "postgres", flags[3]
	}
	st, err := openStore(ctx, engine, a.data, url, dynamodb.Config{}, "")
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	yes := true
	if _, err := st.UpdateUser(ctx, userID, confab.UserUpdate{Admin: &yes, UpdatedAt: time.Now().UTC()}); err != nil {
		t.Fatal(err)
	}
}

func testModeration(t *testing.T, a *app, grantAdmin func(userID string)) {
	alice, bob, carol := a.signUp(t, "alice"), a.signUp(t, "bob"), a.signUp(t, "carol")
	cid := a.mustGQL(t, alice.idToken, createConv, map[string]any{"p": []string{bob.userID, carol.userID}})["createConversation"].(map[string]any)["conversationId"].(string)
	send := func(who *account) (int, map[string]any) {
		return a.gql(t, who.idToken, sendMsg, map[string]any{"c": cid, "t": "hello from " + who.email})
	}
	msgID := func(body map[string]any) string {
		return body["data"].(map[string]any)["sendMessage"].(map[string]any)["messageId"].(string)
	}
	_, sent := send(bob)
	bobMsg := msgID(sent)

	const del = `mutation($c:ID!,$m:ID!){ deleteMessage(conversationId:$c, messageId:$m){ messageId deletedBy } }`
	if _, body := a.gql(t, carol.idToken, del, map[string]any{"c": cid, "m": bobMsg}); errCode(body) != "FORBIDDEN" {
		t.Fatalf("a member deleting another's message: %v, want FORBIDDEN", body)
	}
	d := a.mustGQL(t, alice.idToken, del, map[string]any{"c": cid, "m": bobMsg})["deleteMessage"].(map[string]any)
	if d["deletedBy"] != alice.userID {
		t.Errorf("deletedBy = %v, want the owner", d["deletedBy"])
	}

	const mute = `mutation($c:ID!,$u:ID!,$t:AWSDateTime!,$r:String){ muteMember(conversationId:$c, userId:$u, until:$t, reason:$r){ conversationId } }`
	until := time.Now().Add(time.Hour).UTC().Format(time.RFC3339)
	a.mustGQL(t, alice.idToken, mute, map[string]any{"c": cid, "u": bob.userID, "t": until, "r": "cool down"})
	if _, body := send(bob); errCode(body) != "FORBIDDEN" {
		t.Fatalf("a muted member's send: %v, want FORBIDDEN", body)
	}
	a.mustGQL(t, alice.idToken, `mutation($c:ID!,$u:ID!){ unmuteMember(conversationId:$c, userId:$u){ conversationId } }`, map[string]any{"c": cid, "u": bob.userID})
	_, sent = send(bob)
	if errCode(sent) != "" {
		t.Fatalf("send after unmute: %v", sent)
	}
	_, sent = send(carol)
	carolMsg := msgID(sent)

	const report = `mutation($c:ID!,$m:ID!,$r:String!){ reportMessage(conversationId:$c, messageId:$m, reason:$r) }`
	for range 2 { // the second report is accepted and changes nothing
		if r := a.mustGQL(t, bob.idToken, report, map[string]any{"c": cid, "m": carolMsg, "r": "spam"}); r["reportMessage"] != true {
			t.Fatalf("reportMessage = %v", r)
		}
	}
	if r := a.mustGQL(t, bob.idToken, `mutation($u:ID!){ reportUser(userId:$u, reason:"rude") }`, map[string]any{"u": carol.userID}); r["reportUser"] != true {
		t.Fatalf("reportUser = %v", r)
	}

	const ban = `mutation($c:ID!,$u:ID!){ banMember(conversationId:$c, userId:$u, reason:"spam") }`
	if _, body := a.gql(t, bob.idToken, ban, map[string]any{"c": cid, "u": carol.userID}); errCode(body) != "FORBIDDEN" {
		t.Fatalf("a member banning: %v, want FORBIDDEN", body)
	}
	a.mustGQL(t, alice.idToken, ban, map[string]any{"c": cid, "u": carol.userID})
	if _, body := send(carol); errCode(body) != "NOT_FOUND" {
		t.Fatalf("a banned member's send: %v, want NOT_FOUND", body)
	}
	bans := a.mustGQL(t, alice.idToken, `query($c:ID!){ conversationBans(conversationId:$c){ userId bannedBy reason until } }`, map[string]any{"c": cid})["conversationBans"].([]any)
	if len(bans) != 1 || bans[0].(map[string]any)["userId"] != carol.userID || bans[0].(map[string]any)["until"] != nil || bans[0].(map[string]any)["reason"] != "spam" {
		t.Fatalf("conversationBans = %v", bans)
	}

	// A server admin moderates a conversation they are not in.
	root := a.signUp(t, "root")
	grantAdmin(root.userID)
	_, sent = send(bob)
	if d := a.mustGQL(t, root.idToken, del, map[string]any{"c": cid, "m": msgID(sent)})["deleteMessage"].(map[string]any); d["deletedBy"] != root.userID {
		t.Errorf("deletedBy = %v, want the server admin", d["deletedBy"])
	}

	const audit = `query($c:ID!,$n:String){ conversationAuditLog(conversationId:$c, limit:3, nextToken:$n){ items { action actorId userId reason until at } nextToken } }`
	if _, body := a.gql(t, bob.idToken, audit, map[string]any{"c": cid}); errCode(body) != "FORBIDDEN" {
		t.Fatalf("a member reading the audit log: %v, want FORBIDDEN", body)
	}
	var actions []string
	var token any
	for {
		page := a.mustGQL(t, alice.idToken, audit, map[string]any{"c": cid, "n": token})["conversationAuditLog"].(map[string]any)
		for _, it := range page["items"].([]any) {
			e := it.(map[string]any)
			if e["action"] == "MEMBER_MUTED" && (e["reason"] != "cool down" || e["until"] == nil) {
				t.Errorf("mute entry %v: want its reason and end", e)
			}
			actor := "alice"
			if e["actorId"] == root.userID {
				actor = "root"
			} else if e["actorId"] != alice.userID {
				actor = fmt.Sprint(e["actorId"])
			}
			actions = append(actions, e["action"].(string)+" by "+actor)
		}
		if token = page["nextToken"]; token == nil {
			break
		}
	}
	want := "MESSAGE_DELETED by root, USER_BANNED by alice, MEMBER_UNMUTED by alice, MEMBER_MUTED by alice, MESSAGE_DELETED by alice"
	if got := strings.Join(actions, ", "); got != want {
		t.Fatalf("audit log = %s\nwant        %s", got, want)
	}
}
