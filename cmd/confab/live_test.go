package main

import (
	"bufio"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/confab-chat/confab/bench"
)

// liveSub is one WebSocket connection with subscriptions on either
// protocol; next returns the data of the next result, by subscription id.
type liveSub interface {
	subscribe(id, query string, vars map[string]any)
	next() (id string, data map[string]any)
}

type gqlwsLive struct{ ws *wsClient }

func (s gqlwsLive) subscribe(id, query string, vars map[string]any) {
	s.ws.send(map[string]any{"id": id, "type": "subscribe", "payload": map[string]any{"query": query, "variables": vars}})
}

func (s gqlwsLive) next() (string, map[string]any) {
	m := s.ws.read()
	if m["type"] != "next" {
		s.ws.t.Fatalf("frame %v, want next", m)
	}
	id, _ := m["id"].(string)
	return id, m["payload"].(map[string]any)["data"].(map[string]any)
}

type appsyncLive struct {
	c     *appsyncClient
	token string
}

func (s appsyncLive) subscribe(id, query string, vars map[string]any) {
	s.c.start(id, s.token, query, vars)
	if m := s.c.read(false); m["type"] != "start_ack" || m["id"] != id {
		s.c.t.Fatalf("after start %s: %v", id, m)
	}
}

func (s appsyncLive) next() (string, map[string]any) {
	m := s.c.read(false)
	if m["type"] != "data" {
		s.c.t.Fatalf("frame %v, want data", m)
	}
	id, _ := m["id"].(string)
	return id, m["payload"].(map[string]any)["data"].(map[string]any)
}

func dialLive(t *testing.T, a *app, protocol string, acct *account) liveSub {
	t.Helper()
	if protocol == "appsync" {
		c := a.dialAppSync(t, acct.idToken, false)
		if m := c.read(false); m["type"] != "connection_ack" {
			t.Fatalf("appsync handshake: %v", m)
		}
		return appsyncLive{c: c, token: acct.idToken}
	}
	return gqlwsLive{ws: a.dialGQLWS(t, acct.idToken)}
}

// waitSubscriptions waits until the server counts at least n live
// subscriptions of field (confab_realtime_subscriptions, counted once a
// subscription is started): graphql-transport-ws has no start
// acknowledgement, and an ephemeral event published before would be lost.
func waitSubscriptions(t *testing.T, a *app, field string, n int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		if liveSubscriptions(t, a, field) >= n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("fewer than %d live %s subscriptions after 10 s", n, field)
		}
		time.Sleep(10 * time.Millisecond) // polling the server's count, not synchronising with an event
	}
}

func liveSubscriptions(t *testing.T, a *app, field string) int {
	t.Helper()
	resp, err := http.Get(a.url + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	prefix := `confab_realtime_subscriptions{field="` + field + `"} `
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), prefix); ok {
			n, _ := strconv.ParseFloat(v, 64)
			return int(n)
		}
	}
	return 0
}

const (
	onTypingSub  = `subscription($c:ID!){ onTyping(conversationId:$c){ conversationId userId typing at } }`
	onReceiptSub = `subscription($c:ID!){ onReadReceipt(conversationId:$c){ conversationId userId seq at } }`
	setTypingMut = `mutation($c:ID!,$t:Boolean!){ setTyping(conversationId:$c, typing:$t) }`
	markReadMut  = `mutation($c:ID!,$s:Int!){ markConversationRead(conversationId:$c, seq:$s){ conversationId } }`
)

// wantLive reads the next result and checks it is of subscription id and
// has the fields want (compared as printed).
func wantLive(t *testing.T, s liveSub, id, field string, want map[string]any) {
	t.Helper()
	gotID, data := s.next()
	got, _ := data[field].(map[string]any)
	if gotID != id || got == nil {
		t.Fatalf("result %s %v, want %s of %s", gotID, data, field, id)
	}
	for k, v := range want {
		if fmt.Sprint(got[k]) != fmt.Sprint(v) {
			t.Fatalf("%s.%s = %v, want %v (in %v)", field, k, got[k], v, got)
		}
	}
	if at, _ := got["at"].(string); !strings.HasSuffix(at, "Z") {
		t.Fatalf("%s.at = %q, want an AWSDateTime", field, got["at"])
	}
}

