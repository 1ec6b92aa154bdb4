package main

import (
	"encoding/json"
	"testing"
)

// featureStores are the stores the conversation features run on end to
// end: the embedded default and PostgreSQL (skipped without
// CONFAB_TEST_POSTGRES unless CONFAB_TEST_REQUIRE asks for it).
var featureStores = []struct {
	name  string
	flags func(t *testing.T) []string
}{
	{"SQLite", func(*testing.T) []string { return nil }},
	{"PostgreSQL", func(t *testing.T) []string { return []string{"--store", "postgres", "--postgres", postgresURL(t)} }},
}

// TestMain_ConversationFeatures: edits, reactions, threads and mentions
// over POST /graphql through the real Main, with the security matrix's
// sample: a non-member sees nothing, nobody edits another's message.
func TestMain_ConversationFeatures(t *testing.T) {
	for _, st := range featureStores {
		t.Run(st.name, func(t *testing.T) { testConversationFeatures(t, runMain(t, st.flags(t)...)) })
	}
}

func testConversationFeatures(t *testing.T, a *app) {
	alice, bob, eve := a.signUp(t, "alice"), a.signUp(t, "bob"), a.signUp(t, "eve")
	cid := a.mustGQL(t, alice.idToken, createConv, map[string]any{"p": []string{bob.userID}})["createConversation"].(map[string]any)["conversationId"].(string)
	field := func(data map[string]any, name string) map[string]any { return data[name].(map[string]any) }

	const send = `mutation($c:ID!,$t:String!,$p:ID,$also:Boolean,$m:[ID!]){ sendMessage(input:{conversationId:$c, content:$t, parentMessageId:$p, alsoInConversation:$also, mentions:$m}){ messageId seq parentMessageId mentions } }`
	root := field(a.mustGQL(t, alice.idToken, send, map[string]any{"c": cid, "t": "root @bob", "m": []string{bob.userID, bob.userID}}), "sendMessage")
	rootID := root["messageId"].(string)
	if m := root["mentions"].([]any); len(m) != 1 || m[0] != bob.userID {
		t.Fatalf("mentions = %v, want [bob]", m)
	}
	reply := field(a.mustGQL(t, bob.idToken, send, map[string]any{"c": cid, "t": "reply", "p": rootID}), "sendMessage")
	nested := field(a.mustGQL(t, bob.idToken, send, map[string]any{"c": cid, "t": "nested", "p": reply["messageId"], "also": true}), "sendMessage")
	if nested["parentMessageId"] != rootID {
		t.Fatalf("a reply to a reply has parent %v, want the root", nested["parentMessageId"])
	}

	const edit = `mutation($c:ID!,$m:ID!,$t:String!){ editMessage(conversationId:$c, messageId:$m, content:$t){ content editedAt edits { content } } }`
	edited := field(a.mustGQL(t, alice.idToken, edit, map[string]any{"c": cid, "m": rootID, "t": "root, edited"}), "editMessage")
	if edited["content"] != "root, edited" || edited["editedAt"] == nil || len(edited["edits"].([]any)) != 1 {
		t.Fatalf("editMessage = %v", edited)
	}
	const react = `mutation($c:ID!,$m:ID!,$k:String!){ addReaction(conversationId:$c, messageId:$m, key:$k){ reactions { key count reactedByMe userIds } } }`
	for range 2 {
		a.mustGQL(t, bob.idToken, react, map[string]any{"c": cid, "m": rootID, "k": "👍"})
	}

	const list = `query($c:ID!){ listMessages(conversationId:$c){ items { content replyCount unreadReplies mentions editedAt
		reactions { key count reactedByMe userIds } } } }`
	items := field(a.mustGQL(t, alice.idToken, list, map[string]any{"c": cid}), "listMessages")["items"].([]any)
	if len(items) != 2 {
		t.Fatalf("timeline = %v; want the reply sent also to the conversation and the root", items)
	}
	top := items[1].(map[string]any)
	r := top["reactions"].([]any)[0].(map[string]any)
	if top["replyCount"] != 2.0 || top["unreadReplies"] != 2.0 || r["count"] != 1.0 || r["reactedByMe"] != false || r["userIds"].([]any)[0] != bob.userID {
		t.Fatalf("root as alice sees it = %v", top)
	}
	const thread = `query($c:ID!,$p:ID!){ listThread(conversationId:$c, parentMessageId:$p, newestFirst:true){ items { content } } }`
	th := field(a.mustGQL(t, alice.idToken, thread, map[string]any{"c": cid, "p": rootID}), "listThread")["items"].([]any)
	if len(th) != 2 || th[0].(map[string]any)["content"] != "nested" {
		t.Fatalf("thread newest first = %v", th)
	}
	const mark = `mutation($c:ID!,$p:ID!,$s:Int!){ markThreadRead(conversationId:$c, parentMessageId:$p, seq:$s){ messageId unreadReplies } }`
	marked := field(a.mustGQL(t, alice.idToken, mark, map[string]any{"c": cid, "p": rootID, "s": nested["seq"]}), "markThreadRead")
	if marked["messageId"] != rootID || marked["unreadReplies"] != 0.0 {
		t.Fatalf("markThreadRead = %v", marked)
	}

	for _, tt := range []struct {
		name, token, query string
		vars               map[string]any
		code               string
	}{
		{"editMessage/ErrNotAuthor", bob.idToken, edit, map[string]any{"c": cid, "m": rootID, "t": "bob's words"}, "FORBIDDEN"},
		{"editMessage/ErrNonMember", eve.idToken, edit, map[string]any{"c": cid, "m": rootID, "t": "eve's words"}, "NOT_FOUND"},
		{"addReaction/ErrNonMember", eve.idToken, react, map[string]any{"c": cid, "m": rootID, "k": "👍"}, "NOT_FOUND"},
		{"addReaction/ErrBadKey", bob.idToken, react, map[string]any{"c": cid, "m": rootID, "k": "a b"}, "BAD_USER_INPUT"},
		{"listThread/ErrNonMember", eve.idToken, thread, map[string]any{"c": cid, "p": rootID}, "NOT_FOUND"},
		{"markThreadRead/ErrNonMember", eve.idToken, mark, map[string]any{"c": cid, "p": rootID, "s": 1}, "NOT_FOUND"},
		{"sendMessage/ErrMentionStranger", alice.idToken, send, map[string]any{"c": cid, "t": "hi", "m": []string{eve.userID}}, "BAD_USER_INPUT"},
		{"sendMessage/ErrReplyNonMember", eve.idToken, send, map[string]any{"c": cid, "t": "hi", "p": rootID}, "NOT_FOUND"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, body := a.gql(t, tt.token, tt.query, tt.vars)
			if got := errCode(body); got != tt.code {
				t.Fatalf("code = %q (%v), want %s", got, body, tt.code)
			}
		})
	}
	if got := field(a.mustGQL(t, alice.idToken, list, map[string]any{"c": cid}), "listMessages")["items"].([]any)[1].(map[string]any)["editedAt"]; got != edited["editedAt"] {
		t.Fatalf("a refused edit changed the message: editedAt %v, want %v", got, edited["editedAt"])
	}
}

