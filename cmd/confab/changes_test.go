package main

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// changeFields is what the test clients ask of each change: enough to keep
// a timeline as the web client does.
const changeFields = `changeSeq kind userId
	message { messageId content deletedAt editedAt changeSeq replyCount parentMessageId alsoInConversation reactions { key count } }
	reaction { key userId }
	conversation { conversationId name lastChangeSeq }`

const onChanged = `subscription($c:ID!,$a:Int){ onConversationChanged(conversationId:$c, afterChange:$a){ ` + changeFields + ` } }`

// changeStream is one protocol's subscription to onConversationChanged.
type changeStream interface {
	next() map[string]any // the next change
	close()
}

// gqlwsChanges subscribes over graphql-transport-ws.
type gqlwsChanges struct{ ws *wsClient }

func (c *gqlwsChanges) next() map[string]any {
	m := c.ws.read()
	if m["type"] != "next" {
		c.ws.t.Fatalf("frame %v, want next", m)
	}
	return m["payload"].(map[string]any)["data"].(map[string]any)["onConversationChanged"].(map[string]any)
}

func (c *gqlwsChanges) close() { c.ws.conn.Close() }

// appsyncChanges subscribes over the AppSync real-time protocol.
type appsyncChanges struct{ c *appsyncClient }

func (c *appsyncChanges) next() map[string]any {
	m := c.c.read(false)
	if m["type"] != "data" {
		c.c.t.Fatalf("frame %v, want data", m)
	}
	return m["payload"].(map[string]any)["data"].(map[string]any)["onConversationChanged"].(map[string]any)
}

func (c *appsyncChanges) close() { c.c.conn.Close() }

var protocols = map[string]func(t *testing.T, a *app, token, cid string, after int) changeStream{
	"graphql-transport-ws": func(t *testing.T, a *app, token, cid string, after int) changeStream {
		ws := a.dialGQLWS(t, token)
		ws.send(map[string]any{"id": "changes", "type": "subscribe", "payload": map[string]any{
			"query": onChanged, "variables": map[string]any{"c": cid, "a": after}}})
		return &gqlwsChanges{ws}
	},
	"AppSync": func(t *testing.T, a *app, token, cid string, after int) changeStream {
		c := a.dialAppSync(t, token, true)
		if m := c.read(false); m["type"] != "connection_ack" {
			t.Fatalf("after init: %v", m)
		}
		c.start("changes", token, onChanged, map[string]any{"c": cid, "a": after})
		if m := c.read(false); m["type"] != "start_ack" {
			t.Fatalf("after start: %v", m)
		}
		return &appsyncChanges{c}
	},
}

// clientState is what a client keeps from the changes it applied: each
// message's newest copy (highest changeSeq), the conversation's name, and
// the last changeSeq seen.
type clientState struct {
	msgs map[string]map[string]any
	name string
	last int
}

// apply takes one change, which must be the one after the last.
func (s *clientState) apply(t *testing.T, ch map[string]any) {
	t.Helper()
	seq := int(ch["changeSeq"].(float64))
	if seq != s.last+1 {
		t.Fatalf("changeSeq %d after %d: want the next one, no gap and no duplicate", seq, s.last)
	}
	s.last = seq
	if m, ok := ch["message"].(map[string]any); ok {
		id := m["messageId"].(string)
		if old := s.msgs[id]; old == nil || old["changeSeq"].(float64) <= m["changeSeq"].(float64) {
			s.msgs[id] = m
		}
		if ch["kind"] == "MESSAGE_DELETED" && (m["content"] != "" || m["deletedAt"] == nil) {
			t.Fatalf("deletion carries %v, want a tombstone (no content, deletedAt set)", m)
		}
	}
	if c, ok := ch["conversation"].(map[string]any); ok {
		s.name, _ = c["name"].(string)
	}
}

// timeline is what the state shows: live messages of the timeline, in the
// fields listMessages is asked for.
func (s *clientState) timeline() map[string]map[string]any {
	out := map[string]map[string]any{}
	for id, m := range s.msgs {
		if m["deletedAt"] != nil || (m["parentMessageId"] != nil && m["alsoInConversation"] != true) {
			continue
		}
		out[id] = m
	}
	return out
}

// freshTimeline reads every page of listMessages as it is now.
func (a *app) freshTimeline(t *testing.T, token, cid string) map[string]map[string]any {
	t.Helper()
	const list = `query($c:ID!,$n:String){ listMessages(conversationId:$c, limit:100, nextToken:$n){ items {
		messageId content deletedAt editedAt changeSeq replyCount parentMessageId alsoInConversation reactions { key count } } nextToken } }`
	out := map[string]map[string]any{}
	var next any
	for {
		page := a.mustGQL(t, token, list, map[string]any{"c": cid, "n": next})["listMessages"].(map[string]any)
		for _, it := range page["items"].([]any) {
			m := it.(map[string]any)
			out[m["messageId"].(string)] = m
		}
		if next = page["nextToken"]; next == nil {
			return out
		}
	}
}