// TestMain_TypingAndReadReceipts: onTyping and onReadReceipt over both
// real-time protocols against the real server: typing starts, ends with a
// send, ends with setTyping(false), and runs out by itself after
// --typing-timeout; a read mark reaches the other member with its seq.
func TestMain_TypingAndReadReceipts(t *testing.T) {
	for _, protocol := range []string{"graphql-ws", "appsync"} {
		t.Run(protocol, func(t *testing.T) {
			a := runMain(t, "--typing-timeout", "1s")
			alice, bob := a.signUp(t, "alice"), a.signUp(t, "bob")
			cid := a.mustGQL(t, alice.idToken, createConv, map[string]any{"p": []string{bob.userID}})["createConversation"].(map[string]any)["conversationId"].(string)
			s := dialLive(t, a, protocol, bob)
			s.subscribe("t", onTypingSub, map[string]any{"c": cid})
			s.subscribe("r", onReceiptSub, map[string]any{"c": cid})
			waitSubscriptions(t, a, "onTyping", 1)
			waitSubscriptions(t, a, "onReadReceipt", 1)

			typing := func(on bool) {
				if ok := a.mustGQL(t, alice.idToken, setTypingMut, map[string]any{"c": cid, "t": on})["setTyping"]; ok != true {
					t.Fatalf("setTyping = %v, want true", ok)
				}
			}
			typing(true)
			wantLive(t, s, "t", "onTyping", map[string]any{"conversationId": cid, "userId": alice.userID, "typing": true})
			a.mustGQL(t, alice.idToken, sendMsg, map[string]any{"c": cid, "t": "hi bob"}) // ends her typing
			wantLive(t, s, "t", "onTyping", map[string]any{"userId": alice.userID, "typing": false})
			typing(true)
			wantLive(t, s, "t", "onTyping", map[string]any{"userId": alice.userID, "typing": true})
			typing(false)
			wantLive(t, s, "t", "onTyping", map[string]any{"userId": alice.userID, "typing": false})

			start := time.Now()
			typing(true)
			wantLive(t, s, "t", "onTyping", map[string]any{"userId": alice.userID, "typing": true})
			wantLive(t, s, "t", "onTyping", map[string]any{"userId": alice.userID, "typing": false}) // ran out
			if took := time.Since(start); took < time.Second {
				t.Fatalf("typing ran out after %v, before --typing-timeout 1s", took)
			}

			a.mustGQL(t, alice.idToken, markReadMut, map[string]any{"c": cid, "s": 1})
			wantLive(t, s, "r", "onReadReceipt", map[string]any{"conversationId": cid, "userId": alice.userID, "seq": 1})
		})
	}
}

// TestMain_ReadByAndSearchAll: over POST /graphql, readBy shows the other
// members' marks but not of one who hides them, hideReadReceipts reads
// false to everyone but its owner, unreadMentions counts the caller's
// mentions after their mark, and searchAllMessages pages over every
// conversation of the caller with each hit's conversation.
func TestMain_ReadByAndSearchAll(t *testing.T) {
	a := runMain(t)
	alice, bob, carol := a.signUp(t, "alice"), a.signUp(t, "bob"), a.signUp(t, "carol")
	cid := a.mustGQL(t, alice.idToken, createConv, map[string]any{"p": []string{bob.userID, carol.userID}})["createConversation"].(map[string]any)["conversationId"].(string)
	other := a.mustGQL(t, bob.idToken, createConv, map[string]any{"p": []string{alice.userID}})["createConversation"].(map[string]any)["conversationId"].(string)
	a.mustGQL(t, bob.idToken, `mutation($c:ID!,$m:[ID!]){ sendMessage(input:{conversationId:$c, content:"lunch, @alice?", mentions:$m}){ seq } }`,
		map[string]any{"c": cid, "m": []string{alice.userID}})
	a.mustGQL(t, bob.idToken, sendMsg, map[string]any{"c": other, "t": "lunch at noon"})
	a.mustGQL(t, carol.idToken, sendMsg, map[string]any{"c": cid, "t": "no thanks"})

	a.mustGQL(t, bob.idToken, markReadMut, map[string]any{"c": cid, "s": 2})
	a.mustGQL(t, carol.idToken, `mutation($u:ID!){ updateUserProfile(input:{userId:$u, hideReadReceipts:true}){ userId } }`, map[string]any{"u": carol.userID})
	a.mustGQL(t, carol.idToken, markReadMut, map[string]any{"c": cid, "s": 2})

	conv := a.mustGQL(t, alice.idToken, `query($c:ID!){ getConversation(conversationId:$c){ unreadMentions readBy { conversationId userId seq at } } }`,
		map[string]any{"c": cid})["getConversation"].(map[string]any)
	readBy := conv["readBy"].([]any)
	if len(readBy) != 1 || readBy[0].(map[string]any)["userId"] != bob.userID || readBy[0].(map[string]any)["seq"] != 2.0 || readBy[0].(map[string]any)["at"] == nil {
		t.Fatalf("alice's readBy = %v, want only bob's mark at 2 (carol hides hers)", readBy)
	}
	if conv["unreadMentions"] != 1.0 {
		t.Fatalf("alice's unreadMentions = %v, want 1", conv["unreadMentions"])
	}
	a.mustGQL(t, alice.idToken, markReadMut, map[string]any{"c": cid, "s": 2})
	conv = a.mustGQL(t, alice.idToken, `query($c:ID!){ getConversation(conversationId:$c){ unreadMentions } }`, map[string]any{"c": cid})["getConversation"].(map[string]any)
	if conv["unreadMentions"] != 0.0 {
		t.Fatalf("alice's unreadMentions after reading = %v, want 0", conv["unreadMentions"])
	}

	const hideQ = `query($u:ID!){ getUser(userId:$u){ hideReadReceipts } }`
	if v := a.mustGQL(t, alice.idToken, hideQ, map[string]any{"u": carol.userID})["getUser"].(map[string]any)["hideReadReceipts"]; v != false {
		t.Fatalf("alice sees carol's hideReadReceipts = %v, want false", v)
	}
	if v := a.mustGQL(t, carol.idToken, `query{ me { hideReadReceipts } }`, nil)["me"].(map[string]any)["hideReadReceipts"]; v != true {
		t.Fatalf("carol sees her own hideReadReceipts = %v, want true", v)
	}

	const searchQ = `query($n:String){ searchAllMessages(searchTerm:"lunch", limit:1, nextToken:$n){ items { message { content author { userId } } conversation { conversationId } } nextToken } }`
	var hits []string
	var token any
	for range 3 {
		page := a.mustGQL(t, alice.idToken, searchQ, map[string]any{"n": token})["searchAllMessages"].(map[string]any)
		for _, it := range page["items"].([]any) {
			h := it.(map[string]any)
			m := h["message"].(map[string]any)
			if m["author"].(map[string]any)["userId"] != bob.userID {
				t.Fatalf("hit %v: author is not bob", h)
			}
			hits = append(hits, fmt.Sprint(m["content"], " in ", h["conversation"].(map[string]any)["conversationId"]))
		}
		if token = page["nextToken"]; token == nil {
			break
		}
	}
	want := []string{"lunch at noon in " + other, "lunch, @alice? in " + cid}
	if fmt.Sprint(hits) != fmt.Sprint(want) {
		t.Fatalf("alice's search hits = %v, want %v (newest first, across her conversations)", hits, want)
	}
	body := a.mustGQL(t, carol.idToken, `query{ searchAllMessages(searchTerm:"noon"){ items { message { content } } } }`, nil)
	if items := body["searchAllMessages"].(map[string]any)["items"].([]any); len(items) != 0 {
		t.Fatalf("carol found %v in a conversation she is not in", items)
	}
}