// TestMain_SharedSubscriptionCallerIndependent: onMessageSent is rendered
// once for every subscriber with the same document; selecting the fields
// that depend on the caller (reactions.reactedByMe, unreadReplies) must
// not show one subscriber's view to another. Both get the message as sent.
func TestMain_SharedSubscriptionCallerIndependent(t *testing.T) {
	for _, st := range featureStores {
		t.Run(st.name, func(t *testing.T) { testSharedSubscriptionCallerIndependent(t, runMain(t, st.flags(t)...)) })
	}
}

func testSharedSubscriptionCallerIndependent(t *testing.T, a *app) {
	alice, bob := a.signUp(t, "alice"), a.signUp(t, "bob")
	cid := a.mustGQL(t, alice.idToken, createConv, map[string]any{"p": []string{bob.userID}})["createConversation"].(map[string]any)["conversationId"].(string)
	first := a.mustGQL(t, alice.idToken, sendMsg, map[string]any{"c": cid, "t": "reacted to"})["sendMessage"].(map[string]any)
	a.mustGQL(t, alice.idToken, `mutation($c:ID!,$m:ID!){ addReaction(conversationId:$c, messageId:$m, key:"👍"){ messageId } }`, map[string]any{"c": cid, "m": first["messageId"]})

	sub := `subscription($c:ID!,$a:Int){ onMessageSent(conversationId:$c, afterSeq:$a){ seq content unreadReplies reactions { key reactedByMe } } }`
	vars := map[string]any{"c": cid, "a": 0}
	var next []func() string // each subscriber's next payload, both protocols
	for _, who := range []*account{alice, bob} {
		ws := a.dialGQLWS(t, who.idToken)
		ws.send(map[string]any{"id": "1", "type": "subscribe", "payload": map[string]any{"query": sub, "variables": vars}})
		next = append(next, func() string {
			m := ws.read()
			if m["type"] != "next" {
				t.Fatalf("graphql-transport-ws frame %v", m)
			}
			b, _ := json.Marshal(m["payload"])
			return string(b)
		})
		as := a.dialAppSync(t, who.accessToken, true)
		if m := as.read(false); m["type"] != "connection_ack" {
			t.Fatalf("AppSync: %v", m)
		}
		as.start("1", who.accessToken, sub, vars)
		if m := as.read(false); m["type"] != "start_ack" {
			t.Fatalf("AppSync start: %v", m)
		}
		next = append(next, func() string {
			m := as.read(false)
			if m["type"] != "data" {
				t.Fatalf("AppSync frame %v", m)
			}
			b, _ := json.Marshal(m["payload"])
			return string(b)
		})
	}
	a.mustGQL(t, alice.idToken, sendMsg, map[string]any{"c": cid, "t": "live"})
	for _, want := range []string{
		`{"data":{"onMessageSent":{"content":"reacted to","reactions":[],"seq":1,"unreadReplies":0}}}`,
		`{"data":{"onMessageSent":{"content":"live","reactions":[],"seq":2,"unreadReplies":0}}}`,
	} {
		for i, payload := range next {
			if got := payload(); got != want {
				t.Fatalf("subscriber %d (alice, alice AppSync, bob, bob AppSync) got %s; want %s", i, got, want)
			}
		}
	}
}