// TestMain_ChangeLogResume is issue #12's end-to-end catch-up over both
// real-time protocols: bob's client follows a conversation's change log,
// goes offline while the others send, edit, delete, react, reply and
// rename, comes back with afterChange, and ends with exactly the timeline
// a fresh listMessages shows, having seen every change once, in order.
func TestMain_ChangeLogResume(t *testing.T) {
	a := runMain(t, "--sends-per-second", "-1")
	testChangeLogResume(t, a, a)
}

// TestMultiNode_ChangeLogResume is TestMain_ChangeLogResume on PostgreSQL
// with two nodes on NATS: every change is made through node A and read
// through node B, so each crosses NATS (broker/nats's codec) as an event.
func TestMultiNode_ChangeLogResume(t *testing.T) {
	shared := []string{"--store", "postgres", "--postgres", postgresURL(t), "--broker", "nats", "--nats", startNATS(t),
		"--key-file", filepath.Join(t.TempDir(), "key.pem"), "--sends-per-second", "-1"}
	writer, stopA := startMain(t, t.TempDir(), shared...)
	t.Cleanup(stopA)
	reader, stopB := startMain(t, t.TempDir(), shared...)
	t.Cleanup(stopB)
	testChangeLogResume(t, writer, reader)
}

// testChangeLogResume makes every change through node w and follows them
// through node r.
func testChangeLogResume(t *testing.T, w, r *app) {
	a := w
	alice, bob, carol := a.signUp(t, "alice"), a.signUp(t, "bob"), a.signUp(t, "carol")
	for name, subscribe := range protocols {
		t.Run(name, func(t *testing.T) {
			cid := a.mustGQL(t, alice.idToken, createConv, map[string]any{"p": []string{bob.userID, carol.userID}})["createConversation"].(map[string]any)["conversationId"].(string)
			send := func(who *account, text string, parent any, also bool) string {
				t.Helper()
				const q = `mutation($c:ID!,$t:String!,$p:ID,$a:Boolean){ sendMessage(input:{conversationId:$c, content:$t, parentMessageId:$p, alsoInConversation:$a}){ messageId } }`
				return a.mustGQL(t, who.idToken, q, map[string]any{"c": cid, "t": text, "p": parent, "a": also})["sendMessage"].(map[string]any)["messageId"].(string)
			}
			do := func(who *account, op, mid string, arg string) {
				t.Helper()
				q := map[string]string{
					"edit":    `mutation($c:ID!,$m:ID!,$x:String!){ editMessage(conversationId:$c, messageId:$m, content:$x){ messageId } }`,
					"react":   `mutation($c:ID!,$m:ID!,$x:String!){ addReaction(conversationId:$c, messageId:$m, key:$x){ messageId } }`,
					"unreact": `mutation($c:ID!,$m:ID!,$x:String!){ removeReaction(conversationId:$c, messageId:$m, key:$x){ messageId } }`,
					"delete":  `mutation($c:ID!,$m:ID!){ deleteMessage(conversationId:$c, messageId:$m){ messageId } }`,
				}[op]
				vars := map[string]any{"c": cid, "m": mid}
				if op != "delete" {
					vars["x"] = arg
				}
				a.mustGQL(t, who.idToken, q, vars)
			}
			lastChange := func() int {
				t.Helper()
				q := `query($c:ID!){ getConversation(conversationId:$c){ lastChangeSeq } }`
				return int(a.mustGQL(t, alice.idToken, q, map[string]any{"c": cid})["getConversation"].(map[string]any)["lastChangeSeq"].(float64))
			}
			readUpTo := func(s changeStream, st *clientState, last int) {
				t.Helper()
				for st.last < last {
					st.apply(t, s.next())
				}
			}

			one, two := send(alice, "one", nil, false), send(carol, "two", nil, false)
			st := &clientState{msgs: map[string]map[string]any{}}
			s := subscribe(t, r, bob.idToken, cid, 0)
			three := send(alice, "three", nil, false)
			readUpTo(s, st, lastChange())
			s.close()

			// Offline: every kind of change.
			do(alice, "edit", one, "one, edited")
			do(carol, "react", one, "👍")
			do(alice, "react", one, "👍")
			do(alice, "react", one, "👍") // twice is one reaction (no change)
			do(carol, "react", three, ":tada:")
			do(carol, "unreact", three, ":tada:")
			do(carol, "delete", two, "")
			reply := send(carol, "a reply", one, false)
			send(alice, "a reply also in the conversation", one, true)
			do(carol, "edit", reply, "a reply, edited")
			four := send(alice, "four", nil, false)
			a.mustGQL(t, alice.idToken, `mutation($c:ID!){ updateConversation(input:{conversationId:$c, name:"renamed"}){ name } }`, map[string]any{"c": cid})
			do(carol, "delete", reply, "")
			if st.last >= lastChange() {
				t.Fatal("nothing changed while the client was away")
			}

			// Back: resume after the last change seen; more happens live.
			s = subscribe(t, r, bob.idToken, cid, st.last)
			do(alice, "edit", four, "four, edited live")
			do(carol, "react", four, "❤️")
			readUpTo(s, st, lastChange())
			s.close()

			if st.name != "renamed" {
				t.Fatalf("conversation name %q from the changes, want renamed", st.name)
			}
			want := r.freshTimeline(t, bob.idToken, cid)
			if diff := cmp.Diff(want, st.timeline()); diff != "" {
				got, _ := json.MarshalIndent(st.timeline(), "", " ")
				t.Fatalf("timeline from the changes differs from listMessages (-fresh +changes):\n%s\n%s", diff, got)
			}
			if n := len(want); n != 4 {
				t.Fatalf("%d messages in the timeline, want 4 (one, three, the reply also in it, four)", n)
			}
			if m := want[one]; m["content"] != "one, edited" || m["replyCount"] != float64(1) || fmt.Sprint(m["reactions"]) != "[map[count:2 key:👍]]" {
				t.Fatalf("message one = %v, want edited, 1 live reply, 2 👍", m)
			}
		})
	}
}