// TestBench_ChangeMix drives the load tool with --change-mix against a
// real server: the edits and reactions are accepted and the messages all
// arrive, once and in order.
func TestBench_ChangeMix(t *testing.T) {
	a := runMain(t, unlimitedFlags...)
	r, err := bench.Run(t.Context(), bench.Config{
		URL: a.url, Subscribers: 20, Conversations: 4, Senders: 2, Rate: 100, Duration: 2 * time.Second, ChangeMix: 0.2,
	}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if r.SendsOK == 0 || r.ChangesOK == 0 || r.ChangeErrors != 0 || r.SendErrors != 0 {
		t.Fatalf("sends %d (%d errors), changes %d (%d errors): want both made, no errors", r.SendsOK, r.SendErrors, r.ChangesOK, r.ChangeErrors)
	}
	if r.Lost != 0 || r.Duplicated != 0 || r.OutOfOrder != 0 || r.Deliveries != r.Expected {
		t.Fatalf("deliveries %d of %d, lost %d, duplicated %d, out of order %d", r.Deliveries, r.Expected, r.Lost, r.Duplicated, r.OutOfOrder)
	}
}

func TestBench_UploadCheck(t *testing.T) {
	a := runMain(t, unlimitedFlags...)
	c, err := bench.CompareUploads(t.Context(), bench.Config{
		URL: a.url, Subscribers: 8, Conversations: 2, Senders: 2, Users: 2, Rate: 20, Duration: 2 * time.Second, UploadRate: 5,
	}, 1, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Runs) != 3 || len(c.Hosts) != 4 {
		t.Fatalf("%d runs, %d host lines; want 3 and 4", len(c.Runs), len(c.Hosts))
	}
	for i, r := range c.Runs {
		if r.SendsOK == 0 || r.SendErrors != 0 || r.Lost != 0 || r.Deliveries != r.Expected {
			t.Errorf("run %d: sends %d (%d errors), deliveries %d of %d", i, r.SendsOK, r.SendErrors, r.Deliveries, r.Expected)
		}
		uploads := r.UploadsOK + r.UploadsBusy + r.UploadErrors + r.UploadSkipped
		if (i == 1) != (uploads > 0) {
			t.Errorf("run %d: %d uploads started; want them in the second run only", i, uploads)
		}
	}
	if w := c.Runs[1]; w.UploadsOK == 0 || w.UploadErrors != 0 || w.UploadP50 <= 0 {
		t.Errorf("uploads %d ok, %d errors, p50 %.1f ms; want some, all ok", w.UploadsOK, w.UploadErrors, w.UploadP50)
	}
	if len(c.Checks) == 0 || c.Checks[0].Figure <= 0 {
		t.Errorf("checks %+v: want the p99 ratio first", c.Checks)
	}
}