// TestMain_ChangeLogRefusals: the change log of a conversation is nobody
// else's business, over HTTP and both real-time protocols; a resume too
// far behind says to reload.
func TestMain_ChangeLogRefusals(t *testing.T) {
	a := runMain(t, "--sends-per-second", "-1", "--max-resume", "3")
	alice, eve := a.signUp(t, "alice"), a.signUp(t, "eve")
	cid := a.mustGQL(t, alice.idToken, createConv, map[string]any{"p": []string{}})["createConversation"].(map[string]any)["conversationId"].(string)
	for i := range 5 {
		a.mustGQL(t, alice.idToken, sendMsg, map[string]any{"c": cid, "t": fmt.Sprint(i)})
	}
	const sync = `query($c:ID!,$a:Int!){ syncConversation(conversationId:$c, afterChange:$a){ changes { changeSeq } hasMore lastChangeSeq } }`
	if _, body := a.gql(t, eve.idToken, sync, map[string]any{"c": cid, "a": 0}); errCode(body) != "NOT_FOUND" || body["data"].(map[string]any)["syncConversation"] != nil {
		t.Fatalf("non-member sync: %v", body)
	}
	if _, body := a.gql(t, alice.idToken, sync, map[string]any{"c": cid, "a": 1}); errCode(body) != "BAD_USER_INPUT" || !strings.Contains(fmt.Sprint(body["errors"]), "listMessages") {
		t.Fatalf("sync 4 behind with --max-resume 3: %v, want BAD_USER_INPUT saying to reload with listMessages", body)
	}
	page := a.mustGQL(t, alice.idToken, sync, map[string]any{"c": cid, "a": 2})["syncConversation"].(map[string]any)
	if len(page["changes"].([]any)) != 3 || page["hasMore"] != false || page["lastChangeSeq"] != float64(5) {
		t.Fatalf("sync after 2: %v, want changes 3-5", page)
	}

	ws := a.dialGQLWS(t, eve.idToken)
	ws.send(map[string]any{"id": "x", "type": "subscribe", "payload": map[string]any{"query": onChanged, "variables": map[string]any{"c": cid, "a": 0}}})
	if m := ws.read(); m["type"] != "error" || !strings.Contains(fmt.Sprint(m["payload"]), "NOT_FOUND") {
		t.Fatalf("non-member subscribe over graphql-transport-ws: %v", m)
	}
	c := a.dialAppSync(t, eve.idToken, false)
	c.read(false) // connection_ack
	c.start("x", eve.idToken, onChanged, map[string]any{"c": cid, "a": 0})
	if m := c.read(false); m["type"] != "error" || !strings.Contains(fmt.Sprint(m["payload"]), "NotFound") {
		t.Fatalf("non-member start over AppSync: %v", m)
	}
}
